"""The Ask pipeline end to end on the retail demo: stages, cache, history, rate limit, raw SQL, LLM hook, CLI."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pytest
from isolation import isolate

from datatruth.ask import pipeline, ratelimit
from datatruth.errors import GuardRejected, PermissionDenied, PlanningError, RateLimited
from datatruth.semantic.plan import DimensionRef, QueryPlan
from datatruth.store import audit, history
from datatruth.store.engine import Store
from datatruth.workspace.config import Limits, LLMConfig

REPO = Path(__file__).resolve().parent.parent


def test_raw_sql_is_guarded_cached_and_audited(retail_demo) -> None:
    ws, store = retail_demo
    sql = "SELECT region, COUNT(*) AS n FROM customers GROUP BY region ORDER BY region"
    first = pipeline.run_sql(ws, sql, user="ana", store=store)
    assert not first.from_semantic_layer and not first.cached
    assert list(first.frame.columns) == ["region", "n"] and first.row_count == 4
    second = pipeline.run_sql(ws, sql, user="ana", store=store)
    assert second.cached and second.frame.equals(first.frame)
    assert [e.action for e in audit.entries(store, "retail", username="ana")][:2] == ["sql.run", "sql.run"]
    with pytest.raises(GuardRejected):
        pipeline.run_sql(ws, "DROP TABLE customers", user="ana", store=store)
    with pytest.raises(PermissionDenied):
        pipeline.run_sql(ws, sql, user="vic", store=store)


def test_ask_answers_with_chart_explanation_and_history(retail_demo) -> None:
    ws, store = retail_demo
    answer = pipeline.ask(ws, "revenue by month in 2025", user="local", store=store, session_id="s1")
    assert answer.plan is not None and "revenue" in answer.plan.metrics
    assert answer.row_count == 12 and not answer.cached and answer.from_semantic_layer
    assert answer.chart is not None and answer.chart["data"][0]["type"] == "scatter"
    assert "Revenue" in answer.explanation and answer.model_version
    assert {i.kind for i in answer.insights} >= {"change", "trend"}
    again = pipeline.ask(ws, "revenue by month in 2025", user="local", store=store, session_id="s1")
    assert again.cached and again.frame.equals(answer.frame) and again.sql == answer.sql
    entries = history.recent(store, "retail", "local", session_id="s1")
    assert [e.cached for e in entries] == [True, False]
    assert entries[0].id == again.history_id and entries[0].plan == answer.plan.to_dict()
    fresh = pipeline.ask(ws, "revenue by month in 2025", user="local", store=store, refresh=True)
    assert not fresh.cached


def test_a_column_that_a_metric_sums_is_that_metric_per_group(retail_demo) -> None:
    """ "spend by marketing channel": the undeclared column `spend` is what marketing spend sums, so the answer is
    that metric per channel, not a list of the monthly rows; 'list …' still lists them."""
    ws, store = retail_demo
    answer = pipeline.ask(ws, "spend by marketing channel", user="local", store=store)
    assert answer.plan is not None and answer.plan.metrics == ("marketing_spend",)
    sql = "SELECT marketing_channel, SUM(spend) AS s FROM marketing_spend GROUP BY 1 ORDER BY 1"
    gold = pipeline.run_sql(ws, sql, user="local", store=store).frame
    assert answer.frame.iloc[:, 0].tolist() == gold["marketing_channel"].tolist()
    assert [round(float(x), 2) for x in answer.frame.iloc[:, -1]] == [round(float(x), 2) for x in gold["s"]]
    listed = pipeline.ask(ws, "list spend by marketing channel", user="local", store=store)
    assert listed.plan is not None and not listed.plan.metrics and listed.row_count > 5
    # rows cannot be split by period: the column ranked per month is its total too
    ranked = pipeline.ask(
        ws,
        "for each marketing channel, which month of 2025 had the highest spend?",
        user="local",
        store=store,
    )
    assert ranked.plan is not None and ranked.plan.metrics == ("marketing_spend",) and ranked.row_count == 5
    sql = (
        "SELECT marketing_channel, MAX(spend) AS s FROM marketing_spend WHERE month >= DATE '2025-01-01' "
        "AND month < DATE '2026-01-01' GROUP BY 1 ORDER BY 1"
    )
    best = pipeline.run_sql(ws, sql, user="local", store=store).frame
    assert sorted(round(float(x), 2) for x in ranked.frame.iloc[:, -1]) == sorted(
        round(float(x), 2) for x in best["s"]
    )
    # "more spend in A than in B": the channels whose total rose, not a list of the rows of either period
    rose = pipeline.ask(
        ws, "Which marketing channels got more spend in Q2 2026 than in Q1 2026?", user="local", store=store
    )
    sql = (
        "SELECT marketing_channel FROM marketing_spend GROUP BY 1 HAVING SUM(CASE WHEN month >= DATE '2026-04-01' "
        "AND month < DATE '2026-07-01' THEN spend ELSE 0 END) > SUM(CASE WHEN month >= DATE '2026-01-01' "
        "AND month < DATE '2026-04-01' THEN spend ELSE 0 END) ORDER BY 1"
    )
    gold = pipeline.run_sql(ws, sql, user="local", store=store).frame
    assert rose.plan is not None and rose.plan.result_filters
    assert sorted(rose.frame.iloc[:, 0]) == gold["marketing_channel"].tolist()
    # the comparative said inside the phrasing "we spend on" asks the same
    said = pipeline.ask(
        ws,
        "which marketing channels did we spend more on in Q2 2026 than in Q1 2026?",
        user="local",
        store=store,
    )
    assert sorted(said.frame.iloc[:, 0]) == gold["marketing_channel"].tolist()


def test_a_tie_at_the_cut_of_a_top_n_is_said(retail_demo) -> None:
    """Two customers have 34 orders in 2025 at 5th place: the top 5 shows one and says the other exists."""
    ws, store = retail_demo
    tied = pipeline.ask(ws, "top 5 customers by number of orders in 2025", user="local", store=store)
    assert tied.row_count == 5
    assert "5th place is a tie" in tied.interpretation and "(34)" in tied.interpretation
    # the 2nd and 3rd customers have 45 and 35 orders: a top 2 ends cleanly
    clean = pipeline.ask(ws, "top 2 customers by number of orders in 2025", user="local", store=store)
    assert clean.row_count == 2 and "tie" not in clean.interpretation


REAL_QUESTIONS = [
    "revenue in 2025",
    "revenue by month in 2025",
    "top 5 products by revenue last year",
    "gross margin % by product category this year",
    "revenue last quarter vs the previous quarter",
    "share of revenue by product category in 2025",
    "orders by customer region and segment last year",
]


def test_real_explanations_quote_only_numbers_of_the_result(retail_demo) -> None:
    from test_ask_answer_parts import _in_frame, _numbers_in

    ws, store = retail_demo
    for question in REAL_QUESTIONS:  # one workspace for all: opening it is the slow part
        answer = pipeline.ask(ws, question, user="local", store=store)
        tokens = _numbers_in(answer.explanation, answer.frame, answer.columns)
        assert tokens, answer.explanation
        missing = [t for t in tokens if not _in_frame(t, answer.frame, answer.columns)]
        assert missing == [], f"{question}: {answer.explanation}"


def test_follow_up_uses_the_previous_plan(retail_demo) -> None:
    ws, store = retail_demo
    first = pipeline.ask(ws, "revenue by product category in 2025", user="local", store=store)
    follow = pipeline.ask(ws, "only online", user="local", store=store, previous=first.plan)
    assert follow.plan is not None and follow.plan.filters and follow.row_count == first.row_count


def test_planning_failure_is_recorded_and_raised(retail_demo) -> None:
    ws, store = retail_demo
    with pytest.raises(PlanningError) as err:
        pipeline.ask(ws, "zorblax quimble by flurb", user="local", store=store)
    assert err.value.message
    entry = history.recent(store, "retail", "local")[0]
    assert entry.error and entry.question == "zorblax quimble by flurb"


def test_a_learned_synonym_is_used_by_the_next_question(retail_demo) -> None:
    from datatruth.store import feedback

    ws, store = retail_demo
    with pytest.raises(PlanningError):
        pipeline.ask(ws, "zorblax in 2025", user="local", store=store)
    feedback.learn_synonym(store, "retail", "local", "zorblax", "metric", "revenue")
    answer = pipeline.ask(ws, "zorblax in 2025", user="local", store=store)
    assert answer.plan.metrics == ("revenue",)


def test_cache_stats_for_the_admin_page(retail_demo) -> None:
    from datatruth.ask.cache import workspace_cache

    ws, store = retail_demo
    pipeline.ask(ws, "orders in 2025", user="local", store=store)
    pipeline.ask(ws, "orders in 2025", user="local", store=store)
    stats = workspace_cache(ws).stats()
    assert stats.entries >= 1 and stats.hits >= 1 and 0 < stats.hit_rate < 1
    assert workspace_cache(ws).clear() == stats.entries
    assert not pipeline.ask(ws, "orders in 2025", user="local", store=store).cached


def test_rate_limit_stops_the_question_and_says_when(retail_demo) -> None:
    ws, store = retail_demo
    ws.config = dataclasses.replace(
        ws.config, limits=dataclasses.replace(ws.config.limits, questions_per_user_per_hour=1)
    )
    pipeline.ask(ws, "orders in 2025", user="local", store=store)
    with pytest.raises(RateLimited, match=r"try again in \d+ min"):
        pipeline.ask(ws, "orders in 2024", user="local", store=store)
    assert len(history.recent(store, "retail", "local")) == 1  # the refused question is not counted


def test_llm_hook_is_tried_only_when_the_rules_fail_and_an_llm_is_configured(retail_demo) -> None:
    ws, store = retail_demo
    seen = []

    def fake_llm(question: str, layer, context: pipeline.PlanContext) -> QueryPlan | None:
        seen.append((question, context.deterministic_error is not None))
        return QueryPlan(metrics=("orders",), dimensions=(DimensionRef("metric_time", "year"),))

    with pytest.raises(PlanningError):
        pipeline.ask(ws, "zorblax quimble", user="local", store=store, llm_planner=fake_llm)
    assert seen == []  # no LLM configured in this workspace
    ws.config = dataclasses.replace(ws.config, llm=LLMConfig(provider="openai", model="m"))
    answer = pipeline.ask(ws, "zorblax quimble", user="local", store=store, llm_planner=fake_llm)
    assert (
        answer.plan_source == "llm"
        and answer.plan.metrics == ("orders",)
        and seen == [("zorblax quimble", True)]
    )
    plain = pipeline.ask(ws, "orders in 2025", user="local", store=store, llm_planner=fake_llm)
    assert plain.plan_source == "deterministic" and len(seen) == 1

    def inventing_llm(question: str, layer, context: pipeline.PlanContext) -> QueryPlan | None:
        return QueryPlan(metrics=("happiness_index",))

    with pytest.raises(PlanningError, match="zorblax") as err:
        pipeline.ask(ws, "zorblax quimble", user="local", store=store, llm_planner=inventing_llm)
    assert "LLM's plan was rejected" in err.value.hint


def test_stage_list_is_the_documented_pipeline() -> None:
    assert pipeline.stage_names() == [
        "access",
        "rate_limit",
        "plan",
        "compile",
        "guard",
        "execute",
        "answer",
        "record",
    ]


def test_rate_limit_unit(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'm.sqlite'}")
    limits = Limits(
        questions_per_user_per_hour=2, upper_tier_users=("boss",), upper_tier_questions_per_hour=3
    )
    for user in ("ana", "ana", "boss", "boss"):
        history.add(store, "w", user, "q")
    with pytest.raises(RateLimited) as err:
        ratelimit.check(store, "w", limits, "ana")
    assert "limit in this workspace is 2" in err.value.message
    assert ratelimit.check(store, "w", limits, "boss").remaining == 1
    assert ratelimit.check(store, "other", limits, "ana").remaining == 2
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=1, minutes=1)
    assert ratelimit.check(store, "w", limits, "ana", now=later).used == 0


# -- CLI --------------------------------------------------------------------------------------------------


def test_cli_ask_json_contract(retail_demo, capsys: pytest.CaptureFixture[str]) -> None:
    from datatruth.cli.main import main

    assert main(["ask", "-w", "retail", "--json", "orders by channel in 2025"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) >= {
        "question",
        "sql",
        "plan",
        "columns",
        "rows",
        "row_count",
        "cached",
        "elapsed_ms",
        "explanation",
    }
    assert payload["row_count"] == 2 and all(isinstance(r[-1], int) for r in payload["rows"])
    assert main(["ask", "-w", "retail", "--json", "zorblax by quimble"]) == 2
    failed = json.loads(capsys.readouterr().out)
    assert "error" in failed and "suggestions" in failed and "rows" not in failed


def test_cli_batch_keeps_order_and_follow_ups(
    retail_demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datatruth.cli.main import main

    batch = tmp_path / "q.txt"
    batch.write_text("# comment\nrevenue by product category in 2025\n+ only online\n\norders in 2025\n")
    assert main(["ask", "-w", "retail", "--batch", str(batch), "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["question"] for x in lines] == [
        "revenue by product category in 2025",
        "only online",
        "orders in 2025",
    ]
    assert lines[1]["plan"]["filters"] and lines[2]["row_count"] == 1


def test_cli_readable_and_sql(retail_demo, capsys: pytest.CaptureFixture[str]) -> None:
    from datatruth.cli.main import main

    assert main(["ask", "-w", "retail", "orders in 2025"]) == 0
    out = capsys.readouterr().out
    assert "SQL:" in out and "row(s)" in out
    assert main(["sql", "-w", "retail", "--json", "SELECT COUNT(*) AS n FROM stores"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == [[31]]
    assert main(["sql", "-w", "retail", "DELETE FROM stores"]) == 2
    assert "error:" in capsys.readouterr().err


def test_installed_script_prints_json(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = {**os.environ, **isolate(monkeypatch, tmp_path)}
    script = REPO / ".venv" / "bin" / "datatruth"
    done = subprocess.run(
        [str(script), "sql", "-w", "retail", "--json", "SELECT COUNT(*) AS n FROM stores"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] == [[31]]
