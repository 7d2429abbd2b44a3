"""Week 2: checkpoints survive Ctrl-C and resume, the exports load, predict_digit reads a user's digit.

The training runs use the tiny generated MNIST (tests/fakes.py) in --smoke mode on the CPU: 400
training images, 7 steps an epoch, 3 epochs. Ctrl-C is simulated by a callback that raises
KeyboardInterrupt (what Ctrl-C raises).
- The Keras way (default): ModelCheckpoint + BackupAndRestore; stopped inside epoch 2, resumed.
- --exact-resume: an uninterrupted run, and runs stopped inside an epoch, at an epoch's end and during
  validation, each resumed and compared with the uninterrupted one.
"""

import contextlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.helpers import is_tensorflow_startup_line, load_script, user_error

REPO = Path(__file__).resolve().parents[1]
CHECKPOINT = REPO / "week2" / "mnist_cnn_checkpoint.py"
PREDICT = REPO / "week2" / "predict_digit.py"
EPOCHS, STEPS_PER_EPOCH, STOP_AT = 3, 7, 10  # smoke: 400 training images in batches of 64; 10 = inside epoch 2


def train_argv(run_dir, *extra):
    return ["--smoke", "--epochs", str(EPOCHS), "--device", "cpu", "--log-dir", str(run_dir), *extra]


def ctrl_c(moment):
    """A Keras callback that raises KeyboardInterrupt (what Ctrl-C raises) at `moment`:
    ("step", n): after training step n; ("epoch_begin", e): as epoch e (1-based) begins;
    ("validation", e): as epoch e's validation begins."""
    import keras

    kind, n = moment

    class CtrlC(keras.callbacks.Callback):
        epoch = 0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch + 1
            if kind == "epoch_begin" and self.epoch == n:
                raise KeyboardInterrupt

        def on_train_batch_end(self, batch, logs=None):
            if kind == "step" and int(self.model.optimizer.iterations.numpy()) == n:
                raise KeyboardInterrupt

        def on_test_begin(self, logs=None):
            if kind == "validation" and self.epoch == n:
                raise KeyboardInterrupt

    return CtrlC()


def step_counter():
    """A Keras callback that counts training steps and times each model.fit, from train begin to train end."""
    import time

    import keras

    class StepCounter(keras.callbacks.Callback):
        steps, seconds = 0, 0.0

        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.steps += 1

        def on_train_end(self, logs=None):
            self.seconds += time.perf_counter() - self.start

    return StepCounter()


