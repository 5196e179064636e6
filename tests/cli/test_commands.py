"""The ``comptoir`` command: its help, staff accounts and API keys, and refusing bad settings."""

from __future__ import annotations

import ast
import hashlib
import re
import secrets
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from comptoir import cli
from comptoir.auth.models import ApiKey
from tests.cli.conftest import run_comptoir
from tests.conftest import sign_in

EXPECTED_COMMANDS = {"serve", "migrate", "seed-demo", "create-staff", "create-api-key",
                     "import-catalog"}


async def test_help_lists_every_command_on_one_line(tmp_path: Path) -> None:
    run = await run_comptoir("--help", cwd=tmp_path, env={"COLUMNS": "80"})
    assert run.returncode == 0, run.stderr
    cli.build_parser()
    assert set(cli.COMMANDS) >= EXPECTED_COMMANDS
    for name, (help_text, _fn, _args) in cli.COMMANDS.items():
        lines = [line for line in run.lines if line.split()[:1] == [name]]
        assert len(lines) == 1, f"{name} is not listed on one line"
        assert lines[0].split(None, 1)[1] == help_text


def test_every_command_is_listed_in_cli_without_importing_its_domain() -> None:
    # The list is written in cli.py: nothing registers itself by being imported, so the
    # list is whole before any domain's module is loaded.
    probe = ("import sys; from comptoir import cli; "
             "print(sorted(cli.COMMANDS)); "
             "print(sorted(m for m in ('comptoir.seed', 'comptoir.catalog.importer') "
             "if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    listed, imported = run.stdout.splitlines()
    assert set(ast.literal_eval(listed)) >= EXPECTED_COMMANDS
    assert ast.literal_eval(imported) == []


async def test_staff_created_on_the_command_line_can_sign_in(anon: httpx.AsyncClient) -> None:
    username = f"caisse-{secrets.token_hex(3)}"
    password = "un-mot-de-passe-solide"
    run = await run_comptoir("create-staff", "--username", username, "--password", password,
                             "--role", "associate", "--location", "ST-LYON-01")
    assert run.returncode == 0, run.stderr
    assert username in run.stdout

    await sign_in(anon, username, password)
    me = (await anon.get("/api/auth/me")).json()
    assert (me["name"], me["role"], me["location"]) == (username, "associate", "ST-LYON-01")

    again = await run_comptoir("create-staff", "--username", username, "--password", password,
                               "--role", "manager")
    assert again.returncode == 1
    assert "taken" in again.stderr


async def test_api_key_is_printed_once_on_the_last_line_and_authenticates(
    anon: httpx.AsyncClient, sessionmaker: object
) -> None:
    name = f"ERP {secrets.token_hex(3)}"
    run = await run_comptoir("create-api-key", "--name", name, "--role", "channel",
                             "--channel", "web")
    assert run.returncode == 0, run.stderr
    key = run.lines[-1].strip()
    assert re.fullmatch(r"\S{32,}", key)

    me = await anon.get("/api/auth/me", headers={"authorization": f"Bearer {key}"})
    assert me.status_code == 200
    assert (me.json()["kind"], me.json()["role"], me.json()["channel"]) == (
        "api_key", "channel", "web")

    async with sessionmaker() as session:  # type: ignore[operator]
        row = await session.scalar(select(ApiKey).where(ApiKey.name == name))
    assert row is not None
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {row.key_hash, row.prefix, row.name}


async def test_a_wrong_setting_stops_start_up_naming_the_variable(tmp_path: Path) -> None:
    run = await run_comptoir("serve", env={"COMPTOIR_PORT": "abc"}, cwd=tmp_path)
    assert run.returncode == 2
    assert "COMPTOIR_PORT" in run.stderr
    assert "Traceback" not in run.stderr
    assert "Comptoir on http" not in run.stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("COMPTOIR_DATABASE_URL", "mysql://x"),
        ("COMPTOIR_DATABASE_URL", "postgresql://db.example"),
        ("COMPTOIR_REDIS_URL", "http://cache.example"),
        ("COMPTOIR_PORT", "70000"),
        ("COMPTOIR_PUBLIC_URL", "ftp://shop.example"),
        ("COMPTOIR_SECRET_KEY", "too-short"),
        ("COMPTOIR_OUTBOX_POLL_SECONDS", "0"),
        ("COMPTOIR_LOG_LEVEL", "chatty"),
        ("COMPTOIR_PROT", "8000"),  # a typo is reported, not ignored
    ],
)
def test_each_bad_setting_is_refused_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SystemExit) as stopped:
        cli.main(["migrate"])
    assert stopped.value.code == 2
    assert variable in capsys.readouterr().err
