"""IPython magics: parse arguments, make one core call, display the result; errors become UsageError."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from functools import wraps
from typing import Any

import pandas as pd
from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

from datatruth.errors import PlanningError, UserError
from datatruth.notebook import display as show
from datatruth.notebook.session import KernelSession


def _user_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a UserError into IPython's UsageError (message + hint, no traceback)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UserError as err:
            raise UsageError(err.render()) from None

    return wrapper


@magics_class
class DataTruthMagics(Magics):
    """%dt_workspace, %%ask / %ask, %%dt_sql, %dt_quality, %dt_incidents, %dt_slowlog."""

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.session = KernelSession()

    # -- workspace ----------------------------------------------------------------------------------

    @line_magic
    @_user_errors
    def dt_workspace(self, line: str) -> str:
        """%dt_workspace [NAME]: show or select the workspace used by the other magics."""
        name = line.strip()
        if name:
            self.session.workspace(name)
            self.session.workspace_name = name
        ws = self.session.workspace()
        print(f"workspace: {ws.name} — {ws.config.title} (acting as {self.session.user})")
        from datatruth.ask.pipeline import workspace_resources
        from datatruth.ask.verified import onboarding_questions

        starters = onboarding_questions(workspace_resources(ws, self.session.store).layer)
        if starters:
            print("questions to start with (checked by the workspace's owners):")
            for starter in starters:
                print(f"  %ask {starter}")
        return ws.name

    @line_magic
    @_user_errors
    def dt_login(self, line: str) -> None:
        """%dt_login USER: act as a workspace member (a local kernel needs no login; roles still apply)."""
        user = line.strip()
        if not user:
            raise UsageError("usage: %dt_login USER")
        from datatruth import access

        access.require(self.session.store, self.session.workspace().name, user, "read")
        self.session.user = user
        print(f"acting as {user}")

    # -- ask ------------------------------------------------------------------------------------------

    @magic_arguments()
    @argument(
        "-w", "--workspace", default=None, help="workspace (default: the one chosen with %%dt_workspace)"
    )
    @argument("-o", "--output", default=None, help="also store the DataFrame in this variable")
    @argument("--sql", action="store_true", help="show the SQL expanded")
    @argument("--plan", action="store_true", help="show the plan expanded")
    @argument("--no-chart", action="store_true", help="do not draw the chart")
    @argument("--refresh", action="store_true", help="bypass the result cache")
    @argument("--pin", default=None, metavar="DASHBOARD", help="pin the answer to this dashboard")
    @argument("question", nargs="*", help="the question (line magic form)")
    @line_cell_magic
    @_user_errors
    def ask(self, line: str, cell: str | None = None) -> pd.DataFrame | None:
        """%%ask [-w WS] [-o VAR] [--sql] [--no-chart] [--plan] [--refresh]: the cell body is the question."""
        args = parse_argstring(self.ask, line)
        question = (cell if cell is not None else " ".join(args.question)).strip()
        if not question:
            raise UsageError("write the question in the cell body (or after %ask)")
        return self._ask(question, args)

    def _ask(self, question: str, args: Any) -> pd.DataFrame | None:
        from datatruth.ask.pipeline import ask, learnable_choice, suggestion_kind
        from datatruth.store.feedback import confirm_choice
        from datatruth.teach import review

        s = self.session
        ws = s.workspace(args.workspace)
        try:
            answer = ask(
                ws,
                question,
                user=s.user,
                store=s.store,
                session_id=s.session_id,
                previous=s.previous.get(ws.name),
                refresh=args.refresh,
            )
        except PlanningError as err:
            problem = err

            def pick(option: str) -> None:
                # a choice is a whole question; when it only swaps the unplaced word for a name, that word is
                # learned as a synonym of the name
                term = problem.unmatched[0] if len(problem.unmatched) == 1 else ""
                if option in problem.choices:
                    learned = learnable_choice(ws, s.store, question, term, option)
                    if learned is not None:
                        confirm_choice(s.store, ws.name, s.user, term, learned[0], learned[1])
                    self._ask(option, args)
                elif term:
                    kind = suggestion_kind(ws, s.store, option)
                    confirm_choice(s.store, ws.name, s.user, term, kind, option)
                    self._ask(question.replace(term, option), args)
                else:
                    self._ask(f"{question} {option}", args)

            show.suggestion_buttons(problem, pick)
            return None
        if answer.plan is not None:
            s.previous[ws.name] = answer.plan
        show.show_answer(answer, chart=not args.no_chart, sql=args.sql, plan=args.plan)
        if answer.history_id is not None:
            entry = answer.history_id
            show.feedback_buttons(
                lambda kind: (
                    (
                        review.mark_right(ws, s.store, s.user, entry)
                        if kind == "right"
                        else review.mark_wrong(ws, s.store, s.user, entry)
                    ).message
                )
            )
        if args.output:
            # IPython sets the shell before it calls a magic
            assert self.shell is not None  # narrows the type only
            self.shell.user_ns[args.output] = answer.frame
        if getattr(args, "pin", None) and answer.plan is not None:
            from datatruth.dashboards.service import pin_answer

            pinned = pin_answer(s.store, ws, s.user, args.pin, question, question, answer.plan)
            print(
                f"pinned to dashboard '{args.pin}'"
                if pinned.added
                else f"already on dashboard '{args.pin}' as '{pinned.tile.title}'; not added twice"
            )
        return answer.frame

    @magic_arguments()
    @argument("-w", "--workspace", default=None, help="workspace")
    @argument("-o", "--output", default=None, help="also store the DataFrame in this variable")
    @argument("--refresh", action="store_true", help="bypass the result cache")
    @cell_magic
    @_user_errors
    def dt_sql(self, line: str, cell: str) -> pd.DataFrame:
        """%%dt_sql [-w WS] [-o VAR]: run analyst SQL through the guard, limits and cache."""
        from datatruth.ask.pipeline import run_sql

        args = parse_argstring(self.dt_sql, line)
        s = self.session
        answer = run_sql(s.workspace(args.workspace), cell, user=s.user, store=s.store, refresh=args.refresh)
        show.show_answer(answer, chart=False)
        if args.output:
            # IPython sets the shell before it calls a magic
            assert self.shell is not None  # narrows the type only
            self.shell.user_ns[args.output] = answer.frame
        return answer.frame

    # -- reports ----------------------------------------------------------------------------------------

    @line_magic
    @_user_errors
    def dt_quality(self, line: str) -> pd.DataFrame:
        """%dt_quality TABLE [-w WS]: profile a table in the warehouse and show its quality scores."""
        from datatruth.notebook.reports import quality_report

        parts = shlex.split(line)
        ws_name = _option(parts, "-w")
        if not parts:
            raise UsageError("usage: %dt_quality TABLE [-w WORKSPACE]")
        return quality_report(self.session.workspace(ws_name), parts[0])

    @line_magic
    @_user_errors
    def dt_incidents(self, line: str) -> pd.DataFrame:
        """%dt_incidents [-w WS] [--status S]: the incident board as a table."""
        from datatruth.notebook.reports import incidents_table

        parts = shlex.split(line)
        ws = self.session.workspace(_option(parts, "-w"))
        frame = incidents_table(self.session.store, ws.name, _option(parts, "--status"))
        if frame.empty:
            print("No incidents. Run `datatruth quality run -w WORKSPACE` to check the data.")
        return frame

    @line_magic
    @_user_errors
    def dt_slowlog(self, line: str) -> pd.DataFrame:
        """%dt_slowlog FILE [--limit N]: analyse a MySQL or PostgreSQL slow log and rank query classes."""
        from datatruth.notebook.reports import slowlog_table

        parts = shlex.split(line)
        limit = int(_option(parts, "--limit") or 20)
        if not parts:
            raise UsageError("usage: %dt_slowlog FILE [--limit N]")
        return slowlog_table(parts[0], limit)


def _option(parts: list[str], flag: str) -> str | None:
    """Pop `flag VALUE` out of a token list."""
    if flag in parts:
        i = parts.index(flag)
        if i + 1 >= len(parts):
            raise UsageError(f"{flag} needs a value")
        value = parts[i + 1]
        del parts[i : i + 2]
        return value
    return None


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics with a shell (called by `%load_ext datatruth`), and give plotly figures a PNG
    beside their interactive form so that exported notebooks (nbconvert HTML) keep their charts."""
    from datatruth import logs
    from datatruth.settings import load_settings

    try:
        logs.configure(load_settings().log_level)
    except UserError as err:
        raise UsageError(err.render()) from None
    ipython.register_magics(DataTruthMagics)
    from datatruth.notebook.display import register_static_fallback

    register_static_fallback(ipython)


__all__ = ["DataTruthMagics", "display", "load_ipython_extension"]
