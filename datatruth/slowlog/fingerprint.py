"""Query fingerprints: pt-query-digest compatible text fingerprints and sqlglot AST fingerprints.

`fingerprint_pt` reproduces pt-fingerprint's rules (see the Percona corpus SOURCE.txt,
"Key facts"). Those rules are defined on text, not on a parse tree, so this one
function works on text on purpose: a query class must get the same ID here as in
pt-query-digest. Every pattern is written to run in linear time, because slow logs
carry multi-megabyte INSERT statements.

`fingerprint_sqlglot` is the AST-based alternative: literals become placeholders,
IN and VALUES lists collapse, identifiers are normalised. Statements sqlglot cannot
parse fall back to the pt fingerprint.
"""

from __future__ import annotations

import hashlib
import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

_MYSQLDUMP = re.compile(r"SELECT /\*!40001 SQL_NO_CACHE \*/ \* FROM `")
_PT_TOOL = re.compile(r"/\*\w+\.\w+:[0-9]/[0-9]\*/")
_CALL = re.compile(r"\s*(call\s+\S+)\(", re.I)
_INSERT_HEAD = re.compile(r"(?:INSERT|REPLACE)(?: IGNORE)?\s+INTO", re.I)
_VALUES_OPEN = re.compile(r"VALUES\s*\(", re.I)
_NEXT_ROW = re.compile(r"\)\s*,\s*\(")
_BLOCK_COMMENT = re.compile(r"/\*[^!].*?\*/", re.S)
_LINE_SPLIT = re.compile(r"([\r\n])")
_LINE_COMMENT_START = re.compile(r"--|#")
_USE_ONLY = re.compile(r"use \S+\n?\Z", re.I)
_STRING = re.compile(r"'[^'\\]*+(?:\\.[^'\\]*+)*+'|\"[^\"\\]*+(?:\\.[^\"\\]*+)*+\"", re.S)
_BOOLEAN = re.compile(r"\bfalse\b|\btrue\b", re.I)
_MD5 = re.compile(r"([._-])[a-f0-9]{32}")
_NUMBER = re.compile(r"[0-9+-][0-9a-f.xb+-]*+")
_NUMBER_WORD_START = re.compile(r"\b[0-9+-][0-9a-f.xb+-]*+")
# Strings and numbers in one left-to-right pass: equivalent to pt's two passes (strings,
# then numbers) because number characters never include a quote and a replaced string
# ("?") is never part of a number.
_STRING_OR_NUMBER = re.compile(_STRING.pattern + r"|[0-9+-][0-9a-f.xb+-]*+", re.S)
_LEFTOVER = re.compile(r"[xb.+-]\?")
_LEFTOVER_MD5 = re.compile(r"[xb+-]\?")
_SPACE = re.compile(r"[ \n\t\r\f]+")
_NULL = re.compile(r"\bnull\b")
_LIST = re.compile(r"\b(in|values?)(?:[\s,]*+\([\s?,]*+\))+")
_UNION = re.compile(r"\b(select\s.*?)(?:(\sunion(?:\sall)?)\s\1)+")
_LIMIT = re.compile(r"\blimit \?(?:, ?\?| offset \?)?")
_ORDER_BY = re.compile(r"\border by ", re.I)
_ASC_STEP = re.compile(r"(.+?)\s+asc", re.I)


def _first_values_row(query: str) -> str:
    """Cut a multi-row INSERT/REPLACE after its first VALUES row, in linear time."""
    head = _INSERT_HEAD.match(query)
    if not head:
        return query
    values = _VALUES_OPEN.search(query, head.end() + 1)
    if not values:
        return query
    row_end = _NEXT_ROW.search(query, values.end())
    return query[: row_end.start() + 1] if row_end else query


def _strip_line_comments(query: str) -> str:
    """Drop `-- ...` and `# ...` to end of line unless a quote follows on that line (pt's rule)."""
    if "--" not in query and "#" not in query:
        return query
    out = []
    for piece in _LINE_SPLIT.split(query):
        if "--" in piece or "#" in piece:
            # A comment can only start after the last quote of its line: earlier
            # starts would run into the quote before reaching the end of the line.
            after_quote = max(piece.rfind("'"), piece.rfind('"')) + 1
            start = _LINE_COMMENT_START.search(piece, after_quote)
            if start:
                piece = piece[: start.start()]
        out.append(piece)
    return "".join(out)


def _drop_order_by_asc(query: str) -> str:
    """Remove every ASC after the first ORDER BY, as pt does (so `a ASC` and `a` group together)."""
    anchor = _ORDER_BY.search(query)
    if not anchor:
        return query
    tail = query[anchor.end():]
    kept, pos = [], 0
    while (step := _ASC_STEP.match(tail, pos)) is not None:
        kept.append(step.group(1))
        pos = step.end()
    kept.append(tail[pos:])
    return query[: anchor.end()] + "".join(kept)


