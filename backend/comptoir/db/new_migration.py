"""Developer tool: autogenerate an Alembic revision against an up-to-date scratch SQLite file.

    python -m comptoir.db.new_migration "add orders"
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from alembic import command

from comptoir.db.migrate import alembic_config, migrate
from comptoir.settings import load_settings


def main() -> None:
    message = sys.argv[1] if len(sys.argv) > 1 else "schema change"
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            {"COMPTOIR_DATABASE_URL": f"sqlite:///{Path(tmp) / 'scratch.db'}",
             "COMPTOIR_VAR_DIR": tmp}
        )
        asyncio.run(migrate(settings))
        command.revision(alembic_config(settings), message=message, autogenerate=True)


if __name__ == "__main__":
    main()
