"""PostgreSQL log reader: stderr (any log_line_prefix, syslog, Heroku logplex), csvlog and jsonlog."""

from __future__ import annotations

import csv
import functools
import io
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from datatruth.errors import LogFormatError, present
from datatruth.slowlog.events import MAX_EVENT_BYTES, ParseProblem, SlowEvent, usable_number
from datatruth.slowlog.logfile import COMPRESSION_ERRORS, open_log

log = logging.getLogger(__name__)

MAX_PROBLEMS = 200  # past this, one summary problem stands for the rest
SAMPLE_LINES = 400  # lines looked at to pick a log_line_prefix
SAMPLE_BYTES = 4 << 20  # ... and at most this much text, however long the lines
SAMPLE_LINE_CHARS = 2048  # the prefix and severity sit at the start of a line: the rest is not tried
_READ_STEP = 1 << 20  # an over-long line is skipped in steps of this size

# --------------------------------------------------------------------------------------------
# Records: one PostgreSQL log message with its DETAIL/HINT/CONTEXT/STATEMENT lines attached.
# --------------------------------------------------------------------------------------------

SEVERITIES = (
    "DEBUG1",
    "DEBUG2",
    "DEBUG3",
    "DEBUG4",
    "DEBUG5",
    "DEBUG",
    "INFO",
    "NOTICE",
    "WARNING",
    "ERROR",
    "LOG",
    "FATAL",
    "PANIC",
)
# Lines PostgreSQL writes after a primary message, belonging to it.
SECONDARY = ("DETAIL", "HINT", "QUERY", "CONTEXT", "LOCATION", "STATEMENT")
_LEVEL_RE = "(?P<level>" + "|".join(SEVERITIES + SECONDARY) + r"):\s+"


@dataclass(frozen=True)
class PgLogRecord:
    """One PostgreSQL log message (primary line plus attached DETAIL/HINT/... lines)."""

    line: int  # 1-based line of the primary message
    offset: int  # byte offset of that line in the (decompressed) input
    level: str
    message: str
    ts: datetime | None = None  # naive UTC when the zone is known, else as logged
    tz: str | None = None  # the zone as logged, when it could not be resolved
    pid: int | None = None
    user: str | None = None
    db: str | None = None
    host: str | None = None
    app: str | None = None
    extra: dict[str, str] = field(default_factory=dict)  # session id, line number, queryid, sqlstate...
    detail: str | None = None
    hint: str | None = None
    context: str | None = None
    statement: str | None = None
    log_format: str = "stderr"
    cut_from: int | None = None  # the message's length when only its first MAX_EVENT_BYTES were kept


# --------------------------------------------------------------------------------------------
# log_line_prefix translation
# --------------------------------------------------------------------------------------------

_TS = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
_ZONE = r"(?: (?P<{name}>[A-Za-z][A-Za-z0-9/_+\-]*|[+-]\d\d(?::?\d\d)?))?"
_ESCAPES: dict[str, str] = {
    "a": r"(?P<app>.*?)",
    "u": r"(?P<user>.*?)",
    "d": r"(?P<db>.*?)",
    "r": r"(?P<remote>.*?)",
    "h": r"(?P<host>.*?)",
    "b": r"(?P<backend>.*?)",
    "p": r"(?P<pid>\d+)",
    "P": r"(?P<leader_pid>\d*)",
    "t": "(?P<ts>" + _TS + ")" + _ZONE.format(name="tz"),
    "m": "(?P<ts>" + _TS + r"\.\d+)" + _ZONE.format(name="tz"),
    "n": r"(?P<epoch>\d+(?:\.\d+)?)",
    "i": r"(?P<tag>.*?)",
    "e": r"(?P<sqlstate>[0-9A-Z]{5})",
    "c": r"(?P<session>[0-9a-f]+\.[0-9a-f]+)",
    "l": r"(?P<session_line>\d+)",
    "s": r"(?P<session_start>" + _TS + r")(?: \S+)?",
    "v": r"(?P<vxid>[\d/]*)",
    "x": r"(?P<xid>\d+)",
    "Q": r"(?P<queryid>-?\d+)",
}
_PADDED_ESCAPE = re.compile(r"%(-?\d+)?(.)", re.S)


def prefix_regex(prefix: str) -> str:
    """Translate a PostgreSQL log_line_prefix (e.g. '%m [%p] %q%u@%d ') into a regex fragment."""
    parts: list[str] = []
    optional_from: int | None = None
    used: set[str] = set()
    pos = 0
    unknown: list[str] = []
    for match in _PADDED_ESCAPE.finditer(prefix):
        parts.append(_literal(prefix[pos : match.start()]))
        pos = match.end()
        padding, letter = match.group(1), match.group(2)
        if letter == "%":
            parts.append("%")
            continue
        if letter == "q":
            # %q: processes without a session stop printing the prefix here.
            optional_from = len(parts)
            continue
        pattern = _ESCAPES.get(letter)
        if pattern is None:
            unknown.append("%" + letter)
            continue
        names = set(re.findall(r"\(\?P<(\w+)>", pattern))
        if names & used:
            # A named group may appear once; a repeated escape still has to match, uncaptured.
            pattern = re.sub(r"\(\?P<\w+>", "(?:", pattern)
        used |= names
        if padding:
            pattern = r"\s*" + pattern + r"\s*"
        parts.append(pattern)
    parts.append(_literal(prefix[pos:]))
    if unknown:
        raise LogFormatError(
            f"log_line_prefix {prefix!r} has unknown escapes: {', '.join(unknown)}",
            "use the escapes PostgreSQL documents for log_line_prefix (%t %m %n %p %u %d %a %h %r %l ...)",
        )
    if optional_from is not None:
        return "".join(parts[:optional_from]) + "(?:" + "".join(parts[optional_from:]) + ")?"
    return "".join(parts)


