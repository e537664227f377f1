"""Lower a structural variant with TVM and read its fused kernels' features as symbolic formulas.

Pipeline (stack-facts: what `relax.build` does not do for us on CPU): LegalizeOps → AnnotateTIROpPattern
→ (re-tag) → FoldConstant → FuseOps → FuseTIR, for the profile's target. Re-tagging: the legalized
symbolic reshape `T,(n·d) → T,n,d` is tagged opaque, which would block fusion: it is re-tagged injective;
PrimFuncs marked `nas_unfused` (ops the runtime runs alone) are tagged opaque so they stay single kernels.

Features of each fused PrimFunc, per call site of each part function (`embed`, `attn`, `ffn`, `out`):
FLOPs from walking the PrimFunc (loop extents × float ops per store; `estimate_tir_flops` is meaningless
on symbolic modules), bytes moved (every buffer parameter read or written once), kind and shapes. Every
size is a polynomial in the part's symbols (T, E, H, V, n, d, F), kept as data (`formulas.py`) so that
evaluating it for many candidates is one matrix product. Identical kernels are deduplicated by FuseTIR:
we count call sites.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import Any

from latency_models.formulas import KernelSpec, Polynomial, exponents, monomial_name, to_text
from latency_models.graph import UNFUSED_ATTR, build_module
from latency_models.variant import GRAPH_PARTS, SYMBOLS, Variant

OPAQUE, INJECTIVE = 8, 2
_FLOAT_CALLS = ("exp", "erf", "tanh", "sqrt", "rsqrt", "log", "sigmoid", "pow")
# Transcendental calls cost what evaluating them costs: the float ops of TVM's polynomial approximation of each
# (`topi.fast_exp`, `fast_erf`, `fast_tanh`), counted by the same walk (`transcendental_ops`); the others one op.
_APPROXIMATED = ("exp", "erf", "tanh")
REDUCE = 2  # an SBlock iter var's type: CommReduce


def lower(variant: Variant, target: dict[str, Any], parts: tuple[str, ...] = GRAPH_PARTS) -> Any:
    """The fused IRModule of `variant`'s `parts` for `target`."""
    import tvm
    from tvm import relax

    mod = build_module(variant, parts)
    with tvm.target.Target(dict(target)):
        mod = relax.transform.LegalizeOps()(mod)
        mod = relax.transform.AnnotateTIROpPattern()(mod)
        mod = _retag(mod)
        mod = relax.transform.FoldConstant()(mod)
        mod = relax.transform.FuseOps()(mod)
        mod = relax.transform.FuseTIR()(mod)
        mod = relax.transform.DeadCodeElimination()(mod)
    return mod


def _retag(mod: Any) -> Any:
    from tvm import tirx

    for gv, func in list(mod.functions.items()):
        if not isinstance(func, tirx.PrimFunc):
            continue
        name = gv.name_hint
        pattern = int(func.attrs["op_pattern"]) if func.attrs and "op_pattern" in func.attrs else None
        if func.attrs and UNFUSED_ATTR in func.attrs:
            mod[gv] = func.with_attr("op_pattern", OPAQUE)
        elif name.startswith("reshape") and pattern == OPAQUE:
            mod[gv] = func.with_attr("op_pattern", INJECTIVE)
    return mod


def kernel_specs(mod: Any) -> list[KernelSpec]:
    """Every kernel launch of every part function of a fused module, in program order."""
    from tvm import relax, tirx

    specs: list[KernelSpec] = []
    for part in GRAPH_PARTS:
        if not any(gv.name_hint == part for gv in mod.functions):
            continue
        for binding in _bindings(mod[part]):
            call = binding.value
            if not isinstance(call, relax.Call) or getattr(call.op, "name", "") != "relax.call_tir":
                continue
            gv = call.args[0]
            func = mod[gv]
            if not isinstance(func, tirx.PrimFunc):
                continue
            env = _bind_call(func, call)
            kind = _kind(gv.name_hint, func)
            if kind is None:
                continue  # a pure reshape: a view in every runtime we model
            flops = _polynomial(_count_flops(func.body), env)
            nbytes: Polynomial = {}
            shapes = []
            for i, p in enumerate(func.params):
                shape = _shape(p)
                if shape is None or (kind == "gather" and i == 0):
                    continue  # a gather reads T rows of its table, not the whole table
                dims = [_polynomial(s, env) for s in shape]
                size: Polynomial = {"1": _dtype_bytes(p)}
                for dim in dims:
                    size = _times(size, dim)
                nbytes = _plus(nbytes, size)
                shapes.append("x".join(f"({to_text(d)})" if len(d) > 1 else to_text(d) for d in dims))
            specs.append(KernelSpec(part, gv.name_hint, kind, flops, nbytes, " ; ".join(shapes), passes(func)))
    return specs


