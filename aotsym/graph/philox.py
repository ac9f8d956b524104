"""Philox4x32-10 and the transforms of its words into samples: the NumPy reference.

Part of the IR (frontend -> **graph** -> optimizer -> emitters): the random ops of
:mod:`aotsym.graph.ops.random` call these functions in their ``perform``; the C runtime
(``runtime/aotsym_random.h``) and the CUDA header (``runtime/aotsym_cuda_random.cuh``) spell
the same algorithm, and the tests check that they agree bit for bit.

The generator (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11) is
counter-based: block ``(c0, c1, c2, c3)`` under key ``(k0, k1)`` is four 32-bit words,
independent of every other block.  A random variable's state is a uint32 vector
``[k0, k1, lo, hi]``: its key and a 64-bit block counter.  A draw reads blocks
``counter + b`` (``c0 = low word, c1 = high word``; ``c2`` a sub-index inside one element's
block run; ``c3 = 0``) and the new state is the counter advanced past every block it read.

Invariants that make the three spellings agree:

* words -> floats: float64 ``((w0 >> 5) * 2**26 + (w1 >> 6)) * 2**-53`` (53 bits, in
  [0, 1)); float32 ``(w >> 8) * 2**-24`` (24 bits);
* every transform uses only IEEE-exact operations (``+ - * /``, ``sqrt``, ``floor``,
  ``frexp``; no fused multiply-add), in a fixed order: the logarithm and the sine/cosine of
  Box-Muller are fdlibm's polynomial kernels written out here, not the platform's libm;
* Box-Muller pairs the uniforms of one block: ``u1`` from words 0-1, ``u2`` from words 2-3,
  ``r = sqrt(-2 log(1 - u1))``; element ``2i`` is ``r cos(2 pi u2)``, element ``2i+1``
  ``r sin(2 pi u2)``; float32 normals are the float64 ones rounded.
"""

from __future__ import annotations

import numpy as np

M0, M1 = 0xD2511F53, 0xCD9E8D57
W0, W1 = 0x9E3779B9, 0xBB67AE85
MASK32 = 0xFFFFFFFF
STATE_SIZE = 4

_U32 = np.uint32
_U64 = np.uint64


def philox4x32(c0, c1, c2, c3, k0, k1, rounds=10):
    """The four output words (uint32 arrays) of the blocks ``(c0, c1, c2, c3)`` (arrays or
    ints, broadcast together) under the key ``(k0, k1)`` (ints)."""
    c = [np.asarray(x, dtype=_U32) for x in np.broadcast_arrays(c0, c1, c2, c3)]
    c0, c1, c2, c3 = (x.copy() for x in c)
    k0, k1 = int(k0) & MASK32, int(k1) & MASK32
    m0, m1 = _U64(M0), _U64(M1)
    for _ in range(rounds):
        p0 = c0.astype(_U64) * m0
        p1 = c2.astype(_U64) * m1
        hi0, lo0 = (p0 >> _U64(32)).astype(_U32), p0.astype(_U32)
        hi1, lo1 = (p1 >> _U64(32)).astype(_U32), p1.astype(_U32)
        c0, c1, c2, c3 = hi1 ^ c1 ^ _U32(k0), lo1, hi0 ^ c3 ^ _U32(k1), lo0
        k0, k1 = (k0 + W0) & MASK32, (k1 + W1) & MASK32
    return c0, c1, c2, c3


def split_state(state):
    """``(k0, k1, counter)`` of a state vector ``[k0, k1, lo, hi]``."""
    state = np.asarray(state)
    if state.shape != (STATE_SIZE,) or state.dtype != np.uint32:
        raise ValueError(f"a random state is a uint32 vector of {STATE_SIZE} words "
                         f"[key0, key1, counter_lo, counter_hi], got {state.dtype}"
                         f"{list(state.shape)}")
    k0, k1, lo, hi = (int(x) for x in state)
    return k0, k1, lo | (hi << 32)


def advance(state, nblocks: int) -> np.ndarray:
    """The state after reading ``nblocks`` blocks (the 64-bit counter wraps)."""
    k0, k1, counter = split_state(state)
    counter = (counter + int(nblocks)) & 0xFFFFFFFFFFFFFFFF
    return np.array([k0, k1, counter & MASK32, counter >> 32], dtype=_U32)


def blocks(state, index, sub=0):
    """The words of blocks ``counter + index`` (an int64 array), sub-index ``sub``."""
    k0, k1, counter = split_state(state)
    ctr = _U64(counter) + np.asarray(index, dtype=_U64)   # wraps modulo 2**64
    return philox4x32((ctr & _U64(MASK32)).astype(_U32), (ctr >> _U64(32)).astype(_U32),
                      np.asarray(sub, dtype=_U32), 0, k0, k1)


