"""``scan_checkpoints`` (Theano's ``theano.scan_checkpoints``): a scan whose gradient keeps
one state every ``save_every_N`` steps and recomputes the steps in between.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters), built only from
:func:`aotsym.frontend.scan.scan`: an outer scan over blocks of ``save_every_N`` steps whose
step runs an inner scan over the block and keeps its last state::

    scan(fn, sequences=[x], outputs_info=[h0], n_steps=n)
      -> outer scan over ceil(n / N) blocks: (x reshaped to (blocks, N, ...), steps per
         block) -> inner scan(fn, block rows, h, n_steps=steps)[-1]

The outer loop stores one state per block; the gradient of the outer step (the backward
loop of :mod:`aotsym.graph.ops.scan_grad`) re-runs the inner loop of each block from its
stored state, so the states inside a block are never stored all at once.  The result is
the state after each block (the last rows of ``scan``'s result are the same).

Theano's restrictions hold: outputs without taps (one state tap or none), every sequence
as long as the number of steps.  A sequence whose length ``save_every_N`` does not divide
is padded with zeros (``padding=True``) that the last, shorter block does not read.
"""

from __future__ import annotations

from aotsym.frontend.scan import ScanError, _as_list, scan


def scan_checkpoints(fn, sequences=None, outputs_info=None, non_sequences=None,
                     name="checkpointscan_fn", n_steps=None, save_every_N=10, padding=True):
    """Theano's ``scan_checkpoints``: ``(outputs, updates)`` where each output holds the
    state after every ``save_every_N`` steps (the last block may be shorter); see the
    module docstring."""
    import aotsym.tensor as T

    sequences = [T.as_tensor_variable(s) for s in _as_list(sequences)]
    outputs_info = _as_list(outputs_info) if outputs_info is not None else [None]
    non_sequences = _as_list(non_sequences)
    for element in outputs_info:
        if isinstance(element, dict) and "taps" in element:
            raise RuntimeError("scan_checkpoints doesn't work with taps.")
    if n_steps is None:
        if not sequences:
            raise ScanError("scan_checkpoints: with no sequences, n_steps must be given")
        n_steps = sequences[0].shape[0]
    n_steps = T.cast(n_steps, "int64")
    every = int(save_every_N)
    blocks = (n_steps + (every - 1)) // every                       # ceil(n / N)
    block_steps = T.set_subtensor((T.ones((blocks,), "int64") * every)[-1],
                                  n_steps - (blocks - 1) * every)  # the last: 1 .. N
    o_sequences = []
    for s in sequences:
        s = s[:n_steps]
        rest = [s.shape[i] for i in range(1, s.ndim)]
        if padding:
            s = T.concatenate([s, T.zeros([blocks * every - s.shape[0]] + rest, s.dtype)])
        o_sequences.append(s.reshape([blocks, every] + rest, ndim=s.ndim + 1))
    n_seq = len(o_sequences)
    n_states = sum(1 for i in outputs_info if i is not None)

    def outer_step(*args):
        rows, steps = list(args[:n_seq]), args[n_seq]
        prev = iter(args[n_seq + 1:n_seq + 1 + n_states])
        nonseqs = list(args[n_seq + 1 + n_states:])
        infos = [None if i is None else next(prev) for i in outputs_info]
        results, updates = scan(fn, sequences=rows, outputs_info=infos,
                                non_sequences=nonseqs, name=name + "_inner", n_steps=steps,
                                return_list=True)
        return [r[-1] for r in results], updates

    results, updates = scan(outer_step, sequences=o_sequences + [block_steps],
                            outputs_info=outputs_info, non_sequences=non_sequences,
                            name=name + "_outer", n_steps=blocks)
    return results, updates
