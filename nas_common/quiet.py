"""Silence the chatter of the libraries a command uses, so that its stderr holds only its own lines (`nas -v`
lets it through).

With the `tflite` extra installed, `transformers` imports `torchao` (pulled in by litert-torch), which logs
warnings about CUDA kernels it cannot load and no Triton, and torch logs deprecations of pytree
registrations it makes — four lines before any command's own output, on every command that loads a model.
`torch.onnx` logs a line for each torchvision operator it cannot register (`nas export --onnx`), torch's pytree
raises a FutureWarning while exporting, and TensorFlow Lite's C++ code logs INFO lines (a delegate created, oneDNN
on) straight to the process's stderr unless `TF_CPP_MIN_LOG_LEVEL` is set before it loads.
`transformers`' MobileBERT builds its MLM head's extra output columns (hidden_size − embedding_size of them) even
when there are none, and torch warns "Initializing zero-element tensors is a no-op" for every such student —
most of this tool's (embedding_size = hidden_size), a line that reads like a fault and is not one: it stays
silent also with `-v`.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

# torch resets the loggers it registers ("torch.onnx") when it loads, so the exporter's own logger is named
NOISY_LOGGERS = ("torchao", "torch.utils._pytree", "torch.onnx._internal.exporter._registration")
NATIVE_LOG_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3"}  # TensorFlow / LiteRT C++: errors only (read when they load)
DEVELOPER_WARNINGS = (FutureWarning, DeprecationWarning)  # addressed to a library's callers, not to a user
_SET_HERE: set[str] = set()
_verbose = False


def quiet_optional_libraries(verbose: bool = False) -> None:
    """Silence what a user of `nas` need not read; with `verbose`, let it through again (the CLI's `-v`)."""
    global _verbose
    _verbose = verbose
    warnings.filterwarnings("ignore", message="Initializing zero-element tensors is a no-op", category=UserWarning)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.ERROR)
    for category in DEVELOPER_WARNINGS:
        _filter(category, "default" if verbose else "ignore")
    for key, value in NATIVE_LOG_ENV.items():
        if verbose and key in _SET_HERE:
            del os.environ[key]
            _SET_HERE.discard(key)
        elif not verbose and key not in os.environ:  # a value the user set is theirs
            os.environ[key] = value
            _SET_HERE.add(key)


def _filter(category: type[Warning], action: str) -> None:
    """One filter for `category` at the front of the list (the last call wins, never a pile of them)."""
    warnings.filters[:] = [f for f in warnings.filters if not (f[0] in ("ignore", "default") and f[1] is None
                                                               and f[2] is category and f[3] is None)]
    warnings.simplefilter(action, category)


@contextmanager
def native_stderr_hidden() -> Iterator[None]:
    """Hold back what native code writes to the process's stderr (file descriptor 2: absl, TensorFlow Lite's
    INFO lines) while the block runs, unless `-v`; if the block fails, what was held back is shown after all."""
    if _verbose:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        except BaseException:
            _restore(saved)
            held.seek(0)
            sys.stderr.write(held.read().decode(errors="replace"))
            raise
        _restore(saved)


def _restore(saved: int) -> None:
    sys.stderr.flush()
    os.dup2(saved, 2)
    os.close(saved)
