"""The SQL guard: allow exactly one read-only query over the workspace's tables and re-render it with a row cap.

The guard fails closed. Text is tokenised and parsed with sqlglot in the warehouse's dialect; every node
of the tree must be of a type on the allow-list below, every function must be a modelled built-in that is
not on the dialect's deny list (or an unmodelled one on the allow-list), and every table reference must
be one the workspace exposes. The SQL that runs is the checked tree rendered again without comments, so
text the lexer saw as a comment can never reach the server.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, SqlglotError
from sqlglot.tokens import Token, TokenType

from datatruth.errors import GuardRejected, UserError
from datatruth.sql import denylist, sparksql

MAX_SQL_CHARS = 100_000
CAPPED_ALIAS = "guard_capped"

# Token types whose raw text may hold any character: the characters are data or a quoted name.
_QUOTED_TOKENS = frozenset(
    {
        TokenType.STRING,
        TokenType.NATIONAL_STRING,
        TokenType.BYTE_STRING,
        TokenType.RAW_STRING,
        TokenType.HEREDOC_STRING,
        TokenType.UNICODE_STRING,
        TokenType.NATIONAL_RAW_STRING,
        TokenType.BIT_STRING,
        TokenType.HEX_STRING,
        TokenType.IDENTIFIER,
    }
)
_STRING_TOKENS = _QUOTED_TOKENS - {TokenType.IDENTIFIER}

# Every node type a read-only query may contain besides functions (checked separately) and the
# operator families below. Anything else, e.g. sqlglot's catch-all Command, is refused.
_ALLOWED_NODES: frozenset[type[exp.Expression]] = frozenset(
    {
        exp.Select,
        exp.Union,
        exp.Intersect,
        exp.Except,
        exp.Values,
        exp.Tuple,
        exp.With,
        exp.CTE,
        exp.Subquery,
        exp.From,
        exp.Join,
        exp.Lateral,
        exp.Table,
        exp.TableAlias,
        exp.Alias,
        exp.Aliases,
        exp.Identifier,
        exp.Column,
        exp.Star,
        exp.Literal,
        exp.Boolean,
        exp.Null,
        exp.RawString,
        exp.ByteString,
        exp.HexString,
        exp.BitString,
        exp.National,
        exp.UnicodeString,
        exp.Var,
        exp.DataType,
        exp.DataTypeParam,
        exp.Interval,
        exp.IntervalSpan,
        exp.Where,
        exp.Group,
        exp.Having,
        exp.Qualify,
        exp.Order,
        exp.Ordered,
        exp.Limit,
        exp.Offset,
        exp.Fetch,
        exp.LimitOptions,
        exp.Distinct,
        exp.Window,
        exp.WindowSpec,
        exp.Filter,
        exp.WithinGroup,
        exp.IgnoreNulls,
        exp.RespectNulls,
        exp.HavingMax,
        exp.Between,
        exp.In,
        exp.Any,
        exp.All,
        exp.Cube,
        exp.Rollup,
        exp.GroupingSets,
        exp.Pivot,
        exp.PivotAlias,
        exp.PivotAny,
        exp.UnpivotColumns,
        exp.TableSample,
        exp.Bracket,
        exp.Slice,
        exp.Lambda,
        exp.AtTimeZone,
        exp.Escape,
        exp.PositionalColumn,
        exp.JSONPath,
        exp.JSONPathKey,
        exp.JSONPathRoot,
        exp.JSONPathSubscript,
        exp.JSONPathWildcard,
        exp.JSONPathSlice,
        exp.JSONPathUnion,
        exp.JSONPathSelector,
        exp.JSONPathRecursive,
        exp.JSONPathFilter,
        exp.IndexTableHint,
    }
)
_OPERATOR_BASES: tuple[type[exp.Expr], ...] = (exp.Binary, exp.Unary)

# Functions sqlglot does not model: the name is all the guard knows, so they need the allow-list.
_UNTYPED_FUNCTIONS: tuple[type[exp.Expression], ...] = (
    exp.Anonymous,
    exp.AnonymousAggFunc,
    exp.CombinedAggFunc,
    exp.ParameterizedAgg,
    exp.CombinedParameterizedAgg,
)
_TABLE_FUNCTION_CLASSES: tuple[type[exp.Expression], ...] = (
    exp.GenerateSeries,
    exp.ExplodingGenerateSeries,
    exp.Unnest,
)
_WRITE_NODES: tuple[type[exp.Expression], ...] = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.TruncateTable,
    exp.Copy,
    exp.Returning,
)
_ROOT_KEYWORDS = {
    "truncatetable": "TRUNCATE",
    "transaction": "BEGIN",
    "loaddata": "LOAD",
    "semicolon": "EMPTY",
}
_PATH_CHARACTERS = frozenset("/\\:.*?[]{}~")


@dataclass(frozen=True)
class GuardVerdict:
    """The guard's decision on one SQL text: the SQL to run (capped) when allowed, or why not."""

    allowed: bool
    reason: str | None
    sql: str | None = None
    tables: tuple[str, ...] = ()