def interrupt(run_dir, moment, *extra):
    """Runs the script until a simulated Ctrl-C at `moment` (see ctrl_c); returns what the user would see."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), pytest.raises(SystemExit) as exit_info:
        load_script(CHECKPOINT).main(train_argv(run_dir, *extra), callbacks=[ctrl_c(moment)])
    state = json.loads((run_dir / "checkpoints" / "latest.json").read_text())
    steps = sorted(p.name for p in (run_dir / "checkpoints").glob("step-*.keras"))
    return {"run_dir": run_dir, "code": exit_info.value.code, "stderr": stderr.getvalue(), "state": state,
            "step_files": steps}


def resume_command_in(stderr):
    command = re.search(r"python \S*mnist_cnn_checkpoint\.py --resume --log-dir (\S+)", stderr)
    assert command, f"no resume command in: {stderr}"
    return Path(command.group(1))


# --- The Keras way: ModelCheckpoint + BackupAndRestore ----------------------------------------

@pytest.fixture(scope="module")
def keras_resumed(module_offline_cache, tmp_path_factory):
    """A default run stopped inside epoch 2, then resumed with --resume."""
    run_dir = tmp_path_factory.mktemp("keras") / "run"
    stopped = interrupt(run_dir, ("step", STOP_AT))
    stopped["best_bytes"] = (run_dir / "checkpoints" / "best.keras").read_bytes()
    stopped["backup"] = sorted(p.name for p in (run_dir / "checkpoints" / "backup").iterdir())
    counter = step_counter()
    metrics = load_script(CHECKPOINT).main(["--resume", "--log-dir", str(run_dir)], callbacks=[counter])
    return {"stopped": stopped, "metrics": metrics, "steps": counter.steps, "fit_seconds": counter.seconds,
            "state": json.loads((run_dir / "checkpoints" / "latest.json").read_text()), "run_dir": run_dir}


def test_keras_ctrl_c_keeps_last_finished_epoch_and_prints_resume_command(keras_resumed):
    stopped = keras_resumed["stopped"]
    assert stopped["code"] == 130
    assert [row["epoch"] for row in stopped["state"]["history"]] == [1], "only finished epochs are recorded"
    assert "latest.weights.h5" in stopped["backup"], "BackupAndRestore should hold the end of epoch 1"
    assert "epoch 2 starts over" in stopped["stderr"]
    assert resume_command_in(stopped["stderr"]).resolve() == stopped["run_dir"].resolve()


def test_keras_resume_starts_at_the_last_finished_epoch(keras_resumed, module_offline_cache):
    import keras

    run_dir, metrics = keras_resumed["run_dir"], keras_resumed["metrics"]
    assert keras_resumed["steps"] == (EPOCHS - 1) * STEPS_PER_EPOCH, "epoch 1 was redone, or epoch 2 not redone whole"
    assert metrics["resumed_from_epoch"] == 1 and metrics["resumed_from_step"] == STEPS_PER_EPOCH
    assert [row["epoch"] for row in keras_resumed["state"]["history"]] == [1, 2, 3]
    assert keras_resumed["state"]["resumed_at_epochs"] == [1]
    # BackupAndRestore restored the optimizer too: its step counter continued from the end of epoch 1.
    model = keras.models.load_model(run_dir / "model.keras")
    assert int(model.optimizer.iterations.numpy()) == EPOCHS * STEPS_PER_EPOCH
    assert not (run_dir / "checkpoints" / "backup").exists(), "a finished fit deletes BackupAndRestore's folder"


def test_best_model_survives_resume(keras_resumed):
    """On the generated data epoch 1 already reaches validation accuracy 1.0, so the resumed epochs can
    only tie: ModelCheckpoint, given the best so far, must leave epoch 1's best.keras in place."""
    stopped, state = keras_resumed["stopped"], keras_resumed["state"]
    best_before = stopped["state"]["best_val_accuracy"]
    assert best_before == 1.0 and stopped["state"]["best_epoch"] == 1, "precondition: epoch 1 is unbeatable"
    assert [row["val_accuracy"] for row in state["history"][1:]] == [1.0, 1.0]
    assert (keras_resumed["run_dir"] / "checkpoints" / "best.keras").read_bytes() == stopped["best_bytes"]
    assert keras_resumed["metrics"]["best_epoch"] == 1 and keras_resumed["metrics"]["best_val_accuracy"] == 1.0


def test_train_seconds_accumulate_across_runs(keras_resumed):
    before = keras_resumed["stopped"]["state"]["train_seconds"]
    assert before > 0
    total = keras_resumed["metrics"]["train_seconds"]
    # The resumed run adds its own training time (which encloses its model.fit) to the interrupted run's.
    assert total >= before + keras_resumed["fit_seconds"] - 0.01, (total, before, keras_resumed["fit_seconds"])
    assert keras_resumed["state"]["train_seconds"] == total


# --- --exact-resume: mid-epoch checkpoints, same weights as an uninterrupted run ------------------

@pytest.fixture(scope="module")
def full_run(module_offline_cache, tmp_path_factory):
    """An uninterrupted --exact-resume run: (run folder, metrics)."""
    run_dir = tmp_path_factory.mktemp("full") / "run"
    metrics = load_script(CHECKPOINT).main(train_argv(run_dir, "--exact-resume"))
    return run_dir, metrics


