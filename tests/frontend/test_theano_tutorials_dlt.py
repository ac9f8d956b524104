"""The rest of the deeplearning.net tutorials (lisa-lab/DeepLearningTutorials), ported by
changing only their imports: SdA.py, DBN.py, cA.py, logistic_cg.py and rnnrbm.py.

The code between the TUTORIAL markers is the tutorials' own statements, condensed
(docstrings, comments, plotting and early stopping cut; MNIST and the MIDI files replaced by
small synthetic data of the same format).  The classes they import from the other tutorials
(logistic_sgd's LogisticRegression, mlp's HiddenLayer, dA, rbm's RBM) are the ones
test_theano_tutorials.py and test_theano_tutorials_more.py condense.  Each test checks the
script trains (its cost falls, its error drops), then checks the numbers where they do not
depend on the random streams: against a NumPy re-computation, the NumPy reference
evaluator (``mode='FAST_COMPILE'``), and, where PyTensor is importable, the same section run
under ``import pytensor as theano`` (tutorial_harness.py).  SdA and DBN run in the reference
evaluator only: their ops are the dA, mlp and rbm tutorials' (compiled elsewhere), and their
ten builds would cost ~20 s of compiling.  (The tutorials' Lasagne-based segmentation models
-- cnn_1D_segm, fcn_2D_segm, unet -- need Lasagne, which is no dependency: not here.)
"""

import sys

import numpy
import pytest
import test_theano_tutorials as tutorials
import test_theano_tutorials_more as tutorials_more
import tutorial_harness
from test_theano_tutorials import HiddenLayer, LogisticRegression, dA, digits, shared_dataset
from test_theano_tutorials_more import RBM
from tutorial_harness import in_modes, pytensor_namespace

import aotsym
from aotsym.sandbox.rng_mrg import MRG_RandomStreams

# ---- TUTORIAL (the code below is run again under PyTensor; change only the imports) ----
import aotsym as theano
import aotsym.tensor as T
from aotsym.sandbox.rng_mrg import MRG_RandomStreams as RandomStreams


# ---- logistic_cg.py ----
class LogisticRegressionCG(object):        # logistic_cg.py's LogisticRegression: one theta
    def __init__(self, input, n_in, n_out):
        self.theta = theano.shared(value=numpy.zeros(n_in * n_out + n_out,
                                                     dtype=theano.config.floatX),
                                   name='theta', borrow=True)
        self.W = self.theta[0:n_in * n_out].reshape((n_in, n_out))
        self.b = self.theta[n_in * n_out:n_in * n_out + n_out]
        self.p_y_given_x = T.nnet.softmax(T.dot(input, self.W) + self.b)
        self.y_pred = T.argmax(self.p_y_given_x, axis=1)
        self.input = input

    def negative_log_likelihood(self, y):
        return -T.mean(T.log(self.p_y_given_x)[T.arange(y.shape[0]), y])

    def errors(self, y):
        if y.ndim != self.y_pred.ndim:
            raise TypeError('y should have the same shape as self.y_pred',
                            ('y', y.type, 'y_pred', self.y_pred.type))
        if y.dtype.startswith('int'):
            return T.mean(T.neq(self.y_pred, y))
        else:
            raise NotImplementedError()


def cg_optimization_mnist(datasets, n_epochs=50, batch_size=600, n_in=28 * 28):
    """logistic_cg.py's driver on ``datasets`` (load_data's); returns every cost fmin_cg
    asked for, the validation errors, the optimum and the two functions it minimized with."""
    train_set_x, train_set_y = datasets[0]
    valid_set_x, valid_set_y = datasets[1]
    n_train_batches = train_set_x.get_value(borrow=True).shape[0] // batch_size
    n_valid_batches = valid_set_x.get_value(borrow=True).shape[0] // batch_size
    n_out = 10
    minibatch_offset = T.lscalar()
    x = T.matrix()
    y = T.ivector()
    classifier = LogisticRegressionCG(input=x, n_in=n_in, n_out=10)
    cost = classifier.negative_log_likelihood(y).mean()
    validate_model = theano.function(
        [minibatch_offset], classifier.errors(y),
        givens={x: valid_set_x[minibatch_offset: minibatch_offset + batch_size],
                y: valid_set_y[minibatch_offset: minibatch_offset + batch_size]},
        name="validate")
    batch_cost = theano.function(
        [minibatch_offset], cost,
        givens={x: train_set_x[minibatch_offset: minibatch_offset + batch_size],
                y: train_set_y[minibatch_offset: minibatch_offset + batch_size]},
        name="batch_cost")
    batch_grad = theano.function(
        [minibatch_offset], T.grad(cost, classifier.theta),
        givens={x: train_set_x[minibatch_offset: minibatch_offset + batch_size],
                y: train_set_y[minibatch_offset: minibatch_offset + batch_size]},
        name="batch_grad")
    costs, validation = [], []

    def train_fn(theta_value):
        classifier.theta.set_value(theta_value, borrow=True)
        train_losses = [batch_cost(i * batch_size) for i in range(n_train_batches)]
        costs.append(numpy.mean(train_losses))
        return numpy.mean(train_losses)

    def train_fn_grad(theta_value):
        classifier.theta.set_value(theta_value, borrow=True)
        grad = batch_grad(0)
        for i in range(1, n_train_batches):
            grad += batch_grad(i * batch_size)
        return grad / n_train_batches

    def callback(theta_value):
        classifier.theta.set_value(theta_value, borrow=True)
        validation_losses = [validate_model(i * batch_size) for i in range(n_valid_batches)]
        validation.append(numpy.mean(validation_losses))

    import scipy.optimize
    best_w_b = scipy.optimize.fmin_cg(
        f=train_fn, x0=numpy.zeros((n_in + 1) * n_out, dtype=x.dtype),
        fprime=train_fn_grad, callback=callback, disp=0, maxiter=n_epochs)
    return costs, validation, best_w_b, train_fn, train_fn_grad


