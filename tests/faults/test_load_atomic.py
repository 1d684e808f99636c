"""Fault 1: a failed `workspace load` destroyed data. Loads are all or nothing, and say what they did."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from datatruth.cli.main import main
from datatruth.errors import UserError
from datatruth.settings import load_settings
from datatruth.workspace import load_files as loader
from datatruth.workspace.load_files import LoadRefused, load_files
from datatruth.workspace.registry import create_workspace

SCRIPT = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "datatruth"


@pytest.fixture()
def ws(private_dirs: dict[str, str]):
    settings = load_settings()
    create_workspace("mine", settings=settings)
    return settings


def _rows(settings, table: str) -> int:
    con = duckdb.connect(str(settings.data_dir / "mine" / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


def _tables(settings) -> set[str]:
    if not (settings.data_dir / "mine" / "warehouse.duckdb").exists():
        return set()
    con = duckdb.connect(str(settings.data_dir / "mine" / "warehouse.duckdb"), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    finally:
        con.close()


def _mixed(path: Path, rows: int = 30_000) -> Path:
    path.write_text("a,b\n" + "".join(f"x{i},{i}\n" for i in range(rows)))  # column a is text on every row
    return path


def test_a_load_that_rejects_every_row_leaves_the_table_and_exits_non_zero(
    ws, tmp_path: Path, capsys
) -> None:
    mixed = _mixed(tmp_path / "mixed.csv")
    assert main(["workspace", "load", "mine", str(mixed)]) == 0
    assert _rows(ws, "mixed") == 30_000
    capsys.readouterr()
    # The reported fault: every row rejected by --type a=INTEGER replaced the table with an empty one, exit 0.
    assert main(["workspace", "load", "mine", str(mixed), "--type", "mixed.a=INTEGER", "--replace"]) == 2
    err = capsys.readouterr().err
    assert "would have no rows" in err and "nothing was loaded" in err and "--allow-empty" in err
    assert "mixed.csv:2 [a]" in err  # the first rejected row, with its line and column
    assert _rows(ws, "mixed") == 30_000
    assert not [t for t in _tables(ws) if t.startswith("_dt_load_")]  # no staging table left behind


def test_an_empty_table_needs_the_flag(ws, tmp_path: Path) -> None:
    mixed = _mixed(tmp_path / "mixed.csv", rows=10)
    load_files("mine", [mixed], ws)
    report = load_files(
        "mine", [mixed], ws, confirm_types={"mixed": {"a": "INTEGER"}}, replace=True, allow_empty=True
    )
    assert report.table("mixed").rows == 0 and len(report.table("mixed").rejected) == 10
    assert _rows(ws, "mixed") == 0


def test_rejected_rows_load_the_rest_and_exit_one(ws, tmp_path: Path, capsys) -> None:
    path = tmp_path / "scores.csv"
    path.write_text("name,score\nann,1\nbob,two\ncid,3\n")
    assert main(["workspace", "load", "mine", str(path), "--type", "scores.score=INTEGER"]) == 1
    captured = capsys.readouterr()
    assert "rejected scores.csv:3 [score]" in captured.out and "1 row(s) were rejected" in captured.err
    assert _rows(ws, "scores") == 2


def test_a_same_named_file_needs_replace(ws, tmp_path: Path) -> None:
    first = tmp_path / "orders.csv"
    first.write_text("id\n1\n2\n3\n")
    load_files("mine", [first], ws)
    second = tmp_path / "other" / "orders.csv"
    second.parent.mkdir()
    second.write_text("id\n9\n")
    with pytest.raises(LoadRefused, match="already exist") as err:
        load_files("mine", [second], ws)
    assert "--replace" in err.value.hint
    assert _rows(ws, "orders") == 3
    preview = load_files("mine", [second], ws, dry_run=True)
    assert preview.table("orders").replaces  # the dry run says it would replace
    assert load_files("mine", [second], ws, replace=True).table("orders").replaces
    assert _rows(ws, "orders") == 1


def test_several_files_are_swapped_together_or_not_at_all(ws, tmp_path: Path) -> None:
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("id\n1\n2\n")
    bad.write_text("id\n1\n")
    load_files("mine", [good, bad], ws)
    good.write_text("id\n1\n2\n3\n4\n")
    bad.write_text("id\nx\ny\n")
    with pytest.raises(LoadRefused):
        load_files("mine", [good, bad], ws, replace=True, confirm_types={"bad": {"id": "INTEGER"}})
    assert (_rows(ws, "good"), _rows(ws, "bad")) == (2, 1)  # good.csv was fine, but the load is one unit


def test_a_crash_during_the_swap_changes_nothing(ws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id\n1\n2\n")
    load_files("mine", [path], ws)
    path.write_text("id\n5\n")

    def crash(con, staged):  # noqa: ANN001 - the swap's signature
        con.execute("BEGIN TRANSACTION")
        con.execute('DROP TABLE "t"')
        con.execute("ROLLBACK")
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C half-way

    monkeypatch.setattr(loader, "_swap", crash)
    with pytest.raises(KeyboardInterrupt):
        load_files("mine", [path], ws, replace=True)
    assert _rows(ws, "t") == 2
    assert not [t for t in _tables(ws) if t.startswith("_dt_load_")]


def test_kill_9_during_a_load_leaves_the_old_table_or_the_new_one(ws, private_dirs, tmp_path: Path) -> None:
    small = tmp_path / "big.csv"
    small.write_text("id,v\n1,a\n2,b\n")
    load_files("mine", [small], ws)
    big = tmp_path / "new" / "big.csv"
    big.parent.mkdir()
    with open(big, "w") as handle:
        handle.write("id,v\n")
        for start in range(0, 2_000_000, 100_000):
            handle.write("".join(f"{i},value-{i}\n" for i in range(start, start + 100_000)))
    proc = subprocess.Popen(
        [str(SCRIPT), "workspace", "load", "mine", str(big), "--replace"],
        env={**os.environ, **private_dirs},
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()  # "[  0.0%] reading big.csv …": the load has started
    assert "reading big.csv" in line
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert _rows(ws, "big") in (2, 2_000_000)  # never empty, never half
    # The next load drops whatever staging table the killed one left.
    load_files("mine", [small], ws, replace=True)
    assert _rows(ws, "big") == 2 and not [t for t in _tables(ws) if t.startswith("_dt_load_")]


def test_every_sheet_of_a_workbook_becomes_a_table(ws, tmp_path: Path) -> None:
    path = tmp_path / "Plan.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"region": ["West", "East"], "units": [3, 4]}).to_excel(
            writer, sheet_name="Targets", index=False
        )
        pd.DataFrame({"store": [1, 2, 3]}).to_excel(writer, sheet_name="Stores 2024", index=False)
        pd.DataFrame().to_excel(writer, sheet_name="Notes", index=False)
    report = load_files("mine", [path], ws)
    assert [(t.table, t.sheet, t.rows) for t in report.tables] == [
        ("plan_targets", "Targets", 2),
        ("plan_stores_2024", "Stores 2024", 3),
    ]
    assert report.notes == ("sheet 'Notes' of Plan.xlsx is empty and was skipped",)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32", "utf-8-sig", "cp1252"])
def test_text_files_are_read_in_their_encoding(ws, tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes("name,city\nZoë,Köln\nJosé,Málaga\nAnn,Paris\n".encode(encoding))
    table = load_files("mine", [path], ws).table("people")
    assert table.rows == 3 and not table.rejected
    con = duckdb.connect(str(ws.data_dir / "mine" / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT name, city FROM people ORDER BY name").fetchall() == [
            ("Ann", "Paris"),
            ("José", "Málaga"),
            ("Zoë", "Köln"),
        ]
    finally:
        con.close()


def test_utf16_json_lines(ws, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes('{"id": 1, "who": "Zoë"}\n{"id": 2, "who": "Ann"}\n'.encode("utf-16"))
    assert load_files("mine", [path], ws).table("events").rows == 2


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("mixed.a=INTGER", "'INTGER' is not a column type"),
        ("mixed.a=INTEGER); DROP TABLE mixed; --", "is not a column type"),
        ("other.a=INTEGER", "names table 'other', which this load does not create"),
        ("mixed.nope=INTEGER", "has no column nope"),
    ],
)
def test_unknown_types_are_refused_not_ignored(ws, tmp_path: Path, capsys, spec: str, message: str) -> None:
    mixed = _mixed(tmp_path / "mixed.csv", rows=5)
    assert main(["workspace", "load", "mine", str(mixed), "--type", spec]) == 2
    assert message in capsys.readouterr().err
    assert "mixed" not in _tables(ws)


def test_symbolic_links_and_special_files_are_refused(ws, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0\n")
    link = tmp_path / "shadow.csv"
    link.symlink_to(secret)
    with pytest.raises(UserError, match="symbolic link"):
        load_files("mine", [link], ws)
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(UserError, match="not a regular file"):
        load_files("mine", [fifo], ws)


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04garbage"])
def test_garbage_or_empty_workbooks_are_user_errors(ws, tmp_path: Path, capsys, content: bytes) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(content)
    assert main(["workspace", "load", "mine", str(path)]) == 2
    assert "is not a readable Excel workbook" in capsys.readouterr().err


def test_a_workbook_without_data_is_refused(ws, tmp_path: Path) -> None:
    path = tmp_path / "blank.xlsx"
    pd.DataFrame().to_excel(path, index=False)
    with pytest.raises(LoadRefused, match="holds no data"):
        load_files("mine", [path], ws)


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_deeply_nested_json_is_a_clear_error(ws, tmp_path: Path, capsys, suffix: str) -> None:
    path = tmp_path / f"deep{suffix}"
    path.write_text(
        "[" * 100_000 + "]" * 100_000 if suffix == ".json" else '{"a": ' * 100_000 + "1" + "}" * 100_000
    )
    code = main(["workspace", "load", "mine", str(path), "--json"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    if suffix == ".json":
        assert code == 2 and "nests arrays or objects too deeply" in captured.err
    else:  # JSON lines: that line is a rejected row, and nothing else is in the file
        assert code == 2 and "nested too deeply" in captured.err


def test_a_load_through_the_script_reports_json(ws, private_dirs, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a\n1\n")
    result = subprocess.run(
        [str(SCRIPT), "workspace", "load", "mine", str(path), "--json"],
        env={**os.environ, **private_dirs},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["tables"][0]["encoding"] == "utf-8"


def test_a_left_over_staging_table_is_never_exposed_and_goes_at_the_next_load(ws, tmp_path: Path) -> None:
    from datatruth.workspace.registry import load_workspace

    path = tmp_path / "t.csv"
    path.write_text("id\n1\n")
    load_files("mine", [path], ws)
    con = duckdb.connect(str(ws.data_dir / "mine" / "warehouse.duckdb"))
    con.execute("CREATE TABLE _dt_load_deadbeef_0 AS SELECT 42 AS half_loaded")  # what kill -9 can leave
    con.close()
    workspace = load_workspace("mine", ws)
    try:
        assert workspace.exposed_tables() == {"t"}
    finally:
        workspace.close()
    load_files("mine", [path], ws, replace=True)
    assert _tables(ws) == {"t"}
