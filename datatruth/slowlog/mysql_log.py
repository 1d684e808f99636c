"""Streaming parser for MySQL / MariaDB / Percona Server slow query logs.

The log is cut into records the way pt-query-digest cuts it: a record ends at the
separator ";\\n#" (the end of a statement followed by the next header line). Inside a
record, header lines ("# Time:", "# User@Host:", "# Query_time: ..." and friends),
`use db;` and `SET timestamp=...;` lines come first, and everything from the first
other line to the end is the statement. Keeping the same record model means
`pos_in_log` (and so "at byte N" in reports) agrees with pt-query-digest.

Input may be a path, a binary or text stream, and may be gzip, bzip2 or xz compressed
(the opener is shared with the PostgreSQL reader: `logfile.py`). A statement longer than
MAX_EVENT_BYTES keeps only its first MAX_EVENT_BYTES (and says so in a ParseProblem).
Unreadable parts become `ParseProblem`s with a line number; the parser raises
`LogFormatError` only when the input has content but not one slow-log event.
"""

from __future__ import annotations

import io
import re
from collections import deque
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from datatruth.errors import LogFormatError, present
from datatruth.slowlog.events import (
    MAX_EVENT_BYTES,
    EventRow,
    ParseProblem,
    SlowEvent,
    as_datetime,
    event_from_row,
    usable_number,
)
from datatruth.slowlog.logfile import COMPRESSION_ERRORS, OpenedLog, open_log, read_some

_SEP = b";\n#"
_LINE_END = b";\n"
_CHUNK = 1 << 20

# Server start-up banners that mysqld writes into the slow log on every restart.
_BANNER = re.compile(
    r"^(?:T[cC][pP]\s[pP]ort:\s+\d+|[/A-Z].*mysqld,\sVersion.*(?:started\swith:|embedded\slibrary)"
    r"|Time\s+Id\s+Command).*\n",
    re.M,
)
_TIME_LINE = re.compile(r"^# Time: ((?:[0-9: ]{15})|(?:[-0-9: T]{19}))(\.\d+)?(Z|[+-]\d\d:?\d\d)?")
_USER_HOST = re.compile(r"# User@Host: ([^\[]+|\[[^\[]+\]).*?@ (\S*) \[(.*)\]\s*(?:Id:\s*(\d+))?")
_ATTR_LINE = re.compile(r"^# +[A-Z][A-Za-z_]+: \S+")
_ATTR_PAIR = re.compile(r"(\w+):\s+(\S+|\Z)")
_EMPTY_SCHEMA = re.compile(r"Schema:\s+(?=\w+: )")
_USE_LINE = re.compile(r"^use ([^;]+)")
_SET_LINE = re.compile(r"^SET\s+([^;]*)")
_SET_SPLIT = re.compile(r",|\s*=\s*")
_META_START = ("#", "use ", "SET last_insert_id", "SET insert_id", "SET timestamp")
_NULL_QUERY_NEXT = re.compile(r"^\s*[A-Z][a-z_]+: ")
_RESYNC = re.compile(r"^# (?:Time|User@Host|Query_time): ", re.M)
_INT = re.compile(r"-?\d+\Z")
_FLOAT = re.compile(r"-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?\Z")

NO_QUERY = "/* No query */"
_fast_path = True  # tests switch this off to check the general path reads the same events
TRUNCATED = "truncated"  # a problem message starting with this marks the log as cut short


class _Cut(bytes):
    """The kept head of a record that was longer than the reader's limit, with what was dropped."""

    full_length: int
    newlines: int
    has_sep: bool


