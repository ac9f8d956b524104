"""``aotsym.ifelse`` (Theano's ``theano.ifelse``): not implemented yet.

Beside the pipeline: this module exists so that ported code, ``from aotsym.ifelse import
ifelse``, fails with a message that says what to use instead; the lazy ``ifelse`` op will
live in the frontend, and this module will re-export it.
"""

import aotsym

raise aotsym.not_implemented("ifelse")
