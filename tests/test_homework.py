"""Week-1 Iris homework: the template stops at its first TODO, the solution runs and passes the grader,
and the grader fails broken or cheating student files with a message in the course's words."""

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import TF_START_UP_WORDS, load_script

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "week1/homework/iris_ann.py"
SOLUTION = REPO / "week1/homework/iris_ann_solution.py"
GRADER = REPO / "scripts/grade_homework.py"
FUNCTIONS = ("load_and_split", "build_model", "train_model", "evaluate_model")



def run(*command):
    """Runs a command the way a student types it, from the repository root."""
    return subprocess.run([sys.executable, *map(str, command)], cwd=REPO, capture_output=True, text=True, timeout=300)


def student_file(tmp_path, overrides=""):
    """A student's file: the solution's PARSER and functions, then `overrides` (new definitions replace them)."""
    path = tmp_path / "student.py"
    path.write_text(
        "import importlib.util\n\n"
        "import keras\n"
        "import numpy as np\n\n\n"
        "def _load(name, path):\n"
        "    spec = importlib.util.spec_from_file_location(name, path)\n"
        "    module = importlib.util.module_from_spec(spec)\n"
        "    spec.loader.exec_module(module)\n"
        "    return module\n\n\n"
        f"solution = _load('iris_solution_in_test', {str(SOLUTION)!r})\n"
        f"template = _load('iris_template_in_test', {str(TEMPLATE)!r})\n"
        + "".join(f"{name} = solution.{name}\n" for name in ("PARSER", *FUNCTIONS))
        + overrides
    )
    return path


@pytest.fixture(scope="module")
def grader():
    return load_script(GRADER)


def test_template_and_solution_offer_the_same_functions():
    template, solution = load_script(TEMPLATE), load_script(SOLUTION)
    for name in FUNCTIONS:
        assert inspect.signature(getattr(template, name)) == inspect.signature(getattr(solution, name)), name
    assert vars(template.PARSER.parse_args([])) | {"script": ""} == vars(solution.PARSER.parse_args([])) | {"script": ""}
    for module in (template, solution):
        assert not hasattr(module, "import_tensorflow") and not hasattr(module, "parse_args")


def test_unfilled_template_stops_at_todo_1_and_the_grader_hides_tensorflow_start_up_lines(tmp_path):
    result = run(TEMPLATE, "--log-dir", tmp_path / "run")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("TODO 1 (load_and_split) is not done yet:")
    assert not (tmp_path / "run").exists()  # stopped before the run folder was made

    result = run(GRADER, TEMPLATE)  # from a shell: the worker process imports TensorFlow, the grader filters it
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert "[TODO] TODO 1 (load_and_split) is not done yet:" in result.stdout
    assert result.stdout.strip().splitlines()[-1].endswith("FAIL")
    assert not any(word in output for word in TF_START_UP_WORDS), output


def test_tensorflow_log_lines_are_recognised(grader):
    noise = [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1795855224.753756    6310 port.cc:153] oneDNN custom operations are on.",
        "I0000 00:00:1795855224.754072    6310 cudart_stub.cc:31] Could not find cuda drivers on your machine.",
        "E0000 00:00:1795855364.016651    9581 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error",
        "W0000 00:00:1795855364.849802    9628 op_kernel.cc:1858] OP_REQUIRES failed at sparse_xent_op.cc:103",
        "\t [[{{function_node __inference_one_step_on_data_1347}}{{node compile_loss/sparse_categorical_crossentropy}}]]",
        "2024-05-01 10:00:00.123456: I tensorflow/core/util/port.cc:113] oneDNN custom operations are on.",
        "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the "
        "appropriate compiler flags.",
    ]
    kept = [
        "  [PASS] TODO 1 load_and_split: 90 train / 30 validation / 30 test",
        "Score: 7/7 checks passed. PASS",
        "ValueError: Input 0 of layer dense is incompatible with the layer",
        "WARNING:tensorflow:5 out of the last 9 calls triggered tf.function retracing.",
    ]
    assert all(grader.TF_LOG_LINE.match(line) for line in noise)
    assert not any(grader.TF_LOG_LINE.match(line) for line in kept)


