"""Per-class aggregation of slow events, streaming and with memory bounded by the number of classes.

Percentiles follow pt-query-digest's approach so numbers agree with its reports:
each metric keeps a histogram of 1000 logarithmic buckets, 5% apart, starting at
1 microsecond; the 95th percentile and the median are read off the buckets (about
5% error), with pt's exact rules for one or two distinct values.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import add, itemgetter

from datatruth.errors import InternalError, UserError
from datatruth.slowlog.events import EventRow, SlowEvent, as_datetime, event_from_row
from datatruth.slowlog.fingerprint import PtFingerprinter, SourceFingerprinter, query_id
from datatruth.slowlog.mysql_log import NO_QUERY

_BUCKET_SIZE = 1.05
_LOG_BUCKET = math.log(_BUCKET_SIZE)
_NUM_BUCKETS = 1000
_MIN_BUCKET = 0.000001
_BUCKET_OFFSET = abs(1 - math.log(_MIN_BUCKET) / _LOG_BUCKET)
_log = math.log
_BUCKET_VALUES = [0.0] + [(_BUCKET_SIZE ** (i - 1)) * _MIN_BUCKET for i in range(1, _NUM_BUCKETS)]

# Attributes pt-query-digest does not aggregate (identifiers and bookkeeping, not measures).
IGNORED_ATTRIBUTES = frozenset(
    {
        "arg",
        "cmd",
        "insert_id",
        "ip",
        "port",
        "Thread_id",
        "timestamp",
        "exptime",
        "flags",
        "key",
        "res",
        "val",
        "server_id",
        "offset",
        "end_log_pos",
        "Xid",
        "pos_in_log",
        "Client",
        "Time",
        # Identifiers and bookkeeping set by the PostgreSQL reader and the live collectors.
        "pid",
        "thread_id",
        "calls",
        "mean_time",
        "toplevel",
        "queryid",
        "digest",
    }
)
# Per-class limit on distinct databases / users / hosts kept; the rest are counted as "(other)".
MAX_DISTINCT_STRINGS = 1000
ORDERS = ("total", "count", "p95")


_INT_BUCKETS: dict[int, int] = {}  # memo of whole-number buckets, bounded


def _bucket(value: float) -> int:
    if value < _MIN_BUCKET:
        return 0
    if not value < 1e300:  # inf (and nan): the readers refuse them, this keeps the arithmetic whole
        return _NUM_BUCKETS - 1
    idx = int(_BUCKET_OFFSET + math.log(value) / _LOG_BUCKET)
    return idx if idx < _NUM_BUCKETS else _NUM_BUCKETS - 1


def _first_value_of_bucket(k: int) -> float:
    """The smallest double whose _bucket is at least k: the formula's inverse, then a few ulps either way."""
    value = max(_MIN_BUCKET, math.exp((k - _BUCKET_OFFSET) * _LOG_BUCKET))
    while _bucket(value) < k:
        value = math.nextafter(value, math.inf)
    while value > _MIN_BUCKET and _bucket(below := math.nextafter(value, 0.0)) >= k:
        value = below
    return value


_BOUNDS: list[float] = []  # _BOUNDS[k - 1]: first value of bucket k; built on first use (~15 ms)


def _bucket_counts(values: list[float]) -> dict[int, int]:
    """How many values fall in each bucket: sort, then one bisect per bucket present, not per value.

    The bounds are found with _bucket itself, so the counts equal calling _bucket per value.
    """
    if not _BOUNDS:
        _BOUNDS.extend(_first_value_of_bucket(k) for k in range(1, _NUM_BUCKETS))
    ordered = sorted(values)
    counts: dict[int, int] = {}
    start, size, top = 0, len(ordered), len(_BOUNDS)
    while start < size:
        k = bisect_right(_BOUNDS, ordered[start])
        if k >= top:
            counts[k] = size - start
            break
        end = bisect_left(ordered, _BOUNDS[k], start)
        counts[k] = end - start
        start = end
    return counts


@dataclass(frozen=True)
class MetricStats:
    """Summary of one numeric attribute over a set of events."""

    count: int
    total: float
    min: float
    max: float
    avg: float
    p95: float
    median: float
    stddev: float


