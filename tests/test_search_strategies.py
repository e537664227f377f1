"""Every strategy runs through the controller; determinism and the replay that resume relies on."""

import numpy as np
import pytest

from nas.accuracy import get_estimator
from nas.accuracy.proxy import proxy_score
from nas.search.controller import Controller, JournalMismatch
from nas.search.evaluator import Evaluator
from nas.search.journal import Journal
from nas.strategies import make_strategy
from search_spaces.presets import PRESETS
from search_spaces.space import SearchSpace

BUDGET = 62.0


@pytest.fixture(scope="module")
def evaluator():
    from latency_models import load_predictor

    return Evaluator(load_predictor("pixel4"), get_estimator("proxy"), BUDGET)


@pytest.fixture(scope="module")
def space():
    return SearchSpace.load("mobilebert-small")


def _run(name, space, evaluator, tmp_path, trials=96, seed=0):
    strategy = make_strategy(name, space, BUDGET, seed)
    return Controller(strategy, evaluator.evaluate, Journal(tmp_path)).run(trials)


@pytest.mark.parametrize("name", ["random", "evolution", "nsga2", "nni", "nni-tpe"])
def test_strategy_runs_and_is_deterministic(name, space, evaluator, tmp_path):
    first = _run(name, space, evaluator, tmp_path / "a")
    second = _run(name, space, evaluator, tmp_path / "b")
    assert [r.id for r in first] == list(range(96))
    assert [r.arch for r in first] == [r.arch for r in second]
    for r in first:
        assert r.feasible == (r.latency_ms <= BUDGET)
        assert (r.accuracy is None) != r.feasible


def test_nsga2_beats_random_on_the_small_space(space, evaluator, tmp_path):
    from nas.search.pareto import hypervolume

    def hv(records):
        ok = [r for r in records if r.feasible]
        return hypervolume(np.array([r.latency_ms for r in ok]), np.array([r.accuracy for r in ok]), BUDGET)

    exhaustive = list(space.enumerate())
    scores = evaluator.evaluate(exhaustive)
    ok = scores.feasible
    reference = hypervolume(scores.latency_ms[ok], scores.accuracy[ok], BUDGET)
    ours = hv(_run("nsga2", space, evaluator, tmp_path / "n", trials=400))
    assert ours >= 0.99 * reference
    assert ours >= hv(_run("random", space, evaluator, tmp_path / "r", trials=400))


def test_shorter_run_is_a_prefix_and_replay_matches(space, evaluator, tmp_path):
    short = _run("nsga2", space, evaluator, tmp_path / "s", trials=100)
    long = _run("nsga2", space, evaluator, tmp_path / "l", trials=200)
    assert [r.arch for r in short] == [r.arch for r in long[:100]]
    # extending the short run in place (resume with more trials) gives the long run
    extended = _run("nsga2", space, evaluator, tmp_path / "s", trials=200)
    assert [r.arch for r in extended] == [r.arch for r in long]


def test_replay_with_another_seed_is_refused(space, evaluator, tmp_path):
    _run("evolution", space, evaluator, tmp_path, trials=40, seed=0)
    with pytest.raises(JournalMismatch):
        _run("evolution", space, evaluator, tmp_path, trials=80, seed=1)


@pytest.mark.parametrize("keep_lines", [100, 128, 150])
def test_resume_from_a_torn_journal_equals_the_uninterrupted_run(keep_lines, evaluator, tmp_path):
    family = SearchSpace.default()

    def run(where):
        return Controller(make_strategy("nsga2", family, BUDGET, 0), evaluator.evaluate, Journal(where)).run(256)

    uninterrupted = run(tmp_path / "full")
    path = tmp_path / "cut" / "trials.jsonl"
    path.parent.mkdir()
    lines = (tmp_path / "full" / "trials.jsonl").read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:keep_lines]) + lines[keep_lines][:25])  # killed inside a batch, mid-line
    resumed = run(tmp_path / "cut")
    strip = [{k: v for k, v in r.to_json().items() if k != "time"} for r in uninterrupted]
    assert [{k: v for k, v in r.to_json().items() if k != "time"} for r in resumed] == strip
    assert len(path.read_text().splitlines()) == 256


def test_proxy_prefers_the_paper_ratio_at_equal_size():
    base = PRESETS["mobilebert"].arch
    assert proxy_score(PRESETS["bert-base"].arch) > proxy_score(PRESETS["mobilebert-tiny"].arch)
    assert proxy_score(base.replace(normalization_type="layer_norm", hidden_act="gelu")) > proxy_score(base)
    assert 0.0 <= proxy_score(base) <= 1.0


def test_a_small_space_is_searched_whole_and_then_without_dedup_search(evaluator, tmp_path, monkeypatch):
    """More trials than the space holds (the supernet's space: 1600 archs, 2000 trials): every arch is proposed,
    and once all are, a child costs one mutation instead of a 50-try search for an unseen one."""
    space = SearchSpace.from_dict({"name": "four", "dimensions": {"num_hidden_layers": [2, 4],
                                                                  "intermediate_size": [256, 512]},
                                   "fixed": {"hidden_size": 384, "intra_bottleneck_size": 128}})
    archs = set(space.enumerate())
    assert len(archs) == 4
    trials = _run("nsga2", space, evaluator, tmp_path, trials=24)
    assert {t.arch for t in trials} == archs
    strategy = make_strategy("nsga2", space, BUDGET, 0)
    for _ in range(12):
        strategy.fresh_sample()
    assert strategy.unseen() == []
    calls = []
    original = SearchSpace.mutate
    monkeypatch.setattr(SearchSpace, "mutate", lambda *a, **k: calls.append(1) or original(*a, **k))
    strategy.fresh_child(next(iter(archs)))
    assert len(calls) == 1
