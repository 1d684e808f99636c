"""The CLI shell: --help everywhere, JSON listing through the installed script, errors without tracebacks."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import datatruth.cli
from datatruth.cli.main import COMMANDS, build_parser, main

REPO = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "datatruth"


def _subcommands(parser) -> dict:
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            return action.choices
    return {}


def _all_paths(parser, prefix=()):
    yield prefix
    for name, child in _subcommands(parser).items():
        yield from _all_paths(child, prefix + (name,))


@pytest.mark.parametrize("path", list(_all_paths(build_parser())), ids=lambda p: " ".join(p) or "top")
def test_help_everywhere(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([*path, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "usage: datatruth" in out and len(out) > 80


def test_workspace_list_json_through_installed_script() -> None:
    result = subprocess.run(
        [str(SCRIPT), "workspace", "list", "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=True,
    )
    names = {w["name"] for w in json.loads(result.stdout)}
    assert {"retail", "flights"} <= names


def test_unknown_workspace_is_a_message_not_a_traceback() -> None:
    result = subprocess.run(
        [str(SCRIPT), "workspace", "show", "no_such_ws"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 2
    assert "error: workspace 'no_such_ws' does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_workspace_yaml_reports_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = tmp_path / "ws" / "broken"
    ws.mkdir(parents=True)
    (ws / "workspace.yaml").write_text("title: Broken\nlimits:\n  row_cap: many\nllm:\n  api_key: sk-123\n")
    monkeypatch.setenv("DATATRUTH_WORKSPACES_DIR", str(tmp_path / "ws"))
    monkeypatch.setenv("DATATRUTH_DATA_DIR", str(tmp_path / "data"))
    assert main(["workspace", "show", "broken"]) == 2
    err = capsys.readouterr().err
    assert f"{ws / 'workspace.yaml'}:3" in err and f"{ws / 'workspace.yaml'}:5" in err
    assert "literal secret" in err and "Traceback" not in err


def test_demo_build_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATATRUTH_DATA_DIR", str(tmp_path))
    assert main(["demo", "build", "-w", "flights", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["built"] and out["tables"]["flights"] == 336776
    assert main(["demo", "build", "-w", "flights", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["built"] is False


# Libraries that cost tenths of a second to seconds to import; a command imports them only where it uses them.
HEAVY = {
    "chromadb",
    "onnxruntime",
    "tokenizers",
    "plotly",
    "ydata_profiling",
    "pyod",
    "statsmodels",
    "openai",
    "streamlit",
    "scipy",
    "sklearn",
    "matplotlib",
    "jsonschema",
}
CORE = {"pandas", "numpy", "pyarrow", "sqlalchemy", "sqlglot", "duckdb", "rapidfuzz"}
_REPORT = """
import json, sys
from datatruth.cli.main import main
try:
    main(json.loads(sys.argv[1]))
except SystemExit:
    pass
sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)))
"""


def _modules_after(args: list[str], env: dict[str, str] | None = None) -> set[str]:
    """The modules a fresh interpreter holds after running the CLI with `args`."""
    done = subprocess.run(
        [sys.executable, "-c", _REPORT, json.dumps(args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=300,
    )
    assert "MODULES " in done.stderr, done.stderr
    return set(json.loads(done.stderr.rsplit("MODULES ", 1)[1]))


def _roots(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_command_table_matches_the_command_modules() -> None:
    found: dict[str, tuple[str, str]] = {}
    for info in pkgutil.iter_modules(datatruth.cli.__path__):
        module = importlib.import_module(f"datatruth.cli.{info.name}")
        if info.name == "main" or not hasattr(module, "register"):
            continue
        sub = argparse.ArgumentParser().add_subparsers()
        module.register(sub)
        for action in sub._choices_actions:
            found[action.dest] = (info.name, str(action.help))
    assert found == {name: (name, help_text) for name, help_text in COMMANDS.items()}


def test_top_level_help_imports_no_command_module_and_no_library() -> None:
    modules = _modules_after(["--help"])
    assert not _roots(modules) & (HEAVY | CORE)
    assert {m for m in modules if m.startswith("datatruth.cli.")} == {"datatruth.cli.main"}


def test_a_command_imports_only_its_own_module() -> None:
    modules = _modules_after(["guard", "--dialect", "duckdb", "SELECT 1"])
    assert {m for m in modules if m.startswith("datatruth.cli.")} <= {
        "datatruth.cli.main",
        "datatruth.cli.guard",
        "datatruth.cli.common",
    }
    assert not _roots(modules) & (HEAVY | {"pandas", "sqlalchemy", "duckdb"})


def test_ask_imports_no_vector_index_chart_or_llm_library(tmp_path: Path) -> None:
    built = REPO / ".datatruth" / "flights"
    if (built / "warehouse.duckdb").exists() and (built / "warehouse.build.json").exists():
        (tmp_path / "flights").mkdir()
        for name in ("warehouse.duckdb", "warehouse.build.json"):
            shutil.copy2(built / name, tmp_path / "flights" / name)
    env = {
        **os.environ,
        "DATATRUTH_DATA_DIR": str(tmp_path),
        "DATATRUTH_STORE_URL": f"sqlite:///{tmp_path / 'metadata.sqlite'}",
        "DATATRUTH_LOCAL_USER": "local",
    }
    for _ in range(2):  # the first run builds the snapshots, the second reads them
        modules = _modules_after(["ask", "-w", "flights", "--json", "number of flights by origin"], env)
        assert "datatruth.ask.pipeline" in modules
        assert not _roots(modules) & HEAVY
        assert "datatruth.vector.chroma_function" not in modules
