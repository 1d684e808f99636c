"""Redaction of personal data: SQL literals, emails, IP addresses, card and phone numbers."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import replace

from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from datatruth.slowlog.events import SlowEvent

PLACEHOLDER = "?"
EMAIL_TOKEN = "<email>"
IP_TOKEN = "<ip>"
CARD_TOKEN = "<card>"
PHONE_TOKEN = "<phone>"

# Free-text patterns. These scan prose and log text, not SQL structure, so regex is the right tool.
_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
_CARD = re.compile(r"(?<![\w.])\d(?:[ -]?\d){12,18}(?![\w.])")
_IPV4 = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w.])"
)
_IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}"  # international: +CC ...
    r"|\(\d{3}\)[ .-]?\d{3}[ .-]?\d{4}"  # (555) 123-4567
    r"|\d{3}[.-]\d{3}[.-]\d{4}"  # 555-123-4567
    r")(?![\w])"
)


def luhn_valid(digits: str) -> bool:
    """True when a digit string passes the Luhn checksum used by payment card numbers."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    # 13..19 digits is the ISO/IEC 7812 range; the checksum keeps random ids from being flagged.
    if 13 <= len(digits) <= 19 and luhn_valid(digits):
        return CARD_TOKEN
    return match.group(0)


def _ipv6(match: re.Match[str]) -> str:
    text = match.group(0)
    if not any(char.isdigit() for char in text) or text.count(":") < 2:
        return text  # a cast like x::date, or a time 12:30:00, is not an address
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return text
    return IP_TOKEN


def _phone(match: re.Match[str]) -> str:
    digits = sum(char.isdigit() for char in match.group(0))
    return PHONE_TOKEN if 7 <= digits <= 15 else match.group(0)


def redact_text(text: str) -> str:
    """Replace emails, IPv4/IPv6 addresses, Luhn-valid card numbers and phone numbers in free text."""
    text = _EMAIL.sub(EMAIL_TOKEN, text)
    text = _CARD.sub(_card, text)
    text = _IPV6.sub(_ipv6, text)
    text = _IPV4.sub(IP_TOKEN, text)
    return _PHONE.sub(_phone, text)


# --------------------------------------------------------------------------------------------
# SQL literals
# --------------------------------------------------------------------------------------------

_LITERAL_TOKENS = frozenset(
    getattr(TokenType, name)
    for name in (
        "STRING",
        "NUMBER",
        "NATIONAL_STRING",
        "HEX_STRING",
        "BIT_STRING",
        "BYTE_STRING",
        "RAW_STRING",
        "HEREDOC_STRING",
        "UNICODE_STRING",
    )
    if hasattr(TokenType, name)
)


def _mask_tokens(sql: str, dialect: str) -> str | None:
    """Mask literals by their sqlglot token spans; None when sqlglot cannot tokenize the text.

    Working on the tokens under the AST (rather than regenerating SQL from the tree) keeps the sample
    exactly as written apart from the masked literals: the generator would rewrite operators it does
    not know (PostgreSQL's && became AND) and change the meaning of the sample.
    """
    try:
        tokens = Dialect.get_or_raise(dialect).tokenize(sql)
    except (TokenError, ParseError, ValueError):
        return None
    out: list[str] = []
    position = 0
    previous: Token | None = None
    for token in tokens:
        gap = sql[position : token.start]
        # Gaps hold only whitespace and comments; comments are free text and are dropped.
        out.append(gap if not gap.strip() else " ")
        text = sql[token.start : token.end + 1]
        is_parameter_index = (
            previous is not None
            and previous.token_type == TokenType.PARAMETER
            and previous.end + 1 == token.start
        )
        out.append(PLACEHOLDER if token.token_type in _LITERAL_TOKENS and not is_parameter_index else text)
        position = token.end + 1
        previous = token
    return "".join(out).rstrip()


def _looks_like_identifier(text: str) -> bool:
    return (
        bool(text)
        and len(text) <= 63
        and (text[0].isalpha() or text[0] == "_")
        and all(char.isalnum() or char in "_$" for char in text)
    )


