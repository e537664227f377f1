"""One MobileBERT-family block as Relax functions with symbolic shapes, one module per structural variant.

`PartBuilder` emits one Relax function per part (`variant.py`: `embed`, `attn`, `ffn`, `out`) with one method
per block, as HF's modules each own theirs: `embeddings` (MobileBertEmbeddings), `bottleneck` (Bottleneck:
the attention's input projections), `attention` (MobileBertAttention), `ffn` (FFNLayer), `output` (the
output bottleneck, MobileBertOutput), over shared ops (`dense`, `norm`, `activation`, `elementwise`).

Widths are symbolic (`tirx.Var`), so one lowering serves every candidate of the variant. Element-wise
sub-graphs that a runtime does not fuse (profile `[lowering]`: `fuse_layer_norm`, `fuse_gelu`,
`fuse_epilogue`, `fuse_bias`) are emitted as separate PrimFuncs marked `nas_unfused`; `lowering.py`
tags them opaque so that FuseOps keeps them apart, as the runtime would.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from latency_models.variant import GRAPH_PARTS, Variant

UNFUSED_PREFIX = "unfused_"
UNFUSED_ATTR = "nas_unfused"
F32 = "float32"
INV_SQRT2 = 0.7071067811865476


def build_module(v: Variant, parts: tuple[str, ...] = GRAPH_PARTS) -> Any:
    """The Relax IRModule of `v` with the functions `parts` (`out` exists with a bottleneck only)."""
    builder = PartBuilder(v)
    emit = {"embed": builder.embeddings, "attn": builder.attention, "ffn": builder.ffn, "out": builder.output}
    for part in parts:
        if part in v.parts():
            emit[part]()
    return builder.bb.get()


class PartBuilder:
    """Emits the part functions of one variant into one `relax.BlockBuilder`."""

    def __init__(self, v: Variant) -> None:
        from tvm import relax, te, tirx  # TVM is imported when something is lowered, not by a cached prediction

        self.v, self.relax, self.te, self.tirx = v, relax, te, tirx
        self.bb = relax.BlockBuilder()
        self.params: list[Any] = []

    # ------------------------------------------------------------------ the parts
    def embeddings(self) -> None:
        """Token gather, trigram concat, projection to H, position add, norm (MobileBertEmbeddings)."""
        relax, bb = self.relax, self.bb
        T, E, H, V = self.sym("T"), self.sym("E"), self.sym("H"), self.sym("V")
        ids = relax.Var("ids", relax.TensorType([T], "int64"))
        table, pos = self.tensor("table", [V, E]), self.tensor("pos", [T, H])
        with self._function("embed", ids, table, pos) as out:
            # "clip": TVM's default "fast" gather warns that out-of-bounds ids segfault, on every lowering.
            x = bb.emit(relax.op.take(table, ids, axis=0, mode="clip"))
            width = E
            if self.v.trigram_input:
                x = bb.emit(relax.op.concat([x, x, x], axis=1))
                width = E * 3
            x = self.elementwise(relax.op.add, self.dense(x, width, H), pos, name="pos_add")
            out.append(self.norm(x, H))

    def attention(self) -> None:
        """Input bottleneck(s), Q/K/V, scaled dot-product attention, output dense + residual + norm."""
        relax, bb, form = self.relax, self.bb, self.v.attention_form
        T, n, d = self.sym("T"), self.sym("n"), self.sym("d")
        W = n * d
        H = W if form == "full" else self.sym("H")
        x = self.tensor("x", [T, H])
        with self._function("attn", x) as out:
            q_in, v_in, residual = self.bottleneck(x, H, W)
            v_width = H if form == "kq_shared" else W

            def heads(t: Any) -> Any:
                return bb.emit(relax.op.permute_dims(bb.emit(relax.op.reshape(t, [T, n, d])), [1, 0, 2]))

            q = heads(self.dense(q_in, W, W))
            k = heads(self.dense(q_in, W, W))
            val = heads(self.dense(v_in, v_width, W))
            scores = bb.emit(relax.op.matmul(q, bb.emit(relax.op.permute_dims(k, [0, 2, 1]))))
            scores = self.elementwise(relax.op.multiply, scores, 0.125, name="scale")
            probs = bb.emit(relax.op.nn.softmax(scores, axis=-1))
            ctx = bb.emit(relax.op.matmul(probs, val))
            ctx = bb.emit(relax.op.reshape(bb.emit(relax.op.permute_dims(ctx, [1, 0, 2])), [T, W]))
            o = self.elementwise(relax.op.add, self.dense(ctx, W, W), residual, name="residual")
            out.append(self.norm(o, W))

    def bottleneck(self, x: Any, H: Any, W: Any) -> tuple[Any, Any, Any]:
        """(query/key input, value input, residual) of the attention (HF `Bottleneck`): the H → W input
        projection (the residual stream of the block), plus a shared Q/K projection when kq_shared."""
        form = self.v.attention_form
        if form == "full":
            return x, x, x
        inp = self.norm(self.dense(x, H, W), W)
        if form == "kq_shared":
            return self.norm(self.dense(x, H, W), W), x, inp
        return inp, inp, inp

    def ffn(self) -> None:
        """One feed-forward network W → F → W + residual + norm (HF `FFNLayer` / the last `MobileBertOutput`)."""
        T, n, d, F = self.sym("T"), self.sym("n"), self.sym("d"), self.sym("F")
        W = n * d
        x = self.tensor("x", [T, W])
        with self._function("ffn", x) as out:
            h = self.activation(self.dense(x, W, F))
            o = self.elementwise(self.relax.op.add, self.dense(h, F, W), x, name="residual")
            out.append(self.norm(o, W))

    def output(self) -> None:
        """Output bottleneck W → H + residual + norm (HF `OutputBottleneck`; bottleneck variants only)."""
        T, H, n, d = self.sym("T"), self.sym("H"), self.sym("n"), self.sym("d")
        W = n * d
        h, x = self.tensor("h", [T, W]), self.tensor("x", [T, H])
        with self._function("out", h, x) as out:
            o = self.elementwise(self.relax.op.add, self.dense(h, W, H), x, name="residual")
            out.append(self.norm(o, H))

    # ------------------------------------------------------------------ shared ops
    def dense(self, x: Any, n_in: Any, n_out: Any) -> Any:
        relax = self.relax
        w, b = self.tensor("w", [n_in, n_out]), self.tensor("b", [n_out])
        self.params += [w, b]
        y = self.bb.emit(relax.op.matmul(x, w))
        if self.v.fuse_bias and not self.v.fuse_epilogue:
            return self.bb.emit(relax.op.add(y, b))  # fusable: FuseOps puts it in the matmul's kernel
        return self.elementwise(relax.op.add, y, b, name="bias")

    def norm(self, x: Any, width: Any) -> Any:
        relax, te = self.relax, self.te
        gamma, beta = self.tensor("gamma", [width]), self.tensor("beta", [width])
        self.params += [gamma, beta]
        if self.v.normalization_type == "no_norm":
            scaled = self.elementwise(relax.op.multiply, x, gamma, name="nonorm_mul")
            return self.elementwise(relax.op.add, scaled, beta, name="nonorm_add")
        if self.v.fuse_layer_norm:
            return self.bb.emit(relax.op.nn.layer_norm(x, gamma, beta, axes=[-1]))
        # TFLite-style LayerNorm: mean, centre, square, mean, rsqrt, scale, affine as separate ops.
        mean = self.unfused(lambda a: te.compute((a.shape[0], 1), lambda i, _: _row_sum(te, a, i)), x, name="ln_mean")
        cen = self.unfused(lambda a, m: te.compute(a.shape, lambda i, j: a[i, j] - m[i, 0]), x, mean, name="ln_sub")
        sq = self.unfused(lambda a: te.compute(a.shape, lambda i, j: a[i, j] * a[i, j]), cen, name="ln_square")
        var = self.unfused(lambda a: te.compute((a.shape[0], 1), lambda i, _: _row_sum(te, a, i)), sq, name="ln_var")
        inv = self.unfused(lambda a: te.compute(a.shape, lambda i, j: te.rsqrt(a[i, j] + 1e-12)), var,
                           name="ln_rsqrt")
        scaled = self.unfused(lambda a, r: te.compute(a.shape, lambda i, j: a[i, j] * r[i, 0]), cen, inv,
                              name="ln_scale")
        mul = self.unfused(lambda a, g: te.compute(a.shape, lambda i, j: a[i, j] * g[j]), scaled, gamma,
                           name="ln_gamma")
        return self.unfused(lambda a, b: te.compute(a.shape, lambda i, j: a[i, j] + b[j]), mul, beta,
                            name="ln_beta")

    def activation(self, x: Any) -> Any:
        relax, te, v = self.relax, self.te, self.v
        if v.hidden_act == "relu":
            if v.fuse_epilogue:
                return self.bb.emit(relax.op.nn.relu(x))
            return self.unfused(lambda a: te.compute(a.shape, lambda i, j: te.max(a[i, j], 0.0)), x, name="relu")
        if v.fuse_gelu and v.fuse_epilogue:
            return self.bb.emit(relax.op.nn.gelu(x))
        if v.fuse_gelu:
            return self.unfused(lambda a: te.compute(a.shape, lambda i, j: 0.5 * a[i, j] * (
                1.0 + te.erf(a[i, j] * INV_SQRT2))), x, name="gelu")
        # erf-based GELU as TFLite runs it: scale, erf, add one, multiply, halve.
        s = self.unfused(lambda a: te.compute(a.shape, lambda i, j: a[i, j] * INV_SQRT2), x, name="gelu_scale")
        e = self.unfused(lambda a: te.compute(a.shape, lambda i, j: te.erf(a[i, j])), s, name="gelu_erf")
        p = self.unfused(lambda a: te.compute(a.shape, lambda i, j: a[i, j] + 1.0), e, name="gelu_add")
        m = self.unfused(lambda a, b: te.compute(a.shape, lambda i, j: a[i, j] * b[i, j]), x, p, name="gelu_mul")
        return self.unfused(lambda a: te.compute(a.shape, lambda i, j: a[i, j] * 0.5), m, name="gelu_half")

    def elementwise(self, op: Any, a: Any, b: Any, name: str) -> Any:
        """`a + b` or `a * b` (b: tensor or float); a separate kernel when the runtime does not fuse epilogues."""
        relax, te = self.relax, self.te
        if self.v.fuse_epilogue:
            return self.bb.emit(op(a, relax.const(b, F32) if isinstance(b, float) else b))
        fn = (lambda x, y: x + y) if op is relax.op.add else (lambda x, y: x * y)
        if isinstance(b, float):
            return self.unfused(lambda x: te.compute(x.shape, lambda *i: fn(x(*i), b)), a, name=name)
        return self.unfused(lambda x, y: _broadcast(te, fn, x, y), a, b, name=name)

    def unfused(self, fn: Any, *args: Any, name: str) -> Any:
        # The attribute keeps these PrimFuncs distinct from identical fusable ones (a bias add) when deduplicated.
        return self.bb.emit_te(fn, *args, primfunc_name_hint=UNFUSED_PREFIX + name, primfunc_attrs={UNFUSED_ATTR: 1})

    # ------------------------------------------------------------------ plumbing
    def sym(self, name: str) -> Any:
        return self.tirx.Var(name, "int64")

    def tensor(self, name: str, shape: list) -> Any:
        return self.relax.Var(name, self.relax.TensorType(shape, F32))

    @contextmanager
    def _function(self, name: str, *inputs: Any) -> Iterator[list[Any]]:
        """Emit Relax function `name` of `inputs` and of the weights its body creates (`dense`, `norm`); the
        body appends its result to the yielded list."""
        self.params = list(inputs)
        out: list[Any] = []
        with self.bb.function(name):
            with self.bb.dataflow():
                yield out
                y = self.bb.emit_output(out[0])
            self.bb.emit_func_output(y, self.params)


def _broadcast(te: Any, fn: Any, x: Any, y: Any) -> Any:
    offset = len(x.shape) - len(y.shape)
    return te.compute(x.shape, lambda *i: fn(x(*i), y(*i[offset:])))


def _row_sum(te: Any, a: Any, i: Any) -> Any:
    k = te.reduce_axis((0, a.shape[1]), name="k")
    return te.sum(a[i, k], axis=k)
