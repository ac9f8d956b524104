"""``aotsym.misc``: Theano's ``theano.misc`` helpers that user code calls (``pkl_utils``)."""