# Where Ctrl-C lands, and the step the kept checkpoint holds: inside epoch 2 (that very step); as epoch 2
# begins (the end of epoch 1); during epoch 2's validation, after its last step but before its end was
# recorded (the end of epoch 1 stays, and epoch 2 is trained again).
EXACT_CASES = {"inside_epoch": (("step", STOP_AT), STOP_AT), "at_epoch_end": (("epoch_begin", 2), STEPS_PER_EPOCH),
               "during_validation": (("validation", 2), STEPS_PER_EPOCH)}


@pytest.fixture(scope="module", params=list(EXACT_CASES))
def exact_resumed(request, module_offline_cache, tmp_path_factory):
    """An --exact-resume run stopped at one of EXACT_CASES, then resumed."""
    moment, kept_step = EXACT_CASES[request.param]
    run_dir = tmp_path_factory.mktemp(request.param) / "run"
    stopped = interrupt(run_dir, moment, "--exact-resume")
    counter = step_counter()
    metrics = load_script(CHECKPOINT).main(["--resume", "--log-dir", str(run_dir)], callbacks=[counter])
    return {"kept_step": kept_step, "stopped": stopped, "metrics": metrics, "steps": counter.steps, "run_dir": run_dir}


def test_exact_ctrl_c_saves_checkpoint_and_prints_resume_command(exact_resumed):
    stopped, kept_step = exact_resumed["stopped"], exact_resumed["kept_step"]
    run_dir, state = stopped["run_dir"], stopped["state"]
    assert stopped["code"] == 130
    assert state["step"] == kept_step
    assert stopped["step_files"] == [state["file"]], "latest.json names the one step file kept"
    assert [row["epoch"] for row in state["history"]] == [1]
    assert resume_command_in(stopped["stderr"]).resolve() == run_dir.resolve()


def test_exact_resume_matches_uninterrupted_run_bit_for_bit(full_run, exact_resumed, module_offline_cache):
    import keras

    kept_step, metrics, run_dir = exact_resumed["kept_step"], exact_resumed["metrics"], exact_resumed["run_dir"]
    assert exact_resumed["steps"] == EPOCHS * STEPS_PER_EPOCH - kept_step, "the resumed run redid finished steps"
    assert metrics["resumed_from_step"] == kept_step and metrics["resumed_from_epoch"] == 1
    history = json.loads((run_dir / "checkpoints" / "latest.json").read_text())["history"]
    assert [row["epoch"] for row in history] == [1, 2, 3]

    full_dir, full_metrics = full_run
    assert metrics["test_accuracy"] == full_metrics["test_accuracy"]
    resumed = keras.models.load_model(run_dir / "model.keras")
    uninterrupted = keras.models.load_model(full_dir / "model.keras")
    assert int(resumed.optimizer.iterations.numpy()) == int(uninterrupted.optimizer.iterations.numpy())
    variables = [model.weights + model.optimizer.variables for model in (resumed, uninterrupted)]
    assert len(variables[0]) == len(variables[1])
    for a, b in zip(*variables):  # on the CPU with fixed seeds: the very same numbers
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=a.path)


SETTINGS = {"epochs": 3, "batch_size": 64, "learning_rate": 0.003, "seed": 42, "dropout": 0.25, "smoke": True,
            "exact_resume": False}


@pytest.mark.parametrize("case", ["nothing_to_resume", "changed_epochs", "fresh_run_over_checkpoint", "finished",
                                  "resume_without_log_dir"])