@dataclass(frozen=True)
class _GuardState:
    """What the guard knows about the text so far; each stage returns an enriched copy or rejects."""

    text: str
    dialect: str
    allowed_tables: frozenset[str] | None
    row_cap: int | None
    tokens: tuple[Token, ...] = ()
    tree: exp.Expr | None = None
    tables: tuple[str, ...] = ()
    rendered: str | None = None

    @property
    def parsed(self) -> exp.Expr:
        """The tree, for the stages after 'parse' (which always sets it)."""
        if self.tree is None:
            raise AssertionError("a guard stage ran before the SQL was parsed")
        return self.tree


def _reject(message: str, hint: str = "") -> GuardRejected:
    return GuardRejected(message, hint or "write one read-only SELECT over this workspace's tables")


def _require_text(draft: _GuardState) -> _GuardState:
    if not draft.text.strip():
        raise _reject("the SQL is empty")
    if len(draft.text) > MAX_SQL_CHARS:
        raise _reject(f"the SQL is longer than {MAX_SQL_CHARS} characters", "shorten the query")
    return draft


def _tokenize(draft: _GuardState) -> _GuardState:
    try:
        tokens = tuple(Dialect.get_or_raise(draft.dialect).tokenize(draft.text))
    except SqlglotError as err:
        raise _reject(f"the SQL could not be read: {_first_line(err)}") from err
    if not tokens:
        raise _reject("the SQL holds no statement, only comments or whitespace")
    return dataclasses.replace(draft, tokens=tokens)


def _check_gap(gap: str) -> None:
    """Text between tokens is whitespace and comments; refuse anything that engines may read differently."""
    if not gap.isascii():
        raise _reject(
            "the SQL contains a non-ASCII or invisible character outside quotes",
            "retype the query with plain spaces; non-ASCII text belongs inside quotes",
        )
    if "/*!" in gap or "/*+" in gap:
        raise _reject(
            "executable comments (/*! ... */) and optimizer hints (/*+ ... */) are not allowed",
            "remove the comment; hints can override the session timeout",
        )


def _check_lexemes(draft: _GuardState) -> _GuardState:
    _check_tokens(draft.text, draft.tokens, draft.dialect)
    return draft


def _check_tokens(text: str, tokens: Sequence[Token], dialect: str) -> None:
    """Refuse characters and quoting whose meaning depends on the engine or its settings."""
    position = 0
    for index, token in enumerate(tokens):
        _check_gap(text[position : token.start])
        raw = text[token.start : token.end + 1]
        position = token.end + 1
        if token.token_type == TokenType.HINT:
            raise _reject("optimizer hints (/*+ ... */) are not allowed", "remove the hint comment")
        if token.token_type not in _QUOTED_TOKENS:
            if not raw.isascii():
                raise _reject(
                    f"the SQL contains a non-ASCII or invisible character outside quotes near {raw!r}",
                    "retype the query with plain ASCII keywords; quote non-ASCII names",
                )
            continue
        if dialect == "mysql" and raw.startswith('"'):
            raise _reject(
                "double-quoted text is ambiguous in MySQL (a string, or a name under ANSI_QUOTES)",
                "use 'single quotes' for strings and `backticks` for names",
            )
        if dialect == "mysql" and token.token_type in _STRING_TOKENS and "\\" in raw:
            raise _reject(
                "a backslash in a MySQL string means different things depending on NO_BACKSLASH_ESCAPES",
                "write the string without backslashes",
            )
        if dialect == "postgres" and token.token_type == TokenType.STRING and "\\'" in raw:
            raise _reject(
                "a backslash before a quote in a PostgreSQL string depends on standard_conforming_strings",
                "double the quote ('') instead of escaping it",
            )
        if dialect == "spark":
            _check_spark_token(token, raw, tokens[index - 1] if index else None)
    _check_gap(text[position:])
    if dialect == "spark" and any(_has_nested_comment(t) for t in _gaps(text, tokens)):
        raise _reject(
            "nested block comments are not allowed: Spark ends them where other readers do not",
            "remove the comment",
        )
    if dialect == "spark" and "${" in text:
        # The Thrift server expands ${env:NAME}, ${system:name} and ${hiveconf:name} anywhere in the text
        # (quotes included) before parsing, unless spark.sql.variable.substitute is off.
        raise _reject(
            "${...} is not allowed in Spark SQL: the server replaces it with environment variables "
            "and settings",
            "remove the ${...}; write the value itself",
        )


