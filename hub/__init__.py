"""The application: settings, plugin manager, HTTP app, Celery app and CLI."""
