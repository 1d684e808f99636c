"""Structured logging that never writes query results or secrets."""

from __future__ import annotations

import json
import logging
import re

_SECRET_KEYS = re.compile(r"(password|passwd|secret|token|api[_-]?key|cookie)", re.I)
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)([^@\s]+)(@)")
_QUERY_SECRET = re.compile(
    r"([?&][^=&\s]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|"
    r"credential)[^=&\s]*=)([^&#\s]+)",
    re.I,
)
_FORBIDDEN_FIELDS = {"rows", "frame", "result", "data"}


def scrub(value: object) -> object:
    """Mask passwords inside URLs (user:password@ and ?password=...); used on every logged field."""
    if isinstance(value, str):
        return _QUERY_SECRET.sub(r"\1***", _URL_PASSWORD.sub(r"\1***\3", value))
    return value


def mask_url(url: str) -> str:
    """Only scheme, host and port of a URL whose path or query is itself a secret (a webhook): https://host/***."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "***"
    rest = "/***" if (parts.path not in ("", "/") or parts.query or parts.fragment) else ""
    return f"{parts.scheme}://{host}{port}{rest}" if parts.scheme else "***"


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with only the whitelisted `fields` extra."""

    def format(self, record: logging.LogRecord) -> str:
        """Render a record as JSON, dropping result rows and masking secrets."""
        payload: dict[str, object] = {
            "ts": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        for key, value in (getattr(record, "fields", None) or {}).items():
            if key in _FORBIDDEN_FIELDS:
                continue  # results never reach logs, whatever a caller passes
            payload[key] = "***" if _SECRET_KEYS.search(key) else scrub(value)
        return json.dumps(payload, default=str)


def get_logger(name: str) -> logging.Logger:
    """Return a logger under the `datatruth` namespace."""
    return logging.getLogger(f"datatruth.{name}")


LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Libraries whose warnings are about their own internals (sqlglot's "falling back to parsing as a Command"):
# each face reports the real outcome in its own words, so these never reach a user's terminal.
_QUIET_LIBRARIES = ("sqlglot",)


def configure(level: str = "INFO") -> None:
    """Send the datatruth loggers to stderr as JSON lines at `level` (from DATATRUTH_LOG_LEVEL); idempotent."""
    from datatruth.errors import ConfigError

    name = str(level).strip().upper()
    if name not in LEVELS:
        raise ConfigError(
            f"DATATRUTH_LOG_LEVEL is {level!r}, which is not a log level", f"use one of {', '.join(LEVELS)}"
        )
    root = logging.getLogger("datatruth")
    root.setLevel(name)
    root.propagate = False  # one line per record, even when the host application configures the root logger
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    for library in _QUIET_LIBRARIES:
        quiet = logging.getLogger(library)
        if not quiet.handlers:
            # A NullHandler stops Python's last-resort handler from printing the library's warnings on stderr;
            # records still propagate to whatever the host application configured.
            quiet.addHandler(logging.NullHandler())