def _gaps(text: str, tokens: Sequence[Token]) -> list[str]:
    """The text between tokens (whitespace and comments)."""
    ends = [-1] + [t.end for t in tokens]
    starts = [t.start for t in tokens] + [len(text)]
    return [text[e + 1 : s] for e, s in zip(ends, starts, strict=True)]


def _check_spark_token(token: Token, raw: str, previous: Token | None) -> None:
    """Quoting whose meaning depends on a Spark setting or version."""
    if raw.startswith('"'):
        raise _reject(
            "double-quoted text is ambiguous in Spark SQL (a string, or a name when "
            "spark.sql.ansi.doubleQuotedIdentifiers is on)",
            "use 'single quotes' for strings and `backticks` for names",
        )
    if token.token_type not in _STRING_TOKENS:
        return
    if "\\" in raw:
        raise _reject(
            "a backslash in a Spark string means different things depending on "
            "spark.sql.parser.escapedStringLiterals",
            "write the string without backslashes",
        )
    if previous is not None and previous.token_type in _STRING_TOKENS and previous.end + 1 == token.start:
        raise _reject(
            "a doubled quote inside a Spark string is an escaped quote in Spark 4 but two "
            "concatenated strings in earlier versions",
            "write the quote as CHR(39): CONCAT('O', CHR(39), 'Reilly')",
        )


def _has_nested_comment(gap: str) -> bool:
    """True when a block comment opens another one inside it (Spark nests them, most engines do not)."""
    start = gap.find("/*")
    while start >= 0:
        end = gap.find("*/", start + 2)
        inner = gap.find("/*", start + 2)
        if inner >= 0 and (end < 0 or inner < end):
            return True
        start = gap.find("/*", end + 2) if end >= 0 else -1
    return False


def _parse(draft: _GuardState) -> _GuardState:
    try:
        parser = Dialect.get_or_raise(draft.dialect).parser(error_level=ErrorLevel.RAISE)
        statements = parser.parse(list(draft.tokens), draft.text)
    except (SqlglotError, RecursionError) as err:
        raise _reject(
            f"the SQL could not be parsed as {draft.dialect}: {_first_line(err)}",
            "check the syntax; text the guard cannot parse is never run",
        ) from err
    real = [s for s in statements if s is not None and not isinstance(s, exp.Semicolon)]
    if not real:
        raise _reject("the SQL holds no statement")
    if len(real) > 1:
        raise _reject(
            f"only one statement is allowed; found {len(real)}",
            "remove the extra statements after the first semicolon",
        )
    return dataclasses.replace(draft, tree=real[0])


def _statement_keyword(tree: exp.Expr, draft: _GuardState) -> str:
    if isinstance(tree, exp.Command):
        return str(tree.this).upper()
    if isinstance(tree, exp.Column):
        return draft.tokens[0].text.upper()
    return _ROOT_KEYWORDS.get(tree.key, tree.key.upper())


def _check_statement(draft: _GuardState) -> _GuardState:
    tree = draft.parsed
    while isinstance(tree, exp.Subquery) and not tree.alias and isinstance(tree.this, exp.Query):
        tree = tree.this
    if isinstance(tree, (exp.Select, exp.SetOperation, exp.Values)):
        return dataclasses.replace(draft, tree=tree)
    keyword = _statement_keyword(tree, draft)
    why = denylist.DENIED_COMMANDS.get(keyword.split(" ")[0], "is not a read-only query")
    raise _reject(f"only a read-only query (SELECT, WITH or VALUES) is allowed; {keyword} {why}")