def mask_literals_text(sql: str) -> str:  # noqa: C901 - one scanner over quoted strings, numbers and comments, in one pass for speed
    """Conservative lexical masking of strings, numbers and comments for SQL sqlglot cannot parse."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        char = sql[i]
        nxt = sql[i + 1] if i + 1 < n else ""
        if char == "-" and nxt == "-":
            end = sql.find("\n", i)
            i = n if end < 0 else end
            continue
        if char == "/" and nxt == "*":
            end = sql.find("*/", i + 2)
            i = n if end < 0 else end + 2
            out.append(" ")
            continue
        if char == "'":
            # Strings end at an unescaped quote; treating backslash as an escape can only lengthen
            # what is masked, never expose part of a value.
            if (
                out
                and out[-1] in ("E", "e", "N", "n", "X", "x", "B", "b")
                and (len(out) < 2 or not (out[-2].isalnum() or out[-2] == "_"))
            ):
                out.pop()
            j = i + 1
            while j < n:
                if sql[j] == "\\":
                    j += 2
                    continue
                if sql[j] == "'":
                    if j + 1 < n and sql[j + 1] == "'":
                        j += 2
                        continue
                    break
                j += 1
            out.append(PLACEHOLDER)
            i = j + 1
            continue
        if char == "$" and (nxt == "$" or nxt.isalpha() or nxt == "_"):
            end_tag = sql.find("$", i + 1)
            tag = sql[i : end_tag + 1] if end_tag > 0 else ""
            if tag and all(c.isalnum() or c == "_" for c in tag[1:-1]):
                close = sql.find(tag, end_tag + 1)
                out.append(PLACEHOLDER)
                i = n if close < 0 else close + len(tag)
                continue
        if char == '"':
            end = sql.find('"', i + 1)
            body = sql[i + 1 :] if end < 0 else sql[i + 1 : end]
            out.append(f'"{body}"' if end >= 0 and _looks_like_identifier(body) else PLACEHOLDER)
            i = n if end < 0 else end + 1
            continue
        if char == "`":
            end = sql.find("`", i + 1)
            out.append(sql[i:] if end < 0 else sql[i : end + 1])
            i = n if end < 0 else end + 1
            continue
        previous = out[-1][-1:] if out else ""
        if (char.isdigit() or (char == "." and nxt.isdigit())) and not (
            previous.isalnum() or previous in "_$"
        ):
            j = i
            if char == "0" and nxt in "xX":
                j += 2
                while j < n and sql[j] in "0123456789abcdefABCDEF":
                    j += 1
            else:
                while j < n and (sql[j].isdigit() or sql[j] == "."):
                    j += 1
                if j < n and sql[j] in "eE" and (j + 1 < n and (sql[j + 1].isdigit() or sql[j + 1] in "+-")):
                    j += 2
                    while j < n and sql[j].isdigit():
                        j += 1
            out.append(PLACEHOLDER)
            i = j
            continue
        out.append(char)
        i += 1
    return "".join(out)


def redact_sample(sql: str, allow_raw: bool = False, dialect: str | None = None) -> str:
    """Redact a SQL sample: every literal becomes '?', then personal data patterns are masked.

    With allow_raw the literals stay, but emails, addresses, card and phone numbers are still masked.
    """
    if allow_raw:
        return redact_text(sql)
    masked = _mask_tokens(sql, dialect or "postgres")
    # The lexical pass also runs after the token pass, as a safety net: a double-quoted value in a
    # MySQL query read with PostgreSQL rules, for instance, is still masked unless it looks like a name.
    return redact_text(mask_literals_text(masked if masked is not None else sql))


_EVENT_DIALECT = {
    "postgres": "postgres",
    "pg_stat_statements": "postgres",
    "mysql": "mysql",
    "performance_schema": "mysql",
}


def redact_event(event: SlowEvent, allow_raw: bool = False) -> SlowEvent:
    """Return the event with its query redacted, bind parameters dropped and the host masked."""
    attributes = {key: value for key, value in event.attributes.items() if key != "parameters"}
    if "parameters" in event.attributes and isinstance(event.attributes["parameters"], dict):
        attributes["parameter_count"] = len(event.attributes["parameters"])
    for key, value in list(attributes.items()):
        if isinstance(value, str):
            attributes[key] = redact_text(value)
    return replace(
        event,
        query=redact_sample(event.query, allow_raw=allow_raw, dialect=_EVENT_DIALECT.get(event.source)),
        host=redact_text(event.host) if event.host else event.host,
        attributes=attributes,
    )
