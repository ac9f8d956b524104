"""More of the deeplearning.net tutorials (lisa-lab/DeepLearningTutorials), ported by changing
only their imports: rbm.py (CD-k and persistent CD by scan, MRG binomial samples,
``consider_constant``, the pseudo-likelihood's shared bit index, sampling by scan's updates)
and lstm.py (the IMDB sentiment LSTM: embedding lookup, the masked scan, dropout on a shared
switch, adadelta's two functions, rmsprop); hmc/hmc.py is test_theano_tutorial_hmc.py.

The code between the TUTORIAL markers is the tutorials' own statements, condensed (docstrings,
comments and plotting cut, the layout tightened) on small synthetic data: ``test_rbm`` and
``train_lstm`` take their data as arguments and return what they printed (no MNIST, no
pickles, no validation set or early stopping).  Each test checks the model learns, then
checks the numbers:

* against the NumPy reference evaluator (``mode='FAST_COMPILE'``): the random streams draw
  the same numbers in both, so a whole stochastic run must agree, step by step;
* where PyTensor is importable, against the same section run under ``import pytensor as
  theano`` (tutorial_harness.py), on what does not depend on the random numbers (PyTensor's
  streams differ): the first pseudo-likelihood cost, the LSTM trained without dropout.
"""

import sys
from collections import OrderedDict

import numpy
import pytest
from tutorial_harness import in_modes, pytensor_namespace

# ---- TUTORIAL (the code below is run again under PyTensor; change only the imports) ----
import aotsym as theano
import aotsym.tensor as T
import aotsym.tensor as tensor
import aotsym.sandbox.rng_mrg
from aotsym import config
from aotsym import function, shared
from aotsym.sandbox.rng_mrg import MRG_RandomStreams as RandomStreams


