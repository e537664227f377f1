"""Shipped accuracy predictors: a trained supernet's predictor packaged with nas, so that on a fresh clone
`nas search --estimator predictor` ranks archs in seconds without the supernet's weights (hours of training; they
stay a recipe: nas/supernet/README.md) and without torch.

`nas supernet ship SUPERNET --name NAME` (`ship`) copies what the predictor needs into SHIPPED/NAME/:

    manifest.json         format, name, version (of the files' content), created, the source supernet (digest,
                          steps done, recipe options), the measure, and the sha256 and size of every file below
    space.toml            the supernet's search space: a search with the predictor searches it (`restrict_space`)
    predictors/I/         model.json and meta.json as in SUPERNET/predictor/ (nas/accuracy/predictor.py); one per
                          member of an ensemble (the estimate is their mean, as the supernet estimator's)
    quality.json          the rank quality `nas supernet quality` measured for these very weights, when it did

Loading verifies every checksum (a changed file is one line). SHIPPED is nas/accuracy/shipped/ (package data), or
$NAS_SHIPPED_DIR where set (tests ship into a tmp folder, never into the package).
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import shutil
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from nas.accuracy import predictor as pred
from nas.accuracy import supernet as sn
from nas.accuracy.base import AccuracyEstimator
from nas.supernet import ensemble
from nas.supernet.space import DEFAULT_SPACE
from nas_common.errors import UserInputError
from nas_common.io import file_sha256, read_json, read_toml
from nas_common.paths import check_output_dir
from nas_common.writing import write_json
from search_spaces.arch import Arch
from search_spaces.space import SearchSpace

FORMAT = 1
MANIFEST, SPACE, QUALITY, PREDICTORS = "manifest.json", "space.toml", "quality.json", "predictors"
ENV = "NAS_SHIPPED_DIR"
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
# supernet.json's training options that make a recipe (paths, devices and run controls left out)
RECIPE_KEYS = ("steps", "schedule", "pd_fraction", "rule", "random_subnets", "depth_order", "head_layout", "split",
               "batch_size", "micro_batch_size", "seq_len", "max_predictions", "lr", "warmup", "seed")
SCORE_FIRST = "run `nas supernet score {dir} --arch '{{}}'` first (it fits the predictor: minutes)"


def shipped_root() -> Path:
    """Where shipped predictors live: $NAS_SHIPPED_DIR, else nas/accuracy/shipped/ (package data)."""
    return Path(os.environ.get(ENV) or Path(__file__).with_name("shipped"))


def shipped_names(root: Path | None = None) -> list[str]:
    """The shipped predictors' names (folders of the root holding a manifest; not a `ship` cut short)."""
    root = root or shipped_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if NAME.fullmatch(p.name) and (p / MANIFEST).is_file())


def named_spaces(root: Path | None = None) -> dict[str, Path]:
    """Search spaces a user can name in `--space` beside search_spaces' built-ins: the space of every shipped
    predictor (the default search's among them) and the supernet's default space, by the name in their TOML."""
    root = root or shipped_root()
    files = [root / name / SPACE for name in shipped_names(root)] + [DEFAULT_SPACE]
    named: dict[str, Path] = {}
    for path in files:
        name = read_toml(path).get("name") if path.is_file() else None
        if isinstance(name, str) and name not in named:
            named[name] = path
    return named


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise UserInputError(f"--name {name!r}: use lower-case letters, digits, '.', '_' and '-' (at most 64, "
                             "starting with a letter or digit)")
    return name


def _source(directory: Path, members: Sequence[Path]) -> dict[str, Any]:
    """The source supernet (an ensemble's first member for the recipe): no paths of this machine."""
    meta = read_json(members[0] / ensemble.SUPERNET_META)
    options = meta.get("options") or {}
    source = {"supernet": directory.name, "digest": sn.estimator_digest(directory),
              "steps_done": meta.get("steps_done"), "recipe": {k: options[k] for k in RECIPE_KEYS if k in options},
              "teacher": Path(str(meta.get("teacher") or "")).name or None}
    if len(members) > 1:
        source["members"] = [m.name for m in members]
    return source


