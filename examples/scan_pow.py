"""The seed's scan example: computing ``pow(A, k)`` with ``aotsym.scan``.

    python examples/scan_pow.py        # prints [ 0.  1.  4.  9. 16. 25. 36. 49. 64. 81.]

Scan computes A**1 through A**k; only the last is read, so the optimizer keeps only the
last row (``scan_keep_last_rows``): it does not waste memory saving them.
"""

import aotsym
from aotsym import tensor as T

k = T.iscalar("k")
A = T.vector("A")


def inner_fct(prior_result, A):
    return prior_result * A


# Symbolic description of the result
result, updates = aotsym.scan(fn=inner_fct, outputs_info=T.ones_like(A),
                              non_sequences=A, n_steps=k)
final_result = result[-1]          # keep only the last value

power = aotsym.function(inputs=[A, k], outputs=final_result, updates=updates)
print(power(range(10), 2))
