"""DataTruth: governed answers from real databases, data quality, incidents and slow-query triage."""

from __future__ import annotations

__version__ = "0.1.0"
