"""Fault suite helpers: the tests folder on sys.path (for fake_openai); private folders per test come from the
`private_dirs` fixture of tests/conftest.py."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))
