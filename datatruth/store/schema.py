"""Table definitions of the metadata store (SQLAlchemy Core). Every row carries its workspace."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData()


def _ts(name: str, **kw: Any) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=False), **kw)


users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(80), nullable=False, unique=True),
    sa.Column("display_name", sa.String(200), nullable=False, default=""),
    sa.Column("email", sa.String(200), nullable=True),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    _ts("created_at", nullable=False),
)

memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace", sa.String(80), nullable=False, index=True),
    sa.Column("username", sa.String(80), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("incident_role", sa.String(20), nullable=False, default="viewer"),
    _ts("created_at", nullable=False),
    sa.UniqueConstraint("workspace", "username", name="uq_membership"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace", sa.String(80), nullable=False, index=True),
    sa.Column("username", sa.String(80), nullable=False),
    sa.Column("action", sa.String(60), nullable=False),
    sa.Column("target", sa.String(400), nullable=False, default=""),
    sa.Column("detail", sa.JSON, nullable=True),
    _ts("at", nullable=False, index=True),
)

question_history = sa.Table(
    "question_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace", sa.String(80), nullable=False, index=True),
    sa.Column("username", sa.String(80), nullable=False),
    sa.Column("session_id", sa.String(80), nullable=False, default=""),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("sql", sa.Text, nullable=True),
    sa.Column("plan", sa.JSON, nullable=True),
    sa.Column("model_version", sa.String(80), nullable=True),
    sa.Column("row_count", sa.Integer, nullable=True),
    sa.Column("elapsed_ms", sa.Float, nullable=True),
    sa.Column("cached", sa.Boolean, nullable=False, default=False),
    sa.Column("error", sa.Text, nullable=True),
    _ts("at", nullable=False, index=True),
)

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace", sa.String(80), nullable=False, index=True),
    sa.Column("username", sa.String(80), nullable=False),
    sa.Column("history_id", sa.Integer, nullable=True),
    sa.Column("kind", sa.String(30), nullable=False),  # right | wrong | synonym
    sa.Column("term", sa.String(200), nullable=True),
    sa.Column("target", sa.String(200), nullable=True),
    sa.Column("comment", sa.Text, nullable=True),
    _ts("at", nullable=False),
)

learned_synonyms = sa.Table(
    "learned_synonyms",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace", sa.String(80), nullable=False, index=True),
    sa.Column("term", sa.String(200), nullable=False),
    sa.Column("target_kind", sa.String(20), nullable=False),  # metric | dimension | value
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("username", sa.String(80), nullable=False),
    _ts("at", nullable=False),
    sa.UniqueConstraint("workspace", "term", name="uq_synonym"),
)

verified_questions = sa.Table(
    "verified_questions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace", sa.String(80), nullable=False, index=True),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("plan", sa.JSON, nullable=True),
    sa.Column("sql", sa.Text, nullable=True),
    sa.Column("username", sa.String(80), nullable=False),
    _ts("at", nullable=False),
)

# What people (or the workspace's LLM, on an admin's request) propose to teach a workspace: a synonym, a verified
# question, a phrasing or a description. A proposal changes only its proposer's own questions until an admin
# accepts it; then it changes everyone's (synonyms in learned_synonyms, the rest in the semantic model files).
proposals = sa.Table(
    "proposals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace", sa.String(80), nullable=False, index=True),
    sa.Column("kind", sa.String(30), nullable=False),  # synonym | verified_question | phrasing | description
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("proposer", sa.String(80), nullable=False),
    sa.Column("source", sa.String(20), nullable=False),  # right | choice | suggestion | llm
    sa.Column("status", sa.String(20), nullable=False, index=True),  # proposed | accepted | rejected
    sa.Column("history_id", sa.Integer, nullable=True),
    sa.Column("decided_by", sa.String(80), nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    _ts("created_at", nullable=False),
    _ts("decided_at", nullable=True),
)

semantic_versions = sa.Table(
    "semantic_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace", sa.String(80), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("author", sa.String(80), nullable=False),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("files", sa.JSON, nullable=False),  # {relative path: YAML text}
    sa.Column("checksum", sa.String(64), nullable=False),
    _ts("created_at", nullable=False),
    sa.UniqueConstraint("workspace", "version", name="uq_semantic_version"),
)

check_runs = sa.Table(
    "check_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace", sa.String(80), nullable=False, index=True),
    sa.Column("run_id", sa.String(40), nullable=False, index=True),
    sa.Column("check_name", sa.String(200), nullable=False),
    sa.Column("check_type", sa.String(40), nullable=False),
    sa.Column("table_name", sa.String(200), nullable=True),
    sa.Column("column_name", sa.String(200), nullable=True),
    sa.Column("status", sa.String(12), nullable=False),  # pass | fail | error
    sa.Column("severity", sa.String(12), nullable=False),
    sa.Column("metric_value", sa.Float, nullable=True),
    sa.Column("threshold", sa.String(200), nullable=True),
    sa.Column("detail", sa.JSON, nullable=True),
    _ts("started_at", nullable=False),
    _ts("finished_at", nullable=True),
)

schema_versions = sa.Table(
    "schema_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace", sa.String(80), nullable=False, index=True),
    sa.Column("table_name", sa.String(200), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("columns", sa.JSON, nullable=False),  # [[name, type, nullable], ...]
    sa.Column("checksum", sa.String(64), nullable=False),
    sa.Column("compatibility", sa.String(20), nullable=True),  # BACKWARD | FORWARD | FULL | NONE
    sa.Column("breaking", sa.Boolean, nullable=False, default=False),
    sa.Column("changes", sa.JSON, nullable=True),
    _ts("created_at", nullable=False),
    sa.UniqueConstraint("workspace", "table_name", "version", name="uq_schema_version"),
)

incidents = sa.Table(
    "incidents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace", sa.String(80), nullable=False, index=True),
    sa.Column("source", sa.String(20), nullable=False),  # check | schema | slow_query | alert
    sa.Column("dedup_key", sa.String(300), nullable=False),
    sa.Column("title", sa.String(400), nullable=False),
    sa.Column("severity", sa.String(12), nullable=False),
    sa.Column("table_name", sa.String(200), nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("owner", sa.String(80), nullable=True),
    sa.Column("occurrences", sa.Integer, nullable=False, default=1),
    sa.Column("detail", sa.JSON, nullable=True),
    sa.Column("row_version", sa.Integer, nullable=False, default=1),
    _ts("opened_at", nullable=False),
    _ts("acknowledged_at", nullable=True),
    _ts("resolved_at", nullable=True),
    _ts("updated_at", nullable=False),
)

incident_events = sa.Table(
    "incident_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace", sa.String(80), nullable=False, index=True),
    sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=False, index=True),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("username", sa.String(80), nullable=True),
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("detail", sa.JSON, nullable=True),
    _ts("at", nullable=False),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace", sa.String(80), nullable=False, index=True),
    sa.Column("incident_id", sa.Integer, nullable=True),
    sa.Column("event", sa.String(30), nullable=False),
    sa.Column("url", sa.String(500), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("error", sa.Text, nullable=True),
    _ts("at", nullable=False),
)

slow_snapshots = sa.Table(
    "slow_snapshots",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace", sa.String(80), nullable=False, index=True),
    sa.Column("source", sa.String(40), nullable=False),  # file name or collector URL without secrets
    sa.Column("events", sa.Integer, nullable=False, default=0),
    _ts("taken_at", nullable=False),
)

slow_classes = sa.Table(
    "slow_classes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace", sa.String(80), nullable=False, index=True),
    sa.Column("snapshot_id", sa.Integer, sa.ForeignKey("slow_snapshots.id"), nullable=False, index=True),
    sa.Column("query_id", sa.String(40), nullable=False),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("calls", sa.Integer, nullable=False),
    sa.Column("total_time", sa.Float, nullable=False),
    sa.Column("stats", sa.JSON, nullable=False),
    sa.Column("sample", sa.Text, nullable=True),  # always redacted before it gets here
    sa.Column("severity", sa.String(12), nullable=True),
    sa.Column("findings", sa.JSON, nullable=True),
)

slow_samples = sa.Table(
    "slow_samples",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace", sa.String(80), nullable=False, index=True),
    sa.Column("class_id", sa.Integer, sa.ForeignKey("slow_classes.id"), nullable=False, index=True),
    sa.Column("query", sa.Text, nullable=False),  # redacted
    sa.Column("query_time", sa.Float, nullable=False),
    _ts("ts", nullable=True),
    sa.Column("db", sa.String(200), nullable=True),
    sa.Column("username", sa.String(80), nullable=True),
    sa.Column("host", sa.String(200), nullable=True),
)

dashboards = sa.Table(
    "dashboards",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace", sa.String(80), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("filters", sa.JSON, nullable=True),
    sa.Column("owner", sa.String(80), nullable=False),
    _ts("created_at", nullable=False),
    sa.UniqueConstraint("workspace", "name", name="uq_dashboard"),
)

tiles = sa.Table(
    "tiles",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace", sa.String(80), nullable=False, index=True),
    sa.Column("dashboard_id", sa.Integer, sa.ForeignKey("dashboards.id"), nullable=False, index=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("question", sa.Text, nullable=True),
    sa.Column("plan", sa.JSON, nullable=False),
    sa.Column("model_version", sa.String(80), nullable=True),
    sa.Column("kind", sa.String(20), nullable=False, default="auto"),
    sa.Column("position", sa.Integer, nullable=False, default=0),
    sa.Column("alert", sa.JSON, nullable=True),
    _ts("created_at", nullable=False),
)
