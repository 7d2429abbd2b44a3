"""Grade the week-1 Iris ANN homework on a held-out split that the grader, not the student, controls.

요약: 학생의 iris_ann.py를 불러와, 채점기가 직접 나눈 데이터(자체 시드, 품종별 분할)로 학생의
build_model()과 train_model()을 실행하고, 학생의 코드가 한 번도 보지 못한 꽃으로 정확도를 잽니다.
학생의 코드는 별도 프로세스에서 돌리고, TensorFlow가 시작할 때 찍는 로그 줄은 점수표에서 걸러 냅니다.

Run:    python scripts/grade_homework.py week1/homework/iris_ann.py
        python scripts/grade_homework.py week1/homework/iris_ann.py --seed 7 --epochs 50
Pass:   every check below passes, exit status 0 (otherwise 1):
        TODO 1 load_and_split: a stratified train/validation/test split, standardised with the training statistics;
        TODO 2 build_model: a keras.Model with 4 inputs and 3 outputs;
        hidden layer: a Dense layer with a nonlinearity (relu, tanh, ...) before the output layer;
        TODO 3 train_model: the weights change;
        training data: model.fit trains only on the training flowers it is given and watches the validation set;
        TODO 4 evaluate_model: the accuracy and predictions agree with the grader's own count;
        held-out accuracy >= 0.90 on 45 flowers (15 per species) the student's code never trained on.
Expect: seconds on a 2-core CPU (TensorFlow's import plus the student's training).
        A TODO that is still empty stops the grading with a message naming the first one.
"""

import argparse
import collections
import contextlib
import importlib.util
import inspect
import io
import os
import re
import subprocess
import sys
import time
import traceback
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # 어느 폴더에서 실행해도 `import common`이 되도록

import numpy as np

from common import data

# 이 파일의 본체(main)는 TensorFlow를 불러오지 않습니다. 학생의 코드와 Keras는 --worker 프로세스에서 돌고,
# 그 출력에서 TensorFlow의 C++ 로그 줄만 걸러 냅니다 (어떤 환경 변수로도 모두 끌 수는 없습니다).
# The parent never imports TensorFlow; keras is imported inside the worker's functions below.

TARGET_ACCURACY = 0.90
GRADER_SEED = 2025  # 채점기 자체의 분할·가중치 시드: 학생의 --seed와 무관
HELD_OUT_FRACTION = 0.3  # 품종마다 15송이, 모두 45송이: 학생의 코드가 학습에 쓰지 못하는 꽃
VALIDATION_FRACTION = 0.1  # 품종마다 5송이, 모두 15송이: train_model에 검증 세트로 넘김. 학습 세트는 90송이
MAX_EPOCHS = 200  # 채점이 몇 초 안에 끝나도록: 학생의 기본값이 이보다 크면 줄임
NUM_FEATURES, NUM_CLASSES = 4, 3
REQUIRED = {  # 템플릿의 인터페이스 / the interface of the template
    "PARSER": "PARSER (the flags, with --epochs --batch-size --learning-rate --hidden-units)",
    "load_and_split": "load_and_split(seed)",
    "build_model": "build_model(num_features, num_classes, hidden_units)",
    "train_model": "train_model(model, x_train, y_train, x_val, y_val, epochs, batch_size, learning_rate, callbacks=())",
    "evaluate_model": "evaluate_model(model, x_test, y_test)",
}
TODOS = {"load_and_split": 1, "build_model": 2, "train_model": 3, "evaluate_model": 4}

# TensorFlow의 C++ 쪽이 stderr에 직접 찍는 줄 (absl 로그 형식, 예전 TF 형식, 그 이어지는 줄).
TF_LOG_LINE = re.compile(
    r"[IWEF]\d{4} \d\d:\d\d:[\d.]+\s+\d+ \S+:\d+\] "  # I0000 00:00:1795855224.753756    6310 port.cc:153] ...
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] \S+:\d+\] "  # 2024-01-01 12:00:00.000000: I tensorflow/...] ...
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags"
    r"|\s*\[\[\{\{function_node "  # the op a W0000 ... OP_REQUIRES line was running
)


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


# --- 채점기의 데이터 / The grader's own split ------------------------------------------

