"""dbt MetricFlow import: conversion details on a small fixture project, and the ACME insurance corpus end to end."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from datatruth.errors import UserError
from datatruth.semantic.compiler import compile_plan
from datatruth.semantic.dbt_import import (
    build_from_dbt,
    create_from_dbt,
    import_dbt,
    load_ref_map,
    split_roles,
)
from datatruth.semantic.model import load_semantic_model, parse_semantic_text
from datatruth.semantic.plan import DimensionRef, QueryPlan
from datatruth.semantic.validate import validate_workspace
from datatruth.settings import load_settings
from datatruth.sql.guard import guard_sql
from datatruth.workspace.registry import load_workspace

SHOP = Path(__file__).parent / "fixtures" / "dbt" / "shop"


@pytest.fixture()
def settings(tmp_path: Path):
    return load_settings(
        {
            "DATATRUTH_DATA_DIR": str(tmp_path / "data"),
            "DATATRUTH_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        }
    )


@pytest.fixture(scope="module")
def shop_import():
    return import_dbt(SHOP / "models", SHOP / "ref_map.yaml")


def _metric(result, name: str) -> dict:
    return next(m for f in result.files for m in f.content.get("metrics", []) if m["name"] == name)


def _model(result, name: str) -> dict:
    return next(m for f in result.files for m in f.content.get("semantic_models", []) if m["name"] == name)


def _run(ws, layer, metric: str, dims: tuple = ()) -> pd.DataFrame:
    compiled = compile_plan(QueryPlan(metrics=(metric,), dimensions=dims), layer, ws.warehouse.dialect)
    safe = guard_sql(compiled.sql, compiled.dialect, ws.exposed_tables(), row_cap=10_000)
    return ws.warehouse.run(safe, row_cap=10_000).frame


# -- conversion ------------------------------------------------------------------------------------------------


def test_refs_resolve_through_the_ref_map(shop_import) -> None:
    assert _model(shop_import, "customers")["table"] == "customers"  # ref('dim_customers') mapped
    assert _model(shop_import, "orders")["table"] == "orders"  # unmapped ref keeps its name
    assert shop_import.tables == ("customers", "orders", "refunds")


def test_ref_map_accepts_mapping_and_file(tmp_path: Path) -> None:
    assert load_ref_map({"a": "B"}) == {"a": "B"}
    assert load_ref_map(SHOP / "ref_map.yaml") == {"dim_customers": "customers"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(UserError):
        load_ref_map(bad)


@pytest.mark.parametrize(
    ("measure", "agg", "expr"),
    [
        ("order_total", "sum", "amount"),
        ("avg_amount", "avg", "amount"),  # dbt 'average'
        ("order_count", "count", "order_id"),
        ("paid_order_count", "sum", "CASE WHEN status = 'paid' THEN 1 ELSE 0 END"),  # dbt 'sum_boolean'
    ],
)
def test_measures_convert(shop_import, measure: str, agg: str, expr: str) -> None:
    found = next(m for m in _model(shop_import, "orders")["measures"] if m["name"] == measure)
    assert found["agg"] == agg
    assert found["expr"] == expr


def test_create_metric_measures_become_simple_metrics(shop_import) -> None:
    names = shop_import.metric_names()
    for measure in ("order_total", "avg_amount", "paid_order_count", "customer_count"):
        assert _metric(shop_import, measure) == {"name": measure, "type": "simple", "measure": measure}
    assert "order_count" not in names  # no create_metric on it, and orders_placed already reads it


def test_every_measure_is_queryable_through_an_unfiltered_metric(shop_import) -> None:
    metrics = [m for f in shop_import.files for m in f.content.get("metrics", [])]
    plain = {m["measure"] for m in metrics if m["type"] == "simple" and not m.get("filter")}
    measures = {
        me["name"]
        for f in shop_import.files
        for mo in f.content.get("semantic_models", [])
        for me in mo.get("measures", [])
    }
    assert measures <= plain


def test_a_subset_model_implies_filtered_metrics_unless_dbt_defines_them(shop_import) -> None:
    # refunds shares orders' primary entity and only carries the flag is_refunded: "1"
    subset = "order_id IN (SELECT dt_f.order_id FROM refunds AS dt_f WHERE 1 = 1)"
    assert _metric(shop_import, "refunded_revenue")["filter"] == subset  # dbt's own metric
    names = shop_import.metric_names()
    assert "refunds_order_total" not in names  # the same measure and filter as refunded_revenue
    for measure in ("order_count", "avg_amount", "paid_order_count"):
        metric = _metric(shop_import, f"refunds_{measure}")
        assert (metric["measure"], metric["filter"]) == (measure, subset)
    assert not any(n.startswith("customers_") for n in names)  # no flag, no subset


_SUBSET_PROJECT = """
semantic_models:
  - name: amounts
    model: ref('amounts')
    entities: [{name: amount, type: primary, expr: amount_id}]
    measures: [{name: total_amount, agg: sum, expr: value}]
  - name: premium
    model: ref('premium')
    entities: [{name: amount, type: primary, expr: amount_id}]
    dimensions: [{name: has_premium, type: categorical, expr: "1"}]
  - name: fire
    model: ref('fire')
    entities: [{name: fire, type: primary, expr: fire_id}]
    measures: [{name: premium, agg: sum, expr: premium}]
