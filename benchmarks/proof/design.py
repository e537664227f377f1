"""The proof experiment's design (issue 31): budgets, hand-designed baselines, the naive choice, the fresh
students' draw, the distillation and fine-tuning settings, and the analysis — all fixed here and written to
`benchmarks/proof/plan.json` before the experiment's first training step.

    python -m benchmarks.proof.design --write-plan     # (re)writes plan.json from this file; commit it first

Everything that depends on a trained estimator (the searched picks, the estimators' scores of the fresh
students) is produced after the supernet is frozen, by `python -m benchmarks.proof.freeze`, and committed
before any of those students is distilled.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.estimator_rank_truth import Budget
from nas_common.io import file_sha256

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PLAN = HERE / "plan.json"
SPACE_LATENCY = HERE / "space_latency.csv"  # every arch of the space at the plan's commit: key, predicted ms, size
SPACE_FILE = ROOT / "nas" / "supernet" / "data" / "minilm-384.toml"
PROFILE_FILE = ROOT / "device_profiles" / "pixel4.toml"
DEVICE, SEQ_LEN = "pixel4", 128
BUDGETS_MS = (30.0, 42.0)
UNDER = 0.10  # a hand-designed shape is a baseline at budget B when its predicted latency is in [0.9·B, B]
DRAW_SEED = 31  # the issue's number: the fresh students' draw
FRESH_UNIFORM, FRESH_PER_BUDGET = 8, 4
NEAR_BUDGET = 0.85  # "near the front": predicted latency in [0.85·B, B], drawn without any estimator
SEEDS = (0, 1, 2)  # paired data seeds: every arch sees the same batches and masks on a seed
TEACHER_DIR = Path.home() / ".cache" / "nas" / "teachers" / "minilm-384"

# The space fixes what the supernet fixes (384 wide, LayerNorm + GELU, key/query-shared bottleneck attention,
# embedding 384 without trigram): MobileBERT's NoNorm + ReLU and MobileBERT-TINY's bottleneck attention are
# not in it, so the hand-designed shapes keep their proportions inside it (see plan.json "baselines").
COMMON = {"hidden_size": 384, "embedding_size": 384, "trigram_input": False, "normalization_type": "layer_norm",
          "hidden_act": "gelu", "key_query_shared_bottleneck": True, "use_bottleneck_attention": False}

# Proof students: twice the estimator truth's 960 steps (JKT: 960 layer-wise steps spread over the layers, then
# 960 of pre-training distillation), batch 16 × 64 tokens: benchmarks/estimator_rank_truth.py runs them.
PROOF_BUDGET = Budget(layer_steps=960, pd_steps=960)
# Fresh students: the estimator truth's own settings (845f5c18a4 with the earlier teacher): 480 + 480 steps.
FRESH_BUDGET = Budget(layer_steps=480, pd_steps=480)
FINETUNE = {
    "sst2": {"epochs": 3.0, "lr": 1e-4, "batch_size": 32, "seq_len": 64, "max_train_examples": 8000},
    "mrpc": {"epochs": 5.0, "lr": 1e-4, "batch_size": 32, "seq_len": 128, "max_train_examples": None},
}


def mobilebert_proportions(layers: int, ffns: int) -> dict[str, Any]:
    """MobileBERT's block at the teacher's width (Sun et al., ACL 2020, Table 1: bottleneck = inter-block width
    / 4, FFNs of 512, 4 heads; MobileBERT stacks 4 FFNs, MobileBERT-TINY 2)."""
    return {**COMMON, "num_hidden_layers": layers, "use_bottleneck": True, "intra_bottleneck_size": 96,
            "num_feedforward_networks": ffns, "intermediate_size": 512, "num_attention_heads": 4}


def bert_shape(layers: int) -> dict[str, Any]:
    """BERT's block at this width (Devlin et al. 2019: no bottleneck, FFN 4 × width, 64-wide heads)."""
    return {**COMMON, "num_hidden_layers": layers, "use_bottleneck": False, "num_feedforward_networks": 1,
            "intermediate_size": 1536, "num_attention_heads": 12}


