"""The deeplearning.net tutorials (lisa-lab/DeepLearningTutorials), condensed, ported by
changing only their imports: logistic_sgd, mlp, dA (RandomStreams corruption),
convolutional_mlp (LeNet: conv2d + pool_2d) and rnnslu's Elman recurrence by scan.

The code between the TUTORIAL markers is the tutorials' own (their classes, their
``theano.function(..., givens={x: train_set_x[index * batch_size: ...]})`` calls, their
``theano.config.floatX`` casts) on small synthetic data.  Each test checks the cost falls.
Where PyTensor is importable, the same section is run again under ``import pytensor as
theano`` (plus the few Theano names PyTensor dropped) and the first losses must agree.
"""

import sys
from collections import OrderedDict

import numpy
import pytest
from tutorial_harness import pytensor_namespace

# ---- TUTORIAL (the code below is run again under PyTensor; change only the imports) ----
import aotsym as theano
import aotsym.tensor as T
from aotsym.tensor.nnet import conv2d
from aotsym.tensor.shared_randomstreams import RandomStreams
from aotsym.tensor.signal import pool


class LogisticRegression(object):
    def __init__(self, input, n_in, n_out):
        self.W = theano.shared(value=numpy.zeros((n_in, n_out), dtype=theano.config.floatX),
                               name='W', borrow=True)
        self.b = theano.shared(value=numpy.zeros((n_out,), dtype=theano.config.floatX),
                               name='b', borrow=True)
        self.p_y_given_x = T.nnet.softmax(T.dot(input, self.W) + self.b)
        self.y_pred = T.argmax(self.p_y_given_x, axis=1)
        self.params = [self.W, self.b]
        self.input = input

    def negative_log_likelihood(self, y):
        return -T.mean(T.log(self.p_y_given_x)[T.arange(y.shape[0]), y])

    def errors(self, y):
        if y.dtype.startswith('int'):
            return T.mean(T.neq(self.y_pred, y))
        raise NotImplementedError()


class HiddenLayer(object):
    def __init__(self, rng, input, n_in, n_out, W=None, b=None, activation=T.tanh):
        self.input = input
        if W is None:
            W_values = numpy.asarray(
                rng.uniform(low=-numpy.sqrt(6. / (n_in + n_out)),
                            high=numpy.sqrt(6. / (n_in + n_out)), size=(n_in, n_out)),
                dtype=theano.config.floatX)
            if activation == theano.tensor.nnet.sigmoid:
                W_values *= 4
            W = theano.shared(value=W_values, name='W', borrow=True)
        if b is None:
            b_values = numpy.zeros((n_out,), dtype=theano.config.floatX)
            b = theano.shared(value=b_values, name='b', borrow=True)
        self.W = W
        self.b = b
        lin_output = T.dot(input, self.W) + self.b
        self.output = lin_output if activation is None else activation(lin_output)
        self.params = [self.W, self.b]


class MLP(object):
    def __init__(self, rng, input, n_in, n_hidden, n_out):
        self.hiddenLayer = HiddenLayer(rng=rng, input=input, n_in=n_in, n_out=n_hidden,
                                       activation=T.tanh)
        self.logRegressionLayer = LogisticRegression(input=self.hiddenLayer.output,
                                                     n_in=n_hidden, n_out=n_out)
        self.L1 = abs(self.hiddenLayer.W).sum() + abs(self.logRegressionLayer.W).sum()
        self.L2_sqr = (self.hiddenLayer.W ** 2).sum() + (self.logRegressionLayer.W ** 2).sum()
        self.negative_log_likelihood = self.logRegressionLayer.negative_log_likelihood
        self.errors = self.logRegressionLayer.errors
        self.params = self.hiddenLayer.params + self.logRegressionLayer.params
        self.input = input


