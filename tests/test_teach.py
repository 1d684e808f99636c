"""Teaching a workspace (issue 17), on a copy of the retail demo with its own model files and a SQLite store:
verified questions with slots, proposals and their review by role, the suggestions view, LLM drafts, the CLI
and the %%ask widget."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from isolation import isolate

from datatruth import resources
from datatruth.ask import pipeline
from datatruth.errors import PermissionDenied, PlanningError
from datatruth.semantic.plan import Filter
from datatruth.store import audit, feedback, proposals
from datatruth.store.engine import utcnow
from datatruth.teach import review
from datatruth.teach.suggestions import suggestions

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture()
def teach(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The retail workspace with copies of its workspace folder and model files (accepting writes to them)."""
    from datatruth.cli.ask import open_context

    isolate(monkeypatch, tmp_path / "data")
    root = tmp_path / "repo"
    shutil.copytree(REPO / "workspaces" / "retail", root / "workspaces" / "retail")
    shutil.copytree(REPO / "semantic_models" / "retail", root / "semantic_models" / "retail")
    monkeypatch.setenv("DATATRUTH_WORKSPACES_DIR", str(root / "workspaces"))
    ws, store, _user = open_context("retail")
    yield ws, store, root / "semantic_models" / "retail"
    resources.invalidate(ws.name)
    ws.close()


def _ask(ws, store, user: str, question: str):
    return pipeline.ask(ws, question, user=user, store=store)


def test_a_verified_question_answers_a_paraphrase_with_another_period_and_value(teach) -> None:
    ws, store, models = teach
    first = _ask(ws, store, "ana", "revenue in the South by month last year")
    assert first.plan_source == "deterministic"
    marked = review.mark_right(ws, store, "ana", first.history_id)
    assert marked.proposal is not None and marked.proposal.kind == "verified_question"
    today = utcnow().date().isoformat()
    # before review it answers ana's own paraphrases, and nobody else's
    own = _ask(ws, store, "ana", "what was revenue in the West by month in 2024?")
    assert own.plan_source == "verified" and "your own proposed verified question" in own.interpretation
    other = _ask(ws, store, "rey", "what was revenue in the West by month in 2024?")
    assert other.plan_source == "deterministic"
    with pytest.raises(PermissionDenied):
        review.accept(ws, store, "ana", marked.proposal.id)  # analysts propose; only admins accept
    done = review.accept(ws, store, "admin", marked.proposal.id)
    assert "version" in done
    text = (models / "metrics.yaml").read_text()
    assert "question: revenue in the South by month last year" in text and "verified_by: ana" in text
    answer = _ask(ws, store, "rey", "what was revenue in the West by month in 2024?")
    assert answer.plan_source == "verified"
    assert f"from a verified question, by ana, {today}" in answer.interpretation
    assert answer.plan.filters == (Filter("customer__region", "=", ("West",)),)
    assert (answer.plan.time_range.start, answer.plan.time_range.end) == (
        dt.date(2024, 1, 1),
        dt.date(2025, 1, 1),
    )
    expected = ws.warehouse.run(
        """
        SELECT DATE_TRUNC('month', o.order_date) AS m, SUM(l.net_amount) AS r FROM order_lines l
        JOIN orders o USING (order_id) JOIN customers c ON c.customer_id = o.customer_id
        WHERE c.region = 'West' AND o.order_date >= DATE '2024-01-01' AND o.order_date < DATE '2025-01-01'
        GROUP BY 1 ORDER BY 1""",
        row_cap=100,
    ).frame
    got = answer.frame.sort_values(answer.frame.columns[0])
    assert [round(float(v), 2) for v in got.iloc[:, -1]] == [round(float(v), 2) for v in expected["r"]]
    # what reads differently is planned as usual: another metric, a negation, a value of another dimension
    for question in (
        "orders in the West by month in 2024",
        "revenue not in the West by month in 2024",
        "revenue online by month in 2024",
    ):
        try:
            assert _ask(ws, store, "rey", question).plan_source == "deterministic", question
        except PlanningError:
            pass  # refused by the rules: not answered from the verified question either
    actions = [e.action for e in audit.entries(store, "retail")]
    assert {"feedback.right", "teach.propose", "teach.accept"} <= set(actions)