def _node_reason(node: exp.Expr) -> str:
    if isinstance(node, exp.Into):
        return "SELECT ... INTO writes a table, a variable or a file"
    if isinstance(node, exp.Lock):
        return "FOR UPDATE / FOR SHARE takes row locks"
    if isinstance(node, exp.Hint):
        return "optimizer hints can override the session timeout"
    if isinstance(node, _WRITE_NODES):
        return f"a data-changing {node.key.upper()} is hidden inside the query"
    if isinstance(node, (exp.Placeholder, exp.Parameter)):
        return "parameters and user variables are not allowed"
    if isinstance(node, exp.SessionParameter):
        return "server variables (@@name) read settings"
    if isinstance(node, exp.Command):
        return f"{node.this} is not a read-only query"
    if isinstance(node, exp.QueryTransform):
        return "SELECT TRANSFORM ... USING runs a shell command on the server"
    return f"unsupported SQL construct ({node.key})"


def _check_nodes(draft: _GuardState) -> _GuardState:
    for node in draft.parsed.walk():
        if isinstance(node, exp.Select) and not node.expressions:
            raise _reject("not allowed: a SELECT without a column list", "name the columns to return")
        if isinstance(node, (exp.From, exp.Join)) and isinstance(node.this, (exp.Select, exp.SetOperation)):
            raise _reject(
                "not allowed: a subquery in FROM or JOIN must be in parentheses",
                "write FROM (SELECT ...) AS name",
            )
        if isinstance(node, exp.Subquery) and not isinstance(node.this, (exp.Query, exp.Values)):
            raise _reject(
                f"not allowed: only a query may stand in parentheses (found {node.this.key})",
                "use SELECT, WITH or VALUES inside parentheses",
            )
        if isinstance(node, exp.Func) or type(node) in _ALLOWED_NODES:
            continue
        # OPERATOR(schema.op) calls whatever function that schema's operator is bound to.
        if isinstance(node, _OPERATOR_BASES) and not isinstance(node, exp.Operator):
            continue
        raise _reject(f"not allowed: {_node_reason(node)}")
    return draft


def _function_names(func: exp.Func) -> tuple[str, ...]:
    if isinstance(func, _UNTYPED_FUNCTIONS):
        return (func.name.lower(),)
    return tuple(name.lower() for name in type(func).sql_names())


def _in_table_position(func: exp.Func) -> bool:
    parent = func.parent
    if isinstance(parent, exp.Table):
        return func.arg_key == "this"
    return isinstance(parent, (exp.From, exp.Join, exp.Lateral)) and func.arg_key == "this"


def _check_functions(draft: _GuardState) -> _GuardState:
    dialect = draft.dialect
    for func in draft.parsed.find_all(exp.Func):
        names = _function_names(func)
        shown = names[0] if names else func.key
        if isinstance(func.parent, exp.Dot) and func.arg_key == "expression":
            raise _reject(
                f"schema-qualified function calls are not allowed ({func.parent.sql(dialect)[:60]})",
                "call built-in functions by their plain name",
            )
        for name in names:
            why = denylist.denied_function_reason(name, dialect)
            if why:
                raise _reject(f"function {name}() is not allowed: it {why}")
        untyped = isinstance(func, _UNTYPED_FUNCTIONS)
        quoted = func.this if isinstance(func.this, exp.Identifier) and func.this.quoted else None
        if untyped and quoted is not None:
            # PostgreSQL keeps the case of a quoted name ("Age"(x) is a user function, not age(x)), and
            # sqlglot re-renders quoted unknown names in upper case: neither is the function that was checked.
            raise _reject(
                f'function "{quoted.name}"() is not on the guard\'s allow-list',
                "write built-in function names unquoted",
            )
        if untyped and not denylist.untyped_function_allowed(shown, dialect):
            raise _reject(
                f"function {shown}() is not on the guard's allow-list",
                "only known built-in functions are allowed; user-defined functions are refused",
            )
        if _in_table_position(func):
            allowed = denylist.ALLOWED_TABLE_FUNCTIONS.get(dialect, frozenset())
            if not (isinstance(func, _TABLE_FUNCTION_CLASSES) or shown in allowed):
                raise _reject(
                    f"table function {shown}() is not allowed in FROM",
                    f"allowed table functions: {', '.join(sorted(allowed)) or 'none'}",
                )
    return draft


