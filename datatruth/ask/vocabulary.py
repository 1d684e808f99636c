"""The words of a semantic layer: names, labels and synonyms of metrics, dimensions and measures, matched in a question.

A question's words are normalised (lower case, underscores and punctuation to spaces, plurals to singular),
then corrected word by word (abbreviation table, a general abbreviation rule, rapidfuzz for typos, metaphone /
NYSIIS for words that sound alike) and finally matched against the vocabulary's phrases, longest first.
Every match remembers the words it read, its score and the method, so the planner can show its evidence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import jellyfish
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from datatruth.semantic.model import SemanticLayer

# Common business shorthands; the general rule in `_abbreviates` covers the rest.
ABBREVIATIONS = {
    "rev": "revenue",
    "revs": "revenue",
    "cust": "customer",
    "custs": "customer",
    "qty": "quantity",
    "avg": "average",
    "amt": "amount",
    "pct": "percent",
    "perc": "percent",
    "num": "number",
    "cnt": "count",
    "tot": "total",
    "ttl": "total",
    "prod": "product",
    "cat": "category",
    "disc": "discount",
    "mkt": "marketing",
    "mktg": "marketing",
    "dist": "distance",
    "dep": "departure",
    "arr": "arrival",
    "dest": "destination",
    "orig": "origin",
    "temp": "temperature",
    "med": "median",
    "yr": "year",
    "mo": "month",
    "qtr": "quarter",
    "wk": "week",
    "hr": "hour",
    "max": "maximum",
    "min": "minimum",
    "canc": "cancellation",
    "cxl": "cancellation",
    "del": "delay",
    "dly": "delay",
    "ret": "return",
    "aov": "average order value",
    "ppl": "people",
    "info": "information",
    "acct": "account",
    "mgn": "margin",
    "gm": "gross margin",
    "seg": "segment",
    "reg": "region",
    "sub": "subcategory",
    "zip": "postal",  # "zip code" is the postal code
}
# Ordinary words that say something of their own: never read as a typo of a name ("first" is not "frost"),
# so a question that uses one the planner cannot place is refused, not answered with the name.
NEVER_CORRECTED = frozenset(
    """
first second third fourth fifth sixth seventh eighth ninth tenth last next previous prior week weeks weekend
weekends month months year years quarter quarters half morning evening night noon midnight order sort rank
""".split()
)
# Nouns that name a table's rows ("premium records", "every claim entry"); the plurals alone follow a name
# ("across all premium records"), where a singular would be part of the name.
RECORD_PLURALS = frozenset({"entries", "records", "rows"})
RECORD_NOUNS = RECORD_PLURALS | {"entry", "record", "row"}
# The periods a time split or a listed grain is said with ("the top product each month", "by agent and year").
GRAIN_NOUNS = frozenset({"day", "week", "month", "quarter", "year"})
# Words that carry no meaning for matching names; never corrected, never reported as unplaced.
STOP_WORDS = frozenset(
    """
a an the of for in on at to from by per each every with without and or is are was were be been being
what which who whom whose how many much show me give list tell find get display plot chart please i we you
our my us your it its this that these those there their do does did have has had can could would should
will shall may might all any some total overall number count value values data there here as than then
over under above below between across into onto out off up down via vs versus compared compare against
when where why whats what's s t per day days just only also too so such very about around roughly
during since until till before after ago did done break breakdown split grouped group broken
""".split()
)


def plural(phrase: str) -> str:
    """The plural of a name's last word, for readings ("number of policies", "number of flights")."""
    head, _, last = phrase.rpartition(" ")
    if last.endswith("s") or not last:
        return phrase
    if last.endswith("y") and last[-2:-1] not in ("a", "e", "i", "o", "u"):
        last = last[:-1] + "ies"
    elif last.endswith(("x", "ch", "sh")):
        last += "es"
    else:
        last += "s"
    return f"{head} {last}" if head else last


def singular(word: str) -> str:
    """A crude but stable singular of one lower-case word (applied to questions and vocabulary alike)."""
    if word == "ids":
        return "id"  # "product ids": short words are otherwise kept whole ("bus", "gas", "has")
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "ous")):
        return word[:-1]
    return word


# endings that inflect a word ("ordered", "shipping"); any other ending of two letters or more makes a new word
_INFLECTIONS = frozenset({"ed", "es", "ing", "er", "ers", "ly", "ings", "ied"})


def _another_word(word: str, known: str) -> bool:
    """Whether `word` is `known` with a non-inflecting ending of two letters or more ("lineup", "storefront")."""
    rest = word[len(known) :]
    return word.startswith(known) and len(rest) >= 2 and rest not in _INFLECTIONS


