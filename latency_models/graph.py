"""One MobileBERT-family block as Relax functions with symbolic shapes, one module per structural variant.

The module has one function per *part* of the network, so that a per-layer (heterogeneous) stack is
just a sum over layers of parts evaluated at that layer's sizes:

- `embed`  (tokens T, embedding E, inter-block width H): gather, trigram concat, projection, position add, norm
- `attn`   (T, H, heads n, head dim d; the block width W = n·d): input bottleneck(s), Q/K/V, attention,
  output dense + residual + norm
- `ffn`    (T, n, d, FFN width F): one feed-forward network + residual + norm (run `num_feedforward_networks`
  times per layer)
- `out`    (T, H, n, d): output bottleneck W → H + residual + norm (bottleneck variants only)

Widths are symbolic (`tirx.Var`), so one lowering serves every candidate of the variant. Element-wise
sub-graphs that a runtime does not fuse (profile `[lowering]`: `fuse_layer_norm`, `fuse_gelu`,
`fuse_epilogue`, `fuse_bias`) are emitted as separate PrimFuncs marked `nas_unfused`; `lowering.py`
tags them opaque so that FuseOps keeps them apart, as the runtime would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

UNFUSED_PREFIX = "unfused_"
UNFUSED_ATTR = "nas_unfused"


@dataclass(frozen=True)
class Variant:
    """What changes the kernel graph (not its sizes), including the runtime's fusion options."""

    normalization_type: str
    hidden_act: str
    attention_form: str  # kq_shared | bottleneck | full
    trigram_input: bool
    fuse_layer_norm: bool = True
    fuse_gelu: bool = True
    fuse_epilogue: bool = True
    # A dense layer's bias add runs inside the GEMM even in runtimes without epilogue fusion: PyTorch's
    # `nn.Linear` calls `addmm`, TFLite's FullyConnected takes the bias. Only `fuse_bias = false` splits it.
    fuse_bias: bool = True

    @classmethod
    def of(cls, arch: Any, lowering: dict[str, Any]) -> Variant:
        return cls(arch.normalization_type, arch.hidden_act, arch.attention_form(), arch.trigram_input,
                   bool(lowering.get("fuse_layer_norm", True)), bool(lowering.get("fuse_gelu", True)),
                   bool(lowering.get("fuse_epilogue", True)), bool(lowering.get("fuse_bias", True)))

    def key(self) -> str:
        flags = "".join("1" if f else "0" for f in (self.trigram_input, self.fuse_layer_norm, self.fuse_gelu,
                                                     self.fuse_epilogue, self.fuse_bias))
        return f"{self.normalization_type}-{self.hidden_act}-{self.attention_form}-{flags}"


PART_FIELDS = {  # which variant fields change each part's kernel graph
    "embed": ("normalization_type", "trigram_input", "fuse_layer_norm", "fuse_epilogue", "fuse_bias"),
    "attn": ("normalization_type", "attention_form", "fuse_layer_norm", "fuse_epilogue", "fuse_bias"),
    "ffn": ("normalization_type", "hidden_act", "fuse_layer_norm", "fuse_gelu", "fuse_epilogue", "fuse_bias"),
    "out": ("normalization_type", "fuse_layer_norm", "fuse_epilogue", "fuse_bias"),
}


def part_key(v: Variant, part: str) -> str:
    return part + ":" + "-".join(str(getattr(v, f)) for f in PART_FIELDS[part])