def _normalise_part(ident: exp.Identifier, dialect: str) -> str:
    """The name an engine resolves: PostgreSQL folds unquoted names, MySQL compares exactly (Linux)."""
    name = ident.name
    if dialect == "postgres":
        return name if ident.quoted else name.lower()
    if dialect == "mysql":
        return name
    return name.lower()


def _cte_name(cte: exp.Expression, dialect: str) -> str | None:
    alias = cte.args.get("alias")
    ident = alias.this if isinstance(alias, exp.TableAlias) else None
    return _normalise_part(ident, dialect) if isinstance(ident, exp.Identifier) else None


def _is_cte_reference(table: exp.Table, name: str, dialect: str) -> bool:
    """True when an unqualified name resolves to a CTE in scope rather than to a table.

    In a CTE body only earlier CTEs are visible (and the CTE itself under RECURSIVE); anything the
    rules leave unclear is treated as a table, which is the side that gets checked.
    """
    previous: exp.Expr = table
    node = table.parent
    entered: exp.With | None = None
    while node is not None:
        if isinstance(node, exp.With):
            ctes = node.expressions
            index = next((i for i, cte in enumerate(ctes) if cte is previous), 0)
            visible = list(ctes[:index]) + ([previous] if node.args.get("recursive") else [])
            if any(_cte_name(cte, dialect) == name for cte in visible):
                return True
            entered = node
        else:
            with_ = node.args.get("with_")
            if isinstance(with_, exp.With) and with_ is not entered:
                if any(_cte_name(cte, dialect) == name for cte in with_.expressions):
                    return True
            entered = None
        previous, node = node, node.parent
    return False


def _table_parts(table: exp.Table) -> list[exp.Identifier]:
    parts = [table.args.get("catalog"), table.args.get("db"), table.this]
    present = [p for p in parts if p is not None]
    if not all(isinstance(p, exp.Identifier) for p in present):
        raise _reject(f"unsupported table reference {table.sql()[:60]!r}")
    return present


def _check_table(table: exp.Table, draft: _GuardState) -> str | None:  # noqa: C901 - each rule a table reference must pass, in the order they apply
    """Check one table reference; return its normalised name, or None for a CTE or a table function."""
    dialect = draft.dialect
    if isinstance(table.this, exp.Func):
        if table.args.get("db") or table.args.get("catalog"):
            raise _reject(
                "schema-qualified table functions are not allowed", "call the function by its plain name"
            )
        return None
    if table.this is None or not isinstance(table.this, exp.Identifier):
        raise _reject(f"unsupported table reference {table.sql(dialect)[:60]!r}")
    parts = _table_parts(table)
    for part in parts:
        if any(ch in _PATH_CHARACTERS or ord(ch) < 32 for ch in part.name):
            raise _reject(
                f"table name {part.name!r} looks like a file path or URL",
                "query the workspace's tables by name; files are never read through the guard",
            )
    name = ".".join(_normalise_part(p, dialect) for p in parts)
    if len(parts) == 1 and _is_cte_reference(table, name, dialect):
        return None
    sources = denylist.FILE_SOURCES.get(dialect, frozenset())
    if len(parts) > 1 and parts[-2].name.lower() in sources:
        raise _reject(
            f"{table.sql(dialect)[:60]} reads a file directly ({parts[-2].name}.`path`)",
            "query the workspace's tables by name; files are never read through the guard",
        )
    if dialect == "postgres":
        # Render the name PostgreSQL resolves: sqlglot may quote a keyword-like name on output, and a quoted
        # "Orders" is not the orders that was checked.
        for part in parts:
            if not part.quoted:
                part.set("this", part.name.lower())
    folded = [p.name.lower() for p in parts]
    qualifiers, last = folded[:-1], folded[-1]
    shown = ".".join(p.name for p in parts)
    if any(q in denylist.SYSTEM_SCHEMAS[dialect] for q in qualifiers) or last.startswith(
        denylist.SYSTEM_TABLE_PREFIXES[dialect]
    ):
        raise _reject(f"system catalog {shown} is not allowed (credentials, sessions and server internals)")
    if any(q in denylist.CATALOG_SCHEMAS for q in qualifiers) or last in denylist.CATALOG_TABLES:
        if draft.allowed_tables is not None:
            raise _reject(
                f"catalog view {shown} is not exposed by this workspace",
                "ask about the workspace's own tables; its schema is listed in the app",
            )
        if ".".join(folded[-2:]) not in denylist.CATALOG_BROWSING[dialect] or len(folded) > 2:
            raise _reject(
                f"catalog view {shown} is not allowed",
                "browse information_schema.tables or information_schema.columns instead",
            )
        return ".".join(folded)
    if draft.allowed_tables is not None:
        if name not in draft.allowed_tables:
            if dialect == "mysql" and name.lower() in draft.allowed_tables:
                raise _reject(
                    f"table {shown} is not exposed by this workspace; MySQL table names are "
                    "case-sensitive on most servers",
                    f"write {name.lower()}",
                )
            listed = ", ".join(sorted(draft.allowed_tables)[:12]) or "none"
            raise _reject(
                f"table {shown} is not exposed by this workspace", f"tables you may query: {listed}"
            )
        return name
    if len(folded) == 2 and qualifiers[0] in denylist.DEFAULT_SCHEMAS[dialect]:
        return name
    if len(folded) > 1:
        raise _reject(
            f"{shown} names another schema or catalog",
            "without a workspace only the default schema's tables may be queried; drop the qualifier",
        )
    return name


