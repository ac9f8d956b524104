"""The deeplearning.net tutorials' hybrid Monte Carlo (lisa-lab/DeepLearningTutorials,
hmc/hmc.py), ported by changing only its imports: leapfrog steps by scan,
Metropolis-Hastings, the adaptive step size, MRG uniform and normal draws.

The code between the TUTORIAL markers is the tutorial's own statements, condensed
(docstrings and comments cut): test_hmc.py's ``sampler_on_nd_gaussian`` returns its samples.
The tests check the sampler finds its target, then the numbers: against the NumPy reference
evaluator (the random streams draw the same numbers in both, so a whole run must agree,
rejected moves included), and, where PyTensor is importable, the leapfrog integrator (which
draws nothing) against the same section run under ``import pytensor as theano``
(tutorial_harness.py).
"""

import sys

import numpy
import pytest
from tutorial_harness import in_modes, pytensor_namespace

# ---- TUTORIAL (the code below is run again under PyTensor; change only the imports) ----
import aotsym as theano
import aotsym.sandbox.rng_mrg
from aotsym import function, shared
from aotsym import tensor as TT


# ---- hmc/hmc.py ----
sharedX = (lambda X, name:
           shared(numpy.asarray(X, dtype=theano.config.floatX), name=name))


def kinetic_energy(vel):
    return 0.5 * (vel ** 2).sum(axis=1)


def hamiltonian(pos, vel, energy_fn):
    # assuming mass is 1
    return energy_fn(pos) + kinetic_energy(vel)


def metropolis_hastings_accept(energy_prev, energy_next, s_rng):
    ediff = energy_prev - energy_next
    return (TT.exp(ediff) - s_rng.uniform(size=energy_prev.shape)) >= 0


def simulate_dynamics(initial_pos, initial_vel, stepsize, n_steps, energy_fn):
    def leapfrog(pos, vel, step):
        # from pos(t) and vel(t-stepsize//2), compute vel(t+stepsize//2)
        dE_dpos = TT.grad(energy_fn(pos).sum(), pos)
        new_vel = vel - step * dE_dpos
        # from vel(t+stepsize//2) compute pos(t+stepsize)
        new_pos = pos + step * new_vel
        return [new_pos, new_vel], {}

    initial_energy = energy_fn(initial_pos)
    dE_dpos = TT.grad(initial_energy.sum(), initial_pos)
    vel_half_step = initial_vel - 0.5 * stepsize * dE_dpos
    pos_full_step = initial_pos + stepsize * vel_half_step
    (all_pos, all_vel), scan_updates = theano.scan(
        leapfrog,
        outputs_info=[
            dict(initial=pos_full_step),
            dict(initial=vel_half_step),
        ],
        non_sequences=[stepsize],
        n_steps=n_steps - 1)
    final_pos = all_pos[-1]
    final_vel = all_vel[-1]
    # we consciously ignore "scan_updates" because we know it is empty.
    assert not scan_updates
    energy = energy_fn(final_pos)
    final_vel = final_vel - 0.5 * stepsize * TT.grad(energy.sum(), final_pos)
    return final_pos, final_vel


def hmc_move(s_rng, positions, energy_fn, stepsize, n_steps):
    initial_vel = s_rng.normal(size=positions.shape)
    final_pos, final_vel = simulate_dynamics(initial_pos=positions, initial_vel=initial_vel,
                                             stepsize=stepsize, n_steps=n_steps,
                                             energy_fn=energy_fn)
    accept = metropolis_hastings_accept(
        energy_prev=hamiltonian(positions, initial_vel, energy_fn),
        energy_next=hamiltonian(final_pos, final_vel, energy_fn),
        s_rng=s_rng)
    return accept, final_pos