@dataclass(frozen=True)
class Word:
    """One word of a question: as written, lower-cased, and normalised (singular)."""

    raw: str
    lower: str
    norm: str
    start: int = 0  # character offsets in the question
    end: int = 0
    possessive: bool = False  # written with 's ("Delta's")


# a minus right before a number that starts a word is its sign ("below -10 °C"); between digits it is a dash
_RAW_TOKEN = re.compile(
    r"(?<![^\s(])-\d+(?:\.\d+)?%?(?![\w-])|"
    r"-+>|→|\$?\d{1,3}(?:,\d{3})+(?:\.\d+)?%?|[A-Za-z0-9%$#][A-Za-z0-9%$#'.&]*|[/+*]|(?<=\s)-(?=\s)"
    r"|>=|<=|[<>=]"
)


_CONTRACTION = re.compile(r"^([A-Za-z]+)'(d|ll|m|ve|re)$", re.IGNORECASE)
_CONTRACTED = {"d": "would", "ll": "will", "m": "am", "ve": "have", "re": "are"}


def split_words(text: str) -> list[Word]:
    """The words of `text` (underscores and punctuation split words; a trailing 's is dropped)."""
    out: list[Word] = []
    for m in _RAW_TOKEN.finditer(text.replace("_", " ")):
        if m.group(0) == "/" and out and out[-1].raw.lower() == "w" and out[-1].end == m.start():
            out[-1] = Word("w/", "with", "with", out[-1].start, m.end(), False)  # "claim numbers w/ dates"
            continue
        if m.group(0).endswith(">") and m.group(0).startswith("-") or m.group(0) == "→":
            out.append(Word(m.group(0), "to", "to", m.start(), m.end(), False))  # "JFK -> BOS": JFK to BOS
            continue
        signed = m.group(0)[:1] == "-" and m.group(0)[1:2].isdigit()  # "-10": the sign stays
        word = (
            m.group(0)
            if m.group(0) in ("/", "+", "*", "-", ">=", "<=", "<", ">", "=") or signed
            else m.group(0).strip(".'-&")
        )
        contraction = _CONTRACTION.match(word)
        if contraction:
            # "I'd like", "we'll need": the pronoun and its auxiliary, not the word 'id'
            head, tail = contraction.group(1), _CONTRACTED[contraction.group(2).lower()]
            cut = m.start() + len(head)
            out.append(Word(head, head.lower(), singular(head.lower()), m.start(), cut, False))
            out.append(Word(tail, tail, tail, cut, m.end(), False))
            continue
        possessive = word.lower().endswith("'s")
        if possessive:
            word = word[:-2]
        word = word.replace("'", "")
        abbreviated = m.group(0).lower() == "no." and (
            (out and out[-1].lower.isalpha()) or text[m.end() :].lstrip().lower().startswith("of ")
        )
        if len(word) > 1 and word[0] == "#" and word[1:].isdigit():
            # "order #419365": the sign reads as 'number', the digits as the code after it
            out.append(Word("#", "number", "number", m.start(), m.start() + 1, False))
            out.append(Word(word[1:], word[1:], word[1:], m.start() + 1, m.end(), False))
            continue
        if word == "#" or abbreviated:
            # "flight #", "flight no.": the sign and the abbreviation read as the word 'number'
            out.append(Word(word, "number", "number", m.start(), m.end(), False))
        elif word:
            out.append(Word(word, word.lower(), singular(word.lower()), m.start(), m.end(), possessive))
    return out


def tokens(text: str) -> list[str]:
    """Lower-cased, singular words of `text` (underscores and punctuation split words)."""
    return [w.norm for w in split_words(text)]


def normalize(text: str) -> str:
    """`text` as normalised words joined by single spaces."""
    return " ".join(tokens(text))


@dataclass(frozen=True)
class Term:
    """One phrase of the vocabulary and what it names."""

    phrase: str  # normalised words
    kind: str  # metric | dimension | measure | entity | concept | phrasing
    target: str  # metric name, qualified dimension name, measure, entity, concept name or phrasing index
    source: str  # name | label | synonym | learned | entity | phrasing


@dataclass(frozen=True)
class Correction:
    """A question word read as another word of the vocabulary."""

    word: str
    becomes: str
    score: float
    method: str  # abbreviation | fuzzy | phonetic


@dataclass(frozen=True)
class Match:
    """A run of question words [start, end) that names a vocabulary term."""

    start: int
    end: int
    phrase: str  # the words as the user wrote them (after normalisation)
    term: Term
    score: float
    method: str


