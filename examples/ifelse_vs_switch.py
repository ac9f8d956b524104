"""The seed's "IfElse Example: Comparison with Switch" (Advanced Theano, Conditions).

``T.switch`` is elementwise and evaluates both values; ``ifelse`` is lazy and evaluates only
the branch taken, so it spends about half the time here.  Run::

    python examples/ifelse_vs_switch.py [--rows 10000] [--cols 1000] [--times 10]
"""

import argparse
import time

import numpy

import aotsym
from aotsym import tensor as T
from aotsym.ifelse import ifelse

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--rows", type=int, default=10000)
parser.add_argument("--cols", type=int, default=1000)
parser.add_argument("--times", type=int, default=10)
args = parser.parse_args()

a, b = T.scalars('a', 'b')
x, y = T.matrices('x', 'y')

z_switch = T.switch(T.lt(a, b), T.mean(x), T.mean(y))
z_lazy = ifelse(T.lt(a, b), T.mean(x), T.mean(y))

f_switch = aotsym.function([a, b, x, y], z_switch)
f_lazyifelse = aotsym.function([a, b, x, y], z_lazy)

val1 = 0.
val2 = 1.
big_mat1 = numpy.ones((args.rows, args.cols))
big_mat2 = numpy.ones((args.rows, args.cols))

n_times = args.times

f_switch(val1, val2, big_mat1, big_mat2)          # (warm up: first touch of the pages)
f_lazyifelse(val1, val2, big_mat1, big_mat2)

tic = time.perf_counter()
for i in range(n_times):
    f_switch(val1, val2, big_mat1, big_mat2)
print('time spent evaluating both values %f sec' % (time.perf_counter() - tic))

tic = time.perf_counter()
for i in range(n_times):
    f_lazyifelse(val1, val2, big_mat1, big_mat2)
print('time spent evaluating one value %f sec' % (time.perf_counter() - tic))

print('values:', f_switch(val1, val2, big_mat1, big_mat2),
      f_lazyifelse(val1, val2, big_mat1, big_mat2 * 2),
      f_lazyifelse(val2, val1, big_mat1, big_mat2 * 2))
