"""`datatruth quality ...` through main() and once through the installed script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from datatruth.cli.main import main

REPO = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "datatruth"

CHECKS = """\
checks:
  - name: planes_missing_year
    type: not_null
    table: planes
    column: year
    severity: critical
  - name: planes_tailnum_unique
    type: unique
    table: planes
    column: tailnum
  - name: airlines_carrier_not_null
    type: not_null
    table: airlines
    column: carrier
"""


@pytest.fixture(scope="module")
def flights_with_checks(tmp_path_factory) -> dict[str, str]:
    """A workspaces dir with a copy of the flights workspace whose checks include a critical failure."""
    root = tmp_path_factory.mktemp("quality_cli")
    ws_dir = root / "workspaces" / "flights"
    ws_dir.mkdir(parents=True)
    config = yaml.safe_load((REPO / "workspaces" / "flights" / "workspace.yaml").read_text())
    config["semantic_models"] = []
    (ws_dir / "workspace.yaml").write_text(yaml.safe_dump(config))
    (ws_dir / "checks.yaml").write_text(CHECKS)
    return {"DATATRUTH_DATA_DIR": str(root / "data"), "DATATRUTH_WORKSPACES_DIR": str(root / "workspaces")}


@pytest.fixture()
def cli_env(flights_with_checks, monkeypatch) -> dict[str, str]:
    for k, v in flights_with_checks.items():
        monkeypatch.setenv(k, v)
    return flights_with_checks


def test_run_json_and_exit_code(cli_env, capsys) -> None:
    code = main(["quality", "run", "-w", "flights", "--table", "planes", "--json"])
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert code == 1 and doc["critical_failed"] is True  # planes_missing_year is critical here
    assert {o["check_name"] for o in doc["outcomes"]} == {"planes_missing_year", "planes_tailnum_unique"}
    assert "%]" in err and "profiling planes" in err  # progress goes to stderr, stdout stays JSON
    assert main(["quality", "run", "-w", "flights", "--table", "airlines"]) == 0
    out, _ = capsys.readouterr()
    assert "ok   [warning ] airlines_carrier_not_null" in out


def test_profile_and_validate(cli_env, capsys) -> None:
    assert main(["quality", "profile", "-w", "flights", "--table", "airlines", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["row_count"] == 16 and doc["columns"][0]["name"] == "carrier"
    assert main(["quality", "validate", "-w", "flights"]) == 0
    assert "3 checks are valid" in capsys.readouterr().out


def test_unknown_table_is_a_user_error(cli_env, capsys) -> None:
    assert main(["quality", "run", "-w", "flights", "--table", "nope"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_bad_checks_file_lists_every_issue(cli_env, capsys, tmp_path) -> None:
    checks = Path(cli_env["DATATRUTH_WORKSPACES_DIR"]) / "flights" / "checks.yaml"
    good = checks.read_text()
    checks.write_text(
        good + "  - name: x\n    type: range\n    table: planes\n    column: nope\n    min: 0\n"
        "  - name: y\n    type: unique\n    table: nope\n    column: a\n"
    )
    try:
        assert main(["quality", "validate", "-w", "flights"]) == 2
        err = capsys.readouterr().err
        assert (
            "checks.yaml:15: check 'x': column 'nope'" in err
            and "checks.yaml:20: check 'y': table 'nope'" in err
        )
    finally:
        checks.write_text(good)


def test_installed_script(flights_with_checks) -> None:
    result = subprocess.run(
        [str(SCRIPT), "quality", "run", "-w", "flights", "--table", "airlines", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, **flights_with_checks},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [o["status"] for o in doc["outcomes"]] == ["pass"]
    assert "%]" in result.stderr
