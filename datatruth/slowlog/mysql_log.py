"""Streaming parser for MySQL / MariaDB / Percona Server slow query logs.

The log is cut into records the way pt-query-digest cuts it: a record ends at the
separator ";\\n#" (the end of a statement followed by the next header line). Inside a
record, header lines ("# Time:", "# User@Host:", "# Query_time: ..." and friends),
`use db;` and `SET timestamp=...;` lines come first, and everything from the first
other line to the end is the statement. Keeping the same record model means
`pos_in_log` (and so "at byte N" in reports) agrees with pt-query-digest.

Input may be a path, a binary or text stream, and may be gzip-compressed.
Unreadable parts become `ParseProblem`s with a line number; the parser raises
`LogFormatError` only when the input has content but not one slow-log event.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from datatruth.errors import LogFormatError
from datatruth.slowlog.events import ParseProblem, SlowEvent

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


class _Reader:
    """Reads a binary stream up to a separator, like Perl's readline with $/ set, tracking the offset."""

    def __init__(self, fh: IO[bytes], tell: int = 0, lines: int = 0, limit: int | None = None) -> None:
        self._fh = fh
        self._buf = b""
        self._pos = 0  # start of the unread part of _buf (index, so no per-record copying)
        self._eof = False
        self._left = limit  # bytes still allowed from fh (a worker reads only its slice)
        self.tell = tell  # offset of the next byte handed out
        self.lines = lines  # newlines handed out so far
        self.read_error: str | None = None

    def _fill(self) -> bool:
        if self._eof:
            return False
        try:
            want = _CHUNK if self._left is None else min(_CHUNK, self._left)
            # read1 hands out what gzip has decompressed so far, so a cut-off file keeps it.
            reader = self._fh.read1 if isinstance(self._fh, gzip.GzipFile) else self._fh.read
            data = reader(want) if want > 0 else b""
            if self._left is not None:
                self._left -= len(data)
        except (EOFError, zlib.error, gzip.BadGzipFile) as err:
            # A gzip file cut short: keep what was decompressed, report the rest.
            self.read_error = f"{TRUNCATED}: compressed input ended early ({err})"
            data = b""
        if not data:
            self._eof = True
            return False
        self._buf = self._buf[self._pos:] + data
        self._pos = 0
        return True

    @property
    def at_eof(self) -> bool:
        """True once every byte of the input has been handed out."""
        return self._eof and self._pos >= len(self._buf)

    def read(self, sep: bytes) -> bytes | None:
        """Return the bytes up to and including `sep` (or the rest at end of input); None when done."""
        search_from = self._pos
        while True:
            idx = self._buf.find(sep, search_from)
            if idx >= 0:
                end = idx + len(sep)
                out = self._buf[self._pos:end]
                self._pos = end
                break
            search_from = max(0, len(self._buf) - self._pos - len(sep) + 1)
            if not self._fill():
                if self._pos >= len(self._buf):
                    return None
                out = self._buf[self._pos:]
                self._pos = len(self._buf)
                break
        self.tell += len(out)
        self.lines += out.count(b"\n")
        return out


