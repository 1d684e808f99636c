"""`datatruth semantic ...`: validate, import-dbt, history, diff and compile, in-process and through the script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlglot
from isolation import SHOP_MODEL

from datatruth.cli.main import main
from datatruth.cli.semantic import parse_by
from datatruth.errors import UserError
from datatruth.semantic import versions
from datatruth.store import open_store, users
from datatruth.workspace.registry import load_workspace

SHOP = Path(__file__).parent / "fixtures" / "dbt" / "shop"
SCRIPT = Path(sys.executable).parent / "datatruth"


@pytest.fixture()
def shopcli(shop_workspace):
    """(settings, variables): the default workspace `shopcli`, a one-table shop."""
    settings, values, _model = shop_workspace("shopcli")
    return settings, values


def test_validate_a_valid_model(shopcli, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["semantic", "validate", "-w", "shopcli"]) == 0
    assert "valid" in capsys.readouterr().out
    assert main(["semantic", "validate", "--json"]) == 0  # the default workspace
    assert json.loads(capsys.readouterr().out) == []


def test_validate_lists_every_issue_and_exits_1(shopcli, capsys: pytest.CaptureFixture[str]) -> None:
    settings, _ = shopcli
    path = settings.workspaces_dir / "shopcli" / "models" / "orders.yaml"
    path.write_text(
        SHOP_MODEL.replace("expr: amount", "expr: amount_x").replace("type: categorical", "type: colour")
    )
    assert main(["semantic", "validate", "-w", "shopcli", "--json"]) == 1
    issues = json.loads(capsys.readouterr().out)
    assert len(issues) >= 1 and all(i["file"].endswith("orders.yaml") and i["line"] for i in issues)
    path.write_text(SHOP_MODEL.replace("expr: amount", "expr: amount_x"))
    assert main(["semantic", "validate", "-w", "shopcli"]) == 1
    out = capsys.readouterr().out
    assert "amount_x" in out and "orders.yaml:" in out


def test_import_dbt_writes_files_for_review(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "review"
    assert (
        main(
            [
                "semantic",
                "import-dbt",
                str(SHOP / "models"),
                "--out",
                str(out),
                "--ref-map",
                str(SHOP / "ref_map.yaml"),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "semantic model(s)" in text and "note:" in text
    assert sorted(p.name for p in out.iterdir()) == ["customers.yaml", "metrics.yaml", "orders.yaml"]
    assert "table: customers" in (out / "customers.yaml").read_text()
    assert main(["semantic", "import-dbt", str(SHOP / "models"), "--out", str(tmp_path / "j"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert "west_revenue" in summary["metrics"] and "dim_customers" in summary["tables"]  # no ref map given


def test_history_and_diff(shopcli, capsys: pytest.CaptureFixture[str]) -> None:
    settings, _ = shopcli
    store = open_store(settings=settings)
    users.set_membership(store, "shopcli", "ana", "analyst", actor="test")
    ws = load_workspace("shopcli", settings)
    try:
        versions.save_model(
            ws,
            store,
            {"models/orders.yaml": SHOP_MODEL.replace("amount}", "amount * 2}")},
            "ana",
            "double it",
        )
    finally:
        ws.close()
    assert main(["semantic", "history", "-w", "shopcli"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("v2") and "ana" in lines[0] and "double it" in lines[0]
    assert lines[1].startswith("v1")
    assert main(["semantic", "history", "-w", "shopcli", "--json"]) == 0
    assert [v["version"] for v in json.loads(capsys.readouterr().out)] == [2, 1]
    assert main(["semantic", "diff", "-w", "shopcli", "1", "2"]) == 0
    diff = capsys.readouterr().out
    assert (
        "--- v1/models/orders.yaml" in diff
        and "+      - {name: order_total, agg: sum, expr: amount * 2}" in diff
    )
    assert main(["semantic", "diff", "-w", "shopcli", "1", "9"]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "mysql"])
def test_compile_prints_sql(shopcli, capsys: pytest.CaptureFixture[str], dialect: str) -> None:
    assert (
        main(
            [
                "semantic",
                "compile",
                "-w",
                "shopcli",
                "--metric",
                "revenue",
                "--by",
                "metric_time:month",
                "--by",
                "order__status",
                "--dialect",
                dialect,
            ]
        )
        == 0
    )
    sql = capsys.readouterr().out
    tree = sqlglot.parse_one(sql, read=dialect)
    assert "orders" in {t.name for t in tree.find_all(sqlglot.exp.Table)}
    assert {"revenue", "metric_time__month", "order__status"} <= {s.alias_or_name for s in tree.selects}


def test_compile_unknown_metric_suggests_names(shopcli, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["semantic", "compile", "-w", "shopcli", "--metric", "revenu"]) == 2
    assert "revenue" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("metric_time:month", ("metric_time", "month")), ("customer__region", ("customer__region", None))],
)
def test_parse_by(text: str, parsed: tuple) -> None:
    assert parse_by(text) == parsed


def test_parse_by_needs_a_name() -> None:
    with pytest.raises(UserError):
        parse_by(":month")


def test_the_installed_script(shopcli) -> None:
    _settings, values = shopcli
    result = subprocess.run(
        [str(SCRIPT), "semantic", "validate", "-w", "shopcli", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, **values},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
    help_text = subprocess.run(
        [str(SCRIPT), "semantic", "--help"], capture_output=True, text=True, timeout=60, check=False
    ).stdout
    assert "import-dbt" in help_text and "Examples:" in help_text
