"""Spark SQL that sqlglot's Spark generator would render wrongly or ambiguously, rewritten before rendering.

- Exact percentiles stay exact: sqlglot writes `percentile_cont(p) WITHIN GROUP (ORDER BY x)` as
  PERCENTILE_APPROX and DuckDB's `quantile_cont(x, p)` as a two-argument PERCENTILE_CONT that Spark rejects.
  Spark computes both exactly (PERCENTILE interpolates like PERCENTILE_CONT).
- Strings never hold a quote or a backslash: sqlglot escapes them with a backslash, whose value depends on
  spark.sql.parser.escapedStringLiterals, and Spark 4 reads a doubled quote where older versions (and
  sqlglot) see two concatenated strings. Such a string is written as CONCAT of its pieces and CHR(39)/CHR(92).
"""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.tokens import Token, TokenType

# Function names that compute an estimate; a rendering must never hold more of them than its input.
APPROXIMATE_FUNCTIONS = frozenset(
    {
        "percentile_approx",
        "approx_percentile",
        "approx_quantile",
        "approx_count_distinct",
        "approx_distinct",
        "approx_top_k",
        "approx_count_distinct_ds_hll",
        "reservoir_quantile",
    }
)


def _within_group(name: str, quantile: exp.Expression, ordered: exp.Expression) -> exp.WithinGroup:
    """NAME(p) WITHIN GROUP (ORDER BY x), with the function left untyped so no generator rewrites it."""
    order = ordered if isinstance(ordered, exp.Order) else exp.Order(expressions=[exp.Ordered(this=ordered)])
    return exp.WithinGroup(this=exp.Anonymous(this=name, expressions=[quantile]), expression=order)


def _exact(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.WithinGroup) and isinstance(node.this, exp.PercentileCont | exp.PercentileDisc):
        name = "PERCENTILE_CONT" if isinstance(node.this, exp.PercentileCont) else "PERCENTILE_DISC"
        return _within_group(name, node.this.this.copy(), node.expression.copy())
    if isinstance(node, exp.PercentileCont) and node.args.get("expression") is not None:
        # DuckDB's quantile_cont(x, p): Spark's PERCENTILE(x, p) is the same exact, interpolated value.
        return exp.Quantile(this=node.this.copy(), quantile=node.expression.copy())
    if isinstance(node, exp.PercentileDisc) and node.args.get("expression") is not None:
        return _within_group("PERCENTILE_DISC", node.expression.copy(), node.this.copy())
    return node


_AWKWARD = re.compile(r"(['\\\\])")
# Places where a string must stay a literal (a function call is not allowed there).
_LITERAL_ONLY = (exp.Interval, exp.Escape, exp.DataTypeParam, exp.JSONPath, exp.TableAlias)


def _plain_strings(node: exp.Expression) -> exp.Expression:
    if not (isinstance(node, exp.Literal) and node.is_string and _AWKWARD.search(node.this)):
        return node
    if isinstance(node.parent, _LITERAL_ONLY):
        return node  # rendered with a backslash; the guard then refuses it rather than guess
    pieces: list[exp.Expression] = []
    for piece in _AWKWARD.split(node.this):
        if piece in ("'", "\\"):
            pieces.append(exp.Chr(expressions=[exp.Literal.number(ord(piece))]))
        elif piece:
            pieces.append(exp.Literal.string(piece))
    return exp.Concat(expressions=pieces) if len(pieces) > 1 else pieces[0]


def prepare(tree: exp.Expr) -> exp.Expr:
    """The tree (changed in place) with exact percentiles and quote-free strings, ready to render as Spark."""
    return tree.transform(_exact, copy=False).transform(_plain_strings, copy=False)


def approximate_calls(tokens: list[Token]) -> int:
    """How many calls of an estimating aggregate the tokens hold (a name followed by a parenthesis)."""
    count = 0
    for token, following in zip(tokens, tokens[1:], strict=False):
        if following.token_type == TokenType.L_PAREN and token.text.lower() in APPROXIMATE_FUNCTIONS:
            count += 1
    return count