def _bindings(func: Any) -> list[Any]:
    out = []
    for block in func.body.blocks:
        out.extend(block.bindings)
    return out


def _shape(param: Any) -> list[Any] | None:
    try:
        shape = param.shape
    except (AttributeError, ValueError, RuntimeError):
        return None
    return list(shape) if shape is not None and len(shape) else None


def _dtype_bytes(param: Any) -> int:
    dtype = str(param.dtype)
    digits = "".join(c for c in dtype if c.isdigit())
    return max(1, int(digits or 32) // 8)


def _bind_call(func: Any, call: Any) -> dict[Any, Any]:
    """PrimFunc-local size vars → the caller's symbolic expressions (Relax-level tirx vars)."""
    from tvm import relax, tirx

    actual: list[Any] = [a for a in call.args[1].fields] if isinstance(call.args[1], relax.Tuple) else []
    shapes_in = []
    scalars = []
    for a in actual:
        if isinstance(getattr(a, "ty", None), relax.TensorType):
            shapes_in.append(list(a.ty.shape))
        else:
            scalars.append(a)
    if len(call.args) > 2 and isinstance(call.args[2], relax.ShapeExpr):
        scalars.extend(call.args[2].values)
    out_ty = call.ty_args[0] if call.ty_args else None
    outs = list(out_ty.fields) if isinstance(out_ty, relax.TupleType) else [out_ty]
    shapes_in.extend(list(o.shape) for o in outs if o is not None)
    env: dict[Any, Any] = {}
    buffers = [p for p in func.params if _shape(p) is not None]
    scalar_params = [p for p in func.params if _shape(p) is None]
    for p, value in zip(scalar_params, scalars, strict=False):
        env[p] = value
    for p, dims in zip(buffers, shapes_in, strict=False):
        for formal, act in zip(_shape(p), dims, strict=False):
            if isinstance(formal, tirx.Var) and formal not in env:
                env[formal] = act
    return env


def _kind(name: str, func: Any) -> str | None:
    if "matmul" in name:
        ndim = max(len(_shape(p) or []) for p in func.params)
        return "bmm" if ndim >= 3 else "matmul"
    if name.startswith("take"):
        return "gather"
    if name == "reshape" or (name.startswith("reshape") and name.replace("reshape", "").strip("_0123456789") == ""):
        return None
    return "elementwise"


def passes(func: Any) -> int:
    """Sweeps over the data a runtime makes for this kernel: each reduction block (LayerNorm's sum and variance,
    softmax's max and sum of exponentials) is a sweep of its own before the output is written; a kernel without
    reductions (element-wise, or a matmul: its reduction is the kernel) is one."""
    blocks = _blocks(func.body, [])
    reductions = sum(1 for b in blocks if any(int(iv.iter_type) == REDUCE for iv in b.iter_vars))
    spatial = any(len(b.iter_vars) >= 2 and all(int(iv.iter_type) != REDUCE for iv in b.iter_vars) for b in blocks)
    return max(1, reductions + (1 if spatial and reductions else 0))


def _blocks(stmt: Any, out: list[Any]) -> list[Any]:
    from tvm import s_tir, tirx

    if isinstance(stmt, s_tir.SBlockRealize):
        return _blocks(stmt.block, out)
    if isinstance(stmt, s_tir.SBlock):
        if stmt.iter_vars:
            out.append(stmt)
        return _blocks(stmt.body, out)
    if isinstance(stmt, tirx.SeqStmt):
        for s in stmt.seq:
            _blocks(s, out)
        return out
    body = getattr(stmt, "body", None)
    return _blocks(body, out) if body is not None else out


@functools.cache
def transcendental_ops() -> dict[str, int]:
    """Float ops of TVM's polynomial approximation of each of `_APPROXIMATED` (one element)."""
    from tvm import sym, te, topi

    out = {}
    for name in _APPROXIMATED:
        x = te.placeholder((1,), "float32")
        func = te.create_prim_func([x, getattr(topi, f"fast_{name}")(x)])
        out[name] = int(sym.Analyzer().simplify(_count_flops(func.body)).value)
    return out


# ------------------------------------------------------------------ FLOPs by walking the PrimFunc
def _count_flops(stmt: Any) -> Any:
    """Symbolic float ops of a statement: Σ over stores of (ops in the stored value) × enclosing extents."""
    import tvm
    from tvm import s_tir, tirx

    if isinstance(stmt, tirx.For):
        return stmt.extent * _count_flops(stmt.body)
    if isinstance(stmt, tirx.SeqStmt):
        total = tvm.tirx.const(0, "int64")
        for s in stmt.seq:
            total = total + _count_flops(s)
        return total
    if isinstance(stmt, s_tir.SBlockRealize):
        return _count_flops(stmt.block)
    if isinstance(stmt, s_tir.SBlock):
        return _count_flops(stmt.body)  # init stores only constants
    if isinstance(stmt, tirx.BufferStore):
        return tvm.tirx.const(_expr_ops(stmt.value), "int64")
    if isinstance(stmt, tirx.IfThenElse):
        return _count_flops(stmt.then_case)
    body = getattr(stmt, "body", None)
    return _count_flops(body) if body is not None else tvm.tirx.const(0, "int64")


def _expr_ops(e: Any) -> int:
    import tvm
    from tvm import tirx

    if isinstance(e, (tirx.Add, tirx.Sub, tirx.Mul, tirx.Div, tirx.Max, tirx.Min)):
        own = 1 if "float" in str(e.ty) else 0
        return own + _expr_ops(e.a) + _expr_ops(e.b)
    if isinstance(e, tvm.ir.expr.Call):
        name = str(getattr(e.op, "name", ""))
        own = 1 if any(name.endswith(f) for f in _FLOAT_CALLS) else 0
        short = name.rsplit(".", 1)[-1]
        if short in _APPROXIMATED:
            own = transcendental_ops()[short]
        return own + sum(_expr_ops(a) for a in e.args)
    if isinstance(e, tirx.Cast):
        return _expr_ops(e.value)
    if isinstance(e, tirx.Select):
        return 1 + _expr_ops(e.true_value) + _expr_ops(e.false_value)
    return 0


# ------------------------------------------------------------------ formulas as polynomials (data)
def _polynomial(expr: Any, env: dict[Any, Any]) -> Polynomial:
    """A TIR size expression over the part's symbols as `{monomial: coefficient}` (see `formulas.py`)."""
    from tvm import sym, tirx

    expr = sym.Analyzer().simplify(expr) if not isinstance(expr, int) else expr

    def go(e: Any) -> Polynomial:
        if isinstance(e, int):
            return {"1": e} if e else {}
        if isinstance(e, tirx.IntImm):
            return go(int(e.value))
        if isinstance(e, tirx.Var):
            if e in env and not env[e].same_as(e):
                return go(env[e])
            if e.name not in SYMBOLS:
                raise ValueError(f"size expression uses {e.name!r}, not one of the part's sizes {SYMBOLS}")
            return {e.name: 1}
        if isinstance(e, tirx.Add):
            return _plus(go(e.a), go(e.b))
        if isinstance(e, tirx.Sub):
            return _plus(go(e.a), {m: -c for m, c in go(e.b).items()})
        if isinstance(e, tirx.Mul):
            return _times(go(e.a), go(e.b))
        if isinstance(e, tirx.FloorDiv) and isinstance(e.b, tirx.IntImm):
            num, den = go(e.a), int(e.b.value)
            if all(c % den == 0 for c in num.values()):
                return {m: c // den for m, c in num.items()}
        if isinstance(e, tirx.Cast):
            return go(e.value)
        raise ValueError(f"size expression {e!r} is not a polynomial of the part's sizes")

    return go(expr)


def _plus(a: Polynomial, b: Polynomial) -> Polynomial:
    out = dict(a)
    for m, c in b.items():
        out[m] = out.get(m, 0) + c
    return {m: c for m, c in out.items() if c}


def _times(a: Polynomial, b: Polynomial) -> Polynomial:
    out: dict[str, int] = defaultdict(int)
    for ma, ca in a.items():
        for mb, cb in b.items():
            out[_monomial_product(ma, mb)] += ca * cb
    return {m: c for m, c in out.items() if c}


def _monomial_product(a: str, b: str) -> str:
    return monomial_name(tuple(x + y for x, y in zip(exponents(a), exponents(b), strict=True)))
