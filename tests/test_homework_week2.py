"""Week-2 CIFAR-10 CNN homework: the template stops at its first TODO, the solution passes the grader, a correct
solution written differently passes, and typical mistakes fail with a message naming the check."""

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from common import data
from scripts.graders import base, week2
from tests.helpers import TF_START_UP_WORDS, load_script

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "week2/homework/cifar_cnn.py"
SOLUTION = REPO / "week2/homework/cifar_cnn_solution.py"
GRADER = REPO / "scripts/grade_homework.py"
FUNCTIONS = ("conv_output_size", "output_shapes", "build_model", "train_model")



@pytest.fixture(scope="module")
def grader():
    return load_script(GRADER)


def student_file(tmp_path, overrides="", name="cifar_cnn_student.py"):
    """A student's file: the solution's PARSER and functions, then `overrides` (new definitions replace them)."""
    path = tmp_path / name
    path.write_text(
        "import importlib.util\n\n"
        "import keras\n"
        "from keras import layers\n\n\n"
        f"_spec = importlib.util.spec_from_file_location('cifar_solution_in_test', {str(SOLUTION)!r})\n"
        "solution = importlib.util.module_from_spec(_spec)\n"
        "_spec.loader.exec_module(solution)\n"
        f"_spec = importlib.util.spec_from_file_location('cifar_template_in_test', {str(TEMPLATE)!r})\n"
        "template = importlib.util.module_from_spec(_spec)\n"
        "_spec.loader.exec_module(template)\n"
        + "".join(f"{name} = solution.{name}\n" for name in ("PARSER", *FUNCTIONS))
        + overrides
    )
    return path


def test_template_and_solution_offer_the_same_functions():
    template, solution = load_script(TEMPLATE), load_script(SOLUTION)
    import inspect

    for name in FUNCTIONS:
        assert inspect.signature(getattr(template, name)) == inspect.signature(getattr(solution, name)), name
    assert vars(template.PARSER.parse_args([])) | {"script": ""} == vars(solution.PARSER.parse_args([])) | {"script": ""}