HAND_DESIGNED = {
    "mobilebert-L4": mobilebert_proportions(4, 4),
    "mobilebert-L6": mobilebert_proportions(6, 4),
    "mobilebert-tiny-L6": mobilebert_proportions(6, 2),
    "bert-L3": bert_shape(3),
    "bert-L4": bert_shape(4),
}


def arch_key(arch: Any) -> str:
    """L<layers>-b<bottleneck>-f<ffns>x<width>-h<heads>, as the estimator truth names its students."""
    bottleneck = arch.intra_bottleneck_size if arch.use_bottleneck else "none"
    return (f"L{arch.num_hidden_layers}-b{bottleneck}-f{arch.num_feedforward_networks}x{arch.intermediate_size}"
            f"-h{arch.num_attention_heads}")


def space_archs() -> list[Any]:
    from search_spaces.space import SearchSpace

    return list(SearchSpace.load(SPACE_FILE).enumerate())


def predicted_ms(archs: list[Any]) -> np.ndarray:
    from latency_models import load_predictor

    return np.asarray(load_predictor(DEVICE).predict(archs, seq_len=SEQ_LEN), dtype=float)


def baselines_at(budget: float, latencies: dict[str, float]) -> list[str]:
    return [name for name, ms in latencies.items() if (1 - UNDER) * budget <= ms <= budget]


def naive_choice(archs: list[Any], millis: np.ndarray, budget: float) -> Any:
    """The most body parameters whose predicted latency fits the budget; ties (heads add no parameters) go
    to the lowest predicted latency."""
    from nas.accuracy.proxy import body_params

    fitting = [(body_params(a), -float(m), i) for i, (a, m) in enumerate(zip(archs, millis, strict=True))
               if m <= budget]
    return archs[max(fitting)[2]]


def draw_fresh(archs: list[Any], millis: np.ndarray, exclude: set[str]) -> list[dict[str, Any]]:
    """16 fresh archs of the supernet space that no design choice has seen: 8 uniformly at random, then 4 at
    each budget among those predicted within [0.85·B, B] (where the picks land), never an excluded key (the
    proof's own archs, the earlier estimator truth's 18) and never twice. No estimator is consulted."""
    rng = np.random.default_rng(DRAW_SEED)
    keys = [arch_key(a) for a in archs]
    taken = set(exclude)
    drawn: list[dict[str, Any]] = []

    def take(indices: list[int], count: int, why: str) -> None:
        pool = [i for i in indices if keys[i] not in taken]
        for i in rng.choice(len(pool), size=count, replace=False):
            index = pool[int(i)]
            taken.add(keys[index])
            drawn.append({"key": keys[index], "why": why, "predicted_ms": round(float(millis[index]), 2),
                          "arch": archs[index].to_dict()})

    take(list(range(len(archs))), FRESH_UNIFORM, "uniform")
    for budget in BUDGETS_MS:
        near = [i for i, m in enumerate(millis) if NEAR_BUDGET * budget <= m <= budget]
        take(near, FRESH_PER_BUDGET, f"near {budget:g} ms")
    return drawn


