"""The accuracy predictor: a gradient-boosted regressor (xgboost) from an arch's shape to the supernet's held-out
loss, fitted once per supernet on a few hundred supernet evaluations and stored in the supernet directory —
Once-for-All's recipe (Cai et al., ICLR 2020, §3.3: an accuracy predictor trained on sub-network evaluations
so that the search never runs the network).

Stored in SUPERNET/predictor/:
    evaluations.jsonl   one line per evaluated arch: its fields and its held-out loss terms (append-only,
                        so an interrupted fit resumes where it stopped)
    model.json          the xgboost model (its own JSON format: no pickle)
    meta.json           measure, features, sample size, eval batches, supernet weights digest, and the
                        5-fold cross-validated Spearman/Kendall of predicted vs evaluated losses
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nas_common.errors import UserInputError
from nas_common.io import jsonl_lines, loads_json, read_json, read_text
from nas_common.writing import append_jsonl, cut_torn_tail, write_json
from search_spaces.arch import Arch

FEATURES = ("layers", "inner_width", "bottleneck", "heads", "head_width", "ffn_width", "ffns", "log_body_params",
            "log_mha_ffn_ratio")
SAMPLES = 300  # "a few hundred" evaluations (OFA fits on 16k ImageNet subnets; ours are 100× cheaper to vary)
CV_FOLDS = 5
XGB_PARAMS = {"n_estimators": 400, "max_depth": 3, "learning_rate": 0.05, "subsample": 0.8,
              "colsample_bytree": 0.9, "min_child_weight": 2, "n_jobs": 1}
EVALUATIONS, MODEL, META = "evaluations.jsonl", "model.json", "meta.json"


def features(arch: Arch) -> list[float]:
    """Shape features of a uniform arch (what a supernet varies), plus size and MHA:FFN ratio."""
    from nas.accuracy.proxy import body_params

    inner = arch.true_hidden_size()
    heads = arch.layer_value("num_attention_heads", 0)
    return [arch.num_hidden_layers, inner, float(arch.use_bottleneck), heads, inner / heads,
            arch.layer_value("intermediate_size", 0), arch.layer_value("num_feedforward_networks", 0),
            math.log10(max(body_params(arch), 1)), math.log(max(arch.mha_ffn_param_ratio(), 1e-9))]


def feature_matrix(archs: Sequence[Arch]) -> np.ndarray:
    return np.array([features(a) for a in archs], dtype=float).reshape(len(archs), len(FEATURES))


@dataclass
class AccuracyPredictor:
    """A fitted predictor of a supernet's held-out loss (the latency predictor is latency_models' `Predictor`):
    `model.json` and `meta.json` as stored in SUPERNET/predictor/."""

    model: Any  # xgboost.XGBRegressor
    meta: dict[str, Any]

    @property
    def measure(self) -> str:
        return str(self.meta["measure"])

    def predict(self, archs: Sequence[Arch]) -> np.ndarray:
        """The predicted held-out loss (the supernet's `measure`) per arch; lower is better."""
        if not archs:
            return np.zeros(0)
        return np.asarray(self.model.predict(feature_matrix(archs)), dtype=float)


def _regressor(seed: int) -> Any:
    from xgboost import XGBRegressor

    return XGBRegressor(**XGB_PARAMS, random_state=seed)


def cross_validate(x: np.ndarray, y: np.ndarray, seed: int = 0) -> dict[str, float]:
    """Out-of-fold predictions of a 5-fold split: how well the predictor ranks archs it has not seen."""
    from scipy.stats import kendalltau, spearmanr
    from sklearn.model_selection import KFold

    predicted = np.zeros_like(y)
    for train, test in KFold(CV_FOLDS, shuffle=True, random_state=seed).split(x):
        predicted[test] = _regressor(seed).fit(x[train], y[train]).predict(x[test])
    return {"spearman": round(float(spearmanr(predicted, y).statistic), 4),
            "kendall": round(float(kendalltau(predicted, y).statistic), 4),
            "rmse": round(float(np.sqrt(np.mean((predicted - y) ** 2))), 5), "folds": CV_FOLDS}


def sample_archs(space: Any, n: int, seed: int, always: Sequence[Arch] = ()) -> list[Arch]:
    """`always` (e.g. the largest and smallest subnet), then distinct uniform samples of the space."""
    rng = np.random.default_rng(seed)
    chosen: list[Arch] = list(dict.fromkeys(always))
    seen = set(chosen)
    for _ in range(50 * n):
        if len(chosen) >= n:
            break
        arch = space.sample(rng)
        if arch not in seen:
            seen.add(arch)
            chosen.append(arch)
    return chosen


def read_evaluations(directory: Path) -> list[tuple[Arch, dict[str, float]]]:
    path = directory / EVALUATIONS
    if not path.is_file():
        return []
    rows = []
    for number, line in jsonl_lines(read_text(path), str(path)):
        try:
            record = loads_json(line, f"{path}: line {number}")
            rows.append((Arch.from_dict(record["arch"]), record["losses"]))
        except (KeyError, TypeError, UserInputError):
            continue  # a line cut short by a kill: that arch is evaluated again
    return rows


def evaluate_missing(directory: Path, archs: Sequence[Arch], evaluate: Callable[[Sequence[Arch]], list[dict]],
                     chunk: int = 8, progress: Callable[[int, int], None] | None = None,
                     ) -> list[tuple[Arch, dict[str, float]]]:
    """Evaluate the archs not yet in evaluations.jsonl, appending as it goes; returns all evaluations."""
    directory.mkdir(parents=True, exist_ok=True)
    done = dict(read_evaluations(directory))
    todo = [a for a in archs if a not in done]
    path = directory / EVALUATIONS
    cut_torn_tail(path)  # a line cut short by a kill (read above as missing): the next record stands alone
    for start in range(0, len(todo), chunk):
        part = todo[start:start + chunk]
        records = []
        for arch, losses in zip(part, evaluate(part), strict=True):
            done[arch] = losses
            records.append({"arch": arch.to_dict(), "losses": losses})
        append_jsonl(path, records)
        if progress is not None:
            progress(len(archs) - len(todo) + start + len(part), len(archs))
    return [(a, done[a]) for a in archs]


def fit(directory: Path, evaluations: Sequence[tuple[Arch, dict[str, float]]], measure: str, seed: int,
        extra_meta: dict[str, Any]) -> AccuracyPredictor:
    """Fit on all evaluations, cross-validate, and save model.json + meta.json."""
    x = feature_matrix([a for a, _ in evaluations])
    y = np.array([losses[measure] for _, losses in evaluations], dtype=float)
    model = _regressor(seed).fit(x, y)
    meta = {"measure": measure, "features": list(FEATURES), "samples": len(evaluations), "regressor": "xgboost",
            "params": XGB_PARAMS, "seed": seed, "cv": cross_validate(x, y, seed), **extra_meta}
    tmp = directory / ("tmp-" + MODEL)  # xgboost picks the format by the suffix: keep .json
    model.save_model(tmp)
    tmp.replace(directory / MODEL)
    write_json(directory / META, meta)
    return AccuracyPredictor(model, meta)


def load(directory: Path) -> AccuracyPredictor | None:
    """The stored predictor, or None when there is none (or it is unreadable: it is then fitted again)."""
    from xgboost import XGBRegressor

    if not (directory / MODEL).is_file() or not (directory / META).is_file():
        return None
    try:
        meta = read_json(directory / META)
        model = XGBRegressor()
        model.load_model(directory / MODEL)
    except (UserInputError, ValueError, OSError):
        return None
    if not isinstance(meta, dict) or meta.get("features") != list(FEATURES):
        return None
    return AccuracyPredictor(model, meta)
