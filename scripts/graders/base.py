"""Plumbing shared by every week's grader: the report, calling the student's code, Keras' fit, the worker.

요약: 채점 결과표(Report), 채점을 멈추는 한 줄 메시지(Stop), 학생 파일 불러오기와 TODO 번호를 붙인 호출,
model.fit 엿보기(무엇으로 학습했나), 작업 프로세스의 출력에서 TensorFlow 로그 줄 거르기를 모든 주차가 함께 씁니다.
"""

import collections
import contextlib
import dataclasses
import importlib.util
import inspect
import io
import os
import re
import subprocess
import time
import traceback
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
GRADER_DIR = REPO_ROOT / "scripts"  # 채점기 자신의 프레임은 오류 위치에서 뺍니다
GRADER_SEED = 2025  # 채점기 자체의 분할·가중치 시드: 학생의 --seed와 무관

# TensorFlow의 C++ 쪽이 stderr에 직접 찍는 줄 (absl 로그 형식, 예전 TF 형식, 그 이어지는 줄).
TF_LOG_LINE = re.compile(
    r"[IWEF]\d{4} \d\d:\d\d:[\d.]+\s+\d+ \S+:\d+\] "  # I0000 00:00:1795855224.753756    6310 port.cc:153] ...
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] \S+:\d+\] "  # 2024-01-01 12:00:00.000000: I tensorflow/...] ...
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags"
    r"|\s*\[\[\{\{function_node "  # the op a W0000 ... OP_REQUIRES line was running
)


@dataclasses.dataclass(frozen=True)
class Homework:
    """One week's homework: where its template is, how to recognise a student's copy, and its grader."""

    week: int
    title: str  # one line for --list
    template: str  # path from the repository root
    names: str  # file names it answers to (a glob), e.g. "iris_ann*.py"
    required: tuple  # the names the grader calls; a renamed file is recognised by them
    grade_file: object  # grade_file(path, seed, **options) -> exit status
    options: tuple = ()  # the grader flags it takes besides --seed: "epochs", "data_dir"


@dataclasses.dataclass(frozen=True)
class Task:
    """The words a classification homework's messages use for its examples and classes."""

    num_classes: int
    example: str  # "flower"
    examples: str  # "flowers"
    classes: str  # "species"
    labels: str  # "0, 1, 2"


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


def score(grade):
    """Runs grade(report) and prints the score line; returns the exit status (0: every check passed)."""
    report = Report()
    try:
        grade(report)
    except Stop as stop:
        print(f"  [{'TODO' if stop.todo else 'STOP'}] {stop}")
        why = "at the first TODO that is not done" if stop.todo else "because of the problem above"
        passed = sum(report.results)
        print(f"Score: grading stopped {why} ({passed} check{'s' * (passed != 1)} passed before it). FAIL", flush=True)
        return 1
    passed = all(report.results)
    print(f"Score: {sum(report.results)}/{len(report.results)} checks passed. {'PASS' if passed else 'FAIL'}", flush=True)
    return 0 if passed else 1


# --- 학생의 코드 부르기 / Calling the student's code ----------------------------------------

class Student:
    """The student's module; calls its functions with their prints hidden and TODO numbers in the messages."""

    def __init__(self, path, module, todos, task=None):
        self.path, self.module, self.todos, self.task = path, module, todos, task

    def label(self, name):
        number = self.todos.get(name)
        return f"TODO {number} ({name})" if number else name

    def call(self, name, *args, **kwargs):
        """The student's `name`(*args, **kwargs); an empty TODO or a crash becomes Stop."""
        label = self.label(name)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                return getattr(self.module, name)(*args, **kwargs)
        except Stop:
            raise
        except NotImplementedError as e:  # what the template's todo() raises
            message = str(e) if str(e).startswith("TODO") else f"{label} is not done yet ({e or 'NotImplementedError'})"
            raise Stop(message, todo=True) from None
        except (Exception, SystemExit) as e:
            raise Stop(
                f"{label} crashed with {type(e).__name__}: {first_line(e)}{explain(e, self.task)}{where(e, self.path)}. "
                f"Run `python {display(self.path)}` to see the whole traceback"
            ) from None


