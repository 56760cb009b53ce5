"""Depth metrics of the method's Table 1 (Eigen et al.): AbsRel, SqRel, RMSE, logRMSE, delta < 1.25.

Same definitions as the TypeScript evaluation (`navws eval-depth`); used here for validation during training.
"""
from __future__ import annotations

from typing import Dict

import numpy as np


def depth_metrics(pred: np.ndarray, gt: np.ndarray, median_scale: bool) -> Dict[str, float]:
    """pred, gt: depth (mm) at the same pixels; only gt > 0 and finite pred > 0 count."""
    m = (gt > 0) & np.isfinite(pred) & (pred > 0)
    p = pred[m].astype(np.float64)
    g = gt[m].astype(np.float64)
    if p.size == 0:
        return {"abs_rel": float("nan"), "sq_rel": float("nan"), "rmse": float("nan"), "log_rmse": float("nan"), "delta1": float("nan"), "n": 0}
    if median_scale:
        p = p * (np.median(g) / np.median(p))
    thresh = np.maximum(g / p, p / g)
    return {
        "abs_rel": float(np.mean(np.abs(p - g) / g)),
        "sq_rel": float(np.mean((p - g) ** 2 / g)),
        "rmse": float(np.sqrt(np.mean((p - g) ** 2))),
        "log_rmse": float(np.sqrt(np.mean((np.log(p) - np.log(g)) ** 2))),
        "delta1": float(np.mean(thresh < 1.25)),
        "n": int(p.size),
    }


def mean_metrics(rows) -> Dict[str, float]:
    keys = [k for k in rows[0] if k != "n"]
    return {k: float(np.nanmean([r[k] for r in rows])) for k in keys}
