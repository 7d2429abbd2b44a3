"""Week 3 gradient clipping: plain SGD blows up where Keras' clipping options hold it, and the clip bounds the step.

The stage functions run in-process on the script's own generated data with the script's default settings
(about 15 s in all on a 2-core CPU; the unclipped RNN stops at its first inf, a few dozen steps in).
"""

import math

import numpy as np
import pytest

from tests.helpers import REPO, load_script

CLIPPED = ("clipvalue", "clipnorm", "global_clipnorm")


@pytest.fixture(scope="module")
def gc():
    return load_script(REPO / "week3" / "gradient_clipping.py")


@pytest.fixture(scope="module")
def linear_runs(gc):
    """Part 1 with the script's defaults: the too-large learning rate, every variant."""
    x, y = gc.make_linear_data()
    d = gc.PARSER.parse_args([])
    runs = {v: gc.run_linear(x, y, v, d.learning_rate, d.clip, d.epochs, d.batch_size, d.seed) for v in gc.LINEAR_VARIANTS}
    return x, y, d, runs


def test_default_step_is_too_large_for_plain_sgd(gc, linear_runs):
    x, y, d, runs = linear_runs
    assert d.learning_rate > gc.stability_limit(x)
    none = runs["none"]
    steps = d.epochs * math.ceil(len(x) / d.batch_size)
    assert none["diverged"] and len(none["losses"]) < steps
    assert none["losses"][-1] > 1e6 * none["losses"][0]  # it ran away before it overflowed
    # The same model and data with a step below the limit converge without clipping: the step size is the cause.
    calm = gc.run_linear(x, y, "none", 0.6 * gc.stability_limit(x), d.clip, d.epochs, d.batch_size, d.seed)
    assert not calm["diverged"] and calm["weight_error"] < 0.05


@pytest.mark.parametrize("variant", CLIPPED)
def test_each_clipping_option_converges_near_the_true_weights(gc, linear_runs, variant):
    x, y, d, runs = linear_runs
    run = runs[variant]
    assert not run["diverged"] and len(run["losses"]) == d.epochs * math.ceil(len(x) / d.batch_size)
    assert run["weight_error"] < 0.1, (run["w"], run["b"])  # true w = (2, -3.4), b = 4.2
    assert run["final_loss"] < 1.2 * gc.least_squares_loss(x, y)
    # The gradient was far above the threshold at the start, so clipping did the work.
    assert run["grad_norms"][0] > 50 * d.clip


def test_recorded_steps_respect_each_bound(gc, linear_runs):
    """‖Δθ‖ per step: global_clipnorm ≤ lr·c; clipnorm ≤ lr·c per variable (2 variables); clipvalue per element (3)."""
    _, _, d, runs = linear_runs
    bound = d.learning_rate * d.clip * (1 + 1e-5)
    assert runs["global_clipnorm"]["step_norms"].max() <= bound
    assert bound < runs["clipnorm"]["step_norms"].max() <= math.sqrt(2) * bound
    assert math.sqrt(2) * bound < runs["clipvalue"]["step_norms"].max() <= math.sqrt(3) * bound
    assert runs["none"]["step_norms"].max() > 1e6 * bound


def one_step(gc, variant, learning_rate=0.1, clip=1.0):
    """One optimizer step on two variables with a huge gradient; returns how far each moved."""
    import keras

    kernel, bias = keras.Variable(np.zeros(2, "float32")), keras.Variable(np.zeros(1, "float32"))
    grads = [np.array([3e6, 4e6], "float32"), np.array([1e6], "float32")]
    gc.make_optimizer(variant, learning_rate, clip).apply_gradients(zip(grads, [kernel, bias]))
    return -np.asarray(kernel.numpy()), -np.asarray(bias.numpy())


def test_clipping_bounds_one_step_with_a_huge_gradient(gc):
    lr, c = 0.1, 1.0
    d_kernel, d_bias = one_step(gc, "none", lr, c)
    np.testing.assert_allclose(d_kernel, [3e5, 4e5], rtol=1e-6)  # plain SGD: lr × g
    # clipnorm: each variable's step is lr·c long, in the direction of its own gradient.
    d_kernel, d_bias = one_step(gc, "clipnorm", lr, c)
    np.testing.assert_allclose(d_kernel, [0.06, 0.08], rtol=1e-5)
    np.testing.assert_allclose(d_bias, [0.1], rtol=1e-5)
    # global_clipnorm: the whole step is lr·c long, in the direction of the whole gradient (3, 4, 1)/√26.
    d_kernel, d_bias = one_step(gc, "global_clipnorm", lr, c)
    np.testing.assert_allclose(np.r_[d_kernel, d_bias], lr * c * np.array([3, 4, 1]) / math.sqrt(26), rtol=1e-5)
    # clipvalue: every element is cut to c, so the direction changes (3:4 becomes 1:1).
    d_kernel, d_bias = one_step(gc, "clipvalue", lr, c)
    np.testing.assert_allclose(np.r_[d_kernel, d_bias], [0.1, 0.1, 0.1], rtol=1e-5)
    with pytest.raises(ValueError):
        gc.make_optimizer("clip_everything", lr, c)


def test_rnn_gradients_explode_and_global_clipnorm_keeps_training(gc):
    d = gc.PARSER.parse_args([])
    steps = d.rnn_steps
    x, y = gc.make_recall_data(steps * gc.RNN_BATCH_SIZE, d.seq_len, d.seed)
    x_measure, y_measure = gc.make_recall_data(gc.MEASURE, d.seq_len, d.seed + 1)
    runs = {v: gc.run_rnn(v, x, y, x_measure, y_measure, d.rnn_learning_rate, d.clip, d.recurrent_gain, d.seed)
            for v in gc.RNN_VARIANTS}
    none, clipped = runs["none"], runs["global_clipnorm"]
    assert none["grad_norms"][0] > 100 * d.clip  # it explodes from the very first step
    assert none["diverged"] and math.isnan(none["final_loss"]) and len(none["losses"]) < steps
    assert not clipped["diverged"] and len(clipped["losses"]) == steps
    assert clipped["grad_norms"].max() > 100 * d.clip  # the same huge gradients, clipped
    assert clipped["step_norms"].max() <= d.rnn_learning_rate * d.clip * (1 + 1e-5)
    # Trained, it remembers: its loss on new sequences ends below what always predicting 0 scores (and below its start).
    assert math.isfinite(clipped["final_loss"]) and clipped["final_loss"] < 0.7 * gc.BASELINE_LOSS
    assert clipped["final_loss"] < 0.5 * clipped["initial_loss"]
    # The recurrent gain is what makes it explode: at gain 1 the first gradient is far smaller.
    calm = gc.run_rnn("none", x[:gc.RNN_BATCH_SIZE], y[:gc.RNN_BATCH_SIZE], x_measure, y_measure,
                      d.rnn_learning_rate, d.clip, 1.0, d.seed)
    assert calm["grad_norms"][0] * 20 < none["grad_norms"][0]


def test_bad_flags_are_refused(gc, tmp_path):
    for flag in (["--clip", "0"], ["--recurrent-gain", "-1"], ["--seq-len", "1"]):
        with pytest.raises(SystemExit) as error:
            gc.main([*flag, "--smoke", "--log-dir", str(tmp_path / "run")])
        assert error.value.code == 2
    assert not (tmp_path / "run").exists()  # refused before the run folder was made