def seed_state(seed: int, stream: int) -> np.ndarray:
    """The initial state of random variable number ``stream`` of a generator seeded with
    ``seed``: its key is a Philox block of (seed, stream), its counter 0."""
    seed = int(seed) & 0xFFFFFFFFFFFFFFFF
    w = philox4x32(stream & MASK32, (stream >> 32) & MASK32, 0x5EED5EED, 0xA075E3D0,
                   seed & MASK32, seed >> 32)
    return np.array([int(w[0]), int(w[1]), 0, 0], dtype=_U32)


# ---------------------------------------------------------------------------- words -> floats

TWO_M53 = 2.0 ** -53
TWO_M24 = 2.0 ** -24
TWO_M32 = 2.0 ** -32


def u53(w0, w1) -> np.ndarray:
    """float64 uniforms in [0, 1) from two words each (53 bits)."""
    a = (np.asarray(w0) >> _U32(5)).astype(np.float64)
    b = (np.asarray(w1) >> _U32(6)).astype(np.float64)
    return (a * 67108864.0 + b) * TWO_M53


def u24(w) -> np.ndarray:
    """float32 uniforms in [0, 1) from one word each (24 bits)."""
    return (np.asarray(w) >> _U32(8)).astype(np.float32) * np.float32(TWO_M24)


def _interleave(first, second, n):
    """Elements 0, 1, 2, ... taken alternately from ``first`` and ``second``, ``n`` of them."""
    out = np.empty(2 * first.size, dtype=first.dtype)
    out[0::2], out[1::2] = first, second
    return out[:n]


def uniform01(state, n: int, dtype: str):
    """(``n`` uniforms in [0, 1) of ``dtype``, blocks read).  float64: element ``i`` is
    words (0, 1) or (2, 3) of block ``i // 2``; float32: word ``i % 4`` of block ``i // 4``."""
    if dtype == "float64":
        nb = (n + 1) // 2
        w = blocks(state, np.arange(nb, dtype=np.int64))
        return _interleave(u53(w[0], w[1]), u53(w[2], w[3]), n), nb
    nb = (n + 3) // 4
    w = blocks(state, np.arange(nb, dtype=np.int64))
    out = np.empty(4 * nb, dtype=np.float32)
    for j in range(4):
        out[j::4] = u24(w[j])
    return out[:n], nb


# ---------------------------------------------------------------------------- exact kernels
# fdlibm's coefficients (e_log.c, k_sin.c, k_cos.c), as hex so every spelling has the same
# doubles.

LN2_HI = float.fromhex("0x1.62e42feep-1")
LN2_LO = float.fromhex("0x1.a39ef35793c76p-33")
LG = [float.fromhex(h) for h in (
    "0x1.5555555555593p-1", "0x1.999999997fa04p-2", "0x1.2492494229359p-2",
    "0x1.c71c51d8e78afp-3", "0x1.7466496cb03dep-3", "0x1.39a09d078c69fp-3",
    "0x1.2f112df3e5244p-3")]
SQRT_HALF = float.fromhex("0x1.6a09e667f3bcdp-1")
S = [float.fromhex(h) for h in (
    "-0x1.5555555555549p-3", "0x1.111111110f8a6p-7", "-0x1.a01a019c161d5p-13",
    "0x1.71de357b1fe7dp-19", "-0x1.ae5e68a2b9cebp-26", "0x1.5d93a5acfd57cp-33")]
C = [float.fromhex(h) for h in (
    "0x1.555555555554cp-5", "-0x1.6c16c16c15177p-10", "0x1.a01a019cb159p-16",
    "-0x1.27e4f809c52adp-22", "0x1.1ee9ebdb4b1c4p-29", "-0x1.8fae9be8838d4p-37")]
PI_2 = float.fromhex("0x1.921fb54442d18p+0")


def log_exact(x):
    """``log(x)`` for normal positive float64 ``x``, by fdlibm's e_log kernel (< 1 ulp)."""
    m, k = np.frexp(np.asarray(x, dtype=np.float64))   # x = m * 2**k, m in [0.5, 1)
    small = m < SQRT_HALF
    m = np.where(small, m * 2.0, m)
    k = np.where(small, k - 1, k)
    f = m - 1.0
    s = f / (2.0 + f)
    dk = k.astype(np.float64)
    z = s * s
    w = z * z
    t1 = w * (LG[1] + w * (LG[3] + w * LG[5]))
    t2 = z * (LG[0] + w * (LG[2] + w * (LG[4] + w * LG[6])))
    r = t2 + t1
    hfsq = 0.5 * f * f
    return dk * LN2_HI - ((hfsq - (s * (hfsq + r) + dk * LN2_LO)) - f)


