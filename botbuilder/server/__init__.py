"""The Flask server: a thin HTTP layer over the core. See `create_app`."""

from __future__ import annotations

from botbuilder.server.app import create_app

__all__ = ["create_app"]
