"""The ``comptoir`` command: serve, migrate, seed the demo, manage staff and API keys."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable

from comptoir.settings import Settings, SettingsError, load_settings

__all__ = ["main"]

Handler = Callable[[Settings, argparse.Namespace], Awaitable[int] | int]
Arguments = Callable[[argparse.ArgumentParser], None]


def _no_arguments(_parser: argparse.ArgumentParser) -> None:
    pass


async def _with_piccolo(settings: Settings) -> None:
    """Bind Piccolo's tables to this settings' database for a CLI command."""
    from comptoir.config.engine import bind_piccolo, make_piccolo_engine

    engine = make_piccolo_engine(settings)
    bind_piccolo(engine)


# --- serve --------------------------------------------------------------------------------------


def _serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", help="interface to listen on (default COMPTOIR_HOST)")
    p.add_argument("--port", type=int, help="port (default COMPTOIR_PORT, 8000)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--no-migrate", action="store_true", help="do not migrate before serving")


def serve(settings: Settings, args: argparse.Namespace) -> int:
    from comptoir.web import serving

    if not args.no_migrate:
        from comptoir.db.migrate import migrate

        asyncio.run(migrate(settings))
    host = args.host or settings.host
    port = args.port or settings.port
    print(f"Comptoir on http://{host}:{port}  (admin: /admin/, API docs: /schema)", flush=True)
    serving.run(
        "comptoir.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=args.workers,
        ws="websockets-sansio",
        # Feed messages are a few hundred bytes: compressing them saves little and costs
        # each connection ~40 KB of zlib state and CPU per message (benchmarks/ws_fanout.py).
        ws_per_message_deflate=False,
        log_level=settings.log_level,
        proxy_headers=True,
        access_log=False,
    )
    return 0


# --- migrate ------------------------------------------------------------------------------------


async def migrate_cmd(settings: Settings, _args: argparse.Namespace) -> int:
    from comptoir.db.migrate import migrate

    await migrate(settings)
    print("database is up to date")
    return 0


# --- staff and API keys -------------------------------------------------------------------------


def _staff_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--username", required=True)
    p.add_argument("--password", required=True, help="at least 8 characters")
    p.add_argument("--role", required=True, choices=["admin", "manager", "associate"])
    p.add_argument("--location", help="home location code (required for associates)")
    p.add_argument("--email", default="")


async def create_staff_cmd(settings: Settings, args: argparse.Namespace) -> int:
    from comptoir.auth.service import create_staff

    await _with_piccolo(settings)
    user_id = await create_staff(
        username=args.username, password=args.password, role=args.role,
        location=args.location, email=args.email,
    )
    print(f"created {args.role} '{args.username}' (user {user_id})")
    return 0


def _key_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", required=True, help="who uses the key, e.g. 'web shop'")
    p.add_argument("--role", required=True, choices=["admin", "manager", "associate", "channel"])
    p.add_argument("--channel", help="sales channel code (required for role channel)")
    p.add_argument("--location", help="location code (required for role associate)")


async def create_api_key_cmd(settings: Settings, args: argparse.Namespace) -> int:
    from comptoir.auth.service import create_api_key
    from comptoir.db.engine import create_engine, make_sessionmaker

    await _with_piccolo(settings)
    engine = create_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            row, key = await create_api_key(
                session, name=args.name, role=args.role, channel=args.channel,
                location=args.location,
            )
    finally:
        await engine.dispose()
    print(f"API key '{row.name}' (role {row.role}) created. It is shown only this once:")
    print(key)
    return 0


# --- entry point --------------------------------------------------------------------------------


# --- commands that live with their domain (their module is imported when the command runs) ----


async def seed_demo_cmd(settings: Settings, args: argparse.Namespace) -> int:
    from comptoir.seed import seed_demo_cmd as run

    return await run(settings, args)


def _import_catalog_args(p: argparse.ArgumentParser) -> None:
    from comptoir.catalog.importer import add_arguments

    add_arguments(p)


async def import_catalog_cmd(settings: Settings, args: argparse.Namespace) -> int:
    from comptoir.catalog.importer import import_catalog_cmd as run

    return await run(settings, args)


def _export_accounting_args(p: argparse.ArgumentParser) -> None:
    from comptoir.invoicing.exporting import add_arguments

    add_arguments(p)


async def export_accounting_cmd(settings: Settings, args: argparse.Namespace) -> int:
    from comptoir.invoicing.exporting import export_accounting_cmd as run

    return await run(settings, args)


# --- the list ------------------------------------------------------------------------------------

# Every command, in the order `comptoir --help` lists them: (help, handler, arguments).
COMMANDS: dict[str, tuple[str, Handler, Arguments]] = {
    "serve": ("Serve Comptoir over HTTP (migrates first).", serve, _serve_args),
    "migrate": ("Create or upgrade the database schema (safe to run again).", migrate_cmd,
                _no_arguments),
    "create-staff": ("Create a staff account (admins can also sign in to /admin).",
                     create_staff_cmd, _staff_args),
    "create-api-key": ("Create an API key for another system; prints it once.",
                       create_api_key_cmd, _key_args),
    "seed-demo": ("Load a demo French retailer: stores, catalog, stock, staff (safe to run again).",
                  seed_demo_cmd, _no_arguments),
    "import-catalog": ("Create or update products and SKUs from a CSV file.", import_catalog_cmd,
                       _import_catalog_args),
    "export-accounting": ("Write a period's invoices and credit notes for the accountant "
                          "(FEC, CSV or JSON).", export_accounting_cmd, _export_accounting_args),
}


class _OneLineHelp(argparse.HelpFormatter):
    """`comptoir --help` with each command and its help on one line."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=24, width=110)
        # argparse measures sub-command names at their parent's indent, too short to keep
        # the longer ones beside their help: fix the help column instead.
        self._action_max_length = 24


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="comptoir",
        description="Comptoir — order management for omnichannel retail.",
        formatter_class=_OneLineHelp,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name, (help_text, _fn, add_args) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_args(p)
    return parser


async def _finish(pending: Awaitable[int]) -> int:
    return await pending


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        sys.exit(2)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"comptoir: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)
    _help, fn, _args = COMMANDS[args.command]
    from comptoir.errors import DomainError

    try:
        result = fn(settings, args)
        code = result if isinstance(result, int) else asyncio.run(_finish(result))
    except DomainError as exc:
        print(f"comptoir {args.command}: {exc.detail}", file=sys.stderr)
        sys.exit(1)
    except ValueError as exc:
        print(f"comptoir {args.command}: {exc}", file=sys.stderr)
        sys.exit(1)
    sys.exit(code)
