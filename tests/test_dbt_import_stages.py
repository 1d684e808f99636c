"""dbt import: bad dbt files are refused with file and line, missing columns are reported, and the
conversion stages run without a database or file writes."""

from __future__ import annotations

import builtins
import dataclasses
from pathlib import Path

import duckdb
import pytest

from datatruth.errors import ConfigError
from datatruth.semantic.dbt import (
    check_columns,
    convert,
    fit_to_warehouse,
    import_dbt,
    load_ref_map,
    read_project,
)
from datatruth.semantic.dbt.convert import STAGES, ImportState
from datatruth.semantic.dbt.filters import Catalog

SHOP = Path(__file__).parent / "fixtures" / "dbt" / "shop"

_GOOD = """
semantic_models:
  - name: orders
    model: ref('orders')
    entities: [{name: order, type: primary, expr: order_id}]
    dimensions: [{name: status, type: categorical}]
    measures: [{name: order_total, agg: sum, expr: amount}]
"""


def _issues(err: pytest.ExceptionInfo[ConfigError]) -> list[str]:
    return [str(i) for i in err.value.issues]


# -- bad dbt files ------------------------------------------------------------------------------------------


def test_a_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "good.yml").write_text(_GOOD)
    (tmp_path / "broken.yml").write_text("semantic_models:\n  - name: x\n    model: ref('x'\n  bad: [\n")
    with pytest.raises(ConfigError) as err:
        import_dbt(tmp_path)
    issues = err.value.issues
    assert len(issues) == 1 and issues[0].file.endswith("broken.yml") and issues[0].line is not None
    assert "YAML" in issues[0].message


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            "semantic_models:\n  - name: orders\n    model: ref('orders')\n    entities:\n      - type: primary\n",
            5,
            "an item of 'entities' has no name",
        ),
        (
            "semantic_models:\n  - name: orders\n    model: ref('orders')\n    measures: amount\n",
            4,
            "'measures' must be a list",
        ),
        ("semantic_models:\n  - just a name\n", 2, "an item of 'semantic_models' is not a mapping"),
        (
            "metrics:\n  - name: m\n    type: simple\n    type_params: [order_total]\n",
            4,
            "'type_params' must be a mapping",
        ),
        ("semantic_models: {name: orders}\n", 1, "'semantic_models' must be a list"),
    ],
)
def test_a_schema_error_names_file_and_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    (tmp_path / "bad.yml").write_text(text)
    with pytest.raises(ConfigError) as err:
        import_dbt(tmp_path)
    assert _issues(err) == [f"{tmp_path / 'bad.yml'}:{line}: {words}" + _hint(err)]
    assert "problem(s) in the dbt files" in err.value.message


def _hint(err: pytest.ExceptionInfo[ConfigError]) -> str:
    return f" ({err.value.issues[0].hint})" if err.value.issues[0].hint else ""


def test_every_bad_file_is_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("metrics:\n  - type: simple\n")
    (tmp_path / "b.yml").write_text(
        "semantic_models:\n  - name: x\n    model: ref('x')\n    dimensions:\n"
        "      - {type: categorical}\n      - name: ok\n      - 3\n"
    )
    with pytest.raises(ConfigError) as err:
        import_dbt(tmp_path)
    assert [(Path(i.file).name, i.line) for i in err.value.issues] == [
        ("a.yml", 2),
        ("b.yml", 5),
        ("b.yml", 7),
    ]


# -- columns the loaded tables lack -------------------------------------------------------------------------

_TYPO = """
semantic_models:
  - name: results
    model: ref('results')
    entities:
      - name: result
        type: primary
        expr: result_id
      - name: assessment
        type: foreign
        expr: assessment_sdentifier
    dimensions:
      - name: result_code
        type: categorical
      - name: colour
        type: categorical
"""


def test_a_missing_column_is_reported_not_replaced_by_a_near_one(tmp_path: Path) -> None:
    (tmp_path / "results.yml").write_text(_TYPO)
    imported = import_dbt(tmp_path)
    columns = {
        "results": {c: ("VARCHAR", False) for c in ("result_id", "assessment_identifier", "result_code")}
    }
    checked = check_columns(imported, columns)
    model = checked.files[0].content["semantic_models"][0]
    # The foreign key no model owns became a dimension; its column is missing, so it is left out, not rewired.
    assert [d["name"] for d in model["dimensions"]] == ["result_code"]
    assert all(d.get("expr") != "assessment_identifier" for d in model["dimensions"])
    new = [n for n in checked.notes if n not in imported.notes]
    assert [(Path(n.file).name, n.line) for n in new] == [("results.yml", 15), ("results.yml", 9)]
    colour, typo = new
    assert "column 'assessment_sdentifier'" in typo.message and "left out" in typo.message
    assert "did you mean 'assessment_identifier'" in typo.hint
    assert "did you mean" not in colour.hint  # nothing near 'colour'
    # the import itself is not changed in place
    assert len(imported.files[0].content["semantic_models"][0]["dimensions"]) == 3


