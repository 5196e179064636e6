"""Every endpoint declares who may call it, and the declaration is enforced for every role."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from comptoir.auth.guards import ALL, PUBLIC, declared_access

# What an anonymous visitor may reach: probes, sign-in, the customer's tracking page, the
# realtime socket (it authenticates inside), the admin mount (piccolo-admin has its own
# login) and the PWA's static files.
PUBLIC_PATHS = {
    "/health", "/ready", "/api/auth/login", "/", "/{path:path}", "/admin", "/ws",
    "/track/{token:str}", "/api/track/{token:str}", "/api/track/{token:str}/arrived",
    "/api/track/{token:str}/proof",
    # A payment provider's webhooks: no session or key, the provider's signature instead.
    "/api/payments/webhooks/{provider:str}",
}

ROLE_CLIENT = {"manager": "manager", "associate": "associate", "channel": None}


def _concrete(path: str) -> str:
    def fill(match: re.Match[str]) -> str:
        kind = match.group(2) or "str"
        return {"uuid": str(uuid.uuid4()), "int": "1"}.get(kind, "x")

    return re.sub(r"\{(\w+)(?::(\w+))?\}", fill, path)


def _endpoints(app: Any) -> list[tuple[str, str, Any]]:
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if route.path.startswith("/schema") or handler.handler_name == "options_handler":
                continue
            for method in sorted(getattr(handler, "http_methods", None) or {"WS"}):
                if method in {"OPTIONS", "HEAD"}:
                    continue
                found.append((method, route.path, declared_access(handler)))
    return found


def test_only_the_expected_endpoints_are_public(app: Any) -> None:
    public = {path for _m, path, access in _endpoints(app) if access == PUBLIC}
    assert public <= PUBLIC_PATHS, sorted(public - PUBLIC_PATHS)
    assert {"/health", "/api/auth/login", "/"} <= public


async def test_anonymous_is_refused_everywhere_else(app: Any, anon: httpx.AsyncClient) -> None:
    checked = 0
    for method, path, access in _endpoints(app):
        if access == PUBLIC or method == "WS":
            continue
        response = await anon.request(method, _concrete(path), json={})
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.json()["code"] == "not_authenticated"
        checked += 1
    assert checked >= 20


@pytest.mark.parametrize("role", ["manager", "associate", "channel"])
async def test_each_role_is_refused_where_it_is_not_allowed(
    app: Any, client_for: Any, role: str
) -> None:
    client = await client_for(key="web") if role == "channel" else await client_for(role)
    refused = 0
    for method, path, access in _endpoints(app):
        if access == PUBLIC or method == "WS" or role in access:
            continue
        response = await client.request(method, _concrete(path), json={})
        assert response.status_code == 403, (role, method, path, response.status_code)
        assert response.json()["code"] == "forbidden"
        refused += 1
    # Every role but admin is refused somewhere (configuration is the admin's alone, etc.).
    assert refused > 0 or role == "manager"


def test_admin_may_call_every_declared_endpoint(app: Any) -> None:
    for method, path, access in _endpoints(app):
        if access != PUBLIC:
            assert "admin" in access, (method, path)
            assert set(access) <= ALL
