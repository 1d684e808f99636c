"""Code health in CI (issue 22): ruff's lint rules (with the C901 complexity limit), ruff's format check
and mypy all pass.

Each tool runs as a subprocess from the same virtualenv as the tests, in the repository root, so the
settings in pyproject.toml apply exactly as when a developer runs the tool by hand.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

# Every folder of Python code is kept in `ruff format` style.
FORMATTED = ["app.py", "benchmarks", "datatruth", "pages", "tests"]
# A cold mypy run over the package takes about a minute on a 2-core machine; the cache (.mypy_cache,
# git-ignored) brings a rerun down to seconds.
MYPY_TIMEOUT_S = 600


def _run(tool: str, *args: str, timeout: float = 300) -> None:
    """Run a tool of this virtualenv in the repository root; fail with its whole output unless it exits 0."""
    exe = BIN / tool
    if not exe.exists():
        pytest.fail(f"{tool} is not installed in {BIN}: run ./dev install dev")
    # NO_COLOR: plain text in the failure message; the tools need nothing else from the environment.
    done = subprocess.run(
        [str(exe), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    if done.returncode != 0:
        pytest.fail(
            f"`{tool} {' '.join(args)}` exited {done.returncode}\n{done.stdout}\n{done.stderr}",
            pytrace=False,
        )


def test_ruff_lint() -> None:
    """The rules selected in pyproject.toml, C901 (complexity at most 15) among them."""
    _run("ruff", "check", "--no-fix", *FORMATTED)


def test_ruff_format() -> None:
    """The files already formatted stay formatted."""
    missing = [path for path in FORMATTED if not (REPO / path).exists()]
    assert not missing, f"listed in FORMATTED but gone (remove them from the list): {missing}"
    _run("ruff", "format", "--check", *FORMATTED)


@pytest.mark.slow
def test_mypy() -> None:
    """The package type-checks with the settings of [tool.mypy] (files, excluded modules)."""
    _run("mypy", timeout=MYPY_TIMEOUT_S)
