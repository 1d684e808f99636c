"""The value index: distinct values of low-cardinality categorical dimensions, so "in Texas" finds its column.

Values come first from the model's `sample_values`, then from `SELECT DISTINCT` run in the warehouse for each
categorical dimension (skipping sensitive columns and dimensions with more distinct values than the cap).
Names and codes are both indexed ("United Air Lines Inc." and "UA"). The index lives in memory as dicts keyed by
normalised text, with rapidfuzz over a bounded candidate list for typos, and is persisted as JSON under the
workspace data dir, keyed by the semantic model's version so a changed model rebuilds it.
"""

from __future__ import annotations

import calendar
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlglot
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA
from sqlglot import exp

from datatruth.ask.vocabulary import STOP_WORDS, Word, normalize
from datatruth.errors import UserError
from datatruth.semantic.model import SemanticLayer, SemanticModel

FORMAT_VERSION = 4
MAX_DISTINCT = 2000
_MAX_VALUE_WORDS = 6
EMPTY = "no values: the column is empty in every row"
# Short codes ("TX", "UA", "JFK") collide with English words; they count only when written in capitals
# or right after a preposition that introduces a place or a party.
_CODE_CUES = {"from", "to", "in", "at", "for", "via", "into", "out", "of", "by", "and", "or", "vs", "than"}

# words of the calendar: in lower case they are time, never a value that happens to be spelled alike
_CALENDAR_WORDS = frozenset(
    {
        "year",
        "quarter",
        "month",
        "week",
        "day",
        "date",
        "time",
        "hour",
        "minute",
        "today",
        "annual",
        "monthly",
    }
)
# the names of months and weekdays, which a misspelt word is read as before any value
_PLAIN_NAMES = frozenset(n.lower() for n in (*calendar.month_name[1:], *calendar.day_name))
# auxiliaries before the subject of a question ("how many planes did jetblue fly"): a name may follow
_SUBJECT_CUES = frozenset({"did", "does", "do", "has", "have", "had"})
# words that order or qualify a noun ("first flights", "new customers"), never a name before it
_ORDINALS = frozenset(
    {"first", "second", "third", "last", "next", "early", "late", "new", "old", "other", "same"}
)
# words that join the members of a list of values
_LIST_WORDS = frozenset({"and", "or", "vs", "versus", "&", "nor"})


def _list_neighbours(words: Sequence[Word], i: int, is_value: Callable[[int], bool]) -> list[int]:
    """The words next to word i in a list: across a list word ("united vs delta"), or a value right beside it
    (a list written with commas: "jetblue, southwest")."""
    out = []
    for step in (-1, 1):
        j = i + step
        if not 0 <= j < len(words):
            continue
        if words[j].lower in _LIST_WORDS:
            j += step
        elif not is_value(j):
            continue
        if 0 <= j < len(words):
            out.append(j)
    return out


Fetch = Callable[[str], list[tuple[Any, ...]]]


@dataclass(frozen=True)
class ValueCandidate:
    """One dimension holding a matched value."""

    dimension: str
    value: str


@dataclass(frozen=True)
class ValueHit:
    """Words [start, end) of a question that name one or more values of dimensions."""

    start: int
    end: int
    phrase: str
    candidates: tuple[ValueCandidate, ...]
    score: float
    method: str  # exact | code | compact | partial | fuzzy


