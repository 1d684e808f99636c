"""Learning with review: feedback becomes proposals, and only an admin's acceptance changes answers for everyone.

- 👍 on an answer (Ask page, `%%ask`, `datatruth feedback right`) by an analyst or admin proposes the question
  with its plan as a verified question; choosing a "did you mean" proposes a synonym
  (datatruth.store.feedback.confirm_choice). A viewer's feedback is recorded and proposes nothing.
- A proposal applies at once to its proposer's own later questions (their planner reads their open synonyms,
  the verified matcher their open questions), and to nobody else's.
- An admin accepts or rejects. An accepted synonym goes to the workspace's learned synonyms; an accepted verified
  question, phrasing or description is written into the semantic model files as a new, validated version.

Every step is audited (teach.propose, teach.accept, teach.reject, semantic saves, feedback.*).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from datatruth import access, resources
from datatruth.errors import NotFound, PermissionDenied, UserError, present
from datatruth.semantic.plan import QueryPlan
from datatruth.store import feedback, history, proposals
from datatruth.store.engine import Store
from datatruth.store.proposals import Proposal
from datatruth.workspace.registry import Workspace


@dataclass(frozen=True)
class Marked:
    """What a 👍 or 👎 did: always recorded; a proposal when the user may teach and the answer had a plan."""

    feedback_id: int
    proposal: Proposal | None = None
    already_verified: bool = False

    @property
    def message(self) -> str:
        """What to tell the person who clicked."""
        if self.proposal is not None:
            return (
                "Thanks — proposed as a verified question. It answers your own similar questions now, and "
                "everyone's once an admin accepts it."
            )
        if self.already_verified:
            return "Thanks — recorded; this answer already comes from a verified question."
        return "Thanks — recorded."


def _own_entry(store: Store, ws: Workspace, user: str, history_id: int) -> history.HistoryEntry:
    entry = history.get(store, ws.name, history_id)
    if entry is None:
        raise NotFound(
            f"question #{history_id} is not in the history of '{ws.name}'",
            "see your questions with `datatruth ask` or on the Ask page",
        )
    if entry.username != user and not access.can(store, ws.name, user, "review_teaching"):
        raise PermissionDenied(
            f"question #{history_id} was asked by someone else",
            "mark your own answers; admins may mark anyone's",
        )
    return entry


def clean_plan(plan: dict[str, Any]) -> dict[str, Any]:
    """A stored plan as it is written into a model file: without evidence or empty parts."""
    out = {k: v for k, v in plan.items() if k != "evidence" and v not in (None, [], {}, "")}
    if isinstance(out.get("time_range"), dict):
        out["time_range"] = {k: v for k, v in out["time_range"].items() if v not in (None, "")}
    QueryPlan.from_dict(out)  # a plan that does not read back is never proposed
    return out


def mark_right(ws: Workspace, store: Store, user: str, history_id: int) -> Marked:
    """👍: record it; an analyst's or admin's answered question with a plan becomes a verified-question proposal."""
    access.require(store, ws.name, user, "ask")
    entry = _own_entry(store, ws, user, history_id)
    fid = feedback.record_feedback(store, ws.name, user, "right", history_id=history_id)
    if entry.error or not entry.plan or not access.can(store, ws.name, user, "teach"):
        return Marked(fid)
    if any(isinstance(e, dict) and e.get("method") == "verified" for e in entry.plan.get("evidence") or ()):
        return Marked(fid, already_verified=True)  # a paraphrase of a verified question adds nothing new
    payload = {"question": entry.question, "plan": clean_plan(dict(entry.plan))}
    return Marked(
        fid, proposals.add(store, ws.name, user, "verified_question", payload, "right", history_id=history_id)
    )


def mark_wrong(ws: Workspace, store: Store, user: str, history_id: int, comment: str = "") -> Marked:
    """👎: record it (it shows in the admins' suggestions view); nothing changes for anyone."""
    access.require(store, ws.name, user, "ask")
    _own_entry(store, ws, user, history_id)
    return Marked(
        feedback.record_feedback(
            store, ws.name, user, "wrong", history_id=history_id, comment=comment or None
        )
    )


def last_answer(store: Store, ws: Workspace, user: str) -> int:
    """The id of the user's latest question in the history (for `datatruth feedback right` without an id)."""
    entries = history.recent(store, ws.name, user, limit=1)
    if not entries:
        raise NotFound(f"'{user}' has asked nothing in '{ws.name}' yet", 'ask first: datatruth ask "…"')
    return entries[0].id


def propose(
    ws: Workspace, store: Store, user: str, kind: str, payload: dict[str, Any], source: str
) -> Proposal:
    """An analyst or admin proposes something to teach the workspace (checked for names before it is kept)."""
    access.require(store, ws.name, user, "teach")
    check_payload(ws, store, kind, payload)
    return proposals.add(store, ws.name, user, kind, payload, source)


def check_payload(ws: Workspace, store: Store, kind: str, payload: dict[str, Any]) -> None:
    """Refuse a proposal that names what the model lacks or whose plan does not compile."""
    from datatruth.ask.pipeline import workspace_resources
    from datatruth.semantic.compiler import compile_plan

    layer = present(workspace_resources(ws, store).layer, "the semantic layer")
    if kind == "synonym":
        target, target_kind = str(payload.get("target", "")), payload.get("target_kind")
        known = (
            layer.has_metric(target)
            if target_kind == "metric"
            else (layer.has_dimension(target) if target_kind == "dimension" else False)
        )
        if not str(payload.get("term", "")).strip() or not known:
            raise UserError(
                f"'{target}' is not a {target_kind} of the model", "pick a metric or dimension it has"
            )
    elif kind == "verified_question":
        if not str(payload.get("question", "")).strip():
            raise UserError("a verified question needs its words")
        compile_plan(QueryPlan.from_dict(dict(payload.get("plan") or {})), layer, ws.warehouse.dialect)
    elif kind == "description":
        if (
            not layer.has_metric(str(payload.get("target", "")))
            or not str(payload.get("description", "")).strip()
        ):
            raise UserError(
                f"'{payload.get('target')}' is not a metric of the model, or the description is empty"
            )
    elif kind == "phrasing":
        import yaml

        from datatruth.semantic.versions import layer_of

        # the structure here; the names it uses are checked against the model when it is accepted and saved
        layer_of({"check.yaml": yaml.safe_dump({"phrasings": [payload]}, sort_keys=False)})


def accept(ws: Workspace, store: Store, admin: str, proposal_id: int) -> str:
    """Admins: apply a proposal for everyone (synonyms to the learned synonyms, the rest into the model files as a
    new version); returns what changed, in words."""
    access.require(store, ws.name, admin, "review_teaching")
    p = proposals.get(store, ws.name, proposal_id)
    if p.status != "proposed":
        raise UserError(f"proposal #{p.id} is already {p.status}", "reload the list of proposals")
    done = _apply(ws, store, admin, p)
    proposals.decide(store, ws.name, p.id, admin, "accepted")
    resources.invalidate(ws.name)  # the next question reads the new model and synonyms
    return done


def reject(ws: Workspace, store: Store, admin: str, proposal_id: int, note: str = "") -> None:
    """Admins: close a proposal without applying it (it stops affecting its proposer's questions too)."""
    access.require(store, ws.name, admin, "review_teaching")
    proposals.decide(store, ws.name, proposal_id, admin, "rejected", note)


def teach_now(
    ws: Workspace, store: Store, admin: str, kind: str, payload: dict[str, Any], source: str = "suggestion"
) -> str:
    """Admins: propose and accept in one step (the suggestions view's actions); both steps are audited."""
    access.require(store, ws.name, admin, "review_teaching")
    return accept(ws, store, admin, propose(ws, store, admin, kind, payload, source).id)


def _apply(ws: Workspace, store: Store, admin: str, p: Proposal) -> str:
    from datatruth.semantic import versions
    from datatruth.semantic.additions import append_entry

    data = p.payload
    if p.kind == "synonym":
        feedback.learn_synonym(
            store,
            ws.name,
            admin,
            str(data["term"]),
            str(data["target_kind"]),
            str(data["target"]),
            taught_by=p.proposer,
        )
        return f"'{data['term']}' now means {data['target']} for everyone"
    files = versions.files_on_disk(ws)
    if p.kind == "verified_question":
        layer = versions.layer_of(files)
        wanted = " ".join(str(data["question"]).lower().split())
        if any(" ".join(q.question.lower().split()) == wanted for q in layer.verified_questions):
            raise UserError(
                f'"{data["question"]}" is already a verified question of the model',
                "reject this proposal, or edit the existing entry in the Edit tab",
            )
        entry = {
            "question": data["question"],
            "plan": clean_plan(dict(data["plan"])),
            "verified_by": p.proposer,
            "verified_at": p.created_at.date() if isinstance(p.created_at, dt.datetime) else p.created_at,
        }
        changed = append_entry(files, "verified_questions", entry)
        message = f"verified question #{p.id} by {p.proposer}: {data['question']}"[:200]
    elif p.kind == "phrasing":
        changed = append_entry(files, "phrasings", data)
        message = f"phrasing #{p.id}: {', '.join(map(str, data.get('words', [])))}"[:200]
    elif p.kind == "description":
        layer = versions.layer_of(files)
        metric = layer.metric(str(data["target"]))
        changed = versions.edit_metric(
            files,
            metric.name,
            description=str(data["description"]),
            synonyms=list(metric.synonyms),
            format=metric.format,
        )
        message = f"description #{p.id} of {metric.name}"
    else:
        raise UserError(f"proposal #{p.id} has an unknown kind '{p.kind}'")
    saved = versions.save_model(ws, store, changed, admin, message)
    return f"saved into the semantic model as version {saved.version}"
