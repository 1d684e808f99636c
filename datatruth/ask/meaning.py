"""Choices from meaning: when the rules refuse a word, the vector index may know what it means ("income" →
revenue). That reading is offered as a choice the user can pick — planned first, so it can be answered — and
never used to answer on its own: a guessed meaning is not a confident number.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from datatruth.ask.vocabulary import split_words
from datatruth.errors import PlanningError
from datatruth.semantic.plan import QueryPlan

if TYPE_CHECKING:
    from datatruth.ask.pipeline import PlanMaker

MAX_CHOICES = 3


class ChoicePlanner:
    """Plans with the rules; a refusal gains "did you mean" questions built from the vector index's readings."""

    def __init__(self, planner: PlanMaker, resolver: Callable[[str], Any]) -> None:
        self.planner = planner
        self.resolver = resolver

    def complete(self, err: PlanningError, question: str) -> PlanningError:
        """A refusal raised outside the planner, with an interpretation and choices (see RulePlanner.complete)."""
        return self.planner.complete(err, question)

    def plan(self, question: str, previous: QueryPlan | None = None) -> QueryPlan:
        """The rules' plan; on a refusal, the same refusal with the meanings found offered as choices."""
        try:
            return self.planner.plan(question, previous=previous)
        except PlanningError as err:
            found = self._meanings(question, err.unmatched, previous)
            if not found:
                raise
            choices = list(dict.fromkeys(found + err.choices))[:MAX_CHOICES]
            raise PlanningError(
                err.message, err.hint, err.suggestions, err.unmatched, err.interpretation, choices
            ) from None

    def _meanings(self, question: str, unmatched: Sequence[str], previous: QueryPlan | None) -> list[str]:
        words = {w.lower: w for w in reversed(split_words(question))}
        edits: list[tuple[int, int, str]] = []
        for raw in dict.fromkeys(unmatched):
            word = words.get(raw.lower())
            resolved = self.resolver(raw) if word is not None else None
            if resolved is None or word is None:
                continue
            edits.append((word.start, word.end, resolved.name.split("__")[-1].replace("_", " ")))
        if not edits:
            return []
        text = question
        for start, end, name in sorted(edits, reverse=True):
            text = text[:start] + name + text[end:]
        try:
            self.planner.plan(text, previous=previous)
        except PlanningError:
            return []
        return [text]
