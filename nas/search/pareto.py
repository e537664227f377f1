"""Non-dominated sorting and the 2-D hypervolume used to judge a search.

Objectives are (latency, accuracy estimate): latency is minimised, accuracy maximised, and only trials
within the budget count. The hypervolume is measured in (latency / budget, accuracy) with the reference
point (1, 0): the area, inside the box latency ∈ [0, budget] × accuracy ∈ [0, ·], dominated by the feasible
trials. Proxy accuracy estimates lie in [0, 1], so the hypervolume lies in [0, 1] too.
"""

from __future__ import annotations

import numpy as np

REFERENCE_POINT = (1.0, 0.0)  # (latency / budget, accuracy estimate)


def dominates(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """`a` = (latency, accuracy) dominates `b`: no worse in both, better in one."""
    return a[0] <= b[0] and a[1] >= b[1] and (a[0] < b[0] or a[1] > b[1])


def pareto_mask(latency: np.ndarray, accuracy: np.ndarray) -> np.ndarray:
    """True for the non-dominated points (minimise latency, maximise accuracy); O(n log n)."""
    latency = np.asarray(latency, dtype=float)
    accuracy = np.asarray(accuracy, dtype=float)
    mask = np.zeros(len(latency), dtype=bool)
    if len(latency) == 0:
        return mask
    # Sort by latency, then by accuracy descending: a point is on the front if it beats every faster one.
    order = np.lexsort((-accuracy, latency))
    best = -np.inf
    previous: tuple[float, float] | None = None
    for i in order:
        point = (latency[i], accuracy[i])
        if accuracy[i] > best:
            mask[i] = True
            best = accuracy[i]
        elif previous is not None and point == previous:
            mask[i] = True  # an exact duplicate of a front point is not dominated by it
        if mask[i]:
            previous = point
    return mask


def non_dominated_ranks(objectives: np.ndarray) -> np.ndarray:
    """Front index per row (0 = non-dominated) for objectives that are all minimised; vectorised."""
    objectives = np.asarray(objectives, dtype=float)
    n = len(objectives)
    less_equal = (objectives[:, None, :] <= objectives[None, :, :]).all(axis=2)
    strictly = (objectives[:, None, :] < objectives[None, :, :]).any(axis=2)
    dominated_by = (less_equal & strictly).T  # [i, j]: j dominates i
    ranks = np.full(n, -1, dtype=int)
    remaining = np.ones(n, dtype=bool)
    rank = 0
    while remaining.any():
        counts = (dominated_by & remaining[None, :]).sum(axis=1)
        front = remaining & (counts == 0)
        ranks[front] = rank
        remaining &= ~front
        rank += 1
    return ranks


def hypervolume(latency_ms: np.ndarray, accuracy: np.ndarray, budget_ms: float) -> float:
    """Area dominated in (latency / budget, accuracy) with reference point (1, 0); infeasible points ignored."""
    x = np.asarray(latency_ms, dtype=float) / budget_ms
    y = np.asarray(accuracy, dtype=float)
    keep = (x <= REFERENCE_POINT[0]) & (y > REFERENCE_POINT[1])
    x, y = x[keep], y[keep]
    if len(x) == 0:
        return 0.0
    front = pareto_mask(x, y)
    x, y = x[front], y[front]
    order = np.argsort(x)
    x, y = x[order], y[order]
    # Each front point owns the strip from its latency to the next front point's (or to the reference).
    right = np.append(x[1:], REFERENCE_POINT[0])
    return float(np.sum((right - x) * (y - REFERENCE_POINT[1])))
