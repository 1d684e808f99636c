"""The Jupyter face: magics driven through a real IPython shell, and the shipped notebooks executed by a kernel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "datatruth"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("nbdata")
    subprocess.run(
        [str(SCRIPT), "demo", "build"],
        check=True,
        capture_output=True,
        timeout=300,
        env={**os.environ, "DATATRUTH_DATA_DIR": str(path)},
    )
    return path


@pytest.fixture
def shell(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> InteractiveShell:
    monkeypatch.setenv("DATATRUTH_DATA_DIR", str(data_dir))
    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "datatruth")
    return ip


def cli_answer(question: str, workspace: str, data_dir: Path) -> dict:
    out = subprocess.run(
        [str(SCRIPT), "ask", "--workspace", workspace, "--json", question],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DATATRUTH_DATA_DIR": str(data_dir)},
    )
    return json.loads(out.stdout)


@pytest.mark.parametrize(
    "workspace,question",
    [
        ("retail", "revenue by month last year"),
        ("flights", "top 5 airlines by on-time rate"),
    ],
)
def test_cell_magic_matches_cli(
    shell: InteractiveShell, data_dir: Path, workspace: str, question: str
) -> None:
    with capture_output() as captured:
        frame = shell.run_cell_magic("ask", f"-w {workspace} -o result", question)
    assert isinstance(frame, pd.DataFrame) and shell.user_ns["result"] is frame
    expected = cli_answer(question, workspace, data_dir)
    assert list(frame.columns) == expected["columns"]
    got = json.loads(frame.to_json(orient="values", date_format="iso"))
    assert len(got) == expected["row_count"]
    for mine, theirs in zip(got, expected["rows"], strict=True):
        for a, b in zip(mine, theirs, strict=True):
            if isinstance(b, float):
                assert a == pytest.approx(b)
            elif isinstance(b, str) and isinstance(a, str):
                assert a.startswith(b)
            else:
                assert a == b
    # The display carried the explanation and an expandable SQL block.
    html = "".join(str(o.data.get("text/html", "")) for o in captured.outputs)
    assert "<details><summary>SQL</summary>" in html and question in html


def test_follow_up_keeps_context(shell: InteractiveShell) -> None:
    with capture_output():
        shell.run_cell_magic("ask", "-w retail", "revenue by month last year")
        frame = shell.run_cell_magic("ask", "-w retail --no-chart", "now by channel")
    # "now by channel" swaps the breakdown and keeps the metric and the time range.
    assert any("channel" in c for c in frame.columns) and "revenue" in frame.columns and len(frame) == 2


def test_line_magic_and_sql_magic(shell: InteractiveShell) -> None:
    with capture_output() as captured:
        frame = shell.run_line_magic("ask", "-w flights --no-chart flights by origin")
    assert len(frame) == 3
    shown = " ".join(str(o.data) for o in captured.outputs)
    assert "Read as: Flights by origin airport" in shown  # the reading is printed with the answer
    with capture_output():
        sql_frame = shell.run_cell_magic(
            "dt_sql", "-w flights -o x", "SELECT origin, count(*) AS n FROM flights GROUP BY origin"
        )
    assert sorted(sql_frame["n"]) == sorted(frame["flights"])


def test_user_mistakes_are_usage_errors(shell: InteractiveShell) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        shell.run_line_magic("dt_workspace", "nowhere")
    with pytest.raises(UsageError):
        shell.run_cell_magic("dt_sql", "-w retail", "DROP TABLE orders")
    with pytest.raises(UsageError, match="question"):
        shell.run_cell_magic("ask", "", "   ")


def test_unanswerable_question_offers_buttons(shell: InteractiveShell) -> None:
    with capture_output() as captured:
        result = shell.run_cell_magic("ask", "-w retail", "revnue by favourite colour")
    assert result is None
    kinds = [o.data for o in captured.outputs]
    assert any("application/vnd.jupyter.widget-view+json" in d for d in kinds)  # the choices, as buttons
    assert any("I understood: Revenue" in str(d) for d in kinds)


def test_viewer_cannot_run_sql(shell: InteractiveShell) -> None:
    shell.run_line_magic("dt_login", "vic")
    with pytest.raises(UsageError, match="may not"):
        shell.run_cell_magic("dt_sql", "-w retail", "SELECT 1")


def test_reports(shell: InteractiveShell, corpora: Path) -> None:
    with capture_output():
        profile = shell.run_line_magic("dt_quality", "customers -w retail")
        classes = shell.run_line_magic(
            "dt_slowlog", f"{corpora / 'percona' / 'slowlogs' / 'slow002.txt'} --limit 3"
        )
        incidents = shell.run_line_magic("dt_incidents", "-w retail")
    assert "email" in set(profile["column"])
    assert profile.set_index("column").loc["email", "nulls %"] > 0
    assert len(classes) == 3 and list(classes["rank"]) == [1, 2, 3]
    assert isinstance(incidents, pd.DataFrame)


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb")))
def test_notebook_executes(
    name: str, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = nbformat.read(REPO / "notebooks" / name, as_version=4)
    assert all(not cell.get("outputs") for cell in book.cells if cell.cell_type == "code"), (
        "commit without outputs"
    )
    # Each notebook gets its own store so incidents from one run don't leak into another.
    monkeypatch.setenv("DATATRUTH_DATA_DIR", str(data_dir))
    monkeypatch.setenv("DATATRUTH_STORE_URL", f"sqlite:///{tmp_path / 'meta.sqlite'}")
    client = NotebookClient(
        book, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(REPO / "notebooks")}}
    )
    client.execute()
    errors = [o for cell in book.cells for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    # Exported to HTML (nbconvert), where plotly.js does not run, every chart still shows: as its PNG.
    from nbconvert import HTMLExporter

    charts = [
        o
        for cell in book.cells
        for o in cell.get("outputs", [])
        if "application/vnd.plotly.v1+json" in o.get("data", {})
    ]
    assert all("image/png" in o["data"] for o in charts)
    page, _ = HTMLExporter().from_notebook_node(book)
    assert page.count("data:image/png;base64,") >= len(charts)
    if name.startswith("01_"):
        assert charts, "the getting-started notebook draws charts"