def test_fit_to_warehouse_reports_a_missing_column_from_the_loaded_table(tmp_path: Path) -> None:
    (tmp_path / "results.yml").write_text(_TYPO)
    database = tmp_path / "w.duckdb"
    con = duckdb.connect(str(database))
    con.execute(
        "CREATE TABLE results AS SELECT 1 AS result_id, 2 AS assessment_identifier, 'A' AS result_code, "
        "'red' AS colour"
    ).fetchall()
    con.close()
    fitted, changes = fit_to_warehouse(import_dbt(tmp_path), database)
    dims = fitted.files[0].content["semantic_models"][0]["dimensions"]
    assert [d["name"] for d in dims] == ["result_code", "colour"]
    assert all(list(d) == sorted(d) for d in dims)  # keys in alphabetical order, as workspace files have them
    assert any("assessment_sdentifier" in str(n) and "results.yml:9" in str(n) for n in fitted.notes)
    assert not any("assessment" in c for c in changes)


# -- the stages need no database and write nothing ----------------------------------------------------------


def _refuse(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("the conversion stages must not open a database or write a file")


def test_conversion_stages_run_without_database_or_file_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = import_dbt(SHOP / "models", SHOP / "ref_map.yaml")
    project = read_project(SHOP / "models")  # reading happens before the stages
    refs = load_ref_map(SHOP / "ref_map.yaml")
    real_open = builtins.open

    def read_only_open(file: object, mode: str = "r", *args: object, **kwargs: object) -> object:
        if any(flag in mode for flag in "wax+"):
            _refuse()
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", _refuse)
    monkeypatch.setattr(builtins, "open", read_only_open)
    monkeypatch.setattr(Path, "write_text", _refuse)
    monkeypatch.setattr(Path, "mkdir", _refuse)
    result = convert(project, refs)
    assert result.as_texts() == expected.as_texts()
    assert [str(n) for n in result.notes] == [str(n) for n in expected.notes]


def test_each_stage_takes_and_returns_frozen_state() -> None:
    state = ImportState(read_project(SHOP / "models"), load_ref_map(SHOP / "ref_map.yaml"), Catalog())
    names = []
    for stage in STAGES:
        state = stage(state)
        assert isinstance(state, ImportState)
        names.append(stage.__name__)
    assert names == [
        "parse_items",
        "convert_models",
        "convert_metrics",
        "add_implied_metrics",
        "finish_composites",
        "keep_dangling_keys",
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.notes = ()  # type: ignore[misc]


# -- the first stage: dbt-semantic-interfaces objects -------------------------------------------------------


def test_first_stage_gives_dsi_objects_with_the_resolved_ref_and_their_lines() -> None:
    from dbt_semantic_interfaces.implementations.metric import PydanticMetric
    from dbt_semantic_interfaces.implementations.semantic_model import PydanticSemanticModel

    state = STAGES[0](
        ImportState(read_project(SHOP / "models"), load_ref_map(SHOP / "ref_map.yaml"), Catalog())
    )
    models = {m.model.name: m for m in state.dbt_models if m.model is not None}
    assert all(isinstance(m.model, PydanticSemanticModel) for m in models.values())
    assert all(isinstance(m.metric, PydanticMetric) for m in state.dbt_metrics if m.metric is not None)
    orders = models["orders"]
    assert orders.model is not None
    relation = orders.model.node_relation
    assert (relation.alias, relation.schema_name, relation.relation_name) == ("orders", "main", "orders")
    assert Path(orders.source.path).name == "orders.yml" and orders.source.line() is not None
    # a measure whose aggregation DSI does not know is kept beside the model, to be noted by the conversion
    assert [(m.name, m.measure is None) for m in orders.measures if m.agg == "mystery"] == [
        ("unique_amounts", True)
    ]


def test_an_item_dsi_cannot_read_is_noted_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "orders.yml").write_text(
        _GOOD
        + "metrics:\n  - name: weekly_total\n    type: cumulative\n"
        + "    type_params: {measure: order_total, window: weekly}\n"
    )
    result = import_dbt(tmp_path)
    assert "weekly_total" not in result.metric_names()
    [note] = [n for n in result.notes if "weekly_total" in n.message]
    assert (Path(note.file).name, note.line) == ("orders.yml", 9)
    assert note.message.startswith(
        "metric skipped: metric 'weekly_total': dbt-semantic-interfaces cannot read it"
    )
    assert "Invalid window (weekly)" in note.message
