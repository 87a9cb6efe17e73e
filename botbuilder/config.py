"""Server settings, layered: defaults → BOTBUILDER_* environment → an explicit mapping.

Bot behaviour (greeting, thresholds, teams, widget) lives in the bot's
bot.yml; these are the operator's settings for one running server. This is
the one module that reads the BOTBUILDER_* environment: the server through
`server_settings`, the commands through `instance_path` and `database_url`,
so `botbuilder user add` finds the same database as `botbuilder serve`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from botbuilder.db.engine import database_url as _url_or_sqlite
from botbuilder.db.engine import private_file, private_folder
from botbuilder.errors import ConfigError

__all__ = [
    "DEFAULTS",
    "ENVIRONMENT",
    "database_url",
    "instance_path",
    "server_settings",
    "setting",
]

DEFAULTS: dict[str, Any] = {
    "FLOWS_DIR": "flows",
    "INSTANCE_PATH": "instance",
    "DATABASE_URL": None,  # None: SQLite file in the instance folder
    "DATABASE_TIMEOUT": 15.0,  # seconds a statement or a lock wait may take before a 503
    "SECRET_KEY": None,  # None: generated once and kept in the instance folder
    "RELOAD_INTERVAL": 1.0,  # seconds between checks of the flow files for changes
    "MAX_CONTENT_LENGTH": 64 * 1024,  # bytes per request body
    "HANDOFF_UNCLAIMED_AFTER": 300,  # seconds before a waiting member is offered to leave an e-mail; 0 = never
    "WEBHOOK_RETRY_DELAYS": (2, 10, 60),  # seconds between retries of a failed team webhook
    "PUBLIC_URL": None,  # base of links in webhook messages; None: the path alone, no link
    "TRUSTED_PROXIES": "",  # IPs/CIDRs of reverse proxies whose X-Forwarded-For is believed
    "SMTP_URL": None,  # smtp://user:pass@host:587 (STARTTLS) or smtps://…; None: no mail sent
    "MAIL_FROM": None,  # sender of digests and follow-up replies when a team names no address
    "SCHEDULER": "on",  # "off": `serve` runs no digest or purge; use cron with the commands
    "METRICS_TOKEN": None,  # bearer token for /metrics; None: /metrics answers 404
    "LOG_FORMAT": "text",  # "json": one JSON object per log line, and a line per request
}

# Each setting and the environment variable that sets it; documented in the README.
ENVIRONMENT = {key: f"BOTBUILDER_{key}" for key in DEFAULTS if key != "MAX_CONTENT_LENGTH"}


def _environment(key: str) -> str | None:
    """The setting `key` from its BOTBUILDER_* variable; an empty variable counts as unset."""
    return os.environ.get(ENVIRONMENT[key]) or None


def setting(key: str) -> Any:
    """One setting for a command: its BOTBUILDER_* variable, else the default."""
    return _environment(key) or DEFAULTS[key]


def instance_path(explicit: str | Path | None = None) -> Path:
    """The instance folder: `explicit`, else $BOTBUILDER_INSTANCE_PATH, else ./instance."""
    return Path(explicit or _environment("INSTANCE_PATH") or DEFAULTS["INSTANCE_PATH"]).resolve()


def database_url(instance: str | Path | None = None) -> str:
    """The database a command uses: $BOTBUILDER_DATABASE_URL, else SQLite in the instance folder."""
    return _url_or_sqlite(_environment("DATABASE_URL"), instance_path(instance))


def server_settings(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The settings for one server, with paths made absolute."""
    settings = dict(DEFAULTS)
    for key in ENVIRONMENT:
        value = _environment(key)
        if value:
            settings[key] = value
    settings.update(overrides or {})
    for key in ("RELOAD_INTERVAL", "HANDOFF_UNCLAIMED_AFTER", "DATABASE_TIMEOUT"):
        try:
            settings[key] = float(settings[key])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{key} must be a number of seconds, not {settings[key]!r}") from exc
    delays = settings["WEBHOOK_RETRY_DELAYS"]
    try:
        if isinstance(delays, str):
            delays = [part for part in delays.replace(" ", "").split(",") if part]
        settings["WEBHOOK_RETRY_DELAYS"] = tuple(float(d) for d in delays)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"WEBHOOK_RETRY_DELAYS must be seconds separated by commas, e.g. 2,10,60, not {delays!r}"
        ) from exc
    settings["FLOWS_DIR"] = str(Path(settings["FLOWS_DIR"]).resolve())
    instance = Path(settings["INSTANCE_PATH"]).resolve()
    settings["INSTANCE_PATH"] = str(instance)
    if not settings.get("SECRET_KEY"):
        settings["SECRET_KEY"] = _instance_secret(instance)
    return settings


def _instance_secret(instance: Path) -> str:
    """A random secret kept in the instance folder (0600), so sessions survive restarts."""
    private_folder(instance)
    path = instance / "secret_key"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        os.replace(tmp, path)
    return private_file(path).read_text().strip()
