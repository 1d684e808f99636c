"""One exception tree: a UserError is for people; an InternalError (or anything else) is a bug."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


class UserError(Exception):
    """A problem the user can fix: carries a message and a hint saying what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def render(self) -> str:
        """Return the message and hint as one human-readable block."""
        return f"{self.message}\nHint: {self.hint}" if self.hint else self.message


class ConfigError(UserError):
    """A workspace, model or checks file is invalid; `issues` lists every problem found."""

    def __init__(self, message: str, hint: str = "", issues: list | None = None) -> None:
        super().__init__(message, hint)
        self.issues = list(issues or [])

    def render(self) -> str:
        """Return the message followed by one line per issue."""
        lines = [self.message]
        lines += [f"  - {issue}" for issue in self.issues]
        if self.hint:
            lines.append(f"Hint: {self.hint}")
        return "\n".join(lines)


class NotFound(UserError):
    """A named thing (workspace, metric, incident, file) does not exist."""


class PermissionDenied(UserError):
    """The current user's role does not allow this action."""


class RateLimited(UserError):
    """The user has used up their question quota for this hour."""


class GuardRejected(UserError):
    """The SQL guard refused a statement; the message says why."""


class PlanningError(UserError):
    """A question could not be turned into a plan: `suggestions` lists nearby names, `unmatched` the words that
    could not be placed, `interpretation` what was understood so far, and `choices` questions that can be
    answered instead (each one was planned before it was offered)."""

    def __init__(
        self,
        message: str,
        hint: str = "",
        suggestions: list[str] | None = None,
        unmatched: list[str] | None = None,
        interpretation: str = "",
        choices: list[str] | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.suggestions = list(suggestions or [])
        self.unmatched = list(unmatched or [])
        self.interpretation = interpretation
        self.choices = list(choices or [])


class WarehouseError(UserError):
    """The warehouse could not be reached or a query failed there."""


class QueryTimeout(WarehouseError):
    """A query ran past the workspace timeout and was interrupted."""


class LogFormatError(UserError):
    """A log file could not be read (partially or at all)."""


class InternalError(RuntimeError):
    """A state the code relies on does not hold: a bug to report, never a problem the user can fix.

    Raised where an `assert` used to stand: `python -O` strips asserts, and an invariant that stops holding
    must still stop the request with a message rather than fail later with a confusing one.
    """


def present(value: T | None, what: str) -> T:
    """`value` when it is not None; InternalError saying that `what` is missing otherwise."""
    if value is None:
        raise InternalError(f"{what} is missing (a bug: please report it)")
    return value
