"""`supernet`: an arch's score is its inherited sub-network's quality on fixed held-out batches.

The score of an arch is exp(−L), L its held-out loss `MEASURE` as a sub-network of a trained supernet
(`nas supernet train`): for the masked-LM cross-entropy that is the geometric-mean probability the subnet gives
the right token at a masked position, in (0, 1], higher is better. Which loss ranks best against students
distilled standalone was measured by benchmarks/estimator_rank.py (see `MEASURE`).

Speed: one sub-network on the held-out set (EVAL_BATCHES × EVAL_BATCH sequences) is a forward pass of seconds
on CPU, too slow for thousands of trials, so the search scores archs with the accuracy predictor
(nas/accuracy/predictor.py: xgboost on SAMPLES supernet evaluations, fitted once per supernet and stored in
SUPERNET/predictor/, as Once-for-All does; cheap once fitted). After the search the final front
is re-scored by the supernet itself (`refine_front`, at most REFINE_MAX evaluations), which with loading the
supernet is most of a search's time; fitting the predictor, the first time, is most of the first search's.
Measured wall times: benchmarks/results/supernet_search_s9600.json (`python -m benchmarks.supernet_ensemble_search`,
`--profile` for where the time goes) and benchmarks/results/supernet_sequence.json.
The search space is the supernet's (`restrict_space`). An ensemble of supernets (nas/supernet/ensemble.py: one
recipe, several seeds) scores an arch by the mean of its members' held-out losses (and of their predictors').

Importing this module does not load torch; the supernet is loaded only to fit the predictor or to re-score.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import math
import sys
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from nas.accuracy import predictor as pred
from nas.accuracy.base import AccuracyEstimator
from nas.supernet import ensemble
from nas_common.errors import UserInputError
from nas_common.io import read_json
from nas_common.writing import write_json
from search_spaces.arch import Arch
from search_spaces.space import SearchSpace

# The loss that ranks best against ground truth 1 (benchmarks/results/estimator_rank_split_s9600.json, `estimates`:
# MLM 0.88 against PD 0.81, PD+KD 0.71, distill 0.60, FM 0.58, attention 0.01; earlier measurements: docs/history.md).
MEASURE = "mlm"
# The predictor's and the re-scoring's held-out set: 8 × 32 sequences, `nas distill --eval-corpus`'s (the ground
# truth's). 4 × 16 was too small a sample for a split supernet, whose archs differ by hundredths: split-half
# agreement 0.65 at 64 sequences against 0.94 at 1024 (benchmarks/results/supernet_rank_diagnosis_split.json).
EVAL_BATCHES, EVAL_BATCH = 8, 32
PREDICTOR_DIR, QUALITY = "predictor", "quality.json"
REFINE_ROUNDS, REFINE_MAX = 3, 8  # re-scoring stops after 3 rounds or 8 archs (each a held-out forward pass)
SEED = 0
# a held-out loss in nats is never negative, and far below this (uniform guessing over BERT's vocabulary: 10.3);
# the bound of `nas accuracy fit-proxy` (nas/cli/accuracy.py MAX_LOSS_NATS) for the same truth files
MAX_TRUTH_LOSS = 100.0


def derived_losses(terms: dict[str, float]) -> dict[str, float]:
    """The supernet's terms plus `pd`: the pre-training distillation loss pd_kd + 0.5·mlm (paper §3.6)."""
    return {**terms, "pd": terms["pd_kd"] + 0.5 * terms["mlm"]}


def supernet_digest(directory: Path) -> str:
    """Changes when the supernet is trained further or replaced (weights file size and time, steps done)."""
    meta = read_json(directory / "supernet.json")
    files = sorted(directory.glob("weights/model.safetensors")) + sorted(directory.glob("parts/*/weights/"
                                                                                        "model.safetensors"))
    stats = [f.stat() for f in files]  # a split supernet's parts (nas/supernet/split.py) each hold weights
    key = ":".join(f"{s.st_size}:{s.st_mtime_ns}" for s in stats) or "0:0"
    key = f"{key}:{meta.get('steps_done')}"
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def eval_corpus(meta: dict[str, Any]) -> str:
    corpus = meta.get("eval_corpus")
    if corpus and Path(corpus).exists():
        return str(corpus)
    from nas_common.paths import data_dir

    corpora = data_dir(sub="corpus")
    if corpora is not None and (corpora / "wikitext2-test.txt").is_file():
        return str(corpora / "wikitext2-test.txt")
    raise UserInputError("the supernet has no held-out corpus: set NAS_DATA_DIR (corpus/wikitext2-test.txt) or "
                         "train it with --eval-corpus")


