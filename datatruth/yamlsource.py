"""YAML loading that remembers the line of every key, so validation can point at file:line.

Parsing is ruamel.yaml's (round-trip loader, which keeps the line of every key and item). Before a document
is built, one linear pass over its parse events refuses what could exhaust a process or cannot be a
setting: nesting deeper than MAX_DEPTH, aliases that together repeat more than MAX_ALIAS_VALUES values (an
"alias bomb": nine aliases of nine aliases of … grow nine-fold per level), an alias used inside its own
anchor (a recursive alias), a list or mapping used as a key, and tags other than YAML's own. Every refusal
is a ConfigError naming file and line, raised before anything is expanded, so a hostile file costs
milliseconds and kilobytes.

Scalars are typed as PyYAML types them (YAML 1.1: `yes`/`no` are booleans, `1e23` without a dot is text),
because the files are also written with `yaml.safe_dump`, and a file must read back as it was written.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml as pyyaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarbool import ScalarBoolean
from ruamel.yaml.tag import Tag

from datatruth.errors import ConfigError

KeyPath = tuple[str | int, ...]

MAX_DEPTH = 64  # lists and mappings inside each other; real settings files stay under 10
MAX_ALIAS_VALUES = 10_000  # values that aliases may repeat in one file, over all aliases
MAX_YAML_BYTES = 10_000_000
# YAML's own types (what a safe loader builds); python/* and any local tag are refused.
_ALLOWED_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in (
        "str",
        "int",
        "float",
        "bool",
        "null",
        "map",
        "seq",
        "timestamp",
        "binary",
        "merge",
        "set",
        "omap",
        "pairs",
    )
)
_DEEP_HINT = "settings are at most a few levels deep; flatten the structure"


@dataclass(frozen=True)
class Issue:
    """One validation problem, located in a file."""

    file: str
    line: int | None
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}" + (f" ({self.hint})" if self.hint else "")


@dataclass(frozen=True)
class YamlDoc:
    """A parsed YAML document plus the 1-based line of each key path."""

    path: str
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line(self, *keys: str | int) -> int | None:
        """Return the line of the deepest known prefix of `keys`."""
        for end in range(len(keys), -1, -1):
            found = self.lines.get(tuple(keys[:end]))
            if found is not None:
                return found
        return None

    def issue(self, keys: KeyPath, message: str, hint: str = "") -> Issue:
        """Build an Issue located at the line of `keys`."""
        return Issue(self.path, self.line(*keys), message, hint)


# -- typing scalars as PyYAML does ---------------------------------------------------------------------------

# PyYAML's implicit rules (first character → [(tag, regexp)]), copied once so the table is never mutated.
_RULES: dict[str | None, tuple[tuple[str, Any], ...]] = {
    first: tuple(rules) for first, rules in pyyaml.resolver.Resolver.yaml_implicit_resolvers.items()
}


class _Resolver(VersionedResolver):
    """Resolve plain scalars with PyYAML's YAML 1.1 rules (ruamel's 1.1 rules also make `y` and `n` booleans)."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        """The tag of a node: PyYAML's implicit rules for plain scalars, the defaults otherwise."""
        if kind is ScalarNode and implicit[0]:
            for tag, regexp in _RULES.get(value[:1], ()) + _RULES.get(None, ()):
                if regexp.match(value):
                    return Tag(suffix=tag)
            implicit = (False, implicit[1])
        return super().resolve(kind, value, implicit)


class _Constructor(RoundTripConstructor):
    """Round-trip constructor whose impossible dates (2013-02-30) stay text for validation to report."""

    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
        """A date or datetime, or the text itself when it is not a real calendar date."""
        try:
            return super().construct_yaml_timestamp(node, values)
        except ValueError:
            return str(node.value)


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_timestamp)


def _loader() -> YAML:
    # A new loader per document: ruamel loaders keep state, so sharing one across threads (or keeping one
    # for the process) would mix documents and keep every node it ever built.
    loader = YAML(typ="rt")
    loader.Resolver = _Resolver
    loader.Constructor = _Constructor
    loader.version = (1, 1)
    loader.allow_duplicate_keys = False
    return loader


