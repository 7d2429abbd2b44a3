"""Flags, the run folder, device selection, Ctrl-C and NaN handling, and the TensorBoard/figure helpers."""

import json
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from common import flags

REPO = Path(__file__).resolve().parents[1]


def parser():
    return flags.make_parser(__file__, "A test script.", epochs=3, batch_size=8, learning_rate=0.1)


HELP_PROBE = """
import runpy, sys
sys.argv = [sys.argv[1], "--help"]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit as exit:
    print("EXIT", exit.code, "TENSORFLOW" if "tensorflow" in sys.modules else "NO-TENSORFLOW")
"""


HELP_SCRIPTS = sorted(p.relative_to(REPO).as_posix() for p in REPO.glob("week*/**/*.py") if not p.name.startswith("_"))
HELP_SCRIPTS += ["docs/script_template.py", "scripts/baselines.py"]
# scripts that train nothing show no --epochs/--batch-size/--learning-rate; those that read no dataset no --data-dir
PREDICTION_ONLY = {"week2/predict_digit.py", "week2/inception_v3_predict.py", "week1/tensorflow_basics.py",
                   "week3/char_rnn_sample.py", "week3/homework/sampling.py", "week3/homework/sampling_solution.py",
                   "week4/caption_image.py", "week4/homework/decoding.py", "week4/homework/decoding_solution.py",
                   "week5/deepdream.py", "week5/homework/vision_losses.py", "week5/homework/vision_losses_solution.py"}
# scripts that optimise a picture, not a model: a learning rate, but no epochs or batches
LEARNING_RATE_ONLY = {"week5/neural_style_transfer.py"}
NO_DATASET = {"week2/predict_digit.py", "week2/inception_v3_predict.py", "week1/tensorflow_basics.py",
              "week3/char_rnn_sample.py", "week3/gradient_clipping.py", "week4/caption_image.py",
              "week4/homework/decoding.py", "week4/homework/decoding_solution.py",
              "week5/homework/vision_losses.py", "week5/homework/vision_losses_solution.py"}


@pytest.mark.parametrize("script", HELP_SCRIPTS)
def test_help_answers_before_tensorflow_is_imported(script):
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", HELP_PROBE, str(REPO / script)],
        capture_output=True, text=True, timeout=60, cwd="/",  # from outside the repository, too
    )
    seconds = time.perf_counter() - start
    assert result.stdout.strip().endswith("EXIT 0 NO-TENSORFLOW"), result.stdout + result.stderr
    for flag in ("--seed", "--log-dir", "--device", "--smoke"):
        assert flag in result.stdout
    for flag in ("--epochs EPOCHS", "--batch-size BATCH_SIZE", "--learning-rate LEARNING_RATE"):  # where it trains
        shown = script not in PREDICTION_ONLY and (script not in LEARNING_RATE_ONLY or flag.startswith("--learning"))
        assert (flag in result.stdout) == shown, flag
    assert ("--data-dir DATA_DIR" in result.stdout) == (script not in NO_DATASET), "--data-dir"
    assert seconds < 10, f"--help took {seconds:.2f}s"  # generous: TensorFlow alone takes longer to import


def test_parser_without_training_flags():
    plain = flags.make_parser(__file__, "A prediction script.", data_dir=False)
    text = plain.format_help()
    assert "--epochs" not in text and "--learning-rate" not in text and "--data-dir" not in text and "--seed" in text
    args = flags.parse(plain, ["--smoke", "--log-dir", "unused"])
    assert args.smoke and not hasattr(args, "epochs")