class _Reader:
    """Cuts a binary stream into records at the separator (Perl's readline with $/ set), tracking the offset.

    Records are split off a megabyte at a time with bytes.split (C speed) and handed out one by
    one. A record longer than `max_record` keeps only its head; the rest is scanned for the next
    separator and dropped, so a 150 MB statement never sits in memory.
    """

    def __init__(
        self,
        fh: IO[bytes],
        tell: int = 0,
        lines: int = 0,
        limit: int | None = None,
        max_record: int = MAX_EVENT_BYTES,
    ) -> None:
        self._fh = fh
        self._buf = b""  # unread bytes after the last separator found so far
        self._pieces: deque[bytes] = deque()  # whole records (separator removed), in order
        self._eof = False
        self._left = limit  # bytes still allowed from fh (a worker reads only its slice)
        self._max = max_record
        self.tell = tell  # offset of the next byte handed out
        self.lines = lines  # newlines handed out so far
        self.read_error: str | None = None
        self.last_cut: int | None = None  # full length of the record just handed out, when it was cut
        self.plain = False  # the queued records hold no NUL byte and no server banner

    def _read(self) -> bytes:
        if self._eof:
            return b""
        try:
            want = _CHUNK if self._left is None else min(_CHUNK, self._left)
            data = read_some(self._fh, want) if want > 0 else b""
            if self._left is not None:
                self._left -= len(data)
        except COMPRESSION_ERRORS as err:
            # A damaged or cut-off archive: keep what was decompressed, report the rest.
            self.read_error = (
                f"{TRUNCATED}: compressed input is damaged or ended early ({type(err).__name__})"
            )
            data = b""
        if not data:
            self._eof = True
        return data

    def _fill(self) -> bool:
        """Read on until at least one whole record (or the end) is queued; False at the end of input."""
        while not self._pieces:
            data = self._read()
            if not data:
                return False
            joined = self._buf + data
            # One look at the whole chunk spares each record the search for NUL bytes and banners.
            self.plain = not (
                b"\x00" in joined or b"ort:" in joined or b"Version" in joined or b"Command" in joined
            )
            parts = joined.split(_SEP)
            self._buf = parts.pop()
            self._pieces.extend(parts)
            if len(self._buf) > self._max + len(_SEP):
                self.plain = False
                self._skip_long_record()
        return True

    def _skip_long_record(self) -> None:
        """Keep the head of the over-long record in _buf, drop the rest up to its separator."""
        head = self._buf[: self._max]
        dropped = self._buf[self._max :]
        full = len(self._buf)
        newlines = self._buf.count(b"\n")
        tail = dropped[-(len(_SEP) - 1) :]
        while True:
            data = self._read()
            if not data:
                cut = _Cut(head)
                cut.full_length, cut.newlines, cut.has_sep = full, newlines, False
                self._pieces.append(cut)
                self._buf = b""
                return
            window = tail + data
            idx = window.find(_SEP)
            if idx >= 0:
                used = idx - len(tail)  # bytes of `data` before the separator (may be negative)
                full += used
                newlines += data.count(b"\n", 0, max(used, 0)) - (tail[used:].count(b"\n") if used < 0 else 0)
                cut = _Cut(head)
                cut.full_length, cut.newlines, cut.has_sep = full, newlines, True
                self._pieces.append(cut)
                rest = window[idx + len(_SEP) :]
                parts = rest.split(_SEP)
                self._buf = parts.pop()
                self._pieces.extend(parts)
                if len(self._buf) > self._max + len(_SEP):
                    self._skip_long_record()
                return
            full += len(data)
            newlines += data.count(b"\n")
            tail = window[-(len(_SEP) - 1) :]

    def record(self) -> tuple[bytes, bool] | None:
        """The next record without its separator and whether one followed it; None when done."""
        pieces = self._pieces
        if pieces and type(pieces[0]) is bytes:  # the common case, inline
            piece = pieces.popleft()
            self.last_cut = None
            self.tell += len(piece) + 3  # len(_SEP)
            self.lines += piece.count(b"\n") + 1
            return piece, True
        if not pieces and not self._fill():
            if not self._buf:
                return None
            piece, self._buf = self._buf, b""
            self._account(piece, False)
            return piece, False
        piece = self._pieces.popleft()
        # A queued record was followed by a separator, except a cut one that ran to the end of input.
        sep = piece.has_sep if type(piece) is _Cut else True
        self._account(piece, sep)
        return piece, sep

    def _account(self, piece: bytes, sep: bool) -> None:
        if type(piece) is _Cut:
            self.last_cut = piece.full_length
            self.tell += piece.full_length + (len(_SEP) if sep else 0)
            self.lines += piece.newlines + sep
        else:
            self.last_cut = None
            self.tell += len(piece) + (len(_SEP) if sep else 0)
            self.lines += piece.count(b"\n") + sep

    def read_line(self) -> bytes | None:
        """The bytes up to and including the next ';\\n' (or the rest at the end); None when done."""
        if not self._pieces and not self._fill() and not self._buf:
            return None
        if self._pieces:
            piece = self._pieces.popleft()
            i = piece.find(_LINE_END)
            if i >= 0:
                out = piece[: i + len(_LINE_END)]
                self._pieces.appendleft(piece[i + len(_LINE_END) :])
            else:
                # The line ends in the separator: its '#' starts the next record.
                out = piece + _LINE_END
                if self._pieces:
                    self._pieces[0] = b"#" + self._pieces[0]
                else:
                    self._buf = b"#" + self._buf
        else:
            i = self._buf.find(_LINE_END)
            cut = len(self._buf) if i < 0 else i + len(_LINE_END)
            out, self._buf = self._buf[:cut], self._buf[cut:]
        self.last_cut = None
        self.tell += len(out)
        self.lines += out.count(b"\n")
        return out

    @property
    def at_eof(self) -> bool:
        """True once every byte of the input has been handed out."""
        return self._eof and not self._pieces and not self._buf


