"""Dashboards: pinned answers (plans, not rows) that re-run governed, with filters, sharing, exports and alerts."""