def _open(src: str | Path | IO) -> tuple[IO[bytes], bool]:
    """Open a path or wrap a stream as binary, transparently un-gzipping; returns (stream, owned)."""
    if isinstance(src, str | Path):
        path = Path(src)
        if not path.is_file():
            raise LogFormatError(f"slow log not found: {path}", "check the path and that it is a file")
        raw: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by the caller's finally
        owned = True
    elif isinstance(src, io.TextIOBase):
        raw = io.BytesIO(src.read().encode("utf-8"))
        owned = False
    else:
        raw = src
        owned = False
    head = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
    if not head and hasattr(raw, "seek") and raw.seekable():
        head = raw.read(2)
        raw.seek(0)
    if head == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw, mode="rb"), True
    return raw, owned


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
            stamp = datetime(int(text[0:4]), int(text[5:7]), int(text[8:10]),
                             int(text[11:13]), int(text[14:16]), int(text[17:19]),
                             int((frac[1:] + "00000")[:6]) if frac else 0)
        else:
            hour, minute, second = text[7:].split(":")
            stamp = datetime(2000 + int(text[0:2]), int(text[2:4]), int(text[4:6]),
                             int(hour), int(minute), int(second))
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
# extended attributes, admin commands, odd orders) takes the general line-by-line path;
# tests check that both paths read the same events.
_FAST = re.compile(
    r"#(?: Time: (?P<ts>\d{6} [ \d]\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)"
    r"(?P<frac>\.\d+)?(?P<zone>Z|[+-]\d\d:?\d\d)?\n#)?"
    r" User@Host: (?P<user>[^\[\n]+)\[[^\]\n]*\] @ (?P<host>\S*) \[(?P<ip>[^\]\n]*)\]"
    r"(?:\s+Id:\s*(?P<tid>\d+))?[ \t]*\n"
    r"# Query_time: (?P<qt>\d+(?:\.\d+)?)\s+Lock_time: (?P<lt>\d+(?:\.\d+)?)"
    r"\s+Rows_sent: (?P<rs>\d+)\s+Rows_examined: (?P<re>\d+)[ \t]*\n"
    r"(?:use (?P<db>[^;\n]+);\n)?"
    r"(?:SET timestamp=(?P<stamp>\d+);\n)?"
    r"(?!#|use |SET (?:last_insert_id|insert_id|timestamp))(?=[^\n])"
)


def _fast_event(m: re.Match[str], stmt: str, pos_in_log: int, last_ts: datetime | None,
                last_db: str | None) -> SlowEvent:
    """Build the event for a record matched by _FAST (same result as the general path)."""
    ts_text, frac, zone, user, host, ip, tid, qt, lt, rs, rx, db, stamp = m.groups()
    if not ts_text:
        ts = last_ts
    elif ts_text[4] == "-":
        # datetime.fromisoformat is C code; "Z" is UTC already, other offsets are applied.
        if zone is None or zone == "Z":
            ts = datetime.fromisoformat(ts_text + frac) if frac else datetime.fromisoformat(ts_text)
        else:
            ts = _parse_ts_parts(ts_text, frac, zone)
    else:
        ts = _parse_ts_parts(ts_text, None, None)
    attrs: dict[str, object] = {"ip": ip}
    if tid:
        attrs["Thread_id"] = int(tid)
    if stamp:
        attrs["timestamp"] = int(stamp)
    return SlowEvent(
        stmt[m.end():],
        float(qt),
        float(lt),
        int(rs),
        int(rx),
        ts,
        user,
        host or ip or None,
        ((_strip_db(db) or None) if db else None) or last_db,
        pos_in_log,
        attrs,
        "mysql",
    )


def _to_event(rec: _Record, pos_in_log: int, last_db: str | None = None) -> SlowEvent:
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
    )


def iter_mysql_slice(
    path: Path, start: int, end: int, problems: list[ParseProblem], state: ScanState,
    last_ts: datetime | None = None, last_db: str | None = None,
) -> Iterator[SlowEvent]:
    """Events of the records in bytes [start, end) of a plain file; `start` must be a record boundary."""
    with open(path, "rb") as fh:
        lines = 0
        while fh.tell() < start:
            lines += fh.read(min(_CHUNK * 8, start - fh.tell())).count(b"\n")
        reader = _Reader(fh, tell=start, lines=lines, limit=end - start)
        yield from _events(reader, problems, None, fast=_fast_path, state=state, last_ts=last_ts,
                           last_db=last_db)


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
    return block[start: stop if stop >= 0 else len(block)].decode("utf-8", "replace")