def hmc_updates(positions, stepsize, avg_acceptance_rate, final_pos, accept,
                target_acceptance_rate, stepsize_inc, stepsize_dec,
                stepsize_min, stepsize_max, avg_acceptance_slowness):
    # broadcast `accept` scalar to tensor with the same dimensions as final_pos.
    accept_matrix = accept.dimshuffle(0, *(('x',) * (final_pos.ndim - 1)))
    # if accept is True, update to `final_pos` else stay put
    new_positions = TT.switch(accept_matrix, final_pos, positions)
    _new_stepsize = TT.switch(avg_acceptance_rate > target_acceptance_rate,
                              stepsize * stepsize_inc, stepsize * stepsize_dec)
    # maintain stepsize in [stepsize_min, stepsize_max]
    new_stepsize = TT.clip(_new_stepsize, stepsize_min, stepsize_max)
    mean_dtype = theano.scalar.upcast(accept.dtype, avg_acceptance_rate.dtype)
    new_acceptance_rate = TT.add(
        avg_acceptance_slowness * avg_acceptance_rate,
        (1.0 - avg_acceptance_slowness) * accept.mean(dtype=mean_dtype))
    return [(positions, new_positions),
            (stepsize, new_stepsize),
            (avg_acceptance_rate, new_acceptance_rate)]


class HMC_sampler(object):
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)

    @classmethod
    def new_from_shared_positions(cls, shared_positions, energy_fn, initial_stepsize=0.01,
                                  target_acceptance_rate=.9, n_steps=20, stepsize_dec=0.98,
                                  stepsize_min=0.001, stepsize_max=0.25, stepsize_inc=1.02,
                                  avg_acceptance_slowness=0.9, seed=12345):
        stepsize = sharedX(initial_stepsize, 'hmc_stepsize')
        avg_acceptance_rate = sharedX(target_acceptance_rate, 'avg_acceptance_rate')
        s_rng = theano.sandbox.rng_mrg.MRG_RandomStreams(seed)
        accept, final_pos = hmc_move(s_rng, shared_positions, energy_fn, stepsize, n_steps)
        simulate_updates = hmc_updates(
            shared_positions,
            stepsize,
            avg_acceptance_rate,
            final_pos=final_pos,
            accept=accept,
            stepsize_min=stepsize_min,
            stepsize_max=stepsize_max,
            stepsize_inc=stepsize_inc,
            stepsize_dec=stepsize_dec,
            target_acceptance_rate=target_acceptance_rate,
            avg_acceptance_slowness=avg_acceptance_slowness)
        simulate = function([], [], updates=simulate_updates)
        return cls(positions=shared_positions, stepsize=stepsize, stepsize_min=stepsize_min,
                   stepsize_max=stepsize_max, avg_acceptance_rate=avg_acceptance_rate,
                   target_acceptance_rate=target_acceptance_rate, s_rng=s_rng,
                   _updates=simulate_updates, simulate=simulate)

    def draw(self, **kwargs):
        self.simulate()
        return self.positions.get_value(borrow=False)


def sampler_on_nd_gaussian(sampler_cls, burnin, n_samples, dim=10):
    """hmc/test_hmc.py's, its prints cut: returns the sampler, the samples and the target."""
    batchsize = 3
    rng = numpy.random.RandomState(123)
    mu, cov, gaussian_energy = gaussian(rng, dim)
    position = rng.randn(batchsize, dim).astype(theano.config.floatX)
    position = theano.shared(position)
    sampler = sampler_cls(position, gaussian_energy, initial_stepsize=1e-3, stepsize_max=0.5)
    garbage = [sampler.draw() for r in range(burnin)]  # burn-in Draw
    # `n_samples`: result is a 3D tensor of dim [n_samples, batchsize, dim]
    _samples = numpy.asarray([sampler.draw() for r in range(n_samples)])
    # Flatten to [n_samples * batchsize, dim]
    samples = _samples.T.reshape(dim, -1).T
    return sampler, samples, mu, cov