class _Scorer:
    """The loaded supernet and its fixed held-out batches (torch), made on first use."""

    def __init__(self, directory: Path) -> None:
        from nas.supernet.api import load_supernet

        self.supernet = load_supernet(directory)
        self.batches = self.supernet.eval_batches(eval_corpus(self.supernet.meta), EVAL_BATCHES, EVAL_BATCH)

    def losses(self, archs: Sequence[Arch]) -> list[dict[str, float]]:
        if MEASURE == "mlm":  # needs neither the teacher nor attention maps: about half the time
            return mlm_losses(self.supernet, archs, self.batches)
        return [derived_losses(t) for t in self.supernet.subnet_losses(archs, self.batches)]


def mlm_losses(supernet: Any, archs: Sequence[Arch], batches: Sequence[dict[str, Any]]) -> list[dict[str, float]]:
    """Held-out masked-LM cross-entropy of each arch's inherited sub-network (dropout off): the `mlm` term of
    `Supernet.subnet_losses`, without the teacher's forward and the transfer terms."""
    import torch
    import torch.nn.functional as F

    from nas.supernet.space import require_member

    elastic = supernet.elastic
    was_training = elastic.training
    elastic.eval()
    out = []
    head_weights: dict[tuple[int, Any], Any] = {}
    try:
        with torch.no_grad():
            for arch in archs:
                view = elastic.view(require_member(supernet.space, arch))
                total = 0.0
                for batch in batches:
                    masked = batch["labels"] != -100
                    hidden = view.base_model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                                             token_type_ids=batch["token_type_ids"]).last_hidden_state[masked]
                    logits = _mlm_logits(view, hidden, head_weights)
                    total += float(F.cross_entropy(logits.float(), batch["labels"][masked]))
                out.append({"mlm": total / len(batches)})
    finally:
        elastic.train(was_training)
    return out


def _mlm_logits(view: Any, hidden: Any, head_weights: dict[tuple[int, Any], Any]) -> Any:
    """What HF's MobileBertLMPredictionHead computes, with its output matrix — the tied decoder weight
    concatenated with `dense` — built once per set of head weights instead of once per call (the concatenation
    copies vocab × hidden floats; benchmarks/supernet_ensemble_search.py --profile measures its share)."""
    import torch

    tensors = view.tensors
    decoder = tensors["cls.predictions.decoder.weight"]
    key = (decoder.data_ptr(), tuple(decoder.shape))  # one per part of a split supernet
    if key not in head_weights:
        head_weights[key] = torch.cat([decoder.t(), tensors["cls.predictions.dense.weight"]], dim=0)
    transformed = view.submodule("cls.predictions.transform")(hidden)
    logits = transformed.matmul(head_weights[key])
    logits += tensors["cls.predictions.decoder.bias"]
    return logits


@lru_cache(maxsize=4)
def _scorer(directory: Path) -> _Scorer:
    return _Scorer(directory)


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def current_predictor(directory: Path, samples: int | None = None) -> pred.AccuracyPredictor | None:
    """The supernet's stored predictor when it was fitted for these weights, `MEASURE`, held-out set and at least
    `samples` evaluations (default `pred.SAMPLES`); None when there is none or it is stale."""
    found = pred.load(Path(directory) / PREDICTOR_DIR)
    if found is not None and found.meta.get("supernet_digest") == supernet_digest(Path(directory)) \
            and found.measure == MEASURE and found.meta.get("requested_samples", 0) >= (samples or pred.SAMPLES) \
            and (found.meta.get("eval") or {}).get("batches") == EVAL_BATCHES \
            and found.meta["eval"].get("batch_size") == EVAL_BATCH:
        return found
    return None