class LeNetConvPoolLayer(object):
    def __init__(self, rng, input, filter_shape, image_shape, poolsize=(2, 2)):
        assert image_shape[1] == filter_shape[1]
        self.input = input
        fan_in = numpy.prod(filter_shape[1:])
        fan_out = (filter_shape[0] * numpy.prod(filter_shape[2:]) // numpy.prod(poolsize))
        W_bound = numpy.sqrt(6. / (fan_in + fan_out))
        self.W = theano.shared(
            numpy.asarray(rng.uniform(low=-W_bound, high=W_bound, size=filter_shape),
                          dtype=theano.config.floatX),
            borrow=True)
        b_values = numpy.zeros((filter_shape[0],), dtype=theano.config.floatX)
        self.b = theano.shared(value=b_values, borrow=True)
        conv_out = conv2d(input=input, filters=self.W, filter_shape=filter_shape,
                          input_shape=image_shape)
        pooled_out = pool.pool_2d(input=conv_out, ds=poolsize, ignore_border=True)
        self.output = T.tanh(pooled_out + self.b.dimshuffle('x', 0, 'x', 'x'))
        self.params = [self.W, self.b]


class dA(object):
    def __init__(self, numpy_rng, theano_rng=None, input=None, n_visible=784,
                 n_hidden=500, W=None, bhid=None, bvis=None):
        self.n_visible = n_visible
        self.n_hidden = n_hidden
        if not theano_rng:
            theano_rng = RandomStreams(numpy_rng.randint(2 ** 30))
        if not W:
            initial_W = numpy.asarray(
                numpy_rng.uniform(low=-4 * numpy.sqrt(6. / (n_hidden + n_visible)),
                                  high=4 * numpy.sqrt(6. / (n_hidden + n_visible)),
                                  size=(n_visible, n_hidden)),
                dtype=theano.config.floatX)
            W = theano.shared(value=initial_W, name='W', borrow=True)
        if not bvis:
            bvis = theano.shared(value=numpy.zeros(n_visible, dtype=theano.config.floatX),
                                 borrow=True)
        if not bhid:
            bhid = theano.shared(value=numpy.zeros(n_hidden, dtype=theano.config.floatX),
                                 name='b', borrow=True)
        self.W = W
        self.b = bhid
        self.b_prime = bvis
        self.W_prime = self.W.T
        self.theano_rng = theano_rng
        self.x = T.dmatrix(name='input') if input is None else input
        self.params = [self.W, self.b, self.b_prime]

    def get_corrupted_input(self, input, corruption_level):
        return self.theano_rng.binomial(size=input.shape, n=1, p=1 - corruption_level,
                                        dtype=theano.config.floatX) * input

    def get_hidden_values(self, input):
        return T.nnet.sigmoid(T.dot(input, self.W) + self.b)

    def get_reconstructed_input(self, hidden):
        return T.nnet.sigmoid(T.dot(hidden, self.W_prime) + self.b_prime)

    def get_cost_updates(self, corruption_level, learning_rate):
        tilde_x = self.get_corrupted_input(self.x, corruption_level)
        y = self.get_hidden_values(tilde_x)
        z = self.get_reconstructed_input(y)
        L = - T.sum(self.x * T.log(z) + (1 - self.x) * T.log(1 - z), axis=1)
        cost = T.mean(L)
        gparams = T.grad(cost, self.params)
        updates = [(param, param - learning_rate * gparam)
                   for param, gparam in zip(self.params, gparams)]
        return (cost, updates)


class RNNSLU(object):
    """rnnslu.py's Elman network: word embeddings, a sigmoid recurrence by scan."""
    def __init__(self, nh, nc, ne, de, cs):
        self.emb = theano.shared(name='embeddings', value=0.2 * numpy.random.uniform(
            -1.0, 1.0, (ne + 1, de)).astype(theano.config.floatX))
        self.wx = theano.shared(name='wx', value=0.2 * numpy.random.uniform(
            -1.0, 1.0, (de * cs, nh)).astype(theano.config.floatX))
        self.wh = theano.shared(name='wh', value=0.2 * numpy.random.uniform(
            -1.0, 1.0, (nh, nh)).astype(theano.config.floatX))
        self.w = theano.shared(name='w', value=0.2 * numpy.random.uniform(
            -1.0, 1.0, (nh, nc)).astype(theano.config.floatX))
        self.bh = theano.shared(name='bh', value=numpy.zeros(nh, dtype=theano.config.floatX))
        self.b = theano.shared(name='b', value=numpy.zeros(nc, dtype=theano.config.floatX))
        self.h0 = theano.shared(name='h0', value=numpy.zeros(nh, dtype=theano.config.floatX))
        self.params = [self.emb, self.wx, self.wh, self.w, self.bh, self.b, self.h0]
        idxs = T.imatrix()
        x = self.emb[idxs].reshape((idxs.shape[0], de * cs))
        y_sentence = T.ivector('y_sentence')

        def recurrence(x_t, h_tm1):
            h_t = T.nnet.sigmoid(T.dot(x_t, self.wx) + T.dot(h_tm1, self.wh) + self.bh)
            s_t = T.nnet.softmax(T.dot(h_t, self.w) + self.b)
            return [h_t, s_t]

        [h, s], _ = theano.scan(fn=recurrence, sequences=x, outputs_info=[self.h0, None],
                                n_steps=x.shape[0])
        p_y_given_x_sentence = s[:, 0, :]
        y_pred = T.argmax(p_y_given_x_sentence, axis=1)
        lr = T.scalar('lr')
        sentence_nll = -T.mean(T.log(p_y_given_x_sentence)[T.arange(x.shape[0]), y_sentence])
        sentence_gradients = T.grad(sentence_nll, self.params)
        sentence_updates = OrderedDict((p, p - lr * g)
                                       for p, g in zip(self.params, sentence_gradients))
        self.classify = theano.function(inputs=[idxs], outputs=y_pred)
        self.sentence_train = theano.function(inputs=[idxs, y_sentence, lr],
                                              outputs=sentence_nll, updates=sentence_updates)
        self.normalize = theano.function(
            inputs=[], updates={self.emb: self.emb / T.sqrt((self.emb ** 2).sum(axis=1))
                                .dimshuffle(0, 'x')})


def contextwin(l, win):
    l = list(l)
    lpadded = win // 2 * [-1] + l + win // 2 * [-1]
    return [lpadded[i:(i + win)] for i in range(len(l))]


def shared_dataset(data_xy, borrow=True):
    data_x, data_y = data_xy
    shared_x = theano.shared(numpy.asarray(data_x, dtype=theano.config.floatX), borrow=borrow)
    shared_y = theano.shared(numpy.asarray(data_y, dtype=theano.config.floatX), borrow=borrow)
    return shared_x, T.cast(shared_y, 'int32')


def train_classifier(make_classifier, data, n_in, learning_rate, batch_size, n_epochs):
    """logistic_sgd.py / mlp.py / convolutional_mlp.py's training loop, condensed."""
    train_set_x, train_set_y = shared_dataset(data)
    n_train_batches = train_set_x.get_value(borrow=True).shape[0] // batch_size
    index = T.lscalar()
    x = T.matrix('x')
    y = T.ivector('y')
    classifier, cost = make_classifier(x, y)
    gparams = [T.grad(cost, param) for param in classifier.params]
    updates = [(param, param - learning_rate * gparam)
               for param, gparam in zip(classifier.params, gparams)]
    train_model = theano.function(
        inputs=[index], outputs=cost, updates=updates,
        givens={x: train_set_x[index * batch_size: (index + 1) * batch_size],
                y: train_set_y[index * batch_size: (index + 1) * batch_size]})
    errors = theano.function([], classifier.errors(y),
                             givens={x: train_set_x[:batch_size], y: train_set_y[:batch_size]})
    losses = []
    for epoch in range(n_epochs):
        for minibatch_index in range(n_train_batches):
            losses.append(float(train_model(minibatch_index)))
    return losses, float(errors())


def run_logistic_sgd(data):
    def make(x, y):
        classifier = LogisticRegression(input=x, n_in=data[0].shape[1], n_out=10)
        return classifier, classifier.negative_log_likelihood(y)
    return train_classifier(make, data, None, 0.05, 50, 3)


def run_mlp(data):
    def make(x, y):
        rng = numpy.random.RandomState(1234)
        classifier = MLP(rng=rng, input=x, n_in=data[0].shape[1], n_hidden=30, n_out=10)
        cost = (classifier.negative_log_likelihood(y) + 0.0 * classifier.L1
                + 0.0001 * classifier.L2_sqr)
        return classifier, cost
    return train_classifier(make, data, None, 0.3, 20, 3)


def run_lenet(data, batch_size=25, nkerns=(4, 6)):
    def make(x, y):
        rng = numpy.random.RandomState(23455)
        layer0_input = x.reshape((batch_size, 1, 16, 16))
        layer0 = LeNetConvPoolLayer(rng, input=layer0_input, image_shape=(batch_size, 1, 16, 16),
                                    filter_shape=(nkerns[0], 1, 5, 5), poolsize=(2, 2))
        layer1 = LeNetConvPoolLayer(rng, input=layer0.output,
                                    image_shape=(batch_size, nkerns[0], 6, 6),
                                    filter_shape=(nkerns[1], nkerns[0], 3, 3), poolsize=(2, 2))
        layer2 = HiddenLayer(rng, input=layer1.output.flatten(2), n_in=nkerns[1] * 2 * 2,
                             n_out=20, activation=T.tanh)
        layer3 = LogisticRegression(input=layer2.output, n_in=20, n_out=10)
        layer3.params = layer3.params + layer2.params + layer1.params + layer0.params
        return layer3, layer3.negative_log_likelihood(y)
    return train_classifier(make, (data[0][:200], data[1][:200]), None, 0.3, batch_size, 3)


def run_dA(data, corruption_level, batch_size=20, n_epochs=3):
    train_set_x = theano.shared(numpy.asarray(data, dtype=theano.config.floatX), borrow=True)
    n_train_batches = train_set_x.get_value(borrow=True).shape[0] // batch_size
    index = T.lscalar()
    x = T.matrix('x')
    rng = numpy.random.RandomState(123)
    theano_rng = RandomStreams(rng.randint(2 ** 30))
    da = dA(numpy_rng=rng, theano_rng=theano_rng, input=x,
            n_visible=data.shape[1], n_hidden=20)
    cost, updates = da.get_cost_updates(corruption_level=corruption_level, learning_rate=0.1)
    train_da = theano.function(
        [index], cost, updates=updates,
        givens={x: train_set_x[index * batch_size: (index + 1) * batch_size]})
    losses = []
    for epoch in range(n_epochs):
        c = [train_da(batch_index) for batch_index in range(n_train_batches)]
        losses.append(float(numpy.mean(c, dtype='float64')))
    return losses


def run_rnnslu(sentences, n_epochs=4, win=3):
    numpy.random.seed(345)
    rnn = RNNSLU(nh=12, nc=4, ne=20, de=5, cs=win)
    losses = []
    for epoch in range(n_epochs):
        nll = []
        for words, labels in sentences:
            cwords = contextwin(words, win)
            words = list(map(lambda x: numpy.asarray(x).astype('int32'), cwords))
            nll.append(float(rnn.sentence_train(words, labels, 0.1)))
            rnn.normalize()
        losses.append(float(numpy.mean(nll)))
    predicted = rnn.classify(numpy.asarray(contextwin(sentences[0][0], win)).astype('int32'))
    return losses, predicted
# ---- END TUTORIAL ----


def digits(n=300, n_in=784, seed=0):
    """MNIST-shaped data: float32 rows in [0, 1], int64 labels from 10 noisy prototypes."""
    rng = numpy.random.RandomState(seed)
    protos = numpy.random.RandomState(7).rand(10, n_in)
    y = rng.randint(0, 10, size=n)
    x = (protos[y] + 0.7 * rng.rand(n, n_in)) / 1.7
    return x.astype('float32'), y.astype('int64')


def sentences(n=30, seed=0):
    """ATIS-shaped sentences: word indices (int32) and a label per word (a Python list)."""
    rng = numpy.random.RandomState(seed)
    out = []
    for _ in range(n):
        words = rng.randint(0, 20, size=rng.randint(3, 9)).astype('int32')
        out.append((words, [int(w) % 4 for w in words]))
    return out


PYTENSOR = pytensor_namespace(sys.modules[__name__], extra={'conv2d': None, 'pool': None})


def agree_with_pytensor(name, ours, *args, n=5):
    if PYTENSOR is None:
        return
    theirs = PYTENSOR[name](*args)
    theirs = theirs[0] if isinstance(theirs, tuple) else theirs
    numpy.testing.assert_allclose(ours[:n], theirs[:n], rtol=1e-5)


def test_logistic_sgd_learns():
    losses, error = run_logistic_sgd(digits())
    assert losses[0] > 2.0 and numpy.mean(losses[-6:]) < 0.6 * losses[0]
    assert error < 0.2
    agree_with_pytensor('run_logistic_sgd', losses, digits())


def test_mlp_learns():
    losses, error = run_mlp(digits(n_in=100))
    assert numpy.mean(losses[-15:]) < 0.8 * numpy.mean(losses[:5])
    agree_with_pytensor('run_mlp', losses, digits(n_in=100))


def test_lenet_learns():
    losses, error = run_lenet(digits(n_in=256))
    assert numpy.mean(losses[-8:]) < numpy.mean(losses[:8])
    assert numpy.isfinite(losses).all()


def test_dA_learns_with_and_without_corruption():
    x = digits(n=100, n_in=64)[0]
    clean = run_dA(x, corruption_level=0.0)
    noisy = run_dA(x, corruption_level=0.3)
    assert clean[-1] < clean[0] and noisy[-1] < noisy[0]
    assert noisy[0] > clean[0]       # zeroed inputs reconstruct worse
    agree_with_pytensor('run_dA', clean, x, 0.0)   # the streams differ: clean only


def test_rnnslu_recurrence_learns():
    losses, predicted = run_rnnslu(sentences())
    assert losses[-1] < losses[0]
    assert predicted.shape == (len(sentences()[0][0]),)
    agree_with_pytensor('run_rnnslu', losses, sentences())
