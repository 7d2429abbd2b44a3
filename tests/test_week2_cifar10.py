"""Week 2, cifar10_fast.py and cifar10_cnn.py: the parts that a smoke run cannot show.

cifar10_fast: the whitening kernel must whiten; lookahead must average the weights and load the average at the
last step; the one-cycle step size must start at 0.2x, peak at the warm-up's end and finish at 0.07x; the 3x3
convolutions must start as identities; augment() must mirror and shift without touching shapes or labels;
test-time augmentation must weigh the image and its mirror 1/4 each and the four 1-pixel shifts 1/8 each.
cifar10_cnn: its augmentation must mirror and shift while training and do nothing otherwise.
"""

import numpy as np
import pytest

from tests.helpers import REPO, load_script


@pytest.fixture(scope="module")
def fast():
    return load_script(REPO / "week2" / "cifar10_fast.py")


@pytest.fixture(scope="module")
def cnn():
    return load_script(REPO / "week2" / "cifar10_cnn.py")


def correlated_images(n=400, seed=0):
    """Images whose neighbouring pixels and colour channels are strongly correlated, like photos."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 33, 33, 1)) + 0.3 * rng.normal(size=(n, 33, 33, 3))
    x = x[:, 1:, 1:] + x[:, :-1, :-1] + 0.5 * x[:, 1:, :-1]  # smooth: each pixel shares noise with its neighbours
    return (x * [1.0, 2.0, 0.5]).astype("float32")  # and the channels have different scales


def test_whitening_kernel_whitens_2x2_patches(fast):
    import tensorflow as tf

    x = correlated_images()
    kernel = fast.whitening_kernel(x, eps=1e-6, samples=len(x))
    assert kernel.shape == (2, 2, 3, 24)
    np.testing.assert_array_equal(kernel[..., 12:], -kernel[..., :12])  # the second half: the same filters, negated
    # What the "whiten" layer computes: a 2x2 convolution without padding, 31x31 positions per image.
    whitened = tf.nn.conv2d(x, kernel[..., :12], strides=1, padding="VALID").numpy().reshape(-1, 12)
    raw = tf.nn.conv2d(x, np.eye(12, dtype="float32").reshape(2, 2, 3, 12), strides=1, padding="VALID")
    raw_cov = np.cov(raw.numpy().reshape(-1, 12), rowvar=False)
    assert np.abs(raw_cov - np.diag(np.diag(raw_cov))).max() > 0.5  # the patches are far from white to begin with
    np.testing.assert_allclose(np.cov(whitened, rowvar=False), np.eye(12), atol=1e-3)


def tiny_model():
    import keras

    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, use_bias=False)])


def test_lookahead_averages_and_loads_the_average_at_the_end(fast):
    model = tiny_model()
    callback = fast.Lookahead(total_steps=20, every=5)
    callback.set_model(model)
    w1, w2, w3 = (np.full((3, 2), v, "float32") for v in (1.0, 3.0, 7.0))

    model.set_weights([w1])
    for _ in range(5):  # step 5: the first average is the weights themselves
        callback.on_train_batch_end(0)
    np.testing.assert_allclose(model.get_weights()[0], w1)

    model.set_weights([w2])
    for _ in range(4):  # steps 6-9: nothing happens between averaging steps
        callback.on_train_batch_end(0)
    np.testing.assert_allclose(model.get_weights()[0], w2)
    callback.on_train_batch_end(0)  # step 10: d = 0.95^5 * (10/20)^3
    d = 0.95 ** 5 * 0.5 ** 3
    slow = d * w1 + (1 - d) * w2
    np.testing.assert_allclose(model.get_weights()[0], slow, rtol=1e-6)

    for step in range(11, 20):  # steps 11-19: step 15 averages again
        if step == 15:
            d = 0.95 ** 5 * 0.75 ** 3
            slow = d * slow + (1 - d) * model.get_weights()[0]
        callback.on_train_batch_end(0)
    model.set_weights([w3])
    callback.on_train_batch_end(0)  # step 20, the last: the averaged weights come back, not w3
    np.testing.assert_allclose(model.get_weights()[0], slow, rtol=1e-6)


def test_one_cycle_schedule_and_identity_init(fast):
    schedule = fast.OneCycle(1.5, total=100)  # warm-up: 23 steps
    lr = {step: float(schedule(step)) for step in (0, 23, 60, 100)}
    assert lr[0] == pytest.approx(0.3) and lr[23] == pytest.approx(1.5) and lr[100] == pytest.approx(0.105)
    assert 0.105 < lr[60] < 1.5

    whitening = fast.whitening_kernel(np.random.default_rng(0).normal(size=(64, 32, 32, 3)).astype("float32"))
    model = fast.build_model(whitening, learning_rate=1.5, total_steps=100)
    assert float(model.optimizer._learning_rate(23)) == pytest.approx(1.5)  # the model steps with that schedule
    conv = model.get_layer("block2_conv2").get_weights()[0]  # (3, 3, 256, 256): starts as the identity
    np.testing.assert_array_equal(conv[1, 1], np.eye(256, dtype="float32"))
    assert not conv[0].any() and not conv[2].any()
    np.testing.assert_array_equal(model.get_layer("whiten").get_weights()[0], whitening)


def classify_views(x, out):
    """For each image of `out`, which of the six TTA views of x it is: (index in x, view number)."""
    checks = (
        lambda v, o: np.array_equal(o, v),  # the image
        lambda v, o: np.array_equal(o[:, ::-1], v),  # its mirror
        lambda v, o: np.array_equal(o[1:, 1:], v[:-1, :-1]),  # content moved one pixel down and right
        lambda v, o: np.array_equal(o[1:, ::-1][:, 1:], v[:-1, :-1]),  # that, mirrored
        lambda v, o: np.array_equal(o[:-1, :-1], v[1:, 1:]),  # content moved one pixel up and left
        lambda v, o: np.array_equal(o[:-1, ::-1][:, :-1], v[1:, 1:]),  # that, mirrored
    )
    found = [(i, k) for i, v in enumerate(x) for k, check in enumerate(checks) if check(v, out)]
    assert len(found) == 1, f"an input matches {len(found)} views of the test images, expected 1"
    return found[0]


def test_test_time_augmentation_weighs_each_view(fast):
    class ViewModel:
        """Stands in for the model: 'predicts' class k for the k-th view of an image, so averages show the weights."""

        def __init__(self, x):
            self.x, self.calls = x, 0

        def predict_on_batch(self, batch):
            self.calls += 1
            probabilities = np.zeros((len(batch), 6), "float32")
            for row, image in enumerate(batch):
                probabilities[row, classify_views(self.x, image)[1]] = 1
            return probabilities

    x = np.random.default_rng(1).normal(size=(5, 32, 32, 3)).astype("float32")
    model = ViewModel(x)
    views = fast.predict_views(model, x, batch_size=2)  # chunks of 2, 2 and 1 images
    assert views.shape == (6, 5, 6) and model.calls == 3
    np.testing.assert_array_equal(views.argmax(axis=2), np.repeat(np.arange(6)[:, None], 5, axis=1))
    averaged = fast.tta_average(views)
    expected = [1 / 4, 1 / 4, 1 / 8, 1 / 8, 1 / 8, 1 / 8]  # image, mirror, then the four shifted views
    np.testing.assert_allclose(averaged, np.tile(expected, (5, 1)), rtol=1e-6)
    # The views come from the right image: view k of image i is found as (i, k).
    flat = fast.tta_views(x)
    assert [classify_views(x, flat[k, i]) for k in range(6) for i in range(5)] == [(i, k) for k in range(6) for i in range(5)]


def mirror_and_shift(original, augmented, max_shift=2):
    """(mirrored, (dy, dx)) that turn `original` into `augmented` inside a border of max_shift pixels; None if none do."""
    inner = slice(max_shift, 32 - max_shift)
    for mirrored in (False, True):
        unmirrored = augmented[:, ::-1] if mirrored else augmented
        for dy in range(-max_shift, max_shift + 1):
            for dx in range(-max_shift, max_shift + 1):
                window = unmirrored[max_shift + dy:32 - max_shift + dy, max_shift + dx:32 - max_shift + dx]
                if np.array_equal(window, original[inner, inner]):
                    return mirrored, (dy, dx)
    return None


def count_mirrored_and_shifted(x, out):
    found = [mirror_and_shift(v, o) for v, o in zip(x, out)]
    assert None not in found, "an augmented image is no mirror or shift (of at most 2 pixels) of its original"
    return sum(m for m, _ in found), sum(shift != (0, 0) for _, shift in found)


def test_fast_augment_mirrors_and_shifts_but_keeps_shapes_and_labels(fast):
    import tensorflow as tf

    tf.random.set_seed(0)
    x = np.random.default_rng(2).normal(size=(64, 32, 32, 3)).astype("float32")
    y = np.arange(64) % 10
    out, labels = fast.augment(tf.constant(x), tf.constant(y))
    assert out.shape == x.shape
    np.testing.assert_array_equal(labels.numpy(), np.eye(10)[y])  # the same labels, one-hot for label smoothing
    mirrored, shifted = count_mirrored_and_shifted(x, out.numpy())
    assert 16 < mirrored < 48 and shifted > 48  # about half mirrored; 24 of the 25 shifts move the image


def test_cnn_augmentation_mirrors_and_shifts_only_while_training(cnn):
    import keras

    keras.utils.set_random_seed(0)
    augment = cnn.augmentation(shift=2)
    x = np.random.default_rng(3).random((64, 32, 32, 3)).astype("float32")
    np.testing.assert_array_equal(np.asarray(augment(x, training=False)), x)
    out = np.asarray(augment(x, training=True))
    assert out.shape == x.shape
    mirrored, shifted = count_mirrored_and_shifted(x, out)
    assert 16 < mirrored < 48 and shifted > 48  # about half mirrored; 15 of 16 shifts round to a move


def test_final_fit_keeps_the_validation_split_in_training(fast, monkeypatch):
    x = np.arange(60 * 32 * 32 * 3, dtype="uint8").reshape(60, 32, 32, 3)
    y = np.arange(60) % 10
    monkeypatch.setattr(fast.data, "load_cifar10", lambda data_dir: ((x, y), (x[:7], y[:7]), list("abcdefghij")))
    (x_train, _), (x_val, y_val), (x_test, _), _ = fast.load_data(final_fit=True)
    assert len(x_train) == 60 and x_val is None and y_val is None and len(x_test) == 7
    (x_train, _), (x_val, _), _, _ = fast.load_data()  # without it the last 5,000 are held out: here all 60
    assert len(x_val) == 60 and len(x_train) == 0
    args = fast.PARSER.parse_args(["--final-fit"])
    assert args.final_fit and not fast.PARSER.parse_args([]).final_fit