def ensure_predictor(directory: Path, samples: int | None = None) -> pred.AccuracyPredictor:
    """The supernet's stored predictor, fitted first (minutes, once per supernet) when missing or stale."""
    directory = Path(directory)
    samples = samples or pred.SAMPLES
    found = current_predictor(directory, samples)
    if found is not None:
        return found
    store = directory / PREDICTOR_DIR
    digest = supernet_digest(directory)
    spec = {"corpus": eval_corpus(read_json(directory / "supernet.json")), "batches": EVAL_BATCHES,
            "batch_size": EVAL_BATCH}
    made_for = {"digest": digest, "eval": spec}  # stored evaluations are reused only for the same weights and set
    if (store / pred.EVALUATIONS).is_file():
        stale = _read_digest(store / "digest.json")
        if stale != made_for:
            (store / pred.EVALUATIONS).unlink()
    store.mkdir(parents=True, exist_ok=True)
    write_json(store / "digest.json", made_for, indent=None)
    scorer = _scorer(directory)
    from nas.supernet.space import largest, smallest

    space = scorer.supernet.space
    archs = pred.sample_archs(space, samples, SEED, always=(largest(space), smallest(space)))
    _note(f"fitting the accuracy predictor of {directory} once: {len(archs)} supernet evaluations "
          f"(kept in {store}; an interrupted fit resumes)")
    evaluations = pred.evaluate_missing(store, archs, scorer.losses,
                                        progress=lambda done, total: _note(f"  {done}/{total} evaluated"))
    return pred.fit(store, evaluations, MEASURE, SEED,
                    {"supernet_digest": digest, "requested_samples": samples, "eval": spec})


def _read_digest(path: Path) -> Any:
    """What the stored evaluations were made for; None when missing or unreadable (they are then made again)."""
    if not path.is_file():
        return None
    try:
        return read_json(path)
    except UserInputError:
        return None


@lru_cache(maxsize=4)
def _cached_predictor(directory: Path, digest: str) -> pred.AccuracyPredictor:
    return ensure_predictor(directory)


def estimator_digest(directory: Path) -> str:
    """A supernet's digest, or an ensemble's (from its members')."""
    if ensemble.is_ensemble(directory):
        return ensemble.ensemble_digest([supernet_digest(m) for m in ensemble.members(directory)])
    return supernet_digest(directory)


def quality_text(measured: str | None, predictors: Sequence[pred.AccuracyPredictor]) -> str:
    """`measured`, the rank correlation vs distilled students measured for these weights (`measured_quality`:
    quality.json, written by `nas supernet quality`, which benchmarks/estimator_rank.py and
    benchmarks/supernet_seeds.py run; None when none was), and the predictors' cross-validated agreement with
    their supernets."""
    cvs = ", ".join(f"{_number(p.meta.get('cv', {}).get('spearman')):.2f}" for p in predictors)
    fit = f"predictor CV Spearman {cvs} vs the supernet{'s' if len(predictors) > 1 else ''}, " \
          f"n={predictors[0].meta['samples']}"
    kind = f"ensemble of {len(predictors)} supernets" if len(predictors) > 1 else "supernet"
    if measured is not None:
        return f"{measured}; {fit}"
    return f"rank correlation vs distilled students not measured for this {kind}; {fit}"


def _number(value: Any) -> float:
    """A stored number; null (strict JSON's undefined, e.g. a correlation of constant values) is NaN."""
    return float("nan") if value is None else float(value)


def measured_record(directory: Path) -> dict[str, Any] | None:
    """What `nas supernet quality` measured of these very weights against distilled students (quality.json), if
    it did."""
    path = Path(directory) / PREDICTOR_DIR / QUALITY
    if path.is_file():
        measured = read_json(path)
        if measured.get("supernet_digest") == estimator_digest(Path(directory)):
            return measured
    return None


def measured_loss_scatter(directory: Path) -> tuple[float | None, float | None]:
    """The supernet's and its predictor's held-out loss scattered about the distilled students' trend (nats),
    where a benchmark measured them for these weights."""
    measured = measured_record(directory) or {}
    return measured.get("scatter_loss"), measured.get("predictor_scatter_loss")


def measured_quality(directory: Path) -> str | None:
    """The rank correlation vs distilled students measured for these very weights, if it was."""
    measured = measured_record(directory)
    return str(measured["text"]) if measured else None