@pytest.mark.parametrize("argv, message", [
    (["--no-such-flag"], "unrecognized arguments"),
    (["--epochs", "0"], "--epochs must be at least 1"),
    (["--learning-rate", "-1"], "--learning-rate must be positive"),
    (["--learning-rate", "nan"], "--learning-rate must be a finite number"),
    (["--learning-rate", "inf"], "--learning-rate must be a finite number"),
    (["--device", "tpu"], "invalid choice"),
])
def test_unknown_flag_and_bad_values_exit_2(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as info:
        flags.parse(parser(), argv + ["--log-dir", str(tmp_path / "run")])
    assert info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_a_used_run_folder_is_refused(tmp_path):
    run = tmp_path / "run"
    flags.start_run(flags.parse(parser(), ["--log-dir", str(run)]))
    with pytest.raises(SystemExit, match=r"error: --log-dir .*run already holds a run"):
        flags.parse(parser(), ["--log-dir", str(run)])
    assert flags.parse(parser(), ["--log-dir", str(run)], allow_existing_run=True).log_dir == run  # --resume
    empty = tmp_path / "empty"
    empty.mkdir()
    assert flags.parse(parser(), ["--log-dir", str(empty)]).log_dir == empty


def test_run_folder_is_made_when_the_run_starts(tmp_path, monkeypatch):
    monkeypatch.setattr(flags, "RUNS_DIR", tmp_path / "runs")
    args = flags.parse(parser(), ["--epochs", "5", "--smoke"])
    assert args.log_dir.parent == tmp_path / "runs" / "test_flags_runtime_logs"
    assert args.log_dir.name.endswith("-smoke")
    assert not args.log_dir.exists()  # parsing alone creates nothing
    flags.start_run(args, device="CPU")
    config = json.loads((args.log_dir / "config.json").read_text())
    assert config["epochs"] == 5 and config["batch_size"] == 8 and config["smoke"] is True and config["device"] == "CPU"
    again = flags.parse(parser(), ["--smoke"])
    assert again.log_dir != args.log_dir  # two runs in the same second get two folders


def test_config_holds_lists_of_paths(tmp_path):
    p = parser()
    p.add_argument("images", nargs="*", type=Path)
    flags.start_run(flags.parse(p, ["a.png", "b.png", "--log-dir", str(tmp_path)]))
    assert json.loads((tmp_path / "config.json").read_text())["images"] == ["a.png", "b.png"]


def test_device_falls_back_to_cpu(tmp_path):
    import keras
    import tensorflow as tf

    from common import runtime

    args = flags.parse(parser(), ["--log-dir", str(tmp_path)])
    strategy = runtime.setup(args)
    config = json.loads((tmp_path / "config.json").read_text())
    if tf.config.list_physical_devices("GPU"):
        pytest.skip("a GPU is visible: the CPU fallback cannot be observed here")
    assert config["device"].startswith("CPU") and config["precision"] == "float32"
    assert strategy.num_replicas_in_sync == 1
    assert keras.mixed_precision.global_policy().name == "float32"

    gpu_args = flags.parse(parser(), ["--log-dir", str(tmp_path / "gpu"), "--device", "gpu"])
    with pytest.raises(SystemExit, match="TensorFlow sees no GPU"):
        runtime.setup(gpu_args)


def test_image_grid_layout():
    from common import tb

    grid = tb.image_grid(np.zeros((5, 4, 3)), ncols=3, pad=1)
    assert grid.shape == (2 * 4 + 1, 3 * 3 + 2, 1)
    assert grid[4, 0, 0] == 1.0 and grid[0, 0, 0] == 0.0  # padding is white, images keep their pixels


def test_scalars_images_text_round_trip(tmp_path):
    import tensorflow as tf

    from common import tb

    with tb.writer(tmp_path, "train").as_default():
        for step, value in enumerate([3.0, 2.0, 1.0]):
            tf.summary.scalar("epoch_loss", value, step=step)
    tb.log_image(tmp_path, "test", "grid", np.ones((6, 6)))
    tb.log_text(tmp_path, "test", "notes", "hello")
    scalars = tb.read_scalars(tmp_path)
    assert scalars["train/epoch_loss"] == [(0, 3.0), (1, 2.0), (2, 1.0)]
    assert "test/grid" not in scalars  # images are not scalars


def test_korean_text_renders_in_figures(tmp_path):
    from common import tb

    plt = tb.pyplot()
    fig, ax = plt.subplots()
    ax.set_title("가중치 템플릿 -1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)" for boxes
        path = tb.save_figure(fig, tmp_path / "figure.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_write_metrics_is_valid_json(tmp_path):
    from common import tb

    tb.write_metrics(tmp_path, test_accuracy=np.float32(0.5), train_seconds=1.25, loss=float("nan"),
                     curve=[np.float64(1.5), float("inf")])
    text = (tmp_path / "metrics.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"test_accuracy": 0.5, "train_seconds": 1.25, "loss": None, "curve": [1.5, None]}


def test_nan_loss_stops_the_run_with_one_line(tmp_path):
    import keras

    from common import tb

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(1e30), loss="mse")
    x = np.ones((64, 1), "float32") * 1e20
    with pytest.raises(SystemExit) as info:
        model.fit(x, x, epochs=3, batch_size=8, verbose=0, callbacks=[tb.StopOnNaN(tmp_path)])
    assert str(info.value.code).startswith("error: the training loss became ") and "--learning-rate" in str(info.value.code)
    assert "epoch 1, step" in str(info.value.code)
    assert "loss became" in json.loads((tmp_path / "metrics.json").read_text())["stopped"]


def test_ctrl_c_is_one_line_and_keeps_the_run(tmp_path, capsys):
    import tensorflow as tf

    from common import runtime

    with tf.summary.create_file_writer(str(tmp_path / "train")).as_default():
        for epoch in range(5):
            tf.summary.scalar("epoch_loss", 1.0 / (epoch + 1), step=epoch)
    runtime.error_hook(tmp_path)(KeyboardInterrupt, KeyboardInterrupt(), None)
    err = capsys.readouterr().err.strip()
    assert err == f"interrupted (Ctrl-C) after 5 epochs; what was written so far is kept in {tmp_path}"
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"interrupted": True, "epochs_completed": 5}
    assert list((tmp_path / "train").glob("events.out.tfevents.*"))  # the run's logs are still there


def test_ctrl_c_exit_status_is_130(tmp_path):
    """A real interrupted script: one line on stderr after TensorFlow's own start-up lines, exit status 130."""
    code = (
        "import sys, os; sys.path.insert(0, os.getcwd()); from common import flags, runtime\n"
        f"args = flags.parse(flags.make_parser('x.py', '', epochs=1), ['--log-dir', {str(tmp_path / 'run')!r}])\n"
        "runtime.setup(args)\nraise KeyboardInterrupt\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode in (130, -signal.SIGINT)  # Python ends itself by SIGINT: the shell shows 130
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("interrupted (Ctrl-C); what was written so far is kept in")


@pytest.mark.parametrize("amx, opt_in, choice, expected", [
    (True, True, "auto", "mixed_bfloat16"),  # an AMX CPU and a script measured faster in bfloat16
    (False, True, "auto", "float32"),  # a laptop CPU: bfloat16 would be slower
    (True, False, "auto", "float32"),  # scripts that did not opt in stay float32
    (True, True, "off", "float32"),
    (False, False, "on", "mixed_bfloat16"),  # asked for: obeyed, with a warning
])
def test_cpu_precision(tmp_path, monkeypatch, amx, opt_in, choice, expected):
    import keras
    import tensorflow as tf

    from common import runtime

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("a GPU is visible: CPU precision cannot be observed here")
    monkeypatch.setattr(runtime, "cpu_has_amx_bfloat16", lambda: amx)
    args = flags.parse(parser(), ["--log-dir", str(tmp_path), "--mixed-precision", choice])
    runtime.setup(args, cpu_bfloat16=opt_in)  # conftest puts the policy back to float32 afterwards
    assert keras.mixed_precision.global_policy().name == expected
    assert json.loads((tmp_path / "config.json").read_text())["precision"] == expected


@pytest.mark.parametrize("on_gpu, expected", [
    (True, "error: out of memory: GPU memory is used up, often by other processes on a shared GPU (see `nvidia-smi`); "
           "try --batch-size 32 or --device cpu"),
    (False, "error: out of memory: the computer's memory is used up; try --batch-size 32"),
])
def test_out_of_memory_is_one_line(tmp_path, capsys, on_gpu, expected):
    import tensorflow as tf

    from common import runtime

    error = tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor with shape[64,512,512]")
    runtime.error_hook(tmp_path, batch_size=64, on_gpu=on_gpu)(type(error), error, None)
    assert capsys.readouterr().err.strip() == expected


def test_figures_need_no_display(tmp_path, monkeypatch):
    """On a server reached with `ssh -X`, DISPLAY is set; figures must still go to files, never to a window."""
    import matplotlib

    from common import tb

    monkeypatch.setenv("DISPLAY", "localhost:10.0")
    plt = tb.pyplot()
    assert matplotlib.get_backend().lower() == "agg"
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    assert tb.save_figure(fig, tmp_path / "line.png").stat().st_size > 0


@pytest.mark.parametrize("capabilities, choice, expected", [
    ([(8, 0)], "auto", "mixed_float16"),  # tensor cores
    ([(6, 1)], "auto", "float32"),  # an older card: float16 would not be faster
    ([(9, 0), (6, 1)], "auto", "float32"),  # every card must have tensor cores
    ([(6, 1)], "on", "mixed_float16"),  # asked for: obeyed
    ([(9, 0)], "off", "float32"),
])
def test_gpu_precision_by_compute_capability(monkeypatch, capabilities, choice, expected):
    import tensorflow as tf

    from common import runtime

    gpus = [f"GPU:{i}" for i in range(len(capabilities))]
    details = dict(zip(gpus, capabilities))
    monkeypatch.setattr(tf.config.experimental, "get_device_details", lambda gpu: {"compute_capability": details[gpu]})
    assert runtime._precision(choice, gpus, cpu_bfloat16=False) == expected


def test_device_cpu_hides_the_gpus(tmp_path, monkeypatch):
    import tensorflow as tf

    from common import runtime

    hidden = []
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: ["fake GPU"] if kind == "GPU" else [])
    monkeypatch.setattr(tf.config, "set_visible_devices", lambda devices, kind=None: hidden.append((devices, kind)))
    monkeypatch.setattr(tf.config.experimental, "set_memory_growth", lambda *a: pytest.fail("a hidden GPU was configured"))
    args = flags.parse(parser(), ["--log-dir", str(tmp_path), "--device", "cpu"])
    strategy = runtime.setup(args)
    assert hidden == [([], "GPU")] and strategy.num_replicas_in_sync == 1
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["device"] == "CPU" and config["precision"] == "float32"