def _literal(text: str) -> str:
    # A run of spaces in the prefix may be padded or squeezed by log shippers.
    return r"\s+".join(re.escape(chunk) for chunk in text.split(" ")) if text else ""


# Envelopes that a log transport puts in front of the log_line_prefix.
_ENVELOPES: dict[str, str] = {
    "stderr": "",
    "syslog": (
        r"(?P<sys_ts>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (?P<sys_host>\S+) [\w.\-/]+\[(?P<sys_pid>\d+)\]: "
        r"\[(?P<sys_line>\d+)-(?P<sys_part>\d+)\] "
    ),
    "logplex": (
        r"(?P<iso_ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)) \S*app\[postgres\.(?P<sys_pid>\d+)\]: "
        r"\[(?P<color>[A-Z0-9_]+)\] \[(?P<sys_line>\d+)-(?P<sys_part>\d+)\]"
    ),
}

# log_line_prefix values seen in the wild (defaults of PostgreSQL, Debian, RDS, pgBadger's advice...).
KNOWN_PREFIXES: tuple[str, ...] = (
    "%m [%p] ",
    "%m [%p] %q%u@%d ",
    "%m [%p] [queryid=%Q] %u@%d ",
    "%m [%p] user=%u,db=%d ",
    "%m [%p] user=%u,db=%d,app=%a,client=%h ",
    "%m [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    "%t [%p]: [%l-1] user=%u,db=%d ",
    "%t [%p]: [%l-1] [%x] usr=%u,db=%d,appli=%a ",
    "%t [%p]: [%l-1] ",
    "%t [%p]: db=%d,user=%u,app=%a,client=%h ",
    "%t [%p]: user=%u,db=%d,app=%a,client=%h ",
    "%t [%p]: ",
    "%t [%p] ",
    "%t:%r:%u@%d:[%p]:",
    "%t:%h:%u@%d:[%p]:",
    "%m ",
    "%t ",
    "< %m > ",
    "[%p]: [%l-1] db=%d,user=%u ",
    "db=%d,user=%u,app=%a,client=%h ",
    "user=%u,db=%d,app=%a,client=%h ",
    " sql_error_code = %e ",
)


@dataclass(frozen=True)
class LinePattern:
    """A compiled line recogniser: transport envelope + log_line_prefix + severity."""

    envelope: str
    prefix: str | None  # None: the generic fallback (anything up to the severity)
    regex: re.Pattern[str]

    def describe(self) -> str:
        """Say which envelope and prefix this pattern reads, for messages."""
        where = "" if self.envelope == "stderr" else f"{self.envelope} + "
        return where + (repr(self.prefix) if self.prefix is not None else "generic prefix")


def compile_pattern(prefix: str | None, envelope: str = "stderr") -> LinePattern:
    """Build the recogniser for one log_line_prefix (None: generic) inside one envelope."""
    body = prefix_regex(prefix) if prefix is not None else r"(?P<generic>.{0,400}?)"
    return LinePattern(
        envelope, prefix, re.compile("^" + _ENVELOPES[envelope] + body + _LEVEL_RE + "(?P<msg>.*)$", re.S)
    )


def _candidate_patterns() -> list[LinePattern]:
    return [compile_pattern(prefix, envelope) for envelope in _ENVELOPES for prefix in KNOWN_PREFIXES]


def detect_prefix(lines: Iterable[str]) -> LinePattern | None:
    """Pick the known log_line_prefix (or the generic one) that recognises the most sample lines."""
    sample = [line[:SAMPLE_LINE_CHARS] for line in lines if line.strip()][:SAMPLE_LINES]
    if not sample:
        return None
    best: tuple[int, int, int] | None = None
    best_pattern: LinePattern | None = None
    for index, pattern in enumerate(_candidate_patterns()):
        matched = fields = 0
        for line in sample:
            m = pattern.regex.match(line)
            if m:
                matched += 1
                fields += sum(1 for value in m.groupdict().values() if value)
        if not matched:
            continue
        # More lines first, then more filled fields (a more specific prefix), then list order.
        score = (matched, fields, -index)
        if best is None or score > best:
            best, best_pattern = score, pattern
    generic = [compile_pattern(None, envelope) for envelope in _ENVELOPES]
    generic_best = max(generic, key=lambda p: sum(1 for line in sample if p.regex.match(line)))
    generic_count = sum(1 for line in sample if generic_best.regex.match(line))
    if best_pattern is None or best is None or best[0] * 2 < generic_count:
        return generic_best if generic_count else None
    return best_pattern


