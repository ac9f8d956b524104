"""Shapes on the GPU: ``Shape_i``, ``Shape`` and ``Alloc``.

Part of the CUDA renderer (graph -> optimizer -> **emit_cuda** -> build).  The steps of
:mod:`aotsym.emit_c.shapes` and ``Alloc`` of :mod:`aotsym.emit_c.structure`, spelled for
``runtime/aotsym_cuda_runtime.cuh``.  Lengths live on the host (the descriptors), so a
``Shape_i`` is a 0-d device value whose host copy the descriptor keeps (``host_known``): an
``Alloc`` whose lengths come from ``Shape_i`` (the optimizer's zeros beside a ``Gemv``) reads
them without a device round trip; a length computed on the device is read back (a
synchronizing copy).  ``Alloc`` fills its fresh buffer with one gather kernel, the value seen
with stride 0 along the dimensions it repeats.
"""

from __future__ import annotations

import numpy as np

from aotsym.emit_c import dtypes as D
from aotsym.emit_c.templates import c_string
from aotsym.emit_cuda.renderer import lowers
from aotsym.optimizer.program import CONSTANT


@lowers("Shape_i")
def lower_shape_i(fe, step):
    (x,), (out,) = step.node.inputs, step.node.outputs
    return [f"if (aot_cu_host_scalar(err, step, &{fe.ref(out)}, "
            f"{fe.ref(x)}.shape[{step.node.op.i}])) goto fail;"]


@lowers("Shape")
def lower_shape(fe, step):
    (x,), (out,) = step.node.inputs, step.node.outputs
    o, src = fe.ref(out), fe.ref(x)
    return [f"{o}.ndim = 1;", f"{o}.itemsize = 8;", f"{o}.shape[0] = {x.ndim};",
            f"if (aot_cu_alloc(err, step, &{o})) goto fail;",
            f"if ({x.ndim} > 0 && aot_cu_check(err, step, cudaMemcpy({o}.data, {src}.shape, "
            f"{8 * x.ndim}, cudaMemcpyHostToDevice), \"copying a shape to the device\")) "
            "goto fail;"]


def host_int(fe, var, target: str) -> list:
    """C lines setting the int64 ``target`` to the 0-d integer ``var``'s value on the host."""
    slot = fe.program.slot(var)
    if slot.role == CONSTANT:
        return [f"{target} = {int(np.asarray(var.data))};"]
    signed = int(D.kind(var.dtype) == "i")
    return [f"if (aot_cu_host_int(err, step, &{fe.ref(var)}, {signed}, &{target})) goto fail;"]


@lowers("Alloc")
def lower_alloc(fe, step):
    node = step.node
    value, dims = node.inputs[0], node.inputs[1:]
    (out,) = node.outputs
    o = fe.ref(out)
    lines = [f"{o}.ndim = {out.ndim};"]
    for d, v in enumerate(dims):
        lines += host_int(fe, v, f"{o}.shape[{d}]")
    lines.append(f"if (aot_cu_fill<{max(1, out.ndim)}>(err, step, {c_string(str(node.op))}, "
                 f"&{o}, &{fe.ref(value)})) goto fail;")
    return lines
