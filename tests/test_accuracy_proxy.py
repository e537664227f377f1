"""The refitted proxy (nas/accuracy/proxy.py): the constrained least-squares fit, depth, and what it reports."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nas.accuracy import proxy
from search_spaces.arch import Arch
from search_spaces.space import SearchSpace

TRUE = {"log10_body_params": 0.8, "log2_layers": 0.3, "neg_ratio_distance_sq": 0.2, "neg_head_halvings": 0.05}


def synthetic(arch: Arch, weights: dict[str, float] = TRUE, intercept: float = 9.0) -> float:
    """A loss that is exactly the proxy's model with known coefficients."""
    return intercept - float(proxy.terms(arch) @ np.array([weights[t] for t in proxy.TERMS]))


@pytest.fixture
def archs() -> list[Arch]:
    space = SearchSpace.load("mobilebert-small")
    return space.sample_many(40, np.random.default_rng(0)) + [Arch(num_attention_heads=1), Arch(num_attention_heads=2)]


def test_fit_recovers_known_coefficients(archs: list[Arch]) -> None:
    fitted = proxy.fit(archs, [synthetic(a) for a in archs], note="")
    for term, value in TRUE.items():
        assert fitted["coefficients"][term] == pytest.approx(value, rel=1e-3, abs=1e-4)
    assert fitted["intercept"] == pytest.approx(-9.0, abs=1e-3)  # of the quality, −loss
    assert fitted["loo_spearman"] > 0.99 and fitted["n"] == len(archs)


def test_coefficients_keep_the_literatures_signs(archs: list[Arch]) -> None:
    """Data where depth hurts cannot make the proxy prefer shallow models: the depth weight stops at 0."""
    wrong = {**TRUE, "log2_layers": -0.5}
    fitted = proxy.fit(archs, [synthetic(a, wrong) for a in archs], note="")
    assert fitted["coefficients"]["log2_layers"] == 0.0
    assert fitted["coefficients"]["log10_body_params"] > 0


def test_a_small_ground_truth_fits_size_and_depth_only(archs: list[Arch]) -> None:
    """Below FULL_FIT_MIN students, ratio and heads keep the prior's weight relative to size."""
    few = archs[:proxy.FULL_FIT_MIN - 1]
    fitted = proxy.fit(few, [synthetic(a) for a in few], note="partial")
    assert fitted["fitted_terms"] == list(proxy.TERMS[:2]) and fitted["n"] == len(few)
    size = fitted["coefficients"]["log10_body_params"]
    assert size > 0
    for term, decades in proxy.PRIOR_DECADES.items():
        assert fitted["coefficients"][term] == pytest.approx(size * decades, rel=1e-4)


def test_depth_is_seen_and_scores_are_probabilities(archs: list[Arch], tmp_path, monkeypatch) -> None:
    fitted = proxy.fit(archs, [synthetic(a) for a in archs], note="synthetic")
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(fitted))
    monkeypatch.setattr(proxy, "FIT_FILE", path)
    proxy._fit.cache_clear()
    proxy.proxy_score.cache_clear()
    try:
        wide = Arch(num_hidden_layers=8, hidden_size=768, use_bottleneck=False, intermediate_size=3072,
                    num_feedforward_networks=1, num_attention_heads=12, embedding_size=128)
        deep = Arch(num_hidden_layers=24, hidden_size=512, use_bottleneck=False, intermediate_size=1536,
                    num_feedforward_networks=1, num_attention_heads=8, embedding_size=128)
        assert proxy.proxy_score(wide) != pytest.approx(proxy.proxy_score(deep), abs=1e-3)
        base = Arch()
        assert proxy.proxy_score(base.replace(num_hidden_layers=12)) < proxy.proxy_score(base)
        assert proxy.proxy_score(base.replace(normalization_type="layer_norm", hidden_act="gelu")) > \
            proxy.proxy_score(base)
        assert 0 < proxy.proxy_score(base) <= 1
        assert proxy.proxy_score(base) == pytest.approx(math.exp(-proxy.predicted_loss(base)))
        estimator = proxy.ProxyEstimator()
        assert estimator.quality.startswith(f"Spearman {fitted['loo_spearman']:.2f} (leave-one-out)")
        assert f"n={len(archs)}" in estimator.quality and "synthetic" in estimator.quality
    finally:
        proxy._fit.cache_clear()
        proxy.proxy_score.cache_clear()


def test_committed_fit_is_readable_and_says_what_it_measured() -> None:
    fitted = json.loads(proxy.FIT_FILE.read_text())
    assert set(fitted["coefficients"]) == set(proxy.TERMS)
    assert all(v >= 0 for v in fitted["coefficients"].values())
    assert fitted["n"] == len(fitted["data"]) >= 3
    assert "Spearman" in proxy.ProxyEstimator().quality


def test_depth_comes_from_equal_size_pairs_when_the_data_has_them(archs: list[Arch]) -> None:
    """Data where depth looks harmful overall (least squares would set it to 0) but an equal-size pair says the
    deeper student is better: the depth weight is that pair's gain per doubling of depth."""
    wrong = {**TRUE, "log2_layers": -0.5}
    deep, shallow = Arch(num_hidden_layers=12), Arch(num_hidden_layers=6, intermediate_size=1344)
    assert proxy.depth_pairs([deep, shallow]) == [(0, 1)]
    data = [*archs, deep, shallow]
    losses = [synthetic(a, wrong) for a in archs] + [3.0, 3.2]
    fitted = proxy.fit(data, losses, note="")
    assert fitted["depth_from"] == "1 equal-size depth pair"
    assert fitted["coefficients"]["log2_layers"] == pytest.approx(0.2, abs=1e-6)
    assert proxy.fit(archs, [synthetic(a) for a in archs], note="")["depth_from"] == "least squares"
