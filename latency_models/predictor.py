"""`Predictor`: latency in ms of many archs at once, from kernel formulas and the profile's cost parameters.

A cold predictor lowers each (part, structural variant) once (or reads it from the disk cache); then a
prediction is numpy arithmetic over all candidates: no compilation per candidate. Per-layer
(heterogeneous) archs become one row per distinct layer configuration, weighted by how often it occurs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from device_profiles.profile import DeviceProfile, load_profile
from latency_models.confidence import ConfidentProfile, UpperBoundPredictor
from latency_models.cost_model import PartBlock, kernel_times_s, profile_params, total_ms
from latency_models.formulas import KINDS, KernelSpec, PartFormulas
from latency_models.kernel_cache import part_specs
from latency_models.uncertainty import interval, log_jacobian, profile_posterior
from latency_models.variant import Variant
from nas_common.errors import UserInputError


class _Part:
    """A part's kernels ready to evaluate for many candidates (`formulas.PartFormulas`)."""

    def __init__(self, part: str, specs: list[KernelSpec]) -> None:
        self.part = part
        self.specs = specs
        self.names = [s.name for s in specs]
        self.kinds = np.array([KINDS.index(s.kind) for s in specs], dtype=np.int64)
        self.formulas = PartFormulas(specs)

    def block(self, sizes: dict[str, np.ndarray], calls: np.ndarray, arch_index: np.ndarray) -> PartBlock:
        if not self.specs or len(calls) == 0:
            empty = np.zeros((len(self.specs), 0))
            return PartBlock(self.part, self.names, self.kinds, empty, empty, calls, arch_index, self.formulas.passes)
        flops, nbytes = self.formulas.evaluate(sizes, len(calls))
        return PartBlock(self.part, self.names, self.kinds, flops, nbytes, calls, arch_index, self.formulas.passes)


