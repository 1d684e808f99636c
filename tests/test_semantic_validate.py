"""Semantic validation: each rule has a bad model fixture, and every issue of a file is reported at once, located."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from datatruth.errors import ConfigError
from datatruth.semantic.model import load_semantic_model
from datatruth.semantic.validate import activate, validate, validate_workspace
from datatruth.settings import load_settings
from datatruth.workspace.registry import load_workspace

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "semantic"
SCHEMA = {
    "orders": {
        "order_id": "INTEGER",
        "customer_id": "INTEGER",
        "order_date": "DATE",
        "channel": "VARCHAR",
        "amount": "DECIMAL(10,2)",
    },
    "customers": {"customer_id": "INTEGER", "region": "VARCHAR"},
}

# fixture → every (line, message fragment) validation must report, and nothing else
EXPECTED: dict[str, list[tuple[int, str]]] = {
    "bad_unknown_column.yaml": [
        (8, "column 'colour' does not exist in orders"),
        (9, "is a time dimension but column 'channel' is VARCHAR"),
        (11, "column 'qty' does not exist"),
        (12, "column 'amont' does not exist"),
        (14, "table 'ghost_table' is not in the warehouse"),
        (20, "expression does not parse"),
    ],
    "bad_duplicates.yaml": [
        (12, "duplicate semantic model 'orders'"),
        (20, "duplicate metric 'total'"),
        (17, "duplicate measure 'total'"),
        (9, "duplicate dimension (qualified name) 'order__channel'"),
        (6, "duplicate entity in model 'orders' 'order'"),
        (21, "uses measure 'no_such_measure', which does not exist"),
    ],
    "bad_cycle.yaml": [
        (13, "metric cycle: a → b → a"),
        (15, "metric cycle: self_ref → self_ref"),
        (16, "expr uses 'other', which is not one of its inputs"),
    ],
    "bad_ambiguous_join.yaml": [
        (5, "ambiguous join path from 'lines' to 'customers'"),
        (31, "entity 'pair' has 1 key expression(s) here but 2"),
    ],
    "bad_time.yaml": [
        (21, "'region' is a categorical dimension, not a time dimension"),
        (25, "ratio 'total_per_budget': numerator on 'orders' and denominator on 'budget' share no entity"),
        (26, "cumulative metric 'budget_to_date' has no time dimension"),
        (27, "time dimension 'shipped_date' does not exist"),
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_rule_reports_every_issue_with_its_line(name: str) -> None:
    path = FIXTURES / name
    issues = validate(load_semantic_model([path]), SCHEMA)
    expected = EXPECTED[name]
    assert len(issues) == len(expected), "\n".join(str(i) for i in issues)
    for line, fragment in expected:
        hits = [i for i in issues if fragment in i.message]
        assert hits, f"no issue mentions {fragment!r}:\n" + "\n".join(str(i) for i in issues)
        assert hits[0].line == line and hits[0].file == str(path), str(hits[0])


def test_a_crashing_rule_is_an_issue_and_the_other_rules_still_run(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from datatruth.semantic import validate as validation

    def broken(_layer: object, _schema: object) -> list:
        raise KeyError("no such thing")

    rules = list(validation.RULES)
    rules.insert(1, ("broken rule", broken))  # between 'duplicates' and the rules after it
    monkeypatch.setattr(validation, "RULES", tuple(rules))
    path = FIXTURES / "bad_duplicates.yaml"
    issues = validate(load_semantic_model([path]), SCHEMA)
    crashed = [i for i in issues if "validation rule 'broken rule' crashed" in i.message]
    assert len(crashed) == 1 and "KeyError" in crashed[0].message and crashed[0].file == str(path)
    assert "bug in DataTruth" in crashed[0].hint
    # every issue the rules found without the broken one is still reported, before and after it
    assert len(issues) == len(EXPECTED["bad_duplicates.yaml"]) + 1
    for _line, fragment in EXPECTED["bad_duplicates.yaml"]:
        assert any(fragment in i.message for i in issues), fragment
    assert "validation rule 'broken rule' crashed" in caplog.text  # with its traceback, for whoever fixes it


def test_a_crash_alone_is_an_issue_so_the_model_is_not_activated(monkeypatch: pytest.MonkeyPatch) -> None:
    from datatruth.semantic import validate as validation

    def broken(_layer: object, _schema: object) -> list:
        raise RuntimeError("boom")

    monkeypatch.setattr(validation, "RULES", (("broken rule", broken),))
    issues = validate(load_semantic_model([FIXTURES / "bad_duplicates.yaml"]), SCHEMA)
    assert [i.message.split(" (")[0] for i in issues] == ["validation rule 'broken rule' crashed"]


def test_structural_problems_are_all_raised_at_load() -> None:
    path = FIXTURES / "bad_structure.yaml"
    with pytest.raises(ConfigError) as info:
        load_semantic_model([path])
    found = {(i.line, i.message.split(",")[0]) for i in info.value.issues}
    for line, fragment in [
        (4, "unknown key 'colour'"),
        (6, "'type' must be one of primary"),
        (8, "'time_granularity' must be one of hour"),
        (9, "missing required key 'name'"),
        (11, "'agg' must be one of sum"),
        (12, "a percentile measure needs 'percentile'"),
        (14, "a simple metric needs 'measure'"),
        (15, "a ratio metric needs 'denominator'"),
        (16, "name 'Bad-Name' must be lower_snake_case"),
        (17, "window 'forever'"),
        (21, "'synonyms' must be a list of texts"),
        (23, "exactly one of 'plan' or 'sql'"),
        (24, "unknown key 'extra_top'"),
    ]:
        assert any(line == got_line and fragment in msg for got_line, msg in found), (line, fragment, found)
    assert len(info.value.issues) == 13
    assert all(i.file == str(path) for i in info.value.issues)


def test_issues_from_several_files_are_collected(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("semantic_models:\n  - name: x\n    tabel: t\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text(
        "metrics:\n  - {name: m, type: simple}\n  - {name: n, type: weird}\n", encoding="utf-8"
    )
    (tmp_path / "c.yaml").write_text("metrics: [\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_semantic_model([tmp_path])
    files = {Path(i.file).name for i in info.value.issues}
    assert files == {"a.yaml", "b.yaml", "c.yaml"}
    assert any("did you mean 'table'" in i.hint for i in info.value.issues)


def test_missing_paths_are_issues(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_semantic_model([tmp_path / "nope.yaml", tmp_path])
    assert {i.message for i in info.value.issues} == {
        "semantic model path does not exist",
        "folder holds no *.yaml semantic model files",
    }


def test_shop_fixture_is_clean() -> None:
    schema = {
        "customers": {"customer_id": "INTEGER", "region": "VARCHAR", "signup_date": "DATE"},
        "products": {"product_id": "INTEGER", "category": "VARCHAR"},
        "orders": {
            "order_id": "INTEGER",
            "customer_id": "INTEGER",
            "order_date": "DATE",
            "ordered_at": "TIMESTAMP",
            "channel": "VARCHAR",
            "shipping": "DECIMAL(10,2)",
        },
        "order_items": {
            "item_id": "INTEGER",
            "order_id": "INTEGER",
            "product_id": "INTEGER",
            "quantity": "INTEGER",
            "amount": "DECIMAL(10,2)",
        },
        "ads": {"ad_id": "INTEGER", "month": "DATE", "spend": "DECIMAL(10,2)"},
    }
    layer = load_semantic_model([FIXTURES / "shop.yaml"])
    assert validate(layer, schema) == []
    # without a schema only the model's own consistency is checked
    assert validate(layer) == []
    broken = {k: v for k, v in schema.items() if k != "ads"}
    assert [i.message for i in validate(layer, broken)] == [
        "model 'ads': table 'ads' is not in the warehouse"
    ]


def test_verified_plans_must_compile() -> None:
    layer_text = (
        (FIXTURES / "shop.yaml").read_text(encoding="utf-8")
        + """
