"""`nas confirm` keeps a finished trial's model once (issue 30): models/<id>/model/ and Tune's last checkpoint
hold the same files, hard-linked, not copied."""

from __future__ import annotations

import shutil
from pathlib import Path

from nas.confirm.trial import share_files


def _model(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "model.safetensors").write_bytes(bytes(range(256)) * 400)
    (path / "state.json").write_text('{"steps": 8}\n')
    (path / "dev-8").mkdir()
    (path / "dev-8" / "metrics.json").write_text("{}\n")
    return path


def test_a_finished_trial_shares_its_files_with_its_checkpoint(tmp_path: Path) -> None:
    model = _model(tmp_path / "models" / "7" / "model")
    saved = tmp_path / "tune" / "arch-7" / "checkpoint_000002"
    shutil.copytree(model, saved)
    (model / "losses.csv").write_text("written after the checkpoint\n")  # only in model/: left alone
    (saved / "state.json").write_text('{"steps": 4}\n')  # differs: left alone
    shared = share_files(model, saved)
    assert shared == (model / "model.safetensors").stat().st_size + (model / "dev-8" / "metrics.json").stat().st_size
    for name in ("model.safetensors", "dev-8/metrics.json"):
        assert (model / name).stat().st_ino == (saved / name).stat().st_ino
    assert (model / "state.json").read_text() == '{"steps": 8}\n'
    assert (model / "state.json").stat().st_ino != (saved / "state.json").stat().st_ino
    assert share_files(model, saved) == 0  # already one copy
    shutil.rmtree(model)  # `drop_stopped_models` removing the directory leaves the checkpoint whole
    assert (saved / "model.safetensors").read_bytes() == bytes(range(256)) * 400


def test_no_checkpoint_shares_nothing(tmp_path: Path) -> None:
    assert share_files(_model(tmp_path / "m"), None) == 0
