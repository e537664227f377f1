"""Kernel formulas as data: each kernel's FLOPs and bytes are polynomials in a part's sizes, and a part's
kernels are evaluated together for many candidates by one matrix product.

A polynomial is a dict `{monomial: coefficient}` with monomials written as `"T*n^2*d^2"` (symbols in
`SYMBOLS` order, `"1"` for the constant): plain JSON, readable in the kernel cache. Every size formula the
lowering produces is a polynomial (TVM simplifies loop extents and buffer shapes to sums of products of the
symbolic sizes); a floor division that does not divide evenly is refused when the formula is built.

Evaluation for R candidates: the distinct monomials of the part (M of them) are computed once, as an
(M, R) array of products of powers of the sizes, and `coefficients (K, M) @ monomials (M, R)` gives every
kernel's FLOPs and bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latency_models.variant import SYMBOLS

Polynomial = dict[str, int]
KINDS = ("matmul", "bmm", "elementwise", "gather")


@dataclass(frozen=True)
class KernelSpec:
    """One kernel launch of a part: its kind and its FLOPs and bytes moved as polynomials of the part's sizes."""

    part: str
    name: str
    kind: str  # matmul | bmm | elementwise | gather
    flops: Polynomial
    bytes: Polynomial
    shapes: str  # human-readable buffer shapes, symbolic
    # Passes over the data: 1 + the reductions that precede the output (LayerNorm: sum, variance, output = 3;
    # softmax: max, sum of exp, output = 3). A runtime's kernel makes one sweep per pass (cost_model.py).
    passes: int = 1

    @classmethod
    def from_json(cls, data: object) -> KernelSpec:
        """A cache entry's kernel; ValueError when it is not one (a corrupt or foreign entry)."""
        if not isinstance(data, dict) or set(data) != {"part", "name", "kind", "flops", "bytes", "shapes", "passes"}:
            raise ValueError(f"not a kernel entry: {str(data)[:80]}")
        if data["kind"] not in KINDS:
            raise ValueError(f"unknown kernel kind {data['kind']!r}")
        for key in ("flops", "bytes"):
            poly = data[key]
            if not isinstance(poly, dict) or not all(isinstance(c, int) and not isinstance(c, bool)
                                                     for c in poly.values()):
                raise ValueError(f"{key} is not a polynomial: {str(poly)[:80]}")
            for monomial in poly:
                exponents(monomial)
        if isinstance(data["passes"], bool) or not isinstance(data["passes"], int) or data["passes"] < 1:
            raise ValueError(f"passes must be a positive integer, got {data['passes']!r}")
        return cls(**data)


def monomial_name(powers: tuple[int, ...]) -> str:
    """`(1, 0, 0, 0, 2, 2, 0)` → `"T*n^2*d^2"`."""
    terms = [s if p == 1 else f"{s}^{p}" for s, p in zip(SYMBOLS, powers, strict=True) if p]
    return "*".join(terms) or "1"


def exponents(monomial: str) -> tuple[int, ...]:
    """`"T*n^2*d^2"` → the power of each of `SYMBOLS`; ValueError on anything else."""
    powers = [0] * len(SYMBOLS)
    if monomial == "1":
        return tuple(powers)
    for term in monomial.split("*"):
        symbol, _, power = term.partition("^")
        if symbol not in SYMBOLS or (power and not power.isdigit()):
            raise ValueError(f"bad monomial {monomial!r}")
        powers[SYMBOLS.index(symbol)] += int(power or 1)
    return tuple(powers)


def to_text(poly: Polynomial) -> str:
    """A polynomial as a formula a person reads: `2*T*F*n*d + T*F`."""
    terms = [m if c == 1 else f"{c}" if m == "1" else f"{c}*{m}" for m, c in poly.items()]
    return " + ".join(terms) or "0"


class PartFormulas:
    """The kernels of one part as two coefficient matrices over the part's distinct monomials."""

    def __init__(self, specs: list[KernelSpec]) -> None:
        monomials = sorted({m for s in specs for m in (*s.flops, *s.bytes)})
        self.powers = np.array([exponents(m) for m in monomials], dtype=np.int64).reshape(-1, len(SYMBOLS))
        shape = (len(specs), len(monomials))
        self.flops = np.array([[s.flops.get(m, 0) for m in monomials] for s in specs], np.float64).reshape(shape)
        self.bytes = np.array([[s.bytes.get(m, 0) for m in monomials] for s in specs], np.float64).reshape(shape)
        self.used = [j for j in range(len(SYMBOLS)) if self.powers[:, j].any()]
        self.passes = np.array([s.passes for s in specs], dtype=np.float64)

    def evaluate(self, sizes: dict[str, np.ndarray], rows: int) -> tuple[np.ndarray, np.ndarray]:
        """(FLOPs, bytes), each (K kernels, `rows` candidates), for the sizes of each candidate."""
        values = np.ones((len(self.powers), rows))
        for j in self.used:
            size = np.asarray(sizes[SYMBOLS[j]], dtype=np.float64)
            for power in np.unique(self.powers[:, j]):
                if power:
                    values[self.powers[:, j] == power] *= size**power
        return self.flops @ values, self.bytes @ values


def evaluate(poly: Polynomial, sizes: dict[str, float]) -> float:
    """One polynomial at one point (tests, `nas latency --breakdown` shapes)."""
    spec = KernelSpec("", "", "elementwise", poly, {}, "")
    flops, _ = PartFormulas([spec]).evaluate({k: np.array([v], dtype=np.float64) for k, v in sizes.items()}, 1)
    return float(flops[0, 0])