# ---- SdA.py ----
class SdA(object):
    def __init__(self, numpy_rng, theano_rng=None, n_ins=784, hidden_layers_sizes=[500, 500],
                 n_outs=10, corruption_levels=[0.1, 0.1]):
        self.sigmoid_layers = []
        self.dA_layers = []
        self.params = []
        self.n_layers = len(hidden_layers_sizes)
        assert self.n_layers > 0
        if not theano_rng:
            theano_rng = RandomStreams(numpy_rng.randint(2 ** 30))
        self.x = T.matrix('x')
        self.y = T.ivector('y')
        for i in range(self.n_layers):
            if i == 0:
                input_size = n_ins
            else:
                input_size = hidden_layers_sizes[i - 1]
            if i == 0:
                layer_input = self.x
            else:
                layer_input = self.sigmoid_layers[-1].output
            sigmoid_layer = HiddenLayer(rng=numpy_rng, input=layer_input, n_in=input_size,
                                        n_out=hidden_layers_sizes[i],
                                        activation=T.nnet.sigmoid)
            self.sigmoid_layers.append(sigmoid_layer)
            self.params.extend(sigmoid_layer.params)
            dA_layer = dA(numpy_rng=numpy_rng, theano_rng=theano_rng, input=layer_input,
                          n_visible=input_size, n_hidden=hidden_layers_sizes[i],
                          W=sigmoid_layer.W, bhid=sigmoid_layer.b)
            self.dA_layers.append(dA_layer)
        self.logLayer = LogisticRegression(input=self.sigmoid_layers[-1].output,
                                           n_in=hidden_layers_sizes[-1], n_out=n_outs)
        self.params.extend(self.logLayer.params)
        self.finetune_cost = self.logLayer.negative_log_likelihood(self.y)
        self.errors = self.logLayer.errors(self.y)

    def pretraining_functions(self, train_set_x, batch_size):
        index = T.lscalar('index')
        corruption_level = T.scalar('corruption')
        learning_rate = T.scalar('lr')
        batch_begin = index * batch_size
        batch_end = batch_begin + batch_size
        pretrain_fns = []
        for dA in self.dA_layers:
            cost, updates = dA.get_cost_updates(corruption_level, learning_rate)
            fn = theano.function(
                inputs=[index, theano.In(corruption_level, value=0.2),
                        theano.In(learning_rate, value=0.1)],
                outputs=cost, updates=updates,
                givens={self.x: train_set_x[batch_begin: batch_end]})
            pretrain_fns.append(fn)
        return pretrain_fns

    def build_finetune_functions(self, datasets, batch_size, learning_rate):
        return build_finetune_functions(self, datasets, batch_size, learning_rate)


def build_finetune_functions(self, datasets, batch_size, learning_rate):
    """SdA.py's and DBN.py's method (the same statements in both)."""
    (train_set_x, train_set_y) = datasets[0]
    (valid_set_x, valid_set_y) = datasets[1]
    (test_set_x, test_set_y) = datasets[2]
    n_valid_batches = valid_set_x.get_value(borrow=True).shape[0]
    n_valid_batches //= batch_size
    n_test_batches = test_set_x.get_value(borrow=True).shape[0]
    n_test_batches //= batch_size
    index = T.lscalar('index')
    gparams = T.grad(self.finetune_cost, self.params)
    updates = [(param, param - gparam * learning_rate)
               for param, gparam in zip(self.params, gparams)]
    train_fn = theano.function(
        inputs=[index], outputs=self.finetune_cost, updates=updates,
        givens={self.x: train_set_x[index * batch_size: (index + 1) * batch_size],
                self.y: train_set_y[index * batch_size: (index + 1) * batch_size]},
        name='train')
    test_score_i = theano.function(
        [index], self.errors,
        givens={self.x: test_set_x[index * batch_size: (index + 1) * batch_size],
                self.y: test_set_y[index * batch_size: (index + 1) * batch_size]},
        name='test')
    valid_score_i = theano.function(
        [index], self.errors,
        givens={self.x: valid_set_x[index * batch_size: (index + 1) * batch_size],
                self.y: valid_set_y[index * batch_size: (index + 1) * batch_size]},
        name='valid')

    def valid_score():
        return [valid_score_i(i) for i in range(n_valid_batches)]

    def test_score():
        return [test_score_i(i) for i in range(n_test_batches)]
    return train_fn, valid_score, test_score


