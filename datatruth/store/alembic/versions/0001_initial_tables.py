"""initial tables: The tables of the first store: users, memberships, audit, history, feedback, learned synonyms, verified
questions, semantic versions, check runs, schema versions, incidents, webhooks and slow queries.

Revision ID: 0001
Revises: None
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the tables exactly as the hand-written migration 1 did (explicit, never from schema.py)."""
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=80), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("incident_role", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace", "username", name="uq_membership"),
    )
    op.create_index(op.f("ix_memberships_workspace"), "memberships", ["workspace"], unique=False)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=80), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target", sa.String(length=400), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_index(op.f("ix_audit_log_workspace"), "audit_log", ["workspace"], unique=False)
    op.create_table(
        "question_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=80), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("session_id", sa.String(length=80), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("sql", sa.Text(), nullable=True),
        sa.Column("plan", sa.JSON(), nullable=True),
        sa.Column("model_version", sa.String(length=80), nullable=True),
        sa.Column("row_count", sa.Integer(), nullable=True),
        sa.Column("elapsed_ms", sa.Float(), nullable=True),
        sa.Column("cached", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_question_history_at"), "question_history", ["at"], unique=False)
    op.create_index(op.f("ix_question_history_workspace"), "question_history", ["workspace"], unique=False)
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=80), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("history_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("term", sa.String(length=200), nullable=True),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_feedback_workspace"), "feedback", ["workspace"], unique=False)
    op.create_table(
        "learned_synonyms",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=80), nullable=False),
        sa.Column("term", sa.String(length=200), nullable=False),
        sa.Column("target_kind", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace", "term", name="uq_synonym"),
    )
    op.create_index(op.f("ix_learned_synonyms_workspace"), "learned_synonyms", ["workspace"], unique=False)
    op.create_table(
        "verified_questions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=80), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=True),
        sa.Column("sql", sa.Text(), nullable=True),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_verified_questions_workspace"), "verified_questions", ["workspace"], unique=False
    )
    op.create_table(
        "semantic_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=80), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace", "version", name="uq_semantic_version"),
    )
    op.create_index(op.f("ix_semantic_versions_workspace"), "semantic_versions", ["workspace"], unique=False)
    op.create_table(
        "check_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=80), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("check_name", sa.String(length=200), nullable=False),
        sa.Column("check_type", sa.String(length=40), nullable=False),
        sa.Column("table_name", sa.String(length=200), nullable=True),
        sa.Column("column_name", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("severity", sa.String(length=12), nullable=False),
        sa.Column("metric_value", sa.Float(), nullable=True),
        sa.Column("threshold", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_check_runs_run_id"), "check_runs", ["run_id"], unique=False)
    op.create_index(op.f("ix_check_runs_workspace"), "check_runs", ["workspace"], unique=False)
    op.create_table(
        "schema_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=80), nullable=False),
        sa.Column("table_name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("compatibility", sa.String(length=20), nullable=True),
        sa.Column("breaking", sa.Boolean(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace", "table_name", "version", name="uq_schema_version"),
    )
    op.create_index(op.f("ix_schema_versions_workspace"), "schema_versions", ["workspace"], unique=False)
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=80), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("dedup_key", sa.String(length=300), nullable=False),
        sa.Column("title", sa.String(length=400), nullable=False),
        sa.Column("severity", sa.String(length=12), nullable=False),
        sa.Column("table_name", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("owner", sa.String(length=80), nullable=True),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_incidents_workspace"), "incidents", ["workspace"], unique=False)
    op.create_table(
        "incident_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=80), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_incident_events_incident_id"), "incident_events", ["incident_id"], unique=False)
    op.create_index(op.f("ix_incident_events_workspace"), "incident_events", ["workspace"], unique=False)
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=80), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(length=30), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_webhook_deliveries_workspace"), "webhook_deliveries", ["workspace"], unique=False
    )
    op.create_table(
        "slow_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=80), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_slow_snapshots_workspace"), "slow_snapshots", ["workspace"], unique=False)
    op.create_table(
        "slow_classes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=80), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("query_id", sa.String(length=40), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("total_time", sa.Float(), nullable=False),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.Column("sample", sa.Text(), nullable=True),
        sa.Column("severity", sa.String(length=12), nullable=True),
        sa.Column("findings", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["snapshot_id"], ["slow_snapshots.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_slow_classes_snapshot_id"), "slow_classes", ["snapshot_id"], unique=False)
    op.create_index(op.f("ix_slow_classes_workspace"), "slow_classes", ["workspace"], unique=False)
    op.create_table(
        "slow_samples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=80), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("query_time", sa.Float(), nullable=False),
        sa.Column("ts", sa.DateTime(), nullable=True),
        sa.Column("db", sa.String(length=200), nullable=True),
        sa.Column("username", sa.String(length=80), nullable=True),
        sa.Column("host", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["class_id"], ["slow_classes.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_slow_samples_class_id"), "slow_samples", ["class_id"], unique=False)
    op.create_index(op.f("ix_slow_samples_workspace"), "slow_samples", ["workspace"], unique=False)


def downgrade() -> None:
    """Drop the tables this revision created (their indexes go with them)."""
    op.drop_table("slow_samples")
    op.drop_table("slow_classes")
    op.drop_table("slow_snapshots")
    op.drop_table("webhook_deliveries")
    op.drop_table("incident_events")
    op.drop_table("incidents")
    op.drop_table("schema_versions")
    op.drop_table("check_runs")
    op.drop_table("semantic_versions")
    op.drop_table("verified_questions")
    op.drop_table("learned_synonyms")
    op.drop_table("feedback")
    op.drop_table("question_history")
    op.drop_table("audit_log")
    op.drop_table("memberships")
    op.drop_table("users")
