"""The Dockerfile installs and starts the app the README's way (./dev), from a slim base, as a non-root user."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction with its continuation lines joined."""

    line: int
    keyword: str
    args: str


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions in order (comments dropped, backslash continuations joined)."""
    out: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if not pending:
            start = number
        pending.append(stripped.removesuffix("\\").strip())
        if stripped.endswith("\\"):
            continue
        joined = " ".join(p for p in pending if p)
        keyword, _, args = joined.partition(" ")
        out.append(Instruction(start, keyword.upper(), args.strip()))
        pending = []
    return out


def _exec_form(args: str) -> list[str]:
    import json

    return json.loads(args) if args.startswith("[") else shlex.split(args)


def _dev_case(script: str, case: str) -> list[str]:
    """The commands of one `case` branch of the ./dev script, with $VENV spelled out."""
    match = re.search(rf"^\s*{case}\)\s*\n(.*?);;", script, re.S | re.M)
    assert match, f"./dev has no '{case})' branch"
    commands = []
    for line in match.group(1).splitlines():
        line = line.strip().removeprefix("exec ").replace('"$VENV/bin/', ".venv/bin/").replace('"', "")
        if line and not line.startswith("#"):
            commands.append(line)
    return commands


@pytest.fixture(scope="module")
def docker() -> list[Instruction]:
    return parse_dockerfile((REPO / "Dockerfile").read_text())


def _all(docker: list[Instruction], keyword: str) -> list[Instruction]:
    return [i for i in docker if i.keyword == keyword]


def test_parser_joins_continuations() -> None:
    parsed = parse_dockerfile('# c\nFROM x\nRUN a && \\\n    b\n\nCMD ["y"]\n')
    assert [(i.line, i.keyword, i.args) for i in parsed] == [
        (2, "FROM", "x"),
        (3, "RUN", "a && b"),
        (6, "CMD", '["y"]'),
    ]


def test_slim_python_base(docker: list[Instruction]) -> None:
    (base,) = _all(docker, "FROM")
    image = base.args.split()[0]
    match = re.fullmatch(r"python:(3\.(\d+))(?:\.\d+)?-slim(?:-[a-z]+)?", image)
    assert match, f"base image {image!r} is not a slim Python image"
    assert int(match.group(2)) >= 11, "DataTruth needs Python 3.11 or newer"


def test_install_matches_readme_path(docker: list[Instruction]) -> None:
    readme = (REPO / "README.md").read_text()
    assert "./dev run" in readme and "./dev test" in readme, "the README names ./dev as the way in"
    dev = (REPO / "dev").read_text()
    run_steps = _dev_case(dev, "run")
    assert run_steps[0] == "install", "./dev run installs first"
    runs = " && ".join(i.args for i in _all(docker, "RUN"))
    assert "./dev install" in runs, "the image installs with ./dev install, like ./dev run does"
    assert "pip install" not in runs, "no second install path that could drift from ./dev"
    # Every later step of ./dev run happens in the image: build steps in RUN, the server in CMD.
    (cmd,) = _all(docker, "CMD")
    started = " ".join(_exec_form(cmd.args))
    for step in run_steps[1:]:
        program = " ".join(
            step.split()[:3]
        )  # e.g. ".venv/bin/datatruth demo build", ".venv/bin/streamlit run app.py"
        assert program in runs or program in started, (
            f"./dev run step '{step}' is missing from the Dockerfile"
        )
    assert started.startswith(".venv/bin/streamlit run app.py")


def test_runs_as_non_root(docker: list[Instruction]) -> None:
    users = _all(docker, "USER")
    assert users, "the Dockerfile sets a USER"
    final = users[-1].args.split(":")[0]
    assert final not in ("root", "0"), "the app must not run as root"
    install = next(i for i in _all(docker, "RUN") if "./dev install" in i.args)
    assert users[-1].line < install.line, "the install runs as the app user, so the venv is not root-owned"
    created = " ".join(i.args for i in _all(docker, "RUN"))
    assert re.search(rf"useradd\b[^&]*\b{re.escape(final)}\b", created), f"user {final} is created"


def test_healthcheck_hits_streamlit_health_on_served_port(docker: list[Instruction]) -> None:
    (check,) = _all(docker, "HEALTHCHECK")
    assert "/_stcore/health" in check.args
    (cmd,) = _all(docker, "CMD")
    argv = _exec_form(cmd.args)
    port = argv[argv.index("--server.port") + 1]
    assert f":{port}/_stcore/health" in check.args, "the health check asks the port the server listens on"
    assert any(port in i.args.split() for i in _all(docker, "EXPOSE"))
    assert "0.0.0.0" in argv, "the server listens beyond the container's loopback"


def test_build_context_leaves_out_local_state() -> None:
    ignored = {line.strip().rstrip("/") for line in (REPO / ".dockerignore").read_text().splitlines()}
    assert {".venv", ".datatruth", ".git"} <= ignored, (
        "a local venv, data or history never goes into the image"
    )