def sin_kernel(x):
    """``sin(x)`` for ``|x| <= pi/4`` (fdlibm's __kernel_sin with no tail)."""
    z = x * x
    v = z * x
    r = S[1] + z * (S[2] + z * (S[3] + z * (S[4] + z * S[5])))
    return x + v * (S[0] + z * r)


def cos_kernel(x):
    """``cos(x)`` for ``|x| <= pi/4`` (fdlibm's __kernel_cos with no tail)."""
    z = x * x
    r = z * (C[0] + z * (C[1] + z * (C[2] + z * (C[3] + z * (C[4] + z * C[5])))))
    hz = 0.5 * z
    w = 1.0 - hz
    return w + (((1.0 - w) - hz) + z * r)


def cos_sin_2pi(u):
    """``(cos(2 pi u), sin(2 pi u))`` for ``u`` in [0, 1): quadrant from ``4u`` exactly,
    then the kernels on ``r * pi/2`` with ``r`` in [-1/2, 1/2]."""
    t = 4.0 * np.asarray(u, dtype=np.float64)
    q = np.floor(t)
    r = t - q
    up = r > 0.5
    r = np.where(up, r - 1.0, r)
    q = (q.astype(np.int64) + up) & 3
    x = r * PI_2
    s, c = sin_kernel(x), cos_kernel(x)
    cos = np.choose(q, [c, -s, -c, s])
    sin = np.choose(q, [s, c, -s, -c])
    return cos, sin


def standard_normal(state, n: int):
    """(``n`` float64 standard normals by Box-Muller, blocks read): block ``i`` gives
    elements ``2i`` (cosine) and ``2i + 1`` (sine)."""
    nb = (n + 1) // 2
    w = blocks(state, np.arange(nb, dtype=np.int64))
    u1, u2 = u53(w[0], w[1]), u53(w[2], w[3])
    r = np.sqrt(-2.0 * log_exact(1.0 - u1))
    cos, sin = cos_sin_2pi(u2)
    return _interleave(r * cos, r * sin, n), nb


# ---------------------------------------------------------------------------- discrete draws