def check_within(space: SearchSpace, supernet_space: SearchSpace) -> SearchSpace:
    """`space` itself when every arch of it is a sub-network of the supernet, else a one-line error."""
    sample = space.to_arch({k: c[0] for k, c in space.dimensions.items()}) if space.dimensions else None
    for key, choices in space.dimensions.items():
        allowed = supernet_space.dimensions.get(key)
        if allowed is None:
            allowed = (supernet_space.fixed.get(key, getattr(sample, key, None)),)
        outside = [c for c in choices if c not in allowed]
        if outside:
            raise UserInputError(f"--space {space.name}: {key} choice(s) {', '.join(map(str, outside))} are outside "
                                 f"the supernet's space {supernet_space.name} ({key}: "
                                 f"{', '.join(map(str, allowed))})")
    rng = np.random.default_rng(0)
    for arch in [sample, *space.sample_many(50, rng)]:
        if arch is not None and not supernet_space.contains(arch):
            differing = sorted(k for k, v in arch.to_dict().items()
                               if k not in supernet_space.dimensions and supernet_space.fixed.get(k, v) != v)
            raise UserInputError(f"--space {space.name} is outside the supernet's space {supernet_space.name}"
                                 + (f": {', '.join(differing)} differ" if differing else ""))
    return space


def predicted_losses(predictors: Sequence[pred.AccuracyPredictor], archs: Sequence[Arch]) -> np.ndarray:
    """The predictors' mean predicted held-out loss per arch (one predictor per supernet of an ensemble): what the
    supernet estimator and a shipped predictor (nas/accuracy/shipping.py) score, as exp(−loss)."""
    return np.mean([p.predict(archs) for p in predictors], axis=0)


class SupernetEstimator(AccuracyEstimator):
    """Scores with the supernet's accuracy predictor during the search; `restrict_space` makes the run search the
    supernet's space (or checks `--space` lies within it); `refine_front` re-scores the front with the supernet
    itself. Quality and scatter are what `nas supernet quality` measured for these very weights (quality.json)."""

    name = "supernet"
    # the predictor's estimate of it during the search; the front's points re-scored by the supernet itself
    quantity = "held-out MLM loss of the inherited sub-network"

    def __init__(self, supernet: str | None = None) -> None:
        if not supernet:
            raise UserInputError("--estimator supernet needs --supernet DIR (a directory of `nas supernet train`)")
        directory = Path(supernet)
        if not (directory / "supernet.json").is_file() and not ensemble.is_ensemble(directory):
            raise UserInputError(f"{directory} is not a supernet directory (no supernet.json; run `nas supernet "
                                 "train`)")
        self.directory = directory.resolve()
        self.members = [m.resolve() for m in ensemble.members(self.directory)]
        self.digest = estimator_digest(self.directory)
        self.version = f"1-{MEASURE}-{self.digest}"

    @property
    def predictors(self) -> list[pred.AccuracyPredictor]:
        """One per member, each fitted on first use (not at construction: a bad --space is reported before minutes
        of fitting)."""
        return [_cached_predictor(m, supernet_digest(m)) for m in self.members]

    @property
    def predictor(self) -> pred.AccuracyPredictor:
        """The (first) member's predictor: its metadata and fit."""
        return self.predictors[0]

    @property
    def quality(self) -> str:
        return quality_text(measured_quality(self.directory), self.predictors)

    @property
    def scatter(self) -> float | None:
        """The scatter of the supernet's scores about the distilled students' trend, where it was measured."""
        return (measured_record(self.directory) or {}).get("scatter")

    @property
    def scatter_source(self) -> str:
        return f"sd of its scores about {(measured_record(self.directory) or {}).get('scatter_n', '?')} distilled " \
               "students' trend"

    @property
    def loss_scatter(self) -> float | None:
        """The same scatter in nats of the held-out loss, −ln(score) (what tables and the plot show)."""
        return measured_loss_scatter(self.directory)[0]

    @property
    def loss_scatter_source(self) -> str:
        return f"sd of its losses about {(measured_record(self.directory) or {}).get('scatter_n', '?')} distilled " \
               "students' trend"

    @property
    def space(self) -> SearchSpace:
        return SearchSpace.load(self.directory / "space.toml")

    def covers(self, arch: Arch) -> bool:
        return self.space.contains(arch)

    def restrict_space(self, space: SearchSpace, explicit: bool) -> SearchSpace:
        """The search space of a run: the supernet's, or a `--space` checked to lie inside it."""
        return check_within(space, self.space) if explicit else self.space

    def predicted_losses(self, archs: Sequence[Arch]) -> np.ndarray:
        """The predicted held-out loss (`MEASURE`), the members' mean for an ensemble."""
        return predicted_losses(self.predictors, archs)

    def estimate(self, archs: Sequence[Arch]) -> np.ndarray:
        """The predictor's estimate: exp(−predicted held-out loss)."""
        return np.exp(-self.predicted_losses(archs))

    def supernet_scores(self, archs: Sequence[Arch]) -> np.ndarray:
        """The supernet's own score, exp(−held-out loss), on the predictor's held-out batches (an ensemble: of the
        members' mean loss)."""
        losses = [[t[MEASURE] for t in _scorer(m).losses(archs)] for m in self.members]
        return np.exp(-np.mean(np.array(losses, dtype=float), axis=0))

    def refine_front(self, trials: list[Any], budget_ms: float) -> list[Any]:
        """Re-score the front's trials with the supernet itself, best first, until the front holds only re-scored
        trials (at most REFINE_ROUNDS rounds and REFINE_MAX evaluations); other trials keep the predictor's score."""
        from nas.search.results import front

        refined: dict[int, float] = {}
        for _ in range(REFINE_ROUNDS):
            todo = [t for t in front(trials, budget_ms) if t.id not in refined][:REFINE_MAX - len(refined)]
            if not todo:
                break
            _note(f"re-scoring {len(todo)} front point(s) with the supernet")
            refined.update(zip((t.id for t in todo), self.supernet_scores([t.arch for t in todo]).tolist(),
                               strict=True))
            trials = [dataclasses.replace(t, accuracy=refined[t.id]) if t.id in refined else t for t in trials]
        return trials