def ship(directory: str | Path, name: str, overwrite: bool = False, root: Path | None = None) -> Path:
    """Package the supernet's (or ensemble's) fitted predictor into ROOT/NAME; returns that folder."""
    check_name(name)
    directory = Path(directory)
    if not (directory / ensemble.SUPERNET_META).is_file() and not ensemble.is_ensemble(directory):
        raise UserInputError(f"{directory} is not a supernet directory (no supernet.json; run `nas supernet train`)")
    root = check_output_dir(root or shipped_root(), overwrite=True,
                            what=f"the shipped predictors' folder (${ENV}, else the package)")
    target = root / name
    members = ensemble.members(directory)
    _check_apart(target, [directory, *members])
    if target.exists() and not overwrite:
        raise UserInputError(f"{target} already holds a shipped predictor; pass --overwrite to replace it")
    predictors = []
    for member in members:
        found = sn.current_predictor(member)
        if found is None:
            raise UserInputError(f"{member} has no accuracy predictor fitted for its current weights; "
                                 + SCORE_FIRST.format(dir=directory))
        predictors.append(member / sn.PREDICTOR_DIR)
    copies = {SPACE: directory / SPACE}
    for index, store in enumerate(predictors):
        copies |= {f"{PREDICTORS}/{index}/{f}": store / f for f in (pred.MODEL, pred.META)}
    if sn.measured_record(directory) is not None:  # measured for these very weights
        copies[QUALITY] = directory / sn.PREDICTOR_DIR / sn.QUALITY
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".{name}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    for relative, origin in copies.items():
        (staging / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(origin, staging / relative)
    files = {r: {"sha256": file_sha256(staging / r), "bytes": (staging / r).stat().st_size} for r in sorted(copies)}
    write_json(staging / MANIFEST, {
        "format": FORMAT, "name": name, "version": content_version(files),
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "measure": sn.MEASURE, "source": _source(directory, members), "predictors": len(predictors),
        "files": files, "bytes": sum(f["bytes"] for f in files.values())})
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    return target


def _check_apart(target: Path, sources: Sequence[Path]) -> None:
    """The entry ROOT/NAME is neither a source supernet (or ensemble), nor inside one, nor around one: shipping
    replaces the entry's folder whole, which would delete the supernet's weights or its fitted predictor."""
    entry = target.expanduser().resolve()
    for source in (s.expanduser().resolve() for s in sources):
        if entry == source or source in entry.parents or entry in source.parents:
            raise UserInputError(f"--name {target.name} would ship into {target}, which overlaps the supernet "
                                 f"directory {source} (shipping replaces that folder whole); choose another --name "
                                 f"or set ${ENV} to a folder outside the supernet (nothing was changed)")


def content_version(files: dict[str, dict[str, Any]]) -> str:
    """The version of what the predictor computes: its files' checksums, the quality record left out (measuring
    it again changes what is known of the scores, not the scores, so runs that recorded the version resume)."""
    scored = "".join(f"{r}:{f['sha256']}" for r, f in sorted(files.items()) if r != QUALITY)
    return hashlib.sha256(scored.encode()).hexdigest()[:12]


def record_shipped_quality(name: str | None, truth: Path, overwrite: bool = False,
                           root: Path | None = None) -> dict[str, Any]:
    """`nas supernet quality --shipped NAME`: rank the truth's students by the shipped predictor (no supernet weights
    needed), write quality.json into the shipped entry with its Spearman, 95 % bootstrap interval over archs, Kendall
    and scatter in nats, add it to the manifest, and return the record. Archs outside its space are left out."""
    from nas.accuracy.rank_quality import RESAMPLES, spearman_interval
    from nas.accuracy.resolution import scatter

    known = shipped_names(root)
    if name is not None and name not in known:
        raise UserInputError(f"--shipped {name}: no such shipped predictor; shipped: {', '.join(known) or 'none'}")
    entry = resolve(name, root)
    manifest = verified_manifest(entry)
    if QUALITY in manifest["files"] and not overwrite:
        raise UserInputError(f"shipped predictor {entry.name} already has a quality record; pass --overwrite to "
                             "replace it")
    estimator = ShippedPredictorEstimator(entry=entry)
    record = sn.read_truth(Path(truth))
    archs, truth_losses = sn.truth_in_space(record, truth, estimator.space, "the predictor's space")
    losses = np.array(truth_losses)
    predicted = np.asarray(sn.predicted_losses(estimator.predictors, archs), dtype=float)
    rho, kendall = sn.rank_correlations(-predicted, truth_losses)
    if rho is None:
        raise UserInputError(f"{truth}: the students' losses or the predictions are all equal; no rank correlation")
    low, high = spearman_interval(-predicted, -losses)
    n, planned = len(archs), int(record.get("archs") or 0)
    text = (f"Spearman {rho:.2f} [95 % {low:.2f}, {high:.2f}] vs {record.get('students', 'distilled students')} "
            f"({record.get('measure', 'held-out loss')}), n={n}" + (f", {n} of {planned} archs" if n < planned else ""))
    quality = {"text": text, "spearman": rho, "interval95": [round(low, 4), round(high, 4)],
               "interval": f"percentile bootstrap over archs, {RESAMPLES} resamples", "kendall": kendall,
               "predictor_scatter_loss": round(scatter(list(predicted), list(losses)), 6), "scatter_n": n,
               "benchmark": record.get("measured_by", "nas supernet quality --shipped"),
               "date": record.get("date") or datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
               "truth_sha256": file_sha256(Path(truth)), "predictor_version": manifest["version"]}
    write_json(entry / QUALITY, quality)
    files = {**manifest["files"], QUALITY: {"sha256": file_sha256(entry / QUALITY),
                                            "bytes": (entry / QUALITY).stat().st_size}}
    write_json(entry / MANIFEST, {**manifest, "files": dict(sorted(files.items())),
                                  "bytes": sum(f["bytes"] for f in files.values())})
    return quality


def verified_manifest(entry: Path) -> dict[str, Any]:
    """The entry's manifest after checking every file it lists against its sha256 (one line when one differs)."""
    manifest = read_json(entry / MANIFEST, "shipped predictor manifest")
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or manifest.get("format") != FORMAT or SPACE not in files:
        raise UserInputError(f"{entry / MANIFEST}: not a shipped predictor manifest of format {FORMAT}")
    for relative, record in files.items():
        path = entry / relative
        if not path.is_file():
            raise UserInputError(f"shipped predictor {entry.name}: {relative} is missing; ship it again "
                                 "(`nas supernet ship`) or reinstall nas")
        if file_sha256(path) != record.get("sha256"):
            raise UserInputError(f"shipped predictor {entry.name}: {relative} does not match the sha256 in its "
                                 "manifest.json (changed since it was shipped); ship it again or reinstall nas")
    return manifest


def resolve(name: str | None, root: Path | None = None) -> Path:
    """The shipped entry `name`, or the only one when `name` is None; otherwise one line saying what to do."""
    root = root or shipped_root()
    names = shipped_names(root)
    if name is None:
        if not names:
            raise UserInputError(f"no predictor is shipped (in {root}); ship a trained supernet's with `nas supernet "
                                 "ship SUPERNET --name NAME`, or use --estimator supernet --supernet SUPERNET")
        if len(names) > 1:
            raise UserInputError(f"several predictors are shipped ({', '.join(names)}): choose one with --predictor")
        name = names[0]
    if name not in names:
        raise UserInputError(f"--predictor {name}: no such shipped predictor; shipped: {', '.join(names) or 'none'}")
    return root / name


class ShippedPredictorEstimator(AccuracyEstimator):
    """Scores with a shipped predictor (`nas supernet ship`): the supernet estimator's search-time scores, from the
    package alone. Searches the shipped space (or a `--space` inside it) and re-scores nothing (no weights)."""

    name = "predictor"
    quantity = f"predicted {sn.SupernetEstimator.quantity}"

    def __init__(self, predictor: str | None = None, entry: Path | None = None) -> None:
        """`predictor`: a shipped name (None: the only one); `entry`: a shipped folder instead (elsewhere than the
        shipped root)."""
        self.entry = entry if entry is not None else resolve(predictor)
        self.manifest = verified_manifest(self.entry)
        self.version = f"1-{self.manifest.get('measure')}-{self.manifest['version']}"
        self.predictors = []
        for index in range(int(self.manifest.get("predictors", 1))):
            loaded = pred.load(self.entry / PREDICTORS / str(index))
            if loaded is None:
                raise UserInputError(f"shipped predictor {self.entry.name}: predictor {index} cannot be loaded "
                                     "(made by another version of nas?); ship it again")
            self.predictors.append(loaded)

    @cached_property
    def record(self) -> dict[str, Any]:
        """The shipped quality record (`nas supernet quality` of the source weights), or {} when none was."""
        return read_json(self.entry / QUALITY) if QUALITY in self.manifest["files"] else {}

    @property
    def quality(self) -> str:
        return f"shipped {self.entry.name}: {sn.quality_text(self.record.get('text'), self.predictors)}"

    @property
    def loss_scatter(self) -> float | None:
        return self.record.get("predictor_scatter_loss")

    @property
    def loss_scatter_source(self) -> str:
        return f"sd of its losses about {self.record.get('scatter_n', '?')} distilled students' trend"

    @cached_property
    def space(self) -> SearchSpace:
        return SearchSpace.load(self.entry / SPACE)

    def covers(self, arch: Arch) -> bool:
        return self.space.contains(arch)

    def restrict_space(self, space: SearchSpace, explicit: bool) -> SearchSpace:
        """The shipped supernet's space, or a `--space` checked to lie inside it."""
        return sn.check_within(space, self.space) if explicit else self.space

    def estimate(self, archs: Sequence[Arch]) -> np.ndarray:
        """exp(−predicted held-out loss), as the supernet estimator scores during a search."""
        return np.exp(-sn.predicted_losses(self.predictors, archs))