def load_student(path, required, todos, task=None):
    """Imports the student's file (its prints hidden); Stop when it does not import or lacks a function."""
    spec = importlib.util.spec_from_file_location(f"student_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            spec.loader.exec_module(module)
    except (Exception, SystemExit) as e:
        print("".join(traceback.format_exception_only(type(e), e)).rstrip())
        raise Stop(f"could not import {path.name}: {type(e).__name__}{where(e, path)}; fix the error above") from None
    missing = [signature for name, signature in required.items() if getattr(module, name, None) is None]
    if missing:
        raise Stop(f"{path.name} lacks {'; '.join(missing)}: the grader calls these (see the template)")
    return Student(path, module, todos, task)


def where(error, path):
    """' at <file> line N: <code>' for the deepest frame in the student's file (else the deepest outside libraries)."""
    frames = traceback.extract_tb(error.__traceback__)
    mine = [f for f in frames if Path(f.filename) == path]
    outside = [f for f in frames if "site-packages" not in f.filename and GRADER_DIR not in Path(f.filename).resolve().parents]
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


def explain(error, task=None):
    """A course-words hint for an error Keras raises on a common mistake, or ''."""
    found = re.search(r"label value of (\d+) which is outside the valid range of \[0, (\d+)\)", str(error))
    if found and task is not None:
        return (f" (a label is {found[1]} but the model has only {found[2]} outputs: the output layer needs "
                f"num_classes = {task.num_classes} units)")
    return ""


def display(path):
    try:
        return Path(path).relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


def training_settings(module, epochs, max_epochs, model_flags=()):
    """The student's PARSER defaults (what `python <homework>.py` uses), with the grader's --epochs and cap.

    Returns (settings for train_model: epochs, batch_size, learning_rate; settings for build_model from
    `model_flags`) and prints them.
    """
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
    if settings["epochs"] > max_epochs:
        source += f", epochs capped at {max_epochs}"
        settings["epochs"] = max_epochs
    model_settings = {n: getattr(defaults, n) for n in model_flags if getattr(defaults, n, None) is not None}
    print(f"  settings: {', '.join(f'{k} {v}' for k, v in {**settings, **model_settings}.items())} ({source})")
    return settings, model_settings


# --- 레이블과 손실 / Labels that do not fit the loss -----------------------------------------

def loss_name(loss):
    """'sparsecategoricalcrossentropy' for "sparse_categorical_crossentropy", SparseCategoricalCrossentropy(), ..."""
    if isinstance(loss, str):
        name = loss
    else:
        name = getattr(loss, "name", None) or getattr(getattr(loss, "fn", None), "__name__", None)
        name = name or getattr(loss, "__name__", "")
    return str(name).lower().replace("_", "")


def label_problem(loss, y_shape, outputs, where, task):
    """What is wrong with labels of shape `y_shape` for this loss and a model with `outputs` outputs, or None."""
    name = loss_name(loss)
    y_shape = tuple(int(d) for d in y_shape)
    one_hot = len(y_shape) == 2 and y_shape[1] > 1
    integers = len(y_shape) == 1 or (len(y_shape) == 2 and y_shape[1] == 1)
    if "sparsecategorical" in name and one_hot:
        return (
            f"labels are one-hot ({where} has shape {y_shape}) but the loss expects integers "
            f"(sparse_categorical_crossentropy): pass the labels {task.labels} as they are, "
            'or keep the one-hot labels and use loss="categorical_crossentropy"'
        )
    if name == "categoricalcrossentropy" and integers:
        return (
            f"labels are integers {task.labels} ({where} has shape {y_shape}) but the loss expects one-hot vectors "
            '(categorical_crossentropy): use loss="sparse_categorical_crossentropy", '
            f"or one-hot the labels with keras.utils.to_categorical({where}, num_classes)"
        )
    if "binarycrossentropy" in name and integers and outputs != 1:
        return (
            f"binary_crossentropy is for two classes (one yes/no probability), but there are {task.num_classes} "
            f'{task.classes}: use loss="sparse_categorical_crossentropy" with the integer labels'
        )
    if one_hot and outputs is not None and y_shape[1] != outputs:
        return (
            f"the labels have {y_shape[1]} columns ({where} has shape {y_shape}) but the model outputs {outputs} "
            f"numbers per {task.example}: one-hot with num_classes = {task.num_classes}, and give the output layer "
            f"{task.num_classes} units"
        )
    return None


def count_and_shape(x, y=None):
    """(number of examples, shape of the labels) of what model.fit got: arrays, or a tf.data.Dataset of batches."""
    if hasattr(x, "shape"):
        return int(x.shape[0]), (tuple(np.shape(y)) if y is not None else None)
    if isinstance(x, (list, tuple)) and y is not None:
        return len(x), tuple(np.shape(y))
    cardinality = getattr(x, "cardinality", None)
    if cardinality is not None and int(cardinality()) < 0:  # .repeat() without end: the grader cannot count it
        return None, None
    try:  # a tf.data.Dataset of (features, labels) batches
        n, label_axes = 0, None
        for batch in x:
            features, labels = batch[0], batch[1]
            n += int(features.shape[0])
            label_axes = label_axes or tuple(labels.shape)[1:]
        return n, (None if label_axes is None else (n, *label_axes))
    except (TypeError, IndexError):
        return None, None


@contextlib.contextmanager
def watch_fit(task, todo="TODO 3 (train_model)"):
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
        calls.append({"n": n, "n_val": n_val, "validation_split": a["validation_split"], "y_shape": y_shape})
        try:
            outputs = int(model.outputs[0].shape[-1])
        except (AttributeError, IndexError, TypeError, ValueError):
            outputs = None
        for shape, name in ((y_shape, "y_train"), (val_shape, "y_val")):
            problem = shape is not None and label_problem(getattr(model, "loss", None), shape, outputs, name, task)
            if problem:
                raise Stop(f"{todo}: {problem}")
        return original(model, *args, **kwargs)

    keras.Model.fit = fit
    try:
        yield calls
    finally:
        keras.Model.fit = original


def check_training_data(report, fits, n_train, n_val, task):
    """model.fit trained only on the examples train_model was given, and watched a validation set."""
    name, things = "training data", task.examples
    if not fits:
        return report.check(name, False, "train_model never called model.fit, so the grader cannot see what it trained on")
    problems = []
    for fit in fits:
        if fit["n"] is not None and fit["n"] > n_train:
            problems.append(
                f"model.fit trained on {fit['n']} {things}, but train_model was given {n_train}: train only on "
                f"x_train (training on other {things} lets the model see the held-out ones)"
            )
        if fit["n_val"] is None and not fit["validation_split"]:
            problems.append("model.fit got no validation_data: pass validation_data=(x_val, y_val)")
        elif fit["n_val"] is not None and fit["n_val"] != n_val:
            problems.append(f"validation_data holds {fit['n_val']} {things}, but x_val has {n_val}: watch (x_val, y_val)")
    if problems:
        return report.check(name, False, "; ".join(dict.fromkeys(problems)))
    fit = fits[-1]
    watched = (f"{fit['n_val']} validation {things}" if fit["n_val"] is not None
               else f"validation_split {fit['validation_split']}")
    return report.check(name, True, f"model.fit trained on {fit['n'] or n_train} training {things} and watched {watched}")


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


def weights_changed(model, before):
    return any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def train_and_check(report, student, model, splits, settings, task, todo):
    """Runs the student's train_model on the grader's split; checks that the weights changed and that model.fit
    trained only on the given training examples while watching the validation set. `todo` is e.g. "TODO 3"."""
    (x_train, y_train), (x_val, y_val) = splits
    before = [w.copy() for w in model.get_weights()]
    start = time.perf_counter()
    with watch_fit(task, todo=f"{todo} (train_model)") as fits:
        history = student.call("train_model", model, x_train, y_train, x_val, y_val, **settings)
    seconds = time.perf_counter() - start
    changed = weights_changed(model, before)
    losses = getattr(history, "history", {}).get("loss", [])
    detail = f"{seconds:.1f} s with epochs {settings['epochs']}; "
    if changed:
        detail += "weights changed" + (f", training loss {losses[0]:.3f} -> {losses[-1]:.3f}" if losses else "")
    else:
        detail += "the weights did not change: does it call model.fit(...) on this model?"
    report.check(f"{todo} train_model", changed, detail)
    check_training_data(report, fits, len(x_train), len(x_val), task)


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
