"""Helpers shared by CLI command modules: settings, JSON output, progress on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any

from datatruth.settings import Settings, load_settings


def settings() -> Settings:
    """Settings for this CLI process (from the environment)."""
    return load_settings()


def print_json(payload: Any) -> None:
    """Write one JSON document to stdout."""
    sys.stdout.write(json.dumps(payload, default=str) + "\n")
    sys.stdout.flush()


def progress_to_stderr(fraction: float, message: str) -> None:
    """A one-line progress report on stderr, so stdout stays clean for --json."""
    sys.stderr.write(f"[{fraction * 100:5.1f}%] {message}\n")
    sys.stderr.flush()