def fingerprint_pt(
    sql: str, *, match_md5_checksums: bool = False, match_embedded_numbers: bool = False
) -> str:
    """Fingerprint a statement exactly as pt-query-digest / pt-fingerprint do (lowercase, literals as ?)."""
    query = sql
    if _MYSQLDUMP.match(query):
        return "mysqldump"
    if "/*" in query and _PT_TOOL.search(query):
        return "percona-toolkit"
    if query.startswith("administrator command: "):
        return query
    call = _CALL.match(query)
    if call:
        return call.group(1).lower()
    query = _first_values_row(query)

    if "/*" in query:
        query = _BLOCK_COMMENT.sub("", query)
    query = _strip_line_comments(query)
    if _USE_ONLY.match(query):
        return "use ?\n" if query.endswith("\n") else "use ?"

    if match_md5_checksums or match_embedded_numbers:
        if "'" in query or '"' in query:
            query = _STRING.sub("?", query)
        query = _BOOLEAN.sub("?", query)
        if match_md5_checksums:
            query = _MD5.sub(r"\1?", query)
        query = (_NUMBER_WORD_START if match_embedded_numbers else _NUMBER).sub("?", query)
        query = (_LEFTOVER_MD5 if match_md5_checksums else _LEFTOVER).sub("?", query)
    else:
        # Booleans first is equivalent to pt's order (strings, booleans, numbers): a
        # boolean inside a string disappears with the string either way.
        lowered = query.lower()
        if "true" in lowered or "false" in lowered:
            query = _BOOLEAN.sub("?", query)
        query = _STRING_OR_NUMBER.sub("?", query)
        if "x?" in query or "b?" in query or ".?" in query or "+?" in query or "-?" in query:
            query = _LEFTOVER.sub("?", query)

    query = query.lstrip(" \n\t\r\f\v")
    if query.endswith("\n"):
        query = query[:-1]
    if "  " in query or "\n" in query or "\t" in query or "\r" in query or "\f" in query:
        query = _SPACE.sub(" ", query)
    query = query.lower()
    if "null" in query:
        query = _NULL.sub("?", query)
    if "(" in query:
        query = _LIST.sub(r"\1(?+)", query)
    if "union" in query:
        query = _UNION.sub(r"\1 /*repeat\2*/", query)
    if "limit" in query:
        query = _LIMIT.sub("limit ?", query, count=1)
    if "order by" in query:
        query = _drop_order_by_asc(query)
    return query


_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")


class PtFingerprinter:
    """fingerprint_pt with a bounded memo, keyed by the statement with every digit set to 0.

    The default pt rules treat all digits alike (numbers become ?, digits in names become ?),
    so statements that differ only in digit values share a fingerprint. Administrator commands
    and CALL keep their text verbatim, so they are memoised by exact text only.
    """

    def __init__(self, max_entries: int = 20_000, max_text: int = 4_000) -> None:
        self._memo: dict[bytes | str, str] = {}
        self._max_entries = max_entries
        self._max_text = max_text

    def __call__(self, sql: str) -> str:
        """The pt fingerprint of `sql` (same result as fingerprint_pt)."""
        if len(sql) > self._max_text:
            return fingerprint_pt(sql)
        verbatim = sql.startswith("administrator command: ") or _CALL.match(sql) is not None
        key: bytes | str = sql if verbatim else sql.encode("utf-8", "surrogatepass").translate(_DIGITS_TO_ZERO)
        memo = self._memo
        found = memo.get(key)
        if found is None:
            found = fingerprint_pt(sql)
            if len(memo) >= self._max_entries:
                memo.clear()
            memo[key] = found
        return found

    def __getstate__(self) -> dict[str, object]:
        # Sent between processes without its memo.
        return {"_memo": {}, "_max_entries": self._max_entries, "_max_text": self._max_text}


def query_id(fingerprint: str) -> str:
    """The class ID pt-query-digest prints: uppercase hex MD5 of the fingerprint (32 characters)."""
    return hashlib.md5(fingerprint.encode("utf-8")).hexdigest().upper()


def _abstract(node: exp.Expression) -> exp.Expression:
    """Replace one literal-bearing node by its placeholder form (used with Expression.transform)."""
    if isinstance(node, exp.In) and node.args.get("expressions"):
        items = node.args["expressions"]
        if all(isinstance(i, exp.Literal | exp.Boolean | exp.Null | exp.Neg | exp.Placeholder) for i in items):
            node = node.copy()
            node.set("expressions", [exp.Var(this="?+")])
        return node
    if isinstance(node, exp.Values):
        rows = node.expressions
        if rows and all(isinstance(r, exp.Tuple) for r in rows):
            node = node.copy()
            node.set("expressions", [exp.Tuple(expressions=[exp.Var(this="?+")])])
        return node
    # A bare "?" variable, not exp.Placeholder: that one renders as %s or $1 in some dialects.
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return exp.Var(this="?")
    if isinstance(node, exp.Literal | exp.Boolean | exp.Null):
        return exp.Var(this="?")
    return node


def fingerprint_sqlglot(sql: str, dialect: str = "mysql") -> str:
    """Fingerprint via the sqlglot AST (literals -> ?, lists collapsed, identifiers normalised); pt style if unparsable."""
    try:
        trees = sqlglot.parse(sql, read=dialect)
    except SqlglotError:
        return fingerprint_pt(sql)
    if len(trees) != 1 or trees[0] is None or isinstance(trees[0], exp.Command):
        return fingerprint_pt(sql)
    tree = normalize_identifiers(trees[0], dialect=dialect)
    tree = tree.transform(_abstract)
    try:
        return tree.sql(dialect=dialect, comments=False)
    except SqlglotError:
        return fingerprint_pt(sql)
