"""WSGI entry point: ``gunicorn web.wsgi:app``. Settings are read here, at start-up."""

from web.app import create_app

app = create_app()
