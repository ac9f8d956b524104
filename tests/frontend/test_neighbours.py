"""images2neibs / neibs2images (Theano's T.nnet.neighbours) against a NumPy loop over the
patches in Theano's order, every mode; their gradient; the round trip; conv2d_transpose as
the gradient of a strided convolution; the module paths ported code imports."""

import numpy as np
import pytest

import aotsym
import aotsym.tensor as T
from aotsym.tensor.nnet.neighbours import images2neibs, neibs2images


def reference(x, shape, step, mode):
    nr, nc = shape
    sr, sc = step
    if mode in ("half", "full"):
        pr, pc = (nr // 2, nc // 2) if mode == "half" else (nr - 1, nc - 1)
        x = np.pad(x, ((0, 0), (0, 0), (pr, pr), (pc, pc)))
    n, c, h, w = x.shape
    rows = [x[a, b, i * sr:i * sr + nr, j * sc:j * sc + nc].ravel()
            for a in range(n) for b in range(c)
            for i in range((h - nr) // sr + 1) for j in range((w - nc) // sc + 1)]
    return np.array(rows).reshape(-1, nr * nc)


CASES = [((2, 2), None, "valid", (2, 3, 4, 6)), ((2, 3), (1, 1), "valid", (1, 2, 5, 5)),
         ((3, 3), (2, 2), "ignore_borders", (2, 1, 8, 7)), ((3, 3), None, "half", (1, 2, 7, 4)),
         ((2, 3), (1, 2), "full", (2, 1, 3, 5)), ((1, 1), None, "valid", (1, 1, 2, 3)),
         ((3, 2), None, "ignore_borders", (1, 1, 2, 5))]


@pytest.mark.parametrize("shape, step, mode, image", CASES)
def test_images2neibs_matches_the_patches_in_theanos_order(shape, step, mode, image):
    x = T.tensor4("x")
    f = aotsym.function([x], images2neibs(x, shape, step, mode))
    data = np.random.default_rng(0).random(image)
    np.testing.assert_array_equal(f(data), reference(data, shape, step or shape, mode))
    strided = np.random.default_rng(1).random(image[:2] + (image[2] * 2, image[3]))[:, :, ::2]
    np.testing.assert_array_equal(f(strided), reference(strided, shape, step or shape, mode))


def test_valid_half_and_full_refuse_patches_that_do_not_tile_the_image():
    """Theano's rule (half and full: valid after the padding; the image at least a patch);
    ignore_borders takes what fits, nothing from an image smaller than a patch."""
    x = T.tensor4("x")
    for mode, bad in [("valid", (1, 1, 5, 4)), ("half", (1, 1, 5, 5)), ("full", (1, 1, 1, 4))]:
        f = aotsym.function([x], images2neibs(x, (2, 2), mode=mode))
        with pytest.raises(ValueError, match=f"images2neibs .*mode='{mode}'"):
            f(np.zeros(bad))
    g = aotsym.function([x], images2neibs(x, (3, 3), mode="ignore_borders"))
    assert g(np.zeros((1, 1, 2, 5))).shape == (0, 9)
    with pytest.raises(NotImplementedError, match="wrap_centered"):
        images2neibs(x, (3, 3), mode="wrap_centered")
    with pytest.raises(NotImplementedError, match="constant ints"):
        images2neibs(x, (T.iscalar("k"), 2))


def test_the_gradient_sums_the_overlapping_patches():
    x = T.tensor4("x")
    cost = (images2neibs(x, (3, 3), (1, 1)) ** 2).sum()
    data = np.random.default_rng(2).random((2, 1, 4, 5))
    g = aotsym.function([x], aotsym.grad(cost, x))(data)
    covered = np.zeros((4, 5))
    for i in range(2):
        for j in range(3):
            covered[i:i + 3, j:j + 3] += 1
    np.testing.assert_allclose(g, 2 * data * covered)


def test_neibs2images_inverts_tiling_patches():
    x = T.tensor4("x")
    data = np.random.default_rng(3).random((2, 3, 4, 6))
    back = aotsym.function([x], neibs2images(images2neibs(x, (2, 3)), (2, 3), x.shape))
    np.testing.assert_array_equal(back(data), data)
    cut = aotsym.function([x], neibs2images(images2neibs(x, (3, 4), mode="ignore_borders"),
                                            (3, 4), x.shape, mode="ignore_borders"))
    want = data.copy()
    want[:, :, 3:], want[:, :, :, 4:] = 0, 0
    np.testing.assert_array_equal(cut(data), want)


def test_conv2d_transpose_is_the_gradient_of_a_strided_convolution():
    x, w, i = T.tensor4("x"), T.tensor4("w"), T.tensor4("i")
    rng = np.random.default_rng(4)
    xv, wv = rng.random((2, 4, 2, 2)), rng.random((4, 3, 3, 3))
    up = aotsym.function([x, w], T.nnet.conv2d_transpose(x, w, output_shape=(2, 3, 6, 6),
                                                         input_dilation=(2, 2)))(xv, wv)
    conv = T.nnet.conv2d(i, w, subsample=(2, 2))
    grad = aotsym.function([i, x, w], aotsym.grad((conv * x).sum(), i))
    np.testing.assert_allclose(up, grad(np.zeros((2, 3, 6, 6)), xv, wv))


def test_the_module_paths_ported_code_imports():
    from aotsym.compile.function_module import UnusedInputError
    from aotsym.sandbox.neighbours import images2neibs as old_path
    from aotsym.tensor.type import TensorType
    assert old_path is images2neibs is T.nnet.images2neibs
    assert UnusedInputError is aotsym.compile.UnusedInputError
    assert TensorType("float32", (False, True)) == T.fcol().type
    assert T.var.TensorVariable is aotsym.Variable     # T.var is still the variance too
    v = T.vector("v")
    got = aotsym.function([v], [T.var(v), T.topk(v, 2), T.argtopk(v, 1)])(np.array([3., 1, 2]))
    assert got[0] == pytest.approx(2 / 3) and sorted(got[1]) == [2.0, 3.0] and got[2] == [0]
