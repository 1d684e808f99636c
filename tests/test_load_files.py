"""Bring your own files: CSV, Excel, Parquet and JSON into a workspace's DuckDB, with every bad row reported."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from datatruth.errors import UserError
from datatruth.semantic.draft import draft_model
from datatruth.semantic.model import parse_semantic_text
from datatruth.settings import load_settings
from datatruth.workspace.load_files import column_name_for, load_files, table_name_for
from datatruth.workspace.registry import create_workspace, load_config


@pytest.fixture()
def settings(tmp_path: Path):
    s = load_settings(
        {
            "DATATRUTH_DATA_DIR": str(tmp_path / "data"),
            "DATATRUTH_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        }
    )
    create_workspace("mine", settings=s)
    return s


def _db(settings) -> Path:
    return settings.data_dir / "mine" / "warehouse.duckdb"


def _query(settings, sql: str) -> list[tuple]:
    con = duckdb.connect(str(_db(settings)), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture()
def sales_csv(tmp_path: Path) -> Path:
    path = tmp_path / "Sales Data.csv"
    path.write_text(
        "Order ID,Zip,Amount,Sold On\n"
        "1,01234,10.5,2024-01-02\n"
        "2,02345,20.0,2024-01-03\n"
        "3,03456,7.25,2024-01-04,unexpected\n"  # line 4: one field too many
        "4,04567,1.0,2024-01-05\n"
        "5,05678\n"  # line 6: fields missing
        "6,06789,3.5,2024-01-07\n"
    )
    return path


@pytest.mark.parametrize(
    ("raw", "clean"), [("Sales Data", "sales_data"), ("2024-orders", "t_2024_orders"), ("ORDERS", "orders")]
)
def test_table_names(raw: str, clean: str) -> None:
    assert table_name_for(Path(f"{raw}.csv")) == clean


@pytest.mark.parametrize(
    ("raw", "clean"), [("Order ID", "order_id"), ("Sold On", "sold_on"), ("1st", "c_1st")]
)
def test_column_names(raw: str, clean: str) -> None:
    assert column_name_for(raw) == clean


def test_csv_loads_good_rows_and_reports_bad_ones_with_line_numbers(settings, sales_csv: Path) -> None:
    report = load_files("mine", [sales_csv], settings)
    table = report.table("sales_data")
    assert table.rows == 4
    assert sorted(r.line for r in table.rejected) == [4, 6]
    assert all(r.error for r in table.rejected)
    assert report.rejected_count == 2
    assert table.types()["sold_on"] == "DATE"
    assert table.types()["amount"] == "DOUBLE"
    assert _query(settings, "SELECT COUNT(*), SUM(amount) FROM sales_data") == [(4, 35.0)]


def test_dry_run_infers_types_without_loading(settings, sales_csv: Path) -> None:
    report = load_files("mine", [sales_csv], settings, dry_run=True)
    assert report.dry_run
    types = report.table("sales_data").types()
    assert types == {"order_id": "BIGINT", "zip": "VARCHAR", "amount": "DOUBLE", "sold_on": "DATE"}
    assert sorted(r.line for r in report.table("sales_data").rejected) == [4, 6]
    assert not _db(settings).exists() or _query(
        settings, "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'sales_data'"
    ) == [(0,)]


def test_confirmed_types_are_used(settings, sales_csv: Path) -> None:
    report = load_files(
        "mine",
        [sales_csv],
        settings,
        confirm_types={"sales_data": {"amount": "DECIMAL(10,2)", "sold_on": "VARCHAR"}},
    )
    types = report.table("sales_data").types()
    assert types["amount"] == "DECIMAL(10,2)" and types["sold_on"] == "VARCHAR"
    assert _query(settings, "SELECT zip, sold_on FROM sales_data ORDER BY order_id LIMIT 1") == [
        ("01234", "2024-01-02")
    ]


def test_a_type_that_does_not_fit_rejects_rows_with_their_lines(settings, tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    path.write_text("name,score\nann,1\nbob,two\ncid,3\n")
    report = load_files("mine", [path], settings, confirm_types={"scores": {"score": "INTEGER"}})
    table = report.table("scores")
    assert table.rows == 2
    assert [(r.line, r.column) for r in table.rejected] == [(3, "score")]


def test_excel_and_parquet(settings, tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "Region": ["West", "East", "West"],
            "Units": [3, 4, 5],
            "Day": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
        }
    )
    xlsx, parquet = tmp_path / "targets.xlsx", tmp_path / "units.parquet"
    frame.to_excel(xlsx, index=False)
    frame.to_parquet(parquet, index=False)
    report = load_files("mine", [xlsx, parquet], settings)
    assert [t.table for t in report.tables] == ["targets", "units"]
    for name in ("targets", "units"):
        types = report.table(name).types()
        assert (
            types["units"] == "BIGINT"
            and types["region"] == "VARCHAR"
            and types["day"].startswith("TIMESTAMP")
        )
        assert _query(settings, f"SELECT SUM(units) FROM {name} WHERE region = 'West'") == [(8,)]


def test_json_lines_report_bad_lines(settings, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(
        '{"id": 1, "kind": "click"}\n{"id": 2, "kind": \n\n{"id": 3, "kind": "view", "tags": [1]}\n[1]\n'
    )
    table = load_files("mine", [path], settings).table("events")
    assert table.rows == 2
    assert [r.line for r in table.rejected] == [2, 5]
    assert _query(settings, "SELECT tags FROM events WHERE id = 3") == [("[1]",)]


def test_json_array(settings, tmp_path: Path) -> None:
    path = tmp_path / "people.json"
    path.write_text(json.dumps([{"name": "a", "age": 3}, {"name": "b", "age": 5}]))
    assert load_files("mine", [path], settings).table("people").rows == 2


def test_progress_is_reported(settings, sales_csv: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("a\n1\n")
    seen: list[tuple[float, str]] = []
    load_files("mine", [sales_csv, other], settings, progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(seen) == 4
    assert any("sales_data" in m for _, m in seen)


def test_big_files_report_progress_while_reading(
    settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datatruth.workspace import load_files as module

    monkeypatch.setattr(module, "PROGRESS_MIN_BYTES", 1)  # treat this small file as big
    monkeypatch.setattr(module, "_POLL_S", 0.01)
    path = tmp_path / "big.csv"
    path.write_text("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(200_000)))
    seen: list[tuple[float, str]] = []
    report = load_files("mine", [path], settings, progress=lambda f, m: seen.append((f, m)))
    assert report.table("big").rows == 200_000
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(0 <= f <= 1 for f in fractions)


@pytest.mark.parametrize("name", ["notes.docx", "missing.csv"])
def test_unknown_or_missing_files_are_user_errors(settings, tmp_path: Path, name: str) -> None:
    if name.endswith(".docx"):
        (tmp_path / name).write_text("x")
    with pytest.raises(UserError):
        load_files("mine", [tmp_path / name], settings)


def test_size_limit_comes_from_settings(tmp_path: Path, sales_csv: Path) -> None:
    s = load_settings(
        {
            "DATATRUTH_DATA_DIR": str(tmp_path / "d"),
            "DATATRUTH_WORKSPACES_DIR": str(tmp_path / "w"),
            "DATATRUTH_UPLOAD_MAX_MB": "0",
        }
    )
    create_workspace("mine", settings=s)
    with pytest.raises(UserError, match="limit"):
        load_files("mine", [sales_csv], s)


def test_a_non_duckdb_workspace_cannot_take_files(tmp_path: Path, sales_csv: Path) -> None:
    s = load_settings(
        {"DATATRUTH_DATA_DIR": str(tmp_path / "d"), "DATATRUTH_WORKSPACES_DIR": str(tmp_path / "w")}
    )
    create_workspace("pg", warehouse_url="postgresql+psycopg://postgres@127.0.0.1:5432/test", settings=s)
    with pytest.raises(UserError, match="not a DuckDB"):
        load_files("pg", [sales_csv], s)


def test_loaded_files_can_be_drafted_into_a_model(settings, sales_csv: Path) -> None:
    load_files("mine", [sales_csv], settings)
    draft = draft_model(load_config("mine", settings).warehouse_url)
    layer = parse_semantic_text(draft.text)
    model = layer.model("sales_data")
    assert model.defaults.agg_time_dimension == "sold_on"
    assert {m.name for m in model.measures} >= {"total_amount", "avg_amount", "sales_data_count"}


def test_confirming_a_column_that_does_not_exist_is_a_user_error(settings, sales_csv: Path) -> None:
    with pytest.raises(UserError, match="no column"):
        load_files("mine", [sales_csv], settings, confirm_types={"sales_data": {"price": "DOUBLE"}})


def test_app_upload_works_while_the_warehouse_is_open_and_needs_a_role(settings, sales_csv: Path) -> None:
    from datatruth.errors import PermissionDenied
    from datatruth.store import audit, open_store
    from datatruth.store.users import set_membership
    from datatruth.workspace.load_files import load_uploads
    from datatruth.workspace.registry import load_workspace

    store = open_store(settings=settings)
    set_membership(store, "mine", "ana", "analyst", actor="admin")
    set_membership(store, "mine", "vic", "viewer", actor="admin")
    load_files("mine", [sales_csv], settings)
    ws = load_workspace("mine", settings)
    assert "sales_data" in ws.exposed_tables()  # the app holds a read-only connection to the file now
    data = [("orders_2024.csv", b"id,amount\n1,10.5\n2,oops\n3,7\n")]
    with pytest.raises(PermissionDenied):
        load_uploads(ws, data, user="vic", store=store)
    preview = load_uploads(ws, data, user="ana", store=store, dry_run=True)
    assert preview.dry_run and preview.tables[0].types()["amount"] == "VARCHAR"  # "oops" makes it text
    done = load_uploads(
        ws, data, user="ana", store=store, confirm_types={"orders_2024": {"amount": "DOUBLE"}}
    )
    (table,) = done.tables
    assert table.rows == 2 and [r.line for r in table.rejected] == [3]
    assert {"sales_data", "orders_2024"} <= ws.exposed_tables()  # reopened on next use, new table visible
    assert audit.entries(store, "mine", action="data.load")[0].username == "ana"


def test_upload_messages_name_the_uploaded_file_never_the_server_folder(settings, sales_csv: Path) -> None:
    from datatruth.store import open_store
    from datatruth.store.users import set_membership
    from datatruth.workspace.load_files import load_uploads
    from datatruth.workspace.registry import load_workspace

    store = open_store(settings=settings)
    set_membership(store, "mine", "ana", "analyst", actor="admin")
    load_files("mine", [sales_csv], settings)
    ws = load_workspace("mine", settings)
    with pytest.raises(UserError) as caught:
        load_uploads(ws, [("notes.docx", b"not a table")], user="ana", store=store, dry_run=True)
    said = f"{caught.value.message} {caught.value.hint} {caught.value}"
    assert "notes.docx: unknown format '.docx'" in said
    assert str(settings.data_dir) not in said and "upload-" not in said
    report = load_uploads(
        ws,
        [("orders_2024.csv", b"id,amount\n1,10.5\n2,oops\n")],
        user="ana",
        store=store,
        dry_run=True,
        confirm_types={"orders_2024": {"amount": "DOUBLE"}},
    )
    (table,) = report.tables
    assert table.source == "orders_2024.csv" and [r.file for r in table.rejected] == ["orders_2024.csv"]
    assert str(settings.data_dir) not in f"{table.source} {table.rejected[0]} {report.database}"