@dataclass(frozen=True)
class ClassStats:
    """Everything known about one query class (one fingerprint)."""

    fingerprint: str
    query_id: str
    count: int
    query_time: MetricStats
    lock_time: MetricStats
    rows_sent: MetricStats | None
    rows_examined: MetricStats | None
    query_size: MetricStats
    extra: tuple[tuple[str, MetricStats], ...]
    booleans: tuple[tuple[str, float], ...]  # (attribute, share of events where it was true)
    first_seen: datetime | None
    last_seen: datetime | None
    databases: tuple[tuple[str, int], ...]
    users: tuple[tuple[str, int], ...]
    hosts: tuple[tuple[str, int], ...]
    sample: SlowEvent  # the worst event: the (last) one with the highest query time
    histogram: tuple[int, ...]  # query-time counts in 8 decades: 1us, 10us, ... 1s, 10s+
    max_pos_in_log: int | None = None  # highest byte offset of the class's events (pt's tie-breaker)
    cut_events: int = 0  # events whose statement was cut to MAX_EVENT_BYTES before fingerprinting

    @property
    def variance_to_mean(self) -> float:
        """pt's V/M score: stddev squared over the mean of the query time."""
        avg = self.query_time.avg
        return (self.query_time.stddev**2) / avg if avg else 0.0


@dataclass(frozen=True)
class Aggregate:
    """The result of aggregating a log: overall metrics and the ranked classes."""

    events: int
    unique: int
    overall_query_time: MetricStats | None
    overall_lock_time: MetricStats | None
    overall_rows_sent: MetricStats | None
    overall_rows_examined: MetricStats | None
    overall_query_size: MetricStats | None
    overall_extra: tuple[tuple[str, MetricStats], ...]
    first_seen: datetime | None
    last_seen: datetime | None
    classes: tuple[ClassStats, ...]
    order_by: str
    cut_events: int = 0  # events whose statement was cut to MAX_EVENT_BYTES before fingerprinting


class _Metric:
    """Running count/sum/min/max and bucket histogram of one attribute."""

    __slots__ = ("cnt", "sum", "min", "max", "buckets")

    def __init__(self) -> None:
        self.cnt = 0
        self.sum = 0.0
        self.min = math.inf
        self.max = -math.inf
        self.buckets: dict[int, int] = {}

    def add(self, value: float) -> None:
        self.cnt += 1
        self.sum += value
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value
        if value < _MIN_BUCKET:
            idx = 0
        elif not value < 1e300:
            idx = _NUM_BUCKETS - 1
        else:
            idx = int(_BUCKET_OFFSET + _log(value) / _LOG_BUCKET)
            if idx >= _NUM_BUCKETS:
                idx = _NUM_BUCKETS - 1
        buckets = self.buckets
        buckets[idx] = buckets.get(idx, 0) + 1

    def add_batch(self, values: list[float]) -> None:
        """add() for each value in order, with the per-value work done in C (sums stay left to right)."""
        self.cnt += len(values)
        self.sum = reduce(add, values, self.sum)
        low, high = min(values), max(values)
        if low < self.min:
            self.min = low
        if high > self.max:
            self.max = high
        buckets = self.buckets
        for idx, n in _bucket_counts(values).items():
            buckets[idx] = buckets.get(idx, 0) + n

    def add_int(self, value: int) -> None:
        """add() for whole numbers (rows, sizes), whose bucket is looked up instead of computed."""
        self.cnt += 1
        self.sum += value
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value
        idx = _INT_BUCKETS.get(value)
        if idx is None:
            idx = _bucket(value)
            if len(_INT_BUCKETS) < 100_000:
                _INT_BUCKETS[value] = idx
        buckets = self.buckets
        buckets[idx] = buckets.get(idx, 0) + 1

    def add_many(self, total: float, calls: int) -> None:
        """Account `calls` executions known only by their total (collector rows): each gets the mean."""
        mean = total / calls
        self.cnt += calls
        self.sum += total
        if mean < self.min:
            self.min = mean
        if mean > self.max:
            self.max = mean
        idx = _bucket(mean)
        self.buckets[idx] = self.buckets.get(idx, 0) + calls

    def merge(self, other: _Metric) -> None:
        self.cnt += other.cnt
        self.sum += other.sum
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)
        for idx, n in other.buckets.items():
            self.buckets[idx] = self.buckets.get(idx, 0) + n

    def stats(self) -> MetricStats:
        p95, median, stddev = _distribution(self.cnt, self.min, self.max, self.buckets)
        return MetricStats(self.cnt, self.sum, self.min, self.max, self.sum / self.cnt, p95, median, stddev)