# --------------------------------------------------------------------------------------------
# Input: paths or streams, plain or compressed (by magic bytes, not by name).
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RawLine:
    """One physical line of the input with its 1-based number and byte offset."""

    number: int
    offset: int
    text: str
    complete: bool = True  # False: the input ended without a newline


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13)) + b"\x7f"


def _is_binary(data: bytes) -> bool:
    if b"\x00" in data:
        return True
    control = len(data) - len(data.translate(None, _CONTROL_BYTES))
    return control > max(2, len(data) // 10)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Old servers log in the database encoding; latin-1 never fails and keeps ASCII intact.
        return data.decode("latin-1")


class _Problems:
    """Collects ParseProblems up to a cap, then counts the rest."""

    def __init__(self, sink: list | None) -> None:
        self.sink = sink if sink is not None else []
        self.own = sink is None
        self.dropped = 0
        self.count = 0

    def add(self, line: int, message: str) -> None:
        self.count += 1
        if self.count <= MAX_PROBLEMS:
            self.sink.append(ParseProblem(line, message))
        else:
            self.dropped += 1

    def close(self, source: str) -> None:
        if self.dropped:
            self.sink.append(ParseProblem(0, f"{self.dropped} more problems not listed"))
        if self.own and self.sink:
            # Line numbers and counts only: problem messages never quote log content.
            log.warning(
                "%s: %d problems while reading the log (first at line %d: %s)",
                source,
                self.count,
                self.sink[0].line,
                self.sink[0].message,
            )


def _read_lines(
    path_or_stream: str | Path | IO, problems: _Problems, max_line: int = MAX_EVENT_BYTES
) -> Iterator[RawLine]:
    """Physical lines of a log (plain or compressed); a line over `max_line` bytes keeps only its head."""
    opened = open_log(path_or_stream)
    number = offset = 0
    try:
        if opened.text is not None:
            for line in opened.text:
                number += 1
                if len(line) > max_line:
                    problems.add(
                        number, f"a line of {len(line):,} characters: only its first {max_line:,} were kept"
                    )
                    line = line[:max_line] + ("\n" if line.endswith("\n") else "")
                yield RawLine(number, offset, line.rstrip("\r\n"), line.endswith("\n"))
                offset += len(line.encode("utf-8", "replace"))
            return
        binary = present(opened.binary, "the opened log's byte stream")
        while True:
            try:
                data = binary.readline(max_line + 1)
                length = len(data)
                if length > max_line and not data.endswith(b"\n"):
                    # Over-long: keep the head, read past the rest of the line without keeping it.
                    data = data[:max_line]
                    ended = False
                    while not ended:
                        more = binary.readline(_READ_STEP)
                        if not more:
                            break
                        length += len(more)
                        ended = more.endswith(b"\n")
                    data += b"\n" if ended else b""
                    problems.add(
                        number + 1, f"a line of {length:,} bytes: only its first {max_line:,} were kept"
                    )
            except COMPRESSION_ERRORS as err:
                problems.add(
                    number + 1,
                    f"compressed input is damaged or truncated ({type(err).__name__}); stopped reading here",
                )
                return
            if not data:
                return
            number += 1
            start = offset
            offset += length
            if _is_binary(data):
                problems.add(number, "binary data (not log text); line skipped")
                yield RawLine(number, start, "", complete=False)
                continue
            yield RawLine(number, start, _decode(data).rstrip("\r\n"), data.endswith(b"\n"))
    finally:
        opened.close()


# --------------------------------------------------------------------------------------------
# Format detection
# --------------------------------------------------------------------------------------------

_MYSQL_MARKERS = ("# Time:", "# User@Host:", "# Query_time:", "Tcp port:")
LOG_FORMATS = ("mysql", "postgres-stderr", "postgres-csv", "postgres-json")


def _sniff(lines: list[str]) -> str | None:
    content = [line for line in lines if line.strip()]
    if not content:
        return None
    if any(line.startswith(_MYSQL_MARKERS) or "started with:" in line for line in content[:50]):
        return "mysql"
    first = content[0].lstrip()
    if first.startswith("{"):
        try:
            json.loads(first)
            return "postgres-json"
        except json.JSONDecodeError:
            pass
    try:
        rows = list(csv.reader(io.StringIO("\n".join(content[:20]))))
    except csv.Error:
        rows = []
    if rows and len(rows[0]) >= 14 and rows[0][11] in SEVERITIES + SECONDARY:
        return "postgres-csv"
    if detect_prefix(content) is not None:
        return "postgres-stderr"
    return None


def detect_format(path: str | Path) -> str:
    """Tell which slow-log format a file holds: mysql, postgres-stderr, postgres-csv or postgres-json.

    Messages name the file, never the folder it sits in (an upload lives in a server temp folder).
    """
    name = Path(path).name
    problems = _Problems([])
    lines: list[str] = []
    size = 0
    for raw in _read_lines(path, problems):
        lines.append(raw.text)
        size += len(raw.text)
        if len(lines) >= SAMPLE_LINES or size > SAMPLE_BYTES:
            break
    if not any(line.strip() for line in lines):
        damaged = [p for p in problems.sink if p.message.startswith("compressed input is damaged")]
        if damaged:
            raise LogFormatError(
                f"{name} is a damaged compressed file: it could not be decompressed",
                "copy the log again, or compress it again from the original",
            )
        raise LogFormatError(
            f"{name} is empty" + (" or unreadable" if problems.count else ""),
            "point at the slow-query log itself (plain or .gz/.bz2/.xz)",
        )
    found = _sniff(lines)
    if found is None:
        raise LogFormatError(
            f"{name} is not a slow-query log this tool can read",
            "give a MySQL/MariaDB slow log, or a PostgreSQL log written with log_min_duration_statement "
            "(stderr with a log_line_prefix, csvlog or jsonlog), plain or .gz/.bz2/.xz",
        )
    return found


# --------------------------------------------------------------------------------------------
# Timestamps
# --------------------------------------------------------------------------------------------

_ZONE_OFFSETS_H: dict[str, float] = {
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "UT": 0,
    "WET": 0,
    "WEST": 1,
    "BST": 1,
    "CET": 1,
    "CEST": 2,
    "MET": 1,
    "MEST": 2,
    "EET": 2,
    "EEST": 3,
    "MSK": 3,
    "IST": 5.5,
    "SGT": 8,
    "HKT": 8,
    "AWST": 8,
    "JST": 9,
    "KST": 9,
    "ACST": 9.5,
    "AEST": 10,
    "AEDT": 11,
    "NZST": 12,
    "NZDT": 13,
    "EST": -5,
    "EDT": -4,
    "CST": -6,
    "CDT": -5,
    "MST": -7,
    "MDT": -6,
    "PST": -8,
    "PDT": -7,
    "AKST": -9,
    "AKDT": -8,
    "HST": -10,
}


def _zone_offset(zone: str, local: datetime) -> timedelta | None:
    if zone in _ZONE_OFFSETS_H:
        return timedelta(hours=_ZONE_OFFSETS_H[zone])
    sign_match = re.fullmatch(r"([+-])(\d\d):?(\d\d)?", zone)
    if sign_match:
        sign = 1 if sign_match.group(1) == "+" else -1
        return sign * timedelta(hours=int(sign_match.group(2)), minutes=int(sign_match.group(3) or 0))
    if "/" in zone:
        try:
            return local.replace(tzinfo=ZoneInfo(zone)).utcoffset()
        except (ZoneInfoNotFoundError, ValueError):
            return None
    return None


@functools.lru_cache(maxsize=4096)  # busy logs repeat the same second thousands of times
def parse_pg_timestamp(text: str, zone: str | None) -> tuple[datetime | None, str | None]:
    """Parse '2021-05-27 17:00:00[.123]' plus a zone into naive UTC; unknown zone: as logged."""
    try:
        local = datetime.fromisoformat(text.strip())
    except ValueError:
        return None, zone
    if local.tzinfo is not None:
        return local.astimezone(UTC).replace(tzinfo=None), None
    if not zone:
        return local, None
    offset = _zone_offset(zone, local)
    if offset is None:
        return local, zone
    return local - offset, None


def _split_ts_zone(text: str) -> tuple[str, str | None]:
    parts = text.strip().rsplit(" ", 1)
    if len(parts) == 2 and (parts[1][:1].isalpha() or parts[1][:1] in "+-"):
        return parts[0], parts[1]
    return text.strip(), None


# --------------------------------------------------------------------------------------------
# Record readers, one per format
# --------------------------------------------------------------------------------------------


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return None if value in ("", "[unknown]") else value


def _host_only(remote: str | None) -> str | None:
    remote = _clean(remote)
    if remote is None or remote == "[local]":
        return remote
    if remote.endswith(")") and "(" in remote:  # %r: host(port)
        return remote[: remote.index("(")]
    if remote.count(":") == 1:  # csvlog connection_from: host:port
        return remote.split(":")[0]
    return remote


_GENERIC_FIELDS = (
    (
        "ts",
        re.compile(r"(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?)(?: ?([A-Z]{2,5}|[+-]\d\d(?::?\d\d)?))?"),
    ),
    ("pid", re.compile(r"\[(\d+)\]")),
    ("user", re.compile(r"\bu(?:ser|sr)=([^,\s]*)")),
    ("db", re.compile(r"\bdb=([^,\s]*)")),
    ("app", re.compile(r"\bapp(?:lication|li)?=([^,\s]*)")),
    ("host", re.compile(r"\b(?:client|host)=([^,\s]*)")),
    ("userdb", re.compile(r"(\S+)@(\S+?)[\s:]")),
)


class _StderrAssembler:
    """Turns prefixed text lines into PgLogRecords (continuations and DETAIL lines attached)."""

    def __init__(self, pattern: LinePattern, problems: _Problems, log_format: str, year: int) -> None:
        self.pattern = pattern
        self.problems = problems
        self.log_format = log_format
        self.year = year
        self.current: dict | None = None
        # Text fields are gathered as lists of lines and joined once at the end (adding each line to a
        # growing string is quadratic), up to max_text characters per record; the rest is counted.
        self.texts: dict[str, list[str]] = {}
        self.size = 0
        self.dropped = 0
        self.max_text = MAX_EVENT_BYTES
        self.last_field = "message"
        self.seen_record = False

    def feed(self, raw: RawLine, ts_override: datetime | None = None) -> Iterator[PgLogRecord]:
        """Take one line; yield the record it completes, if any."""
        if not raw.text and not raw.complete:
            # A skipped binary line ends whatever record was open: its text is no longer trustworthy.
            yield from self.flush()
            return
        match = self.pattern.regex.match(raw.text)
        if match is None:
            self._continuation(raw)
            return
        groups = match.groupdict()
        level = groups["level"]
        message = groups["msg"]
        part = groups.get("sys_part")
        if part and part != "1" and self.current is not None and level in SECONDARY:
            self._attach(level, message)
            return
        if level in SECONDARY and self.current is not None and self._same_process(groups):
            self._attach(level, message)
            return
        yield from self.flush()
        self.current = self._start(raw, groups, ts_override)
        self.seen_record = True
        self.last_field = "message"

    def _continuation(self, raw: RawLine) -> None:
        text = raw.text
        envelope = _ENVELOPES[self.pattern.envelope]
        if envelope:
            # syslog/logplex continuation: the envelope is there, the prefix is not.
            m = re.match(envelope, text)
            if m:
                text = text[m.end() :].replace("#011", "\t")
                if text.startswith(" "):
                    text = text[1:]
        if self.current is None:
            if text.strip():
                self.problems.add(
                    raw.number,
                    f"line does not start with the log_line_prefix ({self.pattern.describe()}); skipped",
                )
            return
        self._add_text(self.last_field, text, continued=True)
        if not raw.complete:
            self.current["incomplete"] = raw.number

    def _same_process(self, groups: dict) -> bool:
        pid = groups.get("pid") or groups.get("sys_pid")
        return self.current is not None and (pid is None or self.current["pid"] in (None, int(pid)))

    def _attach(self, level: str, message: str) -> None:
        assert self.current is not None  # narrows the type only: both callers check self.current first
        key = {
            "DETAIL": "detail",
            "HINT": "hint",
            "CONTEXT": "context",
            "STATEMENT": "statement",
            "QUERY": "context",
            "LOCATION": "context",
        }[level]
        self._add_text(key, message, continued=key in self.texts)
        self.last_field = key

    def _add_text(self, key: str, text: str, continued: bool) -> None:
        room = self.max_text - self.size
        if room <= 0 or self.dropped:
            self.dropped += len(text) + 1
            return
        if len(text) > room:
            self.dropped += len(text) - room
            text = text[:room]
        self.size += len(text) + 1
        parts = self.texts.setdefault(key, [])
        if continued and not parts:
            parts.append("")  # the field so far was empty: the line still starts on a new line
        parts.append(text)

    def _start(self, raw: RawLine, groups: dict, ts_override: datetime | None) -> dict:
        fields: dict = {"line": raw.number, "offset": raw.offset, "level": groups["level"], "extra": {}}
        self.texts, self.size, self.dropped = {}, 0, 0
        self._add_text("message", groups["msg"], continued=False)
        if not raw.complete:
            fields["incomplete"] = raw.number
        pid = groups.get("pid") or groups.get("sys_pid")
        fields["pid"] = int(pid) if pid else None
        fields["user"] = _clean(groups.get("user"))
        fields["db"] = _clean(groups.get("db"))
        fields["app"] = _clean(groups.get("app"))
        fields["host"] = _host_only(groups.get("host") or groups.get("remote"))
        for key in ("session", "session_line", "queryid", "sqlstate", "xid", "vxid", "tag", "backend"):
            if groups.get(key):
                fields["extra"][key] = groups[key]
        ts, tz = None, None
        if ts_override is not None:
            ts = ts_override
        elif groups.get("ts"):
            ts, tz = parse_pg_timestamp(groups["ts"], groups.get("tz"))
        elif groups.get("epoch"):
            ts = datetime.fromtimestamp(float(groups["epoch"]), UTC).replace(tzinfo=None)
        elif groups.get("iso_ts"):
            ts, tz = parse_pg_timestamp(groups["iso_ts"], None)
        elif groups.get("sys_ts"):
            # syslog has no year and no zone: the year comes from the file, the time is as logged.
            try:
                ts = datetime.strptime(f"{self.year} {groups['sys_ts']}", "%Y %b %d %H:%M:%S")
            except ValueError:
                ts = None
        if groups.get("generic") is not None:
            self._generic_fields(groups["generic"], fields)
            if ts is None and fields.get("ts_text"):
                ts, tz = parse_pg_timestamp(*fields.pop("ts_text"))
        fields.pop("ts_text", None)
        fields["ts"], fields["tz"] = ts, tz
        return fields

    @staticmethod
    def _generic_fields(head: str, fields: dict) -> None:
        for name, regex in _GENERIC_FIELDS:
            m = regex.search(head)
            if not m:
                continue
            if name == "ts":
                fields["ts_text"] = (m.group(1).replace("T", " "), m.group(2))
            elif name == "pid" and fields.get("pid") is None:
                fields["pid"] = int(m.group(1))
            elif name == "userdb":
                fields["user"] = fields.get("user") or _clean(m.group(1))
                fields["db"] = fields.get("db") or _clean(m.group(2))
            elif name in ("user", "db", "app"):
                fields[name] = _clean(m.group(1))
            elif name == "host":
                fields["host"] = _host_only(m.group(1))

    def flush(self) -> Iterator[PgLogRecord]:
        """Yield the open record, if any."""
        if self.current is None:
            return
        fields, self.current = self.current, None
        for key, parts in self.texts.items():
            fields[key] = "\n".join(parts)
        fields.setdefault("message", "")
        if self.dropped:
            self.problems.add(
                fields["line"],
                f"a message of more than {self.max_text:,} characters: only its first "
                f"{self.max_text:,} were kept",
            )
            fields["cut_from"] = self.size + self.dropped
        self.texts, self.size, self.dropped = {}, 0, 0
        incomplete = fields.pop("incomplete", None)
        if incomplete is not None:
            self.problems.add(incomplete, "the input ends in the middle of a line (truncated?)")
            fields["extra"]["truncated"] = "1"
        yield PgLogRecord(log_format=self.log_format, **fields)


def _file_year(path_or_stream: str | Path | IO) -> int:
    if isinstance(path_or_stream, str | Path):
        return datetime.fromtimestamp(Path(path_or_stream).stat().st_mtime, UTC).year
    return datetime.now(UTC).year


def _iter_stderr(
    lines: Iterator[RawLine], problems: _Problems, prefix: str | None, year: int
) -> Iterator[PgLogRecord]:
    head = _head(lines, SAMPLE_LINES)
    pattern = _pick_pattern([raw.text[:SAMPLE_LINE_CHARS] for raw in head], prefix)
    if pattern is None:
        problems.add(
            head[0].number if head else 1,
            "no line looks like a PostgreSQL log line; pass the server's log_line_prefix",
        )
        return
    assembler = _StderrAssembler(
        pattern, problems, "stderr" if pattern.envelope == "stderr" else pattern.envelope, year
    )
    for raw in _chain(head, lines):
        yield from assembler.feed(raw)
    yield from assembler.flush()
    if not assembler.seen_record:
        problems.add(1, f"no line matched the log_line_prefix {pattern.describe()}")


def _head(lines: Iterator[RawLine], count: int) -> list[RawLine]:
    """The first `count` lines, or fewer when they hold more than SAMPLE_BYTES of text (lines can be 1 MiB)."""
    head: list[RawLine] = []
    size = 0
    for raw in lines:
        head.append(raw)
        size += len(raw.text)
        if len(head) >= count or size > SAMPLE_BYTES:
            break
    return head


def _pick_pattern(sample: list[str], prefix: str | None) -> LinePattern | None:
    if prefix is None:
        return detect_prefix(sample)
    candidates = [compile_pattern(prefix, envelope) for envelope in _ENVELOPES]
    return max(candidates, key=lambda p: sum(1 for line in sample if p.regex.match(line)))


def _chain(head: list[RawLine], rest: Iterator[RawLine]) -> Iterator[RawLine]:
    yield from head
    yield from rest


# csvlog columns (PostgreSQL 13: 23, 14+: 26).
_CSV_COLUMNS = (
    "log_time",
    "user_name",
    "database_name",
    "process_id",
    "connection_from",
    "session_id",
    "session_line_num",
    "command_tag",
    "session_start_time",
    "virtual_transaction_id",
    "transaction_id",
    "error_severity",
    "sql_state_code",
    "message",
    "detail",
    "hint",
    "internal_query",
    "internal_query_pos",
    "context",
    "query",
    "query_pos",
    "location",
    "application_name",
    "backend_type",
    "leader_pid",
    "query_id",
)


def _record_from_columns(row: dict[str, str], line: int, offset: int, log_format: str) -> PgLogRecord | None:
    level = (row.get("error_severity") or "").strip()
    if level not in SEVERITIES:
        return None
    ts_text = row.get("log_time") or row.get("timestamp") or ""
    ts, tz = parse_pg_timestamp(*_split_ts_zone(ts_text)) if ts_text else (None, None)
    pid_text = str(row.get("process_id") or row.get("pid") or "")
    extra = {
        key: str(row[source])
        for key, source in (
            ("session", "session_id"),
            ("session_line", "session_line_num"),
            ("sqlstate", "sql_state_code"),
            ("sqlstate", "state_code"),
            ("queryid", "query_id"),
            ("tag", "command_tag"),
            ("tag", "ps"),
            ("backend", "backend_type"),
            ("session_line", "line_num"),
        )
        if row.get(source) not in (None, "")
    }
    if extra.get("queryid") == "0":
        extra.pop("queryid")
    host = row.get("connection_from") or row.get("remote_host")
    return PgLogRecord(
        line=line,
        offset=offset,
        level=level,
        message=str(row.get("message") or ""),
        ts=ts,
        tz=tz,
        pid=int(pid_text) if pid_text.isdigit() else None,
        user=_clean(row.get("user_name") or row.get("user")),
        db=_clean(row.get("database_name") or row.get("dbname")),
        host=_host_only(host),
        app=_clean(row.get("application_name")),
        extra=extra,
        detail=row.get("detail") or None,
        hint=row.get("hint") or None,
        context=row.get("context") or None,
        statement=row.get("query") or row.get("statement") or None,
        log_format=log_format,
    )


def _iter_csv(lines: Iterator[RawLine], problems: _Problems) -> Iterator[PgLogRecord]:
    position = {"line": 1, "offset": 0, "complete": True}

    def texts() -> Iterator[str]:
        for raw in lines:
            position.update(
                line=raw.number + 1,
                offset=raw.offset + len(raw.text.encode("utf-8")) + 1,
                complete=raw.complete,
            )
            if not raw.text and not raw.complete:
                continue  # binary line, already reported
            yield raw.text + "\n"

    reader = csv.reader(texts(), strict=True)
    while True:
        start_line, start_offset = position["line"], position["offset"]
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            problems.add(start_line, f"unreadable csvlog row ({err}); skipped")
            continue
        if not row or row == [""]:
            continue
        if len(row) < 14:
            problems.add(start_line, f"csvlog row has {len(row)} columns, expected 23 or more; skipped")
            continue
        record = _record_from_columns(
            dict(zip(_CSV_COLUMNS, row, strict=False)), start_line, start_offset, "csv"
        )
        if record is None:
            problems.add(start_line, "csvlog row has no valid error_severity; skipped")
            continue
        if not position["complete"]:
            problems.add(position["line"] - 1, "the input ends in the middle of a row (truncated?)")
        yield record


def _iter_json(lines: Iterator[RawLine], problems: _Problems, year: int) -> Iterator[PgLogRecord]:
    text_pattern: LinePattern | None = None
    assembler: _StderrAssembler | None = None
    for raw in lines:
        if not raw.text.strip():
            continue
        try:
            doc = json.loads(raw.text)
        except json.JSONDecodeError as err:
            problems.add(raw.number, f"not a JSON object ({err.msg}); skipped")
            continue
        if not isinstance(doc, dict):
            problems.add(raw.number, "JSON line is not an object; skipped")
            continue
        if isinstance(doc.get("record"), dict):  # CloudNativePG wraps csvlog fields
            record = _record_from_columns(doc["record"], raw.number, raw.offset, "json")
            if record is not None:
                yield record
            continue
        if isinstance(doc.get("textPayload"), str):  # Google Cloud Logging export
            payload = doc["textPayload"]
            if text_pattern is None:
                text_pattern = detect_prefix([payload]) or compile_pattern(None)
                assembler = _StderrAssembler(text_pattern, problems, "json", year)
            assert assembler is not None  # narrows the type only: it is set together with text_pattern, above
            ts = None
            if doc.get("timestamp"):
                ts, _ = parse_pg_timestamp(str(doc["timestamp"]).replace("Z", "+00:00"), None)
            yield from assembler.feed(RawLine(raw.number, raw.offset, payload, raw.complete), ts)
            continue
        if "error_severity" in doc and "message" in doc:  # PostgreSQL 15+ jsonlog
            record = _record_from_columns(doc, raw.number, raw.offset, "json")
            if record is not None:
                yield record
            else:
                problems.add(raw.number, "jsonlog record has no valid error_severity; skipped")
            continue
        if "msg" in doc:
            continue  # operator chatter around the log
        problems.add(raw.number, "JSON line is not a PostgreSQL log record; skipped")
    if assembler is not None:
        yield from assembler.flush()


def iter_pg_records(
    path_or_stream: str | Path | IO,
    problems: list | None = None,
    prefix: str | None = None,
    log_format: str | None = None,
) -> Iterator[PgLogRecord]:
    """Read every PostgreSQL log message (any severity) from a stderr, csvlog or jsonlog file."""
    sink = _Problems(problems)
    source = str(path_or_stream) if isinstance(path_or_stream, str | Path) else "stream"
    year = _file_year(path_or_stream)
    lines = _read_lines(path_or_stream, sink)
    head = _head(lines, 50)
    found = log_format or _sniff([raw.text for raw in head])
    if found == "mysql":
        sink.add(1, "this is a MySQL/MariaDB slow log, not a PostgreSQL log; read it with the MySQL parser")
        sink.close(source)
        return
    stream = _chain(head, lines)
    if found == "postgres-csv":
        yield from _iter_csv(stream, sink)
    elif found == "postgres-json":
        yield from _iter_json(stream, sink, year)
    else:
        yield from _iter_stderr(stream, sink, prefix, year)
    sink.close(source)


# --------------------------------------------------------------------------------------------
# Records → SlowEvents
# --------------------------------------------------------------------------------------------

_DURATION = re.compile(
    r"^duration: (?P<ms>\d+(?:\.\d+)?) ms(?:\s+(?P<kind>statement|execute|parse|bind|plan)"
    r"(?: (?P<name>[^:\n]*?))?:\s?(?P<sql>.*))?$",
    re.S,
)
_STATEMENT_ONLY = re.compile(r"^(?P<kind>statement|execute)(?: (?P<name>[^:\n]*?))?:\s?(?P<sql>.*)$", re.S)


def parse_parameters(detail: str) -> dict[str, str | None]:
    """Read 'parameters: $1 = 'a', $2 = NULL' into {'$1': 'a', '$2': None} (values unquoted)."""
    text = detail.strip()
    if not text.startswith("parameters:"):
        return {}
    text = text[len("parameters:") :]
    params: dict[str, str | None] = {}
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " ,\n\t":
            i += 1
        if i >= n or text[i] != "$":
            break
        j = i + 1
        while j < n and text[j].isdigit():
            j += 1
        name = text[i:j]
        k = text.find("=", j)
        if k < 0:
            break
        k += 1
        while k < n and text[k] == " ":
            k += 1
        if text.startswith("NULL", k):
            params[name] = None
            i = k + 4
            continue
        if k >= n or text[k] != "'":
            break
        value: list[str] = []
        k += 1
        while k < n:
            if text[k] == "'":
                if k + 1 < n and text[k + 1] == "'":
                    value.append("'")
                    k += 2
                    continue
                break
            value.append(text[k])
            k += 1
        params[name] = "".join(value)
        i = k + 1
    return params


@dataclass
class _Pending:
    record: PgLogRecord
    kind: str
    name: str | None
    sql: str
    params: dict[str, str | None]


def _event(
    record: PgLogRecord, ms: float, kind: str, name: str | None, sql: str, params: dict[str, str | None]
) -> SlowEvent:
    attributes: dict[str, object] = {"log_format": record.log_format, "phase": kind}
    if record.pid is not None:
        attributes["pid"] = record.pid
    if name:
        attributes["statement_name"] = name
    if params:
        attributes["parameters"] = params
    if record.app:
        attributes["application"] = record.app
    if record.tz:
        attributes["tz"] = record.tz
    attributes.update(record.extra)
    return SlowEvent(
        query=sql.strip(),
        query_time=ms / 1000.0,
        ts=record.ts,
        user=record.user,
        host=record.host,
        db=record.db,
        pos_in_log=record.offset,
        attributes=attributes,
        source="postgres",
        cut_from=record.cut_from,
    )


def events_from_records(records: Iterable[PgLogRecord], problems: list | None = None) -> Iterator[SlowEvent]:
    """Turn log records into SlowEvents: 'duration: X ms statement|execute' (+ log_duration pairs)."""
    # log_statement + log_duration write the text and the time as two messages of one backend.
    waiting: dict[int | None, _Pending] = {}
    for record in records:
        if record.level != "LOG":
            continue
        message = record.message
        m = _DURATION.match(message)
        if m:
            ms = float(m.group("ms"))
            kind = m.group("kind")
            if not usable_number(ms):
                if problems is not None:
                    problems.append(
                        ParseProblem(
                            record.line,
                            f"duration {m.group('ms')[:40]} ms is not a usable "
                            "number (too large); event skipped",
                        )
                    )
                waiting.pop(record.pid, None)
                continue
            if kind is None:
                pending = waiting.pop(record.pid, None)
                if pending is not None and pending.sql.strip():
                    yield _event(pending.record, ms, pending.kind, pending.name, pending.sql, pending.params)
                continue
            if kind not in ("statement", "execute"):
                continue  # parse/bind are phases of the execute that follows; plan is auto_explain
            sql = m.group("sql") or ""
            if not sql.strip():
                continue  # empty query string (e.g. a bare ';' from a health check client)
            params = parse_parameters(record.detail) if record.detail else {}
            waiting.pop(record.pid, None)
            yield _event(record, ms, kind, m.group("name"), sql, params)
            continue
        s = _STATEMENT_ONLY.match(message)
        if s:
            params = parse_parameters(record.detail) if record.detail else {}
            waiting[record.pid] = _Pending(record, s.group("kind"), s.group("name"), s.group("sql"), params)


def iter_pg_events(
    path_or_stream: str | Path | IO, problems: list | None = None, prefix: str | None = None
) -> Iterator[SlowEvent]:
    """Read timed statements from a PostgreSQL log (stderr/csvlog/jsonlog, plain or compressed)."""
    yield from events_from_records(iter_pg_records(path_or_stream, problems, prefix), problems)
