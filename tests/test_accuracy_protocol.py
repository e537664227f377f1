"""The estimator contract (nas/accuracy/base.py): every estimator subclasses `AccuracyEstimator`, which declares
every member the search, the report and run.json use, with documented defaults; callers never probe for one."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import numpy as np
import pytest

from nas.accuracy import ESTIMATORS, describe, quality_of
from nas.accuracy.base import GENERIC_QUANTITY, UNMEASURED, AccuracyEstimator
from nas.accuracy.resolution import Estimate, scatter_of
from search_spaces.space import SearchSpace

ROOT = Path(__file__).resolve().parents[1]
ATTRIBUTES = ("name", "version", "quality", "quantity", "scatter", "scatter_source", "loss_scatter",
              "loss_scatter_source")
METHODS = ("estimate", "restrict_space", "refine_front")


def estimator_class(name: str) -> type:
    module, _, attr = ESTIMATORS[name].partition(":")
    return getattr(importlib.import_module(module), attr)


class Minimal(AccuracyEstimator):
    """A third estimator written from the contract alone: identity and `estimate`, nothing else."""

    name, version, quality = "constant", "1", ""

    def estimate(self, archs):  # noqa: ANN001, ANN201
        return np.full(len(archs), 0.5)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_every_registered_estimator_subclasses_the_contract(name: str) -> None:
    cls = estimator_class(name)
    assert issubclass(cls, AccuracyEstimator) and not inspect.isabstract(cls)
    assert cls.estimate is not AccuracyEstimator.estimate


def test_the_proxy_has_every_member() -> None:
    proxy = estimator_class("proxy")()
    for member in (*ATTRIBUTES, *METHODS):
        assert hasattr(proxy, member), member
    assert proxy.scatter is not None and proxy.loss_scatter is not None and proxy.scatter_source


def test_the_contract_documents_every_member() -> None:
    assert set(ATTRIBUTES) <= set(AccuracyEstimator.__annotations__)
    doc = inspect.getdoc(AccuracyEstimator)
    assert all(f"`{member}`" in doc for member in ATTRIBUTES), doc
    assert all(inspect.getdoc(getattr(AccuracyEstimator, m)) for m in METHODS)
    with pytest.raises(TypeError):  # estimate is the one member without a default
        type("NoEstimate", (AccuracyEstimator,), {"name": "x", "version": "1", "quality": ""})()


def test_a_minimal_estimator_gets_the_documented_defaults() -> None:
    estimator = Minimal()
    space = SearchSpace.load("mobilebert-family")
    assert estimator.restrict_space(space, explicit=False) is space
    trials = [object(), object()]
    assert estimator.refine_front(trials, 62.0) == trials
    assert quality_of(estimator) == UNMEASURED and describe(estimator) == f"constant ({UNMEASURED})"
    assert scatter_of(estimator) is None
    assert Estimate.of(estimator) == Estimate("constant", GENERIC_QUANTITY, None, "measured", UNMEASURED)


def test_no_caller_probes_an_estimator_for_a_member() -> None:
    probe = re.compile(r"\b(hasattr|getattr)\(\s*(estimator|accuracy|self\.accuracy)\b")
    found = [f"{p.relative_to(ROOT)}:{n}" for p in sorted((ROOT / "nas").rglob("*.py"))
             for n, line in enumerate(p.read_text().splitlines(), 1) if probe.search(line)]
    assert not found, found