# Small words people add or drop inside a name; structural words (by, for, in, and) are never skipped.
_LOOSE_WORDS = frozenset({"a", "an", "the"})


def _loose_key(words: Sequence[str]) -> str:
    return " ".join(w for w in words if w not in _LOOSE_WORDS)


# endings that make a word from a word ("cover" → "coverage"): what stops before one is no shorthand
_SUFFIXES = frozenset(
    {"age", "al", "ance", "ence", "ed", "er", "ers", "ing", "ion", "ions", "ment", "ness", "y"}
)


def _skeleton_abbreviates(short: str, word: str) -> bool:
    """True when `short` is a plausible abbreviation of `word`: same first letter and in-order letters,
    and either a prefix (cust → customer) or sharing the last letter (qty → quantity, mktg → marketing)."""
    if len(short) < 3 or len(short) >= len(word) or short[0] != word[0]:
        return False
    if word.startswith(short):
        # a short prefix ending in a vowel is usually a word of its own ("age" is not "agent"); shorthands cut
        # after a consonant ("rev", "cust", "dep")
        return not (short[-1] in "aeiou" and len(short) <= 4)
    # a longer word with letters missing is more likely a typo ("revnue") than a shorthand; fuzzy handles it
    if len(short) > 4 or short[-1] != word[-1]:
        return False
    # a shorthand drops vowels ("qty", "mktg", "dept"); a word with them after its second letter is a word of
    # its own ("file" is not "fireplace")
    if any(ch in "aeiou" for ch in short[2:]):
        return False
    it = iter(word)
    return all(ch in it for ch in short)


# what may stand between a verb and its particle ("sent it back", "checked them out")
_OBJECTS = frozenset({"it", "them", "something", "anything", "stuff", "things", "one", "some", "any"})
_PARTICLES = frozenset({"back", "out", "off", "up", "in", "down", "over"})