def test_template_stops_at_todo_1_and_the_grader_names_it(tiny_cache, tmp_path):
    template = load_script(TEMPLATE)
    with pytest.raises(SystemExit) as stop:
        template.main(["--log-dir", str(tmp_path / "run")])
    assert str(stop.value).startswith("TODO 1 (conv_output_size) is not done yet:")
    assert not (tmp_path / "run").exists()  # stopped before the run folder was made

    env = {**os.environ, data.CACHE_ENV: str(tiny_cache)}  # from a shell, offline: the worker process imports TensorFlow
    result = subprocess.run([sys.executable, str(GRADER), str(TEMPLATE)], cwd=REPO, capture_output=True, text=True,
                            timeout=300, env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "[TODO] TODO 1 (conv_output_size) is not done yet:" in result.stdout
    assert result.stdout.strip().splitlines()[-1].endswith("FAIL")
    assert "Traceback" not in output and not any(word in output for word in TF_START_UP_WORDS), output


def test_grader_passes_the_solution(grader, offline_cache, capsys):
    assert grader.grade_file(SOLUTION, epochs=2) == 0
    out = capsys.readouterr().out
    for check in ("TODO 1 conv_output_size", "TODO 2 output_shapes", "TODO 3 build_model", "convolution",
                  "parameter budget", "TODO 4 train_model", "training data", "softmax and loss", "held-out accuracy"):
        assert f"[PASS] {check}" in out, out
    assert "66,570 parameters <= 100,000" in out
    assert "450 train / 50 validation images" in out and "100 held-out images" in out  # the fake CIFAR-10
    assert "the MLP baseline" in out and "98,666 parameters" in out
    assert out.strip().splitlines()[-1] == "Score: 9/9 checks passed. PASS"


# A correct solution that shares no code with ours: ceil by negation, shapes in one loop, a functional model
# that outputs logits with a from_logits loss, RMSprop, and training on tf.data pipelines.
DIFFERENT = '''
import sys
from pathlib import Path

sys.path.insert(0, {repo!r})
from common import flags

PARSER = flags.make_parser(__file__, __doc__, epochs=4, batch_size=32, learning_rate=1e-3)

import keras
import tensorflow as tf


def conv_output_size(size, kernel, stride=1, padding="valid"):
    covered = size if padding == "same" else size - kernel + 1
    return -(-covered // stride)


def output_shapes(input_shape, stack):
    shape, out = list(input_shape), []
    for kind, *rest in stack:
        if kind == "flatten":
            shape = [shape[0] * shape[1] * shape[2]]
        else:
            channels = rest.pop(0) if kind == "conv" else shape[2]
            window, step, padding = rest
            step = step if step is not None else window
            shape = [conv_output_size(shape[0], window, step, padding), conv_output_size(shape[1], window, step, padding),
                     channels]
        out.append(tuple(shape))
    return out


def build_model(input_shape=(32, 32, 3), num_classes=10):
    inputs = keras.Input(input_shape)
    x = keras.layers.Conv2D(24, 3, activation="relu")(inputs)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(32, 3, strides=2, activation="relu")(x)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(num_classes)(x))


def train_model(model, x_train, y_train, x_val, y_val, epochs=4, batch_size=32, learning_rate=1e-3, callbacks=()):
    model.compile(keras.optimizers.RMSprop(learning_rate),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    train = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(512, seed=1).batch(batch_size)
    val = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(256)
    return model.fit(train, validation_data=val, epochs=epochs, callbacks=list(callbacks), verbose=0)
'''


def test_a_different_correct_solution_passes(grader, offline_cache, tmp_path, capsys):
    path = tmp_path / "my_cnn.py"  # a name of its own: the grader recognises it by its functions
    path.write_text(DIFFERENT.format(repo=str(REPO)))
    assert grader.grade_file(path) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "[PASS] softmax and loss: the model outputs logits (rows do not sum to 1) and the loss reads logits" in out
    assert "model.fit trained on 450 training images and watched 50 validation images" in out


SOFTMAX_MODEL = '''
def build_model(input_shape=(32, 32, 3), num_classes=10):
    return keras.Sequential([keras.Input(input_shape), layers.Conv2D(16, 3, strides=2, activation="relu"),
                             layers.GlobalAveragePooling2D(), layers.Dense(num_classes, activation="{activation}")])
'''


def train_with(loss, fit=True):
    return (
        "def train_model(model, x_train, y_train, x_val, y_val, epochs=5, batch_size=64, learning_rate=2e-3,\n"
        "                callbacks=()):\n"
        f"    model.compile(keras.optimizers.Adam(learning_rate), loss={loss}, metrics=['accuracy'])\n"
        + ("    return model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs, verbose=0)\n" if fit
           else "    return None\n")
    )


BROKEN = {
    # A softmax at the end of the model and from_logits=True in the loss: the loss softmaxes probabilities.
    "softmax_twice": (
        SOFTMAX_MODEL.format(activation="softmax")
        + train_with("keras.losses.SparseCategoricalCrossentropy(from_logits=True)"),
        ["[PASS] TODO 4 train_model", "[FAIL] softmax and loss: softmax applied twice: the model already ends in a softmax"],
    ),
    # Logits out of the model, but a loss that reads probabilities.
    "logits_into_a_probability_loss": (
        SOFTMAX_MODEL.format(activation="linear") + train_with("'sparse_categorical_crossentropy'"),
        ["[FAIL] softmax and loss: the model outputs logits (rows do not sum to 1) but the loss reads them as "
         "probabilities"],
    ),
    # Flatten straight after a wide convolution: over the budget.
    "over_the_budget": (
        "def build_model(input_shape=(32, 32, 3), num_classes=10):\n"
        "    return keras.Sequential([keras.Input(input_shape), layers.Conv2D(32, 3, padding='same', activation='relu'),\n"
        "                             layers.Flatten(), layers.Dense(num_classes, activation='softmax')])\n",
        ["[PASS] convolution", "[FAIL] parameter budget: 328,586 parameters, 228,586 over the budget of 100,000",
         "[STOP] the grader trains only a CNN within the budget"],
    ),
    # The grader's own baseline handed in as the homework: an MLP, no convolution.
    "an_mlp": (
        "def build_model(input_shape=(32, 32, 3), num_classes=10):\n"
        "    return keras.Sequential([keras.Input(input_shape), layers.Flatten(), layers.Dense(30, activation='relu'),\n"
        "                             layers.Dense(num_classes, activation='softmax')])\n",
        ["[FAIL] convolution: no Conv2D layer: this is a multilayer perceptron (MLP)", "[PASS] parameter budget"],
    ),
    # Compiled but never trained: chance accuracy, below the MLP baseline.
    "never_trained": (
        train_with("'sparse_categorical_crossentropy'", fit=False),
        ["[FAIL] TODO 4 train_model", "the weights did not change", "[FAIL] training data: train_model never called "
         "model.fit", "not beaten"],
    ),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_grader_fails_typical_mistakes(case, grader, offline_cache, tmp_path, capsys):
    overrides, expected = BROKEN[case]
    assert grader.grade_file(student_file(tmp_path, overrides), epochs=1) == 1
    out = capsys.readouterr().out
    for text in expected:
        assert text in out, out
    assert "Traceback" not in out and out.strip().splitlines()[-1].endswith("FAIL")


def test_grader_names_the_first_empty_todo(grader, offline_cache, tmp_path, capsys):
    assert grader.grade_file(student_file(tmp_path, "output_shapes = template.output_shapes\n")) == 1
    out = capsys.readouterr().out
    assert "[PASS] TODO 1 conv_output_size" in out
    assert "[TODO] TODO 2 (output_shapes) is not done yet:" in out


def arithmetic(conv_output_size=None, output_shapes=None):
    """A student made of two functions, for the shape checks alone (no training)."""
    solution = load_script(SOLUTION)
    module = types.SimpleNamespace(conv_output_size=conv_output_size or solution.conv_output_size,
                                   output_shapes=output_shapes or solution.output_shapes)
    return base.Student(Path("student.py"), module, week2.TODOS)


def shapes_with(size_fn):
    """The solution's output_shapes, but on top of another conv_output_size (as a student's would be)."""
    solution = load_script(SOLUTION)

    def output_shapes(input_shape, stack):
        original = solution.conv_output_size
        solution.conv_output_size = size_fn
        try:
            return solution.output_shapes(input_shape, stack)
        finally:
            solution.conv_output_size = original

    return output_shapes


def test_shape_arithmetic_mistakes_are_named(capsys):
    import math

    import numpy as np

    def same_floor(size, kernel, stride=1, padding="valid"):
        return size // stride if padding == "same" else (size - kernel) // stride + 1

    def valid_without_one(size, kernel, stride=1, padding="valid"):
        return math.ceil(size / stride) if padding == "same" else (size - kernel) // stride

    def same_half_kernel(size, kernel, stride=1, padding="valid"):
        pad = kernel // 2 if padding == "same" else 0
        return (size + 2 * pad - kernel) // stride + 1

    def channels_kept(input_shape, stack):
        shapes = load_script(SOLUTION).output_shapes(input_shape, stack)
        return [s if len(s) == 1 else (*s[:2], input_shape[2]) for s in shapes]

    def pool_stride_one(input_shape, stack):
        fixed = [("pool", s[1], s[2] or 1, s[3]) if s[0] == "pool" else s for s in stack]
        return load_script(SOLUTION).output_shapes(input_shape, fixed)

    cases = {
        "same_floor": (arithmetic(same_floor), "'same' rounds up: ceil(size / stride), not size // stride"),
        "valid_without_one": (arithmetic(valid_without_one), "forgot the +1"),
        "same_half_kernel": (arithmetic(same_half_kernel), "padding kernel // 2 on both sides is 'same' only for odd"),
        "channels_kept": (arithmetic(output_shapes=channels_kept), "a Conv2D layer's output has `filters` = 32 channels"),
        "pool_stride_one": (arithmetic(output_shapes=pool_stride_one), "MaxPooling2D's strides default to the pool size"),
        "shapes_on_bad_sizes": (arithmetic(output_shapes=shapes_with(same_floor)), "[FAIL] TODO 2 output_shapes"),
    }
    for case, (student, expected) in cases.items():
        week2.check_sizes(base.Report(), student, np.random.default_rng(0))
        week2.check_shapes(base.Report(), student, np.random.default_rng(0))
        out = capsys.readouterr().out
        assert expected in out, (case, out)
        assert "[FAIL]" in out, (case, out)
    assert week2.check_sizes(base.Report(), arithmetic(), np.random.default_rng(3))
    assert week2.check_shapes(base.Report(), arithmetic(), np.random.default_rng(3))


def test_solution_smoke_run(offline_cache, tmp_path):
    solution = load_script(SOLUTION)
    metrics = solution.main(["--smoke", "--log-dir", str(tmp_path / "run")])
    assert metrics["params"] == 66_570 and metrics["epochs"] == 2
    assert metrics["test_accuracy"] >= 0.5, metrics  # the fake images are easy: a coloured bar per class
    assert (tmp_path / "run" / "learning_curves.png").stat().st_size > 0


def test_template_main_runs_once_filled(offline_cache, tmp_path, monkeypatch):
    template, solution = load_script(TEMPLATE), load_script(SOLUTION)
    for name in FUNCTIONS:  # what a student's finished TODO blocks do
        monkeypatch.setattr(template, name, getattr(solution, name))
    metrics = template.main(["--smoke", "--log-dir", str(tmp_path / "run")])
    assert set(metrics) == {"test_accuracy", "val_accuracy", "params", "train_seconds", "epochs"}
    assert metrics["params"] == 66_570 and metrics["test_accuracy"] >= 0.5, metrics
