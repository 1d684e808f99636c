"""Slow-query triage: parse MySQL/PostgreSQL slow logs, fingerprint, aggregate and report."""
