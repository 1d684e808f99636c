"""The CLI shell: --help everywhere, JSON listing through the installed script, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from datatruth.cli.main import build_parser, main

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
    result = subprocess.run([str(SCRIPT), "workspace", "list", "--json"], capture_output=True, text=True, cwd=REPO,
                            timeout=120, check=True)
    names = {w["name"] for w in json.loads(result.stdout)}
    assert {"retail", "flights"} <= names


def test_unknown_workspace_is_a_message_not_a_traceback() -> None:
    result = subprocess.run([str(SCRIPT), "workspace", "show", "no_such_ws"], capture_output=True, text=True,
                            cwd=REPO, timeout=120)
    assert result.returncode == 2
    assert "error: workspace 'no_such_ws' does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_workspace_yaml_reports_file_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "ws" / "broken"
    ws.mkdir(parents=True)
    (ws / "workspace.yaml").write_text("title: Broken\nlimits:\n  row_cap: many\nllm:\n  api_key: sk-123\n")
    monkeypatch.setenv("DATATRUTH_WORKSPACES_DIR", str(tmp_path / "ws"))
    monkeypatch.setenv("DATATRUTH_DATA_DIR", str(tmp_path / "data"))
    assert main(["workspace", "show", "broken"]) == 2
    err = capsys.readouterr().err
    assert f"{ws / 'workspace.yaml'}:3" in err and f"{ws / 'workspace.yaml'}:5" in err
    assert "literal secret" in err and "Traceback" not in err


def test_demo_build_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATATRUTH_DATA_DIR", str(tmp_path))
    assert main(["demo", "build", "-w", "flights", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["built"] and out["tables"]["flights"] == 336776
    assert main(["demo", "build", "-w", "flights", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["built"] is False
