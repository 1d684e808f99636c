"""Names of dates and years answer to the verbs of their events ("the date it was opened", "built before 1980");
the first line of an address to "street address"."""

from __future__ import annotations

from pathlib import Path

from datatruth.ask.vocabulary import _event_phrases, build_vocabulary
from datatruth.semantic.model import SemanticLayer, load_semantic_model

MODEL = """
semantic_models:
  - name: claims
    table: claims
    defaults: {agg_time_dimension: claim_open_date}
    entities: [{name: claim, type: primary, expr: claim_id}]
    dimensions:
      - {name: claim_open_date, type: time, time_granularity: day}
      - {name: year_built, type: categorical}
      - {name: year_code, type: categorical}
      - {name: line_1_address, type: categorical}
    measures: [{name: claim_count, agg: count, expr: "1"}]
metrics: [{name: claims, type: simple, measure: claim_count}]
"""


def _layer(tmp_path: Path) -> SemanticLayer:
    (tmp_path / "claims.yaml").write_text(MODEL, encoding="utf-8")
    return load_semantic_model([tmp_path])


def test_event_dates_answer_to_their_verb() -> None:
    assert "date it was opened" in _event_phrases("claim open date")
    assert "closed" in _event_phrases("claim close date")
    assert _event_phrases("order date") == []  # "ordered" means a sort order as often as an event
    assert _event_phrases("claim open") == []  # not a date


def test_vocabulary_reads_event_verbs_and_year_verbs(tmp_path: Path) -> None:
    vocab = build_vocabulary(_layer(tmp_path))
    assert {t.target for t in vocab.lookup("opened")} == {"claim__claim_open_date"}
    assert {t.target for t in vocab.lookup("date it was opened")} == {"claim__claim_open_date"}
    assert {t.target for t in vocab.lookup("built")} == {"claim__year_built"}
    assert {t.target for t in vocab.lookup("street address")} == {"claim__line_1_address"}
    assert not vocab.lookup("code") or all(t.source != "verb" for t in vocab.lookup("code"))
