"""``aotsym.scan_module`` (Theano's ``theano.scan_module``): not implemented yet.

Beside the pipeline: this module exists so that ported code, ``from aotsym.scan_module import
scan``, fails with a message that says what to use instead; ``scan`` will live in the
frontend, and this module will re-export it.
"""

import aotsym

raise aotsym.not_implemented("scan_module")
