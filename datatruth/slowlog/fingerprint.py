"""Query fingerprints: pt-query-digest compatible text fingerprints, PostgreSQL and readable token fingerprints.

`fingerprint_pt` reproduces pt-fingerprint's rules (see the Percona corpus SOURCE.txt,
"Key facts"). Those rules are defined on text, not on a parse tree, so this one
function works on text on purpose: a query class must get the same ID here as in
pt-query-digest. Every pattern is written to run in linear time, because slow logs
carry multi-megabyte INSERT statements.

pt's rules are MySQL's: they read '#' as a comment. `fingerprint_pg` classes PostgreSQL
statements from PostgreSQL's own lexer (pglast, libpg_query), where '#' is the XOR
operator. `readable_fingerprint` is what people read in the app and the store: pt's
text turns `db1.tbl_2` into `d?tbl_?`, this keeps it as `db?.tbl_?`.

`fingerprint_sqlglot` is the AST-based alternative: literals become placeholders,
IN and VALUES lists collapse, identifiers are normalised. Statements sqlglot cannot
parse fall back to the pt fingerprint.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from datatruth.slowlog.events import MAX_ANALYSED_CHARS

if TYPE_CHECKING:  # sqlglot costs 0.3 s to import; the digest's hot path does not need it
    from sqlglot import exp

_MYSQLDUMP = re.compile(r"SELECT /\*!40001 SQL_NO_CACHE \*/ \* FROM `")
_PT_TOOL = re.compile(r"/\*\w+\.\w+:[0-9]/[0-9]\*/")
_CALL = re.compile(r"\s*(call\s+\S+)\(", re.I)
_INSERT_HEAD = re.compile(r"(?:INSERT|REPLACE)(?: IGNORE)?\s+INTO", re.I)
_VALUES_OPEN = re.compile(r"VALUES\s*\(", re.I)
_NEXT_ROW = re.compile(r"\)\s*,\s*\(")
_BLOCK_COMMENT = re.compile(r"/\*[^!].*?\*/", re.S)
_LINE_SPLIT = re.compile(r"([\r\n])")
_LINE_COMMENT_START = re.compile(r"--|#")
_DASH_COMMENT_START = re.compile(r"--")
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


def _strip_line_comments(query: str, hash_comments: bool = True) -> str:
    """Drop `-- ...` and `# ...` to end of line unless a quote follows on that line (pt's rule)."""
    if "--" not in query and ("#" not in query or not hash_comments):
        return query
    starts = _LINE_COMMENT_START if hash_comments else _DASH_COMMENT_START
    out = []
    for piece in _LINE_SPLIT.split(query):
        if "--" in piece or (hash_comments and "#" in piece):
            # A comment can only start after the last quote of its line: earlier
            # starts would run into the quote before reaching the end of the line.
            after_quote = max(piece.rfind("'"), piece.rfind('"')) + 1
            start = starts.search(piece, after_quote)
            if start:
                piece = piece[: start.start()]
        out.append(piece)
    return "".join(out)


def _drop_order_by_asc(query: str) -> str:
    """Remove every ASC after the first ORDER BY, as pt does (so `a ASC` and `a` group together)."""
    anchor = _ORDER_BY.search(query)
    if not anchor:
        return query
    tail = query[anchor.end() :]
    kept, pos = [], 0
    while (step := _ASC_STEP.match(tail, pos)) is not None:
        kept.append(step.group(1))
        pos = step.end()
    kept.append(tail[pos:])
    return query[: anchor.end()] + "".join(kept)


_TAIL_MEMO: dict[str, str] = {}
_TAIL_MEMO_MAX = 50_000


def fingerprint_pt(
    sql: str,
    *,
    match_md5_checksums: bool = False,
    match_embedded_numbers: bool = False,
    hash_comments: bool = True,
) -> str:
    """Fingerprint a statement exactly as pt-query-digest / pt-fingerprint do (lowercase, literals as ?).

    hash_comments=False keeps '#' (PostgreSQL's XOR operator); only '--' starts a line comment then.
    """
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
    query = _strip_line_comments(query, hash_comments)
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
        return _tail(query)
    # Booleans first is equivalent to pt's order (strings, booleans, numbers): a
    # boolean inside a string disappears with the string either way.
    lowered = query.lower()
    if "true" in lowered or "false" in lowered:
        query = _BOOLEAN.sub("?", query)
    query = _STRING_OR_NUMBER.sub("?", query)
    if "x?" in query or "b?" in query or ".?" in query or "+?" in query or "-?" in query:
        query = _LEFTOVER.sub("?", query)
    # Everything after the literals are masked depends on the masked text alone, and thousands
    # of statements share one masked text: the rest is looked up once per masked text.
    found = _TAIL_MEMO.get(query)
    if found is None:
        found = _tail(query)
        if len(query) <= 4_000:
            if len(_TAIL_MEMO) >= _TAIL_MEMO_MAX:
                _TAIL_MEMO.clear()
            _TAIL_MEMO[query] = found
    return found


def _tail(query: str) -> str:
    """pt's steps after the literals are masked: whitespace, case, NULL, lists, UNION, LIMIT, ORDER BY ASC."""
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
        # CALL is matched only where it can start (a regex call per statement was a tenth of this method).
        verbatim = sql.startswith("administrator command: ") or (
            (sql[:1].isspace() or sql[:4].lower() == "call") and _CALL.match(sql) is not None
        )
        key: bytes | str = (
            sql if verbatim else sql.encode("utf-8", "surrogatepass").translate(_DIGITS_TO_ZERO)
        )
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
    from sqlglot import exp

    if isinstance(node, exp.In) and node.args.get("expressions"):
        items = node.args["expressions"]
        if all(
            isinstance(i, exp.Literal | exp.Boolean | exp.Null | exp.Neg | exp.Placeholder) for i in items
        ):
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
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError
    from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

    from datatruth.slowlog.rules import quiet_sqlglot

    if too_deep(sql):
        return fingerprint_pt(sql)
    try:
        with quiet_sqlglot():
            trees = sqlglot.parse(sql, read=dialect)
    except SqlglotError:
        return fingerprint_pt(sql)
    if len(trees) != 1 or trees[0] is None or isinstance(trees[0], exp.Command):
        return fingerprint_pt(sql)
    tree = normalize_identifiers(trees[0], dialect=dialect)
    tree = tree.transform(_abstract)
    try:
        with quiet_sqlglot():
            return tree.sql(dialect=dialect, comments=False)
    except SqlglotError:
        return fingerprint_pt(sql)


# Parenthesis depth past which no parse tree is built: the recursive-descent parsers (sqlglot, and
# Python's own stack) give out long before; a 100,000-deep statement is reported by its text alone.
MAX_NESTING = 200


def too_deep(sql: str) -> bool:
    """True when a statement nests brackets deeper than MAX_NESTING (such text gets no parse tree)."""
    if sql.count("(") <= MAX_NESTING:
        return False
    depth = deepest = 0
    for char in sql:
        if char == "(":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_NESTING:
                    return True
        elif char == ")" and depth:
            depth -= 1
    return False


# --------------------------------------------------------------------------------------------
# Token fingerprints: PostgreSQL classes, and the readable form shown to people
# --------------------------------------------------------------------------------------------

# A token as the normaliser sees it: (kind, text, preceded by space). Kinds: const, ident, qident,
# keyword, sym. Comments never reach it.
_Tok = tuple[str, str, bool]
_LIST_OPENERS = frozenset({"in", "values", "value"})


def _normalise(tokens: Iterable[_Tok], shard_digits: bool) -> str:
    """Literals to ?, keywords and plain names lowercase, constant lists to (?+), one space where there was space."""
    out: list[list[Any]] = []  # [text, spaced, kind]
    for kind, text, spaced in tokens:
        if kind == "const":
            # A sign glued to a number that follows an operator or a bracket is part of the literal.
            if (
                out
                and out[-1][0] in ("-", "+")
                and out[-1][2] == "sym"
                and (len(out) < 2 or out[-2][2] in ("keyword", "sym") and out[-2][0] not in (")", "]"))
            ):
                spaced = out.pop()[1]
            out.append(["?", spaced, "const"])
        elif kind == "ident":
            name = text.lower()
            out.append([_DIGIT_RUN.sub("?", name) if shard_digits else name, spaced, kind])
        elif kind == "keyword":
            out.append([text.lower(), spaced, kind])
        elif kind == "qident" and shard_digits:
            out.append([_DIGIT_RUN.sub("?", text), spaced, kind])
        else:
            out.append([text, spaced, kind])
    return _join(_collapse_lists(out))


_DIGIT_RUN = re.compile(r"[0-9]+")  # digits inside a *name* (tbl_2024, db1): shards of one table


def _collapse_lists(toks: list[list[Any]]) -> list[list[Any]]:
    """IN (?, ?, ?) -> IN (?+) and VALUES (?, ?), (?, ?) -> VALUES (?+), like pt's `in(?+)`."""
    out: list[list[Any]] = []
    i, n = 0, len(toks)
    while i < n:
        tok = toks[i]
        opener = out[-1][0] if out else ""
        after_row = len(out) >= 2 and out[-1][0] == "," and out[-2][0] == "(?+)"
        if tok[0] == "(" and (opener in _LIST_OPENERS or after_row):
            j = i + 1
            while j < n and (toks[j][0] == "?" or toks[j][0] == ","):
                j += 1
            if j < n and toks[j][0] == ")" and j > i + 1:
                if after_row:
                    out.pop()  # the comma before a repeated row
                else:
                    out.append(["(?+)", tok[1], "sym"])
                i = j + 1
                continue
        out.append(tok)
        i += 1
    return out


def _join(toks: list[list[Any]]) -> str:
    parts: list[str] = []
    for text, spaced, _kind in toks:
        if parts and spaced:
            parts.append(" ")
        parts.append(text)
    return "".join(parts)


_PG_CONSTANTS = frozenset({"SCONST", "FCONST", "ICONST", "BCONST", "XCONST", "USCONST", "PARAM"})
_PG_COMMENTS = frozenset({"SQL_COMMENT", "C_COMMENT"})


def _pg_tokens(sql: str) -> list[_Tok]:
    """PostgreSQL's own lexer (pglast) as normaliser tokens; pglast.parser.ParseError when it cannot lex."""
    from pglast import parser

    tokens: list[_Tok] = []
    previous_end = -1
    for token in parser.scan(sql):
        text = sql[token.start : token.end + 1]  # pglast turns libpg_query's byte offsets into str offsets
        spaced = token.start > previous_end + 1
        previous_end = token.end
        name = token.name
        if name in _PG_COMMENTS:
            continue
        if name in _PG_CONSTANTS:
            tokens.append(("const", text, spaced))
        elif name == "IDENT":
            tokens.append(("qident" if text.startswith('"') else "ident", text, spaced))
        elif token.kind != "NO_KEYWORD":
            tokens.append(("keyword", text, spaced))
        else:
            tokens.append(("sym", text, spaced))
    return tokens


def fingerprint_pg(sql: str) -> str:
    """The class of a PostgreSQL statement from PostgreSQL's lexer: `select a # b from t where x = ?`.

    Literals and $n parameters become ?, keywords and unquoted names are folded to lowercase,
    comments dropped, constant IN/VALUES lists collapsed. Text the lexer refuses (a statement
    cut inside a string) falls back to pt's rules with '#' kept as an operator.
    """
    from pglast import parser

    try:
        return _normalise(_pg_tokens(sql), shard_digits=False)
    except parser.ParseError:
        return fingerprint_pt(sql, hash_comments=False)


class PgFingerprinter:
    """fingerprint_pg with a bounded memo keyed by the exact statement (names with digits differ here)."""

    def __init__(self, max_entries: int = 20_000, max_text: int = 4_000) -> None:
        self._memo: dict[str, str] = {}
        self._max_entries = max_entries
        self._max_text = max_text

    def __call__(self, sql: str) -> str:
        """The PostgreSQL fingerprint of `sql` (same result as fingerprint_pg)."""
        if len(sql) > self._max_text:
            return fingerprint_pg(sql)
        found = self._memo.get(sql)
        if found is None:
            found = fingerprint_pg(sql)
            if len(self._memo) >= self._max_entries:
                self._memo.clear()
            self._memo[sql] = found
        return found

    def __getstate__(self) -> dict[str, object]:
        return {"_memo": {}, "_max_entries": self._max_entries, "_max_text": self._max_text}


PG_SOURCES = frozenset({"postgres", "pg_stat_statements"})


class SourceFingerprinter:
    """Fingerprints an event by where it came from: PostgreSQL's with fingerprint_pg, the rest with pt's rules."""

    def __init__(self, pt: Any) -> None:
        self._pt = pt
        self._pg = PgFingerprinter()

    def __call__(self, event: Any) -> str:
        """The class fingerprint of one SlowEvent."""
        if event.source in PG_SOURCES:
            return self._pg(event.query)
        return self._pt(event.query)


def _mysql_tokens(sql: str) -> list[_Tok]:
    """sqlglot's MySQL tokens as normaliser tokens (comments are not tokens there)."""
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.tokens import TokenType

    constants = {
        TokenType.STRING,
        TokenType.NUMBER,
        TokenType.HEX_STRING,
        TokenType.BIT_STRING,
        TokenType.NATIONAL_STRING,
        TokenType.BYTE_STRING,
        TokenType.TRUE,
        TokenType.FALSE,
        TokenType.NULL,
        TokenType.PLACEHOLDER,
        TokenType.PARAMETER,
    }
    tokens: list[_Tok] = []
    previous_end = -1
    for token in Dialect.get_or_raise("mysql").tokenize(sql):
        spaced = token.start > previous_end + 1
        previous_end = token.end
        if token.token_type in constants:
            tokens.append(("const", "?", spaced))
        elif token.token_type == TokenType.VAR:
            tokens.append(("ident", token.text, spaced))
        elif token.token_type == TokenType.IDENTIFIER:
            tokens.append(("qident", f"`{token.text}`", spaced))
        elif token.text[:1].isalpha():
            tokens.append(("keyword", token.text, spaced))
        else:
            tokens.append(("sym", token.text, spaced))
    return tokens


def readable_fingerprint(sql: str, dialect: str = "mysql") -> str:
    """The class as people read it (app, store): literals as ?, names kept whole (`db?.tbl_?`, not pt's `d?tbl_?`).

    MySQL names have their digit runs shown as ? because pt's class merges `tbl_1` and `tbl_2`;
    PostgreSQL statements get fingerprint_pg. Only the first MAX_ANALYSED_CHARS are read.
    """
    text = sql[:MAX_ANALYSED_CHARS]
    if dialect == "postgres":
        return fingerprint_pg(text)
    from sqlglot.errors import SqlglotError

    try:
        return _normalise(_mysql_tokens(text), shard_digits=True)
    except (SqlglotError, ValueError):
        return fingerprint_pt(text)