verified_questions:
  - question: shipping by product category
    plan: {metrics: [shipping], dimensions: [product__category]}
  - question: sales by region
    plan: {metrics: [sales], dimensions: [customer__region]}
"""
    )
    from datatruth.semantic.model import parse_semantic_text

    issues = validate(parse_semantic_text(layer_text, "shop_q.yaml"))
    assert len(issues) == 1 and "shipping by product category" in issues[0].message
    assert "one-to-many" in issues[0].message and issues[0].file == "shop_q.yaml"


def test_verified_question_fields_are_checked_and_round_trip() -> None:
    from datatruth.errors import ConfigError
    from datatruth.semantic.model import parse_semantic_text

    base = (FIXTURES / "shop.yaml").read_text(encoding="utf-8")
    good = (
        base
        + """
verified_questions:
  - question: sales by region
    plan: {metrics: [sales], dimensions: [{name: customer__region}]}
    verified_by: ana
    verified_at: 2026-11-02
    onboarding: true
  - question: orders as SQL
    sql: SELECT COUNT(*) FROM orders
    onboarding: true
"""
    )
    layer = parse_semantic_text(good, "shop_v.yaml")
    first = layer.verified_questions[0]
    assert (first.verified_by, first.verified_at.isoformat(), first.onboarding) == ("ana", "2026-11-02", True)
    assert first.credit == "by ana, 2026-11-02"
    again = parse_semantic_text(yaml.safe_dump(layer.to_dict(), sort_keys=False), "again.yaml")
    assert again.verified_questions == layer.verified_questions and again.version_hash == layer.version_hash
    [issue] = validate(layer)
    assert "onboarding question 'orders as SQL' needs a plan" in issue.message and issue.file == "shop_v.yaml"
    with pytest.raises(ConfigError) as err:
        parse_semantic_text(
            base
            + """