def _distribution(n: int, low: float, high: float, buckets: Mapping[int, int]) -> tuple[float, float, float]:
    """95th percentile, median and stddev the way pt-query-digest computes them from buckets."""
    if n == 1 or high == low:
        return high, high, 0.0
    if n == 2:
        mean = (low + high) / 2
        return high, mean, math.sqrt(((high - mean) ** 2) * 2)
    cutoff = int(n * 0.95) if n >= 10 else n
    above = n - cutoff
    left = n
    seen = 0
    mid = n // 2
    median = 0.0
    prev = _NUM_BUCKETS - 1
    top = 0
    total = squares = 0.0
    for idx in sorted(buckets, reverse=True):
        count = buckets[idx]
        left -= count
        seen += count
        if not top and seen > above:
            top = idx
        if not median and left <= mid:
            median = (
                _BUCKET_VALUES[idx]
                if (cutoff % 2 or count > 1)
                else (_BUCKET_VALUES[idx] + _BUCKET_VALUES[prev]) / 2
            )
        value = _BUCKET_VALUES[idx]
        total += count * value
        squares += (value * value) * count  # pt: ($bucket_val ** 2) * $val, in that order
        prev = idx
    variance = squares / n - (total / n) ** 2
    stddev = math.sqrt(variance) if variance > 0 else 0.0
    stddev = min(stddev, (high - low) / 2)
    return _BUCKET_VALUES[top], median, stddev


class _Class:
    """Running state of one query class."""

    __slots__ = (
        "fingerprint",
        "count",
        "qt",
        "lt",
        "rs",
        "re",
        "size",
        "extra",
        "bools",
        "first",
        "last",
        "dbs",
        "users",
        "hosts",
        "sample",
        "sample_qt",
        "max_pos",
        "cut",
        "pending",
    )

    def __init__(self, fingerprint: str) -> None:
        self.fingerprint = fingerprint
        self.count = 0
        self.qt = _Metric()
        self.lt = _Metric()
        self.rs = _Metric()
        self.re = _Metric()
        self.size = _Metric()
        self.extra: dict[str, _Metric] = {}
        self.bools: dict[str, list[int]] = {}  # name -> [true count, seen count]
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.dbs: dict[str, int] = {}
        self.users: dict[str, int] = {}
        self.hosts: dict[str, int] = {}
        self.sample: SlowEvent | EventRow | None = None  # a hot-path row until it is frozen
        self.sample_qt = -math.inf  # a logged time can be negative (clock steps); it still makes a sample
        self.max_pos: int | None = None
        self.cut = 0
        self.pending: list[EventRow] = []  # hot-path rows not yet accounted (see Aggregator.add_row)


def _count(counter: dict[str, int], key: str) -> None:
    if key in counter or len(counter) < MAX_DISTINCT_STRINGS:
        counter[key] = counter.get(key, 0) + 1
    else:
        counter["(other)"] = counter.get("(other)", 0) + 1