def grader_data(seed):
    """(x_train, y_train), (x_val, y_val), (x_held, y_held): stratified with the grader's seed, standardised
    with the grader's training statistics the way the template asks."""
    features, labels, _ = data.load_iris()
    rng = np.random.default_rng(seed)
    train, val, held = [], [], []
    for k in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == k))
        n_held, n_val = round(len(idx) * HELD_OUT_FRACTION), round(len(idx) * VALIDATION_FRACTION)
        held.extend(idx[:n_held])
        val.extend(idx[n_held:n_held + n_val])
        train.extend(idx[n_held + n_val:])
    train = rng.permutation(train)
    mean, std = features[train].mean(axis=0), features[train].std(axis=0)

    def part(idx):
        return ((features[idx] - mean) / std).astype("float32"), labels[idx]

    return part(train), part(val), part(np.sort(held))


# --- 학생의 코드 부르기 / Calling the student's code ----------------------------------------

def load_student(path):
    spec = importlib.util.spec_from_file_location(f"student_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            spec.loader.exec_module(module)
    except (Exception, SystemExit) as e:
        print("".join(traceback.format_exception_only(type(e), e)).rstrip())
        raise Stop(f"could not import {path.name}: {type(e).__name__}{where(e, path)}; fix the error above") from None
    missing = [signature for name, signature in REQUIRED.items() if getattr(module, name, None) is None]
    if missing:
        raise Stop(f"{path.name} lacks {'; '.join(missing)}: the grader calls these (see the template)")
    return module


def where(error, path):
    """' at <file> line N: <code>' for the deepest frame in the student's file (else the deepest outside libraries)."""
    frames = traceback.extract_tb(error.__traceback__)
    mine = [f for f in frames if Path(f.filename) == path]
    outside = [f for f in frames if "site-packages" not in f.filename and Path(f.filename) != Path(__file__).resolve()]
    frame = (mine or outside or [None])[-1]
    if frame is None:
        return ""
    return f" at {Path(frame.filename).name} line {frame.lineno}" + (f": {frame.line}" if frame.line else "")


def first_line(error, limit=300):
    """The first line of an error message (TensorFlow's run on for pages), shortened."""
    text = str(error).strip().splitlines()
    line = text[0] if text else ""
    if line.rstrip(":") == "Graph execution error" and len(text) > 1:  # the real message is further down
        line = next((t for t in text if "Received" in t or "INVALID_ARGUMENT" in t), line)
    return line if len(line) <= limit else line[:limit] + " ..."


def explain(error):
    """A course-words hint for an error Keras raises on a common mistake, or ''."""
    found = re.search(r"label value of (\d+) which is outside the valid range of \[0, (\d+)\)", str(error))
    if found:
        return (f" (a label is {found[1]} but the model has only {found[2]} outputs: the output layer needs "
                f"num_classes = {NUM_CLASSES} units)")
    return ""


def call(module, name, *args, path, **kwargs):
    """Calls the student's function with its prints hidden; an empty TODO or a crash becomes Stop."""
    number = TODOS.get(name)
    label = f"TODO {number} ({name})" if number else name
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return getattr(module, name)(*args, **kwargs)
    except Stop:
        raise
    except NotImplementedError as e:  # what the template's todo() raises
        message = str(e) if str(e).startswith("TODO") else f"{label} is not done yet ({e or 'NotImplementedError'})"
        raise Stop(message, todo=True) from None
    except (Exception, SystemExit) as e:
        raise Stop(
            f"{label} crashed with {type(e).__name__}: {first_line(e)}{explain(e)}{where(e, path)}. "
            f"Run `python {display(path)}` to see the whole traceback"
        ) from None


def display(path):
    try:
        return Path(path).relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


# --- 레이블과 손실 / Labels that do not fit the loss -----------------------------------------

def loss_name(loss):
    """'sparsecategoricalcrossentropy' for "sparse_categorical_crossentropy", SparseCategoricalCrossentropy(), ..."""
    if isinstance(loss, str):
        name = loss
    else:
        name = getattr(loss, "name", None) or getattr(getattr(loss, "fn", None), "__name__", None)
        name = name or getattr(loss, "__name__", "")
    return str(name).lower().replace("_", "")


def label_problem(loss, y_shape, outputs, where="y_train"):
    """What is wrong with labels of shape `y_shape` for this loss and a model with `outputs` outputs, or None."""
    name = loss_name(loss)
    y_shape = tuple(int(d) for d in y_shape)
    one_hot = len(y_shape) == 2 and y_shape[1] > 1
    integers = len(y_shape) == 1 or (len(y_shape) == 2 and y_shape[1] == 1)
    if "sparsecategorical" in name and one_hot:
        return (
            f"labels are one-hot ({where} has shape {y_shape}) but the loss expects integers "
            "(sparse_categorical_crossentropy): pass the labels 0, 1, 2 as they are, "
            'or keep the one-hot labels and use loss="categorical_crossentropy"'
        )
    if name == "categoricalcrossentropy" and integers:
        return (
            f"labels are integers 0, 1, 2 ({where} has shape {y_shape}) but the loss expects one-hot vectors "
            '(categorical_crossentropy): use loss="sparse_categorical_crossentropy", '
            f"or one-hot the labels with keras.utils.to_categorical({where}, num_classes)"
        )
    if "binarycrossentropy" in name and integers and outputs != 1:
        return (
            f"binary_crossentropy is for two classes (one yes/no probability), but there are {NUM_CLASSES} "
            'species: use loss="sparse_categorical_crossentropy" with the integer labels'
        )
    if one_hot and outputs is not None and y_shape[1] != outputs:
        return (
            f"the labels have {y_shape[1]} columns ({where} has shape {y_shape}) but the model outputs {outputs} "
            f"numbers per flower: one-hot with num_classes = {NUM_CLASSES}, and give the output layer {NUM_CLASSES} units"
        )
    return None


def count_and_shape(x, y=None):
    """(number of examples, shape of the labels) of what model.fit got: arrays, or a tf.data.Dataset of batches."""
    if hasattr(x, "shape"):
        return int(x.shape[0]), (tuple(np.shape(y)) if y is not None else None)
    if isinstance(x, (list, tuple)) and y is not None:
        return len(x), tuple(np.shape(y))
    try:  # a tf.data.Dataset of (features, labels) batches
        n, label_shape = 0, None
        for batch in x:
            features, labels = batch[0], batch[1]
            n += int(features.shape[0])
            label_shape = label_shape or (None, *tuple(labels.shape)[1:])
        return n, label_shape
    except (TypeError, IndexError):
        return None, None


@contextlib.contextmanager
def watch_fit():
    """Records what every model.fit call trains on, and stops at labels that do not fit the loss."""
    import keras

    original = keras.Model.fit
    signature = inspect.signature(original)
    calls = []

    def fit(model, *args, **kwargs):
        bound = signature.bind(model, *args, **kwargs)
        bound.apply_defaults()
        a = bound.arguments
        n, y_shape = count_and_shape(a["x"], a["y"])
        validation = a["validation_data"]
        n_val, val_shape = (None, None)
        if validation is not None:
            n_val, val_shape = (
                count_and_shape(validation[0], validation[1]) if isinstance(validation, (list, tuple))
                else count_and_shape(validation)
            )
        calls.append({"n": n, "n_val": n_val, "validation_split": a["validation_split"]})
        try:
            outputs = int(model.outputs[0].shape[-1])
        except (AttributeError, IndexError, TypeError, ValueError):
            outputs = None
        for shape, name in ((y_shape, "y_train"), (val_shape, "y_val")):
            problem = shape is not None and label_problem(getattr(model, "loss", None), shape, outputs, name)
            if problem:
                raise Stop(f"TODO 3 (train_model): {problem}")
        return original(model, *args, **kwargs)

    keras.Model.fit = fit
    try:
        yield calls
    finally:
        keras.Model.fit = original


# --- 검사 / The checks -----------------------------------------------------------------

def check_split(report, result):
    """TODO 1: a stratified train/validation/test split of all 150 flowers, standardised with the training statistics."""
    name = "TODO 1 load_and_split"
    try:
        (x_train, y_train), (x_val, y_val), (x_test, y_test), _ = result
        xs = [np.asarray(x, dtype="float64") for x in (x_train, x_val, x_test)]
        ys = [np.asarray(y) for y in (y_train, y_val, y_test)]
    except (TypeError, ValueError):
        return report.check(
            name, False, "should return (x_train, y_train), (x_val, y_val), (x_test, y_test), class_names"
        )
    if any(x.ndim != 2 or x.shape[1:] != (NUM_FEATURES,) for x in xs):
        return report.check(name, False, f"features should be (N, 4); got {', '.join(str(x.shape) for x in xs)}")
    if any(y.ndim != 1 for y in ys):
        return report.check(
            name, False, f"labels should be integers 0, 1, 2 of shape (N,); got {', '.join(str(y.shape) for y in ys)}"
        )
    sizes = [len(x) for x in xs]
    if sizes != [len(y) for y in ys] or sum(sizes) != 150:
        return report.check(
            name, False, f"expected all 150 flowers split into train, validation and test; got {' + '.join(map(str, sizes))} "
            f"features and {' + '.join(str(len(y)) for y in ys)} labels",
        )
    ys = [y.astype(int) for y in ys]
    problems = []
    for part, y in (("validation", ys[1]), ("test", ys[2])):
        per_class = np.bincount(y, minlength=NUM_CLASSES).tolist()
        if not 0.1 <= len(y) / 150 <= 0.4:
            problems.append(f"the {part} set holds {len(y)} flowers; keep 10-40% of them there")
        elif max(abs(c - len(y) / NUM_CLASSES) for c in per_class) > 1:
            problems.append(f"{part} set not stratified: per species {per_class}")
    mean, std = xs[0].mean(axis=0), xs[0].std(axis=0)
    if np.abs(mean).max() > 0.01 or np.abs(std - 1).max() > 0.02:
        problems.append(
            f"train features not standardised: mean {np.round(mean, 2).tolist()}, std {np.round(std, 2).tolist()}"
        )
    # 세 부분을 같은 (x - 평균) / 표준편차로 바꾸면 모두 합친 값은 원래 측정값의 특성별 1차 변환입니다.
    # 검증·테스트 세트를 자기 통계로 바꾸거나 꽃이 빠지거나 겹치면 그 관계가 깨집니다.
    raw, _, _ = data.load_iris()
    together = np.sort(np.concatenate(xs), axis=0)
    for j in range(NUM_FEATURES):
        slope, intercept = np.polyfit(np.sort(raw[:, j]), together[:, j], 1)
        residual = np.abs(together[:, j] - (slope * np.sort(raw[:, j]) + intercept)).max()
        if slope <= 0 or residual > 1e-3:
            problems.append(
                "the validation and test sets are not scaled with the training mean and std "
                "(or flowers are missing or repeated)"
            )
            break
    if problems:
        return report.check(name, False, "; ".join(problems))
    return report.check(
        name, True, f"{sizes[0]} train / {sizes[1]} validation / {sizes[2]} test, "
        f"test per species {np.bincount(ys[2], minlength=NUM_CLASSES).tolist()}; train features mean "
        f"{abs(mean).max():.2f} std {std.mean():.2f}; validation and test scaled with the training statistics",
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
        out_shape = tuple(np.shape(model(x[:2], training=False)))  # 직접 호출: predict 함수를 만들지 않음
    except Exception as e:
        report.check("TODO 2 build_model", False, f"the model cannot take (N, {NUM_FEATURES}) features: {first_line(e)}")
        raise Stop(f"the model from build_model cannot take the Iris features: keras.Input(shape=({NUM_FEATURES},))") from None
    flat = list(flat_layers(model))
    if out_shape != (2, NUM_CLASSES):
        outputs = out_shape[-1] if len(out_shape) == 2 else out_shape
        report.check(
            "TODO 2 build_model", False, f"{describe(flat)}: the model outputs {outputs} numbers per flower, but there "
            f"are {NUM_CLASSES} species; the output layer should be layers.Dense(num_classes, activation=\"softmax\")",
        )
        raise Stop("the model must give one probability per species before it can be trained and graded")
    report.check("TODO 2 build_model", True, f"{describe(flat)}, {model.count_params()} parameters")

    dense = [i for i, layer in enumerate(flat) if isinstance(layer, layers.Dense)]
    activation_layers = (layers.Activation, layers.ReLU, layers.LeakyReLU, layers.PReLU, layers.ELU, layers.Softmax)
    nonlinear = []
    if len(dense) >= 2:
        for layer in flat[dense[0]:dense[-1]]:  # 첫 Dense부터 출력층 앞까지
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


def check_training_data(report, fits, n_train, n_val):
    """model.fit trained only on the flowers train_model was given, and watched a validation set."""
    name = "training data"
    if not fits:
        return report.check(name, False, "train_model never called model.fit, so the grader cannot see what it trained on")
    problems = []
    for fit in fits:
        if fit["n"] is not None and fit["n"] > n_train:
            problems.append(
                f"model.fit trained on {fit['n']} flowers, but train_model was given {n_train}: train only on "
                f"x_train (training on other flowers, e.g. all 150, lets the model see the held-out ones)"
            )
        if fit["n_val"] is None and not fit["validation_split"]:
            problems.append("model.fit got no validation_data: pass validation_data=(x_val, y_val)")
        elif fit["n_val"] is not None and fit["n_val"] != n_val:
            problems.append(f"validation_data holds {fit['n_val']} flowers, but x_val has {n_val}: watch (x_val, y_val)")
    if problems:
        return report.check(name, False, "; ".join(dict.fromkeys(problems)))
    fit = fits[-1]
    watched = f"{fit['n_val']} validation flowers" if fit["n_val"] is not None else f"validation_split {fit['validation_split']}"
    return report.check(name, True, f"model.fit trained on {fit['n'] or n_train} training flowers and watched {watched}")


def student_settings(module, epochs):
    """The student's PARSER defaults (what `python iris_ann.py` uses), with --epochs and the cap applied."""
    try:
        defaults = module.PARSER.parse_args([])
    except (Exception, SystemExit) as e:
        raise Stop(f"PARSER.parse_args([]) failed ({type(e).__name__}: {e}); keep PARSER as the template has it") from None
    missing = [f"--{n.replace('_', '-')}" for n in ("epochs", "batch_size", "learning_rate") if not hasattr(defaults, n)]
    if missing:
        raise Stop(f"PARSER lacks {', '.join(missing)}: keep the template's flags")
    settings = {n: getattr(defaults, n) for n in ("epochs", "batch_size", "learning_rate")}
    source = "the student's PARSER defaults"
    if epochs is not None:
        settings["epochs"] = epochs
        source += f", epochs from the grader's --epochs {epochs}"
    if settings["epochs"] > MAX_EPOCHS:
        source += f", epochs capped at {MAX_EPOCHS}"
        settings["epochs"] = MAX_EPOCHS
    hidden_units = getattr(defaults, "hidden_units", None)
    model_settings = {} if hidden_units is None else {"hidden_units": hidden_units}
    print(f"  settings: {', '.join(f'{k} {v}' for k, v in {**settings, **model_settings}.items())} ({source})")
    return settings, model_settings


def grade(report, module, path, seed, epochs, splits):
    (x_train, y_train), (x_val, y_val), (x_held, y_held) = splits
    settings, model_settings = student_settings(module, epochs)
    check_split(report, call(module, "load_and_split", seed, path=path))

    import keras

    keras.utils.set_random_seed(seed)
    model = call(module, "build_model", NUM_FEATURES, NUM_CLASSES, **model_settings, path=path)
    check_network(report, model, x_train)

    before = [w.copy() for w in model.get_weights()]
    start = time.perf_counter()
    with watch_fit() as fits:
        history = call(module, "train_model", model, x_train, y_train, x_val, y_val, **settings, path=path)
    seconds = time.perf_counter() - start
    changed = any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    losses = getattr(history, "history", {}).get("loss", [])
    detail = f"{seconds:.1f} s with epochs {settings['epochs']}; "
    if changed:
        detail += "weights changed" + (f", training loss {losses[0]:.3f} -> {losses[-1]:.3f}" if losses else "")
    else:
        detail += "the weights did not change: does it call model.fit(...) on this model?"
    report.check("TODO 3 train_model", changed, detail)
    check_training_data(report, fits, len(x_train), len(x_val))

    # 채점기가 먼저 직접 세고, 그다음에 학생의 evaluate_model을 부릅니다.
    y_pred = np.asarray(model.predict(x_held, verbose=0)).argmax(axis=1)
    correct = int(np.sum(y_pred == y_held))
    accuracy = correct / len(y_held)
    returned = call(module, "evaluate_model", model, x_held, y_held, path=path)
    check_evaluation(report, returned, accuracy, y_pred)

    report.check(
        "held-out accuracy", accuracy >= TARGET_ACCURACY,
        f"{accuracy:.4f} ({correct} of {len(y_held)} flowers) {'>=' if accuracy >= TARGET_ACCURACY else '<'} "
        f"{TARGET_ACCURACY:.2f}",
    )


def check_evaluation(report, returned, accuracy, y_pred):
    """TODO 4 returns (accuracy, predicted species) that agree with the grader's own count."""
    name = "TODO 4 evaluate_model"
    if not (isinstance(returned, (tuple, list)) and len(returned) == 2):
        shown = type(returned).__name__
        with contextlib.suppress(TypeError, ValueError):
            shown = f"{float(returned):.4f} alone"
        return report.check(
            name, False, f"returned {shown}; return the accuracy and the predicted species: `return accuracy, y_pred`"
        )
    returned_accuracy, returned_pred = returned
    try:
        returned_accuracy = float(returned_accuracy)
    except (TypeError, ValueError):
        return report.check(name, False, f"the accuracy is a {type(returned_accuracy).__name__}, not one float")
    returned_pred = np.asarray(returned_pred)
    problems = []
    if abs(returned_accuracy - accuracy) >= 1e-3:
        problems.append(f"returned accuracy {returned_accuracy:.4f}, the grader counted {accuracy:.4f}")
    if returned_pred.shape != y_pred.shape:
        problems.append(f"y_pred has shape {returned_pred.shape}, expected {y_pred.shape} (one species per flower)")
    elif not np.array_equal(returned_pred, y_pred):
        problems.append(f"y_pred differs from the argmax of model.predict on {int(np.sum(returned_pred != y_pred))} flowers")
    if problems:
        return report.check(name, False, "; ".join(problems))
    return report.check(name, True, f"returned {returned_accuracy:.4f} and the predictions the grader counted")


def grade_file(path, seed=GRADER_SEED, epochs=None):
    """Grades one file in this process and prints the report; returns the exit status (0: pass)."""
    path = Path(path).resolve()
    splits = grader_data(seed)
    (x_train, _), (x_val, _), (x_held, _) = splits
    print(
        f"Grading {display(path)} on the grader's own split (seed {seed}, stratified): {len(x_train)} train / "
        f"{len(x_val)} validation / {len(x_held)} held-out flowers; target held-out accuracy >= {TARGET_ACCURACY:.2f}",
        flush=True,
    )
    report = Report()
    try:
        module = load_student(path)
        grade(report, module, path, seed, epochs, splits)
    except Stop as stop:
        print(f"  [{'TODO' if stop.todo else 'STOP'}] {stop}")
        why = "at the first TODO that is not done" if stop.todo else "because of the problem above"
        passed = sum(report.results)
        print(f"Score: grading stopped {why} ({passed} check{'s' * (passed != 1)} passed before it). FAIL", flush=True)
        return 1
    passed = all(report.results)
    print(f"Score: {sum(report.results)}/{len(report.results)} checks passed. {'PASS' if passed else 'FAIL'}", flush=True)
    return 0 if passed else 1


# --- 본체: 작업 프로세스를 돌리고 TensorFlow의 로그 줄을 거름 / The parent -----------------------

def run_filtered(command):
    """Runs the worker and passes its output on, except TensorFlow's C++ log lines; returns its exit status."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # 일부만 줄여 줍니다: 시작할 때의 줄은 그대로 나옴
    hidden = collections.deque(maxlen=8)  # 작업 프로세스가 점수 없이 죽으면 보여 줄 마지막 로그 줄
    scored = False
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace", env=env
    )
    try:
        for line in proc.stdout:
            if TF_LOG_LINE.match(line):
                hidden.append(line.rstrip())
                continue
            scored = scored or line.startswith("Score:")
            print(line, end="", flush=True)
        status = proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait()
        print("\ninterrupted (Ctrl-C): grading stopped")
        return 130
    finally:
        proc.stdout.close()
    if not scored:
        print(f"  [STOP] the grading process ended without a score (exit status {status}); its last TensorFlow lines:")
        print("\n".join(f"    {line}" for line in hidden) or "    (none)")
        print("Score: grading stopped because of the problem above. FAIL")
        return status or 1
    return status


def main(argv=None):
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
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # 실제로 채점하는 쪽 (작업 프로세스)
    args = parser.parse_args(argv)
    if not args.homework.is_file():
        parser.error(f"{args.homework} is not a file")
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if args.worker:
        return grade_file(args.homework, args.seed, args.epochs)
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", str(args.homework.resolve()), "--seed", str(args.seed)]
    if args.epochs is not None:
        command += ["--epochs", str(args.epochs)]
    return run_filtered(command)


if __name__ == "__main__":
    sys.exit(main())