def predictor_scores(directory: str | Path, archs: Sequence[Arch]) -> list[float] | None:
    """The predictor's held-out loss (`MEASURE`) per arch, for `nas supernet score` (fitted on first use; an
    ensemble's: the mean of its members' predictors)."""
    return [float(v) for v in SupernetEstimator(str(directory)).predicted_losses(archs)]


def write_quality(directory: Path, text: str, details: dict[str, Any]) -> None:
    """Write the measured rank correlation of this supernet against distilled students (quality.json): the
    product command `nas supernet quality` (`record_quality`) writes it; benchmarks/estimator_rank.py and
    benchmarks/supernet_seeds.py call that command's function."""
    store = Path(directory) / PREDICTOR_DIR
    store.mkdir(parents=True, exist_ok=True)
    record = {"text": text, "supernet_digest": estimator_digest(Path(directory)), **details}
    write_json(store / QUALITY, record)


def read_truth(path: Path) -> dict[str, Any]:
    """A ground-truth file: {"data": [{"arch": {...}, "loss": L}, ...]} (held-out losses of distilled students,
    as `nas accuracy fit-proxy` reads), with optional provenance: "students" (what they are, for the text),
    "archs" (how many were planned: a partial truth says so), "measured_by", "date", "seed", "budget"."""
    record = read_json(path, "ground truth")
    rows = record.get("data") if isinstance(record, dict) else None
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) and "arch" in r and "loss" in r
                                                         for r in rows):
        raise UserInputError(f"{path}: needs \"data\", a list of {{\"arch\": ..., \"loss\": ...}} rows")
    for index, row in enumerate(rows):
        if not isinstance(row["loss"], int | float) or isinstance(row["loss"], bool) \
                or not math.isfinite(row["loss"]):
            raise UserInputError(f"{path}: every row's \"loss\" must be a finite number (got {row['loss']!r})")
        if not 0 <= row["loss"] <= MAX_TRUTH_LOSS:
            raise UserInputError(f"{path}: data[{index}].loss must be a held-out loss in nats between 0 and "
                                 f"{MAX_TRUTH_LOSS:g} (as `nas accuracy fit-proxy` reads), got {row['loss']!r}")
    planned = record.get("archs")
    if planned is not None and (not isinstance(planned, int) or isinstance(planned, bool) or planned < 0):
        raise UserInputError(f"{path}: \"archs\" (how many students were planned) must be a whole number "
                             f"(got {planned!r})")
    return record


