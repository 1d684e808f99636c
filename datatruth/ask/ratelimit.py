"""Questions per user per hour, counted from the question history (so every process sees the same count).

Questions and raw SQL runs share the quota: every run that reaches the planner or the guard counts, whether
it succeeds or fails; a run refused before (no permission, empty, quota used up) does not.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from datatruth.errors import RateLimited
from datatruth.store import history
from datatruth.store.engine import Store, utcnow
from datatruth.workspace.config import Limits

WINDOW = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Quota:
    """How much of the hourly allowance a user has used."""

    limit: int
    used: int
    resets_in_s: float  # seconds until the oldest counted question leaves the window (0 when none)

    @property
    def remaining(self) -> int:
        """Questions left in the current window."""
        return max(self.limit - self.used, 0)


def limit_for(limits: Limits, user: str) -> int:
    """The hourly allowance of `user`: the upper tier's when listed there."""
    return (
        limits.upper_tier_questions_per_hour
        if user in limits.upper_tier_users
        else limits.questions_per_user_per_hour
    )


def quota(store: Store, workspace: str, limits: Limits, user: str, now: dt.datetime | None = None) -> Quota:
    """The user's usage in the sliding hour that ends now."""
    now = now or utcnow()
    used, oldest = history.count_since(store, workspace, user, now - WINDOW)
    resets = max((oldest + WINDOW - now).total_seconds(), 0.0) if oldest is not None else 0.0
    return Quota(limit_for(limits, user), used, resets)


def check(store: Store, workspace: str, limits: Limits, user: str, now: dt.datetime | None = None) -> Quota:
    """Raise RateLimited (saying when the window frees up) when the user has no question left this hour.

    Only a look: two processes may both pass it. To take a question from the quota use `take`.
    """
    q = quota(store, workspace, limits, user, now)
    if q.remaining <= 0:
        raise _limited(q)
    return q


def take(
    store: Store, workspace: str, limits: Limits, user: str, question: str, *, session_id: str = ""
) -> tuple[int, Quota]:
    """Take one question from the user's hourly quota and record it in the history, atomically.

    Returns the history entry (to complete with the outcome) and the quota before it; RateLimited when none
    is left. Check and record are one serialised step, so concurrent processes cannot exceed the limit.
    """
    now = utcnow()
    limit = limit_for(limits, user)
    entry, used, oldest = history.reserve(
        store, workspace, user, question, limit=limit, since=now - WINDOW, session_id=session_id
    )
    resets = max((oldest + WINDOW - now).total_seconds(), 0.0) if oldest is not None else 0.0
    q = Quota(limit, used, resets)
    if entry is None:
        raise _limited(q)
    return entry, q


def _limited(q: Quota) -> RateLimited:
    return RateLimited(
        f"you have asked {q.used} questions in the last hour, the limit in this workspace is "
        f"{q.limit}; try again in {_duration(q.resets_in_s)}",
        "ask a workspace admin to add you to limits.upper_tier_users if you need more",
    )


def _duration(seconds: float) -> str:
    seconds = max(int(round(seconds)), 1)
    minutes, secs = divmod(seconds, 60)
    if minutes == 0:
        return f"{secs} s"
    return f"{minutes} min {secs} s" if secs else f"{minutes} min"