class Vocabulary:
    """Every name a question may use for a metric, dimension or measure, with matching helpers."""

    def __init__(self, terms: Iterable[Term]) -> None:
        self.terms: tuple[Term, ...] = tuple(terms)
        self.by_phrase: dict[str, list[Term]] = {}
        for term in self.terms:
            bucket = self.by_phrase.setdefault(term.phrase, [])
            if term not in bucket:
                bucket.append(term)
        self.max_words = max((len(p.split()) for p in self.by_phrase), default=1)
        self.words: frozenset[str] = frozenset(w for p in self.by_phrase for w in p.split())
        self._word_list = sorted(self.words)
        self._phonetic: dict[str, list[str]] = {}
        for word in self._word_list:
            if len(word) >= 4 and word.isalpha():
                for key in (jellyfish.metaphone(word), jellyfish.nysiis(word)):
                    self._phonetic.setdefault(key, []).append(word)
        self._phrases = sorted(self.by_phrase)
        # the same phrase without its small words: "average time to settle a claim" ~ "avg time to settle claim"
        self._content: dict[str, list[Term]] = {}
        for term in self.terms:
            key = _loose_key(term.phrase.split())
            if len(key.split()) >= 2 and term not in self._content.get(key, []):
                self._content.setdefault(key, []).append(term)
        self._containing: dict[str, set[str]] = {}
        for phrase in self._phrases:
            for word in phrase.split():
                self._containing.setdefault(word, set()).add(phrase)
        self._cache: dict[str, Correction | None] = {}

    def __getstate__(self) -> dict[str, Any]:
        # Memos are derived and remade on use: a planner snapshot does not carry them.
        return {k: v for k, v in self.__dict__.items() if k != "_memos"}

    def memo(self, key: str, factory: Callable[[], Any]) -> Any:
        """A value derived from this vocabulary, made once and dropped with it (e.g. readings of verified questions)."""
        memos = self.__dict__.setdefault("_memos", {})
        if key not in memos:
            memos[key] = factory()
        return memos[key]

    # -- word level --------------------------------------------------------------------------------------------
    def correct(self, word: str) -> Correction | None:
        """Read an unknown word as a vocabulary word (abbreviation, typo, sound-alike), or None."""
        if word in self._cache:
            return self._cache[word]
        found = self._correct(word)
        self._cache[word] = found
        return found

    def _correct(self, word: str) -> Correction | None:
        if word in self.words or not word.isalpha():
            return None
        expansion = ABBREVIATIONS.get(word)
        if expansion is not None:
            first = expansion.split()
            if all(w in self.words for w in first):
                return Correction(word, expansion, 0.9, "abbreviation")
        if word in STOP_WORDS or word in NEVER_CORRECTED or len(word) < 3:
            return None
        compound = self._compound(word)
        if compound is not None:
            return Correction(word, compound, 0.9, "compound")
        longer = [w[len(word) :] for w in self._word_list if w.startswith(word) and w != word]
        if len(word) >= 5 and longer and all(rest in _SUFFIXES for rest in longer):
            return None  # the stem of words of the model is a word of its own ("cover" is no "coverage")
        shorts = [w for w in self._word_list if _skeleton_abbreviates(word, w)]
        if len(shorts) == 1:
            return Correction(word, shorts[0], 0.8, "abbreviation")
        if len(word) >= 4:
            best = process.extractOne(word, self._word_list, scorer=fuzz.ratio, score_cutoff=80)
            if best is not None and _another_word(word, best[0]):
                return None  # "lineup" is no misspelt "line": a word went on after it
            if best is not None and (best[1] >= 85 or (len(word) >= 6 and best[1] >= 80)):
                return Correction(word, best[0], round(best[1] / 100, 3), "fuzzy")
            if word.isalpha():
                for key in (jellyfish.metaphone(word), jellyfish.nysiis(word)):
                    sounds = self._phonetic.get(key, [])
                    if len(sounds) == 1 and fuzz.ratio(word, sounds[0]) >= 60:
                        return Correction(word, sounds[0], 0.75, "phonetic")
        return None

    def _compounds_asked(self, words: list[str]) -> Iterator[tuple[int, list[str]]]:
        """The phrase with one name written as one word put back: two words joined (a misspelling of the
        joined word corrected), or one word that only ends a longer name and is no name itself."""
        for m in range(len(words) - 1):
            both = words[m] + words[m + 1]
            if (
                both not in self.words
                and not {words[m], words[m + 1]} & STOP_WORDS
                and min(map(len, words[m : m + 2])) >= 3
            ):
                fix = self.correct(both)
                # "fire staion" is one letter off "firestation"; "tea subcategory" is no misspelt "subcategory"
                if fix is not None and Levenshtein.distance(both, fix.becomes, score_cutoff=1) <= 1:
                    both = fix.becomes
            yield m, words[:m] + [both] + words[m + 2 :]
        for m, word in enumerate(words):
            if len(word) < 5 or word in self.words or word in STOP_WORDS:
                continue
            longer = [w for w in self._word_list if w.endswith(word) and len(w) >= len(word) + 3]
            if len(longer) == 1:
                yield m, words[:m] + longer + words[m + 1 :]

    def _compound(self, word: str) -> str | None:
        """ "policyholder" for a name written "policy holder": the two words, when some name holds them side by
        side (a word that only splits into unrelated vocabulary words stays unknown)."""
        if len(word) < 7:
            return None
        for k in range(3, len(word) - 2):
            head, tail = word[:k], word[k:]
            if head in self.words and tail in self.words:
                pair = f"{head} {tail}"
                if any(f" {pair} " in f" {p} " for p in self._containing.get(head, ())):
                    return pair
        return None

    # -- phrase level ------------------------------------------------------------------------------------------
    def lookup(self, phrase: str) -> list[Term]:
        """Terms spelled exactly `phrase` (normalised)."""
        return list(self.by_phrase.get(phrase, ()))

    def matches(  # noqa: C901 - exact, compact, prefix, partial and fuzzy matches tried in turn
        self, words: Sequence[str], free: Sequence[bool], kinds: Iterable[str] | None = None
    ) -> list[Match]:
        """Every phrase match over the free words, exact and corrected (candidates; the caller picks)."""
        allowed = set(kinds) if kinds else None
        corrected: list[tuple[str, Correction | None]] = []
        for word in words:
            fix = self.correct(word)
            corrected.append((fix.becomes if fix else word, fix))
        out: list[Match] = []
        n = len(words)
        for i in range(n):
            if not free[i]:
                continue
            for j in range(i + 1, min(n, i + self.max_words) + 1):
                if not free[j - 1]:
                    break
                phrase = " ".join(c[0] for c in corrected[i:j])
                terms = self.by_phrase.get(phrase)
                expanded = [ABBREVIATIONS.get(c[0]) if c[1] is None else None for c in corrected[i:j]]
                fixes_extra: list[Correction] = []
                if not terms and any(expanded):
                    # a shorthand that is also a vocabulary word ("pct" in gross_margin_pct) may still be short
                    long = " ".join(e or c[0] for e, c in zip(expanded, corrected[i:j], strict=True))
                    terms = self.by_phrase.get(long)
                    if terms:
                        phrase = long
                        fixes_extra = [
                            Correction(c[0], e, 0.9, "abbreviation")
                            for e, c in zip(expanded, corrected[i:j], strict=True)
                            if e
                        ]
                partial = False
                loose = False
                words_ij = phrase.split()
                if not terms and j - i == 3 and words_ij[1] in _OBJECTS and words_ij[2] in _PARTICLES:
                    # "sent something back": a verb and its particle around the thing moved
                    terms = [
                        t
                        for t in self.by_phrase.get(f"{words_ij[0]} {words_ij[2]}", [])
                        if t.kind == "phrasing"
                    ]
                if (
                    not terms
                    and j - i >= 3
                    and words_ij[0] not in STOP_WORDS
                    and words_ij[-1] not in STOP_WORDS
                ):
                    terms = self._content.get(_loose_key(words_ij))
                    loose = bool(terms)
                if j - i >= 2 and terms and all(t.kind == "model" for t in terms):
                    # "loss reserves" names the loss_reserve table, and partly the loss reserve amount: keep both
                    wider = [t for t in self._within(words_ij) if t.kind != "model"]
                    for term in wider:
                        out.append(Match(i, j, " ".join(words[i:j]), term, 0.85, "partial"))
                if not terms and j - i >= 2:
                    terms = self._within(words_ij)
                    partial = bool(terms)
                if not terms and j - i >= 2:
                    # a name written as one word ("firestation") asked as two ("fire station", "fire staion"), or
                    # by its last part ("the nearest station")
                    for m, joined in self._compounds_asked(words_ij):
                        if joined[m] in self.words and len(joined[m]) >= 7:
                            terms = self.by_phrase.get(" ".join(joined)) or (
                                self._within(joined) if len(joined) >= 2 else []
                            )
                            partial = bool(terms) and " ".join(joined) not in self.by_phrase
                            if terms:
                                break
                if not terms:
                    continue
                fixes = [c[1] for c in corrected[i:j] if c[1] is not None] + (fixes_extra if terms else [])
                if fixes:
                    score = min(f.score for f in fixes)
                    method = fixes[0].method if len({f.method for f in fixes}) == 1 else "corrected"
                else:
                    score, method = 1.0, "exact"
                if partial:
                    score, method = round(score * 0.85, 3), "partial"
                elif loose:
                    score = round(score * 0.95, 3)
                if all(w in STOP_WORDS for w in phrase.split()) and not fixes:
                    continue
                for term in terms:
                    if allowed is None or term.kind in allowed:
                        how = (
                            method
                            if method != "exact"
                            else (
                                "synonym"
                                if term.source == "synonym"
                                else "learned"
                                if term.source == "learned"
                                else "exact"
                            )
                        )
                        out.append(Match(i, j, " ".join(words[i:j]), term, score, how))
        return out

    def _within(self, words: list[str]) -> list[Term]:
        """Terms of one target whose phrase holds these words in order, with at most two more words
        ("median delay" → "median departure delay"); empty when none or several targets fit."""
        if any(w in STOP_WORDS for w in words):
            return []
        pools = [self._containing.get(w, set()) for w in words]
        found: list[Term] = []
        for phrase in set.intersection(*pools) if pools else set():
            parts = phrase.split()
            if len(parts) > len(words) + 2:
                continue
            it = iter(parts)
            if all(w in it for w in words):
                found += self.by_phrase[phrase]
        # one metric among the fits wins ("loss payments" → loss_payment_amount, not has_loss_payment)
        for kind in ("metric", "dimension", "measure"):
            of_kind = [t for t in found if t.kind == kind]
            if len({t.target for t in of_kind}) == 1:
                return of_kind
            if of_kind:
                return []
        return []

    def containing(self, words: list[str], kind: str, extra: int = 2) -> list[Term]:
        """Every term of a kind whose phrase holds these words in order with at most `extra` more words
        ("expiration date" → "policy expiration date"); unlike matching, several targets may come back."""
        pools = [self._containing.get(w, set()) for w in words]
        found: list[Term] = []
        for phrase in set.intersection(*pools) if pools else set():
            parts = phrase.split()
            if len(parts) > len(words) + extra:
                continue
            it = iter(parts)
            if all(w in it for w in words):
                found += [t for t in self.by_phrase[phrase] if t.kind == kind]
        return found

    def nearest(self, text: str, kinds: Iterable[str] = ("metric", "dimension"), limit: int = 5) -> list[str]:
        """The names closest to `text` (for 'did you mean'), best first."""
        allowed = set(kinds)
        phrase = normalize(text)
        found: list[str] = []
        for cand, _score, _ in process.extract(
            phrase, self._phrases, scorer=fuzz.WRatio, limit=limit * 4, score_cutoff=50
        ):
            for term in self.by_phrase[cand]:
                if term.kind in allowed and term.target not in found:
                    found.append(term.target)
        return found[:limit]