def test_grader_passes_the_solution(grader, capsys):
    assert grader.main([str(SOLUTION)]) == 0  # through the worker process, as from a shell
    out = capsys.readouterr().out
    for check in ("TODO 1 load_and_split", "TODO 2 build_model", "hidden layer", "TODO 3 train_model",
                  "training data", "TODO 4 evaluate_model", "held-out accuracy"):
        assert f"[PASS] {check}" in out, out
    assert "90 train / 30 validation / 30 test" in out
    assert "model.fit trained on 90 training flowers and watched 15 validation flowers" in out
    accuracy = float(out.split("[PASS] held-out accuracy: ")[1].split()[0])
    assert accuracy >= grader.TARGET_ACCURACY
    assert "checks passed. PASS" in out
    assert not any(word in out for word in TF_START_UP_WORDS), out


def test_grader_names_the_first_empty_todo(grader, tmp_path, capsys):
    # TODO 1 filled in (the solution's), TODO 2 still the template's empty block.
    path = student_file(tmp_path, "build_model = template.build_model\n")
    assert grader.grade_file(path) == 1
    out = capsys.readouterr().out
    assert "[PASS] TODO 1 load_and_split" in out
    assert "[TODO] TODO 2 (build_model) is not done yet:" in out
    assert "Traceback" not in out


def model_with_outputs(units):
    return (
        "def build_model(num_features=4, num_classes=3, hidden_units=16):\n"
        "    return keras.Sequential([keras.Input((num_features,)), keras.layers.Dense(16, activation='relu'),\n"
        f"                             keras.layers.Dense({units}, activation='softmax')])\n"
    )


def train_with(labels="y_train", loss="sparse_categorical_crossentropy", data="x_train", validation=True):
    return (
        "def train_model(model, x_train, y_train, x_val, y_val, epochs=20, batch_size=8, learning_rate=0.02,\n"
        "                callbacks=()):\n"
        f"    model.compile(keras.optimizers.Adam(learning_rate), loss={loss!r}, metrics=['accuracy'])\n"
        f"    validation = {'(x_val, y_val)' if validation else 'None'}\n"
        f"    return model.fit({data}, {labels}, validation_data=validation, epochs=epochs, batch_size=batch_size,\n"
        "                     verbose=0)\n"
    )


ALL_150 = (
    "def all_flowers():\n"  # what a student who trains on everything does: the whole file, standardised
    "    x, y, _ = solution.data.load_iris()\n"
    "    return (x - x.mean(axis=0)) / x.std(axis=0), y\n\n\n"
)

