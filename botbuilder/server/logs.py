"""Structured logs: with `BOTBUILDER_LOG_FORMAT=json`, one JSON object per line on stderr.

Every record has `time` (UTC, ISO 8601), `level`, `logger` and `message`, and
`exception` when it carries one. Each request adds a line of its own (logger
`botbuilder.requests`) with `method`, `route` (the URL rule, e.g.
`/api/v1/conversations/<conversation_id>/messages`, never the path with its ids),
`status`, `duration_ms` and `request_id`; the id is the proxy's `X-Request-Id`
when it looks like one, else a new one, and the response carries it back.

A request line never holds what a member wrote, an e-mail address, a token or a
query string: it is built from those fields alone. botbuilder's own messages
never quote members either (a rule of the code base); as a second guard any
e-mail address in a message or traceback is replaced by `[e-mail]`.

With the default `BOTBUILDER_LOG_FORMAT=text` logging stays as Python sets it up.
Either way waitress's "Task queue depth is N" (a warning for every request that waits
for a free thread) comes at most once a minute, saying how many were held back.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from flask import Flask, Response, g, request

from botbuilder.errors import ConfigError

__all__ = ["JsonFormatter", "OncePerInterval", "init_app", "quiet_waitress_queue"]

requests_log = logging.getLogger("botbuilder.requests")

FORMATS = ("text", "json")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
REQUEST_FIELDS = ("method", "route", "status", "duration_ms", "request_id")


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON: time, level, logger, message and the request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": _scrubbed(record.getMessage()),
        }
        for field in REQUEST_FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exception"] = _scrubbed(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def _scrubbed(text: str) -> str:
    return EMAIL.sub("[e-mail]", text)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (test runners swap it)."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def use_json_logs() -> None:
    """Send every log record to stderr as JSON, botbuilder's from INFO up (once per process)."""
    root = logging.getLogger()
    if not any(isinstance(h, _StderrHandler) for h in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    botbuilder = logging.getLogger("botbuilder")
    if botbuilder.getEffectiveLevel() > logging.INFO:
        botbuilder.setLevel(logging.INFO)


class OncePerInterval(logging.Filter):
    """Lets one record through per `interval` seconds; the next one let through says how
    many were held back. For waitress's "Task queue depth is N", logged for every request
    that waits for a free thread: under steady load a line per request, whose writing
    cost more than a cached question's answer."""

    def __init__(self, interval: float = 60.0, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.interval = interval
        self.clock = clock
        self._next = float("-inf")
        self._held = 0
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        now = self.clock()
        with self._lock:
            if now < self._next:
                self._held += 1
                return False
            held, self._held, self._next = self._held, 0, now + self.interval
        if held:
            record.msg = f"{record.getMessage()} (and {held} more such warnings before it)"
            record.args = ()
        return True


def quiet_waitress_queue(interval: float = 60.0) -> None:
    """At most one of waitress's queue-depth warnings a minute (once per process)."""
    queue = logging.getLogger("waitress.queue")
    if not any(isinstance(f, OncePerInterval) for f in queue.filters):
        queue.addFilter(OncePerInterval(interval))


def init_app(app: Flask) -> None:
    """With LOG_FORMAT json: JSON lines for every record, and one for each request."""
    quiet_waitress_queue()
    chosen = str(app.config.get("LOG_FORMAT") or "text").lower()
    if chosen not in FORMATS:
        raise ConfigError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {chosen!r}")
    if chosen != "json":
        return
    use_json_logs()

    @app.before_request
    def started() -> None:
        g.log_started = time.perf_counter()
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex

    @app.after_request
    def logged(response: Response) -> Response:
        began = g.get("log_started")
        request_id = g.get("request_id") or uuid.uuid4().hex
        response.headers["X-Request-Id"] = request_id
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        fields = {
            "method": request.method if request.method in METHODS else "OTHER",
            "route": route,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - began) * 1000, 2) if began else None,
            "request_id": request_id,
        }
        requests_log.info("%s %s %s", fields["method"], route, response.status_code, extra=fields)
        return response