_ID_WORDS = ("id", "identifier", "number", "code", "key", "no")


def _dimension_phrases(layer: SemanticLayer) -> Iterable[Term]:
    composite = {k for e in layer.entities() if len(keys := layer.entity_keys(e)) > 1 for k in keys}
    for qd in layer.dimensions():
        if qd.dimension.implicit and qd.name in composite:
            continue  # a column of a composite key is only shown in lists of its entity, never named alone
        entity, _, local = qd.name.partition("__")
        dim = qd.dimension
        names = [normalize(local), normalize(f"{entity} {local}")]
        if (
            dim.is_time
            and dim.label
            and normalize(dim.label) != names[0]
            and re.fullmatch(r"\w+ed (at|on)", names[0])
        ):
            # a timestamp column's snake-case name ("ordered_at") is a verb and a preposition in a sentence
            # ("customers who ordered at the Denver store"): with a label of its own, the label names it
            names.pop(0)
        # a column counting things answers to the things: "8 firefighters" is number_of_firefighters = 8
        counted = re.sub(r"^(number|num|count|no) of ", "", normalize(local))
        if counted != normalize(local) and counted:
            names.append(counted)
        yield from (Term(n, "dimension", qd.name, "name") for n in names)
        if dim.label:
            yield Term(normalize(dim.label), "dimension", qd.name, "label")
            # "plane engine type": the entity's word in front of the label, as people write it
            if not normalize(dim.label).startswith(normalize(entity)):
                yield Term(normalize(f"{entity} {dim.label}"), "dimension", qd.name, "label")
        for syn in dim.synonyms:
            yield Term(normalize(syn), "dimension", qd.name, "synonym")
        if dim.is_time:
            yield from (Term(n, "dimension", qd.name, "verb") for n in _event_phrases(normalize(local)))
            yield from (Term(n, "dimension", qd.name, "verb") for n in _bound_phrases(normalize(local)))
        # the first line of an address is what people call the street address
        if re.fullmatch(
            r"(address line ?1|line ?1 address|address ?1|street address line)", normalize(local)
        ):
            yield Term("street address", "dimension", qd.name, "synonym")
            yield Term("street", "dimension", qd.name, "synonym")
        # the formal names of an address's parts, as people say them
        for said in _ADDRESS_WORDS.get(normalize(local), ()):
            yield Term(said, "dimension", qd.name, "synonym")
        yield from _year_phrases(qd.name, normalize(local))
        # a dimension holding identifiers answers to "<name> id" ("agent id", "policy holder id")
        if not dim.is_time and not any(normalize(local).endswith(w) for w in _ID_WORDS):
            for base in {normalize(local), normalize(dim.label)} - {""}:
                for word in ("id", "identifier", "number"):
                    yield Term(f"{base} {word}", "dimension", qd.name, "entity")