# ---- rbm.py ----
class RBM(object):
    """Restricted Boltzmann Machine (RBM)  """
    def __init__(self, input=None, n_visible=784, n_hidden=500, W=None, hbias=None,
                 vbias=None, numpy_rng=None, theano_rng=None):
        self.n_visible = n_visible
        self.n_hidden = n_hidden
        if numpy_rng is None:
            numpy_rng = numpy.random.RandomState(1234)
        if theano_rng is None:
            theano_rng = RandomStreams(numpy_rng.randint(2 ** 30))
        if W is None:
            initial_W = numpy.asarray(
                numpy_rng.uniform(low=-4 * numpy.sqrt(6. / (n_hidden + n_visible)),
                                  high=4 * numpy.sqrt(6. / (n_hidden + n_visible)),
                                  size=(n_visible, n_hidden)),
                dtype=theano.config.floatX)
            W = theano.shared(value=initial_W, name='W', borrow=True)
        if hbias is None:
            hbias = theano.shared(value=numpy.zeros(n_hidden, dtype=theano.config.floatX),
                                  name='hbias', borrow=True)
        if vbias is None:
            vbias = theano.shared(value=numpy.zeros(n_visible, dtype=theano.config.floatX),
                                  name='vbias', borrow=True)
        self.input = input
        if not input:
            self.input = T.matrix('input')
        self.W = W
        self.hbias = hbias
        self.vbias = vbias
        self.theano_rng = theano_rng
        self.params = [self.W, self.hbias, self.vbias]

    def free_energy(self, v_sample):
        ''' Function to compute the free energy '''
        wx_b = T.dot(v_sample, self.W) + self.hbias
        vbias_term = T.dot(v_sample, self.vbias)
        hidden_term = T.sum(T.log(1 + T.exp(wx_b)), axis=1)
        return -hidden_term - vbias_term

    def propup(self, vis):
        pre_sigmoid_activation = T.dot(vis, self.W) + self.hbias
        return [pre_sigmoid_activation, T.nnet.sigmoid(pre_sigmoid_activation)]

    def sample_h_given_v(self, v0_sample):
        pre_sigmoid_h1, h1_mean = self.propup(v0_sample)
        h1_sample = self.theano_rng.binomial(size=h1_mean.shape, n=1, p=h1_mean,
                                             dtype=theano.config.floatX)
        return [pre_sigmoid_h1, h1_mean, h1_sample]

    def propdown(self, hid):
        pre_sigmoid_activation = T.dot(hid, self.W.T) + self.vbias
        return [pre_sigmoid_activation, T.nnet.sigmoid(pre_sigmoid_activation)]

    def sample_v_given_h(self, h0_sample):
        pre_sigmoid_v1, v1_mean = self.propdown(h0_sample)
        v1_sample = self.theano_rng.binomial(size=v1_mean.shape, n=1, p=v1_mean,
                                             dtype=theano.config.floatX)
        return [pre_sigmoid_v1, v1_mean, v1_sample]

    def gibbs_hvh(self, h0_sample):
        pre_sigmoid_v1, v1_mean, v1_sample = self.sample_v_given_h(h0_sample)
        pre_sigmoid_h1, h1_mean, h1_sample = self.sample_h_given_v(v1_sample)
        return [pre_sigmoid_v1, v1_mean, v1_sample,
                pre_sigmoid_h1, h1_mean, h1_sample]

    def gibbs_vhv(self, v0_sample):
        pre_sigmoid_h1, h1_mean, h1_sample = self.sample_h_given_v(v0_sample)
        pre_sigmoid_v1, v1_mean, v1_sample = self.sample_v_given_h(h1_sample)
        return [pre_sigmoid_h1, h1_mean, h1_sample,
                pre_sigmoid_v1, v1_mean, v1_sample]

    def get_cost_updates(self, lr=0.1, persistent=None, k=1):
        pre_sigmoid_ph, ph_mean, ph_sample = self.sample_h_given_v(self.input)
        if persistent is None:
            chain_start = ph_sample
        else:
            chain_start = persistent
        (
            [pre_sigmoid_nvs, nv_means, nv_samples, pre_sigmoid_nhs, nh_means, nh_samples],
            updates
        ) = theano.scan(
            self.gibbs_hvh,
            # the None are place holders, saying that chain_start is the initial state
            # corresponding to the 6th output
            outputs_info=[None, None, None, None, None, chain_start],
            n_steps=k,
            name="gibbs_hvh"
        )
        chain_end = nv_samples[-1]
        cost = T.mean(self.free_energy(self.input)) - T.mean(self.free_energy(chain_end))
        # We must not compute the gradient through the gibbs sampling
        gparams = T.grad(cost, self.params, consider_constant=[chain_end])
        for gparam, param in zip(gparams, self.params):
            updates[param] = param - gparam * T.cast(lr, dtype=theano.config.floatX)
        if persistent:
            # Note that this works only if persistent is a shared variable
            updates[persistent] = nh_samples[-1]
            monitoring_cost = self.get_pseudo_likelihood_cost(updates)
        else:
            monitoring_cost = self.get_reconstruction_cost(updates, pre_sigmoid_nvs[-1])
        return monitoring_cost, updates

    def get_pseudo_likelihood_cost(self, updates):
        """Stochastic approximation to the pseudo-likelihood"""
        bit_i_idx = theano.shared(value=0, name='bit_i_idx')
        xi = T.round(self.input)
        fe_xi = self.free_energy(xi)
        xi_flip = T.set_subtensor(xi[:, bit_i_idx], 1 - xi[:, bit_i_idx])
        fe_xi_flip = self.free_energy(xi_flip)
        cost = T.mean(self.n_visible * T.log(T.nnet.sigmoid(fe_xi_flip - fe_xi)))
        updates[bit_i_idx] = (bit_i_idx + 1) % self.n_visible
        return cost

    def get_reconstruction_cost(self, updates, pre_sigmoid_nv):
        """Approximation to the reconstruction error"""
        cross_entropy = T.mean(
            T.sum(self.input * T.log(T.nnet.sigmoid(pre_sigmoid_nv)) +
                  (1 - self.input) * T.log(1 - T.nnet.sigmoid(pre_sigmoid_nv)),
                  axis=1))
        return cross_entropy


