"""The Ask page: empty state, a question answered in the chat with SQL and table, feedback, the SQL tab."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from datatruth.store import feedback, history, proposals

REPO = Path(__file__).resolve().parent.parent
PAGE = str(REPO / "pages" / "ask.py")


def test_ask_page_answers_a_question_and_takes_feedback(retail_store) -> None:
    store = retail_store
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    assert any("Ask a question in plain words" in i.value for i in at.info)
    assert [t.label for t in at.tabs] == ["Ask", "SQL"]  # the local user is an admin
    at.chat_input[0].set_value("orders by channel in 2025").run()
    assert not at.exception
    assert any("Orders, highest first" in m.value for m in at.markdown)
    # the reading comes first, in labels: what was counted, split by what, over which period
    read = [i.value for i in at.info if "Read as:" in i.value]
    assert read and "Orders by sales channel, 2025" in read[0]
    assert at.dataframe and len(at.dataframe[0].value) == 2
    assert any("SELECT" in c.value.upper() for c in at.code)
    entry = history.recent(store, "retail", "local")[0]
    assert entry.question == "orders by channel in 2025" and entry.error is None
    next(b for b in at.button if b.label == "Right").click().run()
    assert not at.exception
    with store.connect() as conn:
        from datatruth.store.schema import feedback as fb

        kinds = [r.kind for r in conn.execute(fb.select())]
    assert kinds == ["right"]
    [proposed] = proposals.pending(store, "retail")  # a proposal, for an admin to review
    assert (proposed.kind, proposed.payload["question"], proposed.proposer) == (
        "verified_question",
        "orders by channel in 2025",
        "local",
    )


def test_ask_page_shows_a_planning_error_with_choices(retail_store) -> None:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.chat_input[0].set_value("zorblax by channel").run()
    assert not at.exception
    assert at.warning and "zorblax" in at.warning[0].value  # the words it could not place
    assert any("I understood:" in m.value and "Sales channel" in m.value for m in at.markdown)
    labels = [b.label for b in at.button]
    assert "revenue by channel" in labels  # a question it can answer, offered as a choice
    next(b for b in at.button if b.label == "revenue by channel").click().run()
    assert not at.exception
    follow = [i.value for i in at.info if "Read as:" in i.value]
    assert follow and "Revenue by sales channel" in follow[-1]
    assert any("Revenue, highest first" in m.value for m in at.markdown)  # re-asked with the choice
    # proposed: it applies to the one who chose it, and to everyone once an admin accepts it
    assert feedback.synonyms(retail_store, "retail") == []
    assert ("zorblax", "revenue") in {
        (s.term, s.target) for s in feedback.synonyms_for(retail_store, "retail", "local")
    }


def test_sql_tab_runs_guarded_sql(retail_store) -> None:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.text_area(key="ask_sql_text").input("SELECT COUNT(*) AS n FROM stores")
    at.button(key="ask_sql_run").click().run()
    assert not at.exception
    assert any(len(d.value) == 1 for d in at.dataframe)
    at.text_area(key="ask_sql_text").input("DROP TABLE stores")
    at.button(key="ask_sql_run").click().run()
    assert at.error


def test_viewers_get_no_sql_tab(retail_store) -> None:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["dt_user"] = "vic"  # a signed-in viewer of the retail workspace
    at.run()
    assert not at.exception
    assert not at.tabs and not [t for t in at.text_area if t.key == "ask_sql_text"]
    at.chat_input[0].set_value("orders in 2025").run()
    assert not at.exception and any("Orders is" in m.value for m in at.markdown)


def test_answer_reads_with_labels_and_formatted_numbers(retail_store) -> None:
    import json

    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.chat_input[0].set_value("revenue by month last quarter vs previous period").run()
    assert not at.exception
    table = at.dataframe[0]
    assert list(table.value.columns) == [
        "Month",
        "Revenue",
        "Revenue (previous period)",
        "Revenue difference",
        "Revenue change",
    ]
    assert table.value["Month"].tolist() == ["2026-07", "2026-08", "2026-09"]
    formats = {
        name: spec["type_config"]["format"]
        for name, spec in json.loads(table.proto.columns).items()
        if "type_config" in spec
    }
    assert formats == {
        "Revenue": "dollar",
        "Revenue (previous period)": "dollar",
        "Revenue difference": "dollar",
        "Revenue change": "%.2f%%",
    }
    plan = [m.value for m in at.markdown if m.value.startswith("**Revenue by month")]
    assert plan == ["**Revenue by month, for last quarter (Q3 2026), compared with the previous period**"]
    matched = at.dataframe[1].value["matched"].tolist()  # the evidence table of the plan panel
    assert not [m for m in matched if "__" in m or "metric_time" in m], matched
    assert [b.label for b in at.get("download_button")] == ["CSV", "Excel"]


def test_pinning_twice_says_so_instead_of_adding_a_duplicate(retail_store) -> None:
    from datatruth.store import dashboards as boards

    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.chat_input[0].set_value("revenue by channel in 2025").run()
    at.text_input(key="pin-board-0").input("Weekly")
    at.button(key="pin-0").click().run()
    assert not at.exception
    at.button(key="pin-0").click().run()
    assert not at.exception
    assert any("already on 'Weekly'" in i.value and "not added twice" in i.value for i in at.info)
    board = boards.find(retail_store, "retail", "Weekly")
    assert board is not None and len(boards.tiles_of(retail_store, "retail", board.id)) == 1


def test_follow_up_toggle_names_what_it_refines_and_leaves_other_questions_alone(retail_store) -> None:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.toggle  # nothing to follow up on yet
    at.chat_input[0].set_value("revenue by channel in 2025").run()
    assert not at.exception
    assert at.toggle and "revenue by channel in 2025" in at.toggle[0].label and at.toggle[0].value
    at.chat_input[0].set_value("only in Texas").run()
    read = [i.value for i in at.info if "Read as:" in i.value]
    assert "Texas" in read[-1] and "sales channel" in read[-1]  # refined the answer the toggle names
    assert any("follow-up" in c.value for c in at.caption)
    at.chat_input[0].set_value("orders by month last quarter").run()
    read = [i.value for i in at.info if "Read as:" in i.value]
    assert "Texas" not in read[-1] and "sales channel" not in read[-1]  # a new question is read on its own
