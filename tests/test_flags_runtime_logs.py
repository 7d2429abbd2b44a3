"""Flags, device selection and the logging helpers."""

import json
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


def test_help_is_fast_and_lists_flags():
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(REPO / "week1/mnist_softmax_regression.py"), "--help"],
        capture_output=True, text=True, timeout=30, cwd="/",  # from outside the repository, too
    )
    seconds = time.perf_counter() - start
    assert result.returncode == 0
    for flag in ("--epochs", "--batch-size", "--learning-rate", "--seed", "--data-dir", "--log-dir", "--device", "--smoke"):
        assert flag in result.stdout
    assert seconds < 2.0, f"--help took {seconds:.2f}s"


def test_unknown_flag_and_bad_values_exit_2(tmp_path, capsys):
    for argv in (["--no-such-flag"], ["--epochs", "0"], ["--learning-rate", "-1"], ["--device", "tpu"]):
        with pytest.raises(SystemExit) as info:
            flags.parse(parser(), argv + ["--log-dir", str(tmp_path)])
        assert info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_parse_writes_config_and_default_run_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(flags, "RUNS_DIR", tmp_path / "runs")
    args = flags.parse(parser(), ["--epochs", "5", "--smoke"])
    assert args.log_dir.parent == tmp_path / "runs" / "test_flags_runtime_logs"
    assert args.log_dir.name.endswith("-smoke")
    config = json.loads((args.log_dir / "config.json").read_text())
    assert config["epochs"] == 5 and config["batch_size"] == 8 and config["smoke"] is True
    again = flags.parse(parser(), ["--smoke"])
    assert again.log_dir != args.log_dir  # two runs in the same second get two folders


def test_config_holds_lists_of_paths(tmp_path):
    p = parser()
    p.add_argument("images", nargs="*", type=Path)
    flags.parse(p, ["a.png", "b.png", "--log-dir", str(tmp_path)])
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

    gpu_args = flags.parse(parser(), ["--log-dir", str(tmp_path), "--device", "gpu"])
    with pytest.raises(SystemExit, match="TensorFlow sees no GPU"):
        runtime.setup(gpu_args)


def test_image_grid_layout():
    from common import logs

    grid = logs.image_grid(np.zeros((5, 4, 3)), ncols=3, pad=1)
    assert grid.shape == (2 * 4 + 1, 3 * 3 + 2, 1)
    assert grid[4, 0, 0] == 1.0 and grid[0, 0, 0] == 0.0  # padding is white, images keep their pixels


def test_scalars_images_text_round_trip(tmp_path):
    import tensorflow as tf

    from common import logs

    with logs.writer(tmp_path, "train").as_default():
        for step, value in enumerate([3.0, 2.0, 1.0]):
            tf.summary.scalar("epoch_loss", value, step=step)
    logs.log_image(tmp_path, "test", "grid", np.ones((6, 6)))
    logs.log_text(tmp_path, "test", "notes", "hello")
    scalars = logs.read_scalars(tmp_path)
    assert scalars["train/epoch_loss"] == [(0, 3.0), (1, 2.0), (2, 1.0)]
    assert "test/grid" not in scalars  # images are not scalars


def test_korean_text_renders_in_figures(tmp_path):
    from common import logs

    plt = logs.pyplot()
    fig, ax = plt.subplots()
    ax.set_title("가중치 템플릿 -1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)" for boxes
        path = logs.save_figure(fig, tmp_path / "figure.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_write_metrics(tmp_path):
    from common import logs

    logs.write_metrics(tmp_path, test_accuracy=np.float32(0.5), train_seconds=1.25)
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"test_accuracy": 0.5, "train_seconds": 1.25}


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
