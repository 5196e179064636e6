"""The PWA's files are served at ``/`` to anyone, with a history fallback for app routes."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import httpx

APP_SHELL_MARK = '<div id="app">'


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_home_page_is_the_built_app_for_anyone(
    anon: httpx.AsyncClient, built_app: Path
) -> None:
    response = await anon.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == (built_app / "index.html").read_text()
    assert APP_SHELL_MARK in response.text
    assert re.search(r'<script type="module"[^>]* src="/assets/[^"]+\.js"', response.text)
    assert '<link rel="manifest" href="/manifest.webmanifest"' in response.text
    # A new deploy must be seen on the next visit: the shell is always revalidated.
    assert response.headers["cache-control"] == "no-cache"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_deep_app_route_gets_the_app_shell(anon: httpx.AsyncClient, built_app: Path) -> None:
    home = await anon.get("/")
    for path in ("/orders/CMP-2026-000001", "/locations/ST-LYON-01", "/account"):
        response = await anon.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html"), path
        assert response.text == home.text, path


async def test_manifest_makes_the_app_installable(anon: httpx.AsyncClient, built_app: Path) -> None:
    response = await anon.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = json.loads(response.content)
    assert manifest["name"] == "Comptoir"
    assert manifest["short_name"]
    assert manifest["start_url"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"].startswith("#")
    assert manifest["background_color"].startswith("#")
    assert manifest["lang"]

    icons = {(icon["sizes"], icon.get("purpose", "any")): icon["src"] for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= icons.keys()
    for (sizes, _purpose), src in icons.items():
        image = await anon.get(src)
        assert image.status_code == 200, src
        assert image.headers["content-type"] == "image/png", src
        width, height = png_size(image.content)
        assert f"{width}x{height}" == sizes, src


async def test_home_screen_and_tab_icons_are_served(
    anon: httpx.AsyncClient, built_app: Path
) -> None:
    index = (await anon.get("/")).text
    apple = re.search(r'<link rel="apple-touch-icon" href="([^"]+)"', index)
    assert apple, "index.html links no apple-touch-icon"
    touch = await anon.get(apple.group(1))
    assert touch.status_code == 200
    assert png_size(touch.content) == (180, 180)

    favicon = await anon.get("/favicon.ico")
    assert favicon.status_code == 200
    assert favicon.content[:4] == b"\x00\x00\x01\x00"  # an icon directory
    svg = await anon.get("/favicon.svg")
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")


async def test_service_worker_is_served_fresh_for_the_whole_app(
    anon: httpx.AsyncClient, built_app: Path
) -> None:
    response = await anon.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["service-worker-allowed"] == "/"
    # The precache list was injected by the build, and holds the app shell.
    assert "self.__WB_MANIFEST" not in response.text
    assert '"url":"index.html"' in response.text


async def test_hashed_assets_are_cached_for_a_year(
    anon: httpx.AsyncClient, built_app: Path
) -> None:
    index = (await anon.get("/")).text
    script = re.search(r'src="(/assets/[^"]+\.js)"', index)
    assert script
    response = await anon.get(script.group(1))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "immutable" in response.headers["cache-control"]


async def test_unknown_api_path_is_a_problem_not_the_app_shell(
    anon: httpx.AsyncClient, built_app: Path
) -> None:
    for path in ("/api/unknown", "/api/orders-typo/1", "/track/", "/assets/missing-abc123.js",
                 "/nothing.txt"):
        response = await anon.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("application/problem+json"), path
        assert response.json()["code"] == "not_found", path
        assert APP_SHELL_MARK not in response.text


async def test_files_outside_the_app_cannot_be_reached(
    anon: httpx.AsyncClient, built_app: Path
) -> None:
    for path in ("/..%2F..%2F..%2Fpyproject.toml", "/..%2F__init__.py", "/%2E%2E/spa.py"):
        response = await anon.get(path)
        assert response.status_code == 404, path
        assert "[project]" not in response.text and "import" not in response.text, path
    # An absolute path is read inside the app folder: the app shell, never the system's file.
    response = await anon.get("/%2Fetc%2Fpasswd")
    assert "root:" not in response.text
    assert APP_SHELL_MARK in response.text


async def test_app_files_are_public_but_the_api_is_not(
    anon: httpx.AsyncClient, built_app: Path
) -> None:
    assert (await anon.get("/locations/WH-PARIS")).status_code == 200
    assert (await anon.get("/api/locations")).status_code == 401


async def test_a_page_whose_last_part_has_a_dot_is_still_the_app(
    anon: httpx.AsyncClient, built_app: Path
) -> None:
    # SKUs, location codes and the like may contain dots: a reload must land on their page.
    home = await anon.get("/")
    for path in ("/stock/TEE.BLK.M", "/stock/TEE.BLK.M/", "/locations/ST.LYON.01",
                 "/store/work/v1.2", "/orders/CMP-2026-000001.", "/stock/SHIRT%2ENAVY"):
        response = await anon.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html"), path
        assert response.text == home.text, path
    # The app's own files and folders stay files: a missing one is a 404, never the shell.
    for path in ("/assets/index-missing.js", "/assets/missing", "/icons/missing.png",
                 "/icons/sub/missing.png", "/robots.txt", "/stock/../nothing.txt"):
        response = await anon.get(path)
        assert response.status_code == 404, path
        assert APP_SHELL_MARK not in response.text, path


async def test_app_files_and_pages_answer_head(anon: httpx.AsyncClient, built_app: Path) -> None:
    index = (await anon.get("/")).text
    script = re.search(r'src="(/assets/[^"]+\.js)"', index)
    assert script
    for path in ("/", "/orders/CMP-2026-000001", "/stock/TEE.BLK.M", script.group(1),
                 "/manifest.webmanifest", "/icons/icon-192.png", "/sw.js"):
        got = await anon.get(path)
        head = await anon.head(path)
        assert head.status_code == got.status_code == 200, path
        assert head.content == b"", path
        for name in ("content-type", "content-length", "cache-control", "etag",
                     "last-modified", "content-security-policy"):
            assert head.headers.get(name) == got.headers.get(name), (path, name)
    missing = await anon.head("/assets/missing-abc123.js")
    assert missing.status_code == 404
    assert missing.content == b""
