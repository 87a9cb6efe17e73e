"""The database is down: a request that needs it fails fast with a 503 JSON, never a 500.

While PostgreSQL restarts (or SQLite is locked past its busy timeout), a
request that touches the database gets SQLAlchemy's `OperationalError` (or a
DBAPI error that invalidated its connection, or a pool timeout). The server
answers it as `{"ok": false, "error": …, "status": 503}` with `Retry-After`,
so the widget and load balancers retry instead of reporting a server bug.
Connecting is bounded (`db.engine.CONNECT_TIMEOUT`) and each pooled connection
is pre-pinged, so once the database is back the next request simply works:
botbuilder needs no restart. `/ready` says 503 meanwhile (see `app.ready`).

The log names the error's class and the driver's first line (a connection
problem), never the statement's parameters, which may hold a member's text.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, request
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from botbuilder.server.common import error_response

__all__ = ["RETRY_AFTER_SECONDS", "database_unavailable", "init_app"]

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
MESSAGE = "the database is unavailable; please try again in a few seconds"


def database_unavailable(exc: BaseException) -> bool:
    """True when `exc` means the database cannot be reached now, not a bug in a query."""
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def init_app(app: Flask) -> None:
    """Answer database outages with a 503 and Retry-After; other SQL errors stay 500s.

    Flask picks the handler of the nearest class, so these win over app.py's catch-all."""

    @app.errorhandler(DBAPIError)
    @app.errorhandler(PoolTimeout)
    def database_error(exc: SQLAlchemyError) -> Any:
        if not database_unavailable(exc):  # a bug, answered as app.py's catch-all would
            log.exception("unexpected error on %s %s", request.method, request.path)
            return error_response("something went wrong on our side; please try again", 500)
        cause = getattr(exc, "orig", None) or exc
        first_line = (str(cause).strip().splitlines() or [""])[0][:200]
        log.warning(
            "database unavailable on %s %s: %s: %s",
            request.method,
            request.path,
            type(cause).__name__,
            first_line,
        )
        response = error_response(MESSAGE, 503)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
