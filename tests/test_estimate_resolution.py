"""An estimate is printed no finer than its measured scatter about trained students (nas/accuracy/resolution.py)."""

import json

import numpy as np
import pytest

from nas.accuracy import proxy
from nas.accuracy.resolution import Estimate, decimals, format_estimate, scatter, scatter_note, within_scatter
from search_spaces.arch import Arch


def test_scatter_is_the_residual_sd_about_the_trend() -> None:
    losses = np.array([2.0, 2.5, 3.0, 3.5, 4.0])
    on_the_line = 0.3 - 0.05 * losses
    assert scatter(on_the_line, losses) == pytest.approx(0.0, abs=1e-12)
    noise = np.array([0.01, -0.02, 0.02, -0.02, 0.01])  # orthogonal to 1 and to the losses: the fit keeps it all
    assert scatter(on_the_line + noise, losses) == pytest.approx(np.sqrt(noise @ noise / 3))
    with pytest.raises(ValueError):
        scatter([0.1, 0.2], [2.0, 3.0])


@pytest.mark.parametrize(("value", "spread", "shown"), [
    (0.094912, 0.009015, "0.0949"),  # the scatter to two significant figures sets the decimals
    (0.094912, 0.012, "0.095"),
    (0.5, 0.3, "0.50"),
    (12.3456, 2.5, "12.3"),
    (0.094912, None, "0.09491"),  # not measured: four significant figures
])
def test_an_estimate_is_printed_to_its_scatter(value: float, spread: float | None, shown: str) -> None:
    assert format_estimate(value, spread) == shown


def test_picks_within_the_scatter_of_the_best_are_named() -> None:
    values = [0.0949, 0.0948, 0.0936, 0.0850]
    assert within_scatter(values, 0.009) == 3 and within_scatter(values, None) == 0
    assert "picks 0–2 lie within it of pick 0" in scatter_note(0.009, "measured", values)
    assert "not measured" in scatter_note(None, "measured", values)
    assert decimals(0.009015) == 4 and decimals(0.0099) == 4 and decimals(0.01) == 3


def test_the_proxys_committed_scatter_is_what_its_fit_gives() -> None:
    """proxy_fit.json's leave-one-out scatter is recomputed from the students stored in it, and the estimator
    reports it."""
    fitted = json.loads(proxy.FIT_FILE.read_text())
    archs = [Arch(**row["arch"]) for row in fitted["data"]]
    refit = proxy.fit(archs, [row["loss"] for row in fitted["data"]], fitted["note"])
    assert refit["coefficients"] == fitted["coefficients"]
    assert refit["loo_scatter"] == pytest.approx(fitted["loo_scatter"], abs=1e-6)
    assert proxy.ProxyEstimator().scatter == fitted["loo_scatter"] > 0
    # and in nats of the loss it predicts, −ln(score): what the tables and the plot show
    assert refit["loo_scatter_loss"] == pytest.approx(fitted["loo_scatter_loss"], abs=1e-6)
    assert proxy.ProxyEstimator().loss_scatter == fitted["loo_scatter_loss"] > 0


def test_an_estimate_reads_as_the_loss_it_predicts_with_its_unit_and_scatter() -> None:
    """A score of 0.0949 is shown as the loss it stands for, 2.35 nats, never as a bare number like an accuracy."""
    estimate = Estimate("proxy", "predicted held-out distillation loss", 0.19, "measured", "Spearman 0.42, n=18")
    assert estimate.value(0.0949) == "2.35"
    assert estimate.phrase(0.0949) == "predicted held-out distillation loss 2.35 ±0.19 nats (proxy; lower is better)"
    assert estimate.axis_title() == "predicted held-out distillation loss (nats) · lower is better"
    assert "picks 0–1 lie within it" in estimate.caption([2.35, 2.40, 2.60])
    recorded = Estimate.from_record({"estimator": {"name": "proxy", "quality": "q", **estimate.record()}})
    assert recorded.value(0.0949) == "2.35" and recorded.scatter == 0.19
    old = Estimate.from_record({"estimator": {"name": "proxy", "scatter": 0.009}})  # a run from before the loss
    assert old.scatter is None and old.value(0.0949) == "2.355" and "not measured" in old.caption()