def _open(src: str | Path | IO) -> OpenedLog:
    """Open a path or wrap a stream as binary, decompressing gzip/bzip2/xz (LogFormatError if missing)."""
    if isinstance(src, str | Path) and not Path(src).is_file():
        raise LogFormatError(f"slow log not found: {Path(src).name}", "check the path and that it is a file")
    if isinstance(src, io.TextIOBase):
        return open_log(io.BytesIO(src.read().encode("utf-8")))
    return open_log(src)


def _number(value: str) -> object:
    """Turn a logged attribute value into int, float or bool where it is one, else keep the text."""
    if _INT.match(value):
        return int(value)
    if value == "No":
        return False
    if value == "Yes":
        return True
    if _FLOAT.match(value):
        return float(value)
    return value


def _parse_ts(match: re.Match[str]) -> datetime | None:
    """Parse the timestamp of a '# Time:' line match to naive UTC."""
    return _parse_ts_parts(match.group(1), match.group(2), match.group(3))


def _parse_ts_parts(text: str, frac: str | None, zone: str | None) -> datetime | None:
    """Parse '071015 21:43:52' (5.0/5.1) or '2016-07-20T18:13:25[.frac][Z|+hh:mm]' (5.7+) to naive UTC."""
    try:
        if text[4] == "-":
            stamp = datetime(
                int(text[0:4]),
                int(text[5:7]),
                int(text[8:10]),
                int(text[11:13]),
                int(text[14:16]),
                int(text[17:19]),
                int((frac[1:] + "00000")[:6]) if frac else 0,
            )
        else:
            hour, minute, second = text[7:].split(":")
            stamp = datetime(
                2000 + int(text[0:2]), int(text[2:4]), int(text[4:6]), int(hour), int(minute), int(second)
            )
    except (ValueError, IndexError):
        return None
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        stamp -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return stamp


class _Record:
    """The fields found in one record while it is being read (mutable scratch, never returned)."""

    __slots__ = ("props", "ts", "arg", "has_ts", "has_uh", "has_admin", "has_db", "has_set", "need_more")

    def __init__(self) -> None:
        self.props: dict[str, str] = {}
        self.ts: datetime | None = None
        self.arg: str | None = None
        self.has_ts = self.has_uh = self.has_admin = self.has_db = self.has_set = False
        self.need_more = False


