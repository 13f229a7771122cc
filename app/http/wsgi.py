"""The entry point the production server loads: `app.http.wsgi:application`."""

from app.http.app import create_app, served_app
from app.observability.logging import configure_logging
from app.settings import Settings

settings = Settings.from_env()
configure_logging(settings.log_level)
application = served_app(create_app(settings), settings)