"""


def test_subset_metric_takes_the_model_name_and_a_clashing_measure_is_prefixed(tmp_path: Path) -> None:
    (tmp_path / "m.yml").write_text(_SUBSET_PROJECT)
    result = import_dbt(tmp_path)
    premium = _metric(result, "premium")
    assert premium["measure"] == "total_amount" and premium["label"] == "Premium"
    assert premium["filter"] == "amount_id IN (SELECT dt_f.amount_id FROM premium AS dt_f WHERE 1 = 1)"
    assert _metric(result, "fire_premium") == {"name": "fire_premium", "type": "simple", "measure": "premium"}
    assert _metric(result, "total_amount") == {
        "name": "total_amount",
        "type": "simple",
        "measure": "total_amount",
    }


def test_entity_expr_and_identifiers_are_lower_cased(shop_import) -> None:
    customers = _model(shop_import, "customers")
    assert customers["entities"][0] == {"name": "customer", "type": "primary", "expr": "customer_id"}
    assert customers["dimensions"][0]["expr"] == "region"


def test_agg_time_dimension_and_grain_carry_over(shop_import) -> None:
    orders = _model(shop_import, "orders")
    assert orders["defaults"] == {"agg_time_dimension": "order_date"}
    assert _model(shop_import, "customers")["measures"][0]["agg_time_dimension"] == "signup_date"
    assert {d["name"]: d.get("time_granularity") for d in orders["dimensions"]}["order_date"] == "day"


def test_local_dimension_filter_becomes_its_expression(shop_import) -> None:
    assert _metric(shop_import, "paid_revenue")["filter"] == "status = 'paid'"


def test_time_dimension_filter_keeps_its_grain(shop_import) -> None:
    tree = sqlglot.parse_one(_metric(shop_import, "june_revenue")["filter"])
    trunc = tree.find(exp.DateTrunc, exp.TimestampTrunc)
    assert trunc is not None and trunc.find(exp.Column).name == "order_date"


@pytest.mark.parametrize(
    ("metric", "key", "table", "inner_key"),
    [
        ("west_revenue", "customer_id", "customers", "customer_id"),
        ("refunded_revenue", "order_id", "refunds", "order_id"),
    ],
)
def test_dimension_of_another_model_becomes_a_semi_join(
    shop_import, metric: str, key: str, table: str, inner_key: str
) -> None:
    tree = sqlglot.parse_one(_metric(shop_import, metric)["filter"])
    assert isinstance(tree, exp.In)
    assert tree.this.name == key and not tree.this.table
    query = tree.args["query"].this
    assert query.find(exp.Table).name == table
    # Inner columns are qualified, so the compiler's qualification cannot bind them to the outer model.
    assert all(c.table for c in query.find_all(exp.Column))
    assert query.expressions[0].name == inner_key


def test_derived_inputs_keep_aliases(shop_import) -> None:
    net = _metric(shop_import, "net_revenue")
    assert net["expr"] == "gross - refunded"
    assert net["metrics"] == [
        {"name": "order_total", "alias": "gross"},
        {"name": "refunded_revenue", "alias": "refunded"},
    ]


def test_filtered_ratio_input_gets_a_helper_metric(shop_import) -> None:
    share = _metric(shop_import, "paid_share")
    helper = _metric(shop_import, share["numerator"])
    assert helper["filter"] == "status = 'paid'" and helper["measure"] == "order_total"
    assert share["denominator"] == "order_total"


def test_what_cannot_be_imported_is_noted_with_file_and_line(shop_import) -> None:
    notes = [str(n) for n in shop_import.notes]
    assert any("metrics.yml:" in n and "conversion" in n for n in notes)
    assert any("orders.yml:" in n and "mystery" in n for n in notes)
    assert any("customers.yml:" in n and "meta" in n for n in notes)
    assert "signup_conversion" not in shop_import.metric_names()


def test_unknown_jinja_is_refused_not_guessed(tmp_path: Path) -> None:
    (tmp_path / "m.yml").write_text((SHOP / "models" / "orders.yml").read_text())
    (tmp_path / "x.yml").write_text(
        "metrics:\n  - name: odd\n    type: simple\n    type_params: {measure: order_total}\n"
        "    filter: \"{{ Metric('order_total', group_by=['order']) }} > 3\"\n"
    )
    result = import_dbt(tmp_path)
    assert "odd" not in result.metric_names()
    assert any("odd" in str(n) or "Metric" in str(n) for n in result.notes)


def test_a_folder_without_dbt_yaml_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "dbt_project.yml").write_text("name: x\n")
    with pytest.raises(UserError):
        import_dbt(tmp_path)


# -- a workspace from the fixture project -------------------------------------------------------------------------


def test_create_from_dbt_builds_a_workspace_whose_numbers_match_the_csvs(settings) -> None:
    built = build_from_dbt("shop", SHOP / "models", SHOP / "seeds", SHOP / "ref_map.yaml", settings=settings)
    assert built.path == settings.workspaces_dir / "shop" / "workspace.yaml"
    assert (settings.data_dir / "shop" / "warehouse.duckdb").is_file()
    assert sorted(p.name for p in (settings.workspaces_dir / "shop" / "semantic_models").iterdir()) == [
        "customers.yaml",
        "metrics.yaml",
        "orders.yaml",
    ]
    # The malformed CSV line is reported with its line number, not dropped silently.
    rejected = built.load.table("orders").rejected
    assert [r.line for r in rejected] == [7]
    # The all-empty shipped_date column was typed DATE because the model uses it as a time dimension.
    assert any("orders.shipped_date" in c and "DATE" in c for c in built.type_changes)

    ws = load_workspace("shop", settings)
    try:
        layer = load_semantic_model(ws.config.semantic_models)
        orders = pd.read_csv(SHOP / "seeds" / "Orders.csv", on_bad_lines="skip")
        customers = pd.read_csv(SHOP / "seeds" / "Customers.csv")
        refunds = pd.read_csv(SHOP / "seeds" / "Refunds.csv")
        west = set(customers.loc[customers.Region == "West", "Customer_ID"])
        expected = {
            "order_total": orders.amount.sum(),
            "west_revenue": orders.loc[orders.customer_id.isin(west), "amount"].sum(),
            "paid_revenue": orders.loc[orders.status == "paid", "amount"].sum(),
            "refunded_revenue": orders.loc[orders.order_id.isin(refunds.order_id), "amount"].sum(),
            "net_revenue": orders.amount.sum()
            - orders.loc[orders.order_id.isin(refunds.order_id), "amount"].sum(),
            "average_order_value": orders.amount.sum() / len(orders),
            "paid_share": orders.loc[orders.status == "paid", "amount"].sum() / orders.amount.sum(),
            "paid_order_count": (orders.status == "paid").sum(),
            "june_revenue": orders.loc[orders.order_date.str.startswith("2024-06"), "amount"].sum(),
        }
        for metric, value in expected.items():
            frame = _run(ws, layer, metric)
            assert float(frame[metric].iloc[0]) == pytest.approx(float(value)), metric
        monthly = _run(ws, layer, "order_total", (DimensionRef("metric_time", "month"),))
        by_month = orders.groupby(orders.order_date.str[:7]).amount.sum()
        got = {
            str(k)[:7]: float(v)
            for k, v in zip(monthly["metric_time__month"], monthly["order_total"], strict=True)
        }
        assert got == {k: float(v) for k, v in by_month.items()}
    finally:
        ws.close()


def test_shop_import_validates_cleanly(settings) -> None:
    create_from_dbt("shop", SHOP / "models", SHOP / "seeds", SHOP / "ref_map.yaml", settings=settings)
    ws = load_workspace("shop", settings)
    try:
        assert validate_workspace(ws) == []
    finally:
        ws.close()


def test_create_from_dbt_refuses_to_overwrite_without_replace(settings) -> None:
    create_from_dbt("shop", SHOP / "models", SHOP / "seeds", SHOP / "ref_map.yaml", settings=settings)
    with pytest.raises(UserError, match="already exists"):
        create_from_dbt("shop", SHOP / "models", SHOP / "seeds", SHOP / "ref_map.yaml", settings=settings)
    path = create_from_dbt(
        "shop", SHOP / "models", SHOP / "seeds", SHOP / "ref_map.yaml", replace=True, settings=settings
    )
    assert path.is_file()


# -- the ACME insurance corpus ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def acme(corpora: Path, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("acme")
    settings = load_settings(
        {"DATATRUTH_DATA_DIR": str(root / "data"), "DATATRUTH_WORKSPACES_DIR": str(root / "workspaces")}
    )
    src = corpora / "acme_insurance"
    built = build_from_dbt(
        "acme", src / "semantic_models", src / "data", src / "ref_map.yaml", settings=settings
    )
    ws = load_workspace("acme", settings)
    yield built, ws, src
    ws.close()


@pytest.mark.corpus
def test_acme_loads_every_csv_without_rejects(acme) -> None:
    built, _ws, src = acme
    assert len(built.load.tables) == len(list((src / "data").glob("*.csv")))
    assert built.load.rejected_count == 0
    assert built.load.table("fireclaim").rows == 820


@pytest.mark.corpus
def test_acme_import_validates_cleanly(acme) -> None:
    _built, ws, _src = acme
    assert validate_workspace(ws) == []


@pytest.mark.corpus
def test_acme_every_metric_compiles_and_runs_alone_and_by_month(acme) -> None:
    built, ws, _src = acme
    layer = load_semantic_model(ws.config.semantic_models)
    assert set(layer.metric_names()) == set(built.result.metric_names())
    assert len(layer.metric_names()) >= 7
    ran = 0
    for name in layer.metric_names():
        frame = _run(ws, layer, name)
        assert list(frame.columns) == [name] and len(frame) == 1
        models = layer.models_for(name)
        has_time = all(
            m.agg_time_dimension_name(layer.measure(me)[1])
            for m in models
            for me in layer.measures_for(name)
            if layer.measure(me)[0] is m
        )
        if has_time:
            monthly = _run(ws, layer, name, (DimensionRef("metric_time", "month"),))
            assert "metric_time__month" in monthly.columns
            ran += 1
    assert ran >= 5


@pytest.mark.corpus
def test_acme_loss_metrics_match_the_raw_tables(acme) -> None:
    _built, ws, src = acme
    layer = load_semantic_model(ws.config.semantic_models)
    amounts = pd.read_csv(src / "data" / "Claim_Amount.csv")
    paid = amounts.Claim_Amount_Identifier.isin(
        pd.read_csv(src / "data" / "Loss_Payment.csv").Claim_Amount_Identifier
    )
    reserved = amounts.Claim_Amount_Identifier.isin(
        pd.read_csv(src / "data" / "Loss_Reserve.csv").Claim_Amount_Identifier
    )
    assert float(_run(ws, layer, "loss_payment_amount").iloc[0, 0]) == amounts.Claim_Amount[paid].sum()
    assert float(_run(ws, layer, "loss_reserve_amount").iloc[0, 0]) == amounts.Claim_Amount[reserved].sum()
    assert (
        float(_run(ws, layer, "total_loss_amount").iloc[0, 0])
        == amounts.Claim_Amount[paid].sum() + amounts.Claim_Amount[reserved].sum()
    )


# -- role tables ---------------------------------------------------------------------------------------------

_ROLE_PROJECT = """
semantic_models:
  - name: policy
    model: ref('policy')
    entities: [{name: policy, type: primary, expr: policy_id}]
    dimensions: [{name: policy_number, type: categorical}]
    measures: [{name: premium_total, agg: sum, expr: premium}]
  - name: policy_party
    model: ref('policy_party')
    entities: [{name: policy, type: primary, expr: policy_id}]
    dimensions:
      - {name: party_id, type: categorical}
      - {name: role_code, type: categorical}
