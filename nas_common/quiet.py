"""Silence import-time chatter of optional libraries, so that a command's stderr holds only its own lines.

With the `tflite` extra installed, `transformers` imports `torchao` (pulled in by litert-torch), which logs
warnings about CUDA kernels it cannot load and no Triton, and torch logs deprecations of pytree
registrations it makes — four lines before any command's own output, on every command that loads a model.
`transformers`' MobileBERT builds its MLM head's extra output columns (hidden_size − embedding_size of them) even
when there are none, and torch warns "Initializing zero-element tensors is a no-op" for every such student —
most of this tool's (embedding_size = hidden_size), a line that reads like a fault and is not one.
"""

from __future__ import annotations

import logging
import warnings

NOISY_LOGGERS = ("torchao", "torch.utils._pytree")


def quiet_optional_libraries() -> None:
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Initializing zero-element tensors is a no-op", category=UserWarning)