def finetune(train_fn, validate_model, test_model, n_train_batches, training_epochs):
    """SdA.py / DBN.py's finetuning loop without early stopping: the minibatch costs and
    each epoch's validation and test errors."""
    costs, valid, test = [], [], []
    for epoch in range(training_epochs):
        for minibatch_index in range(n_train_batches):
            costs.append(float(train_fn(minibatch_index)))
        valid.append(numpy.mean(validate_model(), dtype='float64'))
        test.append(numpy.mean(test_model(), dtype='float64'))
    return costs, valid, test


def sda_test_SdA(datasets, finetune_lr=0.1, pretraining_epochs=15, pretrain_lr=0.001,
             training_epochs=1000, batch_size=1, hidden_layers_sizes=[1000, 1000, 1000],
             corruption_levels=[.1, .2, .3]):
    """SdA.py's ``test_SdA`` (renamed: pytest would collect it) on ``datasets``: each
    layer's pretraining costs per epoch, then what finetune returns."""
    train_set_x, train_set_y = datasets[0]
    n_train_batches = train_set_x.get_value(borrow=True).shape[0]
    n_train_batches //= batch_size
    numpy_rng = numpy.random.RandomState(89677)
    sda = SdA(numpy_rng=numpy_rng, n_ins=train_set_x.get_value(borrow=True).shape[1],
              hidden_layers_sizes=hidden_layers_sizes, n_outs=10)
    pretraining_fns = sda.pretraining_functions(train_set_x=train_set_x,
                                                batch_size=batch_size)
    pretrain = []
    for i in range(sda.n_layers):
        pretrain.append([])
        for epoch in range(pretraining_epochs):
            c = []
            for batch_index in range(n_train_batches):
                c.append(pretraining_fns[i](index=batch_index,
                         corruption=corruption_levels[i], lr=pretrain_lr))
            pretrain[i].append(numpy.mean(c, dtype='float64'))
    train_fn, validate_model, test_model = sda.build_finetune_functions(
        datasets=datasets, batch_size=batch_size, learning_rate=finetune_lr)
    return pretrain, finetune(train_fn, validate_model, test_model, n_train_batches,
                              training_epochs)


# ---- DBN.py ----
class DBN(object):
    def __init__(self, numpy_rng, theano_rng=None, n_ins=784, hidden_layers_sizes=[500, 500],
                 n_outs=10):
        self.sigmoid_layers = []
        self.rbm_layers = []
        self.params = []
        self.n_layers = len(hidden_layers_sizes)
        assert self.n_layers > 0
        if not theano_rng:
            theano_rng = RandomStreams(numpy_rng.randint(2 ** 30))
        self.x = T.matrix('x')
        self.y = T.ivector('y')
        for i in range(self.n_layers):
            if i == 0:
                input_size = n_ins
            else:
                input_size = hidden_layers_sizes[i - 1]
            if i == 0:
                layer_input = self.x
            else:
                layer_input = self.sigmoid_layers[-1].output
            sigmoid_layer = HiddenLayer(rng=numpy_rng, input=layer_input, n_in=input_size,
                                        n_out=hidden_layers_sizes[i],
                                        activation=T.nnet.sigmoid)
            self.sigmoid_layers.append(sigmoid_layer)
            self.params.extend(sigmoid_layer.params)
            rbm_layer = RBM(numpy_rng=numpy_rng, theano_rng=theano_rng, input=layer_input,
                            n_visible=input_size, n_hidden=hidden_layers_sizes[i],
                            W=sigmoid_layer.W, hbias=sigmoid_layer.b)
            self.rbm_layers.append(rbm_layer)
        self.logLayer = LogisticRegression(input=self.sigmoid_layers[-1].output,
                                           n_in=hidden_layers_sizes[-1], n_out=n_outs)
        self.params.extend(self.logLayer.params)
        self.finetune_cost = self.logLayer.negative_log_likelihood(self.y)
        self.errors = self.logLayer.errors(self.y)

    def pretraining_functions(self, train_set_x, batch_size, k):
        index = T.lscalar('index')
        learning_rate = T.scalar('lr')
        batch_begin = index * batch_size
        batch_end = batch_begin + batch_size
        pretrain_fns = []
        for rbm in self.rbm_layers:
            cost, updates = rbm.get_cost_updates(learning_rate, persistent=None, k=k)
            fn = theano.function(
                inputs=[index, theano.In(learning_rate, value=0.1)],
                outputs=cost, updates=updates,
                givens={self.x: train_set_x[batch_begin:batch_end]})
            pretrain_fns.append(fn)
        return pretrain_fns

    def build_finetune_functions(self, datasets, batch_size, learning_rate):
        return build_finetune_functions(self, datasets, batch_size, learning_rate)