def gaussian(rng, dim):
    """test_hmc.py's target: its mean, covariance and energy function."""
    mu = numpy.array(rng.rand(dim) * 10, dtype=theano.config.floatX)
    cov = numpy.array(rng.rand(dim, dim), dtype=theano.config.floatX)
    cov = (cov + cov.T) / 2.
    cov[numpy.arange(dim), numpy.arange(dim)] = 1.0
    cov_inv = numpy.linalg.inv(cov)

    def gaussian_energy(x):
        return 0.5 * (theano.tensor.dot((x - mu), cov_inv) *
                      (x - mu)).sum(axis=1)
    return mu, cov, gaussian_energy


def leapfrog_trajectory(pos, vel, stepsize, n_steps, dim=2):
    """simulate_dynamics and hamiltonian on given positions and velocities, test_hmc.py's
    target: the deterministic half of an HMC move."""
    mu, cov, gaussian_energy = gaussian(numpy.random.RandomState(123), dim)
    p, v = TT.matrix('pos'), TT.matrix('vel')
    step = sharedX(stepsize, 'hmc_stepsize')
    final_pos, final_vel = simulate_dynamics(p, v, step, n_steps, gaussian_energy)
    f = function([p, v], [final_pos, final_vel, hamiltonian(p, v, gaussian_energy),
                          hamiltonian(final_pos, final_vel, gaussian_energy)])
    return f(pos, vel)


# ---- END TUTORIAL ----


PYTENSOR = pytensor_namespace(sys.modules[__name__])
needs_pytensor = pytest.mark.skipif(PYTENSOR is None, reason="PyTensor is not importable")


def test_hmc_samples_a_correlated_gaussian():
    sampler, samples, mu, cov = sampler_on_nd_gaussian(
        HMC_sampler.new_from_shared_positions, burnin=400, n_samples=600, dim=2)
    assert samples.shape == (1800, 2) and samples.dtype == theano.config.floatX
    numpy.testing.assert_allclose(samples.mean(axis=0), mu, atol=0.15)
    numpy.testing.assert_allclose(numpy.cov(samples.T), cov, atol=0.15)
    # test_hmc's own checks
    assert abs(sampler.avg_acceptance_rate.get_value() -
               sampler.target_acceptance_rate) < .1
    assert sampler.stepsize_min <= sampler.stepsize.get_value() <= sampler.stepsize_max


def bold_sampler(positions, energy_fn, **kwargs):
    """HMC_sampler with a step size that rejects moves from the start."""
    return HMC_sampler.new_from_shared_positions(positions, energy_fn,
                                                 **dict(kwargs, initial_stepsize=0.7))


@pytest.mark.parametrize('floatX', ['float64', 'float32'])
def test_hmc_agrees_with_the_reference_evaluator(floatX):
    with theano.config.change_flags(floatX=floatX):
        ours, ref = in_modes(sampler_on_nd_gaussian, bold_sampler, burnin=0, n_samples=15,
                             dim=3)
    assert ours[1].dtype == floatX and ours[0].stepsize.get_value().dtype == floatX
    draws = ours[1].reshape(3, 15, 3)                 # (chain, draw, dim)
    assert (draws[:, 1:] == draws[:, :-1]).all(axis=2).any()     # a move was rejected
    rtol = 1e-9 if floatX == 'float64' else 1e-4
    numpy.testing.assert_allclose(ours[1], ref[1], rtol=rtol)
    for name in ('stepsize', 'avg_acceptance_rate'):
        numpy.testing.assert_allclose(getattr(ours[0], name).get_value(),
                                      getattr(ref[0], name).get_value(), rtol=rtol)


@needs_pytensor
def test_hmc_leapfrog_agrees_with_pytensor():
    rng = numpy.random.RandomState(5)
    pos, vel = rng.randn(4, 2) + 3, rng.randn(4, 2)
    ours = leapfrog_trajectory(pos, vel, 0.1, 20)
    theirs = PYTENSOR['leapfrog_trajectory'](pos, vel, 0.1, 20)
    for a, b in zip(ours, theirs):
        numpy.testing.assert_allclose(a, b, rtol=1e-10)
    assert numpy.abs(ours[3] - ours[2]).max() < 0.1       # leapfrog nearly keeps the energy
