"""The seed tutorial's first example: build ``a + a**10``, compile it, call it.

    python examples/simple.py          # prints [   0.    2. 1026.]
"""

import aotsym
from aotsym import tensor as T

a = T.vector("a")              # declare symbolic variable
out = a + a ** 10              # build symbolic expression
f = aotsym.function([a], out)  # compile function
print(f([0, 1, 2]))
