"""Silence import-time chatter of optional libraries, so that a command's stderr holds only its own lines.

With the `tflite` extra installed, `transformers` imports `torchao` (pulled in by litert-torch), which logs
warnings about CUDA kernels it cannot load and no Triton, and torch logs deprecations of pytree
registrations it makes — four lines before any command's own output, on every command that loads a model.
"""

from __future__ import annotations

import logging

NOISY_LOGGERS = ("torchao", "torch.utils._pytree")


def quiet_optional_libraries() -> None:
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