# -- the guard pass over parse events -------------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, line: int, message: str, hint: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.hint = hint


@dataclass
class _Frame:
    is_map: bool
    anchor: str | None
    line: int
    size: int = 1
    children: int = 0


def _line(event: Any) -> int:
    return event.start_mark.line + 1 if event.start_mark is not None else 0


def _events(text: str) -> Any:
    """Parse events of `text`: libyaml's when PyYAML has it, else ruamel's (the same events either way)."""
    # ruamel's pure-Python scanner is quadratic in the open flow collections of one line before it yields
    # a single event (5,000 '[' take 3 s; 100,000 would take minutes). libyaml, PyYAML's C parser, yields
    # the same events in linear time and stops by itself past 1,000 levels.
    if getattr(pyyaml, "__with_libyaml__", False):
        return pyyaml.parse(text, Loader=pyyaml.CSafeLoader)
    return _loader().parse(text)


_OPENING = {"SequenceStartEvent": False, "MappingStartEvent": True}
_CLOSING = {"SequenceEndEvent", "MappingEndEvent"}


def _guard_events(events: Any) -> None:
    """Refuse deep nesting, alias bombs, recursive aliases, collection keys and foreign tags, in one pass."""
    stack: list[_Frame] = []
    anchors: dict[str, tuple[int, bool]] = {}  # anchor → (values it expands to, is a collection)
    repeated = 0
    for event in events:
        kind = type(event).__name__
        if kind in _CLOSING:
            frame = stack.pop()
            if frame.anchor is not None:
                anchors[frame.anchor] = (frame.size, True)
            _add_child(stack, frame.size)
            continue
        if kind not in _OPENING and kind not in ("AliasEvent", "ScalarEvent"):
            continue
        line = _line(event)
        tag = getattr(event, "tag", None)
        if tag is not None and str(tag) not in ("!", "") and str(tag) not in _ALLOWED_TAGS:
            raise _Refused(
                line,
                f"unknown YAML tag '{tag}'",
                "settings files use plain values; remove the tag (or quote the value)",
            )
        is_key = bool(stack) and stack[-1].is_map and stack[-1].children % 2 == 0
        if kind == "AliasEvent":
            if any(f.anchor == event.anchor for f in stack):
                raise _Refused(
                    line,
                    f"the alias *{event.anchor} is used inside its own anchor &{event.anchor} "
                    "(a recursive alias)",
                    "an anchor cannot contain itself; write the values out",
                )
            size, is_collection = anchors.get(event.anchor, (1, False))
            if is_key and is_collection:
                raise _key_refusal(line)
            repeated += size
            if repeated > MAX_ALIAS_VALUES:
                raise _Refused(
                    line,
                    f"aliases repeat more than {MAX_ALIAS_VALUES:,} values in this file (an alias bomb?)",
                    "YAML anchors (&name) and aliases (*name) may repeat only a few values; write the "
                    "values out, or use fewer aliases of aliases",
                )
            _add_child(stack, size)
        elif kind == "ScalarEvent":
            if event.anchor is not None:
                anchors[event.anchor] = (1, False)
            _add_child(stack, 1)
        else:
            if is_key:
                raise _key_refusal(line)
            if len(stack) >= MAX_DEPTH:
                raise _Refused(
                    line, f"lists and mappings are nested more than {MAX_DEPTH} levels deep", _DEEP_HINT
                )
            stack.append(_Frame(_OPENING[kind], event.anchor, line))


def _add_child(stack: list[_Frame], size: int) -> None:
    if stack:
        stack[-1].size += size
        stack[-1].children += 1


def _key_refusal(line: int) -> _Refused:
    return _Refused(
        line,
        "a key is a list or a mapping",
        "keys must be plain text or numbers; quote the key, or move the structure into the value",
    )


# -- building plain data with lines ---------------------------------------------------------------------------


def _plain_scalar(value: Any) -> Any:
    """ruamel's round-trip scalar types as the plain Python values PyYAML gives."""
    if value is None or type(value) in (str, int, float, bool, dt.date):
        return value
    if isinstance(value, ScalarBoolean):
        return bool(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dt.datetime):
        return dt.datetime(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
            value.tzinfo,
        )
    return value


