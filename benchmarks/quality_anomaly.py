"""Benchmark: ROC-AUC of the default outlier detector on the ODDS data sets next to pyod's published table.

Usage: python benchmarks/quality_anomaly.py [--corpora ../shared/corpora]
Prints a markdown table (our ROC-AUC vs pyod's roc.csv, same detector column).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from datatruth.quality.anomaly import DEFAULT_DETECTOR, make_detector

COLUMN = {"iforest": "IForest", "knn": "KNN", "lof": "LOF", "hbos": "HBOS"}


def main() -> None:
    """Fit the default detector on each ODDS set (unsupervised, all rows) and score ROC-AUC against y."""
    import numpy as np
    from scipy.io import loadmat
    from sklearn.metrics import roc_auc_score

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpora", default=str(Path(__file__).resolve().parents[2] / "shared" / "corpora"))
    parser.add_argument("--detector", default=DEFAULT_DETECTOR)
    args = parser.parse_args()
    odds = Path(args.corpora) / "odds"
    published: dict[str, float] = {}
    with open(odds / "pyod_benchmark_tables" / "roc.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            published[row["Data"]] = float(row[COLUMN.get(args.detector, "IForest")])
    lines = [f"| data set | n | d | ours ({args.detector}) | pyod published |", "|---|---|---|---|---|"]
    ours_all, theirs_all = [], []
    for path in sorted(odds.glob("*.mat")):
        try:
            mat = loadmat(path)
        except (NotImplementedError, ValueError):
            lines.append(
                f"| {path.stem} | - | - | unreadable (MATLAB v7.3) | {published.get(path.stem, float('nan')):.4f} |"
            )
            continue
        x, y = np.asarray(mat["X"], dtype=float), np.asarray(mat["y"]).ravel()
        det = make_detector(args.detector, contamination=min(0.5, max(0.01, float(y.mean()))))
        det.fit(x)
        auc = roc_auc_score(y, det.decision_scores_)
        pub = published.get(path.stem)
        ours_all.append(auc)
        if pub is not None:
            theirs_all.append(pub)
        lines.append(
            f"| {path.stem} | {len(y)} | {x.shape[1]} | {auc:.4f} | {pub:.4f} |"
            if pub is not None
            else f"| {path.stem} | {len(y)} | {x.shape[1]} | {auc:.4f} | - |"
        )
    lines.append(f"| **mean** | | | {np.mean(ours_all):.4f} | {np.mean(theirs_all):.4f} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
