"""The Semantic layer page: browse with search, live validation, form save, SQL preview, history, viewer mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from datatruth.store import open_store, users
from datatruth.store import semantic_versions as sv

REPO = Path(__file__).resolve().parent.parent
PAGE = str(REPO / "pages" / "semantic_layer.py")
MODEL = """\
semantic_models:
  - name: orders
    table: orders
    defaults: {agg_time_dimension: order_date}
    entities:
      - {name: order, type: primary, expr: order_id}
    dimensions:
      - {name: order_date, type: time}
      - {name: status, type: categorical, synonyms: [state]}
    measures:
      - {name: order_total, agg: sum, expr: amount}
      - {name: order_count, agg: count, expr: "1"}
metrics:
  - {name: revenue, type: simple, measure: order_total, synonyms: [sales]}
  - {name: orders, type: simple, measure: order_count}
"""


ROWS = "order_id,order_date,status,amount\n1,2024-01-03,paid,10\n2,2024-02-01,open,5\n3,2024-02-11,paid,7\n"


@pytest.fixture()
def pageshop(shop_workspace, monkeypatch: pytest.MonkeyPatch):
    """(settings, model file): the default workspace `pageshop`, a shop with synonyms; cwd at the repo."""
    monkeypatch.chdir(REPO)
    settings, _values, model = shop_workspace("pageshop", model=MODEL, rows=ROWS)
    return settings, model


def _app() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=60).run()


def test_browse_and_search(pageshop) -> None:
    at = _app()
    assert not at.exception
    assert any("model version v1" in c.value for c in at.caption)
    assert set(at.dataframe[0].value["metric"]) == {"revenue", "orders"}
    at.text_input(key="sem-search").input("sales").run()
    assert list(at.dataframe[0].value["metric"]) == ["revenue"]
    at.text_input(key="sem-search").input("state").run()
    assert not at.exception
    assert list(at.dataframe[0].value["dimension"]) == ["order__status"]


def test_raw_yaml_is_validated_live_with_line_numbers(pageshop) -> None:
    _settings, path = pageshop
    at = _app()
    at.radio(key="sem-mode").set_value("Raw YAML").run()
    assert any("valid" in s.value for s in at.success)
    broken = MODEL.replace("expr: amount", "expr: amount_typo")
    at.text_area(key="sem-raw-models/orders.yaml").input(broken).run()
    assert not at.exception
    assert any("issue" in e.value for e in at.error)
    assert any("line 11" in m.value and "amount_typo" in m.value for m in at.markdown)
    assert at.button(key="sem-raw-save").disabled
    assert path.read_text() == MODEL


def test_form_save_makes_a_new_version(pageshop) -> None:
    settings, path = pageshop
    at = _app()
    at.selectbox(key="sem-form-metric").set_value("revenue").run()
    at.text_area(key="sem-desc-revenue").input("Money in, before refunds")
    at.text_input(key="sem-form-message").input("describe revenue")
    at.button[0].click().run()
    assert not at.exception
    assert any("Saved as version 2" in s.value for s in at.success)
    assert "Money in, before refunds" in path.read_text()
    store = open_store(settings=settings)
    assert sv.latest_version(store, "pageshop").author == settings.local_user


def test_preview_shows_sql_and_rows(pageshop) -> None:
    at = _app()
    at.selectbox(key="sem-prev-metric").set_value("revenue")
    at.selectbox(key="sem-prev-dim").set_value("metric_time")
    at.selectbox(key="sem-prev-grain").set_value("month")
    at.button(key="sem-prev-run").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    assert any("SELECT" in c.value.upper() for c in at.code)
    frame = next(d.value for d in at.dataframe if "metric_time__month" in d.value.columns)
    assert list(frame["revenue"]) == [10, 12]


def test_history_diff_and_restore(pageshop) -> None:
    settings, path = pageshop
    assert not _app().exception  # records version 1 from disk
    path.write_text(MODEL.replace("synonyms: [sales]", "synonyms: [sales, turnover]"))
    at = _app()
    assert not at.exception
    assert list(at.dataframe[-1].value["version"]) == [2, 1]
    assert any(
        "+  - {name: revenue, type: simple, measure: order_total, synonyms: [sales, turnover]}" in c.value
        for c in at.code
    )
    at.selectbox(key="sem-restore-version").set_value(1)
    at.button(key="sem-restore").click().run()
    assert not at.exception
    assert any("restored as version 3" in s.value for s in at.success)
    assert path.read_text() == MODEL


def test_viewers_read_but_do_not_edit(pageshop, monkeypatch: pytest.MonkeyPatch) -> None:
    settings, _path = pageshop
    monkeypatch.setenv("DATATRUTH_LOCAL_USER", "vic")
    users.set_membership(open_store(settings=settings), "pageshop", "vic", "viewer", actor="test")
    at = _app()
    assert not at.exception
    assert any("read-only" in c.value for c in at.caption)
    assert any("analysts and admins can edit" in i.value for i in at.info)
    assert not [r for r in at.radio if r.key == "sem-mode"]
    assert not [b for b in at.button if b.key in ("sem-raw-save", "sem-restore")]
    assert set(at.dataframe[0].value["metric"]) == {"revenue", "orders"}