def test_resume_user_errors(case, tmp_path, capsys):
    run_dir = tmp_path / "run"
    if case not in ("nothing_to_resume", "resume_without_log_dir"):
        (run_dir / "checkpoints").mkdir(parents=True)
        state = {"settings": SETTINGS, "history": [{"epoch": 1}], "finished": case == "finished"}
        (run_dir / "checkpoints" / "latest.json").write_text(json.dumps(state))
    args = {
        "nothing_to_resume": ["--resume", "--log-dir", str(run_dir)],
        "changed_epochs": ["--resume", "--epochs", "5", "--log-dir", str(run_dir)],
        "fresh_run_over_checkpoint": ["--smoke", "--log-dir", str(run_dir)],
        "finished": ["--resume", "--log-dir", str(run_dir)],
        "resume_without_log_dir": ["--resume"],
    }[case]
    message = user_error(load_script(CHECKPOINT).main, args, capsys)
    if case == "changed_epochs":  # argparse's own format: usage line, then the error
        assert "--epochs 5 differs from the run being resumed (3)" in message
    elif case == "resume_without_log_dir":
        assert "--resume needs --log-dir" in message
    else:
        assert message.startswith("error:") and str(run_dir) in message
        assert {"nothing_to_resume": "nothing to resume", "fresh_run_over_checkpoint": "already holds a run",
                "finished": "has finished all its epochs"}[case] in message


def test_resume_user_error_as_a_user_sees_it(tmp_path):
    """The same error from a real `python week2/mnist_cnn_checkpoint.py --resume` run: one line, no traceback."""
    result = run_script(CHECKPOINT, "--resume", "--log-dir", str(tmp_path / "run"))
    assert result.returncode != 0 and str(tmp_path / "run") in one_line(result.stderr)


def test_exports_load_and_predict(full_run):
    import keras
    import tensorflow as tf

    run_dir, metrics = full_run
    assert metrics["resumed_from_epoch"] == 0 and metrics["epochs"] == EPOCHS
    assert (run_dir / "checkpoints" / "best.keras").stat().st_size > 0
    images = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    model = keras.models.load_model(run_dir / "model.keras")
    probabilities = model.predict(images, verbose=0)
    assert probabilities.shape == (4, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    assert (run_dir / "saved_model" / "saved_model.pb").exists()
    served = tf.saved_model.load(str(run_dir / "saved_model"))
    np.testing.assert_allclose(served.serve(tf.constant(images)).numpy(), probabilities, atol=1e-5)


# --- predict_digit.py --------------------------------------------------------------------------

def draw_seven(path, size=200):
    """A handwritten-style 7: dark ink on light paper, not centred, as a student would draw it."""
    image = Image.new("RGB", (size, size), (240, 238, 230))
    draw = ImageDraw.Draw(image)
    draw.line([(30, 40), (120, 36), (95, 100), (75, 150)], fill=(20, 20, 40), width=12, joint="curve")
    image.save(path)
    return path


def test_preprocessing_centres_light_ink_on_black(tmp_path):
    predict_digit = load_script(PREDICT)
    image = Image.open(draw_seven(tmp_path / "seven.png"))
    x = predict_digit.to_mnist(image)
    assert x.shape == (28, 28) and x.dtype == np.float32
    assert x.min() == 0 and x.max() == pytest.approx(1)
    assert np.median(x) == 0 and x.mean() < 0.25, "the background should be black, as in MNIST"
    assert x[:4].max() == 0 and x[:, :4].max() == 0, "a 7's top-left corner is background"
    rows, cols = np.arange(28)[:, None], np.arange(28)[None, :]
    centre = ((x * rows).sum() / x.sum(), (x * cols).sum() / x.sum())
    assert centre == pytest.approx((14, 14), abs=0.6)
    ink_rows, ink_cols = np.flatnonzero(x.max(axis=1) > 0.05), np.flatnonzero(x.max(axis=0) > 0.05)
    assert max(ink_rows[-1] - ink_rows[0], ink_cols[-1] - ink_cols[0]) + 1 in (19, 20, 21)
    # The same digit as light ink on black (already MNIST's way round) gives the same input.
    inverted = Image.fromarray(255 - np.asarray(image.convert("L")))
    np.testing.assert_allclose(predict_digit.to_mnist(inverted), x, atol=0.05)


def test_predict_digit_prints_the_models_top3(full_run, tmp_path, capsys):
    import keras

    model_path = full_run[0] / "model.keras"
    image = draw_seven(tmp_path / "my_seven.png")
    predict_digit = load_script(PREDICT)
    metrics = predict_digit.main([str(image), "--model", str(model_path), "--log-dir", str(tmp_path / "run")])
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(str(image)))
    printed = [(int(c), float(p)) for c, p in re.findall(r"\b(\d) \((\d\.\d+)\)", line)]

    x = predict_digit.to_mnist(Image.open(image).convert("RGB"))
    expected = keras.models.load_model(model_path).predict(x[None, ..., None], verbose=0)[0]
    top3 = np.argsort(expected)[::-1][:3]
    assert [c for c, _ in printed] == list(top3), (line, expected)
    np.testing.assert_allclose([p for _, p in printed], expected[top3], atol=5e-4)  # printed with 3 decimals
    assert metrics["images"] == 1 and (tmp_path / "run" / "predictions.png").stat().st_size > 0


