"""scripts/: download_data, run_all and benchmark, on tiny data with no network."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import load_script

REPO = Path(__file__).resolve().parents[1]


def load(name):
    return load_script(REPO / "scripts" / f"{name}.py")


def test_download_data_reports_cached_and_failed(offline_cache, tmp_path, monkeypatch, capsys):
    download_data = load("download_data")
    assert download_data.main(["--list"]) == 0
    assert "cached in" in capsys.readouterr().out
    assert download_data.main(["--only", "mnist", "--only", "iris"]) == 0
    assert "2 of 2 datasets ready" in capsys.readouterr().out
    assert download_data.main(["--only", "isbi_membranes", "--only", "style_images"]) == 0
    assert "2 of 2 datasets ready" in capsys.readouterr().out

    # An empty cache with no network: the failure is reported, and the exit status says so.
    from common import data

    def unreachable(remote, dest, progress=True):
        raise data.DataError(f"could not download {remote.filename}")

    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "empty"))
    monkeypatch.setattr(data, "download", unreachable)
    assert download_data.main(["--only", "mnist"]) == 1
    assert "FAILED  mnist" in capsys.readouterr().out


def test_download_data_knows_how_to_check_every_registered_dataset():
    from common import data

    assert set(load("download_data").LOADERS) == set(data.REGISTRY)


def test_run_all_finds_week_scripts_but_not_homework_templates():
    run_all = load("run_all")
    names = [p.relative_to(REPO).as_posix() for p in run_all.find_scripts()]
    assert "week1/mnist_softmax_regression.py" in names
    assert not any(n.startswith("week1/homework/") and not n.endswith("_solution.py") for n in names)


def test_run_all_smoke_table(offline_cache, capsys):
    run_all = load("run_all")
    assert run_all.main(["--smoke", "--only", "mnist_softmax_regression"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"week1/mnist_softmax_regression.py\s+pass", out), out
    assert "1 passed, 0 failed" in out


def test_benchmark_records_and_renders(offline_cache, tmp_path):
    benchmark = load("benchmark")
    data_dir = offline_cache / "mnist"
    record = benchmark.run(
        REPO / "week1/mnist_softmax_regression.py", ["--smoke", "--data-dir", str(data_dir)],
        results_dir=tmp_path / "results", log_root=tmp_path / "runs",
    )
    stored = json.loads((tmp_path / "results" / "week1_mnist_softmax_regression.json").read_text())
    assert stored == record
    assert stored["metrics"]["test_accuracy"] > 0.5 and stored["wall_seconds"] > 0
    assert stored["tensorflow"] and stored["device"]  # whatever this machine has: it is recorded
    assert stored["command"] == "python week1/mnist_softmax_regression.py --smoke"  # the command a user types
    assert stored["data_dir_given"] is True

    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{benchmark.BEGIN}\nstale\n{benchmark.END}\noutro\n")
    assert benchmark.render_readme(readme, tmp_path / "results")
    text = readme.read_text()
    assert "stale" not in text and "intro" in text and "outro" in text
    row = next(line for line in text.splitlines() if "mnist_softmax_regression" in line)
    assert f"test_accuracy {stored['metrics']['test_accuracy']:.4f}" in row


def test_benchmark_seeds_and_time_to_target(offline_cache, tmp_path):
    benchmark = load("benchmark")
    record = benchmark.run(
        REPO / "week1/mnist_cnn.py", ["--smoke"], name="race", results_dir=tmp_path / "results",
        log_root=tmp_path / "runs", seeds=1, baseline="keras_mnist_convnet", baseline_epochs=2, target=0.5,
    )
    race = record["time_to_target"]
    assert race["script_mean_test_accuracy"] == pytest.approx(record["metrics"]["test_accuracy"], abs=1e-5)
    base = race["baseline"]
    assert len(base["runs"]) == 1 and len(base["mean_test_accuracy_by_epoch"]) == 2
    epochs = base["epochs_to_target"]
    assert epochs is not None and base["mean_test_accuracy_by_epoch"][epochs - 1] >= 0.5  # the smoke data is easy
    assert all(acc < 0.5 for acc in base["mean_test_accuracy_by_epoch"][:epochs - 1])
    assert race["ratio"] == pytest.approx(race["script_train_seconds"] / base["train_seconds"], rel=1e-2)
    assert f"ratio {race['ratio']}" in benchmark.render_table([record])


def test_benchmark_summarises_seeds(monkeypatch, tmp_path):
    benchmark = load("benchmark")
    accuracy = {42: 0.990, 43: 0.994, 44: 0.992}

    def fake_run_once(script, args, log_dir):
        seed = int(args[args.index("--seed") + 1])
        config = {"device": "CPU", "precision": "float32", "tensorflow": "x"}
        return {"test_accuracy": accuracy[seed], "train_seconds": seed - 30.0, "epochs": 6}, config, 1.0 + seed

    monkeypatch.setattr(benchmark, "run_once", fake_run_once)
    record = benchmark.run(REPO / "week1/mnist_cnn.py", ["--data-dir", "here"], results_dir=tmp_path, log_root=tmp_path,
                           seeds=3)
    assert record["seeds"] == [42, 43, 44] and record["command"] == "python week1/mnist_cnn.py"
    assert record["metrics"] == {"test_accuracy": 0.992, "train_seconds": 13.0, "epochs": 6}  # mean; time: median
    assert record["spread"]["test_accuracy"]["min"] == 0.990 and record["spread"]["test_accuracy"]["max"] == 0.994
    assert record["wall_seconds"] == 44.0
    assert "test_accuracy 0.9920 (mean of 3 seeds, 0.9900–0.9940)" in benchmark.render_table([record])


def test_time_to_target_picks_the_fewest_epochs_whose_mean_reaches_it(monkeypatch):
    benchmark = load("benchmark")
    curves = {42: [[1, 0.980, 10.0], [2, 0.991, 20.0], [3, 0.992, 30.0]],
              43: [[1, 0.991, 11.0], [2, 0.988, 22.0], [3, 0.993, 33.0]]}

    def fake_runs(script, args, seeds, log_root, label):
        return [{"seed": s, "metrics": {"accuracy_by_epoch": curves[s]}} for s in seeds]

    monkeypatch.setattr(benchmark, "run_seeds", fake_runs)
    record = {}
    runs = [{"metrics": {"test_accuracy": 0.990, "train_seconds": 8.0}},
            {"metrics": {"test_accuracy": 0.992, "train_seconds": 12.0}}]
    benchmark.time_to_target(record, runs, "keras_mnist_convnet", 3, 0.990, [], [42, 43], None, "x")
    race = record["time_to_target"]
    # epoch 1: mean 0.9855; epoch 2: mean 0.9895 (still short); epoch 3: 0.9925 -> 3 epochs, median of 30 and 33 s
    assert race["baseline"]["epochs_to_target"] == 3 and race["baseline"]["train_seconds"] == 31.5
    assert race["script_train_seconds"] == 10.0 and race["ratio"] == round(10.0 / 31.5, 3)


def test_readme_table_matches_results():
    """The committed README table is exactly what results/ renders (no hand-edited numbers)."""
    benchmark = load("benchmark")
    text = (REPO / "README.md").read_text(encoding="utf-8")
    table = text.split(benchmark.BEGIN, 1)[1].split(benchmark.END, 1)[0].strip()
    assert table == benchmark.render_table(benchmark.load_results()).strip()


@pytest.mark.parametrize("path", sorted((REPO / "results").glob("*.json")), ids=lambda p: p.name)
def test_results_records_are_complete(path):
    record = json.loads(path.read_text())
    for key in ("script", "command", "metrics", "wall_seconds", "device", "tensorflow", "machine"):
        assert record.get(key) is not None, f"{path.name} lacks {key}"
    assert (REPO / record["script"]).exists()
    python, script, *flags_given = record["command"].split()
    assert python == "python" and script == record["script"]
    parser = load_script(REPO / record["script"]).PARSER  # the command must still parse with today's flags
    parser.parse_args(flags_given)


def test_tensorboard_dry_run_picks_a_free_loopback_port(capsys, monkeypatch):
    import socket

    tensorboard = load("start_tensorboard")
    monkeypatch.setenv("SSH_CONNECTION", "10.1.2.3 50000 192.0.2.10 22")
    port = tensorboard.main(["--dry-run"])
    out = capsys.readouterr().out
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # really free
    assert f"ssh -N -L {port}:localhost:{port} " in out and "@192.0.2.10" in out
    assert f"http://localhost:{port}" in out and f"Source port {port}" in out


def test_tensorboard_binds_to_loopback_only(monkeypatch, tmp_path, capsys):
    import socket

    tensorboard = load("start_tensorboard")
    commands = []
    monkeypatch.setattr(tensorboard.subprocess, "call", lambda command: commands.append(command) or 0)
    tensorboard.main(["--logdir", str(tmp_path)])
    command = commands[0]
    assert command[command.index("--host") + 1] == "127.0.0.1" and "0.0.0.0" not in command
    with socket.socket() as busy:  # a port someone else holds is refused with one line
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        with pytest.raises(SystemExit, match=f"port {taken} is in use"):
            tensorboard.main(["--port", str(taken), "--dry-run"])


def test_test_accuracy_by_epoch_counts_training_time_only(monkeypatch):
    """The time-to-accuracy curve: each epoch's training seconds add up; the test evaluation's time does not count."""
    baselines = load("baselines")

    class FakeTime:
        now = 0.0

        def perf_counter(self):
            return self.now

    fake = FakeTime()

    class FakeModel:
        accuracies = iter([0.97, 0.985])

        def evaluate(self, x, y, batch_size, verbose):
            fake.now += 100.0  # evaluating the test set takes long, and must not be counted
            return [0.1, next(self.accuracies)]

    monkeypatch.setattr(baselines, "time", fake)
    callback = baselines.TestAccuracyByEpoch(np.zeros((2, 28, 28, 1)), np.zeros(2))
    callback.set_model(FakeModel())
    for epoch, seconds in enumerate((12.5, 7.25)):
        callback.on_epoch_begin(epoch)
        fake.now += seconds
        callback.on_epoch_end(epoch)
    assert callback.curve == [[1, 0.97, 12.5], [2, 0.985, 19.75]]
    assert callback.train_seconds == pytest.approx(19.75)
