"""Week-1 Iris homework: the template stops at its first TODO, the solution runs and passes the grader,
and the grader fails broken or cheating student files."""

import importlib.util
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "week1/homework/iris_ann.py"
SOLUTION = REPO / "week1/homework/iris_ann_solution.py"
GRADER = REPO / "scripts/grade_homework.py"
INTERFACE = ("parse_args", "import_tensorflow", "load_and_split", "build_model", "train_model", "evaluate_model")


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(*command):
    """Runs a command the way a student types it, from the repository root."""
    return subprocess.run([sys.executable, *map(str, command)], cwd=REPO, capture_output=True, text=True, timeout=120)


def student_file(tmp_path, overrides=""):
    """A student's file: the solution's functions, then `overrides` (new definitions replace them)."""
    path = tmp_path / "student.py"
    path.write_text(
        "import importlib.util\n\n\n"
        "def _load(name, path):\n"
        "    spec = importlib.util.spec_from_file_location(name, path)\n"
        "    module = importlib.util.module_from_spec(spec)\n"
        "    spec.loader.exec_module(module)\n"
        "    return module\n\n\n"
        f"solution = _load('iris_solution_in_test', {str(SOLUTION)!r})\n"
        f"template = _load('iris_template_in_test', {str(TEMPLATE)!r})\n"
        + "".join(f"{name} = solution.{name}\n" for name in INTERFACE)
        + overrides
    )
    return path


@pytest.fixture(scope="module")
def grader():
    return load(GRADER, "grade_homework_in_test")


def test_template_and_solution_offer_the_same_functions():
    template, solution = load(TEMPLATE, "iris_template_sig"), load(SOLUTION, "iris_solution_sig")
    for name in INTERFACE:
        assert inspect.signature(getattr(template, name)) == inspect.signature(getattr(solution, name)), name


def test_unfilled_template_stops_at_todo_1(tmp_path):
    result = run(TEMPLATE, "--log-dir", tmp_path / "run")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("TODO 1 (load_and_split) is not done yet:")

    result = run(GRADER, TEMPLATE)
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert "[TODO] TODO 1 (load_and_split) is not done yet:" in result.stdout
    assert result.stdout.strip().splitlines()[-1].endswith("FAIL")


def test_grader_names_the_first_empty_todo(grader, tmp_path, capsys):
    # TODO 1 filled in (the solution's), TODO 2 still the template's empty block.
    path = student_file(tmp_path, "build_model = template.build_model\n")
    assert grader.main([str(path)]) == 1
    out = capsys.readouterr().out
    assert "[PASS] TODO 1 load_and_split" in out
    assert "[TODO] TODO 2 (build_model) is not done yet:" in out
    assert "Traceback" not in out


def test_grader_passes_the_solution(grader, capsys):
    assert grader.main([str(SOLUTION)]) == 0
    out = capsys.readouterr().out
    for check in ("TODO 1 load_and_split", "TODO 2 build_model", "hidden layer", "TODO 3 train_model",
                  "TODO 4 evaluate_model", "held-out accuracy"):
        assert f"[PASS] {check}" in out, out
    accuracy = float(out.split("[PASS] held-out accuracy: ")[1].split()[0])
    assert accuracy >= grader.TARGET_ACCURACY
    assert "checks passed. PASS" in out


BROKEN = {
    # No hidden layer: softmax regression may score well on Iris, but it is not the homework.
    "no_hidden_layer": (
        "def build_model(num_features, num_classes, args):\n"
        "    import keras\n"
        "    return keras.Sequential([\n"
        "        keras.Input((num_features,)), keras.layers.Dense(num_classes, activation='softmax')])\n",
        "[FAIL] hidden layer: 1 Dense layer(s)",
    ),
    # Two Dense layers with no activation between them are one linear map.
    "linear_hidden_layer": (
        "def build_model(num_features, num_classes, args):\n"
        "    import keras\n"
        "    return keras.Sequential([\n"
        "        keras.Input((num_features,)), keras.layers.Dense(16), keras.layers.Dense(num_classes)])\n",
        "but no nonlinearity",
    ),
    # A model that never trains, and an evaluate_model that claims a perfect score.
    "no_training": (
        "def train_model(model, x_train, y_train, args, callbacks=()):\n"
        "    return None\n\n\n"
        "def evaluate_model(model, x_test, y_test):\n"
        "    return 1.0\n",
        "[FAIL] TODO 3 train_model",
    ),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_grader_fails_broken_students(case, grader, tmp_path, capsys):
    overrides, expected = BROKEN[case]
    assert grader.main([str(student_file(tmp_path, overrides))]) == 1
    out = capsys.readouterr().out
    assert expected in out, out
    assert "checks passed. FAIL" in out
    if case == "no_training":
        assert "[FAIL] TODO 4 evaluate_model: returned 1.0000" in out
        assert "[FAIL] held-out accuracy" in out


def test_solution_smoke_run(tmp_path):
    from common import logs

    solution = load(SOLUTION, "iris_solution_smoke")
    run_dir = tmp_path / "run"
    metrics = solution.main(["--smoke", "--log-dir", str(run_dir)])

    config = json.loads((run_dir / "config.json").read_text())
    assert config["smoke"] is True and "device" in config and config["epochs"] <= solution.SMOKE_EPOCHS
    assert json.loads((run_dir / "metrics.json").read_text()) == metrics
    assert 0 <= metrics["test_accuracy"] <= 1 and metrics["train_seconds"] >= 0
    scalars = logs.read_scalars(run_dir)
    assert "train/epoch_loss" in scalars and "train/epoch_accuracy" in scalars, sorted(scalars)
    assert (run_dir / "iris_results.png").stat().st_size > 0


def test_split_check_catches_leaks_and_unstratified_splits(grader, capsys):
    import numpy as np

    from common import data

    raw, labels, names = data.load_iris()

    def split(test, test_mean=None, test_std=None, scale=True):
        """Splits by the boolean mask `test`; scales with the training statistics unless told otherwise."""
        mean, std = raw[~test].mean(axis=0), raw[~test].std(axis=0)
        if not scale:
            mean, std = 0, 1
        x_test = (raw[test] - (mean if test_mean is None else test_mean)) / (std if test_std is None else test_std)
        return ((raw[~test] - mean) / std, labels[~test]), (x_test, labels[test]), names

    stratified = np.isin(np.arange(150), np.r_[0:10, 50:60, 100:110])  # 10 flowers of each species
    first_30 = np.arange(150) < 30  # all setosa
    cases = {
        "ok": (split(stratified), "[PASS]"),
        "leak": (split(stratified, raw[stratified].mean(axis=0), raw[stratified].std(axis=0)),
                 "not scaled with the training mean and std"),
        "unstratified": (split(first_30), "not stratified: test per species [30, 0, 0]"),
        "unscaled": (split(stratified, scale=False), "train features not standardised"),
        "bad_return": (split(stratified)[1:], "should return (x_train, y_train), (x_test, y_test), class_names"),
    }
    for case, (result, expected) in cases.items():
        ok = grader.check_split(grader.Report(), result)
        out = capsys.readouterr().out
        assert ok == (case == "ok") and expected in out, (case, out)