def dbn_test_DBN(datasets, finetune_lr=0.1, pretraining_epochs=100, pretrain_lr=0.01, k=1,
             training_epochs=1000, batch_size=10, hidden_layers_sizes=[1000, 1000, 1000]):
    """DBN.py's ``test_DBN`` on ``datasets``: as sda_test_SdA."""
    train_set_x, train_set_y = datasets[0]
    n_train_batches = train_set_x.get_value(borrow=True).shape[0] // batch_size
    numpy_rng = numpy.random.RandomState(123)
    dbn = DBN(numpy_rng=numpy_rng, n_ins=train_set_x.get_value(borrow=True).shape[1],
              hidden_layers_sizes=hidden_layers_sizes, n_outs=10)
    pretraining_fns = dbn.pretraining_functions(train_set_x=train_set_x,
                                                batch_size=batch_size, k=k)
    pretrain = []
    for i in range(dbn.n_layers):
        pretrain.append([])
        for epoch in range(pretraining_epochs):
            c = []
            for batch_index in range(n_train_batches):
                c.append(pretraining_fns[i](index=batch_index, lr=pretrain_lr))
            pretrain[i].append(numpy.mean(c, dtype='float64'))
    train_fn, validate_model, test_model = dbn.build_finetune_functions(
        datasets=datasets, batch_size=batch_size, learning_rate=finetune_lr)
    return pretrain, finetune(train_fn, validate_model, test_model, n_train_batches,
                              training_epochs)


# ---- cA.py ----
class cA(object):
    def __init__(self, numpy_rng, input=None, n_visible=784, n_hidden=100, n_batchsize=1,
                 W=None, bhid=None, bvis=None):
        self.n_visible = n_visible
        self.n_hidden = n_hidden
        self.n_batchsize = n_batchsize
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
        if input is None:
            self.x = T.dmatrix(name='input')
        else:
            self.x = input
        self.params = [self.W, self.b, self.b_prime]

    def get_hidden_values(self, input):
        return T.nnet.sigmoid(T.dot(input, self.W) + self.b)

    def get_jacobian(self, hidden, W):
        return T.reshape(hidden * (1 - hidden),
                         (self.n_batchsize, 1, self.n_hidden)) * T.reshape(
                             W, (1, self.n_visible, self.n_hidden))

    def get_reconstructed_input(self, hidden):
        return T.nnet.sigmoid(T.dot(hidden, self.W_prime) + self.b_prime)

    def get_cost_updates(self, contraction_level, learning_rate):
        y = self.get_hidden_values(self.x)
        z = self.get_reconstructed_input(y)
        J = self.get_jacobian(y, self.W)
        self.L_rec = - T.sum(self.x * T.log(z) + (1 - self.x) * T.log(1 - z), axis=1)
        self.L_jacob = T.sum(J ** 2) // self.n_batchsize
        cost = T.mean(self.L_rec) + contraction_level * T.mean(self.L_jacob)
        gparams = T.grad(cost, self.params)
        updates = []
        for param, gparam in zip(self.params, gparams):
            updates.append((param, param - learning_rate * gparam))
        return (cost, updates)


def ca_test_cA(train_set_x, learning_rate=0.01, training_epochs=20, batch_size=10,
            contraction_level=.1, n_hidden=500):
    """cA.py's ``test_cA`` on ``train_set_x``: every minibatch's [mean L_rec, L_jacob] per
    epoch (what it printed, before the mean), and the model."""
    n_train_batches = train_set_x.get_value(borrow=True).shape[0] // batch_size
    index = T.lscalar()
    x = T.matrix('x')
    rng = numpy.random.RandomState(123)
    ca = cA(numpy_rng=rng, input=x, n_visible=train_set_x.get_value(borrow=True).shape[1],
            n_hidden=n_hidden, n_batchsize=batch_size)
    cost, updates = ca.get_cost_updates(contraction_level=contraction_level,
                                        learning_rate=learning_rate)
    train_ca = theano.function(
        [index], [T.mean(ca.L_rec), ca.L_jacob], updates=updates,
        givens={x: train_set_x[index * batch_size: (index + 1) * batch_size]})
    epochs = []
    for epoch in range(training_epochs):
        c = []
        for batch_index in range(n_train_batches):
            c.append(train_ca(batch_index))
        epochs.append(numpy.vstack(c))
    return numpy.asarray(epochs), ca


# ---- rnnrbm.py ----
def build_rbm(v, W, bv, bh, k):
    def gibbs_step(v):
        mean_h = T.nnet.sigmoid(T.dot(v, W) + bh)
        h = rng.binomial(size=mean_h.shape, n=1, p=mean_h, dtype=theano.config.floatX)
        mean_v = T.nnet.sigmoid(T.dot(h, W.T) + bv)
        v = rng.binomial(size=mean_v.shape, n=1, p=mean_v, dtype=theano.config.floatX)
        return mean_v, v

    chain, updates = theano.scan(lambda v: gibbs_step(v)[1], outputs_info=[v], n_steps=k)
    v_sample = chain[-1]
    mean_v = gibbs_step(v_sample)[0]
    monitor = T.xlogx.xlogy0(v, mean_v) + T.xlogx.xlogy0(1 - v, 1 - mean_v)
    monitor = monitor.sum() / v.shape[0]

    def free_energy(v):
        return -(v * bv).sum() - T.log(1 + T.exp(T.dot(v, W) + bh)).sum()
    cost = (free_energy(v) - free_energy(v_sample)) / v.shape[0]
    return v_sample, cost, monitor, updates


def shared_normal(num_rows, num_cols, scale=1):
    return theano.shared(numpy.random.normal(
        scale=scale, size=(num_rows, num_cols)).astype(theano.config.floatX))


