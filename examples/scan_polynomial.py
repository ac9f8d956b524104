"""The seed's scan example: evaluating a polynomial, and Exercise 4 (the sum by scan).

    python examples/scan_polynomial.py     # prints 19.0 twice

The components ``coeff * x**power`` are a mapped output over two sequences (the
coefficients and ``arange(10000)``: scan runs over the shorter); Exercise 4 carries the sum
as a state instead of summing the components afterwards.
"""

import numpy

import aotsym
from aotsym import tensor as T

coefficients = T.vector("coefficients")
x = T.scalar("x")
max_coefficients_supported = 10000

# Generate the components of the polynomial
full_range = T.arange(max_coefficients_supported)
components, updates = aotsym.scan(fn=lambda coeff, power, free_var: coeff * (free_var ** power),
                                  outputs_info=None,
                                  sequences=[coefficients, full_range],
                                  non_sequences=x)
polynomial = components.sum()
calculate_polynomial = aotsym.function(inputs=[coefficients, x], outputs=polynomial)

test_coeff = numpy.asarray([1, 0, 2], dtype=numpy.float32)
print(calculate_polynomial(test_coeff, 3))

# Exercise 4: the reduction done by scan itself
totals, updates = aotsym.scan(fn=lambda coeff, power, total, free_var:
                              total + coeff * (free_var ** power),
                              outputs_info=T.constant(0.0),
                              sequences=[coefficients, full_range],
                              non_sequences=x)
calculate_by_scan = aotsym.function(inputs=[coefficients, x], outputs=totals[-1])
print(calculate_by_scan(test_coeff, 3))
