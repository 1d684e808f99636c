"""The planner's closed word lists (datatruth/ask/lexicon.yaml), extended by a model's phrasings and periods.

The lists say how a question is built — which words are only function words, which aggregate, rank, compare,
negate, list or define — as data a model can extend, not as constants in the planner's code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from datatruth.ask.vocabulary import normalize, split_words
from datatruth.semantic.model import NamedPeriod, SemanticLayer


def _words(items: Iterable[Any]) -> list[str]:
    """Entries as text; YAML 1.1 reads bare on/off/yes/no as booleans, which are refused here to be quoted."""
    out = []
    for item in items:
        if isinstance(item, bool):
            raise ValueError("lexicon.yaml: quote on/off/yes/no, YAML reads them as true/false")
        out.append(str(item))
    return out


def _phrases(items: Iterable[Any]) -> tuple[tuple[str, ...], ...]:
    """Each entry as a tuple of lower-case words as written (not singular: "means" is not "mean"), longest
    first (so 'at least' wins over 'least')."""
    out = {tuple(w.lower for w in split_words(i)) or (i,) for i in _words(items)}
    return tuple(sorted(out, key=lambda p: (-len(p), p)))


@dataclass(frozen=True)
class Lexicon:
    """Closed word classes of questions, as normalised words or phrases (tuples of words)."""

    function_words: frozenset[str]
    light_verbs: frozenset[str]
    relation_verbs: frozenset[str]
    aggregates: tuple[tuple[tuple[str, ...], str], ...]  # phrase → avg | median | min | max | sum | count | …
    distinct_words: frozenset[str]
    high: frozenset[str]
    low: frozenset[str]
    polar: frozenset[str]
    lower_is_better: tuple[str, ...]
    comparators: tuple[tuple[tuple[str, ...], str], ...]  # phrase → op
    negations: tuple[tuple[str, ...], ...]
    list_words: frozenset[str]
    versus: tuple[tuple[str, ...], ...]
    group_cues: tuple[tuple[str, ...], ...]
    list_cues: frozenset[str]
    per_member: tuple[tuple[str, ...], ...]
    followup_openers: tuple[tuple[str, ...], ...]
    followup_pronouns: frozenset[str]
    definition_words: tuple[tuple[str, ...], ...]
    arithmetic: tuple[tuple[tuple[str, ...], str], ...]  # phrase → + - * /
    periods: tuple[NamedPeriod, ...]
    noun_forms: tuple[tuple[str, str], ...] = ()  # "paid" → "payment": a name said with a participle

    @property
    def words(self) -> frozenset[str]:
        """Every word of every closed list (never read as a value or a typo of a name)."""
        out = set(
            self.function_words
            | self.light_verbs
            | self.distinct_words
            | self.high
            | self.low
            | self.list_words
            | self.list_cues
            | self.followup_pronouns
        )
        for groups in (
            self.negations,
            self.versus,
            self.group_cues,
            self.followup_openers,
            self.definition_words,
            self.per_member,
        ):
            out |= {w for phrase in groups for w in phrase}
        for pairs in (self.aggregates, self.comparators, self.arithmetic):
            out |= {w for phrase, _ in pairs for w in phrase}
        return frozenset(out)

    @property
    def meaningful(self) -> frozenset[str]:
        """Words of the lists that change a number (aggregates, rankings, comparators, negations, 'vs'): a
        misspelling of one is worth correcting; a misspelt function word is not (it may be a content word)."""
        out = set(self.high | self.low | self.distinct_words)
        for groups in (self.negations, self.versus):
            out |= {w for phrase in groups for w in phrase}
        for pairs in (self.aggregates, self.comparators):
            out |= {w for phrase, _ in pairs for w in phrase}
        return frozenset(w for w in out if len(w) >= 4 and w.isalpha())

    def starts(self, words: list[str], i: int, phrases: Iterable[tuple[str, ...]]) -> tuple[str, ...] | None:
        """The first phrase (longest first) that the words starting at i spell, or None."""
        for phrase in phrases:
            if tuple(words[i : i + len(phrase)]) == phrase:
                return phrase
        return None

    def with_model(self, layer: SemanticLayer) -> Lexicon:
        """The lexicon with the model's named periods added (a model's period overrides a default one)."""
        if not layer.periods:
            return self
        names = {normalize(w) for p in layer.periods for w in (p.name, *p.synonyms)}
        kept = tuple(p for p in self.periods if not {normalize(w) for w in (p.name, *p.synonyms)} & names)
        return Lexicon(**{**self.__dict__, "periods": kept + tuple(layer.periods)})


@cache
def default_lexicon() -> Lexicon:
    """The packaged lexicon (read once)."""
    raw = yaml.safe_load(
        resources.files("datatruth.ask").joinpath("lexicon.yaml").read_text(encoding="utf-8")
    )
    aggs = raw["aggregates"]
    distinct = frozenset(normalize(w) for w in aggs.get("count_distinct", []))
    agg_pairs = [(p, fn) for fn, words in aggs.items() if fn != "count_distinct" for p in _phrases(words)]
    ranking = raw["ranking"]
    return Lexicon(
        function_words=frozenset(normalize(w) for w in _words(raw["function_words"]))
        | frozenset(w.lower() for w in _words(raw["function_words"])),
        light_verbs=frozenset(normalize(w) for w in _words(raw["light_verbs"]))
        | frozenset(w.lower() for w in _words(raw["light_verbs"])),
        relation_verbs=frozenset(w.lower() for w in _words(raw["relation_verbs"])),
        aggregates=tuple(sorted(agg_pairs, key=lambda x: -len(x[0]))),
        distinct_words=distinct,
        high=frozenset(normalize(w) for w in ranking["high"]),
        low=frozenset(normalize(w) for w in ranking["low"]),
        polar=frozenset(normalize(w) for w in ranking["polar"]),
        lower_is_better=tuple(str(w) for w in ranking["lower_is_better"]),
        comparators=tuple(
            sorted(
                ((p, op) for op, words in raw["comparators"].items() for p in _phrases(words)),
                key=lambda x: -len(x[0]),
            )
        ),
        negations=_phrases(raw["negations"]),
        list_words=frozenset(normalize(str(w)) or str(w) for w in raw["list_words"]),
        versus=_phrases(raw["versus_words"]),
        group_cues=_phrases(raw["group_cues"]),
        list_cues=frozenset(normalize(w) for w in raw["list_cues"]),
        per_member=_phrases(raw["per_member"]),
        followup_openers=_phrases(raw["followup_openers"]),
        followup_pronouns=frozenset(normalize(w) for w in raw["followup_pronouns"]),
        definition_words=_phrases(raw["definition_words"]),
        arithmetic=tuple(
            sorted(
                ((p, op) for op, words in raw["arithmetic"].items() for p in _phrases(words)),
                key=lambda x: -len(x[0]),
            )
        ),
        periods=tuple(
            NamedPeriod(p["name"], tuple(p["months"]), tuple(p.get("synonyms", ()))) for p in raw["periods"]
        ),
        noun_forms=tuple((str(k).lower(), str(v).lower()) for k, v in raw.get("noun_forms", {}).items()),
    )