# verbs of events whose dates a model records ("claim_open_date"): the date answers to the verb ("the date it
# was opened", "by the month they were closed"); a closed list, as "ordered" or "returned" mean other things
_EVENT_VERBS = {
    "open": ("opened", "opening"),
    "close": ("closed", "closing"),
    "reopen": ("reopened", "reopening"),
    "report": ("reported", "reporting"),
    "settle": ("settled", "settling"),
    "cancel": ("cancelled", "cancelling"),
    "register": ("registered", "registration"),
    "file": ("filed", "filing"),
    "issue": ("issued", "issuing"),
    "expire": ("expired", "expiring"),
    "renew": ("renewed", "renewal"),
    "approve": ("approved", "approval"),
    "submit": ("submitted", "submission"),
    "resolve": ("resolved", "resolution"),
    "ship": ("shipped", "shipping"),
    "deliver": ("delivered", "delivery"),
    "hire": ("hired", "hiring"),
}


def _year_phrases(name: str, local: str) -> Iterable[Term]:
    """ "year_built": the year answers to its verb ("buildings built before 1980", "built in 1999") and to the
    noun of the deed before 'year' ("the build year", "birth year"), as people also say it."""
    parts = local.split()
    if len(parts) != 2 or "year" not in parts or (verb := parts[1 - parts.index("year")]) == "year":
        return
    if verb.endswith("ed") or verb in _IRREGULAR_DONE:
        yield Term(verb, "dimension", name, "verb")
    if verb in _DEED_NOUNS:
        yield Term(f"{_DEED_NOUNS[verb]} year", "dimension", name, "synonym")