def test_a_viewers_thumbs_up_and_choice_change_nothing_for_anyone(teach) -> None:
    ws, store, _models = teach
    answer = _ask(ws, store, "vic", "revenue by channel in 2025")
    assert review.mark_right(ws, store, "vic", answer.history_id).proposal is None
    assert not feedback.confirm_choice(store, "retail", "vic", "zorblax", "metric", "revenue")
    assert proposals.listed(store, "retail") == [] and feedback.synonyms(store, "retail") == []
    for user in ("vic", "ana", "admin"):
        with pytest.raises(PlanningError):
            _ask(ws, store, user, "zorblax in 2025")
    with store.connect() as c:
        from datatruth.store.schema import feedback as fb

        kinds = sorted((r.username, r.kind) for r in c.execute(fb.select()))
    assert kinds == [("vic", "right"), ("vic", "synonym")]  # recorded all the same
    with pytest.raises(PermissionDenied):
        review.mark_right(ws, store, "rey", answer.history_id)  # someone else's answer


def test_a_proposal_is_the_proposers_until_an_admin_accepts_it_for_everyone(teach) -> None:
    ws, store, _models = teach
    assert feedback.confirm_choice(store, "retail", "ana", "zorblax", "metric", "revenue")
    assert _ask(ws, store, "ana", "zorblax by channel in 2025").plan.metrics == ("revenue",)
    for user in ("rey", "vic", "admin"):
        with pytest.raises(PlanningError):
            _ask(ws, store, user, "zorblax by channel in 2025")
    [proposal] = proposals.pending(store, "retail")
    review.accept(ws, store, "admin", proposal.id)
    for user in ("rey", "vic", "admin", "ana"):
        assert _ask(ws, store, user, "zorblax by channel in 2025").plan.metrics == ("revenue",), user
    assert [(s.term, s.username) for s in feedback.synonyms(store, "retail")] == [("zorblax", "ana")]
    # a rejected proposal stops applying to its proposer too
    assert feedback.confirm_choice(store, "retail", "rey", "quimble", "metric", "orders")
    assert _ask(ws, store, "rey", "quimble in 2025").plan.metrics == ("orders",)
    [second] = proposals.pending(store, "retail")
    review.reject(ws, store, "admin", second.id, "not a word we use")
    with pytest.raises(PlanningError):
        _ask(ws, store, "rey", "quimble in 2025")
    assert proposals.get(store, "retail", second.id).status == "rejected"
    assert [e.action for e in audit.entries(store, "retail", action="teach.")][:2] == [
        "teach.reject",
        "teach.propose",
    ]


def test_the_suggestions_view_groups_refused_and_wrong_questions(teach) -> None:
    ws, store, _models = teach
    for user, question in (
        ("rey", "zorblax by region"),
        ("vic", "Zorblax by region?"),
        ("ana", "zorblax by regions"),
        ("ana", "flurb quimble snark"),
    ):
        with pytest.raises(PlanningError):
            _ask(ws, store, user, question)
    wrong = _ask(ws, store, "ana", "orders in 2025")
    review.mark_wrong(ws, store, "ana", wrong.history_id, "excludes cancelled orders")
    with pytest.raises(PermissionDenied):
        suggestions(ws, store, "ana")
    groups = suggestions(ws, store, "admin")
    top = groups[0]
    assert (top.count, top.users, top.refused, top.status) == (3, 3, 3, "refused")
    assert set(top.variants) == {"zorblax by region", "Zorblax by region?", "zorblax by regions"}
    assert top.failed_words == ("zorblax",) and top.choices
    by_question = {g.question: g for g in groups}
    assert by_question["orders in 2025"].status == "marked wrong" and by_question["orders in 2025"].wrong == 1
    assert by_question["flurb quimble snark"].count == 1
    # teach from the group, then it reads
    review.teach_now(
        ws, store, "admin", "synonym", {"term": "zorblax", "target_kind": "metric", "target": "revenue"}
    )
    again = {g.question: g for g in suggestions(ws, store, "admin")}
    assert (
        again[top.question].status == "answered now"
        and "Revenue by customer region" in again[top.question].answer
    )


