"""DataTruth: governed answers from real databases, data quality, incidents and slow-query triage."""

from __future__ import annotations

__version__ = "0.1.0"


def load_ipython_extension(ipython: object) -> None:
    """`%load_ext datatruth`: register the DataTruth magics."""
    from datatruth.notebook.magics import load_ipython_extension as load

    load(ipython)
