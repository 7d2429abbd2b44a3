"""Week 2, cifar10_cnn.py: the parts of the fast recipe that a smoke run cannot show.

Lookahead must average the weights and load the average at the last step; the one-cycle step size must
start at 0.2x, peak at the warm-up's end and finish at 0.07x; the 3x3 convolutions must start as identities;
test-time augmentation must average the mirror and the 1-pixel shifts.
"""

import types

import numpy as np
import pytest

from tests.helpers import REPO, load_script


@pytest.fixture(scope="module")
def cifar():
    module = load_script(REPO / "week2" / "cifar10_cnn.py")
    module.import_tensorflow()
    return module


def tiny_model(cifar):
    keras = cifar.keras
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, use_bias=False)])
    return model


def test_lookahead_averages_and_loads_the_average_at_the_end(cifar):
    model = tiny_model(cifar)
    callback = cifar.lookahead(model, total_steps=20, every=5)
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


def test_one_cycle_schedule_and_identity_init(cifar):
    args = types.SimpleNamespace(learning_rate=1.5, epochs=10, weight_decay=1.3e-5, label_smoothing=0.2)
    whitening = cifar.whitening_kernel(np.random.default_rng(0).normal(size=(64, 32, 32, 3)).astype("float32"))
    model = cifar.build_model(args, whitening, steps_per_epoch=10)  # 100 steps, warm-up 23
    schedule = model.optimizer._learning_rate  # the schedule object (`.learning_rate` is its current value)
    lr = {step: float(schedule(step)) for step in (0, 23, 100)}
    assert lr[0] == pytest.approx(0.3) and lr[23] == pytest.approx(1.5) and lr[100] == pytest.approx(0.105)
    assert float(schedule(60)) < 1.5 and float(schedule(60)) > 0.105

    conv = model.get_layer("block2_conv2").get_weights()[0]  # (3, 3, 256, 256): starts as the identity
    np.testing.assert_array_equal(conv[1, 1], np.eye(256, dtype="float32"))
    assert not conv[0].any() and not conv[2].any()
    np.testing.assert_array_equal(model.get_layer("whiten").get_weights()[0], whitening)


def test_test_time_augmentation_averages_mirror_and_shifts(cifar):
    class Recorder:
        """Stands in for the model: 'predicts' each image's mean of column 0, remembers what it saw."""

        def __init__(self):
            self.seen = []

        def predict(self, x, batch_size, verbose):
            self.seen.append(x.copy())
            return np.stack([x[:, :, 0, 0].mean(axis=1), np.zeros(len(x))], axis=1)

    x = np.random.default_rng(1).normal(size=(4, 32, 32, 3)).astype("float32")
    recorder = Recorder()
    assert cifar.predict(recorder, x, tta=False).shape == (4, 2) and len(recorder.seen) == 1
    recorder.seen.clear()
    cifar.predict(recorder, x, tta=True)
    assert len(recorder.seen) == 6  # the image, mirrored, and two 1-pixel shifts of each
    views = recorder.seen
    assert any(np.array_equal(v, x) for v in views) and any(np.array_equal(v, x[:, :, ::-1]) for v in views)
    assert any(np.array_equal(v[:, 1:, 1:], x[:, :31, :31]) for v in views)  # shifted down-right by one
    assert any(np.array_equal(v[:, :31, :31], x[:, 1:, 1:]) for v in views)  # shifted up-left by one