def build_module(v: Variant, parts: tuple[str, ...] = ("embed", "attn", "ffn", "out")):
    """The Relax IRModule of `v` with the functions `parts` (`out` exists with a bottleneck only)."""
    from tvm import relax, te, tirx

    bb = relax.BlockBuilder()
    f32 = "float32"

    def sym(name: str):
        return tirx.Var(name, "int64")

    def tensor(name: str, shape: list) -> Any:
        return relax.Var(name, relax.TensorType(shape, f32))

    def unfused(fn, *args: Any, name: str):
        # The attribute keeps these PrimFuncs distinct from identical fusable ones (a bias add) when deduplicated.
        return bb.emit_te(fn, *args, primfunc_name_hint=UNFUSED_PREFIX + name,
                          primfunc_attrs={UNFUSED_ATTR: 1})

    def ew(op, a: Any, b: Any, name: str):
        """`a + b` or `a * b` (b: tensor or float); a separate kernel when the runtime does not fuse epilogues."""
        if v.fuse_epilogue:
            return bb.emit(op(a, relax.const(b, f32) if isinstance(b, float) else b))
        fn = (lambda x, y: x + y) if op is relax.op.add else (lambda x, y: x * y)
        if isinstance(b, float):
            return unfused(lambda x: te.compute(x.shape, lambda *i: fn(x(*i), b)), a, name=name)
        return unfused(lambda x, y: topi_broadcast(fn, x, y), a, b, name=name)

    def norm(x: Any, width: Any, params: list) -> Any:
        gamma, beta = tensor("gamma", [width]), tensor("beta", [width])
        params += [gamma, beta]
        if v.normalization_type == "no_norm":
            return ew(relax.op.add, ew(relax.op.multiply, x, gamma, name="nonorm_mul"), beta,
                      name="nonorm_add")
        if v.fuse_layer_norm:
            return bb.emit(relax.op.nn.layer_norm(x, gamma, beta, axes=[-1]))
        # TFLite-style LayerNorm: mean, centre, square, mean, rsqrt, scale, affine as separate ops.
        mean = unfused(lambda a: te.compute((a.shape[0], 1), lambda i, _: _row_sum(te, a, i)),
                       x, name="ln_mean")
        cen = unfused(lambda a, m: te.compute(a.shape, lambda i, j: a[i, j] - m[i, 0]), x, mean, name="ln_sub")
        sq = unfused(lambda a: te.compute(a.shape, lambda i, j: a[i, j] * a[i, j]), cen, name="ln_square")
        var = unfused(lambda a: te.compute((a.shape[0], 1), lambda i, _: _row_sum(te, a, i)),
                      sq, name="ln_var")
        inv = unfused(lambda a: te.compute(a.shape, lambda i, j: te.rsqrt(a[i, j] + 1e-12)), var,
                      name="ln_rsqrt")
        scaled = unfused(lambda a, r: te.compute(a.shape, lambda i, j: a[i, j] * r[i, 0]), cen, inv,
                         name="ln_scale")
        mul = unfused(lambda a, g: te.compute(a.shape, lambda i, j: a[i, j] * g[j]), scaled, gamma,
                      name="ln_gamma")
        return unfused(lambda a, b: te.compute(a.shape, lambda i, j: a[i, j] + b[j]), mul, beta, name="ln_beta")

    def act(x: Any) -> Any:
        if v.hidden_act == "relu":
            return bb.emit(relax.op.nn.relu(x)) if v.fuse_epilogue else unfused(
                lambda a: te.compute(a.shape, lambda i, j: te.max(a[i, j], 0.0)), x, name="relu")
        if v.fuse_gelu and v.fuse_epilogue:
            return bb.emit(relax.op.nn.gelu(x))
        if v.fuse_gelu:
            return unfused(lambda a: te.compute(a.shape, lambda i, j: 0.5 * a[i, j] * (
                1.0 + te.erf(a[i, j] * 0.7071067811865476))), x, name="gelu")
        # erf-based GELU as TFLite runs it: scale, erf, add one, multiply, halve.
        s = unfused(lambda a: te.compute(a.shape, lambda i, j: a[i, j] * 0.7071067811865476), x, name="gelu_scale")
        e = unfused(lambda a: te.compute(a.shape, lambda i, j: te.erf(a[i, j])), s, name="gelu_erf")
        p = unfused(lambda a: te.compute(a.shape, lambda i, j: a[i, j] + 1.0), e, name="gelu_add")
        m = unfused(lambda a, b: te.compute(a.shape, lambda i, j: a[i, j] * b[i, j]), x, p, name="gelu_mul")
        return unfused(lambda a: te.compute(a.shape, lambda i, j: a[i, j] * 0.5), m, name="gelu_half")

    def dense(x: Any, n_in: Any, n_out: Any, params: list) -> Any:
        w, b = tensor("w", [n_in, n_out]), tensor("b", [n_out])
        params += [w, b]
        y = bb.emit(relax.op.matmul(x, w))
        if v.fuse_bias and not v.fuse_epilogue:
            return bb.emit(relax.op.add(y, b))  # fusable: FuseOps puts it in the matmul's kernel
        return ew(relax.op.add, y, b, name="bias")

    if "embed" in parts:
        _embed(bb, v, sym, tensor, dense, norm, ew)
    if "attn" in parts:
        _attn(bb, v, sym, tensor, dense, norm, ew)
    if "ffn" in parts:
        _ffn(bb, sym, tensor, dense, norm, ew, act)
    if "out" in parts and v.attention_form != "full":
        _out(bb, sym, tensor, dense, norm, ew)
    return bb.get()