class Predictor:
    """Latency of many archs on one profile. Made by `load_predictor` (the one way), never constructed directly."""

    def __init__(self, profile: DeviceProfile, params: dict[str, float] | None = None,
                 use_disk_cache: bool = True) -> None:
        self.profile = profile
        # Parameters not given (an older parameter set, a test's) take the profile's values or priors.
        self.params = {**profile_params(profile), **(dict(params) if params is not None else {})}
        self.use_disk_cache = use_disk_cache
        self._parts: dict[tuple[Variant, str], _Part] = {}
        self._posterior: Any = None  # the fit's uncertainty, computed on the first interval asked for

    # ------------------------------------------------------------------ public API
    def predict(self, archs: Any, seq_len: int | Iterable[int] = 128, batch: int | Iterable[int] = 1,
                interval: float | None = None) -> Any:
        """Latency in ms of each arch (a single Arch gives a 1-element array). With `interval` (a level, e.g.
        0.9): an `uncertainty.PredictionInterval` (ms, lower, upper) from the fit's parameter covariance."""
        archs = [archs] if not isinstance(archs, (list, tuple)) else list(archs)
        blocks, n, scale = self.features(archs, seq_len, batch)
        if interval is not None:
            return self._interval(archs, seq_len, blocks, n, scale, interval)
        ms = total_ms(blocks, n, self.params, self.profile.fp32_gflops, self.profile.memory_gbs) * scale
        return self._blend(np.log(ms), archs, seq_len, scale)[0]

    @property
    def model_weight(self) -> float:
        """The cost model's share of the log prediction (`calibration.py`; 1 unless calibrated to a blend)."""
        return float(self.profile.cost.get("flops_weight", 1.0))

    def _blend(self, log_model: np.ndarray, archs: list[Any], seq_len: int | Iterable[int],
               scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ms, log ms) of the calibrated predictor: the cost model, or its log blend with the FLOPs fit."""
        w = self.model_weight
        if w >= 1.0:
            return np.exp(log_model), log_model
        cost = self.profile.cost
        seqs = np.broadcast_to(np.asarray(seq_len if not isinstance(seq_len, int) else [seq_len]), (len(archs),))
        gflops = np.array([a.flops(int(t)) for a, t in zip(archs, seqs, strict=True)]) * scale / 1e9
        line = np.maximum(cost["flops_ms_per_gflop"] * gflops + cost["flops_ms"], cost.get("flops_floor_ms", 1e-3))
        log_ms = w * log_model + (1 - w) * np.log(line)
        return np.exp(log_ms), log_ms

    def _interval(self, archs: list[Any], seq_len: int | Iterable[int], blocks: list[PartBlock], n: int,
                  scale: np.ndarray, level: float) -> Any:
        if not 0 < level < 1:
            raise UserInputError(f"the interval level must be between 0 and 1 (e.g. 0.9), got {level!r}")
        if self._posterior is None:
            self._posterior = profile_posterior(self)
        log_pred, jac = log_jacobian(blocks, n, scale, self.params, self.profile.fp32_gflops,
                                     self.profile.memory_gbs)
        _, log_final = self._blend(log_pred, archs, seq_len, scale)
        return interval(log_final, jac * self.model_weight, self._posterior, level)

    def breakdown(self, arch: Any, seq_len: int = 128) -> list[dict[str, Any]]:
        """Per-kernel rows (part, kernel, kind, calls, FLOPs, bytes, ms, share) of one arch, slowest first."""
        blocks, _, _ = self.features([arch], seq_len, 1)
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for b in blocks:
            if b.flops.shape[1] == 0:
                continue
            times = kernel_times_s(b, self.params, self.profile.fp32_gflops, self.profile.memory_gbs)
            for k, name in enumerate(b.names):
                key = (b.part, name)
                row = rows.setdefault(key, {"part": b.part, "kernel": name, "kind": KINDS[b.kinds[k]],
                                            "calls": 0, "flops": 0.0, "bytes": 0.0, "ms": 0.0})
                row["calls"] += int(b.calls.sum())
                row["flops"] += float((b.flops[k] * b.calls).sum())
                row["bytes"] += float((b.bytes[k] * b.calls).sum())
                row["ms"] += float((times[k] * b.calls).sum() * 1e3)
        out = sorted(rows.values(), key=lambda r: -r["ms"])
        total = sum(r["ms"] for r in out) + self.params["const_ms"]
        out.append({"part": "runtime", "kernel": "per-inference constant", "kind": "constant", "calls": 1,
                    "flops": 0.0, "bytes": 0.0, "ms": self.params["const_ms"]})
        for r in out:
            r["share"] = r["ms"] / total
        return out

    # ------------------------------------------------------------------ features
    def compiled(self, variant: Variant, part: str) -> _Part:
        key = (variant, part)
        if key not in self._parts:
            specs = part_specs(variant, part, self.profile.target, self.use_disk_cache)
            self._parts[key] = _Part(part, specs)
        return self._parts[key]

    def features(self, archs: list[Any], seq_len: int | Iterable[int] = 128,
                 batch: int | Iterable[int] = 1) -> tuple[list[PartBlock], int, np.ndarray]:
        """Per-part kernel features of all archs, plus the batch scale (batch × single-sequence time)."""
        n = len(archs)
        seqs = np.broadcast_to(np.asarray(seq_len if not isinstance(seq_len, int) else [seq_len]), (n,))
        scale = np.broadcast_to(np.asarray(batch if not isinstance(batch, int) else [batch],
                                           dtype=np.float64), (n,))
        lowering = self.profile.lowering
        groups: dict[tuple, list[int]] = defaultdict(list)  # by structural key (a plain tuple hashes fast)
        for i, a in enumerate(archs):
            groups[a.structural_key()].append(i)
        blocks: list[PartBlock] = []
        for idx in groups.values():
            v = Variant.of(archs[idx[0]], lowering)
            blocks.extend(self._variant_blocks(v, [archs[i] for i in idx], np.asarray(idx), seqs[idx]))
        return blocks, n, np.asarray(scale, dtype=np.float64)

    def _variant_blocks(self, v: Variant, archs: list[Any], idx: np.ndarray, seqs: np.ndarray) -> list[PartBlock]:
        emb = np.array([(a.embedding_size, a.hidden_size, a.vocab_size) for a in archs], dtype=np.float64)
        sizes = {"T": seqs.astype(np.float64), "E": emb[:, 0], "H": emb[:, 1], "V": emb[:, 2]}
        blocks = [self.compiled(v, "embed").block(sizes, np.ones(len(archs)), idx)]
        # One row per (arch, distinct layer configuration): uniform archs have exactly one.
        rows: list[tuple[int, int, int, int, int, int, int, int]] = []
        for j, a in enumerate(archs):
            if a.is_uniform:
                rows.append((j, a.hidden_size, a.true_hidden_size(0), a.num_attention_heads,
                             a.intermediate_size, a.num_feedforward_networks, a.num_hidden_layers, 0))
                continue
            count: dict[tuple[int, int, int, int], int] = defaultdict(int)
            for layer in range(a.num_hidden_layers):
                count[(a.true_hidden_size(layer), a.layer_value("num_attention_heads", layer),
                       a.layer_value("intermediate_size", layer),
                       a.layer_value("num_feedforward_networks", layer))] += 1
            for (w, h, f, k), c in count.items():
                rows.append((j, a.hidden_size, w, h, f, k, c, 0))
        r = np.array(rows, dtype=np.int64)
        j = r[:, 0]
        layer = {"T": sizes["T"][j], "H": r[:, 1].astype(np.float64), "n": r[:, 3].astype(np.float64),
                 "d": (r[:, 2] // r[:, 3]).astype(np.float64), "F": r[:, 4].astype(np.float64)}
        layers = r[:, 6].astype(np.float64)
        blocks.append(self.compiled(v, "attn").block(layer, layers, idx[j]))
        blocks.append(self.compiled(v, "ffn").block(layer, layers * r[:, 5], idx[j]))
        if v.attention_form != "full":
            blocks.append(self.compiled(v, "out").block(layer, layers, idx[j]))
        return blocks


def load_predictor(device: str | Path | DeviceProfile, params: dict[str, float] | None = None,
                   use_disk_cache: bool = True) -> Any:
    """The one way to make a latency predictor: for a device name (`pixel4`, `host`, a user profile), a profile
    path, or a DeviceProfile; `params` replace some of the profile's cost parameters (a fit's candidates). For a
    profile marked by `confidence.with_confidence`, the predictor of its interval's upper bound.

    `Predictor` is the type (for annotations); nothing outside this module constructs it directly
    (tests/test_latency_predictor.py checks), so every caller gets the marked profile's upper bound."""
    profile = device if isinstance(device, DeviceProfile) else load_profile(device)
    made = Predictor(profile, params, use_disk_cache)
    if isinstance(profile, ConfidentProfile):
        return UpperBoundPredictor(made, profile.confidence)
    return made
