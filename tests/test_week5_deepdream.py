"""Week 5, deepdream.py: tiled gradients, octaves, and offline runs (--weights none)."""

import numpy as np
import pytest

from common import data
from tests.helpers import REPO, load_script


@pytest.fixture(scope="module")
def dd():
    return load_script(REPO / "week5" / "deepdream.py")


def whole_gradient(model, picture):
    import tensorflow as tf

    picture = tf.convert_to_tensor(picture)
    with tf.GradientTape() as tape:
        tape.watch(picture)
        loss = tf.reduce_sum(model(picture[None]))
    return tape.gradient(loss, picture).numpy()


def test_tiled_gradients_add_up_to_the_whole_pictures_gradient(dd):
    import keras

    # a pixel-by-pixel network: no tile border changes what it sees, so the tiles must add up exactly,
    # with and without the random shift
    inputs = keras.Input((None, None, 3))
    outputs = keras.layers.Conv2D(4, 1, activation="softplus", kernel_initializer=keras.initializers.RandomNormal(seed=0))(inputs)
    model = keras.Model(inputs, outputs)
    picture = np.random.default_rng(0).uniform(-1, 1, (200, 170, 3)).astype("float32")
    expected = whole_gradient(model, picture)
    assert len(dd.tile_edges(200, 80)) - 1 == 2  # 3 pieces of 80 would leave one under 80 pixels: 2 of 100
    for shift in [(0, 0), (37, -55)]:
        assert np.allclose(dd.tiled_gradients(model, picture, tile=80, shift=shift), expected, atol=1e-5)


def test_inception_gradient_in_one_tile_equals_the_untiled_one(dd):
    model = dd.build_dreamer("none", ["mixed2"])
    picture = np.random.default_rng(1).uniform(-1, 1, (90, 100, 3)).astype("float32")
    assert np.allclose(dd.tiled_gradients(model, picture, tile=256), whole_gradient(model, picture), atol=1e-5)


def test_octaves_grow_to_the_picture_size(dd):
    assert dd.octave_shapes((260, 390), 3, 1.3) == [(154, 231), (200, 300), (260, 390)]
    assert dd.octave_shapes((90, 90), 3, 1.5)[0] == (80, 80)  # never below what InceptionV3 accepts


def test_dream_raises_the_loss_and_writes_pictures(dd, offline_cache, tmp_path):
    metrics = dd.main(["--smoke", "--steps", "4", "--log-dir", str(tmp_path / "run")])
    assert metrics["final_loss"] > metrics["first_loss"]
    for name in ("dream.png", "comparison.png", "octave_1.png", "octave_2.png"):
        assert (tmp_path / "run" / name).stat().st_size > 0


def test_feature_visualisation_grows_each_channel(dd, tmp_path):
    metrics = dd.main(["--smoke", "--visualize", "mixed1", "--channels", "3,7", "--log-dir", str(tmp_path / "run")])
    assert metrics["channels"] == 2 and metrics["min_activation_gain"] > 0
    assert (tmp_path / "run" / "features_mixed1.png").stat().st_size > 0


@pytest.mark.parametrize("argv, words", [
    (["--layers", "mixed99"], "no layer 'mixed99'"),
    (["--visualize", "mixed1", "--channels", "9999"], "must lie in 0.."),
    (["--image", "/nonexistent/photo.jpg"], "cannot read"),
])
def test_bad_choices_stop_with_one_line(dd, offline_cache, tmp_path, argv, words):
    with pytest.raises(data.DataError) as error:
        dd.main(["--smoke", *argv, "--log-dir", str(tmp_path / "run")])
    assert words in str(error.value) and "\n" not in str(error.value)