@dataclass
class ValueIndex:
    """Distinct values per dimension with lookups by normalised text, compact text and single words."""

    version: str
    values: dict[str, list[str]] = field(default_factory=dict)  # dimension -> raw values
    numeric: dict[str, str] = field(default_factory=dict)  # dimension -> "int" | "float" | "bool"
    skipped: dict[str, str] = field(default_factory=dict)  # dimension -> why it has no values
    samples: dict[str, list[str]] = field(default_factory=dict)  # dimension -> the model's sample values
    ranges: dict[str, list[float]] = field(default_factory=dict)  # numeric dimension -> [min, max] seen
    aliases: dict[str, dict[str, list[str]]] = field(
        default_factory=dict
    )  # dimension -> {other name: values}

    def __post_init__(self) -> None:
        self._exact: dict[str, list[ValueCandidate]] = {}
        self._compact: dict[str, list[ValueCandidate]] = {}
        self._word: dict[str, list[ValueCandidate]] = {}
        for dim, names in self.aliases.items():
            for alias, raws in names.items():
                key = normalize(alias)
                for raw in raws if key else ():
                    _add(self._exact, key, ValueCandidate(dim, raw))
                    _add(self._compact, key.replace(" ", ""), ValueCandidate(dim, raw))
        for dim, raws in self.values.items():
            for raw in raws:
                key = normalize(raw)
                if not key:
                    continue
                cand = ValueCandidate(dim, raw)
                _add(self._exact, key, cand)
                _add(self._compact, key.replace(" ", ""), cand)
                # in a path-like value ("Pacific/Honolulu") the parts before the last '/' are a namespace many
                # values share: only the last part names this one ("Honolulu", never "Pacific")
                named = normalize(raw.rsplit("/", 1)[-1]) if "/" in raw else key
                for word in set(named.split()):
                    if len(word) >= 4 and word not in STOP_WORDS:
                        _add(self._word, word, cand)
        self._prefix: dict[str, list[ValueCandidate]] = {}
        for key, cands in list(self._exact.items()):
            parts = key.split()
            for k in range(2, len(parts)):
                for cand in cands:
                    _add(self._prefix, " ".join(parts[:k]), cand)
        # Typos rarely hit the first letter: bucketing by it keeps fuzzy search to a short list.
        self._fuzzy_keys: dict[str, list[str]] = {}
        for key in sorted(self._exact):
            if len(key) >= 4:
                self._fuzzy_keys.setdefault(key[0], []).append(key)
        self._word_keys: dict[str, list[str]] = {}
        for word in sorted(
            w
            for w in set(self._word) | {k for k in self._exact if " " not in k}
            if len(w) >= 5 and w.isalpha()
        ):
            self._word_keys.setdefault(word[0], []).append(word)
        self.max_words = min(_MAX_VALUE_WORDS, max((len(k.split()) for k in self._exact), default=1))

    @property
    def size(self) -> int:
        """How many values are indexed."""
        return sum(len(v) for v in self.values.values())

    def dimensions_with(self, text: str) -> list[ValueCandidate]:
        """Exact candidates for a value written as `text`."""
        return list(self._exact.get(normalize(text), ()))

    def matches(  # noqa: C901 - exact, compact, prefix then single-word passes, in ranked order
        self,
        words: Sequence[Word],
        free: Sequence[bool],
        vocabulary_words: frozenset[str] = frozenset(),
        closed_words: frozenset[str] = frozenset(),
        fuzzy: bool = True,
        verbs: frozenset[str] = frozenset(),
    ) -> list[ValueHit]:
        """Candidate value mentions among the free words: exact and compact first, then partial and fuzzy."""
        hits: list[ValueHit] = []
        n = len(words)
        covered = [False] * n
        shouting = all(w.raw.isupper() for w in words if w.raw.isalpha())
        common = vocabulary_words | closed_words | _ORDINALS  # the question's own words (`_common_words`)
        for i in range(n):
            if not free[i]:
                continue
            for j in range(min(n, i + self.max_words), i, -1):
                if not all(free[i:j]):
                    continue
                key = " ".join(w.norm for w in words[i:j])
                cands = self._exact.get(key)
                method = "exact"
                if cands:
                    cands = cands + self._family(key, cands)
                if not cands and not (j - i >= 2 and words[i].norm in STOP_WORDS):
                    # "on lines" is a preposition and a noun, never "Online" written apart
                    cands = self._compact.get(key.replace(" ", "").replace("-", ""))
                    method = "compact"
                # "McDonnell Douglas aircraft": a value named exactly, then a noun of the model, is that value
                # (and its family), not a longer name the noun happens to begin
                if (
                    not cands
                    and j - i >= 2
                    and not (
                        words[j - 1].norm in common
                        and " ".join(w.norm for w in words[i : j - 1]) in self._exact
                    )
                    and not self._common_words(words[i:j], i, common)
                ):
                    cands = self._prefix.get(key)  # "Endeavor Air" for "Endeavor Air Inc."
                    method = "prefix"
                if not cands:
                    continue
                if j - i == 1 and not self._single_word_ok(words, i, shouting):
                    continue
                if j - i == 1 and len(key) <= 3:
                    method = "code"
                hits.append(
                    ValueHit(
                        i,
                        j,
                        " ".join(w.raw for w in words[i:j]),
                        tuple(cands),
                        1.0 if method not in ("compact", "prefix") else 0.95,
                        method,
                    )
                )
                for k in range(i, j):
                    covered[k] = True
        for i in range(n):
            word = words[i]
            if not free[i] or covered[i] or word.norm in STOP_WORDS or word.norm in vocabulary_words:
                continue
            if len(word.norm) < 4 or not word.norm.isalpha():
                continue
            cands = self._partial(word.norm)
            # a word inside a longer name ("pilots" in "Pilot Point Airport") must look like a name: capitalised,
            # or after a word that introduces a place or a party ("to denver")
            # the first word of a question is capitalised anyway; it names a value only as the first of a list
            # ("Southwest vs JetBlue"), or as the name in front of a figure ("Delta average departure delay")
            leads_list = i == 0 and (
                word.possessive
                or i + 1 < n
                and (
                    words[i + 1].lower in ("vs", "versus", "or", "and", "&")
                    or words[i + 1].norm in vocabulary_words
                    and word.norm not in closed_words | vocabulary_words
                )
            )
            capital = word.raw[:1].isupper() and (i > 0 or leads_list) and not shouting
            named = capital or (i > 0 and words[i - 1].lower in _CODE_CUES | _SUBJECT_CUES)
            if cands and capital:  # one word of a longer name counts only when written as a name
                # "pilot" in "by pilot" is not "Pilot Point Airport"
                hits.append(ValueHit(i, i + 1, word.raw, tuple(cands), 0.8, "partial"))
                covered[i] = True
                continue
            leading = self._one_leading([c for c in cands if normalize(c.value).split()[:1] == [word.norm]])
            # a name right before a plural noun of the model ("jetblue flights") or its verb ("the distance delta
            # flew") names a member
            plural_noun = (
                i + 1 < n
                and words[i + 1].norm in vocabulary_words
                and words[i + 1].lower != words[i + 1].norm
            )
            before_noun = (
                plural_noun or (i + 1 < n and words[i + 1].lower in verbs)
            ) and word.norm not in vocabulary_words | closed_words | _ORDINALS
            if (
                len({c.value for c in leading}) == 1
                and (named or before_noun)
                and (i > 0 or before_noun)
                and words[i - 1].lower not in ("by", "and", "or", "vs", "than")
            ):
                # "from newark", "for jetblue": in lower case, a place word only when it starts the name
                hits.append(ValueHit(i, i + 1, word.raw, tuple(leading), 0.75, "partial"))
                covered[i] = True
                continue
            if fuzzy and not cands and named:
                hit = self._fuzzy(words, i, free, covered, vocabulary_words)
                if hit is not None:
                    hits.append(hit)
                    for k in range(hit.start, hit.end):
                        covered[k] = True
        return hits + self._listed(words, free, covered, hits, vocabulary_words)

    @staticmethod
    def _common_words(said: Sequence[Word], at: int, common: frozenset[str]) -> bool:
        """ "the first flight": words of the question's own language (the model's nouns, ranking words) that only
        begin a longer name ("First Flight Airport") do not name it unless written as a name mid-sentence."""
        as_name = at > 0 and all(w.raw[:1].isupper() for w in said)
        return not as_name and all(w.norm in common or w.lower in common for w in said)

    def _listed(
        self,
        words: Sequence[Word],
        free: Sequence[bool],
        covered: Sequence[bool],
        hits: list[ValueHit],
        vocabulary_words: frozenset[str],
    ) -> list[ValueHit]:
        """Lower-case words in a list of values of one dimension ("united vs delta", "jetblue, southwest and virgin
        america"): each starts exactly one value of that dimension, and a neighbour in the list is a value of it
        too. Alone, "united" or "delta" is an English word; beside another airline it names one."""
        n = len(words)
        dims: list[set[str]] = [set() for _ in range(n)]
        for h in hits:
            for k in range(h.start, h.end):
                dims[k] |= {c.dimension for c in h.candidates}
        leads = {
            i: one
            for i in range(n)
            if free[i] and not covered[i] and (one := self._leading(words[i], vocabulary_words))
        }
        found: dict[int, ValueHit] = {}
        changed = True
        while changed:
            changed = False
            for i in (i for i in leads if i not in found):
                for j in _list_neighbours(words, i, lambda j: bool(dims[j]) or j in leads):
                    pair = j in leads and j not in found
                    shared = (set(leads[i]) & set(leads[j]) - dims[j]) if pair else set(leads[i]) & dims[j]
                    if len(shared) != 1:
                        continue
                    dim = shared.pop()
                    for k in (i, j) if pair else (i,):
                        found[k] = ValueHit(k, k + 1, words[k].raw, (leads[k][dim],), 0.75, "partial")
                        dims[k].add(dim)
                    changed = True
                    break
        return [found[k] for k in sorted(found)]

    def _leading(self, word: Word, vocabulary_words: frozenset[str]) -> dict[str, ValueCandidate]:
        """Per dimension, the one value whose name starts with this word (dimensions with several are left out)."""
        if (
            word.norm in STOP_WORDS
            or word.norm in vocabulary_words
            or len(word.norm) < 4
            or not word.norm.isalpha()
        ):
            return {}
        by_dim: dict[str, list[ValueCandidate]] = {}
        for c in self._partial(word.norm):
            if normalize(c.value).split()[:1] == [word.norm]:
                by_dim.setdefault(c.dimension, []).append(c)
        return {d: cs[0] for d, cs in by_dim.items() if len({c.value for c in cs}) == 1}

    def _family(self, key: str, cands: list[ValueCandidate]) -> list[ValueCandidate]:
        """Values of a short list that start with an exact value's words ("Airbus" is AIRBUS and AIRBUS
        INDUSTRIE, two spellings of one maker); never in long lists of names, where "Wei Young" is one person."""
        dims = {c.dimension for c in cands}
        out: list[ValueCandidate] = []
        for dim in dims:
            values = self.values.get(dim, ())
            if len(values) > 200:
                continue
            out += [
                ValueCandidate(dim, v)
                for v in values
                if normalize(v).startswith(key + " ") and ValueCandidate(dim, v) not in cands
            ]
        return out

    def _one_leading(self, leading: list[ValueCandidate]) -> list[ValueCandidate]:
        """Of the values a word starts, the one of a small list when the other lists are far longer: "southwest"
        starts one of 16 airlines and two of 1,458 airports; it names the airline."""
        if len({c.value for c in leading}) <= 1:
            return leading
        by_dim: dict[str, set[str]] = {}
        for c in leading:
            by_dim.setdefault(c.dimension, set()).add(c.value)
        sizes = {dim: len(self.values.get(dim, ())) or 1 for dim in by_dim}
        small = [dim for dim, values in by_dim.items() if len(values) == 1]
        for dim in small:
            if all(sizes[dim] * 10 <= sizes[other] for other in by_dim if other != dim):
                return [c for c in leading if c.dimension == dim]
        return leading

    def _partial(self, word: str) -> list[ValueCandidate]:
        """Values containing `word`, per dimension: the model's sample values when some match, else all of them
        (a word shared by many values of a dimension, like "international", names none of them)."""
        by_dim: dict[str, list[ValueCandidate]] = {}
        for cand in self._word.get(word, ()):
            by_dim.setdefault(cand.dimension, []).append(cand)
        out: list[ValueCandidate] = []
        for dim, cands in by_dim.items():
            samples = set(self.samples.get(dim, ()))
            preferred = [c for c in cands if c.value in samples]
            if preferred:
                out += preferred
            elif len(cands) <= 8:
                out += cands
        return out

    def is_empty(self, dimension: str) -> bool:
        """True when the warehouse holds no value of this dimension at all."""
        return self.skipped.get(dimension) == EMPTY

    def is_value_word(self, word: str) -> bool:
        """True when a normalised word is a whole value or part of one."""
        return word in self._exact or word in self._word

    def _single_word_ok(self, words: Sequence[Word], i: int, shouting: bool) -> bool:
        word = words[i]
        if word.norm in _CALENDAR_WORDS and not word.raw[:1].isupper():
            return False  # "by year" is a grain, not the value "Year" of some column
        if word.norm in STOP_WORDS or len(word.norm) <= 3:
            if word.raw.isupper() and not shouting and len(word.raw) >= 2:
                return True
            # a capitalised word inside a list of values ("Search, Social and Display") names a value
            if (
                word.raw[:1].isupper()
                and not shouting
                and i > 0
                and len(word.raw) >= 4
                and words[i - 1].lower in ("and", "or", "&", "vs", "versus", "nor")
            ):
                return True
            if (
                word.raw[:1].isupper()
                and not shouting
                and i > 0
                and len(word.raw) >= 3
                and word.norm not in STOP_WORDS
                and i + 2 < len(words)
                and words[i + 1].lower in ("and", "or", "&", "nor")
                and words[i + 2].raw[:1].isupper()
            ):
                return (
                    True  # "Kids, Men and Women": a capitalised word leading the last of a list names a value
                )
            previous = words[i - 1].lower if i > 0 else ""
            following = words[i + 1].lower if i + 1 < len(words) else ""
            # "jfk vs lga": a short word set against another names a code as much as "from jfk" does
            cued = previous in _CODE_CUES or following in ("vs", "versus")
            return word.norm not in STOP_WORDS and cued and len(word.norm) >= 2
        return True

    def _fuzzy(
        self,
        words: Sequence[Word],
        i: int,
        free: Sequence[bool],
        covered: Sequence[bool],
        vocabulary_words: frozenset[str],
    ) -> ValueHit | None:
        best: ValueHit | None = None
        for j in (i + 2, i + 1):
            if j > len(words) or not all(free[i:j]) or any(covered[i:j]):
                continue
            key = " ".join(w.norm for w in words[i:j])
            if any(w.norm in STOP_WORDS for w in words[i:j]):
                continue
            found = process.extractOne(
                key, self._fuzzy_keys.get(key[0], []), scorer=fuzz.ratio, score_cutoff=86
            )
            if found is None:
                continue
            score = round(found[1] / 100, 3)
            if best is None or score > best.score:
                best = ValueHit(
                    i, j, " ".join(w.raw for w in words[i:j]), tuple(self._exact[found[0]]), score, "fuzzy"
                )
        return best or self._respelled(words[i], i, vocabulary_words)

    def _respelled(self, word: Word, i: int, vocabulary_words: frozenset[str]) -> ValueHit | None:
        """A name misspelt by one edit ("Newrak", "Amercan"): the one word of a value at that distance, when it is a
        whole value or starts exactly one. A ratio cut-off misses a swapped pair of letters in a short word."""
        norm = word.norm
        if len(norm) < 5 or not norm.isalpha() or not word.raw[:1].isupper() or word.raw.isupper():
            return None  # only a word written as a name: "in stock" is no misspelt "Snacks"
        if any(OSA.distance(norm, w, score_cutoff=1) <= 1 for w in _PLAIN_NAMES | vocabulary_words):
            return None  # "Marhc" is March, "flihgts" is flights: a word of the model or calendar comes first
        near = [
            w
            for w in self._word_keys.get(norm[0], ())
            if abs(len(w) - len(norm)) <= 1 and OSA.distance(norm, w, score_cutoff=1) <= 1
        ]
        if len(near) != 1:
            return None  # two names one letter away: no guess
        right = near[0]
        cands = self._exact.get(right) or [
            c for c in self._partial(right) if normalize(c.value).split()[:1] == [right]
        ]
        if cands and len({c.dimension for c in cands}) != len({(c.dimension, c.value) for c in cands}):
            # "Soutwest" starts several airports too: read as the name written right would be, one word of
            # longer names, and left to the reading of the question like it
            cands = self._partial(right)
        return ValueHit(i, i + 1, word.raw, tuple(cands), 0.7, "fuzzy") if cands else None

    # -- persistence -----------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The index as JSON-able data."""
        return {
            "format": FORMAT_VERSION,
            "version": self.version,
            "values": self.values,
            "numeric": self.numeric,
            "skipped": self.skipped,
            "samples": self.samples,
            "ranges": self.ranges,
            "aliases": self.aliases,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValueIndex:
        """Read an index written by `to_dict`."""
        return cls(
            str(data["version"]),
            {k: list(v) for k, v in data["values"].items()},
            dict(data["numeric"]),
            dict(data.get("skipped", {})),
            {k: list(v) for k, v in data.get("samples", {}).items()},
            {k: [float(x) for x in v] for k, v in data.get("ranges", {}).items()},
            {k: {a: list(v) for a, v in names.items()} for k, names in data.get("aliases", {}).items()},
        )


def _add(index: dict[str, list[ValueCandidate]], key: str, cand: ValueCandidate) -> None:
    bucket = index.setdefault(key, [])
    if cand not in bucket:
        bucket.append(cand)


def _source(model: SemanticModel, dialect: str) -> exp.Expr:
    if model.sql:
        return exp.Subquery(
            this=sqlglot.parse_one(model.sql, read=dialect),
            alias=exp.TableAlias(this=exp.to_identifier(model.name)),
        )
    return exp.alias_(exp.to_table(model.table, dialect=dialect), model.name, table=True)


def distinct_sql(model: SemanticModel, expr: str, limit: int, dialect: str = "duckdb") -> str:
    """SELECT DISTINCT of one dimension expression over its model (at most `limit` rows)."""
    column = sqlglot.parse_one(expr, read=dialect)
    query = (
        exp.select(exp.alias_(column, "v"))
        .distinct()
        .from_(_source(model, dialect))
        .where(exp.Not(this=exp.Is(this=column.copy(), expression=exp.Null())))
        .limit(limit)
    )
    return query.sql(dialect=dialect)


def _is_sensitive(model: SemanticModel, expr: str, sensitive: Iterable[str]) -> bool:
    names = {s.lower() for s in sensitive}
    column = expr.strip().lower()
    return f"{model.table.lower()}.{column}" in names or column in names or f"{model.name}.{column}" in names


def build_value_index(
    layer: SemanticLayer,
    fetch: Fetch | None,
    *,
    dialect: str = "duckdb",
    max_distinct: int = MAX_DISTINCT,
    sensitive: Iterable[str] = (),
) -> ValueIndex:
    """Collect values of every categorical dimension: sample values, then distinct values from the warehouse."""
    sensitive = tuple(sensitive)
    values: dict[str, list[str]] = {}
    numeric: dict[str, str] = {}
    skipped: dict[str, str] = {}
    samples: dict[str, list[str]] = {}
    ranges: dict[str, list[float]] = {}
    aliases: dict[str, dict[str, list[str]]] = {}
    # a column of a composite key (flights' origin, carrier) holds another entity's key: its values are read
    # as that entity's (origin airport, airline), never as the bare column
    composite = {k for e in layer.entities() if len(keys := layer.entity_keys(e)) > 1 for k in keys}
    for qd in layer.dimensions():
        dim, model = qd.dimension, qd.model
        if dim.is_time or (dim.implicit and qd.name in composite):
            continue
        for value, names in dim.value_synonyms:
            for alias in names:
                aliases.setdefault(qd.name, {}).setdefault(alias, []).append(value)
        if _is_sensitive(model, dim.expr, sensitive):
            skipped[qd.name] = "sensitive column"
            continue
        found = list(dict.fromkeys(str(v) for v in dim.sample_values))
        if found:
            samples[qd.name] = list(found)
        if fetch is not None:
            try:
                rows = fetch(distinct_sql(model, dim.expr, max_distinct + 1, dialect))
            except UserError as err:  # one broken dimension must not cost the planner every other value
                skipped[qd.name] = f"could not read values: {err.message}"
                rows = []
            sample = [r[0] for r in rows if r and r[0] is not None]
            if not sample and qd.name not in skipped and not found:
                skipped[qd.name] = EMPTY  # a name the planner must not read as this column when another fits
                continue
            kinds = {type(v).__name__ for v in sample[:50]}
            if sample and kinds == {"bool"}:
                numeric[qd.name] = "bool"  # a yes/no column: "with a fireplace", "without one"
                continue
            if sample and kinds <= {"int", "float", "Decimal"}:
                numeric[qd.name] = "int" if kinds == {"int"} else "float"
                if len(rows) <= max_distinct:  # all values seen: the range is exact
                    ranges[qd.name] = [float(min(sample)), float(max(sample))]
                continue
            if len(rows) > max_distinct:
                skipped[qd.name] = f"more than {max_distinct} distinct values"
            else:
                found += [str(v) for v in sample if not isinstance(v, bool)]
        if found:
            values[qd.name] = list(dict.fromkeys(found))
    return ValueIndex(layer.version_hash, values, numeric, skipped, samples, ranges, aliases)


def load_or_build(path: Path, layer: SemanticLayer, fetch: Fetch | None, **kwargs: Any) -> ValueIndex:
    """The index saved at `path` if it was built for this model version, else a fresh one (saved there)."""
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            data = None  # a torn write: rebuild below
        if (
            isinstance(data, dict)
            and data.get("format") == FORMAT_VERSION
            and data.get("version") == layer.version_hash
        ):
            return ValueIndex.from_dict(data)
    index = build_value_index(layer, fetch, **kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(index.to_dict(), ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
    return index
