"""Which sub-networks one training step trains: a pure function of (seed, global step), so every process
under torchrun and a resumed run draw the same archs.

Rules: `sandwich` (BigNAS / DynaBERT-style: the largest and the smallest sub-network and `k` uniform random
ones; the largest bounds the others from above and trains the shared prefixes for all, the smallest keeps
the narrowest slices trained), `random` (k + 2 uniform random ones: the same compute, no extremes) and
`largest` (only the largest sub-network: what distilling the largest arch alone costs, for comparisons).
"""

from __future__ import annotations

import numpy as np

from nas.supernet.space import largest, smallest
from nas_common.errors import UserInputError
from search_spaces.arch import Arch
from search_spaces.space import SearchSpace

RULES = ("sandwich", "random", "largest")


def check_rule(rule: str, k: int) -> None:
    if rule not in RULES:
        raise UserInputError(f"unknown sampling rule {rule!r}: choose one of {', '.join(RULES)}")
    if k < 0:
        raise UserInputError("--random-subnets must be ≥ 0")


def step_archs(space: SearchSpace, rule: str, k: int, seed: int, step: int) -> list[Arch]:
    check_rule(rule, k)
    if rule == "largest":
        return [largest(space)]
    rng = np.random.default_rng([seed, step])
    if rule == "random":
        return space.sample_many(k + 2, rng)
    return [largest(space), smallest(space), *space.sample_many(k, rng)]