def test_predict_digit_default_model_is_newest_trained_run(tmp_path, monkeypatch, full_run):
    from common import flags

    predict_digit = load_script(PREDICT)
    monkeypatch.setattr(flags, "RUNS_DIR", tmp_path / "runs")
    with pytest.raises(SystemExit, match="train one first"):
        predict_digit.find_model()
    for name, smoke in (("20250101-000000", False), ("20250102-000000-smoke", True)):
        run = tmp_path / "runs" / "mnist_cnn_checkpoint" / name
        run.mkdir(parents=True)
        (run / "model.keras").write_bytes((full_run[0] / "model.keras").read_bytes())
        (run / "config.json").write_text(json.dumps({"smoke": smoke}))
    assert predict_digit.find_model().parent.name == "20250101-000000", "a smoke run's model must not be the default"


def run_script(script, *args, cwd=None):
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def one_line(stderr):
    """The one error line a user error prints (after TensorFlow's own start-up lines, which no setting silences)."""
    lines = [line for line in stderr.strip().splitlines() if not is_tensorflow_startup_line(line)]
    assert len(lines) == 1 and lines[0].startswith("error:"), f"expected one error line, got: {stderr!r}"
    return lines[0]


@pytest.mark.parametrize("case", ["not_an_image", "empty_image", "missing_image", "missing_model", "model_not_a_model"])
def test_predict_digit_user_errors_are_one_line(case, tmp_path, full_run, capsys):
    image, model = draw_seven(tmp_path / "seven.png"), full_run[0] / "model.keras"
    text_file, empty = tmp_path / "notes.txt", tmp_path / "empty.png"
    text_file.write_text("not a picture\n")
    empty.write_bytes(b"")
    args = {
        "not_an_image": [str(text_file), "--model", str(model)],
        "empty_image": [str(empty), "--model", str(model)],
        "missing_image": [str(tmp_path / "nope.png"), "--model", str(model)],
        "missing_model": [str(image), "--model", str(tmp_path / "nope" / "model.keras")],
        "model_not_a_model": [str(image), "--model", str(text_file)],
    }[case]
    message = user_error(load_script(PREDICT).main, [*args, "--log-dir", str(tmp_path / "run")], capsys)
    assert message.startswith("error:") and "\n" not in message
    assert str(tmp_path) in message, "the message should name the file"
    if case == "empty_image":
        assert "the file is empty" in message
    assert not (tmp_path / "run").exists(), "a user error should leave no run folder behind"


def test_predict_digit_user_error_as_a_user_sees_it(tmp_path):
    """A real `python week2/predict_digit.py seven.png --model nope/model.keras` run: one line naming the missing
    model, no traceback, no run folder."""
    missing = tmp_path / "nope" / "model.keras"
    result = run_script(PREDICT, str(draw_seven(tmp_path / "seven.png")), "--model", str(missing),
                        "--log-dir", str(tmp_path / "run"))
    assert result.returncode != 0 and str(missing) in one_line(result.stderr)
    assert not (tmp_path / "run").exists()
