"""Grade the week-1 Iris ANN homework on a held-out split that the grader, not the student, controls.

요약: 학생의 iris_ann.py를 모듈로 불러와, 채점기가 직접 나눈 데이터(자체 시드, 계층별 분할)로
학생의 build_model()과 train_model()을 실행하고, 학생이 보지 못한 꽃으로 정확도를 잽니다.
은닉층이 있는 신경망인지, 각 TODO가 제대로 동작하는지도 확인해 점수표를 출력합니다.

Run:    python scripts/grade_homework.py week1/homework/iris_ann.py
        python scripts/grade_homework.py week1/homework/iris_ann.py --seed 7 --epochs 50
Pass:   every check below passes, exit status 0 (otherwise 1):
        TODO 1 load_and_split returns a stratified split with features standardised by the training statistics;
        TODO 2 build_model returns a keras.Model with 4 inputs and 3 outputs;
        hidden layer: a Dense layer with a nonlinearity (relu, tanh, ...) before the output layer;
        TODO 3 train_model changes the weights; TODO 4 evaluate_model agrees with the grader's own count;
        held-out accuracy >= 0.90 on 45 flowers (15 per species) the student's code never trained on.
Expect: about 10 s on a 2-core CPU (TensorFlow import plus the student's training).
        A TODO that is still empty stops the grading with a message naming the first one.
"""

import argparse
import contextlib
import importlib.util
import io
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # lets `import common` work from any folder

import numpy as np

from common import data

TARGET_ACCURACY = 0.90
GRADER_SEED = 2025  # the grader's own split and weight seed, unrelated to the student's --seed
HELD_OUT_FRACTION = 0.3  # 45 of the 150 flowers, 15 per species
MAX_EPOCHS = 200  # keeps grading within seconds; a student default above this is capped
NUM_FEATURES, NUM_CLASSES = 4, 3
REQUIRED = {  # the interface documented at the top of the template
    "parse_args": "parse_args(argv)",
    "import_tensorflow": "import_tensorflow()",
    "load_and_split": "load_and_split(args)",
    "build_model": "build_model(num_features, num_classes, args)",
    "train_model": "train_model(model, x_train, y_train, args, callbacks=())",
    "evaluate_model": "evaluate_model(model, x_test, y_test)",
}
TODOS = {"load_and_split": 1, "build_model": 2, "train_model": 3, "evaluate_model": 4}


class Stop(Exception):
    """Grading cannot go on (an empty TODO, a crash, a missing function); the message says why."""

    def __init__(self, message, todo=False):
        super().__init__(message)
        self.todo = todo  # True: a TODO is still empty, not a bug


class Report:
    """Collects the checks and prints each as it is made."""

    def __init__(self):
        self.results = []

    def check(self, name, ok, detail):
        self.results.append(bool(ok))
        print(f"  [{'PASS' if ok else 'FAIL'}] {name}: {detail}", flush=True)
        return ok


def stratified_split(labels, fraction, seed):
    """Indices (train, held_out): `fraction` of each class held out, chosen with the grader's seed."""
    rng = np.random.default_rng(seed)
    held = np.concatenate([
        rng.permutation(np.flatnonzero(labels == k))[:round(np.sum(labels == k) * fraction)]
        for k in np.unique(labels)
    ])
    train = np.setdiff1d(np.arange(len(labels)), held)
    return rng.permutation(train), np.sort(held)


def grader_data(seed):
    """The grader's split, standardised with its own training statistics like the template asks."""
    features, labels, _ = data.load_iris()
    train, held = stratified_split(labels, HELD_OUT_FRACTION, seed)
    mean, std = features[train].mean(axis=0), features[train].std(axis=0)
    x_train, x_held = (features[train] - mean) / std, (features[held] - mean) / std
    return (x_train.astype("float32"), labels[train]), (x_held.astype("float32"), labels[held])