def _user_host(line: str, rec: _Record) -> bool:
    match = _USER_HOST.search(line)
    if not match:
        return False
    user, host, ip, thread = match.groups()
    rec.props["user"] = user
    rec.props["host"] = host or ip
    rec.props["ip"] = ip
    if thread:
        rec.props["Thread_id"] = thread
    rec.has_uh = True
    return True


def _scan(stmt: str, rec: _Record) -> None:
    """Read header lines of one record into `rec`; the first non-header line starts the statement."""
    pos = 0
    size = len(stmt)
    while pos < size or pos == 0:
        nl = stmt.find("\n", pos)
        end = size if nl < 0 else nl
        line = stmt[pos:end]
        is_last = end == size
        if not line.startswith(_META_START):
            rec.arg = stmt[pos:]
            return
        if not rec.has_ts and (tm := _TIME_LINE.match(line)):
            rec.ts = _parse_ts(tm)
            rec.props["ts"] = tm.group(1)
            rec.has_ts = True
            if not rec.has_uh:
                _user_host(line, rec)
        elif not rec.has_uh and _user_host(line, rec):
            pass
        elif not rec.has_admin and line.startswith("# administrator command:"):
            rec.props["cmd"] = "Admin"
            rec.arg = line[2:].lstrip()
            rec.has_admin = True
        elif _ATTR_LINE.match(line):
            if "Schema:" in line:
                line = _EMPTY_SCHEMA.sub("", line)
            for key, value in _ATTR_PAIR.findall(line):
                rec.props[key] = value
        elif not rec.has_db and (um := _USE_LINE.match(line)):
            rec.props["db"] = um.group(1)
            rec.has_db = True
        elif not rec.has_set and (sm := _SET_LINE.match(line)):
            parts = _SET_SPLIT.split(sm.group(1))
            for i in range(0, len(parts) - 1, 2):
                rec.props[parts[i]] = parts[i + 1]
            rec.has_set = True
        if rec.arg is None and is_last:
            # Headers but no statement yet: the statement itself may start with '#'
            # (eaten by the separator), or the server logged no statement at all.
            rec.need_more = True
            return
        if nl < 0:
            return
        pos = nl + 1


def _strip_db(db: str) -> str:
    return db.strip().strip("`")


# The layout nearly every server writes, matched in one go. Anything else (Percona
# extended attributes, admin commands, odd orders, absurd numbers) takes the general
# line-by-line path; tests check that both paths read the same events. Quantifiers are
# possessive (no backtracking) and the numbers bounded, so a value like 1e400 or a
# 400-digit time falls through to the general path, which reports it.
_FAST_BODY = (
    r"(?: Time: (?P<ts>\d{6} [ \d]\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)"
    r"(?P<frac>\.\d{1,9})?(?P<zone>Z|[+-]\d\d:?\d\d)?\n#)?"
    r" User@Host: (?P<uh>(?P<user>[^\[\n]++)\[[^\]\n]*+\] @ (?P<host>\S*+) \[(?P<ip>[^\]\n]*+)\])"
    r"(?:[ \t]++Id:[ \t]*+(?P<tid>\d{1,18}))?[ \t]*+\n"
    r"# Query_time: (?P<qt>\d{1,12}(?:\.\d{1,12})?)[ \t]++Lock_time: (?P<lt>\d{1,12}(?:\.\d{1,12})?)"
    r"[ \t]++Rows_sent: (?P<rs>\d{1,15})[ \t]++Rows_examined: (?P<re>\d{1,15})[ \t]*+\n"
    r"(?:use (?P<db>[^;\n]++);\n)?"
    r"(?:SET timestamp=(?P<stamp>\d{1,18});\n)?"
    r"(?!#|use |SET (?:last_insert_id|insert_id|timestamp))(?=[^\n])"
)
# re.ASCII: \d and \s need no Unicode tables here (a fifth faster); odd text takes the general path.
_FAST = re.compile("#" + _FAST_BODY, re.ASCII)
# The same after a separator, which ate the record's leading '#' (saves gluing it back on).
_FAST_AFTER_SEP = re.compile(_FAST_BODY, re.ASCII)