def _embed(bb: Any, v: Variant, sym: Any, tensor: Any, dense: Any, norm: Any, ew: Any) -> None:
    from tvm import relax

    T, E, H, V = sym("T"), sym("E"), sym("H"), sym("V")
    ids = relax.Var("ids", relax.TensorType([T], "int64"))
    table, pos = tensor("table", [V, E]), tensor("pos", [T, H])
    params: list = [ids, table, pos]
    with bb.function("embed"):
        with bb.dataflow():
            x = bb.emit(relax.op.take(table, ids, axis=0))
            width = E
            if v.trigram_input:
                x = bb.emit(relax.op.concat([x, x, x], axis=1))
                width = E * 3
            x = dense(x, width, H, params)
            x = ew(relax.op.add, x, pos, name="pos_add")
            y = bb.emit_output(norm(x, H, params))
        bb.emit_func_output(y, params)



def _attn(bb: Any, v: Variant, sym: Any, tensor: Any, dense: Any, norm: Any, ew: Any) -> None:
    from tvm import relax

    T, H, n, d = sym("T"), sym("H"), sym("n"), sym("d")
    W = n * d
    if v.attention_form == "full":
        H = W
    x = tensor("x", [T, H])
    params = [x]
    with bb.function("attn"):
        with bb.dataflow():
            if v.attention_form == "full":
                q_in = k_in = v_in = residual = x
            else:
                inp = norm(dense(x, H, W, params), W, params)
                residual = inp
                if v.attention_form == "kq_shared":
                    q_in = k_in = norm(dense(x, H, W, params), W, params)
                    v_in = x
                else:
                    q_in = k_in = v_in = inp
            v_width = H if v.attention_form == "kq_shared" else W

            def heads(t: Any) -> Any:
                t = bb.emit(relax.op.reshape(t, [T, n, d]))
                return bb.emit(relax.op.permute_dims(t, [1, 0, 2]))

            q = heads(dense(q_in, W, W, params))
            k = heads(dense(k_in, W, W, params))
            val = heads(dense(v_in, v_width, W, params))
            scores = bb.emit(relax.op.matmul(q, bb.emit(relax.op.permute_dims(k, [0, 2, 1]))))
            scores = ew(relax.op.multiply, scores, 0.125, name="scale")
            probs = bb.emit(relax.op.nn.softmax(scores, axis=-1))
            ctx = bb.emit(relax.op.matmul(probs, val))
            ctx = bb.emit(relax.op.reshape(bb.emit(relax.op.permute_dims(ctx, [1, 0, 2])), [T, W]))
            o = ew(relax.op.add, dense(ctx, W, W, params), residual, name="residual")
            y = bb.emit_output(norm(o, W, params))
        bb.emit_func_output(y, params)



def _ffn(bb: Any, sym: Any, tensor: Any, dense: Any, norm: Any, ew: Any, act: Any) -> None:
    from tvm import relax

    T, n, d, F = sym("T"), sym("n"), sym("d"), sym("F")
    W = n * d
    x = tensor("x", [T, W])
    params = [x]
    with bb.function("ffn"):
        with bb.dataflow():
            h = act(dense(x, W, F, params))
            o = ew(relax.op.add, dense(h, F, W, params), x, name="residual")
            y = bb.emit_output(norm(o, W, params))
        bb.emit_func_output(y, params)



def _out(bb: Any, sym: Any, tensor: Any, dense: Any, norm: Any, ew: Any) -> None:
    from tvm import relax

    T, H, n, d = sym("T"), sym("H"), sym("n"), sym("d")
    W = n * d
    h, x = tensor("h", [T, W]), tensor("x", [T, H])
    params = [h, x]
    with bb.function("out"):
        with bb.dataflow():
            o = ew(relax.op.add, dense(h, W, H, params), x, name="residual")
            y = bb.emit_output(norm(o, H, params))
        bb.emit_func_output(y, params)


def topi_broadcast(fn: Any, x: Any, y: Any) -> Any:
    from tvm import te

    offset = len(x.shape) - len(y.shape)
    return te.compute(x.shape, lambda *i: fn(x(*i), y(*i[offset:])))


def _row_sum(te: Any, a: Any, i: Any) -> Any:
    k = te.reduce_axis((0, a.shape[1]), name="k")
    return te.sum(a[i, k], axis=k)
