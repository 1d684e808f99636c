"""Saving a metric from the editor changes only the lines of what changed (issue 19, finding 12)."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from datatruth.semantic import versions
from datatruth.semantic.yaml_roundtrip import REMOVE, load, set_entry_fields
from datatruth.settings import load_settings
from datatruth.workspace.load_files import load_files
from datatruth.workspace.registry import create_workspace

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "semantic_models" / "retail" / "metrics.yaml"


def _changed(before: str, after: str) -> list[str]:
    """The removed and added lines of a diff (without the file headers)."""
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_one_new_synonym_is_a_one_line_diff() -> None:
    text = SHIPPED.read_text()
    metric = load(text)["metrics"][0]
    synonyms = [*metric["synonyms"], "top line"]
    changed = versions.edit_metric(
        {"metrics.yaml": text},
        "revenue",
        description=metric["description"],
        synonyms=synonyms,
        format=metric["format"],
    )["metrics.yaml"]
    assert _changed(text, changed) == [
        "-    synonyms: [sales, net sales, net revenue, turnover, income, takings]",
        "+    synonyms: [sales, net sales, net revenue, turnover, income, takings, top line]",
    ]
    assert changed.splitlines()[0].startswith("# Business metrics")  # the header comment stays


def test_every_metric_of_every_shipped_file_round_trips_unchanged() -> None:
    for path in sorted((REPO / "semantic_models").rglob("*.yaml")):
        text = path.read_text()
        data = load(text)
        for metric in (data.get("metrics") or []) if data else []:
            same = versions.edit_metric(
                {path.name: text},
                metric["name"],
                description=metric.get("description", ""),
                synonyms=list(metric.get("synonyms") or []),
                format=metric.get("format", "number"),
            )
            assert same[path.name] == text, f"{path.name}: saving {metric['name']} unchanged rewrote the file"


def test_description_format_and_removal_touch_only_their_lines() -> None:
    text = SHIPPED.read_text()
    changed = set_entry_fields(
        text,
        "metrics",
        "gross_margin_pct",
        {"description": "Margin: gross margin over revenue", "label": REMOVE, "format": "number"},
    )
    assert changed is not None
    assert _changed(text, changed) == [
        "-    label: Gross margin %",
        "-    description: Gross margin as a share of revenue.",
        "+    description: 'Margin: gross margin over revenue'",
        "-    format: percent",
        "+    format: number",
    ]
    assert load(changed)["metrics"][4]["description"] == "Margin: gross margin over revenue"


def test_comments_inside_an_entry_and_flow_entries_survive() -> None:
    text = (
        "# header\nmetrics:\n  - name: a\n    type: simple\n    # why a exists\n    measure: m\n"
        '    synonyms: [x]\n\n  # b is the odd one\n  - {name: b, type: simple, measure: "m"}  # inline\n'
        "verified_questions: []\n"
    )
    added = set_entry_fields(text, "metrics", "a", {"synonyms": ["x", "y"], "description": "A"})
    assert _changed(text, added) == ["-    synonyms: [x]", "+    synonyms: [x, y]", "+    description: A"]
    assert "    # why a exists\n" in added and "  # b is the odd one\n" in added
    flow = set_entry_fields(text, "metrics", "b", {"synonyms": ["z"]})
    assert _changed(text, flow)[1] == '+  - {name: b, type: simple, measure: "m", synonyms: [z]}'
    assert set_entry_fields(text, "metrics", "nope", {"synonyms": ["z"]}) is None
    assert set_entry_fields(text, "metrics", "a", {"synonyms": ["x"]}) == text  # nothing to change


@pytest.fixture()
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    values = {
        "DATATRUTH_DATA_DIR": str(tmp_path / "data"),
        "DATATRUTH_WORKSPACES_DIR": str(tmp_path / "ws"),
        "DATATRUTH_DEFAULT_WORKSPACE": "roundtrip",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(REPO)
    settings = load_settings(values)
    folder = settings.workspaces_dir / "roundtrip" / "models"
    folder.mkdir(parents=True)
    model = folder / "shop.yaml"
    model.write_text(
        "# Shop model: one table of orders. Keep this header.\n"
        "semantic_models:\n  - name: orders\n    table: orders\n    defaults: {agg_time_dimension: order_date}\n"
        "    entities:\n      - {name: order, type: primary, expr: order_id}\n"
        "    dimensions:\n      - {name: order_date, type: time}\n"
        "    measures:\n      - {name: order_total, agg: sum, expr: amount}\n"
        "metrics:\n  # money first\n  - name: revenue\n    type: simple\n    measure: order_total\n"
        '    description: "Money in"\n    synonyms: [sales]\n    format: currency\n'
    )
    create_workspace("roundtrip", semantic_models=["models"], settings=settings)
    csv = tmp_path / "orders.csv"
    csv.write_text("order_id,order_date,amount\n1,2024-01-03,10\n2,2024-02-01,5\n")
    load_files("roundtrip", [csv], settings)
    return model


def test_form_save_in_the_page_changes_one_line(workspace: Path) -> None:
    before = workspace.read_text()
    at = AppTest.from_file(str(REPO / "pages" / "semantic_layer.py"), default_timeout=60).run()
    assert not at.exception
    at.selectbox(key="sem-form-metric").set_value("revenue").run()
    at.text_input(key="sem-syn-revenue").input("sales, turnover")
    at.text_input(key="sem-form-message").input("one more synonym")
    at.button[0].click().run()
    assert not at.exception
    assert any("Saved as version" in s.value for s in at.success)
    after = workspace.read_text()
    assert _changed(before, after) == ["-    synonyms: [sales]", "+    synonyms: [sales, turnover]"]
