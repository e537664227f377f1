"""`nas supernet score`: the supernet's estimate for archs a user has in mind, one row each (the benchmark and
the accuracy estimator call the same `supernet_rows`).

An ensemble of supernets scores each arch by the members' mean. A second column comes from the accuracy
predictor fitted on supernet evaluations, when the estimator package provides one:
`nas.accuracy.supernet.predictor_scores(directory, archs) -> list[float] | None`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nas.accuracy.resolution import format_estimate
from nas.supernet.api import MEASURES, Supernet, load_supernet
from nas.supernet.ensemble import SPACE, members
from nas.supernet.space import resolve_supernet_arch
from nas_common.errors import UserInputError
from search_spaces.arch import Arch
from search_spaces.space import SearchSpace

LOSS_DIGITS = ".4f"  # a loss whose scatter about distilled students was not measured


def describe(arch: Arch) -> str:
    width = f"b{arch.intra_bottleneck_size}" if arch.use_bottleneck else "nobottleneck"
    return (f"L{arch.num_hidden_layers} {width} h{arch.num_attention_heads} "
            f"ffn{arch.intermediate_size}x{arch.num_feedforward_networks}")


def supernet_rows(supernet: Supernet, archs: Sequence[Arch], batches: Sequence[Any],
                  measure: str = "mlm", predictor: bool = True) -> list[dict[str, Any]]:
    """Per arch: its description, parameter count, the score (`measure`, lower is better) and every term."""
    if measure not in MEASURES:
        raise UserInputError(f"unknown --measure {measure!r}; choose one of {', '.join(MEASURES)}")
    losses = supernet.subnet_losses(archs, batches)
    return [{"arch": describe(a), "params": a.num_params(), "measure": measure, "score": terms[measure],
             "losses": terms, "arch_fields": a.to_dict()} for a, terms in zip(archs, losses, strict=True)]


def _predictor_scores(directory: Path, archs: Sequence[Arch]) -> list[float] | None:
    try:
        from nas.accuracy.supernet import predictor_scores
    except ImportError:
        return None
    return predictor_scores(directory, archs)


def measured_quality(directory: str | Path, measure: str) -> str:
    """What is known of how well `measure` ranks distilled students, for the line under the scores."""
    try:
        from nas.accuracy.supernet import MEASURE
        from nas.accuracy.supernet import measured_quality as recorded_quality
    except ImportError:
        return "not measured"
    if measure != MEASURE:
        return f"not measured for --measure {measure} (the search's estimate is {MEASURE})"
    return recorded_quality(Path(directory)) or "not measured for these weights (benchmarks/estimator_rank.py)"


def loss_scatters(directory: str | Path, measure: str) -> tuple[float | None, float | None]:
    """The measured scatter (nats) of the supernet's and the predictor's loss about the distilled students' trend:
    how many digits of a score line mean something (None: not measured, or another --measure)."""
    try:
        from nas.accuracy.supernet import MEASURE, measured_loss_scatter
    except ImportError:
        return None, None
    supernet, predictor = measured_loss_scatter(Path(directory))
    return (supernet if measure == MEASURE else None), predictor


def _predictor_measure() -> str:
    from nas.accuracy.supernet import MEASURE

    return MEASURE


def mean_rows(per_member: Sequence[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """An ensemble's rows: each arch's score and every loss term averaged over the members."""
    out = []
    for rows in zip(*per_member, strict=True):
        terms = {k: sum(r["losses"][k] for r in rows) / len(rows) for k in rows[0]["losses"]}
        out.append({**rows[0], "score": sum(r["score"] for r in rows) / len(rows), "losses": terms,
                    "members": len(rows)})
    return out


def score_rows(directory: str | Path, arch_texts: Sequence[str], eval_corpus: str | None = None,
               measure: str = "mlm", predictor: bool = True) -> list[dict[str, Any]]:
    """One row per arch: a supernet's scores, or an ensemble's (nas/supernet/ensemble.py), the members' mean."""
    if measure not in MEASURES:
        raise UserInputError(f"unknown --measure {measure!r}; choose one of {', '.join(MEASURES)}")
    member_dirs = members(directory)
    space = SearchSpace.load(Path(directory) / SPACE)  # a bad --arch is refused before any weights load
    archs = [resolve_supernet_arch(text, space) for text in arch_texts]
    if eval_corpus is not None:  # a missing, empty or binary corpus is refused before any weights load
        from nas.distill.data_corpus import check_has_text

        check_has_text(eval_corpus, "--eval-corpus")
    per_member = []
    for member in member_dirs:
        supernet = load_supernet(member)
        per_member.append(supernet_rows(supernet, archs, supernet.eval_batches(eval_corpus), measure))
    rows = mean_rows(per_member) if len(per_member) > 1 else per_member[0]
    predicted = _predictor_scores(Path(directory), archs) if predictor else None
    predicted_measure = _predictor_measure() if predicted is not None else None
    score_scatter, predictor_scatter = loss_scatters(directory, measure)
    for index, row in enumerate(rows):
        row["predictor"] = predicted[index] if predicted is not None else None
        row["predictor_measure"] = predicted_measure  # the predictor is fitted on one loss, whatever --measure
        extra = (f"  predictor {predicted_measure} {format_estimate(row['predictor'], predictor_scatter, LOSS_DIGITS)}"
                 if row["predictor"] is not None else "")
        if row.get("members"):
            extra += f"  (mean of {row['members']} supernets)"
        row["line"] = (f"{row['arch']:<32} {row['params'] / 1e6:7.2f}M params  {measure} "
                       f"{format_estimate(row['score'], score_scatter, LOSS_DIGITS)}{extra}")
    return rows

