"""Conditions the question names before it uses them ("Let's call a big order one worth more than $1,000. How
many big orders did we get in October?"): the naming sentence is read off and every use of the name is said in
full ("how many orders worth more than $1,000 …"), so the rest is read as if the condition were written out each
time. Only a condition said as words the planner reads anyway is expanded; anything else is left for the planner
to refuse."""

from __future__ import annotations

import re
from dataclasses import dataclass

from datatruth.ask.vocabulary import plural

_LEAD = r"(?:(?:let'?s|let\s+us|we(?:'ll|\s+will)?|i(?:'ll|\s+will)?)\s+)?"
_END = r"\s*(?:[.;:]|,\s*(?:and\s+)?(?=how|what|which|who|show|list|give|count)|\s+and\s+(?=how|what|which))"
_WORDS = r"[a-z][\w-]*(?:\s+[a-z][\w-]*){0,2}"
_QUOTED = r"[\"'“‘](?P<quoted>[^\"'”’]+)[\"'”’]"
# "call a big order one worth more than $1,000"
_CALL_ONE = re.compile(
    rf"^\s*{_LEAD}call\s+(?:a|an)\s+(?P<name>{_WORDS})\s+one\s+(?P<cond>[^.;:?]+?){_END}", re.IGNORECASE
)
# "call an order a 'big basket' when its revenue is at least $1,000", "call a fire claim remote if …"
_CALL_WHEN = re.compile(
    rf"^\s*{_LEAD}(?:call|consider|label|count)\s+(?:a|an|any|every)\s+(?P<head>[^.;:?]+?)\s+"
    rf"(?:when|if|whenever)\s+(?P<cond>[^.;:?]+?){_END}",
    re.IGNORECASE,
)
# "treat any order with more than $750 of revenue as a high-value order"
_TREAT_AS = re.compile(
    rf"^\s*{_LEAD}(?:treat|count|consider)\s+(?:any|every|each|a|an|all)\s+(?P<noun>{_WORDS}?)\s+"
    r"(?P<cond>(?:with|that|which|who|whose|worth|over|above|under|below|costing)\b[^.;:?]+?)\s+as\s+"
    rf"(?:(?:a|an)\s+)?(?:{_QUOTED}|(?P<name>{_WORDS})){_END}",
    re.IGNORECASE,
)
# "a fire claim counts as well staffed if it had at least 8 firefighters"
_COUNTS_AS = re.compile(
    rf"^\s*(?:a|an|any|every)\s+(?P<noun>{_WORDS}?)\s+(?:counts|qualifies|is\s+considered|is\s+classed)\s+as\s+"
    rf"(?:(?:a|an)\s+)?(?:{_QUOTED}|(?P<name>{_WORDS}?))\s+(?:if|when|whenever)\s+(?P<cond>[^.;:?]+?){_END}",
    re.IGNORECASE,
)
# words a condition may open with and still follow its noun as it stands ("orders worth more than $1,000")
_POSTMODIFIERS = (
    "with",
    "that",
    "which",
    "who",
    "whose",
    "worth",
    "over",
    "above",
    "under",
    "below",
    "costing",
)


@dataclass(frozen=True)
class NamedCondition:
    """A condition the question names: its name, the things it holds of, and the words that say it."""

    name: str  # "big order", "high-value"
    noun: str  # "order"
    condition: str  # the words after the noun that say it: "worth more than $1,000"


def expand(question: str) -> tuple[str, NamedCondition | None]:
    """The question with a condition it names said in full at each use, and the condition; unchanged (and None)
    when it names none, or names one it never uses."""
    found = _read(question)
    if found is None:
        return question, None
    named, rest = found
    expanded = _said_in_full(rest, named)
    if expanded == rest:
        return question, None
    return expanded, named


def _read(question: str) -> tuple[NamedCondition, str] | None:
    if m := _CALL_ONE.match(question):
        name = m.group("name").strip()
        condition = _after_noun(m.group("cond"))
        named = NamedCondition(name, name.split()[-1], condition) if condition else None
    elif m := _CALL_WHEN.match(question):
        noun, name = _split_head(m.group("head"))
        condition = _after_noun(m.group("cond"))
        named = NamedCondition(name, noun, condition) if condition and noun and name else None
    elif m := _TREAT_AS.match(question):
        noun = m.group("noun").strip()
        name = (m.group("quoted") or m.group("name") or "").strip()
        if name.lower().endswith(" " + noun.lower()):
            name = name[: -len(noun) - 1]  # "as a high-value order": the name is 'high-value'
        named = NamedCondition(name, noun, m.group("cond").strip()) if name else None
    elif m := _COUNTS_AS.match(question):
        noun = m.group("noun").strip()
        name = (m.group("quoted") or m.group("name") or "").strip()
        condition = _after_noun(m.group("cond"))
        named = NamedCondition(name, noun, condition) if name and condition else None
    else:
        return None
    return (named, question[m.end() :].strip()) if named is not None else None


def _split_head(head: str) -> tuple[str, str]:
    """ "order a 'big basket'" → (order, big basket); "fire claim well-staffed" → (fire claim, well-staffed)."""
    head = head.strip()
    quoted = re.search(_QUOTED, head)
    if quoted:
        noun = re.sub(r"\s+(?:a|an)$", "", head[: quoted.start()].strip(), flags=re.IGNORECASE)
        return noun, quoted.group("quoted").strip()
    parts = re.split(r"\s+(?:a|an)\s+", head, maxsplit=1, flags=re.IGNORECASE)
    if len(parts) == 2:
        return parts[0], parts[1]
    words = head.split()
    return " ".join(words[:-1]), words[-1] if len(words) > 1 else ""


def _after_noun(condition: str) -> str:
    """The condition as words that can follow its noun: "its revenue is at least $1,000" → "with revenue at least
    $1,000"; "they ordered twice" → "that ordered twice"; "" when it cannot be said that way."""
    condition = condition.strip()
    if m := re.match(r"(?:its|their)\s+(?P<what>.+?)\s+(?:is|are|was|were)\s+(?P<rest>.+)$", condition, re.I):
        return f"with {m.group('what')} {m.group('rest')}"
    if m := re.match(r"(?:it|they)\s+(?P<rest>.+)$", condition, re.IGNORECASE):
        return f"that {m.group('rest')}"
    if condition.split()[0].lower() in _POSTMODIFIERS:
        return condition
    return ""


def _said_in_full(text: str, named: NamedCondition) -> str:
    """Each use of the name in `text` replaced by the noun and the condition."""
    name, noun = re.escape(named.name.lower()), re.escape(named.noun.lower())
    nouns = re.escape(plural(named.noun.lower()))
    full_one, full_many = f"{named.noun} {named.condition}", f"{plural(named.noun)} {named.condition}"
    uses = (
        # "well-staffed fire claims", "high-value orders": the name said before the noun
        (rf"\b{name}\s+{nouns}\b", full_many),
        (rf"\b{name}\s+{noun}\b", full_one),
        # "for the well staffed ones": the name said of the noun's members, the noun left out
        (rf"\b{name}\s+ones\b", full_many),
        # "big baskets", "big orders": the name is a noun of its own
        (rf"\b{re.escape(plural(named.name.lower()))}\b", full_many),
        # "orders were high-value", "fire claims are remote": the name said of them
        (rf"\b(?:are|were|is|was)\s+(?:{name})\b", named.condition),
        (rf"\b{name}\b", full_one),
    )
    for pattern, words in uses:
        text, count = re.subn(pattern, words.replace("\\", "\\\\"), text, flags=re.IGNORECASE)
        if count:
            return text
    return text