def _fast_row(
    m: re.Match[str], stmt: str, pos_in_log: int, last_ts: datetime | str | None, last_db: str | None
) -> EventRow:
    """The event row for a record matched by _FAST (same values the general path gives)."""
    ts_text, frac, zone, uh, user, host, ip, tid, qt, lt, rs, rx, db, stamp = m.groups()
    ts: datetime | str | None
    if not ts_text:
        ts = last_ts
    elif ts_text[4] == "-":
        if zone is None or zone == "Z":
            # UTC or as logged: 5.7+ writes six decimals, kept as text (it sorts like the time) and
            # parsed only for the few rows that need a datetime; other widths are parsed now.
            ts = (
                ts_text + frac
                if frac and len(frac) == 7
                else (datetime.fromisoformat(ts_text + frac[:7]) if frac else datetime.fromisoformat(ts_text))
            )
        else:
            ts = _parse_ts_parts(ts_text, frac, zone)
    else:
        ts = _parse_ts_parts(ts_text, None, None)
    # The numbers stay text: the aggregator converts a whole batch at once (map(float, ...) runs in C).
    return (
        stmt[m.end() :],
        qt,
        lt,
        rs,
        rx,
        ts,
        user,
        host or ip or None,
        ((_strip_db(db) or None) if db else None) or last_db,
        pos_in_log,
        ip,
        tid,
        stamp,
        uh,
    )


_METRIC_KEYS = ("Query_time", "Lock_time", "Rows_sent", "Rows_examined")


def _unusable_number(props: dict[str, str]) -> str | None:
    """The first logged number that is no measurement (inf, nan, 1e400, 30 digits), as 'key: value'."""
    for key, value in props.items():
        if key in ("ts", "user", "host", "ip", "db", "cmd", "Client", "Time", "Schema"):
            continue
        if _FLOAT.match(value) and not usable_number(float(value)):
            return f"{key}: {value[:40]}"
    return None


def _to_event(
    rec: _Record, pos_in_log: int, last_db: str | None = None, cut_from: int | None = None
) -> SlowEvent:
    """Turn a finished record into a SlowEvent; the four classic metrics become typed fields."""
    props = rec.props
    attrs: dict[str, object] = {}
    query_time = lock_time = 0.0
    rows_sent = rows_examined = None
    user = host = db = schema = None
    for key, value in props.items():
        if key == "Query_time":
            query_time = float(value) if _FLOAT.match(value) else 0.0
        elif key == "Lock_time":
            lock_time = float(value) if _FLOAT.match(value) else 0.0
        elif key == "Rows_sent":
            rows_sent = int(value) if _INT.match(value) else None
        elif key == "Rows_examined":
            rows_examined = int(value) if _INT.match(value) else None
        elif key == "user":
            user = value
        elif key == "host":
            host = value or None
        elif key == "db":
            db = _strip_db(value) or None
        elif key == "ts":
            continue
        elif key == "Schema":
            schema = value or None
            attrs[key] = value
        elif key in ("ip", "cmd", "Client", "Time"):
            attrs[key] = value
        else:
            attrs[key] = _number(value)
    return SlowEvent(
        query=rec.arg or "",
        query_time=query_time,
        lock_time=lock_time,
        rows_sent=rows_sent,
        rows_examined=rows_examined,
        ts=rec.ts,
        user=user,
        host=host,
        db=db or schema or last_db,
        pos_in_log=pos_in_log,
        attributes=attrs,
        source="mysql",
        cut_from=cut_from,
    )


RowSink = Callable[[EventRow], None]