def binomial_counts(state, n, p, count: int):
    """(``count`` binomial(n_i, p_i) counts as int64, blocks read).  Element ``i``'s trial
    ``t`` succeeds when word ``t % 4`` of block ``(counter + i, sub t // 4)``, times 2**-32,
    is below ``p_i``.  ``n``, ``p``: arrays of ``count`` elements (or broadcastable)."""
    n = np.broadcast_to(np.asarray(n, dtype=np.int64), (count,))
    p = np.broadcast_to(np.asarray(p, dtype=np.float64), (count,))
    if count and n.min() < 0:
        raise ValueError(f"binomial: the number of trials must be >= 0, got {n.min()}")
    out = np.zeros(count, dtype=np.int64)
    index = np.arange(count, dtype=np.int64)
    top = int(n.max()) if count else 0
    for sub in range((top + 3) // 4):
        w = blocks(state, index, sub)
        for j in range(4):
            t = 4 * sub + j
            hit = (w[j].astype(np.float64) * TWO_M32 < p) & (t < n)
            out += hit
    return out, count


def _pick(cdf, target):
    """Index of the first ``cdf`` entry above ``target`` (the last positive one when
    rounding leaves none)."""
    k = int(np.searchsorted(cdf, target, side="right"))
    if k >= cdf.size:
        k = cdf.size - 1
        while k > 0 and cdf[k] == cdf[k - 1]:
            k -= 1
    return k


def _uniform_at(state, q):
    """The float64 uniforms number ``q`` (an int64 array) of the float64 uniform stream."""
    w = blocks(state, q // 2)
    odd = (q % 2).astype(bool)
    return np.where(odd, u53(w[2], w[3]), u53(w[0], w[1]))


def _below(u, m):
    """``floor(u * m)`` clamped to ``m - 1`` (an index below ``m``)."""
    return np.minimum(np.floor(u * np.float64(m)).astype(np.int64), m - 1)


def shuffle_prefix(state, m: int, k: int, first: int = 0):
    """The first ``k`` entries of a Fisher-Yates shuffle of ``0 .. m-1`` that uses the
    float64 uniforms numbered ``first, first + 1, ...``: step ``j`` swaps entry ``j`` with
    ``j + floor(u_j * (m - j))``."""
    u = _uniform_at(state, np.arange(first, first + k, dtype=np.int64))
    perm = np.arange(m, dtype=np.int64)
    for j in range(k):
        r = j + int(_below(u[j], m - j))
        perm[j], perm[r] = perm[r], perm[j]
    return perm[:k]


def choice_indices(state, m: int, count: int, replace: bool, p=None):
    """(``count`` indices below ``m``, blocks read).  Uniform with replacement:
    ``floor(u_i * m)``; weighted: the first entry of the sequential ``cumsum(p)`` above
    ``u_i * total``; without replacement: the prefix of a Fisher-Yates shuffle, or (weighted)
    one weighted pick at a time, the picked weight set to 0."""
    nb = (count + 1) // 2
    if m <= 0 and count:
        raise ValueError(f"choice: cannot choose from an empty population (a = {m})")
    if not replace and count > m:
        raise ValueError(f"choice: cannot take {count} samples without replacement from a "
                         f"population of {m}")
    if p is not None:
        p = np.asarray(p, dtype=np.float64)
        if p.shape != (m,):
            raise ValueError(f"choice: p has {p.size} entries for a population of {m}")
        if (p < 0).any() or not np.isfinite(p).all():
            raise ValueError("choice: the probabilities p must be finite and >= 0")
    if p is None:
        if replace:
            u = _uniform_at(state, np.arange(count, dtype=np.int64))
            return _below(u, m), nb
        return shuffle_prefix(state, m, count), nb
    u = _uniform_at(state, np.arange(count, dtype=np.int64))
    out = np.empty(count, dtype=np.int64)
    if replace:
        cdf = np.cumsum(p)
        if count and cdf[-1] <= 0:
            raise ValueError("choice: the probabilities p sum to 0")
        for i in range(count):
            out[i] = _pick(cdf, u[i] * cdf[-1])
        return out, nb
    w = p.copy()
    if np.count_nonzero(w) < count:
        raise ValueError(f"choice: fewer than {count} nonzero probabilities to take "
                         f"{count} samples without replacement")
    for i in range(count):
        cdf = np.cumsum(w)
        out[i] = k = _pick(cdf, u[i] * cdf[-1])
        w[k] = 0.0
    return out, nb


def permutations(state, m: int, count: int):
    """(``count`` permutations of ``0 .. m-1`` as rows, blocks read): row ``r`` is the full
    Fisher-Yates shuffle of :func:`shuffle_prefix` using uniforms ``r*m ...`` (vectorized
    over the rows)."""
    out = np.tile(np.arange(m, dtype=np.int64), (count, 1))
    if m and count:
        u = _uniform_at(state, np.arange(count * m, dtype=np.int64)).reshape(count, m)
        rows = np.arange(count)
        for j in range(m):
            r = j + _below(u[:, j], m - j)
            a, b = out[rows, j].copy(), out[rows, r].copy()
            out[rows, r] = a
            out[rows, j] = b
    return out, (count * m + 1) // 2


def multinomial_counts(state, n, pvals, count: int):
    """(``count`` rows of category counts, blocks read).  Row ``i`` makes ``n_i`` categorical
    draws: draw ``t`` takes the float64 uniform of words ``(2 (t%2), 2 (t%2) + 1)`` of
    block ``(counter + i, sub t // 2)`` and picks the first category of the sequential
    ``cumsum(pvals_i)`` above ``u * total`` (probabilities proportional to ``pvals_i``)."""
    pvals = np.asarray(pvals, dtype=np.float64)
    kcat = pvals.shape[-1]
    pvals = np.broadcast_to(pvals, (count, kcat))
    n = np.broadcast_to(np.asarray(n, dtype=np.int64), (count,))
    if count and n.min() < 0:
        raise ValueError(f"multinomial: the number of trials must be >= 0, got {n.min()}")
    if (pvals < 0).any() or not np.isfinite(pvals).all():
        raise ValueError("multinomial: pvals must be finite and >= 0")
    out = np.zeros((count, kcat), dtype=np.int64)
    if kcat == 0:
        return out, count
    cdf = np.cumsum(pvals, axis=1)
    total = cdf[:, -1]
    if ((n > 0) & (total <= 0)).any():
        raise ValueError("multinomial: a row of pvals sums to 0")
    # where rounding leaves no cdf entry above the target: the last positive category
    last = np.where(pvals > 0, np.arange(kcat), 0).max(axis=1)
    rows = np.arange(count, dtype=np.int64)
    for t in range(int(n.max()) if count else 0):
        live = rows[t < n]
        w = blocks(state, live, t // 2)
        u = u53(w[2], w[3]) if t % 2 else u53(w[0], w[1])
        target = u * total[live]
        pick = (cdf[live] <= target[:, None]).sum(axis=1)
        pick = np.where(pick >= kcat, last[live], pick)
        out[live, pick] += 1
    return out, count
