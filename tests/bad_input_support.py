"""The machinery of `tests/test_bad_input.py`: a row (`Case`), the setups rows share, and how a row runs.

The rows themselves, grouped by the helper who owns each fix, live in `tests/test_bad_input.py`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from search_spaces.presets import PRESETS

Setup = Callable[[Path], dict[str, str]]
REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    setup: str | Setup | None
    code: int
    phrase: str  # in the one-line error (exit 2), else in stdout + stderr
    unchanged: tuple[str, ...] = ()  # setup names whose files must be byte-identical afterwards
    marks: tuple = field(default=())
    env: tuple[tuple[str, str], ...] = ()  # (name, value) set for the row; values may hold placeholders


def xfail(reason: str) -> tuple:
    return (pytest.mark.xfail(reason=reason, strict=False),)


# ====================================================================== setups
SETUPS: dict[str, Setup] = {}


def setup(fn: Setup) -> Setup:
    SETUPS[fn.__name__] = fn
    return fn


@setup
def regular_file(tmp: Path) -> dict[str, str]:
    path = tmp / "taken"
    path.write_text("user data\n")
    return {"file": str(path), "under_file": str(path / "out")}


def _one_file(name: str, key: str, content: str) -> Setup:
    def make(tmp: Path) -> dict[str, str]:
        (tmp / name).write_text(content)
        return {key: str(tmp / name)}

    return make


for _setup_name, _file, _key, _content in (
    ("broken_json", "broken.json", "json", '{"num_attention_heads": 3'),
    ("contradicting_arch", "arch.json", "json", '{"num_attention_heads": 3}'),
    ("broken_toml", "broken.toml", "toml", "name = 'x'\n[target\n"),
):
    SETUPS[_setup_name] = _one_file(_file, _key, _content)


@setup
def empty_dir(tmp: Path) -> dict[str, str]:
    (tmp / "empty").mkdir()
    return {"dir": str(tmp / "empty")}


def hf_config(tmp: Path, **changes) -> Path:
    from transformers import MobileBertConfig

    model_dir = tmp / "hf-model"
    PRESETS["mobilebert-tiny"].arch.to_hf_config().save_pretrained(model_dir)
    if changes:
        data = json.loads((model_dir / "config.json").read_text())
        data.update(changes)
        (model_dir / "config.json").write_text(json.dumps(data))
    assert MobileBertConfig  # saved exactly as `MobileBertConfig(...).save_pretrained(D)` writes it
    return model_dir


@setup
def hf_model_dir(tmp: Path) -> dict[str, str]:
    model_dir = hf_config(tmp)
    return {"dir": str(model_dir), "config": str(model_dir / "config.json")}


@setup
def hf_config_bad_true_hidden(tmp: Path) -> dict[str, str]:
    return {"dir": str(hf_config(tmp, true_hidden_size=100))}


@setup
def hf_config_not_mobilebert(tmp: Path) -> dict[str, str]:
    return {"dir": str(hf_config(tmp, model_type="gpt2"))}


@setup
def huge_arch(tmp: Path) -> dict[str, str]:
    (tmp / "huge.json").write_text(json.dumps({"num_hidden_layers": 10_000}))
    (tmp / "wide.json").write_text(json.dumps({"hidden_size": 1_000_000}))
    return {"layers": str(tmp / "huge.json"), "wide": str(tmp / "wide.json")}


@setup
def read_only_place(tmp: Path) -> dict[str, str]:
    # /proc refuses new entries even to root, so this is read-only for whoever runs the tests
    return {"ro": "/proc/nas-bad-input-test/out"}


def arch_files(tmp: Path) -> dict[str, str]:
    """Arch inputs a user might hand over: a typo, a list, binary, an infinity, per-layer lists, a row."""
    files = {
        "typo": {"hidden_sise": 512},
        "inf": '{"intermediate_size": 1e400}',
        "per_layer_short": {"intermediate_size": [512, 512]},
        "row": {"num_hidden_layers": 2, "true_hidden_size": 128, "latency_ms": 3.0},
        "row_ok": {"num_hidden_layers": 2, "true_hidden_size": 128},
        "list": [1, 2],
    }
    out = {}
    for name, content in files.items():
        (tmp / f"{name}.json").write_text(content if isinstance(content, str) else json.dumps(content))
        out[name] = str(tmp / f"{name}.json")
    (tmp / "binary.json").write_bytes(bytes(range(256)))
    out["binary"] = str(tmp / "binary.json")
    return out


def hf_variant(**changes) -> Setup:
    return lambda tmp: {"dir": str(hf_config(tmp, **changes))}


def fake_run(best: bool) -> Setup:
    def make(tmp: Path) -> dict[str, str]:
        run = tmp / "run"
        (run / "best").mkdir(parents=True) if best else run.mkdir()
        (run / "run.json").write_text('{"options": {"budget_ms": 62.0}}')
        if best:
            PRESETS["mobilebert-tiny"].arch.save(run / "best" / "arch.json")
        return {"run": str(run)}

    return make


def space_file(text: str) -> Setup:
    def make(tmp: Path) -> dict[str, str]:
        (tmp / "space.toml").write_text(text)
        return {"space": str(tmp / "space.toml")}

    return make


def snapshot(path: Path) -> dict[str, bytes] | None:
    if path.is_file():
        return {"": path.read_bytes()}
    if path.is_dir():
        return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}
    return None


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from nas.cli import main

    with pytest.raises(SystemExit) as stop:
        main(argv)
    captured = capsys.readouterr()
    code = stop.value.code
    return (0 if code is None else int(code)), captured.out, captured.err