def test_the_suggestions_tab_teaches_a_synonym_and_asks_again(teach, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    ws, store, _models = teach
    monkeypatch.chdir(REPO)
    for user in ("rey", "vic"):
        with pytest.raises(PlanningError):
            _ask(ws, store, user, "zorblax by region")
    at = AppTest.from_file(str(REPO / "pages" / "semantic_layer.py"), default_timeout=120)
    at.session_state["dt_user"] = "admin"
    at.run()
    assert not at.exception
    assert "Suggestions" in [t.label for t in at.tabs]
    assert any(e.label.startswith("zorblax by region — asked 2× by 2") for e in at.expander)
    assert any("Words that failed:" in m.value and "zorblax" in m.value for m in at.markdown)
    at.button(key="sug-syn-0").click().run()  # the first target is the first metric: revenue
    assert not at.exception
    notes = [s.value for s in at.success]
    assert any(
        "now means revenue" in n and "Answered" in n and "Revenue by customer region" in n for n in notes
    )


def test_the_proposals_tab_lets_only_admins_accept(teach, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    ws, store, _models = teach
    monkeypatch.chdir(REPO)
    feedback.confirm_choice(store, "retail", "ana", "zorblax", "metric", "revenue")
    page = str(REPO / "pages" / "semantic_layer.py")
    analyst = AppTest.from_file(page, default_timeout=120)
    analyst.session_state["dt_user"] = "ana"
    analyst.run()
    assert not analyst.exception and not [b for b in analyst.button if b.label == "Accept"]
    admin = AppTest.from_file(page, default_timeout=120)
    admin.session_state["dt_user"] = "admin"
    admin.run()
    assert any("'zorblax' means revenue" in m.value for m in admin.markdown)
    next(b for b in admin.button if b.label == "Accept").click().run()
    assert not admin.exception
    assert any("now means revenue for everyone" in s.value for s in admin.success)
    assert _ask(ws, store, "rey", "zorblax in 2025").plan.metrics == ("revenue",)


def test_verified_questions_tab_lists_them_with_who_and_when(teach, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.chdir(REPO)
    at = AppTest.from_file(str(REPO / "pages" / "semantic_layer.py"), default_timeout=120).run()
    assert not at.exception
    frames = [d.value for d in at.dataframe if "verified by" in d.value.columns]
    assert frames and len(frames[0]) == 6 and set(frames[0]["verified by"]) == {"datatruth"}
    assert (frames[0]["starter"] == "yes").sum() == 5
    assert "Revenue by customer region, last quarter" in frames[0]["answers"].iloc[0]


def test_ask_page_offers_the_onboarding_questions_as_starters(teach, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.chdir(REPO)
    at = AppTest.from_file(str(REPO / "pages" / "ask.py"), default_timeout=120).run()
    assert not at.exception
    starters = sorted((b for b in at.button if (b.key or "").startswith("starter-")), key=lambda b: b.key)
    assert [b.label for b in starters][:2] == [
        "What was revenue by customer region last quarter?",
        "How many orders were placed online in 2025?",
    ]
    starters[0].click().run()
    read = [i.value for i in at.info if "Read as:" in i.value]
    assert read and "from a verified question, by datatruth, 2026-10-31" in read[0]


def test_cli_feedback_proposes_lists_and_accepts(
    teach, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from datatruth.cli.main import main

    _ws, store, _models = teach
    monkeypatch.setenv("DATATRUTH_LOCAL_USER", "ana")
    assert main(["ask", "-w", "retail", "--json", "gross margin by category in 2025"]) == 0
    capsys.readouterr()
    assert main(["feedback", "-w", "retail", "--json", "right"]) == 0
    proposal = json.loads(capsys.readouterr().out)["proposal"]
    assert proposal is not None
    assert main(["feedback", "-w", "retail", "accept", str(proposal)]) == 2  # an analyst may not accept
    assert "may not review teaching" in capsys.readouterr().err
    monkeypatch.setenv("DATATRUTH_LOCAL_USER", "admin")
    assert main(["feedback", "-w", "retail", "--json", "proposals"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["#"] for r in rows] == [proposal] and rows[0]["by"] == "ana"
    assert main(["feedback", "-w", "retail", "accept", str(proposal)]) == 0
    assert "saved into the semantic model" in capsys.readouterr().out
    assert main(["ask", "-w", "retail", "--json", "gross margin by category in 2024"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert "from a verified question, by ana" in payload["interpretation"]
    assert proposals.get(store, "retail", proposal).status == "accepted"


def test_ask_widget_thumbs_up_proposes_a_verified_question(teach, monkeypatch: pytest.MonkeyPatch) -> None:
    import ipywidgets as widgets
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output
    from ipywidgets.widgets.widget import _instances

    _ws, store, _models = teach
    monkeypatch.setenv("DATATRUTH_USER", "ana")
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "datatruth")
    with capture_output() as printed:
        shell.run_line_magic("dt_workspace", "retail")
    assert "%ask What was revenue by customer region last quarter?" in printed.stdout
    before = set(_instances)
    with capture_output():
        shell.run_cell_magic("ask", "-w retail --no-chart", "cost by category in 2025")
    buttons = [w for k, w in _instances.items() if k not in before and isinstance(w, widgets.Button)]
    next(b for b in buttons if b.description == "right").click()
    [proposal] = proposals.pending(store, "retail")
    assert (proposal.proposer, proposal.payload["question"]) == ("ana", "cost by category in 2025")
    label = next(w for k, w in _instances.items() if k not in before and isinstance(w, widgets.Label))
    assert "proposed as a verified question" in label.value


def test_llm_proposals_arrive_as_reviewable_items(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fake_openai import KEY_ENV, KEY_VALUE, FakeOpenAI, Reply, build_shop, llm_settings

    from datatruth.teach.author import draft_proposals

    monkeypatch.setenv(KEY_ENV, KEY_VALUE)
    with FakeOpenAI() as server:
        ws, store = build_shop(tmp_path, llm=llm_settings(server))
        try:
            server.push(
                Reply(
                    content=json.dumps(
                        {
                            "synonyms": [
                                {"term": "takings", "target": "revenue"},
                                {"term": "profit", "target": "gross_profit"},  # not in the model
                                {"term": "DROP TABLE orders; --", "target": "revenue"},
                            ],
                            "phrasings": [
                                {
                                    "words": ["ordered", "bought"],
                                    "model": "orders",
                                    "description": "placed an order",
                                },
                                {"words": ["earned"], "metric": "income"},
                            ],
                            "descriptions": [
                                {"metric": "orders", "description": "How many orders customers placed."}
                            ],
                            "verified_questions": [
                                {
                                    "question": "Orders by region in 2025",
                                    "plan": {
                                        "metrics": ["orders"],
                                        "dimensions": [{"name": "customer__region"}],
                                        "time_range": {
                                            "start": "2025-01-01",
                                            "end": "2026-01-01",
                                            "label": "2025",
                                        },
                                    },
                                },
                                {"question": "Profit by region", "plan": {"metrics": ["profit"]}},
                            ],
                        }
                    )
                )
            )
            with pytest.raises(PermissionDenied):
                draft_proposals(ws, store, "vic")  # viewers cannot ask for drafts (nor analysts)
            drafted = draft_proposals(ws, store, "local")
            # what the model was shown: the catalog with sample values, fenced as data; no SQL asked for
            prompt = server.requests[-1].prompt
            assert "Acme Corp" in prompt and "<data-" in prompt and "Never write SQL" in prompt
            kinds = sorted(p.kind for p in drafted.proposed)
            assert kinds == ["description", "phrasing", "synonym", "verified_question"]
            assert all(p.status == "proposed" and p.source == "llm" for p in drafted.proposed)
            assert len(drafted.dropped) == 4 and any("gross_profit" in d for d in drafted.dropped)
            # nothing applies before review, not even to the admin who asked
            with pytest.raises(PlanningError):
                pipeline.ask(ws, "takings in 2025", user="local", store=store)
            model = (ws.config.directory / "model.yaml").read_text()
            assert "How many orders customers placed." not in model
            by_kind = {p.kind: p for p in drafted.proposed}
            review.accept(ws, store, "local", by_kind["synonym"].id)
            review.accept(ws, store, "local", by_kind["description"].id)
            review.accept(ws, store, "local", by_kind["verified_question"].id)
            review.reject(ws, store, "local", by_kind["phrasing"].id)
            assert pipeline.ask(ws, "takings in 2025", user="vic", store=store).plan.metrics == ("revenue",)
            model = (ws.config.directory / "model.yaml").read_text()
            assert "description: How many orders customers placed." in model
            assert "question: Orders by region in 2025" in model and "verified_by: local" in model
            answer = pipeline.ask(ws, "orders by region in 2024", user="vic", store=store)
            assert answer.plan_source == "verified" and "by local" in answer.interpretation
        finally:
            resources.invalidate(ws.name)
            ws.close()


def test_a_paraphrase_of_a_verified_question_proposes_nothing_and_duplicates_are_refused(teach) -> None:
    from datatruth.errors import UserError

    ws, store, _models = teach
    answer = _ask(ws, store, "ana", "revenue by month in 2024")  # the shipped "Revenue by month last year"
    assert answer.plan_source == "verified"
    marked = review.mark_right(ws, store, "ana", answer.history_id)
    assert marked.proposal is None and marked.already_verified and "already comes from" in marked.message
    same = proposals.add(
        store,
        "retail",
        "ana",
        "verified_question",
        {"question": "Revenue by month  LAST year", "plan": {"metrics": ["revenue"]}},
        "right",
    )
    with pytest.raises(UserError, match="already a verified question"):
        review.accept(ws, store, "admin", same.id)
    assert proposals.get(store, "retail", same.id).status == "proposed"


def test_the_proposals_tab_asks_the_llm_for_proposals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fake_openai import KEY_ENV, KEY_VALUE, FakeOpenAI, Reply, build_shop, llm_settings
    from streamlit.testing.v1 import AppTest

    with FakeOpenAI() as server:
        ws, _store = build_shop(tmp_path, llm=llm_settings(server))
        try:
            for key, value in {
                "DATATRUTH_DATA_DIR": str(tmp_path / "data"),
                KEY_ENV: KEY_VALUE,
                "DATATRUTH_WORKSPACES_DIR": str(tmp_path / "workspaces"),
                "DATATRUTH_STORE_URL": f"sqlite:///{tmp_path / 'metadata.sqlite'}",
                "DATATRUTH_LOCAL_USER": "local",
                "DATATRUTH_DEFAULT_WORKSPACE": "shop",
            }.items():
                monkeypatch.setenv(key, value)
            monkeypatch.chdir(REPO)
            server.push(
                Reply(
                    content=json.dumps(
                        {
                            "synonyms": [
                                {"term": "takings", "target": "revenue"},
                                {"term": "margin", "target": "gross_margin"},
                            ],
                            "phrasings": [],
                            "descriptions": [],
                            "verified_questions": [],
                        }
                    )
                )
            )
            at = AppTest.from_file(str(REPO / "pages" / "semantic_layer.py"), default_timeout=120).run()
            assert not at.exception
            at.button(key="prop-llm").click().run()
            assert not at.exception
            assert any(
                "The LLM proposed 1 item(s)" in s.value and "1 named nothing" in s.value for s in at.success
            )
            assert any(
                "'takings' means revenue" in m.value and "from the LLM" in m.value for m in at.markdown
            )
        finally:
            resources.invalidate(ws.name)
            ws.close()