def _build(node: Any, path: KeyPath, lines: dict[KeyPath, int], line: int | None) -> Any:
    if line is not None:
        lines.setdefault(path, line)
    if isinstance(node, CommentedMap):
        own = node.lc.data
        out: dict[Any, Any] = {}
        for key, value in node.items():
            plain = _plain_scalar(key)
            where = own.get(key)
            key_line = where[0] + 1 if where else (node.lc.line + 1 if node.lc.line is not None else line)
            if key_line is not None:
                lines[path + (plain,)] = key_line
            out[plain] = _build(value, path + (plain,), lines, key_line)
        return out
    if isinstance(node, CommentedSeq):
        own = node.lc.data
        items = []
        for i, value in enumerate(node):
            where = own.get(i)
            items.append(_build(value, path + (i,), lines, where[0] + 1 if where else line))
        return items
    return _plain_scalar(node)


def _refusal(path: str, line: int | None, message: str, hint: str) -> ConfigError:
    return ConfigError(f"{path} cannot be read: {message}", hint, [Issue(path, line, message, hint)])


def parse_yaml(text: str, path: str) -> YamlDoc:
    """Parse YAML text; a syntax error, duplicate key or unsafe shape becomes a ConfigError naming file and line."""
    with warnings.catch_warnings():
        # ruamel warns on stderr about some floats; the user sees our messages, never a library's warning.
        warnings.simplefilter("ignore")
        try:
            _guard_events(_events(text))
            data = _loader().load(text)
        except _Refused as refused:
            raise _refusal(path, refused.line, refused.message, refused.hint) from None
        except (MarkedYAMLError, pyyaml.MarkedYAMLError) as err:
            raise _syntax_error(path, err) from None
        except (YAMLError, pyyaml.YAMLError) as err:
            raise _refusal(
                path, None, f"YAML error: {str(err).splitlines()[0][:200]}", "check the file's syntax"
            ) from None
    if data is None:
        return YamlDoc(path, None, {})
    lines: dict[KeyPath, int] = {}
    root_line = (
        data.lc.line + 1 if isinstance(data, CommentedMap | CommentedSeq) and data.lc.line is not None else 1
    )
    return YamlDoc(path, _build(data, (), lines, root_line), lines)


def _syntax_error(path: str, err: Any) -> ConfigError:
    mark = err.problem_mark or err.context_mark
    line = mark.line + 1 if mark is not None else None
    problem = str(err.problem or err.context or "invalid YAML").strip()
    if "nesting depth" in problem:
        message = f"lists and mappings are nested more than {MAX_DEPTH} levels deep"
        return _refusal(path, line, message, _DEEP_HINT)
    if problem.startswith("found duplicate key"):
        key = problem.split('"')[1] if '"' in problem else "?"
        issue = Issue(path, line, f"duplicate key '{key}'", "each key may appear once; remove or rename one")
        return ConfigError(f"{path} has a duplicate key", "", [issue])
    issue = Issue(path, line, f"YAML syntax error: {problem}", "check indentation and quoting near this line")
    return ConfigError(f"{path} is not valid YAML", "fix the line shown and try again", [issue])


def load_yaml(path: str | Path) -> YamlDoc:
    """Read and parse a YAML file with line information."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_YAML_BYTES:
            raise _refusal(
                str(p),
                None,
                f"the file is {size / 1e6:.1f} MB; settings files may be at most "
                f"{MAX_YAML_BYTES / 1e6:.0f} MB",
                "split it into several files",
            )
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{p} does not exist",
            "check the path or create the file",
            [Issue(str(p), None, "file not found")],
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            f"{p} is a folder, not a YAML file", "name a .yaml file", [Issue(str(p), None, "is a folder")]
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"{p} is not UTF-8 text", "save the file as UTF-8", [Issue(str(p), None, "not UTF-8")]
        ) from None
    except (OSError, ValueError) as err:  # permission denied, a name with a NUL byte, …
        raise ConfigError(
            f"{p} cannot be read: {getattr(err, 'strerror', None) or err}",
            "check the file's permissions and name",
            [Issue(str(p), None, "cannot be read")],
        ) from None
    return parse_yaml(text, str(p))