verified_questions:
  - {question: q, plan: {metrics: [sales]}, verified_at: last tuesday, onboarding: maybe, verifed_by: x}
""",
            "bad.yaml",
        )
    messages = " | ".join(i.message for i in err.value.issues)
    assert "'verified_at' must be a date" in messages and "'onboarding' must be true or false" in messages
    assert "unknown key 'verifed_by'" in messages


def _workspace(tmp_path: Path, model: Path) -> object:
    """A throwaway workspace over a tiny DuckDB warehouse with the validation fixture's tables."""
    wdir = tmp_path / "workspaces" / "semtest"
    wdir.mkdir(parents=True)
    db = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(db))
    con.execute(
        "CREATE TABLE orders (order_id INTEGER, customer_id INTEGER, order_date DATE, channel VARCHAR, "
        "amount DECIMAL(10,2))"
    )
    con.execute("CREATE TABLE customers (customer_id INTEGER, region VARCHAR)")
    con.close()
    (wdir / "workspace.yaml").write_text(
        f"title: sem test\nwarehouse:\n  url: duckdb:///{db}\nsemantic_models:\n  - {model}\n"
        "members:\n  - {user: local, role: admin}\n",
        encoding="utf-8",
    )
    settings = load_settings(
        {
            "DATATRUTH_DATA_DIR": str(tmp_path / "data"),
            "DATATRUTH_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        }
    )
    return load_workspace("semtest", settings)


def test_a_model_with_issues_is_never_activated(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, FIXTURES / "bad_unknown_column.yaml")
    issues = validate_workspace(ws)
    assert len(issues) == len(EXPECTED["bad_unknown_column.yaml"])
    with pytest.raises(ConfigError) as info:
        activate(ws)
    assert len(info.value.issues) == len(issues)
    assert "was not activated" in info.value.message


def test_structural_errors_reach_validate_workspace(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, FIXTURES / "bad_structure.yaml")
    assert len(validate_workspace(ws)) == 13


_SUBQUERY_LAYER = """
semantic_models:
  - name: orders
    table: orders
    entities: [{name: order, type: primary, expr: order_id}]
    measures: [{name: revenue, agg: sum, expr: amount}]
metrics:
  - name: filtered_revenue
    type: simple
    measure: revenue
    filter: "{filter}"
"""


@pytest.mark.parametrize(
    ("condition", "problem"),
    [
        ("customer_id IN (SELECT c.customer_id FROM customers AS c WHERE c.region = 'West')", None),
        ("customer_id IN (SELECT customer_id FROM customers WHERE region = 'West')", None),
        (
            "customer_id IN (SELECT c.customer_id FROM customers AS c WHERE c.colour = 'red')",
            "column 'colour' does not exist in customers",
        ),
        (
            "customer_id IN (SELECT customer_id FROM customers WHERE amount > 3)",
            None,
        ),  # correlated: orders.amount
        ("customer_id IN (SELECT c.customer_id FROM clients AS c)", "table 'clients' does not exist"),
        (
            "colour = 'red' AND customer_id IN (SELECT customer_id FROM customers)",
            "column 'colour' does not exist in orders",
        ),
    ],
)
def test_filter_subqueries_are_checked_against_their_own_tables(condition: str, problem: str | None) -> None:
    from datatruth.semantic.model import parse_semantic_text

    layer = parse_semantic_text(_SUBQUERY_LAYER.replace("{filter}", condition), "subq.yaml")
    messages = [i.message for i in validate(layer, SCHEMA)]
    if problem is None:
        assert messages == []
    else:
        assert len(messages) == 1 and problem in messages[0], messages
