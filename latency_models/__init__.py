"""Latency prediction: TVM lowering → kernel features → calibrated per-kernel cost model."""

from latency_models.predictor import Predictor, load_predictor

__all__ = ["Predictor", "load_predictor"]