def _check_tables(draft: _GuardState) -> _GuardState:
    seen: dict[str, None] = {}
    for table in draft.parsed.find_all(exp.Table):
        name = _check_table(table, draft)
        if name is not None:
            seen.setdefault(name)
    return dataclasses.replace(draft, tables=tuple(seen))


def _literal_int(node: exp.Expr | None) -> int | None:
    if isinstance(node, exp.Literal) and not node.is_string and node.this.isdigit():
        return int(node.this)
    return None


def _wrap(tree: exp.Expr, cap: int) -> exp.Expr:
    """SELECT * FROM (<query>) AS guard_capped LIMIT cap, for shapes whose own limit cannot be edited."""
    alias = exp.TableAlias(this=exp.to_identifier(CAPPED_ALIAS))
    outer = exp.Select(expressions=[exp.Star()], from_=exp.From(this=exp.Subquery(this=tree, alias=alias)))
    outer.set("limit", exp.Limit(expression=exp.Literal.number(cap)))
    return outer


def _apply_row_cap(draft: _GuardState) -> _GuardState:
    cap, tree = draft.row_cap, draft.parsed
    if cap is None:
        return draft
    if isinstance(tree, exp.Values):
        return dataclasses.replace(draft, tree=_wrap(tree, cap))
    limit = tree.args.get("limit")
    if limit is None:
        tree.set("limit", exp.Limit(expression=exp.Literal.number(cap)))
    elif (
        isinstance(limit, exp.Limit)
        and _literal_int(limit.expression) is not None
        and not limit.args.get("expressions")
        and not limit.args.get("offset")
    ):
        if (_literal_int(limit.expression) or 0) > cap:  # not None: checked just above
            limit.set("expression", exp.Literal.number(cap))
    elif (
        isinstance(limit, exp.Fetch)
        and _literal_int(limit.args.get("count")) is not None
        and not (
            limit.args.get("limit_options")
            and (
                limit.args["limit_options"].args.get("percent")
                or limit.args["limit_options"].args.get("with_ties")
            )
        )
    ):
        if (_literal_int(limit.args.get("count")) or 0) > cap:  # not None: checked just above
            limit.set("count", exp.Literal.number(cap))
    else:
        tree = _wrap(tree, cap)
    return dataclasses.replace(draft, tree=tree)


def _generate(tree: exp.Expr, dialect: str) -> str:
    return tree.sql(dialect=dialect, comments=False, unsupported_level=ErrorLevel.RAISE)


_CAP_TAIL = frozenset(
    {
        TokenType.NUMBER,
        TokenType.OFFSET,
        TokenType.COMMA,
        TokenType.FIRST,
        TokenType.ROW,
        TokenType.ROWS,
        TokenType.ONLY,
        TokenType.VAR,
    }
)


def _cap_is_outermost(tokens: Sequence[Token]) -> bool:
    """True when the rendered text ends with a LIMIT/FETCH at parenthesis depth 0.

    A dialect's generator may rewrite a construct it lacks (QUALIFY on PostgreSQL, for example) into a
    subquery, which would move our LIMIT inside it; such output is refused rather than run uncapped.
    """
    depth, last_cap = 0, -1
    for index, token in enumerate(tokens):
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        elif depth == 0 and token.token_type in (TokenType.LIMIT, TokenType.FETCH):
            last_cap = index
    return last_cap >= 0 and all(t.token_type in _CAP_TAIL for t in tokens[last_cap + 1 :])


