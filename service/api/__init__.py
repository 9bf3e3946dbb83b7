"""The HTTP API (FastAPI): ``create_app`` in :mod:`service.api.app`."""
