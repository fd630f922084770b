"""WSGI entry point for production servers (gunicorn openiop.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.settings")
application = get_wsgi_application()