def rank_correlations(estimate: Sequence[float], losses: Sequence[float]) -> tuple[float | None, float | None]:
    """Spearman and Kendall (scipy, 4 decimals) of a score (higher is better) against losses (lower is better);
    None when either is constant or there are fewer than 3 students."""
    from scipy.stats import kendalltau, spearmanr

    x, y = np.array(estimate, dtype=float), -np.array(losses, dtype=float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None, None
    return round(float(spearmanr(x, y).statistic), 4), round(float(kendalltau(x, y).statistic), 4)


def truth_in_space(record: dict[str, Any], truth: Path, space: SearchSpace,
                   what: str) -> tuple[list[Arch], list[float]]:
    """The archs of a truth record (`read_truth`) that lie in `space` and their losses; at least 3, else one line."""
    rows = [(Arch.from_dict(r["arch"], source=f"{truth} data[{i}].arch"), float(r["loss"]))
            for i, r in enumerate(record["data"])]
    inside = [(arch, loss) for arch, loss in rows if space.contains(arch)]
    if len(inside) < 3:
        raise UserInputError(f"{truth}: {len(inside)} of its archs lie in {what}; at least 3 are needed")
    return [arch for arch, _ in inside], [loss for _, loss in inside]


def record_quality(directory: Path, truth: Path, overwrite: bool = False, predictor: bool = True) -> dict[str, Any]:
    """`nas supernet quality`: score the truth's archs with the supernet estimator (and its predictor), rank them
    against the students' held-out losses, write quality.json into the supernet (or ensemble) directory and
    return the record. The archs outside the supernet's space are left out."""
    from nas.accuracy.resolution import scatter

    directory = Path(directory)
    estimator = SupernetEstimator(str(directory))  # a one-line error when it is no supernet (or ensemble)
    record = read_truth(Path(truth))
    target = directory / PREDICTOR_DIR / QUALITY
    if target.exists() and not overwrite:
        raise UserInputError(f"{target} already exists; pass --overwrite to replace it")
    archs, losses = truth_in_space(record, truth, estimator.space, "the supernet's space")
    if len(set(losses)) < 2:  # known before the archs are scored (minutes on a real supernet)
        raise UserInputError(f"{truth}: every student in the supernet's space has the same loss ({losses[0]:g}); "
                             "no rank correlation to record: give students of different loss")
    scores = estimator.supernet_scores(archs).tolist()
    predicted = estimator.estimate(archs).tolist() if predictor else None
    spearman, kendall = rank_correlations(scores, losses)
    if spearman is None:
        raise UserInputError(f"{truth}: the students' losses or the supernet's scores are all equal; no rank "
                             "correlation to record")
    predictor_spearman = rank_correlations(predicted, losses)[0] if predicted is not None else None

    def loss_scatter(estimates: Sequence[float] | None) -> float | None:
        """In nats of the estimator's own loss (its score is exp(−loss)), for `nas supernet score`'s lines."""
        return None if estimates is None else round(scatter([-math.log(e) for e in estimates], losses), 6)

    n, planned, members = len(archs), int(record.get("archs") or 0), len(estimator.members)
    text = (f"Spearman {spearman:.2f} vs {record.get('students', 'distilled students')} (held-out PD loss), n={n}"
            + (f", {n} of {planned} archs" if n < planned else "")
            + (f", mean of {members} supernets" if members > 1 else "")
            + (f"; its predictor {predictor_spearman:.2f} on the same students"
               if predictor_spearman is not None else ""))
    details = {"benchmark": record.get("measured_by", "nas supernet quality"),
               "date": record.get("date") or datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
               "seed": record.get("seed"), "kendall": kendall, "predictor_spearman": predictor_spearman,
               "budget": record.get("budget"), "scatter": round(scatter(scores, losses), 6), "scatter_n": n,
               "scatter_loss": loss_scatter(scores), "predictor_scatter_loss": loss_scatter(predicted)}
    write_quality(directory, text, details)
    return read_json(target)


def score_of_loss(loss: float) -> float:
    return math.exp(-loss)
