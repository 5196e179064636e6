"""Piccolo's configuration module (PICCOLO_CONF): engine from Comptoir's settings."""

from piccolo.conf.apps import AppRegistry

from comptoir.config.engine import make_piccolo_engine
from comptoir.settings import load_settings

DB = make_piccolo_engine(load_settings())

APP_REGISTRY = AppRegistry(
    apps=[
        "piccolo.apps.user.piccolo_app",
        "piccolo_api.session_auth.piccolo_app",
        "comptoir.config.piccolo_app",
    ]
)