def write_plan() -> dict[str, Any]:
    from search_spaces.arch import Arch

    archs = space_archs()
    millis = predicted_ms(archs)
    hand = {name: Arch(**fields) for name, fields in HAND_DESIGNED.items()}
    hand_ms = dict(zip(hand, (round(float(m), 2) for m in predicted_ms(list(hand.values()))), strict=True))
    teacher_weights = TEACHER_DIR / "model.safetensors"
    plan = {
        "issue": 31,
        "question": "At a latency budget, does the searched student beat MobileBERT's hand-designed shapes?",
        "committed": "before the experiment's first training step (the supernet's and every student's); the "
                     "teacher below is an input, built first by the documented commands",
        "teacher": {
            "dir": "~/.cache/nas/teachers/minilm-384",
            "commands": "nas/distill/README.md, 'A competent small CPU teacher (MiniLM, 384 wide)' (two nas "
                        "teacher commands: 200 heads-only steps, then 60 unfrozen)",
            "model_safetensors_sha256": file_sha256(teacher_weights) if teacher_weights.is_file() else None,
        },
        "latency": {"device": DEVICE, "seq_len": SEQ_LEN, "profile_sha256": file_sha256(PROFILE_FILE),
                    "rule": "budgets and 'fits' are judged on the pixel4 prediction of the code at this plan's "
                            "commit, stored for every arch of the space in space_latency.csv (the draw and every "
                            "'fits' check read it; the freeze's searches run on this commit's code, in a git "
                            "worktree); each student's host-tflite latency is also measured (LiteRT, 1 thread) so "
                            "the equal-latency claim is checked on a real runtime"},
        "space": {"file": str(SPACE_FILE.relative_to(ROOT)), "sha256": file_sha256(SPACE_FILE), "size": len(archs)},
        "budgets_ms": list(BUDGETS_MS),
        "baselines": {
            "rule": f"at budget B, every hand-designed shape predicted within [{1 - UNDER:g}·B, B]",
            "shapes": {name: {"arch": HAND_DESIGNED[name], "predicted_ms": hand_ms[name]} for name in hand},
            "at": {f"{b:g}": baselines_at(b, hand_ms) for b in BUDGETS_MS},
            "replaced": "MobileBERT's NoNorm + ReLU and its 128-d trigram embedding, and MobileBERT-TINY's "
                        "bottleneck attention, are outside the supernet space (LayerNorm + GELU, key/query-"
                        "shared bottleneck, 384-d embedding): the shapes keep MobileBERT's proportions "
                        "(bottleneck = width/4, FFNs of 512, 4 heads) inside it",
        },
        "searched": {
            "pick0": "pick 0 of `nas search --device pixel4 --budget B --space nas/supernet/data/minilm-384.toml "
                     "--teacher TEACHER --estimator supernet --supernet FROZEN --seed 0` (default trials)",
            "confirmed": "best/ after `nas confirm RUN --top 4 --teacher TEACHER --corpus wikitext2-valid "
                         "--eval-corpus wikitext2-test --task sst2 --max-steps 960 --finetune-examples 2000 "
                         "--seed 0` on that run",
            "naive": {"rule": "the most body parameters predicted within B; ties to the lowest predicted latency",
                      "at": {f"{b:g}": arch_key(naive_choice(archs, millis, b)) for b in BUDGETS_MS},
                      "archs": {f"{b:g}": naive_choice(archs, millis, b).to_dict() for b in BUDGETS_MS}},
            "fits": "every searched candidate's predicted latency ≤ B (the search enforces it; checked again)",
        },
        "estimators": {
            "supernet": "run 17's recipe retrained on this teacher (its files are not on this machine): `nas "
                        "supernet train` with the options in nas/supernet/README.md ('--steps 9600 --schedule jkt "
                        "--pd-fraction 0.5 --rule sandwich --random-subnets 2 --depth-order spread --head-layout "
                        "prefix --batch-size 16 --seq-len 64 --max-predictions 20 --lr 1e-3 --warmup 10 --seed 0 "
                        "--split bottleneck --workers 2'); its predictor fitted by `nas supernet score` (300 "
                        "evaluations); both frozen (sha256 of every weight and predictor file) in freeze.json, "
                        "committed before anything is drawn or picked",
            "supernet_seed1": "the same recipe on --seed 1 (run 18's), trained when the cores are free; it never "
                              "sees a student, so it may be scored on the fresh students later, blind to their "
                              "truth; judged beside seed 0",
            "body_params": "parameters outside the embedding table and pooler (nas.accuracy.proxy.body_params)",
            "proxy": "nas/accuracy/proxy.py with nas/accuracy/proxy_fit.json as at this plan's commit",
        },
        "fresh": {
            "n": FRESH_UNIFORM + FRESH_PER_BUDGET * len(BUDGETS_MS), "seed": DRAW_SEED,
            "rule": f"{FRESH_UNIFORM} uniformly from the space, then {FRESH_PER_BUDGET} at each budget among the "
                    f"archs predicted within [{NEAR_BUDGET:g}·B, B] (no estimator consulted), never one of the "
                    "proof's archs (baselines, naive, picks, confirmed) nor the earlier truth's 18 "
                    "(benchmarks/estimator_rank_archs.py); drawn by design.draw_fresh after the freeze",
            "scored_before_distillation": "every frozen estimator's score of the 16 is committed in freeze.json "
                                          "before the first of them is distilled",
        },
        "distillation": {
            "tool": "nas distill via benchmarks/estimator_rank_truth.distill (held-out losses on wikitext2-test)",
            "proof": {**asdict(PROOF_BUDGET), "seeds": list(SEEDS)},
            "fresh": {**asdict(FRESH_BUDGET), "seeds": [0]},
        },
        "finetune": {"tasks": FINETUNE, "seed": "the distillation's seed", "fresh": "SST-2 only, as the estimator "
                     "truth: 2000 examples, 2 epochs, lr 1e-4, 64 tokens"},
        "metrics": {
            "heldout_pd": "pd_kd + 0.5·mlm on wikitext2-test (the paper's pre-training distillation loss, §3.6): "
                          "primary, lower is better",
            "heldout_mlm": "masked-LM cross-entropy, nats",
            "sst2_acc": "SST-2 dev accuracy (872 examples)",
            "mrpc_f1": "MRPC dev F1 (408 examples), with its accuracy",
            "host_tflite_ms": "median latency of the fp32 .tflite in LiteRT, 1 thread, this machine",
        },
        "analysis": {
            "comparison": "per budget, each searched candidate (pick0, confirmed, naive) minus each hand-designed "
                          "baseline at that budget, paired by seed: mean over the 3 seeds and its 95 % t-interval "
                          "(t(2) = 4.303), on heldout_pd, sst2_acc and mrpc_f1",
            "best_hand_designed": "per metric, the baseline with the best seed mean (chosen after the fact, which "
                                  "favours the hand-designed side)",
            "answer": "the searched model (pick0) wins at B on a metric when its paired difference against the best "
                      "hand-designed shape favours it and the 95 % interval excludes 0; loses when the interval "
                      "excludes 0 the other way; otherwise no difference is resolved. Primary: heldout_pd. The "
                      "README states the answer per budget and metric, whatever it is; a loss is diagnosed "
                      "(estimator, budget, space, training length)",
            "fresh_estimators": "Spearman of each estimator against heldout_pd of the 16 fresh students (and against "
                                "their SST-2 dev accuracy), with a 95 % bootstrap interval (10 000 resamples of "
                                "archs, seed 0); within each bottleneck group with n ≥ 4; the paired bootstrap of "
                                "ρ(estimator) − ρ(body params)",
            "default_estimator_rule": "after the fresh students are judged, the default --estimator becomes the "
                                      "shipped predictor (frozen in freeze.json) if its fresh Spearman is at least "
                                      "body parameters', else the body-parameter count",
            "targets": "supernet or predictor fresh Spearman ≥ 0.8 and above body parameters (issue 31)",
        },
        "runner": "python -m benchmarks.proof.run (resumable; results in benchmarks/results/proof.json)",
    }
    PLAN.write_text(json.dumps(plan, indent=2, ensure_ascii=False) + "\n")
    write_space_latency(archs, millis)
    return plan


def write_space_latency(archs: list[Any], millis: np.ndarray) -> None:
    import pandas as pd

    from nas.accuracy.proxy import body_params

    pd.DataFrame({"key": [arch_key(a) for a in archs], "predicted_ms": np.round(millis, 3),
                  "body_params": [body_params(a) for a in archs]}).to_csv(SPACE_LATENCY, index=False)


def frozen_ms(archs: list[Any]) -> np.ndarray:
    """The pixel4 prediction of the plan's commit for archs of the space (space_latency.csv), so that a later
    change of the latency model cannot move a budget, a baseline or the draw."""
    import pandas as pd

    table = pd.read_csv(SPACE_LATENCY).set_index("key")["predicted_ms"]
    return np.array([float(table[arch_key(a)]) for a in archs])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write-plan", action="store_true", help="(Re)write plan.json from this file.")
    args = parser.parse_args()
    if args.write_plan:
        plan = write_plan()
        print(json.dumps({k: plan[k] for k in ("budgets_ms", "baselines", "searched")}, indent=1))


if __name__ == "__main__":
    main()