def iter_mysql_slice(
    path: Path,
    start: int,
    end: int,
    problems: list[ParseProblem],
    state: ScanState,
    last_ts: datetime | None = None,
    last_db: str | None = None,
    on_row: RowSink | None = None,
) -> Iterator[SlowEvent]:
    """Events of the records in bytes [start, end) of a plain file; `start` must be a record boundary.

    With `on_row`, records in the common layout go to it as EventRows (in file order with the
    events yielded) instead of being yielded.
    """
    with open(path, "rb") as fh:
        lines = 0
        while fh.tell() < start:
            lines += fh.read(min(_CHUNK * 8, start - fh.tell())).count(b"\n")
        reader = _Reader(fh, tell=start, lines=lines, limit=end - start)
        yield from _events(
            reader,
            problems,
            None,
            fast=_fast_path,
            state=state,
            last_ts=last_ts,
            last_db=last_db,
            on_row=on_row,
        )


def context_before(path: Path, offset: int) -> tuple[datetime | None, str | None]:
    """The last '# Time:' and the last 'use db;' before `offset`, so a slice starts with the right state."""
    window = 1 << 20
    ts: datetime | None = None
    db: str | None = None
    found_ts = found_db = False
    with open(path, "rb") as fh:
        end = offset
        while end > 0 and not (found_ts and found_db):
            begin = max(0, end - window)
            fh.seek(begin)
            block = fh.read(end - begin)
            if begin == 0:
                block = b"\n" + block  # a first line counts as following a newline
            if not found_ts and (idx := block.rfind(b"\n# Time: ")) >= 0:
                match = _TIME_LINE.match(_line_at(block, idx + 1))
                ts, found_ts = (_parse_ts(match) if match else None), True
            if not found_db and (idx := block.rfind(b"\nuse ")) >= 0:
                match = _USE_LINE.match(_line_at(block, idx + 1))
                db, found_db = (_strip_db(match.group(1)) or None) if match else None, True
            end = begin + 16 if begin > 0 else 0  # overlap, so a marker on the seam is found
    return ts, db


def _line_at(block: bytes, start: int) -> str:
    stop = block.find(b"\n", start)
    return block[start : stop if stop >= 0 else len(block)].decode("utf-8", "replace")


def iter_mysql_events(
    stream_or_path: str | Path | IO,
    problems: list[ParseProblem] | None = None,
    embedded_attributes: tuple[str, str] | None = None,
    on_row: RowSink | None = None,
    max_event_bytes: int = MAX_EVENT_BYTES,
) -> Iterator[SlowEvent]:
    """Yield SlowEvents from a MySQL slow log (path or stream, plain/gzip/bzip2/xz); append problems to `problems`.

    `embedded_attributes` = (pattern, capture): like pt-query-digest --embedded-attributes,
    `pattern` finds a comment in the statement and `capture` pulls (name, value) pairs from it.
    With `on_row`, records in the common layout go to it as EventRows instead of being yielded.
    """
    sink: list[ParseProblem] = problems if problems is not None else []
    embed = (
        (re.compile(embedded_attributes[0]), re.compile(embedded_attributes[1]))
        if embedded_attributes
        else None
    )
    opened = _open(stream_or_path)
    try:
        reader = _Reader(present(opened.binary, "the opened log's byte stream"), max_record=max_event_bytes)
        yield from _events(
            reader, sink, embed, fast=embed is None and _fast_path, on_row=on_row if embed is None else None
        )
    finally:
        opened.close()


class ScanState:
    """What a pass over (part of) a log saw; lets a caller decide whether it was a slow log at all."""

    __slots__ = ("produced", "saw_content", "saw_header")

    def __init__(self) -> None:
        self.produced = 0
        self.saw_content = False
        self.saw_header = False

    def not_a_slow_log(self) -> bool:
        """True when there was content but not one slow-log header or event."""
        return self.produced == 0 and self.saw_content and not self.saw_header


def not_a_slow_log_error(problems: list[ParseProblem]) -> LogFormatError:
    """The error for input with content but no slow-log event, quoting the first problem."""
    first = problems[0] if problems else None
    return LogFormatError(
        "no slow-log events found: this does not look like a MySQL slow query log"
        + (f" (line {first.line}: {first.message})" if first else ""),
        "check the file and --format; a MySQL slow log has '# Query_time:' header lines",
    )