_IRREGULAR_DONE = frozenset(
    {"built", "made", "born", "sold", "bought", "paid", "begun", "won", "lost", "held"}
)
_DEED_NOUNS = {"built": "build", "born": "birth", "sold": "sale", "bought": "purchase"}


# the words that name the first and the last day of something in force ("policy_effective_date",
# "coverage_expiration_date", "begin_date"), and what people call those days
_START_WORDS = frozenset({"effective", "inception", "begin", "start", "commencement"})
_END_WORDS = frozenset({"expiration", "expiry", "end", "termination"})
# (a short list: never "start" or "end" alone, which read as other words too; longer lists tipped the close
# spellings of unrelated names, "fire station" for "firestation miles")
_START_PHRASES = ("start date", "begin date")
_END_PHRASES = ("end date", "expiry date")


_ADDRESS_WORDS = {
    "municipality name": ("city", "town", "municipality"),
    "municipality": ("city", "town"),
    "postal code": ("zip", "zip code", "postcode"),
    "state code": ("state",),
    "country code": ("country",),
}


def _bound_phrases(local: str) -> tuple[str, ...]:
    """What people call the first or last day of something in force: "policy effective date" → "start date",
    "took effect"; "policy expiration date" → "end date", "expiry"."""
    words = set(local.split())
    if "date" not in words:
        return ()
    if words & _START_WORDS and not words & _END_WORDS:
        took: tuple[str, ...] = ()
        if "effective" in words:
            took = ("took effect", "became effective", "becomes effective", "take effect", "takes effect")
        # "coverage periods that started during 2019": a row's own start (never 'start' alone: it reads as
        # other words too)
        return _START_PHRASES + took + ("started", "begins", "began")
    if words & _END_WORDS and not words & _START_WORDS:
        return _END_PHRASES + (("expires", "expired") if words & {"expiration", "expiry"} else ())
    return ()


def _event_phrases(local: str) -> list[str]:
    """What people call the date of an event: "claim open date" → "opened", "date it was opened", "opening
    date"."""
    words = local.split()
    if not words or words[-1] != "date":
        return []
    verb = next((w for w in words[:-1] if w in _EVENT_VERBS), None)
    if verb is None:
        return []
    done, noun = _EVENT_VERBS[verb]
    return [
        done,
        f"date {done}",
        f"{done} date",
        f"date it was {done}",
        f"date they were {done}",
        f"date each was {done}",
        f"{noun} date",
        f"date of {noun}",
    ]


def entity_words(layer: SemanticLayer, entity: str) -> set[str]:
    """The normalised phrases naming an entity: its name (without an _id/_identifier suffix), label, synonyms
    and the name of the model that owns it."""
    model = layer.entity_model(entity)
    words = {normalize(entity), normalize(re.sub(r"_(identifier|id|key|code)$", "", entity))}
    # "policy coverage detail" is what people call a coverage detail: the owner's name in front is implied
    parts = normalize(entity).split()
    if len(parts) >= 3 and parts[0] in {normalize(e) for e in layer.entities() if e != entity}:
        words.add(" ".join(parts[1:]))
    if model is not None:
        words.add(normalize(model.name))
        owner = model.primary_entity
        if owner is not None:
            words |= {normalize(owner.label)} | {normalize(s) for s in owner.synonyms}
    return {w for w in words if w}


def _period_phrases(layer: SemanticLayer) -> Iterable[Term]:
    """A row that runs from a start date to an end date is a period: "coverage periods" are the coverage
    details (each in force from its effective to its expiration date), "policy period" a policy's. Said with the
    entity's words or with a one-word column of its own ("coverage")."""
    for model in layer.models:
        owner = model.primary_entity
        times = [normalize(d.name) for d in model.dimensions if d.is_time]
        starts = [t for t in times if set(t.split()) & _START_WORDS and "date" in t.split()]
        ends = [t for t in times if set(t.split()) & _END_WORDS and "date" in t.split()]
        if owner is None or len(starts) != 1 or len(ends) != 1:
            continue
        words = entity_words(layer, owner.name) | {
            normalize(d.name)
            for d in model.dimensions
            if not d.is_time and len(normalize(d.name).split()) == 1
        }
        for word in words:
            yield Term(f"{word} period", "entity", owner.name, "name")


