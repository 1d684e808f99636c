"""Fault suite helpers: the tests folder on sys.path (for fake_openai), a throwaway workspace per test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

REPO_ROOT = TESTS.parent
SCRIPT = REPO_ROOT / ".venv" / "bin" / "datatruth"


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Settings for a private data dir, workspaces dir and SQLite store, also set in os.environ."""
    values = {
        "DATATRUTH_DATA_DIR": str(tmp_path / "data"),
        "DATATRUTH_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "DATATRUTH_STORE_URL": f"sqlite:///{tmp_path / 'metadata.sqlite'}",
        "DATATRUTH_LOCAL_USER": "local",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values
