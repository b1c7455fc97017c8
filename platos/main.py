"""ASGI entry point: `uvicorn platos.main:app`."""

from platos.app import create_app

app = create_app()