def _entity_phrases(layer: SemanticLayer) -> Iterable[Term]:
    from datatruth.ask.assemble import identifying_dimension

    for entity in layer.entities():
        keys = layer.entity_keys(entity)
        for phrase in entity_words(layer, entity):
            yield Term(phrase, "entity", entity, "name")
            # "claim number", "customer id": the entity's identifying column
            if len(keys) == 1:
                for word in ("id", "identifier", "key"):
                    yield Term(f"{phrase} {word}", "dimension", keys[0], "name")
                number = identifying_dimension(layer, entity) or keys[0]
                for word in ("number", "no", "code"):
                    yield Term(f"{phrase} {word}", "dimension", number, "name")
    yield from _period_phrases(layer)
    entity_names = set(layer.entities())
    for model in layer.models:
        owner = model.primary_entity
        if owner is not None and normalize(model.name) in entity_words(layer, owner.name) | {
            normalize(owner.name)
        }:
            continue  # "orders" keyed by order: the entity's own word already names its rows
        if (owner is None or owner.name != model.name) and model.name not in entity_names:
            # a table read under another entity's key ("fire_claim" keyed by policy): its name names its rows
            yield Term(normalize(model.name), "model", model.name, "name")
    for concept in layer.concepts:
        for text in (concept.name, concept.label, *concept.synonyms):
            if text:
                yield Term(normalize(text), "concept", concept.name, "name")
    for i, phrasing in enumerate(layer.phrasings):
        for text in phrasing.words:
            yield Term(normalize(text), "phrasing", str(i), "phrasing")


def _done_forms(terms: Sequence[Term]) -> list[Term]:
    """ "insured object" for the insurable object: a thing named by what can be done to it answers to the
    participle too (insurable → insured, billable → billed)."""
    out = []
    for term in terms:
        words = term.phrase.split()
        if term.kind not in ("entity", "dimension") or len(words) < 2:
            continue
        done = [w[:-4] + "ed" if w.endswith("able") and len(w) > 6 else w for w in words]
        if done != words:
            out.append(Term(" ".join(done), term.kind, term.target, "synonym"))
    return out


def _participle_phrases(terms: Sequence[Term]) -> list[Term]:
    """A figure named by a noun is also said with its participle: "loss payment amount" → "loss paid", "paid out
    on losses", "paid out in expenses", "loss was paid"; "expense reserve" → "expense reserved" (the lexicon's
    noun_forms)."""
    from datatruth.ask.lexicon import default_lexicon

    participles = {noun: done for done, noun in default_lexicon().noun_forms}
    out = []
    for term in terms:
        words = term.phrase.split()
        if len(words) == 3 and words[2] == "amount":
            words = words[:2]
        if term.kind not in ("metric", "measure") or len(words) != 2 or words[1] not in participles:
            continue
        rest, done = words[0], participles[words[1]]
        for phrase in (
            f"{rest} {done}",
            f"{done} on {rest}",
            f"{done} out on {rest}",
            f"{done} in {rest}",  # "how much was paid out in expenses"
            f"{done} out in {rest}",
            f"{done} for {rest}",
            f"{rest} was {done}",
            f"{rest} were {done}",
            f"{rest} {done} out",
        ):
            out.append(Term(normalize(phrase), term.kind, term.target, term.source))
    return out


def build_vocabulary(layer: SemanticLayer, learned: Iterable[object] = ()) -> Vocabulary:
    """The vocabulary of a layer plus learned synonyms (objects with .term, .target_kind, .target)."""
    terms: list[Term] = []
    for metric in layer.metrics:
        terms.append(Term(normalize(metric.name), "metric", metric.name, "name"))
        if metric.label:
            terms.append(Term(normalize(metric.label), "metric", metric.name, "label"))
        for syn in metric.synonyms:
            terms.append(Term(normalize(syn), "metric", metric.name, "synonym"))
    terms += _dimension_phrases(layer)
    terms += _entity_phrases(layer)
    for model in layer.models:
        for measure in model.measures:
            terms.append(Term(normalize(measure.name), "measure", measure.name, "name"))
            for syn in measure.synonyms:
                terms.append(Term(normalize(syn), "measure", measure.name, "synonym"))
    for item in learned:
        kind = str(getattr(item, "target_kind", "metric"))
        target = str(getattr(item, "target", ""))
        known = (
            layer.has_metric(target)
            if kind == "metric"
            else layer.has_dimension(target)
            if kind == "dimension"
            else False
        )
        if known:
            terms.append(Term(normalize(str(getattr(item, "term", ""))), kind, target, "learned"))
    terms += _participle_phrases(terms)
    terms += _done_forms(terms)
    # Names written with shorthands ("avg_dep_delay") also answer to the long words ("average departure delay").
    for term in list(terms):
        words = term.phrase.split()
        if any(w in ABBREVIATIONS for w in words):
            long = normalize(" ".join(ABBREVIATIONS.get(w, w) for w in words))
            terms.append(Term(long, term.kind, term.target, term.source))
    return Vocabulary(t for t in terms if t.phrase)
