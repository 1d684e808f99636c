"""Issue 14, finding 4: sensitive_columns are masked the same way in answers, the SQL tab, example rows and exports.

Retail marks customers.email, customers.phone and customers.customer_name sensitive; admins see raw values,
analysts and viewers see them masked, whatever path the rows took.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from isolation import isolate
from streamlit.testing.v1 import AppTest

from datatruth.ask.pipeline import ask, run_sql
from datatruth.sql.sensitive import MASK, columns_to_mask

REPO = Path(__file__).resolve().parent.parent
SCHEMA = {
    "customers": {"customer_id": "INT", "customer_name": "TEXT", "email": "TEXT", "region": "TEXT"},
    "orders": {"order_id": "INT", "customer_id": "INT", "amount": "DOUBLE"},
}
MARKS = ("customers.email", "customers.customer_name")


@pytest.mark.parametrize(
    "sql,columns,masked",
    [
        ("SELECT email, region FROM customers", ["email", "region"], {"email"}),
        ("SELECT upper(email) AS e, count(*) AS n FROM customers GROUP BY 1", ["e", "n"], {"e"}),
        (
            "SELECT * FROM customers",
            ["customer_id", "customer_name", "email", "region"],
            {"customer_name", "email"},
        ),
        ("WITH x AS (SELECT customer_name AS nm FROM customers) SELECT nm FROM x", ["nm"], {"nm"}),
        (
            "SELECT e FROM (SELECT region AS e FROM customers UNION ALL SELECT email FROM customers) t",
            ["e"],
            {"e"},
        ),
        (
            "SELECT c.region, SUM(o.amount) AS total FROM orders o JOIN customers c USING (customer_id) GROUP BY 1",
            ["region", "total"],
            set(),
        ),
        ("SELECT string_agg(c.customer_name, ',') AS names FROM customers c", ["names"], {"names"}),
        ("SELECT count(*) AS n FROM customers", ["n"], set()),
        ("SELECT * FROM mystery", ["a", "b"], {"a", "b"}),  # no schema: nothing can be vouched for
    ],
)
def test_lineage_finds_every_derived_column(sql: str, columns: list[str], masked: set[str]) -> None:
    assert columns_to_mask(sql, "duckdb", MARKS, columns, SCHEMA) == masked


@pytest.fixture(scope="module")
def retail_masking(tmp_path_factory: pytest.TempPathFactory):
    """(workspace, store, monkeypatch): the retail demo (built warehouse copied in) with the shipped members."""
    from datatruth.settings import load_settings
    from datatruth.store import open_store
    from datatruth.store.users import seed_from_config
    from datatruth.workspace.registry import load_workspace

    tmp = tmp_path_factory.mktemp("masking")
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp)
        mp.chdir(REPO)
        settings = load_settings()
        store = open_store(settings=settings)
        ws = load_workspace("retail", settings)
        seed_from_config(store, "retail", ws.config.members)
        yield ws, store, mp
        ws.close()


def _raw_names(ws, store) -> set[str]:
    frame = run_sql(
        ws, "SELECT customer_name, email, phone FROM customers LIMIT 50", user="admin", store=store
    ).frame
    return {str(v) for v in frame.to_numpy().ravel()}


def test_answers_mask_by_role(retail_masking) -> None:
    ws, store, _ = retail_masking
    question = "top 5 customers by revenue last year"
    admin = ask(ws, question, user="admin", store=store)
    # customers are grouped by id (not sensitive) and shown with their name (sensitive)
    assert MASK not in admin.frame["customer__name"].tolist(), "admins see the names"
    names = {str(v) for v in admin.frame["customer__name"]}
    for user in ("ana", "vic"):
        answer = ask(ws, question, user=user, store=store)
        assert answer.frame["customer__name"].tolist() == [MASK] * len(answer.frame)
        for column in ("customer__customer_id", "revenue"):
            assert answer.frame[column].tolist() == admin.frame[column].tolist(), (
                "keys and numbers are not masked"
            )
        shown = answer.explanation + repr(answer.insights) + repr(answer.chart)
        assert not any(n in shown for n in names), "no name reaches the explanation, insights or chart"


def test_sql_tab_masks_for_analysts(retail_masking) -> None:
    ws, store, _ = retail_masking
    raw = _raw_names(ws, store)
    for sql in (
        "SELECT customer_name, email, phone FROM customers LIMIT 50",
        "SELECT lower(email) AS e, phone || '' AS p FROM customers LIMIT 50",
        "SELECT * FROM customers LIMIT 50",
    ):
        frame = run_sql(ws, sql, user="ana", store=store).frame
        values = {str(v) for v in frame.to_numpy().ravel()}
        assert not values & raw, sql
    counts = run_sql(
        ws, "SELECT region, count(*) AS n FROM customers GROUP BY 1", user="ana", store=store
    ).frame
    assert MASK not in counts.to_numpy().ravel().tolist(), "columns that are not sensitive stay as they are"


def test_dashboard_tiles_and_exports_mask_for_viewers(retail_masking) -> None:
    from datatruth.dashboards import export, service

    ws, store, _ = retail_masking
    question = "top 5 customers by revenue last year"
    plan = ask(ws, question, user="ana", store=store).plan
    tile = service.pin(store, ws, "ana", "Top customers (masking)", "Top customers", question, plan)
    names = {str(v) for v in ask(ws, question, user="admin", store=store).frame["customer__name"]}
    for fmt in ("csv", "xlsx"):
        _, payload = export.export_tile_data(ws, store, "vic", tile.id, fmt)
        assert payload and not any(n.encode() in payload for n in names)
    html = export.export_dashboard_html(ws, store, "vic", tile.dashboard_id)
    assert not any(n in html for n in names)
    _, admin_csv = export.export_tile_data(ws, store, "admin", tile.id, "csv")
    assert any(n.encode() in admin_csv for n in names), "an admin's export has the names"


def test_ask_page_masks_for_a_viewer(retail_masking) -> None:
    ws, store, mp = retail_masking
    at = AppTest.from_file(str(REPO / "pages" / "ask.py"), default_timeout=120)
    at.session_state["dt_user"] = "vic"
    at.run()
    at.chat_input[0].set_value("top 5 customers by revenue last year").run()
    assert not at.exception
    names = {
        str(v)
        for v in ask(ws, "top 5 customers by revenue last year", user="admin", store=store).frame[
            "customer__name"
        ]
    }
    shown = " ".join(str(d.value.to_numpy().ravel().tolist()) for d in at.dataframe) + " ".join(
        m.value for m in at.markdown
    )
    assert MASK in shown and not any(n in shown for n in names)


def test_quality_profiles_mask_sensitive_values(retail_masking) -> None:
    from datatruth.quality.overview import table_detail

    ws, store, _ = retail_masking
    profile = table_detail(ws, store, "customers").profile
    names = profile.column("customer_name")  # frequent names were listed as top values, for every role
    assert names.top_values and all(v == MASK for v, _ in names.top_values)
    assert names.min in (MASK, None) and names.max in (MASK, None)
    assert profile.column("region").top_values and profile.column("region").top_values[0][0] != MASK