def shared_zeros(*shape):
    return theano.shared(numpy.zeros(shape, dtype=theano.config.floatX))


def build_rnnrbm(n_visible, n_hidden, n_hidden_recurrent):
    W = shared_normal(n_visible, n_hidden, 0.01)
    bv = shared_zeros(n_visible)
    bh = shared_zeros(n_hidden)
    Wuh = shared_normal(n_hidden_recurrent, n_hidden, 0.0001)
    Wuv = shared_normal(n_hidden_recurrent, n_visible, 0.0001)
    Wvu = shared_normal(n_visible, n_hidden_recurrent, 0.0001)
    Wuu = shared_normal(n_hidden_recurrent, n_hidden_recurrent, 0.0001)
    bu = shared_zeros(n_hidden_recurrent)
    params = W, bv, bh, Wuh, Wuv, Wvu, Wuu, bu
    v = T.matrix()
    u0 = T.zeros((n_hidden_recurrent,))

    def recurrence(v_t, u_tm1):
        bv_t = bv + T.dot(u_tm1, Wuv)
        bh_t = bh + T.dot(u_tm1, Wuh)
        generate = v_t is None
        if generate:
            v_t, _, _, updates = build_rbm(T.zeros((n_visible,)), W, bv_t, bh_t, k=25)
        u_t = T.tanh(bu + T.dot(v_t, Wvu) + T.dot(u_tm1, Wuu))
        return ([v_t, u_t], updates) if generate else [u_t, bv_t, bh_t]

    (u_t, bv_t, bh_t), updates_train = theano.scan(
        lambda v_t, u_tm1, *_: recurrence(v_t, u_tm1),
        sequences=v, outputs_info=[u0, None, None], non_sequences=params)
    v_sample, cost, monitor, updates_rbm = build_rbm(v, W, bv_t[:], bh_t[:], k=15)
    updates_train.update(updates_rbm)
    (v_t, u_t), updates_generate = theano.scan(
        lambda u_tm1, *_: recurrence(None, u_tm1),
        outputs_info=[None, u0], non_sequences=params, n_steps=200)
    return (v, v_sample, cost, monitor, params, updates_train, v_t, updates_generate)


class RnnRbm:
    def __init__(self, n_hidden=150, n_hidden_recurrent=100, lr=0.001, r=(21, 109), dt=0.3):
        self.r = r
        self.dt = dt
        (v, v_sample, cost, monitor, params, updates_train, v_t,
            updates_generate) = build_rnnrbm(r[1] - r[0], n_hidden, n_hidden_recurrent)
        gradient = T.grad(cost, params, consider_constant=[v_sample])
        updates_train.update(((p, p - lr * g) for p, g in zip(params, gradient)))
        self.train_function = theano.function([v], monitor, updates=updates_train)
        self.generate_function = theano.function([], v_t, updates=updates_generate)
        self.v, self.v_sample, self.cost, self.params = v, v_sample, cost, params  # (tests)

    def train(self, dataset, batch_size=100, num_epochs=200):
        """rnnrbm.py's, on piano rolls (midiread's ``piano_roll`` of each file): the mean
        monitor (pseudo-likelihood) per epoch."""
        dataset = [roll.astype(theano.config.floatX) for roll in dataset]
        epochs = []
        for epoch in range(num_epochs):
            numpy.random.shuffle(dataset)
            costs = []
            for s, sequence in enumerate(dataset):
                for i in range(0, len(sequence), batch_size):
                    cost = self.train_function(sequence[i:i + batch_size])
                    costs.append(cost)
            epochs.append(numpy.mean(costs))
        return epochs


def rnnrbm_test_rnnrbm(dataset, batch_size=100, num_epochs=200, **kwargs):
    """rnnrbm.py's ``test_rnnrbm`` on ``dataset`` (piano rolls), after the module-level
    seeding the script does on import."""
    global rng
    numpy.random.seed(0xbeef)
    rng = RandomStreams(seed=numpy.random.randint(1 << 30))
    model = RnnRbm(**kwargs)
    return model, model.train(dataset, batch_size=batch_size, num_epochs=num_epochs)
# ---- END TUTORIAL ----


def test_scan_draw_with_outer_parameter_advances_every_step():
    """rnnrbm.py's Gibbs chain: a draw inside a scan step whose ``p`` is computed outside
    the step from the function's input.  Its state must advance every step and be among
    scan's updates (it was left out, and the function raised MissingInputError)."""
    rng = MRG_RandomStreams(seed=7)
    x = T.matrix('x')
    p = T.nnet.sigmoid(x.sum(axis=0))          # outer, computed from the input

    def step(prev):
        return prev + rng.binomial(size=p.shape, n=1, p=p, dtype='float64')

    out, updates = aotsym.scan(step, outputs_info=[T.zeros_like(p)], n_steps=4)
    assert len(updates) == 1
    xv = numpy.array([[0.3, -0.2, 5.0, -5.0, 0.0, 1.0]] * 2)
    results = []
    for mode in ('FAST_RUN', 'FAST_COMPILE'):
        rng.seed(7)
        f = aotsym.function([x], out, updates=updates, mode=mode)
        results.append((f(xv), f(xv)))
    (a1, a2), (b1, b2) = results
    numpy.testing.assert_array_equal(a1, b1)
    numpy.testing.assert_array_equal(a2, b2)
    draws = numpy.diff(numpy.vstack([numpy.zeros(6), a1]), axis=0)
    assert set(numpy.unique(draws)) <= {0.0, 1.0}
    # p = sigmoid(10) ~ 1 and sigmoid(-10) ~ 0 columns; the middle ones vary step to step
    assert (a1[:, 2] == numpy.arange(1, 5)).all() and (a1[:, 3] == 0).all()
    assert not (a1 == a2).all()                 # the state advanced between the calls
    assert len({tuple(r) for r in draws[:, [0, 1, 4, 5]]}) > 1   # advanced within a call


