"""Tracebacks that reached users (the slow-log ones are tested with the slow-log tools): each is now a message."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from datatruth import resources
from datatruth.cli.main import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def retail_copy(private_dirs: dict[str, str]) -> Path:
    """The retail workspace with its own copy of the model files (to break one expression)."""
    root = Path(private_dirs["DATATRUTH_WORKSPACES_DIR"])
    shutil.copytree(REPO / "workspaces" / "retail", root / "retail")
    shutil.copytree(REPO / "semantic_models" / "retail", root.parent / "models")
    yaml_path = root / "retail" / "workspace.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("../../semantic_models/retail", "../../models"))
    return root.parent / "models" / "metrics.yaml"


@pytest.mark.parametrize("expr", ["revenue - (cost", "revenue ||| 'x", "CASE WHEN"])
def test_semantic_compile_on_a_bad_expression(retail_copy: Path, capsys, expr: str) -> None:
    text = retail_copy.read_text()
    assert "expr: revenue - cost" in text
    retail_copy.write_text(text.replace("expr: revenue - cost", f"expr: {json.dumps(expr)}"))
    assert main(["semantic", "compile", "-w", "retail", "--metric", "gross_margin"]) == 2
    err = capsys.readouterr().err
    assert "is not valid SQL" in err and "semantic validate" in err
    assert main(["semantic", "validate", "-w", "retail"]) == 1
    assert "metrics.yaml:" in capsys.readouterr().out


def test_deeply_nested_json_from_the_llm_falls_back_to_the_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fake_openai import KEY_ENV, KEY_VALUE, FakeOpenAI, Reply, build_shop, llm_settings

    from datatruth.ask import pipeline
    from datatruth.ask.planner import build_planner
    from datatruth.errors import PlanningError

    monkeypatch.setenv(KEY_ENV, KEY_VALUE)
    monkeypatch.setattr(
        pipeline,
        "planner_for",
        lambda ws, store, layer, user=None: build_planner(ws, store=store, layer=layer, user=user),
    )
    with FakeOpenAI() as server:
        ws, store = build_shop(tmp_path, llm=llm_settings(server, timeout_s=2, max_retries=0))
        try:
            server.script.append(Reply(content='{"plan": ' + "[" * 100_000 + "]" * 100_000 + "}"))
            with pytest.raises(PlanningError) as err:  # the rules' own message, not a RecursionError
                pipeline.ask(ws, "what was our income by region in 2025", user="local", store=store)
            assert "income" in err.value.message or err.value.suggestions
            assert len(server.requests) == 1
        finally:
            resources.invalidate(ws.name)
            ws.close()


def test_the_llm_client_measures_depth_without_recursion() -> None:
    from datatruth.llm.client import MAX_REPLY_DEPTH, json_depth

    assert json_depth('{"a": [1, {"b": "[[[ \\" ]]"}]}') == 3
    assert json_depth("[" * 1_000_000) == 1_000_000
    assert MAX_REPLY_DEPTH < 100
