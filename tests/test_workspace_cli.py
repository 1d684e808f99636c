"""`datatruth workspace ...`: list, show, create (plain, --from-dbt, --draft-model) and load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from datatruth.cli.main import main

SHOP = Path(__file__).parent / "fixtures" / "dbt" / "shop"
SCRIPT = Path(sys.executable).parent / "datatruth"


def test_list_show_create(private_dirs, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["workspace", "list"]) == 0
    assert "No workspaces yet" in capsys.readouterr().out
    assert main(["workspace", "create", "sales", "--title", "Sales"]) == 0
    assert "created" in capsys.readouterr().out
    assert main(["workspace", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["title"], r["valid"]) for r in rows] == [("sales", "Sales", True)]
    assert main(["workspace", "show", "sales", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["name"] == "sales" and info["warehouse"].startswith("duckdb:///")
    assert main(["workspace", "create", "sales"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["workspace", "show", "nope"]) == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["workspace", "create", "x", "--load-csv", "data"],
        ["workspace", "create", "x", "--from-dbt", "models"],
        ["workspace", "create", "x", "--from-dbt", "models", "--load-csv", "d", "--draft-model"],
    ],
)
def test_create_option_mistakes_are_user_errors(
    private_dirs, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert main(argv) == 2
    assert "hint:" in capsys.readouterr().err


def test_create_from_dbt_fixture(private_dirs, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "workspace",
            "create",
            "shop",
            "--from-dbt",
            str(SHOP / "models"),
            "--load-csv",
            str(SHOP / "seeds"),
            "--ref-map",
            str(SHOP / "ref_map.yaml"),
        ]
    )
    out = capsys.readouterr().out
    assert "created" in out and "1 row(s) rejected" in out and "Orders.csv:7" in out
    assert "typed: orders.shipped_date" in out
    # Exit 1 means the model has issues (here the validator's subquery gap, see test_dbt_import), 0 when clean.
    assert code in (0, 1)
    config = yaml.safe_load(
        (Path(private_dirs["DATATRUTH_WORKSPACES_DIR"]) / "shop" / "workspace.yaml").read_text()
    )
    assert config["semantic_models"] == ["semantic_models"]


@pytest.mark.corpus
def test_create_from_dbt_on_acme(private_dirs, corpora: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = corpora / "acme_insurance"
    assert (
        main(
            [
                "workspace",
                "create",
                "acme",
                "--from-dbt",
                str(src / "semantic_models"),
                "--load-csv",
                str(src / "data"),
                "--ref-map",
                str(src / "ref_map.yaml"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "loaded 29 table(s)" in out and "0 row(s) rejected" in out and "the model is valid" in out
    assert main(["semantic", "validate", "-w", "acme"]) == 0
    capsys.readouterr()
    assert main(["semantic", "compile", "-w", "acme", "--metric", "total_loss_amount"]) == 0
    assert "loss_payment" in capsys.readouterr().out


@pytest.mark.postgres
def test_create_with_draft_model_on_postgresql(
    private_dirs, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = f"wsdraft_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        conn.execute(sa.text(f"CREATE TABLE {schema}.regions (region_id int PRIMARY KEY, name text)"))
        conn.execute(
            sa.text(
                f"CREATE TABLE {schema}.sales (sale_id int PRIMARY KEY, region_id int REFERENCES "
                f"{schema}.regions, sold_on date, amount numeric(10,2), channel text)"
            )
        )
        conn.execute(sa.text(f"INSERT INTO {schema}.regions VALUES (1, 'West'), (2, 'East')"))
        conn.execute(
            sa.text(
                f"INSERT INTO {schema}.sales SELECT g, 1 + g % 2, DATE '2024-01-01' + g, g, "
                f"CASE WHEN g % 3 = 0 THEN 'web' ELSE 'store' END FROM generate_series(1, 40) g"
            )
        )
    try:
        url = f"{pg_url}?options=-csearch_path%3D{schema}"
        assert main(["workspace", "create", "pgdraft", "--warehouse", url, "--draft-model"]) == 0
        out = capsys.readouterr().out
        assert "drafted" in out and "the model is valid" in out
        folder = Path(private_dirs["DATATRUTH_WORKSPACES_DIR"]) / "pgdraft"
        draft = yaml.safe_load((folder / "semantic_models" / "draft.yaml").read_text())
        assert {m["name"] for m in draft["semantic_models"]} == {"regions", "sales"}
        assert yaml.safe_load((folder / "workspace.yaml").read_text())["semantic_models"] == [
            "semantic_models"
        ]
        assert (
            main(["semantic", "compile", "-w", "pgdraft", "--metric", "total_amount", "--by", "region__name"])
            == 0
        )
        assert "sales" in capsys.readouterr().out
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_load_files(private_dirs, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["workspace", "create", "mine"]) == 0
    csv = tmp_path / "Scores.csv"
    csv.write_text("name,score,zip\nann,1,01234\nbob,two,02345\ncid,3,03456,x\n")
    assert main(["workspace", "load", "mine", str(csv), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would load" in out and "nothing was loaded" in out and "rejected Scores.csv:4" in out
    # Rows were rejected: the good ones load, and the exit code (1) tells a script the load was partial.
    assert main(["workspace", "load", "mine", str(csv), "--type", "scores.score=VARCHAR", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    table = report["tables"][0]
    assert table["table"] == "scores" and table["rows"] == 2 and table["types"]["score"] == "VARCHAR"
    assert [r["line"] for r in table["rejected"]] == [4]
    assert main(["workspace", "load", "mine", str(csv), "--type", "score=INT"]) == 2


def test_load_through_the_installed_script(private_dirs, tmp_path: Path) -> None:
    assert main(["workspace", "create", "mine"]) == 0
    csv = tmp_path / "t.csv"
    csv.write_text("a,b\n1,x\n2,y\n")
    result = subprocess.run(
        [str(SCRIPT), "workspace", "load", "mine", str(csv)],
        capture_output=True,
        text=True,
        env={**os.environ, **private_dirs},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "loaded" in result.stdout and "2 rows" in result.stdout
    assert "%" in result.stderr  # progress goes to stderr
