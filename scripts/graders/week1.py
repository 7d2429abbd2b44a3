"""Week 1: the Iris ANN homework (week1/homework/iris_ann.py), graded on a held-out split the grader controls.

요약: 학생의 iris_ann.py를 불러와, 채점기가 직접 나눈 데이터(자체 시드, 품종별 분할)로 학생의
build_model()과 train_model()을 실행하고, 학생의 코드가 한 번도 보지 못한 꽃으로 정확도를 잽니다.

Pass:   TODO 1 load_and_split: a stratified train/validation/test split, standardised with the training statistics;
        TODO 2 build_model: a keras.Model with 4 inputs and 3 outputs;
        hidden layer: a Dense layer with a nonlinearity (relu, tanh, ...) before the output layer;
        TODO 3 train_model: the weights change;
        training data: model.fit trains only on the training flowers it is given and watches the validation set;
        TODO 4 evaluate_model: the accuracy and predictions agree with the grader's own count;
        held-out accuracy >= 0.90 on 45 flowers (15 per species) the student's code never trained on.
"""

import contextlib
from pathlib import Path

import numpy as np

from common import data
from scripts.graders import base
from scripts.graders.base import Stop

TARGET_ACCURACY = 0.90
HELD_OUT_FRACTION = 0.3  # 품종마다 15송이, 모두 45송이: 학생의 코드가 학습에 쓰지 못하는 꽃
VALIDATION_FRACTION = 0.1  # 품종마다 5송이, 모두 15송이: train_model에 검증 세트로 넘김. 학습 세트는 90송이
MAX_EPOCHS = 200  # 채점이 몇 초 안에 끝나도록: 학생의 기본값이 이보다 크면 줄임
NUM_FEATURES, NUM_CLASSES = 4, 3
IRIS = base.Task(num_classes=NUM_CLASSES, example="flower", examples="flowers", classes="species", labels="0, 1, 2")
REQUIRED = {  # 템플릿의 인터페이스 / the interface of the template
    "PARSER": "PARSER (the flags, with --epochs --batch-size --learning-rate --hidden-units)",
    "load_and_split": "load_and_split(seed)",
    "build_model": "build_model(num_features, num_classes, hidden_units)",
    "train_model": "train_model(model, x_train, y_train, x_val, y_val, epochs, batch_size, learning_rate, callbacks=())",
    "evaluate_model": "evaluate_model(model, x_test, y_test)",
}
TODOS = {"load_and_split": 1, "build_model": 2, "train_model": 3, "evaluate_model": 4}


def label_problem(loss, y_shape, outputs, where="y_train"):
    """What is wrong with Iris labels of shape `y_shape` for this loss and a model with `outputs` outputs, or None."""
    return base.label_problem(loss, y_shape, outputs, where, IRIS)


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


def describe(layers_):
    from keras import layers

    parts = [f"{NUM_FEATURES} inputs"]
    for layer in layers_:
        if isinstance(layer, layers.Dense):
            parts.append(f"Dense {layer.units} ({base.activation_name(layer)})")
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
        report.check("TODO 2 build_model", False, f"the model cannot take (N, {NUM_FEATURES}) features: {base.first_line(e)}")
        raise Stop(f"the model from build_model cannot take the Iris features: keras.Input(shape=({NUM_FEATURES},))") from None
    flat = list(base.flat_layers(model))
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
                name = base.activation_name(layer)
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


def grade(report, student, seed, epochs, splits):
    (x_train, y_train), (x_val, y_val), (x_held, y_held) = splits
    settings, model_settings = base.training_settings(student.module, epochs, MAX_EPOCHS, model_flags=("hidden_units",))
    check_split(report, student.call("load_and_split", seed))

    import keras

    keras.utils.set_random_seed(seed)
    model = student.call("build_model", NUM_FEATURES, NUM_CLASSES, **model_settings)
    check_network(report, model, x_train)

    base.train_and_check(report, student, model, ((x_train, y_train), (x_val, y_val)), settings, IRIS, "TODO 3")

    # 채점기가 먼저 직접 세고, 그다음에 학생의 evaluate_model을 부릅니다.
    y_pred = np.asarray(model.predict(x_held, verbose=0)).argmax(axis=1)
    correct = int(np.sum(y_pred == y_held))
    accuracy = correct / len(y_held)
    returned = student.call("evaluate_model", model, x_held, y_held)
    check_evaluation(report, returned, accuracy, y_pred)

    report.check(
        "held-out accuracy", accuracy >= TARGET_ACCURACY,
        f"{accuracy:.4f} ({correct} of {len(y_held)} flowers) {'>=' if accuracy >= TARGET_ACCURACY else '<'} "
        f"{TARGET_ACCURACY:.2f}",
    )


def grade_file(path, seed=base.GRADER_SEED, epochs=None):
    """Grades one Iris file in this process and prints the report; returns the exit status (0: pass)."""
    path = Path(path).resolve()
    splits = grader_data(seed)
    (x_train, _), (x_val, _), (x_held, _) = splits
    print(
        f"Grading {base.display(path)} on the grader's own split (seed {seed}, stratified): {len(x_train)} train / "
        f"{len(x_val)} validation / {len(x_held)} held-out flowers; target held-out accuracy >= {TARGET_ACCURACY:.2f}",
        flush=True,
    )
    return base.score(lambda report: grade(report, base.load_student(path, REQUIRED, TODOS, IRIS), seed, epochs, splits))


HOMEWORK = base.Homework(
    week=1, title="Iris ANN: split, build, train and evaluate a small network (TODO 1-4)",
    template="week1/homework/iris_ann.py", names="iris_ann*.py", required=tuple(TODOS), grade_file=grade_file,
    options=("epochs",),
)