def iter_mysql_events(
    stream_or_path: str | Path | IO,
    problems: list[ParseProblem] | None = None,
    embedded_attributes: tuple[str, str] | None = None,
) -> Iterator[SlowEvent]:
    """Yield SlowEvents from a MySQL slow log (path or stream, plain or gzip); append problems to `problems`.

    `embedded_attributes` = (pattern, capture): like pt-query-digest --embedded-attributes,
    `pattern` finds a comment in the statement and `capture` pulls (name, value) pairs from it.
    """
    sink: list[ParseProblem] = problems if problems is not None else []
    embed = (re.compile(embedded_attributes[0]), re.compile(embedded_attributes[1])) if embedded_attributes else None
    fh, owned = _open(stream_or_path)
    try:
        yield from _events(_Reader(fh), sink, embed, fast=embed is None and _fast_path)
    finally:
        if owned:
            fh.close()


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


def _events(
    reader: _Reader, sink: list[ParseProblem], embed: tuple[re.Pattern[str], re.Pattern[str]] | None,
    fast: bool = True, state: ScanState | None = None, last_ts: datetime | None = None,
    last_db: str | None = None,
) -> Iterator[SlowEvent]:
    """The record loop. With a `state` the caller judges emptiness; without, this raises for non-logs."""
    pending: list[tuple[str, int]] = []  # (record text, first line number)
    scan = state if state is not None else ScanState()
    produced = 0
    saw_content = saw_header = False
    pos_in_log = reader.tell
    while True:
        if pending:
            stmt, line_no = pending.pop(0)
        else:
            line_no = reader.lines + 1
            raw = reader.read(_SEP)
            if raw is None:
                break
            stmt = raw.decode("utf-8", "replace")
        start_pos = pos_in_log
        pos_in_log = reader.tell
        if stmt.strip():
            saw_content = True
        if "\x00" in stmt:
            # Keep the lines before the binary data (usually a whole event), drop the rest.
            cut = stmt.rfind("\n", 0, stmt.index("\x00")) + 1
            sink.append(ParseProblem(line_no + stmt.count("\n", 0, cut),
                                     "binary data (NUL bytes); skipped to the next event"))
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

        if not stmt.startswith("#"):
            stmt = "#" + stmt
        # Drop the statement terminator (pt: s/;\n#?\Z//, where \Z may sit before a final newline).
        if stmt.endswith(";\n#"):
            stmt = stmt[:-3]
        elif stmt.endswith(";\n"):
            stmt = stmt[:-2]
        elif stmt.endswith((";\n\n", ";\n#\n")):
            stmt = stmt[: stmt.rindex(";\n")] + "\n"

        if fast:
            quick = _FAST.match(stmt)
            if quick is not None:
                event = _fast_event(quick, stmt, start_pos, last_ts, last_db)
                last_ts = event.ts
                last_db = event.db if quick["db"] else last_db
                produced += 1
                saw_content = True
                yield event
                continue

        rec = _Record()
        _scan(stmt, rec)
        if rec.need_more:
            next_line = reader.lines + 1
            nxt = reader.read(_LINE_END)
            if nxt is not None:
                text = nxt.decode("utf-8", "replace")
                if _NULL_QUERY_NEXT.match(text):
                    # The server logged headers without a statement; the next event
                    # is already under way, so hand it back as a pending record.
                    rest = reader.read(_SEP)
                    pending.append((text + (rest.decode("utf-8", "replace") if rest else ""), next_line))
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
                sink.append(ParseProblem(line_no, f"unrecognised text skipped ({skipped.count(chr(10))} lines)"))
                rec2 = _Record()
                _scan(rec.arg[resync.start():], rec2)
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
        if embed is not None:
            found = embed[0].search(rec.arg)
            if found:
                for key, value in embed[1].findall(found.group(0)):
                    rec.props[key] = value
        # MySQL writes "# Time:" only when the second changes and "use db;" only when the
        # database differs from the last one written to the log: later events share both.
        if rec.ts is None:
            rec.ts = last_ts
        else:
            last_ts = rec.ts
        produced += 1
        event = _to_event(rec, start_pos, last_db)
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