class Aggregator:
    """Feed events one at a time (`add`) and read ranked `ClassStats` at the end (`result`)."""

    def __init__(self, fingerprint: Callable[[str], str] | None = None) -> None:
        # One fingerprint for every event when given; by default pt's rules for MySQL events and a
        # PostgreSQL-aware one for PostgreSQL's (where '#' is an operator, not a comment).
        self._fixed = fingerprint
        self._pt = fingerprint if fingerprint is not None else PtFingerprinter()
        self._by_source = None if fingerprint is not None else SourceFingerprinter(self._pt)
        self._classes: dict[str, _Class] = {}
        self.rows = 0  # hot-path rows added with add_row
        self._pending = 0  # of those, rows still waiting in their class

    def _class_for(self, event: SlowEvent) -> _Class:
        fp = self._by_source(event) if self._by_source is not None else self._pt(event.query)
        cls = self._classes.get(fp)
        if cls is None:
            cls = self._classes[fp] = _Class(fp)
        return cls

    def add(self, event: SlowEvent) -> None:
        """Account one event to its class."""
        cls = self._class_for(event)
        if cls.pending:
            _flush_rows(cls)  # keep file order: earlier rows first
        _accumulate(cls, event)

    def add_all(self, events: Iterable[SlowEvent]) -> int:
        """Add every event of an iterable; returns how many were added."""
        n = 0
        add_one = self.add
        for event in events:
            add_one(event)
            n += 1
        return n

    def add_row(self, row: EventRow) -> None:
        """Account one MySQL hot-path row: the same result as add(event_from_row(row)).

        Rows wait in their class and are accounted a batch at a time, with the per-row work done
        in C (min, max, left-to-right sums, bucket counts), which made the digest twice as fast;
        at most _PENDING_ROWS rows wait in all, so memory stays bounded.
        """
        fp = self._pt(row[0])
        cls = self._classes.get(fp)
        if cls is None:
            cls = self._classes[fp] = _Class(fp)
        pending = cls.pending
        pending.append(row)
        self.rows += 1
        self._pending += 1
        if len(pending) >= _CLASS_BATCH:
            self._pending -= len(pending)
            _flush_rows(cls)
        elif self._pending >= _PENDING_ROWS:
            self.flush()

    def flush(self) -> None:
        """Account every waiting hot-path row (result, merge and pickling call this)."""
        for cls in self._classes.values():
            if cls.pending:
                _flush_rows(cls)
        self._pending = 0

    def __getstate__(self) -> dict[str, object]:
        self.flush()
        return self.__dict__

    def merge(self, other: Aggregator) -> None:
        """Fold in another aggregator's classes; `other` must hold the events that came later."""
        self.flush()
        other.flush()
        self.rows += other.rows
        for fp, theirs in other._classes.items():
            mine = self._classes.get(fp)
            if mine is None:
                self._classes[fp] = theirs
            else:
                _merge_class(mine, theirs)

    def result(self, order_by: str = "total", limit: int | None = None) -> Aggregate:
        """Rank the classes (by total time, count or p95 of query time) and freeze them."""
        if order_by not in ORDERS:
            raise UserError(f"unknown order {order_by!r}", f"use one of: {', '.join(ORDERS)}")
        self.flush()
        stats = [_freeze(c) for c in self._classes.values()]
        # pt's order: descending by the metric, ties by the class's highest byte offset
        # compared as text (pt's tiebreaker uses a string comparison).
        metric: dict[str, Callable[[ClassStats], float]] = {
            "total": lambda s: s.query_time.total,
            "count": lambda s: s.count,
            "p95": lambda s: s.query_time.p95,
        }
        pick = metric[order_by]
        stats.sort(
            key=lambda s: (pick(s), str(s.max_pos_in_log if s.max_pos_in_log is not None else "")),
            reverse=True,
        )
        if limit is not None:
            stats = stats[:limit]
        ov = _Class("")
        for cls in self._classes.values():
            _merge_class(ov, cls)
        has = ov.count > 0
        return Aggregate(
            events=ov.count,
            unique=len(self._classes),
            overall_query_time=ov.qt.stats() if ov.qt.cnt else None,
            overall_lock_time=ov.lt.stats() if ov.lt.cnt else None,
            overall_rows_sent=ov.rs.stats() if ov.rs.cnt else None,
            overall_rows_examined=ov.re.stats() if ov.re.cnt else None,
            overall_query_size=ov.size.stats() if has else None,
            overall_extra=tuple(sorted((k, m.stats()) for k, m in ov.extra.items())),
            first_seen=ov.first,
            last_seen=ov.last,
            classes=tuple(stats),
            order_by=order_by,
            cut_events=ov.cut,
        )


_CLASS_BATCH = 2048  # rows a class gathers before they are accounted
_PENDING_ROWS = 65_536  # rows waiting in all classes before every class is flushed (about 30 MB)
_QUERY, _QT, _LT, _RS, _RX, _TS, _USER, _HOST, _DB, _POS = (itemgetter(i) for i in range(10))
_USER_HOST = itemgetter(13)
_USER_HOSTS: dict[str, tuple[str, str | None]] = {}  # bounded memo of _user_and_host


def _user_and_host(user_host: str) -> tuple[str, str | None]:
    """'app[app] @ web-1 [10.0.0.1]' -> ('app', 'web-1'); the host is the address when no name was logged."""
    found = _USER_HOSTS.get(user_host)
    if found is None:
        user, _, rest = user_host.partition("[")
        name, _, address = rest.partition("] @ ")[2].rpartition(" [")
        found = (user, name or address[:-1] or None)
        if len(_USER_HOSTS) < 10_000:
            _USER_HOSTS[user_host] = found
    return found


