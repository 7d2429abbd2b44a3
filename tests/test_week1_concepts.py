"""The week-1 concept demos show what their docstrings promise.

Each test runs a script's main() in-process, with flags just large enough for the effect
to appear (MNIST scripts on the tiny generated data of tests/fakes.py), and checks the
numbers a student would look at in metrics.json.
"""

import json

import numpy as np
import pytest

from tests.helpers import REPO, load_script


def run(name, tmp_path, *flags):
    module = load_script(REPO / "week1" / f"{name}.py")
    run_dir = tmp_path / "run"
    module.main([*flags, "--log-dir", str(run_dir)])
    return module, json.loads((run_dir / "metrics.json").read_text()), run_dir


def test_gradient_descent_step_sizes_and_variants(tmp_path):
    _, m, run_dir = run("gradient_descent", tmp_path, "--epochs", "3")
    # Past 2/λ_max gradient descent diverges; below it, it does not.
    assert m["alpha_large"] > m["alpha_limit"] > m["alpha_good"] > m["alpha_small"]
    assert m["diverged_alpha_large"] == 1 and m["final_loss_alpha_large"] > 1e3
    assert m["diverged_alpha_small"] == 0 and m["diverged_alpha_good"] == 0
    # The middle α gets (nearly) to the minimum in 50 steps; the small one is still far away.
    assert m["final_loss_alpha_good"] - m["min_loss"] < 0.01
    assert m["final_loss_alpha_small"] - m["min_loss"] > 0.5
    # Per pass over the data, mini-batch and SGD make many more updates than batch GD.
    assert m["final_loss_minibatch"] < m["final_loss_batch"] and m["final_loss_sgd"] < m["final_loss_batch"]
    assert {p.name for p in run_dir.glob("*.png")} == {"alpha_paths.png", "gd_variants.png"}


def test_backprop_gradients_match_and_xor_is_solved(tmp_path):
    _, m, _ = run("backprop_numpy", tmp_path, "--epochs", "2000")
    assert m["grad_check_finite_diff"] < 1e-6
    assert m["grad_check_gradient_tape"] < 1e-6
    assert m["xor_accuracy"] == 1.0
    assert m["final_loss"] < 0.05


def test_backprop_check_catches_a_wrong_gradient(tmp_path):
    """The gradient check is only worth something if a bug makes it fail."""
    module = load_script(REPO / "week1" / "backprop_numpy.py")
    params = module.init_params(3, seed=0)
    grads = module.backprop(params, module.forward(params, module.X_XOR), module.Y_XOR)
    numerical = module.numerical_gradients(params, module.X_XOR, module.Y_XOR)
    assert module.relative_error(grads, numerical) < 1e-6
    grads["W1"] = grads["W1"] * 1.01  # a 1% error in one layer's gradient
    assert module.relative_error(grads, numerical) > 1e-3


def test_vanishing_gradients(tmp_path, offline_cache):
    _, m, _ = run("activation_functions", tmp_path, "--smoke")
    # The derivatives written out agree with TensorFlow's.
    assert m["max_derivative_error"] < 1e-6
    # Through 10 sigmoid layers the first layer's gradient all but vanishes; through ReLU it does not.
    assert m["grad_norm_ratio_sigmoid_to_relu"] < 1e-2
    assert m["grad_norm_first_layer_sigmoid"] < 1e-3 * m["grad_norm_last_layer_sigmoid"]


def test_cross_entropy_learns_faster_than_mse_from_saturation(tmp_path):
    _, m, _ = run("mse_vs_cross_entropy", tmp_path)  # default flags: 600 steps, a few seconds
    assert m["reached_target_cross_entropy"] == 1 and m["reached_target_mse"] == 1
    assert m["steps_to_target_cross_entropy"] * 4 < m["steps_to_target_mse"]
    # MSE's starting gradient is cross-entropy's times σ'(z): the factor that makes it slow.
    ratio = m["initial_grad_b_mse"] / m["initial_grad_b_cross_entropy"]
    assert ratio == pytest.approx(m["initial_sigmoid_derivative"], rel=1e-3)


def test_overfitting_chooses_on_validation_and_tests_once(tmp_path, offline_cache, monkeypatch):
    import keras

    from common import data

    module = load_script(REPO / "week1" / "overfitting.py")
    _, (x_test, _) = data.load_mnist()
    x_test = x_test[:module.SMOKE_TEST].reshape(module.SMOKE_TEST, -1).astype("float32") / 255
    on_test = []  # one entry per Model.evaluate call: the model's name if it was given the test images, else None
    evaluate = keras.Model.evaluate

    def spy(self, *args, **kwargs):
        x = args[0] if args else kwargs.get("x")
        on_test.append(self.name if x is not None and np.array_equal(np.asarray(x), x_test) else None)
        return evaluate(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "evaluate", spy)
    # 20 training images and one epoch: too little for the three to tie at 100% on the easy fake data.
    _, m, run_dir = run("overfitting", tmp_path, "--smoke", "--train-size", "20", "--epochs", "1")
    variants = ("baseline", "dropout", "l2")
    best = {v: m[f"best_val_accuracy_{v}"] for v in variants}
    assert len(set(best.values())) > 1, f"validation accuracies tie, the choice is not tested: {best}"
    assert m["chosen"] == max(variants, key=best.get)
    tested = [name for name in on_test if name is not None]
    assert tested == [m["chosen"]], f"the test set must be evaluated exactly once, by the chosen model: {tested}"
    # The chosen model reaches 0.76 here (chance: 0.1).
    assert m["test_accuracy"] > 0.5
    for v in variants:
        assert m[f"train_val_gap_{v}"] == pytest.approx(m[f"train_accuracy_{v}"] - best[v])
    assert (run_dir / "overfitting.png").stat().st_size > 0


def test_overfitting_validation_is_carved_from_training_set(tmp_path, offline_cache):
    module = load_script(REPO / "week1" / "overfitting.py")
    (x_train, _), (x_val, _), (x_test, _) = module.load_data(smoke=True)
    from common import data

    (mnist_train, _), _ = data.load_mnist()
    flat = mnist_train.reshape(len(mnist_train), -1).astype("float32") / 255
    np.testing.assert_array_equal(x_val, flat[-len(x_val):])  # the end of the MNIST training set
    np.testing.assert_array_equal(x_train, flat[:len(x_train)])  # the start: no overlap with validation
    assert len(x_train) + len(x_val) <= len(flat)


def test_overfitting_rejects_a_training_set_that_eats_validation(tmp_path, offline_cache):
    module = load_script(REPO / "week1" / "overfitting.py")
    with pytest.raises(SystemExit, match="--train-size"):
        module.main(["--train-size", "100000", "--log-dir", str(tmp_path / "run")])