def load_student(path):
    spec = importlib.util.spec_from_file_location(f"student_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            spec.loader.exec_module(module)
    except Exception as e:
        traceback.print_exc()
        raise Stop(f"could not import {path}: {type(e).__name__}: {e}") from None
    missing = [signature for name, signature in REQUIRED.items() if not callable(getattr(module, name, None))]
    if missing:
        raise Stop(f"{path.name} lacks {', '.join(missing)}; the grader calls these (see the top of the template)")
    return module


def call(module, name, *args):
    """Calls the student's function with its prints hidden; an empty TODO or a crash becomes Stop."""
    number = TODOS.get(name)
    label = f"TODO {number} ({name})" if number else name
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return getattr(module, name)(*args)
    except NotImplementedError as e:  # what the template's todo() raises
        message = str(e) if str(e).startswith("TODO") else f"{label} is not done yet ({e or 'NotImplementedError'})"
        raise Stop(message, todo=True) from None
    except Exception as e:
        traceback.print_exc()
        raise Stop(f"{label} raised {type(e).__name__}: {e}") from None


# --- The checks ---------------------------------------------------------------------

def check_split(report, result):
    """TODO 1: a stratified split of all 150 flowers, standardised with the training statistics."""
    name = "TODO 1 load_and_split"
    try:
        (x_train, y_train), (x_test, y_test), _ = result
        x_train, x_test = np.asarray(x_train, dtype="float64"), np.asarray(x_test, dtype="float64")
        y_train, y_test = np.asarray(y_train).astype(int), np.asarray(y_test).astype(int)
    except (TypeError, ValueError):
        return report.check(name, False, "should return (x_train, y_train), (x_test, y_test), class_names")
    if x_train.ndim != 2 or x_test.ndim != 2 or x_train.shape[1:] != (4,) or x_test.shape[1:] != (4,):
        return report.check(name, False, f"features should be (N, 4); got {x_train.shape} and {x_test.shape}")
    if len(x_train) != len(y_train) or len(x_test) != len(y_test) or len(x_train) + len(x_test) != 150:
        return report.check(
            name, False, f"expected all 150 flowers split into train and test; got {len(x_train)} + {len(x_test)} "
            f"features and {len(y_train)} + {len(y_test)} labels",
        )
    problems = []
    per_class = np.bincount(y_test, minlength=NUM_CLASSES).tolist()
    if not 0.1 <= len(x_test) / 150 <= 0.5:
        problems.append(f"test part holds {len(x_test)} flowers; keep 10-50% for the test")
    elif max(abs(c - len(x_test) / NUM_CLASSES) for c in per_class) > 1:
        problems.append(f"not stratified: test per species {per_class}")
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    if np.abs(mean).max() > 0.01 or np.abs(std - 1).max() > 0.02:
        problems.append(
            f"train features not standardised: mean {np.round(mean, 2).tolist()}, std {np.round(std, 2).tolist()}"
        )
    # With one (x - mean) / std for both parts, train + test together are an exact per-feature
    # rescaling of the raw measurements; scaling the test part by its own statistics breaks that.
    raw, _, _ = data.load_iris()
    both = np.sort(np.concatenate([x_train, x_test]), axis=0)
    for j in range(NUM_FEATURES):
        slope, intercept = np.polyfit(np.sort(raw[:, j]), both[:, j], 1)
        residual = np.abs(both[:, j] - (slope * np.sort(raw[:, j]) + intercept)).max()
        if slope <= 0 or residual > 1e-3:
            problems.append("the test part is not scaled with the training mean and std (or flowers were changed)")
            break
    if problems:
        return report.check(name, False, "; ".join(problems))
    return report.check(
        name, True, f"{len(x_train)} train / {len(x_test)} test, test per species {per_class}; "
        f"train features mean {abs(mean).max():.2f} std {std.mean():.2f}; test scaled with the training statistics",
    )


def flat_layers(model):
    """The model's layers in order, looking inside nested models (a Sequential inside a Sequential)."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from flat_layers(layer)
        else:
            yield layer


def activation_name(layer):
    return getattr(getattr(layer, "activation", None), "__name__", "linear")


def describe(layers_):
    from keras import layers

    parts = [f"{NUM_FEATURES} inputs"]
    for layer in layers_:
        if isinstance(layer, layers.Dense):
            parts.append(f"Dense {layer.units} ({activation_name(layer)})")
        elif not isinstance(layer, layers.InputLayer):
            parts.append(type(layer).__name__)
    return " -> ".join(parts)


def check_network(report, model, x):
    """TODO 2 and the hidden layer: a keras.Model, 4 in, 3 out, a nonlinear hidden layer before the output."""
    import keras
    from keras import layers

    if not isinstance(model, keras.Model):
        report.check("TODO 2 build_model", False, f"should return a keras.Model, got {type(model).__name__}")
        raise Stop("build_model did not return a keras.Model, so there is nothing to train")
    try:
        out_shape = tuple(np.shape(model(x[:2], training=False)))  # a direct call: no predict function to trace
    except Exception as e:
        traceback.print_exc()
        report.check("TODO 2 build_model", False, f"the model cannot take (N, {NUM_FEATURES}) features: {e}")
        raise Stop("the model from build_model cannot take the Iris features") from None
    flat = list(flat_layers(model))
    shape_ok = out_shape == (2, NUM_CLASSES)
    report.check(
        "TODO 2 build_model",
        shape_ok, f"{describe(flat)}, {model.count_params()} parameters"
        + ("" if shape_ok else f"; output shape {out_shape}, expected (N, {NUM_CLASSES}): one output per species"),
    )

    dense = [i for i, layer in enumerate(flat) if isinstance(layer, layers.Dense)]
    activation_layers = (layers.Activation, layers.ReLU, layers.LeakyReLU, layers.PReLU, layers.ELU, layers.Softmax)
    nonlinear = []
    if len(dense) >= 2:
        for layer in flat[dense[0]:dense[-1]]:  # everything from the first Dense up to the output layer
            if isinstance(layer, (layers.Dense, layers.Activation)):
                name = activation_name(layer)
            elif isinstance(layer, activation_layers):
                name = type(layer).__name__  # ReLU, LeakyReLU, ...
            else:
                continue
            if name != "linear":
                nonlinear.append(name)
    if len(dense) < 2:
        report.check(
            "hidden layer", False, f"{len(dense)} Dense layer(s): the inputs go straight to the output "
            "(that is softmax regression, not a neural network); add a hidden Dense layer with activation='relu'",
        )
    elif not nonlinear:
        report.check(
            "hidden layer", False, f"{len(dense) - 1} hidden Dense layer(s) but no nonlinearity: linear layers "
            "stack into one linear map; give the hidden layer activation='relu'",
        )
    else:
        report.check(
            "hidden layer", True,
            f"{len(dense) - 1} hidden Dense layer(s) with a nonlinearity ({', '.join(nonlinear)}) "
            "before the output layer",
        )


def grade(report, module, args, train, held):
    (x_train, y_train), (x_held, y_held) = train, held
    check_split(report, call(module, "load_and_split", args))

    call(module, "import_tensorflow")
    import keras

    keras.utils.set_random_seed(args.seed)
    model = call(module, "build_model", NUM_FEATURES, NUM_CLASSES, args)
    check_network(report, model, x_train)

    before = [w.copy() for w in model.get_weights()]
    start = time.perf_counter()
    history = call(module, "train_model", model, x_train, y_train, args)
    seconds = time.perf_counter() - start
    changed = any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    losses = getattr(history, "history", {}).get("loss", [])
    detail = f"{seconds:.1f} s with --epochs {args.epochs}; "
    if changed:
        detail += "weights changed" + (f", training loss {losses[0]:.3f} -> {losses[-1]:.3f}" if losses else "")
    else:
        detail += "the weights did not change: does it call model.fit(...) on this model?"
    report.check("TODO 3 train_model", changed, detail)

    # The grader counts the correct answers itself before the student's evaluate_model runs.
    y_pred = np.asarray(model.predict(x_held, verbose=0)).argmax(axis=1)
    correct = int(np.sum(y_pred == y_held))
    accuracy = correct / len(y_held)
    returned = call(module, "evaluate_model", model, x_held, y_held)
    try:
        agrees = abs(float(returned) - accuracy) < 1e-3
        shown = f"{float(returned):.4f}"
    except (TypeError, ValueError):
        agrees, shown = False, f"{type(returned).__name__} (should be one float between 0 and 1)"
    report.check("TODO 4 evaluate_model", agrees, f"returned {shown}, the grader counted {accuracy:.4f}")

    report.check(
        "held-out accuracy", accuracy >= TARGET_ACCURACY,
        f"{accuracy:.4f} ({correct} of {len(y_held)} flowers) {'>=' if accuracy >= TARGET_ACCURACY else '<'} "
        f"{TARGET_ACCURACY:.2f}",
    )


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's C++ info lines in the report
    parser = argparse.ArgumentParser(
        prog="python scripts/grade_homework.py", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("homework", type=Path, help="the student's file, e.g. week1/homework/iris_ann.py")
    parser.add_argument(
        "--seed", type=int, default=GRADER_SEED, help="the grader's split and weight seed (default: %(default)s)"
    )
    parser.add_argument(
        "--epochs", type=int, default=None,
        help=f"override the student's --epochs default (default: theirs, at most {MAX_EPOCHS})",
    )
    args = parser.parse_args(argv)
    if not args.homework.is_file():
        parser.error(f"{args.homework} is not a file")

    (x_train, y_train), (x_held, y_held) = grader_data(args.seed)
    print(
        f"Grading {args.homework} on the grader's own split (seed {args.seed}, stratified): "
        f"{len(x_train)} train / {len(x_held)} held-out flowers; target held-out accuracy >= {TARGET_ACCURACY:.2f}"
    )
    report = Report()
    with tempfile.TemporaryDirectory() as log_dir:
        try:
            module = load_student(args.homework.resolve())
            student_argv = ["--seed", str(args.seed), "--log-dir", log_dir]
            if args.epochs is not None:
                student_argv += ["--epochs", str(args.epochs)]
            student_args = call(module, "parse_args", student_argv)
            if student_args.epochs > MAX_EPOCHS:
                print(f"  note: the student's {student_args.epochs} epochs are capped at {MAX_EPOCHS} for grading")
                student_args.epochs = MAX_EPOCHS
            grade(report, module, student_args, (x_train, y_train), (x_held, y_held))
        except Stop as stop:
            print(f"  [{'TODO' if stop.todo else 'STOP'}] {stop}")
            why = "at the first TODO that is not done" if stop.todo else "because of the error above"
            print(f"Score: grading stopped {why} ({sum(report.results)} checks passed before it). FAIL")
            return 1
    passed = all(report.results)
    print(f"Score: {sum(report.results)}/{len(report.results)} checks passed. {'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
