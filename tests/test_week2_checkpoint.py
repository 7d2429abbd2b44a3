"""Week 2: checkpoints survive Ctrl-C and resume exactly, the exports load, predict_digit reads a user's digit.

The training runs use the tiny generated MNIST (tests/fakes.py) in --smoke mode: 400 training
images, 7 steps an epoch. Three runs are shared by the tests of this module: an uninterrupted one,
one stopped by a simulated Ctrl-C after 10 steps (inside epoch 2), and that one resumed.
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

from tests.helpers import load_script

REPO = Path(__file__).resolve().parents[1]
CHECKPOINT = REPO / "week2" / "mnist_cnn_checkpoint.py"
PREDICT = REPO / "week2" / "predict_digit.py"
EPOCHS, STEPS_PER_EPOCH, STOP_AT = 3, 7, 10  # smoke: 400 training images in batches of 64


def train_argv(run_dir, *extra):
    return ["--smoke", "--epochs", str(EPOCHS), "--log-dir", str(run_dir), *extra]


@pytest.fixture(scope="module")
def full_run(module_offline_cache, tmp_path_factory):
    """An uninterrupted run: (run folder, metrics)."""
    run_dir = tmp_path_factory.mktemp("full") / "run"
    metrics = load_script(CHECKPOINT).main(train_argv(run_dir))
    return run_dir, metrics


@pytest.fixture(scope="module")
def interrupted_run(module_offline_cache, tmp_path_factory):
    """A run stopped by KeyboardInterrupt (what Ctrl-C raises) after STOP_AT training steps."""
    import keras

    class CtrlC(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if int(self.model.optimizer.iterations.numpy()) == STOP_AT:
                raise KeyboardInterrupt

    run_dir = tmp_path_factory.mktemp("interrupted") / "run"
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), pytest.raises(SystemExit) as exit_info:
        load_script(CHECKPOINT).main(train_argv(run_dir), callbacks=[CtrlC()])
    latest = json.loads((run_dir / "checkpoints" / "latest.json").read_text())
    return {"run_dir": run_dir, "code": exit_info.value.code, "stderr": stderr.getvalue(), "latest": latest}


def test_ctrl_c_saves_checkpoint_and_prints_resume_command(interrupted_run):
    run_dir = interrupted_run["run_dir"]
    assert interrupted_run["code"] not in (0, None)
    latest = interrupted_run["latest"]
    assert latest["step"] == STOP_AT, "the checkpoint should hold the state at the moment of Ctrl-C"
    assert (run_dir / "checkpoints" / latest["file"]).stat().st_size > 0
    assert [row["epoch"] for row in latest["history"]] == [1]
    assert not (run_dir / "metrics.json").exists() and not (run_dir / "model.keras").exists()
    command = re.search(r"python \S*mnist_cnn_checkpoint\.py --resume --log-dir (\S+)", interrupted_run["stderr"])
    assert command, f"no resume command in: {interrupted_run['stderr']}"
    assert Path(command.group(1)).resolve() == run_dir.resolve()


def test_resume_matches_uninterrupted_run(full_run, interrupted_run, module_offline_cache):
    import keras

    class CountSteps(keras.callbacks.Callback):
        steps = 0

        def on_train_batch_end(self, batch, logs=None):
            CountSteps.steps += 1

    run_dir = interrupted_run["run_dir"]
    metrics = load_script(CHECKPOINT).main(["--resume", "--log-dir", str(run_dir)], callbacks=[CountSteps()])
    assert CountSteps.steps == EPOCHS * STEPS_PER_EPOCH - STOP_AT, "the resumed run redid finished steps"
    assert metrics["resumed_from_step"] == STOP_AT and metrics["resumed_from_epoch"] == 1
    assert metrics["epochs"] == EPOCHS
    history = json.loads((run_dir / "checkpoints" / "latest.json").read_text())["history"]
    assert [row["epoch"] for row in history] == [1, 2, 3]

    full_dir, full_metrics = full_run
    assert metrics["test_accuracy"] == pytest.approx(full_metrics["test_accuracy"], abs=1e-6)
    resumed = keras.models.load_model(run_dir / "model.keras")
    uninterrupted = keras.models.load_model(full_dir / "model.keras")
    assert int(resumed.optimizer.iterations.numpy()) == int(uninterrupted.optimizer.iterations.numpy())
    variables = [model.weights + model.optimizer.variables for model in (resumed, uninterrupted)]
    for a, b in zip(*variables):  # on a CPU with fixed seeds they match exactly; allow float rounding elsewhere
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6, err_msg=a.path)


@pytest.mark.parametrize("case", ["nothing_to_resume", "changed_epochs", "fresh_run_over_checkpoint", "finished"])
def test_resume_user_errors(case, tmp_path):
    run_dir = tmp_path / "run"
    if case != "nothing_to_resume":
        settings = {"epochs": 3, "batch_size": 64, "learning_rate": 0.003, "seed": 42, "dropout": 0.25, "smoke": True}
        (run_dir / "checkpoints").mkdir(parents=True)
        state = {"settings": settings, "step": 21 if case == "finished" else 10, "finished": case == "finished"}
        (run_dir / "checkpoints" / "latest.json").write_text(json.dumps(state))
    args = {
        "nothing_to_resume": ["--resume"],
        "changed_epochs": ["--resume", "--epochs", "5"],
        "fresh_run_over_checkpoint": ["--smoke"],
        "finished": ["--resume"],
    }[case]
    result = run_script(CHECKPOINT, *args, "--log-dir", str(run_dir))
    assert result.returncode != 0
    if case == "changed_epochs":  # argparse's own format: usage line, then the error
        assert "--epochs 5 differs from the run being resumed (3)" in result.stderr
    else:
        assert str(run_dir) in one_line(result.stderr)


def test_exports_load_and_predict(full_run):
    import keras
    import tensorflow as tf

    run_dir, metrics = full_run
    assert set(metrics) >= {"test_accuracy", "train_seconds", "epochs", "resumed_from_epoch"}
    assert metrics["resumed_from_epoch"] == 0
    assert (run_dir / "checkpoints" / "best.keras").stat().st_size > 0
    images = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    model = keras.models.load_model(run_dir / "model.keras")
    probabilities = model.predict(images, verbose=0)
    assert probabilities.shape == (4, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    assert (run_dir / "saved_model" / "saved_model.pb").exists()
    served = tf.saved_model.load(str(run_dir / "saved_model"))
    np.testing.assert_allclose(served.serve(tf.constant(images)).numpy(), probabilities, atol=1e-5)


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


def test_predict_digit_prints_top3(full_run, tmp_path, capsys):
    model = full_run[0] / "model.keras"
    image = draw_seven(tmp_path / "my_seven.png")
    metrics = load_script(PREDICT).main([str(image), "--model", str(model), "--log-dir", str(tmp_path / "run")])
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(str(image)))
    top = [(int(c), float(p)) for c, p in re.findall(r"\b(\d) \((\d\.\d+)\)", line)]
    assert len(top) == 3 and len({c for c, _ in top}) == 3, line
    assert [p for _, p in top] == sorted((p for _, p in top), reverse=True)
    assert 0 < sum(p for _, p in top) <= 1 + 1e-3
    assert metrics["images"] == 1 and (tmp_path / "run" / "predictions.png").stat().st_size > 0


def test_predict_digit_default_model_is_newest_trained_run(tmp_path, monkeypatch, full_run):
    from common import flags

    predict_digit = load_script(PREDICT)
    monkeypatch.setattr(flags, "RUNS_DIR", tmp_path / "runs")
    with pytest.raises(SystemExit, match="train one first"):
        predict_digit.find_model(predict_digit.parse_args(["x.png", "--log-dir", str(tmp_path / "a")]))
    for name, smoke in (("20250101-000000", False), ("20250102-000000-smoke", True)):
        run = tmp_path / "runs" / "mnist_cnn_checkpoint" / name
        run.mkdir(parents=True)
        (run / "model.keras").write_bytes((full_run[0] / "model.keras").read_bytes())
        (run / "config.json").write_text(json.dumps({"smoke": smoke}))
    found = predict_digit.find_model(predict_digit.parse_args(["x.png", "--log-dir", str(tmp_path / "b")]))
    assert found.parent.name == "20250101-000000", "a smoke run's model must not be the default"


def run_script(script, *args, cwd=None):
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def one_line(stderr):
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), f"expected one error line, got: {stderr!r}"
    return lines[0]


@pytest.mark.parametrize("case", ["not_an_image", "missing_image", "missing_model", "model_not_a_model"])
def test_predict_digit_user_errors_are_one_line(case, tmp_path, full_run):
    image, model = draw_seven(tmp_path / "seven.png"), full_run[0] / "model.keras"
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a picture\n")
    args = {
        "not_an_image": [str(text_file), "--model", str(model)],
        "missing_image": [str(tmp_path / "nope.png"), "--model", str(model)],
        "missing_model": [str(image), "--model", str(tmp_path / "nope" / "model.keras")],
        "model_not_a_model": [str(image), "--model", str(text_file)],
    }[case]
    result = run_script(PREDICT, *args, "--log-dir", str(tmp_path / "run"))
    assert result.returncode != 0
    message = one_line(result.stderr)
    assert str(tmp_path) in message, "the message should name the file"
