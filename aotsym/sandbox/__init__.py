"""``aotsym.sandbox``: Theano's ``theano.sandbox`` module paths (``rng_mrg``, ``neighbours``).

Part of the frontend (**frontend** -> graph -> optimizer -> emitters): aliases only.
"""