def rbm_test_rbm(train_set_x, test_set_x, learning_rate=0.1, training_epochs=15,
                 batch_size=20, n_chains=20, n_samples=10, n_hidden=500, persistent=True,
                 k=15, plot_every=1000):
    """rbm.py's ``test_rbm`` (renamed so pytest does not collect it): CD or PCD; returns
    the RBM, every minibatch's cost, the (mean-field, sample) pairs and the sampling chain."""
    n_train_batches = train_set_x.get_value(borrow=True).shape[0] // batch_size
    index = T.lscalar()    # index to a [mini]batch
    x = T.matrix('x')  # the data is presented as rasterized images
    rng = numpy.random.RandomState(123)
    theano_rng = RandomStreams(rng.randint(2 ** 30))
    persistent_chain = theano.shared(numpy.zeros((batch_size, n_hidden),
                                                 dtype=theano.config.floatX), borrow=True)
    rbm = RBM(input=x, n_visible=train_set_x.get_value(borrow=True).shape[1],
              n_hidden=n_hidden, numpy_rng=rng, theano_rng=theano_rng)
    cost, updates = rbm.get_cost_updates(
        lr=learning_rate, persistent=persistent_chain if persistent else None, k=k)
    train_rbm = theano.function(
        [index], cost, updates=updates,
        givens={x: train_set_x[index * batch_size: (index + 1) * batch_size]},
        name='train_rbm')
    costs = []
    for epoch in range(training_epochs):
        mean_cost = []
        for batch_index in range(n_train_batches):
            mean_cost += [train_rbm(batch_index)]
        costs.append(mean_cost)

    number_of_test_samples = test_set_x.get_value(borrow=True).shape[0]
    test_idx = rng.randint(number_of_test_samples - n_chains)
    persistent_vis_chain = theano.shared(numpy.asarray(
        test_set_x.get_value(borrow=True)[test_idx:test_idx + n_chains],
        dtype=theano.config.floatX))
    (
        [presig_hids, hid_mfs, hid_samples, presig_vis, vis_mfs, vis_samples],
        updates
    ) = theano.scan(
        rbm.gibbs_vhv,
        outputs_info=[None, None, None, None, None, persistent_vis_chain],
        n_steps=plot_every,
        name="gibbs_vhv"
    )
    updates.update({persistent_vis_chain: vis_samples[-1]})
    sample_fn = theano.function([], [vis_mfs[-1], vis_samples[-1]], updates=updates,
                                name='sample_fn')
    samples = []
    for idx in range(n_samples):
        vis_mf, vis_sample = sample_fn()
        samples.append((vis_mf, vis_sample))
    return rbm, numpy.asarray(costs), samples, persistent_vis_chain


# ---- lstm.py (and imdb.py's prepare_data) ----
SEED = 123


def prepare_data(seqs, labels, maxlen=None):
    """imdb.py's (its maxlen filter cut: every call here passes None)"""
    lengths = [len(s) for s in seqs]
    n_samples = len(seqs)
    maxlen = numpy.max(lengths)
    x = numpy.zeros((maxlen, n_samples)).astype('int64')
    x_mask = numpy.zeros((maxlen, n_samples)).astype(theano.config.floatX)
    for idx, s in enumerate(seqs):
        x[:lengths[idx], idx] = s
        x_mask[:lengths[idx], idx] = 1.
    return x, x_mask, labels


def numpy_floatX(data):
    return numpy.asarray(data, dtype=config.floatX)