def _cut_problem(line: int, full: int, kept: int) -> ParseProblem:
    return ParseProblem(
        line,
        f"an event of {full:,} bytes: only its first {kept:,} bytes were kept, and its "
        "class was fingerprinted from them (its Query ID may differ from pt-query-digest's)",
    )


def _normalise(stmt: str) -> str:
    """Give a record its '#' back (eaten by the separator) and drop the statement terminator, as pt does."""
    if not stmt.startswith("#"):
        stmt = "#" + stmt
    # pt: s/;\n#?\Z//, where \Z may sit before a final newline.
    if stmt.endswith(";\n#"):
        return stmt[:-3]
    if stmt.endswith(";\n"):
        return stmt[:-2]
    if stmt.endswith((";\n\n", ";\n#\n")):
        return stmt[: stmt.rindex(";\n")] + "\n"
    return stmt


def _events(  # noqa: C901 - the slow-log reader's state machine: header, attributes, statement, in one pass for speed
    reader: _Reader,
    sink: list[ParseProblem],
    embed: tuple[re.Pattern[str], re.Pattern[str]] | None,
    fast: bool = True,
    state: ScanState | None = None,
    last_ts: datetime | str | None = None,
    last_db: str | None = None,
    on_row: RowSink | None = None,
) -> Iterator[SlowEvent]:
    """The record loop. With a `state` the caller judges emptiness; without, this raises for non-logs."""
    pending: list[tuple[str, int]] = []  # (record text, first line number)
    scan = state if state is not None else ScanState()
    produced = 0
    saw_content = saw_header = False
    pos_in_log = reader.tell
    fast_match = _FAST.match
    fast_after_sep = _FAST_AFTER_SEP.match
    while True:
        cut_from: int | None = None
        if pending:
            stmt, line_no = pending.pop(0)
        else:
            line_no = reader.lines + 1
            got = reader.record()
            if got is None:
                break
            piece, had_sep = got
            stmt = piece.decode("utf-8", "replace")
            cut_from = reader.last_cut
            if cut_from is not None:
                sink.append(_cut_problem(line_no, cut_from, len(piece)))
            if had_sep and fast and cut_from is None:
                # The common record: one event in the usual layout, nothing odd in it.
                quick = fast_match(stmt) if stmt.startswith("#") else fast_after_sep(stmt)
                if quick is not None and (
                    reader.plain
                    or "\x00" not in stmt
                    and not (
                        ("ort:" in stmt or "Version" in stmt or "Command" in stmt) and _BANNER.search(stmt)
                    )
                ):
                    start_pos, pos_in_log = pos_in_log, reader.tell
                    row = _fast_row(quick, stmt, start_pos, last_ts, last_db)
                    last_ts = row[5]
                    if quick["db"]:
                        last_db = row[8]
                    produced += 1
                    saw_content = True
                    if on_row is not None:
                        on_row(row)
                    else:
                        yield event_from_row(row)
                    continue
            if had_sep:
                stmt += ";\n#"
        start_pos = pos_in_log
        pos_in_log = reader.tell
        if stmt.strip():
            saw_content = True
        if "\x00" in stmt:
            # Keep the lines before the binary data (usually a whole event), drop the rest.
            cut = stmt.rfind("\n", 0, stmt.index("\x00")) + 1
            sink.append(
                ParseProblem(
                    line_no + stmt.count("\n", 0, cut), "binary data (NUL bytes); skipped to the next event"
                )
            )
            stmt = stmt[:cut]
            if not stmt.strip():
                continue

        if ("ort:" in stmt or "Version" in stmt or "Command" in stmt) and _BANNER.search(stmt):
            # A server restart wrote its banner in the middle: cut it out and re-split,
            # as pt-query-digest does (the later pieces keep pt's offset, the current tell).
            chunks = _BANNER.sub("", stmt).split(";\n#")
            while len(chunks) > 1 and not chunks[-1]:
                chunks.pop()
            stmt = chunks[0]
            later, first_line = [], line_no + stmt.count("\n") + 1
            for chunk in chunks[1:]:
                later.append((chunk, first_line))
                first_line += chunk.count("\n")
            pending[0:0] = later

        stmt = _normalise(stmt)

        if fast and cut_from is None:
            quick = fast_match(stmt)
            if quick is not None:
                row = _fast_row(quick, stmt, start_pos, last_ts, last_db)
                last_ts = row[5]
                if quick["db"]:
                    last_db = row[8]
                produced += 1
                saw_content = True
                if on_row is not None:
                    on_row(row)
                else:
                    yield event_from_row(row)
                continue

        rec = _Record()
        _scan(stmt, rec)
        if rec.need_more:
            next_line = reader.lines + 1
            nxt = reader.read_line()
            if nxt is not None:
                text = nxt.decode("utf-8", "replace")
                if _NULL_QUERY_NEXT.match(text):
                    # The server logged headers without a statement; the next event
                    # is already under way, so hand it back as a pending record.
                    got = reader.record()
                    rest = (got[0] + (_SEP if got[1] else b"")) if got else b""
                    pending.append((text + rest.decode("utf-8", "replace"), next_line))
                    rec.arg = NO_QUERY
                    rec.props["cmd"] = "Query"
                else:
                    rec.arg = (text[:-2] if text.endswith(";\n") else text).lstrip()
                    rec.props["cmd"] = "Admin"
                pos_in_log = reader.tell

        if "Query_time" not in rec.props and rec.arg:
            # No slow-log header: junk before a real event, or not a slow log at all.
            resync = _RESYNC.search(rec.arg)
            if resync:
                skipped = rec.arg[: resync.start()]
                sink.append(
                    ParseProblem(line_no, f"unrecognised text skipped ({skipped.count(chr(10))} lines)")
                )
                rec2 = _Record()
                _scan(rec.arg[resync.start() :], rec2)
                rec = rec2
        if rec.has_ts or rec.has_uh or "Query_time" in rec.props:
            saw_header = True
        if "Query_time" not in rec.props or not rec.arg:
            if not stmt.strip("#\n \t"):
                continue
            if rec.arg and "Query_time" not in rec.props:
                what = "not a slow-log event (no '# Query_time:' header); skipped"
            elif not (rec.has_ts or rec.has_uh or "Query_time" in rec.props):
                what = "unrecognised text (no slow-log header); skipped"
            elif reader.at_eof and not pending:
                what = f"{TRUNCATED}: the last event has a header but no statement; skipped"
            else:
                what = "event header without a statement; skipped"
            sink.append(ParseProblem(line_no, what))
            continue
        bad = _unusable_number(rec.props)
        if bad is not None:
            sink.append(
                ParseProblem(
                    line_no, f"{bad} is not a usable number (too large, or not finite); event skipped"
                )
            )
            continue
        if embed is not None:
            found = embed[0].search(rec.arg)
            if found:
                for key, value in embed[1].findall(found.group(0)):
                    rec.props[key] = value
        # MySQL writes "# Time:" only when the second changes and "use db;" only when the
        # database differs from the last one written to the log: later events share both.
        if rec.ts is None:
            rec.ts = as_datetime(last_ts)
        else:
            last_ts = rec.ts
        produced += 1
        event = _to_event(rec, start_pos, last_db, cut_from)
        if "db" in rec.props:
            last_db = _strip_db(rec.props["db"]) or last_db
        yield event

    if reader.read_error:
        sink.append(ParseProblem(reader.lines + 1, reader.read_error))
    scan.produced += produced
    scan.saw_content = scan.saw_content or saw_content
    scan.saw_header = scan.saw_header or saw_header
    if state is None and scan.not_a_slow_log():
        raise not_a_slow_log_error(sink)