BROKEN = {
    # No hidden layer: softmax regression may score well on Iris, but it is not the homework.
    "no_hidden_layer": (
        "def build_model(num_features=4, num_classes=3, hidden_units=16):\n"
        "    return keras.Sequential([\n"
        "        keras.Input((num_features,)), keras.layers.Dense(num_classes, activation='softmax')])\n",
        None, ["[FAIL] hidden layer: 1 Dense layer(s)"],
    ),
    # Two Dense layers with no activation between them are one linear map.
    "linear_hidden_layer": (
        "def build_model(num_features=4, num_classes=3, hidden_units=16):\n"
        "    return keras.Sequential([\n"
        "        keras.Input((num_features,)), keras.layers.Dense(16), keras.layers.Dense(num_classes)])\n",
        None, ["but no nonlinearity"],
    ),
    # A model that never trains, and an evaluate_model that claims a perfect score.
    "no_training": (
        "def train_model(model, x_train, y_train, x_val, y_val, epochs=20, batch_size=8, learning_rate=0.02,\n"
        "                callbacks=()):\n"
        "    return None\n\n\n"
        "def evaluate_model(model, x_test, y_test):\n"
        "    return 1.0\n",
        None, ["[FAIL] TODO 3 train_model", "[FAIL] training data: train_model never called model.fit",
               "[FAIL] TODO 4 evaluate_model: returned 1.0000 alone", "[FAIL] held-out accuracy"],
    ),
    # One-hot labels with the sparse loss, and integer labels with the categorical one: plain words, no traceback.
    "one_hot_labels_sparse_loss": (
        train_with(labels="keras.utils.to_categorical(y_train, 3)"), None,
        ["[STOP] TODO 3 (train_model): labels are one-hot (y_train has shape (90, 3)) but the loss expects integers "
         "(sparse_categorical_crossentropy):", 'use loss="categorical_crossentropy"'],
    ),
    "integer_labels_categorical_loss": (
        train_with(loss="categorical_crossentropy"), None,
        ["[STOP] TODO 3 (train_model): labels are integers 0, 1, 2 (y_train has shape (90,)) but the loss expects "
         "one-hot vectors (categorical_crossentropy):", "keras.utils.to_categorical(y_train, num_classes)"],
    ),
    "wrong_number_of_outputs": (
        model_with_outputs(2), None,
        ["[FAIL] TODO 2 build_model: 4 inputs -> Dense 16 (relu) -> Dense 2 (softmax): the model outputs 2 numbers "
         "per flower, but there are 3 species", "[STOP] the model must give one probability per species"],
    ),
    # A crash names the function, the error and the student's line.
    "crashing_function": (
        "def train_model(model, x_train, y_train, x_val, y_val, epochs=20, batch_size=8, learning_rate=0.02,\n"
        "                callbacks=()):\n"
        "    x_train = x_train.reshape(-1, 7)\n"
        "    return model.fit(x_train, y_train)\n",
        None, ["[STOP] TODO 3 (train_model) crashed with ValueError: cannot reshape array",
               "at student.py line ", "x_train = x_train.reshape(-1, 7)"],
    ),
    # Trained on labels that are all 0: it predicts setosa for every flower, a third of the held-out set.
    "under_the_accuracy_bar": (
        train_with(labels="np.zeros_like(y_train)"), 5,
        ["[PASS] TODO 3 train_model", "[FAIL] held-out accuracy: 0.3333 (15 of 45 flowers) < 0.90"],
    ),
    # Trains on all 150 flowers, the grader's held-out ones among them.
    "trains_on_all_150_flowers": (
        ALL_150 + train_with(data="all_flowers()[0]", labels="all_flowers()[1]"), 2,
        ["[FAIL] training data: model.fit trained on 150 flowers, but train_model was given 90: train only on x_train"],
    ),
    "no_validation_set": (
        train_with(validation=False), 2,
        ["[FAIL] training data: model.fit got no validation_data: pass validation_data=(x_val, y_val)"],
    ),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_grader_fails_broken_students(case, grader, tmp_path, capsys):
    overrides, epochs, expected = BROKEN[case]
    assert grader.grade_file(student_file(tmp_path, overrides), epochs=epochs) == 1
    out = capsys.readouterr().out
    for text in expected:
        assert text in out, out
    assert "Traceback" not in out
    assert out.strip().splitlines()[-1].endswith("FAIL")


def test_label_problem_names_the_mismatch(grader):
    import keras

    sparse, categorical = keras.losses.SparseCategoricalCrossentropy(), keras.losses.CategoricalCrossentropy()
    assert "labels are one-hot" in grader.label_problem(sparse, (90, 3), 3)
    assert "labels are one-hot" in grader.label_problem(keras.losses.sparse_categorical_crossentropy, (90, 3), 3)
    assert "labels are integers" in grader.label_problem(categorical, (90,), 3)
    assert "labels are integers" in grader.label_problem("categorical_crossentropy", (15, 1), 3, "y_val")
    assert "binary_crossentropy is for two classes" in grader.label_problem("binary_crossentropy", (90,), 3)
    assert "outputs 4 numbers" in grader.label_problem("categorical_crossentropy", (90, 3), 4)
    for loss, shape in ((sparse, (90,)), ("sparse_categorical_crossentropy", (90, 1)), (categorical, (90, 3))):
        assert grader.label_problem(loss, shape, 3) is None


def test_solution_default_run(tmp_path):
    from common import flags, tb

    solution = load_script(SOLUTION)
    assert flags.parse(solution.PARSER, ["--smoke", "--log-dir", str(tmp_path / "smoke")]).epochs == 3
    run_dir = tmp_path / "run"
    metrics = solution.main(["--log-dir", str(run_dir)])  # the default run: seconds on Iris

    config = json.loads((run_dir / "config.json").read_text())
    assert config["epochs"] == 20 and config["seed"] == 42 and "device" in config
    assert json.loads((run_dir / "metrics.json").read_text()) == metrics
    # Seed 42 on a 2-core CPU: test 0.9667 (29 of 30), validation 0.90 (27 of 30); the floors leave room.
    assert metrics["test_accuracy"] >= 0.9 and metrics["val_accuracy"] >= 0.8, metrics
    assert metrics["train_seconds"] > 0
    scalars = tb.read_scalars(run_dir)
    for tag in ("train/epoch_loss", "train/epoch_accuracy", "validation/epoch_loss", "validation/epoch_accuracy"):
        assert len(scalars.get(tag, [])) == 20, sorted(scalars)
    assert scalars["train/epoch_loss"][-1][1] < scalars["train/epoch_loss"][0][1] / 3
    assert (run_dir / "iris_results.png").stat().st_size > 0


def test_split_check_catches_leaks_and_unstratified_splits(grader, capsys):
    import numpy as np

    from common import data

    raw, labels, names = data.load_iris()
    i = np.arange(150)
    stratified_test = np.isin(i, np.r_[0:10, 50:60, 100:110])  # 10 flowers of each species
    stratified_val = np.isin(i, np.r_[10:20, 60:70, 110:120])

    def split(test=stratified_test, val=stratified_val, test_stats=False, scale=True):
        """Splits by the boolean masks; scales with the training statistics unless told otherwise."""
        train = ~test & ~val
        mean, std = (raw[train].mean(axis=0), raw[train].std(axis=0)) if scale else (0, 1)
        test_mean, test_std = (raw[test].mean(axis=0), raw[test].std(axis=0)) if test_stats else (mean, std)
        return (
            ((raw[train] - mean) / std, labels[train]), ((raw[val] - mean) / std, labels[val]),
            ((raw[test] - test_mean) / test_std, labels[test]), names,
        )

    cases = {
        "ok": (split(), "[PASS]"),
        "leak": (split(test_stats=True), "not scaled with the training mean and std"),
        "unstratified": (split(test=i < 30, val=(i >= 30) & (i < 60)), "test set not stratified: per species [30, 0, 0]"),
        "unscaled": (split(scale=False), "train features not standardised"),
        "bad_return": (split()[1:], "should return (x_train, y_train), (x_val, y_val), (x_test, y_test), class_names"),
        "no_validation": (split(val=np.zeros(150, bool)), "the validation set holds 0 flowers"),
    }
    for case, (result, expected) in cases.items():
        ok = grader.check_split(grader.Report(), result)
        out = capsys.readouterr().out
        assert ok == (case == "ok") and expected in out, (case, out)



def test_template_main_runs_once_filled(tmp_path, monkeypatch):
    template, solution = load_script(TEMPLATE), load_script(SOLUTION)
    for name in FUNCTIONS:  # what a student's finished TODO blocks do
        monkeypatch.setattr(template, name, getattr(solution, name))
    metrics = template.main(["--smoke", "--log-dir", str(tmp_path / "run")])
    assert metrics["epochs"] == 3 and set(metrics) == {"test_accuracy", "val_accuracy", "train_seconds", "epochs"}
    assert metrics["test_accuracy"] >= 0.8, metrics  # 3 epochs at seed 42 measured 0.90 (27 of 30)
    assert (tmp_path / "run" / "iris_results.png").stat().st_size > 0


def test_list_shows_every_homework_with_its_command(grader, capsys):
    assert grader.main(["--list"]) == 0
    out = capsys.readouterr().out
    for week, template in ((1, "week1/homework/iris_ann.py"), (2, "week2/homework/cifar_cnn.py"),
                           (3, "week3/homework/sampling.py")):
        assert (REPO / template).is_file() and (REPO / template.replace(".py", "_solution.py")).is_file()
        assert f"week {week}  " in out and f"python scripts/grade_homework.py {template}" in out, out


def test_the_grader_picks_the_homework_by_file_name_then_by_functions(grader, tmp_path, capsys):
    for name, week in (("iris_ann_v2.py", 1), ("cifar_cnn_mine.py", 2), ("sampling_done.py", 3)):
        (tmp_path / name).write_text("")
        assert grader.pick(tmp_path / name).week == week, name
    renamed = tmp_path / "homework3.py"  # another name: recognised by the functions it defines
    renamed.write_text("def apply_temperature(logits, temperature): ...\ndef top_k_filter(logits, k): ...\n")
    assert grader.pick(renamed).week == 3
    unknown = tmp_path / "notes.py"
    unknown.write_text("x = 1\n")
    assert grader.pick(unknown) is None
    with pytest.raises(SystemExit) as stop:
        grader.main([str(unknown)])
    assert stop.value.code == 2 and "cannot tell which homework notes.py is" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        grader.main([str(tmp_path / "sampling_done.py"), "--data-dir", str(tmp_path)])
    assert "--data-dir does not apply to week 3's homework" in capsys.readouterr().err
