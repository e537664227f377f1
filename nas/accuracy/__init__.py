"""Accuracy estimators: how good an architecture will be once trained, without (or before) training it.

An estimator maps archs to a score where higher is better (see `base.AccuracyEstimator`). `predictor` (a
supernet's predictor shipped with the package, nas/accuracy/shipping.py) is `nas search`'s default in its space,
`params` (body-parameter count) elsewhere (nas/accuracy/default.py); `proxy` is training-free and `supernet` a
trained supernet (nas/accuracy/supernet.py). Estimators are found by name in `ESTIMATORS`
("module:class", imported only when chosen, so training code loads only for an estimator that needs it) and
built with their options in one place, `get_estimator(name, **options)`.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from nas.accuracy.base import AccuracyEstimator, describe, quality_of
from nas_common.errors import UserInputError

ESTIMATORS: dict[str, str] = {
    "proxy": "nas.accuracy.proxy:ProxyEstimator",
    "params": "nas.accuracy.params:ParamsEstimator",
    "supernet": "nas.accuracy.supernet:SupernetEstimator",
    "predictor": "nas.accuracy.shipping:ShippedPredictorEstimator",
}


def estimator_names() -> list[str]:
    return sorted(ESTIMATORS)


def get_estimator(name: str, **options: Any) -> AccuracyEstimator:
    """The estimator `name` built with `options` (e.g. `supernet=DIR`); unknown names or options are one line."""
    if name not in ESTIMATORS:
        raise UserInputError(f"unknown accuracy estimator {name!r}; known: {', '.join(estimator_names())}")
    module, _, attr = ESTIMATORS[name].partition(":")
    factory = getattr(importlib.import_module(module), attr)
    given = {k: v for k, v in options.items() if v is not None}
    try:
        inspect.signature(factory).bind(**given)
    except TypeError:
        taken = inspect.signature(factory).parameters
        unknown = [k for k in given if k not in taken] or list(given)
        raise UserInputError(f"the {name} estimator does not take {', '.join(f'--{k}' for k in unknown)}") from None
    return factory(**given)


__all__ = ["ESTIMATORS", "AccuracyEstimator", "describe", "estimator_names", "get_estimator",
           "quality_of"]
