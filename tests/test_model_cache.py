"""The LiteRT model cache stays under its size limit, evicting the least recently used file first."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from latency_models import model_cache
from nas_common.errors import UserInputError


def _file(directory: Path, name: str, size: int, age_s: float) -> Path:
    path = directory / name
    path.write_bytes(b"\0" * size)
    then = time.time() - age_s
    os.utime(path, (then, then))
    return path


def test_prune_evicts_least_recently_used_until_under_the_limit(tmp_path: Path) -> None:
    oldest = _file(tmp_path, "a.tflite", 400, age_s=300)
    middle = _file(tmp_path, "b.tflite", 400, age_s=200)
    newest = _file(tmp_path, "c.tflite", 400, age_s=100)
    other = _file(tmp_path, "notes.txt", 10_000, age_s=900)  # not a model: never counted nor deleted
    deleted = model_cache.prune(tmp_path, limit=800)
    assert deleted == [oldest]
    assert middle.exists() and newest.exists() and other.exists()


def test_prune_never_deletes_the_file_just_written(tmp_path: Path) -> None:
    just_written = _file(tmp_path, "big.tflite", 1000, age_s=500)  # older mtime than the rest, e.g. a copied file
    rest = _file(tmp_path, "small.tflite", 100, age_s=10)
    model_cache.prune(tmp_path, limit=500, keep=just_written)
    assert just_written.exists() and not rest.exists()


def test_a_hit_makes_a_file_the_last_to_go(tmp_path: Path) -> None:
    used = _file(tmp_path, "used.tflite", 400, age_s=300)
    idle = _file(tmp_path, "idle.tflite", 400, age_s=100)
    model_cache.touch(used)
    model_cache.prune(tmp_path, limit=400)
    assert used.exists() and not idle.exists()


def test_prune_clears_abandoned_partial_conversions_only(tmp_path: Path) -> None:
    abandoned = _file(tmp_path, "x.tflite.123.partial", 10, age_s=2 * model_cache.ABANDONED_AFTER_S)
    in_progress = _file(tmp_path, "y.tflite.456.partial", 10, age_s=5)
    model_cache.prune(tmp_path, limit=10**9)
    assert not abandoned.exists() and in_progress.exists()


@pytest.mark.parametrize(("value", "expected"), [("", int(model_cache.DEFAULT_LIMIT_GB * 1e9)), ("0.5", 500_000_000)])
def test_limit_from_the_environment(monkeypatch: pytest.MonkeyPatch, value: str, expected: int) -> None:
    monkeypatch.setenv(model_cache.LIMIT_ENV, value)
    assert model_cache.limit_bytes() == expected


@pytest.mark.parametrize("value", ["lots", "0", "-3", "nan"])
def test_a_bad_limit_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(model_cache.LIMIT_ENV, value)
    with pytest.raises(UserInputError, match="NAS_TFLITE_CACHE_GB must be a positive number"):
        model_cache.limit_bytes()
