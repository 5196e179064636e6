"""Print Comptoir's OpenAPI document as JSON, without a server or a real database.

Run as ``python -m comptoir.openapi_export > openapi.json``; the PWA's typed client
(``pwa/src/api/schema.d.ts``) is generated from that output by ``make api-types``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

__all__ = ["openapi_document"]


def openapi_document() -> dict[str, object]:
    """The OpenAPI document of an app built on a throw-away SQLite file (never opened)."""
    with tempfile.TemporaryDirectory(prefix="comptoir-openapi-") as tmp:
        var_dir = Path(tmp)
        # Through the environment, because Piccolo's configuration module reads the settings
        # on import too: nothing may land in ./var or touch a real database.
        os.environ.update({
            "COMPTOIR_DATABASE_URL": f"sqlite:///{var_dir / 'comptoir.db'}",
            "COMPTOIR_VAR_DIR": str(var_dir),
            "COMPTOIR_SECRET_KEY": "openapi-export-" + "x" * 32,
            "COMPTOIR_REDIS_URL": "",
        })
        from comptoir.app import create_app
        from comptoir.settings import load_settings

        app = create_app(load_settings(), run_dispatcher=False)
        return app.openapi_schema.to_schema()


def main() -> int:
    json.dump(openapi_document(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