def _render(draft: _GuardState) -> _GuardState:
    """Render without comments, then re-read the output with the same lexical rules as the input.

    The output must be one comment-free statement that passes the input's lexical checks, with the row
    cap on the outermost query. (A full parse/render round trip would also catch subtler generator
    bugs but doubles the guard's cost.)
    """
    dialect = Dialect.get_or_raise(draft.dialect)
    tree = sparksql.prepare(draft.parsed) if draft.dialect == "spark" else draft.parsed
    try:
        rendered = _generate(tree, draft.dialect)
        tokens = dialect.tokenize(rendered)
    except (SqlglotError, RecursionError) as err:
        raise _reject(
            f"the query could not be rendered safely in {draft.dialect}: {_first_line(err)}",
            "simplify the query",
        ) from err
    if any(t.token_type in (TokenType.SEMICOLON, TokenType.HINT) or t.comments for t in tokens):
        raise _reject("the rendered query is not a single comment-free statement", "simplify the query")
    try:
        _check_tokens(rendered, tokens, draft.dialect)
    except GuardRejected as err:
        raise _reject(
            f"the query cannot be written for {draft.dialect} without ambiguity: {err.message}",
            "avoid line breaks and control characters inside strings",
        ) from err
    if sparksql.approximate_calls(tokens) > sparksql.approximate_calls(list(draft.tokens)):
        raise _reject(
            f"the query would run as an approximate aggregate in {draft.dialect}",
            "use an exact aggregate the warehouse supports (e.g. percentile(x, 0.5) on Spark)",
        )
    if draft.row_cap is not None and not _cap_is_outermost(tokens):
        raise _reject(
            f"the query uses a construct {draft.dialect} does not support natively, so the row cap "
            "cannot be applied to it",
            "rewrite the query in the warehouse's own SQL dialect",
        )
    return dataclasses.replace(draft, rendered=rendered)


STAGES: tuple[tuple[str, Callable[[_GuardState], _GuardState]], ...] = (
    ("text", _require_text),
    ("tokens", _tokenize),
    ("lexemes", _check_lexemes),
    ("parse", _parse),
    ("statement", _check_statement),
    ("functions", _check_functions),
    ("nodes", _check_nodes),
    ("tables", _check_tables),
    ("row cap", _apply_row_cap),
    ("render", _render),
)


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__


def _validate_arguments(dialect: str, allowed_tables: frozenset[str] | None, row_cap: int | None) -> None:
    if dialect not in denylist.DIALECTS:
        raise UserError(f"unknown SQL dialect '{dialect}'", f"use one of: {', '.join(denylist.DIALECTS)}")
    if row_cap is not None and (isinstance(row_cap, bool) or row_cap < 1):
        raise UserError(f"row cap must be a positive number, got {row_cap!r}", "pass a row cap of 1 or more")
    if allowed_tables is not None and not isinstance(allowed_tables, (set, frozenset)):
        raise UserError("allowed_tables must be a set of table names", "pass a frozenset of lower-case names")


def _run(sql: str, dialect: str, allowed_tables: frozenset[str] | None, row_cap: int | None) -> _GuardState:
    _validate_arguments(dialect, allowed_tables, row_cap)
    tables = None if allowed_tables is None else frozenset(t.strip().lower() for t in allowed_tables)
    draft = _GuardState(text=sql, dialect=dialect, allowed_tables=tables, row_cap=row_cap)
    for _name, stage in STAGES:
        draft = stage(draft)
    return draft


def check_sql(
    sql: str, dialect: str, allowed_tables: frozenset[str] | None = None, row_cap: int | None = None
) -> GuardVerdict:
    """Decide whether `sql` may run; when allowed, return it re-rendered with the row cap applied."""
    try:
        draft = _run(sql, dialect, allowed_tables, row_cap)
    except GuardRejected as err:
        return GuardVerdict(allowed=False, reason=err.message)
    return GuardVerdict(allowed=True, reason=None, sql=draft.rendered, tables=draft.tables)


def guard_sql(
    sql: str, dialect: str, allowed_tables: frozenset[str] | None = None, row_cap: int | None = None
) -> str:
    """Return the capped SQL to run, or raise GuardRejected(message, hint) saying why it may not run."""
    return _run(sql, dialect, allowed_tables, row_cap).rendered or ""
