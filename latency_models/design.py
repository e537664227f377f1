"""Which archs to measure: an optimal calibration set (`nas calibrate --suggest N`).

The fit estimates the log cost parameters θ from log-latencies; one measured arch with gradient
g = d log t / d log θ (`uncertainty.log_jacobian`, at the `--from` profile's parameters) adds g gᵀ / σ² to the
information matrix M = Σ g gᵀ / σ² + I / σ_prior² (the fit's priors). Two criteria (`--design`):
- **I-optimal** (the default): minimise the mean prediction variance gᵀ M⁻¹ g over archs sampled from the search
  space, i.e. the error of the predictions a search will make;
- **D-optimal**: maximise det M, which minimises the volume of the parameters' confidence ellipsoid.

Selection, over a candidate pool sampled from the search space (uniform archs only: the measuring
backends build identical layers):
1. the reference presets the space contains (mobilebert, mobilebert-tiny, ...: archs a user knows and can
   compare with published figures), always, in PRESETS order, up to N;
2. structural coverage: while some structural value of the space (`coverage.py`: no bottleneck, LayerNorm,
   gelu, ...) is in no chosen arch, the candidate that adds the most uncovered values (ties: the largest gain
   in the criterion) — the cost model shares its parameters across variants, so neither criterion alone asks
   for them, but an uncovered variant is extrapolated;
3. greedy: the candidate with the largest gain in the criterion (D: log(1 + gᵀ M⁻¹ g / σ²)) until N;
4. Fedorov exchange: swap a non-preset pick for a candidate while that improves the criterion without losing
   coverage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from latency_models.coverage import arch_values, covered, describe, space_values
from latency_models.predictor import Predictor
from latency_models.uncertainty import SIGMA_MEAS, SIGMA_PRIOR, log_jacobian
from nas_common.errors import UserInputError
from search_spaces.presets import PRESETS
from search_spaces.space import SearchSpace

POOL = 2000
EXCHANGE_PASSES = 10
DRAWS = 8


@dataclass(frozen=True)
class Pick:
    name: str
    arch: Any
    why: str


def presets_in(space: SearchSpace) -> list[tuple[str, Any]]:
    return [(name, p.arch) for name, p in PRESETS.items() if p.arch.is_uniform and space.contains(p.arch)]


def candidate_pool(space: SearchSpace, size: int, seed: int) -> list[Any]:
    rng = np.random.default_rng(seed)
    seen: dict[Any, Any] = {}
    for arch in space.sample_many(size, rng):
        if arch.is_uniform:
            seen.setdefault(arch, arch)
    return list(seen)


def gradients(predictor: Predictor, archs: list[Any], thetas: list[dict[str, float]],
              seq_len: int = 128) -> np.ndarray:
    """(K, n, p) d log t / d log θ of each arch at each parameter vector of `thetas`, over σ (information
    units)."""
    blocks, n, scale = predictor.features(archs, seq_len, 1)
    prof = predictor.profile
    return np.stack([log_jacobian(blocks, n, scale, theta, prof.fp32_gflops, prof.memory_gbs)[1] / SIGMA_MEAS
                     for theta in thetas])


def parameter_draws(params: dict[str, float], k: int, seed: int) -> list[dict[str, float]]:
    """`params` and k-1 draws around it (log-normal, half the prior's width): the design is averaged over
    them, so that it does not depend on the `--from` profile's parameters being right (a new device's are
    not: that is why it is being calibrated)."""
    rng = np.random.default_rng(seed)
    draws = [dict(params)]
    for _ in range(k - 1):
        draws.append({name: v * float(np.exp(rng.normal(0.0, SIGMA_PRIOR / 2))) for name, v in params.items()})
    return draws


def _gains(info_inv: np.ndarray, g: np.ndarray, target: np.ndarray | None = None) -> np.ndarray:
    """D: log det growth of adding each row of `g`, log(1 + gᵀ M⁻¹ g). I (with `target` = the mean g gᵀ of
    the archs to predict): the fall of their mean prediction variance, gᵀ M⁻¹ A M⁻¹ g / (1 + gᵀ M⁻¹ g)."""
    d = np.einsum("ij,jk,ik->i", g, info_inv, g)
    if target is None:
        return np.log1p(d)
    b = info_inv @ target @ info_inv
    return np.einsum("ij,jk,ik->i", g, b, g) / (1.0 + d)


def _info_inv(fixed: np.ndarray, picked: np.ndarray) -> np.ndarray:
    rows = np.concatenate([fixed, picked])
    return np.linalg.inv(np.eye(rows.shape[1]) / SIGMA_PRIOR**2 + rows.T @ rows)


class _Criterion:
    """The mean gain over the parameter draws of adding each pool arch to a set of picks."""

    def __init__(self, g_fixed: np.ndarray, g_pool: np.ndarray, optimality: str) -> None:
        self.g_fixed, self.g_pool = g_fixed, g_pool
        self.targets = [g.T @ g / len(g) if optimality == "I" else None for g in g_pool]

    def gains(self, picked: list[int]) -> np.ndarray:
        return np.mean([_gains(_info_inv(f, p[picked]), p, t)
                        for f, p, t in zip(self.g_fixed, self.g_pool, self.targets, strict=True)], axis=0)


def suggest(predictor: Predictor, space: SearchSpace, n: int, seed: int = 0, pool_size: int = POOL,
            seq_len: int = 128, with_presets: bool = True, optimality: str = "I", draws: int = DRAWS) -> list[Pick]:
    """The N archs to measure (see the module docstring)."""
    if n < 1:
        raise UserInputError(f"--suggest must be at least 1, got {n}")
    fixed = presets_in(space)[:n] if with_presets else []
    taken = {arch for _, arch in fixed}
    pool = [a for a in candidate_pool(space, pool_size, seed) if a not in taken]
    if len(fixed) + len(pool) < n:
        raise UserInputError(f"search space {space.name!r} gave only {len(fixed) + len(pool)} distinct "
                             f"measurable archs; ask for fewer than {n}")
    thetas = parameter_draws(predictor.params, draws, seed)
    g_pool = gradients(predictor, pool, thetas, seq_len)
    g_fixed = (gradients(predictor, [a for _, a in fixed], thetas, seq_len) if fixed
               else np.zeros((len(thetas), 0, g_pool.shape[2])))
    crit = _Criterion(g_fixed, g_pool, optimality)
    wanted = space_values(space)
    values = [arch_values(a) & wanted for a in pool]
    fixed_cover = covered(a for _, a in fixed)
    chosen: list[int] = []
    while len(fixed) + len(chosen) < n:
        gains = crit.gains(chosen)
        gains[chosen] = -np.inf
        missing = wanted - fixed_cover - set().union(*(values[c] for c in chosen))
        new = np.array([len(v & missing) for v in values], dtype=float)
        new[chosen] = -1.0
        best = int(np.lexsort((gains, new))[-1]) if missing and new.max() > 0 else int(np.argmax(gains))
        chosen.append(best)
    chosen = _exchange(chosen, crit, values, fixed_cover)
    picks = [Pick(name, arch, "reference preset") for name, arch in fixed]
    for k, c in enumerate(chosen):
        others = fixed_cover.union(*(values[o] for o in chosen if o != c))
        only = values[c] - others
        why = "covers " + ", ".join(describe(v) for v in sorted(only, key=str)) if only else f"{optimality}-optimal"
        picks.append(Pick(f"suggest-{len(fixed) + k + 1}", pool[c], why))
    return picks


def _exchange(chosen: list[int], crit: _Criterion, values: list[set], fixed_cover: set) -> list[int]:
    """Fedorov exchange: swap a pick for a candidate while the criterion improves and no structural value
    is lost."""
    chosen = list(chosen)
    for _ in range(EXCHANGE_PASSES):
        improved = False
        for slot in range(len(chosen)):
            others = chosen[:slot] + chosen[slot + 1:]
            gains = crit.gains(others)
            gains[others] = -np.inf
            needed = values[chosen[slot]] - fixed_cover.union(*(values[o] for o in others))
            gains[[not needed <= v for v in values]] = -np.inf
            best = int(np.argmax(gains))
            if best != chosen[slot] and gains[best] > gains[chosen[slot]] * (1 + 1e-6) + 1e-12:
                chosen[slot] = best
                improved = True
        if not improved:
            break
    return chosen