"""


def _role_db(tmp_path: Path, link_rows: str, lookup: bool = True) -> Path:
    path = tmp_path / "roles.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE policy AS SELECT * FROM (VALUES (1, 'P1', 10.0), (2, 'P2', 20.0), (3, 'P3', 40.0)) "
        "t(policy_id, policy_number, premium)"
    ).fetchall()
    con.execute(
        f"CREATE TABLE policy_party AS SELECT * FROM (VALUES {link_rows}) t(policy_id, party_id, role_code)"
    ).fetchall()
    if lookup:
        con.execute(
            "CREATE TABLE role AS SELECT * FROM (VALUES ('AG', 'Agent'), ('PH', 'PolicyHolder'), "
            "('UW', 'Underwriter')) t(role_code, role_name)"
        ).fetchall()
    con.close()
    return path


def test_a_repeating_primary_key_becomes_one_model_per_role(tmp_path: Path) -> None:
    (tmp_path / "m.yml").write_text(_ROLE_PROJECT)
    rows = "(1, 7, 'PH'), (1, 8, 'AG'), (2, 7, 'PH'), (2, 9, 'AG'), (3, 5, 'PH')"
    result, changes = split_roles(import_dbt(tmp_path), _role_db(tmp_path, rows))
    assert changes and "policy_party" in changes[0]
    assert _model(result, "policy_party")["entities"][0]["type"] == "foreign"  # joining it would fan out
    agent = _model(result, "agent")
    assert agent["sql"] == "SELECT * FROM policy_party WHERE role_code = 'AG'"
    assert agent["entities"] == [{"name": "policy", "type": "primary", "expr": "policy_id"}]
    assert agent["dimensions"][0]["name"] == "agent" and agent["dimensions"][0]["expr"] == "party_id"
    holder = _model(result, "policy_holder")["dimensions"][0]
    assert (holder["name"], holder["label"]) == ("policy_holder", "Policy Holder")
    assert "underwriter" not in {m["name"] for f in result.files for m in f.content["semantic_models"]}

    layer = parse_semantic_text("\n".join(f.text() for f in result.files), "roles.yaml")
    con = duckdb.connect(str(tmp_path / "roles.duckdb"), read_only=True)
    try:
        sql = compile_plan(
            QueryPlan(("premium_total",), (DimensionRef("policy__agent"),)), layer, "duckdb"
        ).sql
        assert set(con.execute(sql).fetchall()) == {(8, 10.0), (9, 20.0), (None, 40.0)}  # no double counting
    finally:
        con.close()


def test_a_unique_key_stays_primary(tmp_path: Path) -> None:
    (tmp_path / "m.yml").write_text(_ROLE_PROJECT)
    imported = import_dbt(tmp_path)
    result, changes = split_roles(imported, _role_db(tmp_path, "(1, 7, 'PH'), (2, 7, 'PH'), (3, 8, 'AG')"))
    assert changes == [] and [f.content for f in result.files] == [f.content for f in imported.files]


@pytest.mark.parametrize(
    ("rows", "lookup"),
    [
        ("(1, 7, 'PH'), (1, 8, 'PH'), (2, 7, 'AG')", True),  # the key repeats within a role: not a role table
        ("(1, 7, 'PH'), (1, 8, 'AG'), (2, 7, 'PH')", False),  # no lookup table says the codes are roles
    ],
)
def test_a_repeating_key_without_named_roles_is_only_demoted(tmp_path: Path, rows: str, lookup: bool) -> None:
    (tmp_path / "m.yml").write_text(_ROLE_PROJECT)
    imported = import_dbt(tmp_path)
    result, changes = split_roles(imported, _role_db(tmp_path, rows, lookup))
    assert len(changes) == 1 and "made foreign" in changes[0]
    assert [m["name"] for f in result.files for m in f.content["semantic_models"]] == [
        "policy",
        "policy_party",
    ]
    assert _model(result, "policy_party")["entities"][0]["type"] == "foreign"


@pytest.mark.corpus
@pytest.mark.parametrize(
    "question, shown, order, limit",
    [
        # 'when did it <verb>': the date columns of the thing named whose names hold the verbs
        ("claim 12312702: when did it open and close?", ("claim_open_date", "claim_close_date"), None, None),
        # '… and how many did not': the count split by the yes-or-no column, not kept to one side of it
        ("how many fire claims had a fireplace and how many did not", ("fireplace",), None, None),
        # rows of one thing listed 'by name': in the order of the column that names them
        ("list the catastrophes by name", ("catastrophe_name",), "catastrophe_name", None),
        # two counts of one column set side by side: one row each
        (
            "how many fire claims with 5 firefighters vs 9 firefighters",
            ("number_of_firefighters",),
            None,
            None,
        ),
        # 'the build year' is the year built; 'the most fire claims' counts the rows the model's name says
        ("which build year has the fewest fire claims", ("year_built",), None, 1),
        # 'most often': how many rows hold each value, whatever the column holds
        (
            "which number of firefighters shows up most often on fire claims",
            ("number_of_firefighters",),
            "",
            1,
        ),
    ],
)
def test_acme_reads_the_words_said_around_its_columns(
    acme, question: str, shown: tuple[str, ...], order: str | None, limit: int | None
) -> None:
    from datatruth.ask.planner import build_planner

    _built, ws, _src = acme
    plan = build_planner(ws).plan(question)
    names = [d.name.split("__")[-1] for d in plan.dimensions]
    assert all(s in names for s in shown), names
    assert not [f for f in plan.filters if f.dimension.split("__")[-1] in shown and f.op == "="], plan.filters
    if order is not None:
        keys = [o.key.split("__")[-1] for o in plan.order]
        assert keys and (keys[0] == order if order else plan.order[0].descending), plan.order
    assert plan.limit == limit


@pytest.mark.corpus
def test_acme_a_definition_restated_in_brackets_adds_nothing(acme) -> None:
    from datatruth.ask.planner import build_planner

    _built, ws, _src = acme
    plan = build_planner(ws).plan("total loss amount (payments plus reserves) for claim 12312702")
    assert plan.metrics == ("total_loss_amount",)
    assert [(f.dimension.split("__")[-1], f.values) for f in plan.filters] == [
        ("company_claim_number", ("12312702",))
    ]
