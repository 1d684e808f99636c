"""Helpers shared by CLI command modules: settings, JSON output, progress on stderr."""

from __future__ import annotations

import argparse
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


def workspace_name(value: str) -> str:
    """argparse type for -w/--workspace and workspace NAME arguments: an identifier, never a path."""
    from datatruth.errors import UserError
    from datatruth.workspace.registry import check_workspace_name

    try:
        return check_workspace_name(value)
    except UserError as err:
        raise argparse.ArgumentTypeError(f"{err.message} ({err.hint})") from None