def mnist(n_in=64, sizes=(300, 100, 100)):
    """load_data's result on MNIST-shaped data: (shared x, int32 view of shared y) for the
    train, valid and test sets."""
    return [shared_dataset(digits(n=n, n_in=n_in, seed=seed))
            for seed, n in enumerate(sizes)]


def piano_rolls(n_notes=24, lengths=(30, 22, 26), seed=0):
    """midiread(...).piano_roll of a few songs: 0/1 rows of n_notes, a chord pattern each."""
    rng = numpy.random.RandomState(seed)
    rolls = []
    for length in lengths:
        chords = (rng.uniform(size=(4, n_notes)) > 0.8).astype('float64')
        rolls.append(chords[(numpy.arange(length) // 3) % 4])
    return rolls


def _pytensor():
    """This module's TUTORIAL section under PyTensor, with the classes it takes from the
    other tutorial modules run under PyTensor too (or None).  SdA and cA pass dA a shared
    ``W``/``bhid`` and test it with ``if not W:`` (Theano 1.0: true); PyTensor refuses the
    truth test, so its spelling is put in while those sections are run.  SdA/DBN give their
    ``theano.In`` a default value, which PyTensor dropped."""
    refuses = tutorial_harness.PYTENSOR_REFUSES
    saved = dict(refuses)
    refuses.update({'if not W:': 'if W is None:', 'if not bvis:': 'if bvis is None:',
                    'if not bhid:': 'if bhid is None:'})
    try:
        base = pytensor_namespace(tutorials, extra={'conv2d': None, 'pool': None})
        if base is None:
            return None
        more = pytensor_namespace(tutorials_more)
        extra = {name: base[name] for name in ('HiddenLayer', 'LogisticRegression', 'dA',
                                               'shared_dataset')}
        extra['RBM'] = more['RBM']
        ns = pytensor_namespace(sys.modules[__name__], extra=extra)
        # PyTensor's In takes no default value; the drivers pass every value by name
        pytensor_in = ns['theano'].In
        ns['theano'].In = lambda variable, value=None, **kwargs: pytensor_in(variable, **kwargs)
        return ns
    finally:
        refuses.clear()
        refuses.update(saved)


PYTENSOR = _pytensor()
needs_pytensor = pytest.mark.skipif(PYTENSOR is None, reason="PyTensor is not importable")


def pytensor_mnist(n_in=64, sizes=(300, 100, 100)):
    return [PYTENSOR['shared_dataset'](digits(n=n, n_in=n_in, seed=seed))
            for seed, n in enumerate(sizes)]


def sigmoid(a):
    return 1 / (1 + numpy.exp(-a))



def test_nested_scan_draw_with_outer_step_parameter_advances_every_step():
    """rnnrbm.py's generation: the Gibbs chain is a scan inside the step of another scan,
    and its draws take ``p`` from the outer step.  Every inner step must draw new numbers
    (they drew the same ones at every step: the state was left out of the inner updates)."""
    rng = MRG_RandomStreams(seed=3)

    def outer(u):
        p = T.nnet.sigmoid(u)
        chain, updates = aotsym.scan(
            lambda v: v * 0 + rng.binomial(size=p.shape, n=1, p=p, dtype='float64'),
            outputs_info=[T.zeros_like(p)], n_steps=5)
        return [chain, u + 0.1], updates

    (chains, _), updates = aotsym.scan(outer, outputs_info=[None, T.zeros((40,))], n_steps=2)
    chains = aotsym.function([], chains, updates=updates, mode='FAST_COMPILE')()
    assert chains.shape == (2, 5, 40) and set(numpy.unique(chains)) == {0.0, 1.0}
    for k in range(2):                          # 5 different rows of 40 fair coins
        assert len({tuple(row) for row in chains[k]}) == 5
    assert not (chains[0] == chains[1]).all()


# ---- logistic_cg.py ----

def test_logistic_cg_fmin_cg_drives_the_functions():
    costs, validation, best, train_fn, train_fn_grad = cg_optimization_mnist(
        mnist(), n_epochs=8, batch_size=100, n_in=64)
    assert costs[0] == pytest.approx(numpy.log(10), rel=1e-12)    # theta = 0: uniform
    assert min(costs) < 0.3 * costs[0] and validation[-1] < 0.2
    # one cost and its gradient at a point of the path, recomputed in NumPy
    x, y = digits(n=300, n_in=64, seed=0)
    theta = best * 0.5 + 0.01
    W, b = theta[:640].reshape(64, 10), theta[640:]
    p = numpy.exp(x @ W + b)
    p /= p.sum(axis=1, keepdims=True)
    onehot = numpy.eye(10)[y]
    grad_W = [x[i:i + 100].T @ (p - onehot)[i:i + 100] / 100 for i in range(0, 300, 100)]
    grad_b = [(p - onehot)[i:i + 100].sum(axis=0) / 100 for i in range(0, 300, 100)]
    want = numpy.concatenate([numpy.mean(grad_W, axis=0).ravel(), numpy.mean(grad_b, axis=0)])
    assert train_fn(theta) == pytest.approx(-numpy.log(p[numpy.arange(300), y]).mean(),
                                            rel=1e-6)
    numpy.testing.assert_allclose(train_fn_grad(theta), want, rtol=1e-5, atol=1e-9)


@needs_pytensor
def test_logistic_cg_agrees_with_pytensor():
    ours = cg_optimization_mnist(mnist(), n_epochs=4, batch_size=100, n_in=64)
    theirs = PYTENSOR['cg_optimization_mnist'](pytensor_mnist(), n_epochs=4, batch_size=100,
                                                n_in=64)
    numpy.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
    numpy.testing.assert_allclose(ours[2], theirs[2], rtol=1e-5, atol=1e-8)


# ---- SdA.py and DBN.py (the reference evaluator: see the module's docstring) ----

SDA_ARGS = dict(finetune_lr=1.0, pretraining_epochs=3, pretrain_lr=0.05, training_epochs=6,
                batch_size=50, hidden_layers_sizes=[20, 16])


def test_SdA_pretrains_and_finetunes():
    with aotsym.config.change_flags(mode='FAST_COMPILE'):
        pretrain, (costs, valid, test) = sda_test_SdA(mnist(), **SDA_ARGS)
    for layer in pretrain:                      # each dA's reconstruction cost falls
        assert layer[-1] < layer[0]
    assert numpy.mean(costs[-6:]) < 0.85 * numpy.mean(costs[:6])
    assert valid[-1] < 0.5 * valid[0]


def test_DBN_pretrains_and_finetunes():
    with aotsym.config.change_flags(mode='FAST_COMPILE'):
        pretrain, (costs, valid, test) = dbn_test_DBN(
            mnist(), k=1, **dict(SDA_ARGS, pretrain_lr=0.1))
    for layer in pretrain:                      # minus the cross-entropy: rises to 0
        assert layer[-1] > layer[0]
    assert numpy.mean(costs[-6:]) < 0.95 * numpy.mean(costs[:6])
    assert valid[-1] < 0.6 * valid[0]


@needs_pytensor
@pytest.mark.parametrize('driver', ['sda_test_SdA', 'dbn_test_DBN'])
def test_SdA_DBN_agree_with_pytensor(driver):
    """Without corruption, SdA is deterministic; DBN's finetuning is, without pretraining."""
    args = dict(SDA_ARGS, pretraining_epochs=1 if driver == 'sda_test_SdA' else 0)
    if driver == 'sda_test_SdA':
        args['corruption_levels'] = [0.0, 0.0]
    ours = globals()[driver](mnist(), **args)
    theirs = PYTENSOR[driver](pytensor_mnist(), **args)
    numpy.testing.assert_allclose(ours[0], theirs[0], rtol=1e-7)
    numpy.testing.assert_allclose(ours[1][0], theirs[1][0], rtol=1e-7)
    assert ours[1][1] == theirs[1][1]


# ---- cA.py ----

def numpy_cA_step(W, b, b_prime, x, contraction_level, learning_rate):
    """cA.py's [mean L_rec, L_jacob] for one minibatch, and the parameters after its SGD
    step.  ``T.sum(J ** 2) // n_batchsize`` is Theano's int_div of a float: floor(a / b),
    float64, whose gradient is zero (so the contraction term never trains)."""
    h = sigmoid(x @ W + b)
    z = sigmoid(h @ W.T + b_prime)
    L_rec = -numpy.sum(x * numpy.log(z) + (1 - x) * numpy.log(1 - z), axis=1)
    J = (h * (1 - h))[:, None, :] * W[None]
    L_jacob = numpy.floor(numpy.sum(J ** 2) / x.shape[0])
    d_o = (z - x) / x.shape[0]
    d_a = (d_o @ W) * h * (1 - h)
    grads = (x.T @ d_a + d_o.T @ h, d_a.sum(axis=0), d_o.sum(axis=0))
    new = [p - learning_rate * g for p, g in zip((W, b, b_prime), grads)]
    return [L_rec.mean(), L_jacob], new


def test_cA_trains_and_matches_numpy():
    x = digits(n=200, n_in=64)[0].astype(aotsym.config.floatX)
    args = dict(learning_rate=0.1, training_epochs=3, batch_size=10, contraction_level=0.1,
                n_hidden=20)
    epochs, ca = ca_test_cA(aotsym.shared(x), **args)
    assert epochs.shape == (3, 20, 2)
    rec = epochs[:, :, 0].mean(axis=1)
    assert rec[0] > rec[1] > rec[2]
    bound = 4 * numpy.sqrt(6. / (20 + 64))
    params = [numpy.random.RandomState(123).uniform(low=-bound, high=bound, size=(64, 20)),
              numpy.zeros(20), numpy.zeros(64)]
    for k in range(3):                       # the first minibatches, step by step
        want, params = numpy_cA_step(*params, x[10 * k:10 * (k + 1)], 0.1, 0.1)
        numpy.testing.assert_allclose(epochs[0, k], want, rtol=1e-9)
    assert epochs[0, 0, 1] == numpy.floor(epochs[0, 0, 1]) > 0


@needs_pytensor
def test_cA_agrees_with_pytensor():
    x = digits(n=60, n_in=64)[0]
    args = dict(learning_rate=0.1, training_epochs=2, batch_size=10, n_hidden=20)
    ours = ca_test_cA(aotsym.shared(x.astype(aotsym.config.floatX)), **args)[0]
    theirs = PYTENSOR['ca_test_cA'](PYTENSOR['theano'].shared(x.astype('float64')), **args)[0]
    numpy.testing.assert_allclose(ours, theirs, rtol=1e-7)


# ---- rnnrbm.py ----

RNNRBM_ARGS = dict(n_hidden=16, n_hidden_recurrent=12, lr=0.05, r=(60, 84))


def numpy_rnnrbm_cost(params, v, v_sample):
    """build_rnnrbm's cost with the negative particles ``v_sample`` given, in NumPy."""
    W, bv, bh, Wuh, Wuv, Wvu, Wuu, bu = params
    u = numpy.zeros(Wuu.shape[0])
    bv_t, bh_t = [], []
    for v_t in v:                               # the deterministic recurrence
        bv_t.append(bv + u @ Wuv)
        bh_t.append(bh + u @ Wuh)
        u = numpy.tanh(bu + v_t @ Wvu + u @ Wuu)
    bv_t, bh_t = numpy.array(bv_t), numpy.array(bh_t)

    def free_energy(x):
        return -(x * bv_t).sum() - numpy.log(1 + numpy.exp(x @ W + bh_t)).sum()
    return (free_energy(v) - free_energy(v_sample)) / v.shape[0]


def test_rnnrbm_trains_generates_and_matches_numpy():
    rolls = piano_rolls()
    (model, monitors), (model_ref, monitors_ref) = in_modes(
        rnnrbm_test_rnnrbm, [r.copy() for r in rolls], num_epochs=3, **RNNRBM_ARGS)
    # the Gibbs chains draw the same numbers compiled and in the reference evaluator
    numpy.testing.assert_allclose(monitors, monitors_ref, rtol=1e-9)
    assert monitors[-1] > monitors[0]           # the pseudo-likelihood rises
    for p, q in zip(model.params, model_ref.params):
        numpy.testing.assert_allclose(p.get_value(), q.get_value(), rtol=1e-8, atol=1e-12)
    sample = model.generate_function()
    assert sample.shape == (200, 24) and set(numpy.unique(sample)) <= {0.0, 1.0}
    # the CD cost and its gradient (v_sample constant), the negative particles given
    vs = T.matrix('vs')
    grads = T.grad(model.cost, model.params, consider_constant=[model.v_sample])
    f = aotsym.function([model.v, vs], [model.cost] + list(grads), givens={model.v_sample: vs},
                        mode='FAST_COMPILE')
    rng = numpy.random.RandomState(3)
    v, v_sample = rolls[0], (rng.uniform(size=rolls[0].shape) > 0.7).astype('float64')
    params = [p.get_value() for p in model.params]
    out = f(v, v_sample)
    assert out[0] == pytest.approx(numpy_rnnrbm_cost(params, v, v_sample), rel=1e-10)
    for k, (p, g) in enumerate(zip(params, out[1:])):
        for idx in list(zip(*[rng.randint(0, n, size=3) for n in p.shape])):
            up, down = [q.copy() for q in params], [q.copy() for q in params]
            up[k][idx] += 1e-6
            down[k][idx] -= 1e-6
            numeric = (numpy_rnnrbm_cost(up, v, v_sample)
                       - numpy_rnnrbm_cost(down, v, v_sample)) / 2e-6
            assert g[idx] == pytest.approx(numeric, rel=1e-5, abs=1e-8)


def rnnrbm_cost_and_grads(theano, model, v, v_sample):
    vs = theano.tensor.matrix('vs')
    grads = theano.tensor.grad(model.cost, model.params, consider_constant=[model.v_sample])
    f = theano.function([model.v, vs], [model.cost] + list(grads),
                        givens={model.v_sample: vs})
    return f(v, v_sample)


@needs_pytensor
def test_rnnrbm_cost_and_gradient_agree_with_pytensor():
    v = piano_rolls()[1]
    v_sample = (numpy.random.RandomState(5).uniform(size=v.shape) > 0.6).astype('float64')
    ours = rnnrbm_cost_and_grads(aotsym, rnnrbm_test_rnnrbm([], num_epochs=0,
                                                            **RNNRBM_ARGS)[0], v, v_sample)
    theirs = rnnrbm_cost_and_grads(
        PYTENSOR['theano'], PYTENSOR['rnnrbm_test_rnnrbm']([], num_epochs=0,
                                                            **RNNRBM_ARGS)[0], v, v_sample)
    for a, b in zip(ours, theirs):
        numpy.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-12)
