"""Accuracy estimators: how good an architecture will be once trained, without (or before) training it.

An estimator maps archs to a score where higher is better. `proxy` (training-free, microseconds per arch) is
the default; a distillation-based estimator plugs in through `register_estimator`.
"""

from __future__ import annotations

from collections.abc import Callable

from nas.accuracy.base import AccuracyEstimator
from nas.accuracy.proxy import ProxyEstimator
from nas_common.errors import UserInputError

_FACTORIES: dict[str, Callable[[], AccuracyEstimator]] = {"proxy": ProxyEstimator}


def register_estimator(name: str, factory: Callable[[], AccuracyEstimator]) -> None:
    _FACTORIES[name] = factory


def estimator_names() -> list[str]:
    return sorted(_FACTORIES)


def get_estimator(name: str = "proxy") -> AccuracyEstimator:
    if name not in _FACTORIES:
        raise UserInputError(f"unknown accuracy estimator {name!r}; known: {', '.join(estimator_names())}")
    return _FACTORIES[name]()


__all__ = ["AccuracyEstimator", "ProxyEstimator", "estimator_names", "get_estimator", "register_estimator"]