def get_minibatches_idx(n, minibatch_size, shuffle=False):
    idx_list = numpy.arange(n, dtype="int32")
    if shuffle:
        numpy.random.shuffle(idx_list)
    minibatches = []
    minibatch_start = 0
    for i in range(n // minibatch_size):
        minibatches.append(idx_list[minibatch_start:minibatch_start + minibatch_size])
        minibatch_start += minibatch_size
    if (minibatch_start != n):
        minibatches.append(idx_list[minibatch_start:])
    return zip(range(len(minibatches)), minibatches)


def unzip(zipped):
    new_params = OrderedDict()
    for kk, vv in zipped.items():
        new_params[kk] = vv.get_value()
    return new_params


def dropout_layer(state_before, use_noise, trng):
    proj = tensor.switch(use_noise,
                         (state_before *
                          trng.binomial(state_before.shape, p=0.5, n=1,
                                        dtype=state_before.dtype)),
                         state_before * 0.5)
    return proj


def _p(pp, name):
    return '%s_%s' % (pp, name)


def init_params(options):
    params = OrderedDict()
    randn = numpy.random.rand(options['n_words'], options['dim_proj'])
    params['Wemb'] = (0.01 * randn).astype(config.floatX)
    params = get_layer(options['encoder'])[0](options, params, prefix=options['encoder'])
    params['U'] = 0.01 * numpy.random.randn(options['dim_proj'],
                                            options['ydim']).astype(config.floatX)
    params['b'] = numpy.zeros((options['ydim'],)).astype(config.floatX)
    return params


def init_tparams(params):
    tparams = OrderedDict()
    for kk, pp in params.items():
        tparams[kk] = theano.shared(params[kk], name=kk)
    return tparams


def get_layer(name):
    fns = layers[name]
    return fns


def ortho_weight(ndim):
    W = numpy.random.randn(ndim, ndim)
    u, s, v = numpy.linalg.svd(W)
    return u.astype(config.floatX)


def param_init_lstm(options, params, prefix='lstm'):
    W = numpy.concatenate([ortho_weight(options['dim_proj']) for gate in range(4)], axis=1)
    params[_p(prefix, 'W')] = W
    U = numpy.concatenate([ortho_weight(options['dim_proj']) for gate in range(4)], axis=1)
    params[_p(prefix, 'U')] = U
    b = numpy.zeros((4 * options['dim_proj'],))
    params[_p(prefix, 'b')] = b.astype(config.floatX)
    return params


def lstm_layer(tparams, state_below, options, prefix='lstm', mask=None):
    nsteps = state_below.shape[0]
    if state_below.ndim == 3:
        n_samples = state_below.shape[1]
    else:
        n_samples = 1
    assert mask is not None

    def _slice(_x, n, dim):
        if _x.ndim == 3:
            return _x[:, :, n * dim:(n + 1) * dim]
        return _x[:, n * dim:(n + 1) * dim]

    def _step(m_, x_, h_, c_):
        preact = tensor.dot(h_, tparams[_p(prefix, 'U')])
        preact += x_
        i = tensor.nnet.sigmoid(_slice(preact, 0, options['dim_proj']))
        f = tensor.nnet.sigmoid(_slice(preact, 1, options['dim_proj']))
        o = tensor.nnet.sigmoid(_slice(preact, 2, options['dim_proj']))
        c = tensor.tanh(_slice(preact, 3, options['dim_proj']))
        c = f * c_ + i * c
        c = m_[:, None] * c + (1. - m_)[:, None] * c_
        h = o * tensor.tanh(c)
        h = m_[:, None] * h + (1. - m_)[:, None] * h_
        return h, c

    state_below = (tensor.dot(state_below, tparams[_p(prefix, 'W')]) +
                   tparams[_p(prefix, 'b')])
    dim_proj = options['dim_proj']
    rval, updates = theano.scan(_step, sequences=[mask, state_below],
                                outputs_info=[tensor.alloc(numpy_floatX(0.), n_samples,
                                                           dim_proj),
                                              tensor.alloc(numpy_floatX(0.), n_samples,
                                                           dim_proj)],
                                name=_p(prefix, '_layers'), n_steps=nsteps)
    return rval[0]


layers = {'lstm': (param_init_lstm, lstm_layer)}


def adadelta(lr, tparams, grads, x, mask, y, cost):
    """ An adaptive learning rate optimizer """
    zipped_grads = [theano.shared(p.get_value() * numpy_floatX(0.), name='%s_grad' % k)
                    for k, p in tparams.items()]
    running_up2 = [theano.shared(p.get_value() * numpy_floatX(0.), name='%s_rup2' % k)
                   for k, p in tparams.items()]
    running_grads2 = [theano.shared(p.get_value() * numpy_floatX(0.), name='%s_rgrad2' % k)
                      for k, p in tparams.items()]
    zgup = [(zg, g) for zg, g in zip(zipped_grads, grads)]
    rg2up = [(rg2, 0.95 * rg2 + 0.05 * (g ** 2)) for rg2, g in zip(running_grads2, grads)]
    f_grad_shared = theano.function([x, mask, y], cost, updates=zgup + rg2up,
                                    name='adadelta_f_grad_shared')
    updir = [-tensor.sqrt(ru2 + 1e-6) / tensor.sqrt(rg2 + 1e-6) * zg
             for zg, ru2, rg2 in zip(zipped_grads, running_up2, running_grads2)]
    ru2up = [(ru2, 0.95 * ru2 + 0.05 * (ud ** 2)) for ru2, ud in zip(running_up2, updir)]
    param_up = [(p, p + ud) for p, ud in zip(tparams.values(), updir)]
    f_update = theano.function([lr], [], updates=ru2up + param_up,
                               on_unused_input='ignore', name='adadelta_f_update')
    return f_grad_shared, f_update


def rmsprop(lr, tparams, grads, x, mask, y, cost):
    """ A variant of SGD that scales the step size by running average of the recent step
    norms. """
    zipped_grads = [theano.shared(p.get_value() * numpy_floatX(0.), name='%s_grad' % k)
                    for k, p in tparams.items()]
    running_grads = [theano.shared(p.get_value() * numpy_floatX(0.), name='%s_rgrad' % k)
                     for k, p in tparams.items()]
    running_grads2 = [theano.shared(p.get_value() * numpy_floatX(0.), name='%s_rgrad2' % k)
                      for k, p in tparams.items()]
    zgup = [(zg, g) for zg, g in zip(zipped_grads, grads)]
    rgup = [(rg, 0.95 * rg + 0.05 * g) for rg, g in zip(running_grads, grads)]
    rg2up = [(rg2, 0.95 * rg2 + 0.05 * (g ** 2)) for rg2, g in zip(running_grads2, grads)]
    f_grad_shared = theano.function([x, mask, y], cost, updates=zgup + rgup + rg2up,
                                    name='rmsprop_f_grad_shared')
    updir = [theano.shared(p.get_value() * numpy_floatX(0.), name='%s_updir' % k)
             for k, p in tparams.items()]
    updir_new = [(ud, 0.9 * ud - 1e-4 * zg / tensor.sqrt(rg2 - rg ** 2 + 1e-4))
                 for ud, zg, rg, rg2 in zip(updir, zipped_grads, running_grads,
                                            running_grads2)]
    param_up = [(p, p + udn[1]) for p, udn in zip(tparams.values(), updir_new)]
    f_update = theano.function([lr], [], updates=updir_new + param_up,
                               on_unused_input='ignore', name='rmsprop_f_update')
    return f_grad_shared, f_update


def build_model(tparams, options):
    trng = RandomStreams(SEED)
    # Used for dropout.
    use_noise = theano.shared(numpy_floatX(0.))
    x = tensor.matrix('x', dtype='int64')
    mask = tensor.matrix('mask', dtype=config.floatX)
    y = tensor.vector('y', dtype='int64')
    n_timesteps = x.shape[0]
    n_samples = x.shape[1]
    emb = tparams['Wemb'][x.flatten()].reshape([n_timesteps,
                                                n_samples,
                                                options['dim_proj']])
    proj = get_layer(options['encoder'])[1](tparams, emb, options,
                                            prefix=options['encoder'], mask=mask)
    if options['encoder'] == 'lstm':
        proj = (proj * mask[:, :, None]).sum(axis=0)
        proj = proj / mask.sum(axis=0)[:, None]
    if options['use_dropout']:
        proj = dropout_layer(proj, use_noise, trng)
    pred = tensor.nnet.softmax(tensor.dot(proj, tparams['U']) + tparams['b'])
    f_pred_prob = theano.function([x, mask], pred, name='f_pred_prob')
    f_pred = theano.function([x, mask], pred.argmax(axis=1), name='f_pred')
    off = 1e-8
    if pred.dtype == 'float16':
        off = 1e-6
    cost = -tensor.log(pred[tensor.arange(n_samples), y] + off).mean()
    return use_noise, x, mask, y, f_pred_prob, f_pred, cost


def pred_probs(f_pred_prob, prepare_data, data, iterator, verbose=False):
    n_samples = len(data[0])
    probs = numpy.zeros((n_samples, 2)).astype(config.floatX)
    for _, valid_index in iterator:
        x, mask, y = prepare_data([data[0][t] for t in valid_index],
                                  numpy.array(data[1])[valid_index], maxlen=None)
        pred_probs = f_pred_prob(x, mask)
        probs[valid_index, :] = pred_probs
    return probs


def pred_error(f_pred, prepare_data, data, iterator, verbose=False):
    valid_err = 0
    for _, valid_index in iterator:
        x, mask, y = prepare_data([data[0][t] for t in valid_index],
                                  numpy.array(data[1])[valid_index], maxlen=None)
        preds = f_pred(x, mask)
        targets = numpy.array(data[1])[valid_index]
        valid_err += (preds == targets).sum()
    valid_err = 1. - numpy_floatX(valid_err) / len(data[0])
    return valid_err


def train_lstm(train, test, dim_proj=128, max_epochs=5000, decay_c=0., lrate=0.0001,
               n_words=10000, optimizer=adadelta, encoder='lstm', maxlen=100,
               batch_size=16, valid_batch_size=64, use_dropout=True):
    """lstm.py's ``train_lstm``: returns every minibatch's cost, the test error before
    training, the train and test errors after it, the test probabilities, the parameters."""
    numpy.random.seed(SEED)
    model_options = locals().copy()
    ydim = numpy.max(train[1]) + 1
    model_options['ydim'] = ydim
    params = init_params(model_options)
    tparams = init_tparams(params)
    (use_noise, x, mask,
     y, f_pred_prob, f_pred, cost) = build_model(tparams, model_options)

    if decay_c > 0.:
        decay_c = theano.shared(numpy_floatX(decay_c), name='decay_c')
        weight_decay = 0.
        weight_decay += (tparams['U'] ** 2).sum()
        weight_decay *= decay_c
        cost += weight_decay

    f_cost = theano.function([x, mask, y], cost, name='f_cost')

    grads = tensor.grad(cost, wrt=list(tparams.values()))
    f_grad = theano.function([x, mask, y], grads, name='f_grad')

    lr = tensor.scalar(name='lr')
    f_grad_shared, f_update = optimizer(lr, tparams, grads,
                                        x, mask, y, cost)

    kf_test = get_minibatches_idx(len(test[0]), valid_batch_size)
    use_noise.set_value(0.)
    initial_test_err = pred_error(f_pred, prepare_data, test, kf_test)
    costs = []
    uidx = 0  # the number of update done
    for eidx in range(max_epochs):
        n_samples = 0
        kf = get_minibatches_idx(len(train[0]), batch_size, shuffle=True)
        for _, train_index in kf:
            uidx += 1
            use_noise.set_value(1.)
            y = [train[1][t] for t in train_index]
            x = [train[0][t]for t in train_index]
            x, mask, y = prepare_data(x, y)
            n_samples += x.shape[1]

            cost = f_grad_shared(x, mask, y)
            f_update(lrate)

            if numpy.isnan(cost) or numpy.isinf(cost):
                print('bad cost detected: ', cost)
                return 1., 1., 1.
            costs.append(float(cost))

    use_noise.set_value(0.)
    kf_train_sorted = get_minibatches_idx(len(train[0]), batch_size)
    train_err = pred_error(f_pred, prepare_data, train, kf_train_sorted)
    kf_test = get_minibatches_idx(len(test[0]), valid_batch_size)
    test_err = pred_error(f_pred, prepare_data, test, kf_test)
    kf_test = get_minibatches_idx(len(test[0]), valid_batch_size)
    probs = pred_probs(f_pred_prob, prepare_data, test, kf_test)
    return costs, initial_test_err, train_err, test_err, probs, unzip(tparams)


# ---- END TUTORIAL ----


def rbm_data(n=120, n_visible=36, seed=0):
    """MNIST-like grey levels in [0, 1] around 5 binary prototypes (some bits flipped): the
    training rows and the rows the sampling chains start from, as shared variables."""
    rng = numpy.random.RandomState(seed)
    protos = numpy.random.RandomState(7).rand(5, n_visible) > 0.5
    bits = protos[rng.randint(0, 5, size=n)] ^ (rng.rand(n, n_visible) < 0.08)
    x = numpy.abs(bits - 0.45 * rng.rand(n, n_visible)).astype(theano.config.floatX)
    return theano.shared(x[:100], borrow=True), theano.shared(x[100:], borrow=True)


def imdb_data(n, seed):
    """IMDB-shaped reviews: lists of word indices (2..29, lengths 3..11) and 0/1 labels; the
    label is told by one or two sentiment words (2 good, 3 bad) among the others."""
    rng = numpy.random.RandomState(seed)
    seqs, labels = [], []
    for _ in range(n):
        label = rng.randint(2)
        words = rng.randint(4, 30, size=rng.randint(3, 12))
        words[rng.choice(len(words), rng.randint(1, 3), replace=False)] = 3 - label
        seqs.append([int(w) for w in words])
        labels.append(int(label))
    return seqs, labels


def numpy_pseudo_likelihood(W, hbias, vbias, x):
    """The tutorial's pseudo-likelihood cost for each bit index, in NumPy."""
    def free_energy(v):
        return -numpy.logaddexp(0, v @ W + hbias).sum(axis=1) - v @ vbias
    xi = numpy.round(x)
    costs = []
    for i in range(x.shape[1]):
        flip = xi.copy()
        flip[:, i] = 1 - flip[:, i]
        d = free_energy(flip) - free_energy(xi)
        costs.append(numpy.mean(x.shape[1] * -numpy.logaddexp(0, -d)))
    return numpy.array(costs)


PYTENSOR = pytensor_namespace(sys.modules[__name__])
needs_pytensor = pytest.mark.skipif(PYTENSOR is None, reason="PyTensor is not importable")


# ---- rbm.py ----

def test_rbm_persistent_cd_learns_and_samples():
    train_x, test_x = rbm_data()
    n_visible = train_x.get_value().shape[1]
    kwargs = dict(training_epochs=4, batch_size=10, n_chains=5, n_samples=3, n_hidden=12,
                  persistent=True, k=3, plot_every=15)
    (rbm, costs, samples, chain), (rbm_ref, costs_ref, samples_ref, _) = in_modes(
        rbm_test_rbm, train_x, test_x, **kwargs)

    # the monitoring cost: one pseudo-likelihood term a minibatch (bit 0, 1, 2, ...)
    assert costs.shape == (4, 10) and costs.dtype == theano.config.floatX
    assert numpy.isfinite(costs).all() and (costs <= 0).all()
    rng = numpy.random.RandomState(123)       # the tutorial's initial parameters
    rng.randint(2 ** 30)
    bound = 4 * numpy.sqrt(6. / (12 + n_visible))
    W0 = rng.uniform(low=-bound, high=bound, size=(n_visible, 12))
    x = train_x.get_value()
    zeros = numpy.zeros(12), numpy.zeros(n_visible)
    assert costs[0, 0] == pytest.approx(numpy_pseudo_likelihood(W0, *zeros, x[:10])[0])
    before = numpy_pseudo_likelihood(W0, *zeros, x).mean()
    after = numpy_pseudo_likelihood(rbm.W.get_value(), rbm.hbias.get_value(),
                                    rbm.vbias.get_value(), x).mean()
    assert after > before + 4.0

    # sampling: mean-field activations in (0, 1), binary samples, the chain holds the last
    assert len(samples) == 3
    for vis_mf, vis_sample in samples:
        assert vis_mf.shape == vis_sample.shape == (5, n_visible)
        assert vis_mf.dtype == vis_sample.dtype == theano.config.floatX
        assert ((vis_mf > 0) & (vis_mf < 1)).all()
        assert set(numpy.unique(vis_sample)) <= {0.0, 1.0}
    numpy.testing.assert_array_equal(chain.get_value(), samples[-1][1])
    assert (samples[0][1] != samples[1][1]).any()      # the chain moves from call to call

    # the same stochastic run in the reference evaluator
    numpy.testing.assert_allclose(costs, costs_ref, rtol=1e-9)
    numpy.testing.assert_allclose(rbm.W.get_value(), rbm_ref.W.get_value(), rtol=1e-9,
                                  atol=1e-12)
    for (mf, s), (mf_ref, s_ref) in zip(samples, samples_ref):
        numpy.testing.assert_allclose(mf, mf_ref, rtol=1e-9)
        numpy.testing.assert_array_equal(s, s_ref)


def test_rbm_cd1_reconstruction_improves():
    train_x, test_x = rbm_data(seed=1)
    kwargs = dict(training_epochs=5, batch_size=10, n_chains=5, n_samples=1, n_hidden=12,
                  persistent=False, k=1, plot_every=5)
    (rbm, costs, _, _), (rbm_ref, costs_ref, _, _) = in_modes(rbm_test_rbm, train_x, test_x,
                                                              **kwargs)
    # the reconstruction cross-entropy (a log-likelihood: it rises towards 0)
    assert costs.shape == (5, 10) and (costs < 0).all()
    assert costs[-1].mean() > costs[0].mean() + 2.0
    numpy.testing.assert_allclose(costs, costs_ref, rtol=1e-9)
    numpy.testing.assert_allclose(rbm.hbias.get_value(), rbm_ref.hbias.get_value(),
                                  rtol=1e-9, atol=1e-12)


def test_rbm_float32_keeps_floatX():
    """floatX=float32 (the tutorials' GPU setting): every shared variable keeps its dtype
    through the updates, the samples are float32."""
    with theano.config.change_flags(floatX='float32'):
        train_x, test_x = rbm_data(seed=2)
        rbm, costs, samples, chain = rbm_test_rbm(
            train_x, test_x, training_epochs=1, batch_size=10, n_chains=5, n_samples=1,
            n_hidden=12, persistent=True, k=2, plot_every=5)
    assert costs.dtype == 'float32' and numpy.isfinite(costs).all()
    assert all(p.get_value().dtype == 'float32' for p in rbm.params)
    assert samples[0][0].dtype == samples[0][1].dtype == chain.get_value().dtype == 'float32'


# ---- lstm.py ----

# decay_c > 0: the weight decay's ``weight_decay += ...; cost += weight_decay`` on symbols
LSTM_ARGS = dict(dim_proj=8, n_words=30, batch_size=8, valid_batch_size=16, decay_c=0.01)


def test_lstm_adadelta_learns():
    train, test = imdb_data(64, seed=0), imdb_data(32, seed=1)
    costs, initial_err, train_err, test_err, probs, params = train_lstm(
        train, test, max_epochs=30, **LSTM_ARGS)
    assert len(costs) == 30 * 8
    assert numpy.mean(costs[:16]) == pytest.approx(numpy.log(2), abs=0.01)
    assert numpy.mean(costs[-16:]) < 0.6 * numpy.mean(costs[:16])
    assert train_err < 0.1 and test_err < initial_err - 0.05
    assert probs.shape == (32, 2) and probs.dtype == theano.config.floatX
    numpy.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert all(v.dtype == theano.config.floatX for v in params.values())


@pytest.mark.parametrize('optimizer', ['adadelta', 'rmsprop'])
def test_lstm_agrees_with_the_reference_evaluator(optimizer):
    """The same stochastic training (dropout masks too), compiled and in the reference
    evaluator; also lstm.py's rmsprop (``p + udn[1]``)."""
    train, test = imdb_data(24, seed=2), imdb_data(16, seed=3)
    ours, ref = in_modes(train_lstm, train, test, max_epochs=2,
                         optimizer=globals()[optimizer], **LSTM_ARGS)
    numpy.testing.assert_allclose(ours[0], ref[0], rtol=1e-9)
    numpy.testing.assert_allclose(ours[4], ref[4], rtol=1e-9)
    numpy.random.seed(SEED)                                      # as train_lstm does
    start = init_params(dict(LSTM_ARGS, ydim=2, encoder='lstm'))
    for name in ours[5]:
        numpy.testing.assert_allclose(ours[5][name], ref[5][name], rtol=1e-9, atol=1e-15)
        assert numpy.abs(ours[5][name] - start[name]).max() > 0          # all trained


def test_lstm_dropout_follows_use_noise():
    """``tensor.switch(use_noise, state * trng.binomial(...), state * 0.5)`` on the shared
    float ``use_noise``: 0 halves every unit, 1 keeps about half of them (fresh masks each
    call); the compiled function draws what the reference evaluator draws."""
    options = dict(LSTM_ARGS, ydim=2, encoder='lstm', use_dropout=True)
    numpy.random.seed(SEED)
    params = init_params(options)
    params['U'] = numpy.random.randn(*params['U'].shape)        # make the units count
    probs = {}
    for mode in ('FAST_RUN', 'FAST_COMPILE'):
        with theano.config.change_flags(mode=mode):
            use_noise, x, mask, y, f_pred_prob, f_pred, cost = build_model(
                init_tparams(params), options)
            x, mask, _ = prepare_data(*imdb_data(6, seed=6))
            probs[mode] = [f_pred_prob(x, mask)]
            use_noise.set_value(numpy_floatX(1.))
            probs[mode] += [f_pred_prob(x, mask), f_pred_prob(x, mask)]
    clean, noisy1, noisy2 = probs['FAST_RUN']
    assert clean.shape == (6, 2) and numpy.abs(noisy1 - noisy2).max() > 1e-3
    assert numpy.abs(noisy1 - clean).max() > 1e-3
    for ours, ref in zip(probs['FAST_RUN'], probs['FAST_COMPILE']):
        numpy.testing.assert_allclose(ours, ref, rtol=1e-9)


# ---- PyTensor: the numbers that do not depend on the random streams ----

@needs_pytensor
def test_rbm_pseudo_likelihood_agrees_with_pytensor():
    kwargs = dict(training_epochs=1, batch_size=10, n_chains=2, n_samples=1, n_hidden=12,
                  persistent=True, k=1, plot_every=1)
    ours = rbm_test_rbm(*rbm_data(), **kwargs)[1]
    train_x, test_x = rbm_data()
    theirs = PYTENSOR['rbm_test_rbm'](PYTENSOR['theano'].shared(train_x.get_value()),
                                      PYTENSOR['theano'].shared(test_x.get_value()), **kwargs)[1]
    assert ours[0, 0] == pytest.approx(float(theirs[0, 0]), rel=1e-9)   # before any sample


@needs_pytensor
def test_lstm_without_dropout_agrees_with_pytensor():
    train, test = imdb_data(24, seed=2), imdb_data(16, seed=3)
    args = dict(LSTM_ARGS, max_epochs=2, use_dropout=False)
    ours = train_lstm(train, test, **args)
    theirs = PYTENSOR['train_lstm'](train, test, **args)
    numpy.testing.assert_allclose(ours[0], theirs[0], rtol=1e-7)
    numpy.testing.assert_allclose(ours[4], theirs[4], rtol=1e-7)
    for name in ours[5]:
        numpy.testing.assert_allclose(ours[5][name], theirs[5][name], rtol=1e-7, atol=1e-12)