def _flush_rows(cls: _Class) -> None:
    """Account a class's waiting rows, in order, exactly as _accumulate would one event at a time."""
    rows, cls.pending = cls.pending, []
    n = len(rows)
    cls.count += n
    qts = list(map(float, map(_QT, rows)))
    cls.qt.add_batch(qts)
    cls.lt.add_batch(list(map(float, map(_LT, rows))))
    cls.rs.add_batch(list(map(int, map(_RS, rows))))
    cls.re.add_batch(list(map(int, map(_RX, rows))))
    cls.size.add_batch(list(map(len, map(_QUERY, rows))))
    stamps = list(filter(None, map(_TS, rows)))
    if stamps:
        try:
            # Rows carry the usual ISO stamps as text of one fixed width, which sorts like the time.
            first, last = min(stamps), max(stamps)
        except TypeError:  # text and datetimes mixed (a log that changes its clock format)
            stamps = [as_datetime(stamp) for stamp in stamps]
            first, last = min(stamps), max(stamps)
        first, last = as_datetime(first), as_datetime(last)
        if first is not None and (cls.first is None or first < cls.first):
            cls.first = first
        if last is not None and (cls.last is None or last > cls.last):
            cls.last = last
    # Users and hosts are counted through the logged 'user[user] @ host [ip]' text (one count, not two),
    # then split in first-seen order, so the same values are admitted under MAX_DISTINCT_STRINGS.
    users: dict[str, int] = {}
    hosts: dict[str, int] = {}
    for user_host, k in Counter(map(_USER_HOST, rows)).items():
        user, host = _user_and_host(user_host)
        users[user] = users.get(user, 0) + k
        if host:
            hosts[host] = hosts.get(host, 0) + k
    dbs = Counter(map(_DB, rows))
    dbs.pop(None, None)
    _merge_counts(cls.dbs, dbs)
    _merge_counts(cls.users, users)
    _merge_counts(cls.hosts, hosts)
    far = max(map(_POS, rows))
    if cls.max_pos is None or far > cls.max_pos:
        cls.max_pos = far
    top = max(qts)
    if top >= cls.sample_qt:
        # The last row with the highest time, as one-at-a-time `>=` would keep.
        cls.sample = rows[n - 1 - qts[::-1].index(top)]
        cls.sample_qt = top


def _accumulate_calls(cls: _Class, event: SlowEvent, calls: int) -> None:
    """A collector event stands for `calls` executions; totals are spread evenly over them."""
    cls.count += calls
    cls.qt.add_many(event.query_time, calls)
    cls.lt.add_many(event.lock_time, calls)
    if event.rows_sent is not None:
        cls.rs.add_many(event.rows_sent, calls)
    if event.rows_examined is not None:
        cls.re.add_many(event.rows_examined, calls)
    cls.size.add_many(_size(event) * calls, calls)


def _accumulate(cls: _Class, event: SlowEvent) -> None:
    attributes = event.attributes
    calls = attributes.get("calls") if attributes else None
    if calls is not None and isinstance(calls, int) and calls > 1:
        _accumulate_calls(cls, event, calls)
        _accumulate_common(cls, event, event.query_time / calls)
        return
    cls.count += 1
    qt = event.query_time
    cls.qt.add(qt)
    cls.lt.add(event.lock_time)
    # Like pt's default --zero-admin: a connection's Quit/Ping "rows" are not work done.
    admin = bool(attributes) and attributes.get("cmd") == "Admin"
    if event.rows_sent is not None:
        cls.rs.add_int(0 if admin else event.rows_sent)
    if event.rows_examined is not None:
        cls.re.add_int(0 if admin else event.rows_examined)
    cls.size.add_int(_size(event))
    _accumulate_common(cls, event, qt, admin)


def _size(event: SlowEvent) -> int:
    """pt's Query size: the logged statement's length (also when only its head was kept)."""
    if event.cut_from is not None:
        return event.cut_from
    return 0 if event.query == NO_QUERY else len(event.query)


def _accumulate_common(cls: _Class, event: SlowEvent, qt: float, admin: bool = False) -> None:  # noqa: C901 - one accumulation per attribute pt-query-digest reports, kept in its order
    """Attributes, time range, strings and the worst sample (shared by single and collector events)."""
    attributes = event.attributes
    if attributes:
        for key, value in attributes.items():
            if key in IGNORED_ATTRIBUTES:
                continue
            if admin and key.startswith("Rows_"):
                value = 0
            if value is True or value is False:
                pair = cls.bools.get(key)
                if pair is None:
                    pair = cls.bools[key] = [0, 0]
                pair[0] += value
                pair[1] += 1
            elif isinstance(value, int | float):
                metric = cls.extra.get(key)
                if metric is None:
                    metric = cls.extra[key] = _Metric()
                metric.add(value)
    ts = event.ts
    if ts is not None:
        if cls.first is None or ts < cls.first:
            cls.first = ts
        if cls.last is None or ts > cls.last:
            cls.last = ts
    if event.db:
        _count(cls.dbs, event.db)
    if event.user:
        _count(cls.users, event.user)
    if event.host:
        _count(cls.hosts, event.host)
    pos = event.pos_in_log
    if pos is not None and (cls.max_pos is None or pos > cls.max_pos):
        cls.max_pos = pos
    if event.cut_from is not None:
        cls.cut += 1
    if qt >= cls.sample_qt:
        cls.sample = event
        cls.sample_qt = qt


def _merge_counts(mine: dict[str, int], theirs: dict[str, int]) -> None:
    for key, n in theirs.items():
        if key in mine or len(mine) < MAX_DISTINCT_STRINGS:
            mine[key] = mine.get(key, 0) + n
        else:
            mine["(other)"] = mine.get("(other)", 0) + n


def _merge_class(mine: _Class, theirs: _Class) -> None:
    """Add `theirs` (later events) into `mine`."""
    mine.count += theirs.count
    mine.cut += theirs.cut
    for name in ("qt", "lt", "rs", "re", "size"):
        getattr(mine, name).merge(getattr(theirs, name))
    for key, metric in theirs.extra.items():
        mine.extra.setdefault(key, _Metric()).merge(metric)
    for key, (true, seen) in theirs.bools.items():
        pair = mine.bools.setdefault(key, [0, 0])
        pair[0] += true
        pair[1] += seen
    if theirs.first is not None and (mine.first is None or theirs.first < mine.first):
        mine.first = theirs.first
    if theirs.last is not None and (mine.last is None or theirs.last > mine.last):
        mine.last = theirs.last
    _merge_counts(mine.dbs, theirs.dbs)
    _merge_counts(mine.users, theirs.users)
    _merge_counts(mine.hosts, theirs.hosts)
    if theirs.max_pos is not None and (mine.max_pos is None or theirs.max_pos > mine.max_pos):
        mine.max_pos = theirs.max_pos
    if theirs.sample is not None and theirs.sample_qt >= mine.sample_qt:
        mine.sample = theirs.sample
        mine.sample_qt = theirs.sample_qt


def _ranked(counter: dict[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def _histogram(buckets: Mapping[int, int]) -> tuple[int, ...]:
    decades = [0] * 8
    for idx, n in buckets.items():
        value = _BUCKET_VALUES[idx]
        decade = int(6 + math.log10(value)) if value > 0 else 0
        decades[max(0, min(7, decade))] += n
    return tuple(decades)


def _freeze(cls: _Class) -> ClassStats:
    if cls.sample is None:  # a class exists only once an event was added
        raise InternalError(f"query class {cls.fingerprint[:60]!r} has no sample event")
    if isinstance(cls.sample, tuple):
        cls.sample = event_from_row(cls.sample)
    return ClassStats(
        fingerprint=cls.fingerprint,
        query_id=query_id(cls.fingerprint),
        count=cls.count,
        query_time=cls.qt.stats(),
        lock_time=cls.lt.stats(),
        rows_sent=cls.rs.stats() if cls.rs.cnt else None,
        rows_examined=cls.re.stats() if cls.re.cnt else None,
        query_size=cls.size.stats(),
        extra=tuple(sorted((k, m.stats()) for k, m in cls.extra.items())),
        booleans=tuple(sorted((k, t / n) for k, (t, n) in cls.bools.items())),
        first_seen=cls.first,
        last_seen=cls.last,
        databases=_ranked(cls.dbs),
        users=_ranked(cls.users),
        hosts=_ranked(cls.hosts),
        sample=cls.sample,
        histogram=_histogram(cls.qt.buckets),
        max_pos_in_log=cls.max_pos,
        cut_events=cls.cut,
    )


def aggregate(
    events: Iterable[SlowEvent],
    order_by: str = "total",
    limit: int | None = None,
    fingerprint: Callable[[str], str] | None = None,
) -> Aggregate:
    """Aggregate an iterable of events into ranked query classes in one streaming pass."""
    agg = Aggregator(fingerprint)
    agg.add_all(events)
    return agg.result(order_by=order_by, limit=limit)
