"""Week 2: the CIFAR-10 CNN homework (week2/homework/cifar_cnn.py): shape arithmetic, a CNN under a budget.

요약: 합성곱·풀링의 출력 크기 계산(TODO 1, 2)은 Keras가 직접 계산한 크기와 정확히 같아야 하고, 학생의 CNN
(TODO 3, 4)은 파라미터 100,000개 이하로, 채점기가 고른 CIFAR-10 10,000장으로 학습해 채점기가 같은 데이터·같은
에포크로 학습한 MLP 기준선보다 채점용 사진 2,000장에서 정확도가 높아야 합니다.

Pass:   TODO 1 conv_output_size: every grader-chosen case equals Keras' Conv2D / MaxPooling2D output size;
        TODO 2 output_shapes: every layer's shape in the grader's conv/pool stacks equals Keras' own;
        TODO 3 build_model: a keras.Model from (32, 32, 3) images to 10 outputs; convolution: it has a Conv2D layer;
        parameter budget: model.count_params() <= 100,000;
        TODO 4 train_model: the weights change; training data: model.fit trains only on the images it is given and
        watches the validation set; softmax and loss: one softmax, either in the model or in the loss, not both;
        held-out accuracy: above the grader's MLP baseline (same data, same epochs) and at least 0.35.
"""

import time
from pathlib import Path

import numpy as np

from common import data
from scripts.graders import base
from scripts.graders.base import Stop

INPUT_SHAPE, NUM_CLASSES = (32, 32, 3), 10
MAX_PARAMS = 100_000  # 파라미터 예산 / the parameter budget
N_TRAIN, N_VAL, N_HELD = 10_000, 1_000, 2_000  # 채점용 부분 집합: 2코어 CPU에서 몇 분
MAX_EPOCHS = 10  # 채점이 몇 분 안에 끝나도록: 학생의 기본값이 이보다 크면 줄임
FLOOR = 0.35  # 기준선과 상관없이 넘어야 하는 바닥 (우연히 맞히면 0.10)
BASELINE_UNITS = 32  # MLP 기준선: 3,072 -> 32 -> 10, 98,666 파라미터 (같은 예산 안)
CIFAR = base.Task(num_classes=NUM_CLASSES, example="image", examples="images", classes="classes", labels="0..9")
REQUIRED = {
    "PARSER": "PARSER (the flags, with --epochs --batch-size --learning-rate)",
    "conv_output_size": "conv_output_size(size, kernel, stride=1, padding='valid')",
    "output_shapes": "output_shapes(input_shape, stack)",
    "build_model": "build_model(input_shape=(32, 32, 3), num_classes=10)",
    "train_model": "train_model(model, x_train, y_train, x_val, y_val, epochs, batch_size, learning_rate, callbacks=())",
}
TODOS = {"conv_output_size": 1, "output_shapes": 2, "build_model": 3, "train_model": 4}


# --- TODO 1: 한 축의 출력 크기 / One axis of a conv or pooling output -------------------------

def size_cases(rng, n=160):
    """(size, kernel, stride, padding, kind): fixed edge cases, then random ones from the grader's seed."""
    cases = [
        (32, 3, 1, "same", "conv"), (32, 3, 1, "valid", "conv"), (32, 5, 1, "valid", "conv"), (28, 5, 1, "valid", "conv"),
        (32, 2, 2, "valid", "pool"), (31, 2, 2, "valid", "pool"), (31, 2, 2, "same", "pool"), (7, 3, 2, "same", "conv"),
        (7, 3, 2, "valid", "conv"), (8, 4, 2, "same", "conv"), (5, 5, 1, "valid", "conv"), (1, 1, 1, "valid", "conv"),
        (2, 3, 1, "same", "conv"), (32, 5, 3, "same", "conv"), (10, 4, 3, "valid", "conv"), (9, 3, 3, "same", "pool"),
        (15, 3, 2, "valid", "pool"), (16, 3, 2, "same", "pool"),
    ]
    while len(cases) < n:
        size, kernel, stride = int(rng.integers(1, 65)), int(rng.integers(1, 8)), int(rng.integers(1, 5))
        padding, kind = str(rng.choice(["valid", "same"])), str(rng.choice(["conv", "pool"]))
        if padding == "valid" and kernel > size:
            continue  # Keras에서도 오류: 창이 하나도 들어가지 않음
        cases.append((size, kernel, stride, padding, kind))
    return cases


def keras_size(size, kernel, stride, padding, kind):
    """Keras' own answer: the layer's computed output shape along one axis."""
    from keras import layers

    layer = (layers.Conv2D(1, kernel, strides=stride, padding=padding) if kind == "conv"
             else layers.MaxPooling2D(kernel, strides=stride, padding=padding))
    return int(layer.compute_output_shape((None, size, size, 1))[1])


def size_mistake(size, kernel, stride, padding, got):
    """The usual slip behind a wrong output size, in words, or ''."""
    ceil, valid = -(-size // stride), (size - kernel) // stride + 1
    if padding == "valid":
        if got == (size - kernel) // stride:
            return "forgot the +1: 'valid' fits (size - kernel) // stride + 1 windows (the first window counts too)"
        if got == ceil:
            return "that is the 'same' formula; 'valid' adds no padding: (size - kernel) // stride + 1"
    else:
        if got == size and stride > 1:
            return "'same' keeps the size only with stride 1; with stride s it is ceil(size / s)"
        if got == size // stride and size % stride:
            return "'same' rounds up: ceil(size / stride), not size // stride"
        if got == (size + 2 * (kernel // 2) - kernel) // stride + 1:
            return ("padding kernel // 2 on both sides is 'same' only for odd kernels; Keras' 'same' is "
                    "ceil(size / stride) for every kernel")
        if got == valid:
            return "that is the 'valid' formula; 'same' pads so that the output is ceil(size / stride)"
    if abs(got - (valid if padding == "valid" else ceil)) == 1:
        return "off by one"
    return ""


def as_int(value):
    """An output size as int, or None when it is not a whole number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def check_sizes(report, student, rng):
    name = "TODO 1 conv_output_size"
    cases = size_cases(rng)
    wrong = []
    for size, kernel, stride, padding, kind in cases:
        want = keras_size(size, kernel, stride, padding, kind)
        returned = student.call("conv_output_size", size, kernel, stride, padding)
        got = as_int(returned)
        if got != want:
            shown = returned if got is None else got
            layer = "Conv2D" if kind == "conv" else "MaxPooling2D"
            why = size_mistake(size, kernel, stride, padding, got) if got is not None else "not a whole number"
            wrong.append(f"size {size}, kernel {kernel}, stride {stride}, '{padding}' ({layer}): expected {want}, "
                         f"got {shown!r}" + (f" ({why})" if why else ""))
    if wrong:
        more = f"; and {len(wrong) - 3} more" if len(wrong) > 3 else ""
        return report.check(name, False, f"{len(wrong)} of {len(cases)} cases differ from Keras: "
                            + "; ".join(wrong[:3]) + more)
    return report.check(name, True, f"all {len(cases)} cases equal Keras' Conv2D and MaxPooling2D output sizes "
                        "(sizes 1-64, kernels 1-7, strides 1-4, 'valid' and 'same')")


# --- TODO 2: 층을 쌓았을 때의 모양 / The shapes through a conv/pool stack ---------------------

def random_stack(rng, input_shape):
    """A stack of 3-6 conv/pool layers that Keras accepts, ending in flatten half of the time."""
    stack, (h, w, _) = [], input_shape
    for _ in range(int(rng.integers(3, 7))):
        kernel, stride, padding = int(rng.integers(1, 6)), int(rng.integers(1, 3)), str(rng.choice(["valid", "same"]))
        if padding == "valid" and kernel > min(h, w):
            padding = "same"
        if rng.random() < 0.5:
            stack.append(("conv", int(rng.choice([4, 8, 16, 24])), kernel, stride, padding))
            strides = stride
        else:
            strides = None if rng.random() < 0.5 else stride  # None: Keras' default, the pool size
            stack.append(("pool", kernel, strides, padding))
            strides = strides or kernel
        h = -(-h // strides) if padding == "same" else (h - kernel) // strides + 1
        w = -(-w // strides) if padding == "same" else (w - kernel) // strides + 1
    if rng.random() < 0.5:
        stack.append(("flatten",))
    return stack


def grader_stacks(rng):
    """(input_shape, stack) pairs: the week's CNN, LeNet-5's, odd sizes and strides, and random stacks."""
    course = [("conv", 32, 3, 1, "same"), ("pool", 2, None, "valid"), ("conv", 32, 3, 1, "same"),
              ("conv", 64, 3, 1, "same"), ("pool", 2, None, "valid"), ("conv", 64, 3, 1, "same"),
              ("conv", 128, 3, 1, "same"), ("pool", 2, None, "valid"), ("conv", 128, 3, 1, "same"), ("flatten",)]
    lenet = [("conv", 6, 5, 1, "valid"), ("pool", 2, None, "valid"), ("conv", 16, 5, 1, "valid"),
             ("pool", 2, None, "valid"), ("flatten",)]
    odd = [("conv", 8, 4, 2, "same"), ("pool", 3, 2, "valid"), ("conv", 12, 3, 1, "valid"), ("pool", 3, 2, "same"),
           ("conv", 5, 1, 1, "valid"), ("flatten",)]
    stacks = [((32, 32, 3), course), ((32, 32, 1), lenet), ((28, 21, 1), odd)]
    for _ in range(4):
        shape = (int(rng.integers(12, 48)), int(rng.integers(12, 48)), int(rng.choice([1, 3])))
        stacks.append((shape, random_stack(rng, shape)))
    return stacks


def keras_shapes(input_shape, stack):
    """Keras' own output shape after each layer of the stack (without the batch axis)."""
    import keras
    from keras import layers

    built = []
    for spec in stack:
        if spec[0] == "conv":
            _, filters, kernel, strides, padding = spec
            built.append(layers.Conv2D(filters, kernel, strides=strides, padding=padding))
        elif spec[0] == "pool":
            _, pool, strides, padding = spec
            built.append(layers.MaxPooling2D(pool, strides=strides, padding=padding))
        else:
            built.append(layers.Flatten())
    model = keras.Sequential([keras.Input(input_shape), *built])
    return [tuple(int(d) for d in layer.output.shape[1:]) for layer in model.layers]


def as_shape(value):
    try:
        return tuple(int(d) if d is not None else None for d in value)
    except (TypeError, ValueError):
        return value


def shape_mistake(spec, before, want, got):
    """The usual slip behind a wrong layer shape, in words, or ''."""
    if not isinstance(got, tuple):
        return "each shape should be a tuple like (height, width, channels)"
    if len(got) == len(want) + 1 and got[1:] == want:
        return "leave out the batch axis: (height, width, channels)"
    if spec[0] == "flatten":
        return f"Flatten gives one axis of height x width x channels = {want[0]}" if want else ""
    if len(got) != 3:
        return "a conv or pooling layer gives (height, width, channels)"
    if spec[0] == "conv" and got[:2] == want[:2]:
        return f"a Conv2D layer's output has `filters` = {want[2]} channels"
    if spec[0] == "pool":
        if got[:2] == want[:2]:
            return "pooling keeps the number of channels"
        _, pool, strides, padding = spec
        if strides is None:
            one = tuple(-(-s // 1) if padding == "same" else s - pool + 1 for s in before[:2])
            if got[:2] == one:
                return "MaxPooling2D's strides default to the pool size (strides=None means strides=pool_size)"
    return "check TODO 1's arithmetic for this layer"


def check_shapes(report, student, rng):
    name = "TODO 2 output_shapes"
    stacks = grader_stacks(rng)
    layers_checked = 0
    for input_shape, stack in stacks:
        want = keras_shapes(input_shape, stack)
        returned = student.call("output_shapes", input_shape, list(stack))
        try:
            got = [as_shape(s) for s in returned]
        except TypeError:
            return report.check(name, False, f"should return a list of shapes, one per layer; got {type(returned).__name__}")
        if len(got) != len(stack):
            return report.check(name, False, f"for a stack of {len(stack)} layers it returned {len(got)} shapes; "
                                "return one shape per layer (not the input's)")
        for i, (spec, w, g) in enumerate(zip(stack, want, got)):
            if g != w:
                before = input_shape if i == 0 else want[i - 1]
                why = shape_mistake(spec, before, w, g)
                return report.check(
                    name, False, f"input {input_shape}, layer {i + 1} {spec}: expected {w}, got {g}"
                    + (f" ({why})" if why else "") + f"; the whole stack: {stack}"
                )
        layers_checked += len(stack)
    return report.check(name, True, f"{layers_checked} layers in {len(stacks)} stacks (this week's CNN, LeNet-5, "
                        "odd sizes, random ones) have Keras' own output shapes")


# --- TODO 3: 모델 / The CNN under the budget ------------------------------------------------

def describe(model):
    from keras import layers

    parts = []
    for layer in base.flat_layers(model):
        if isinstance(layer, layers.Conv2D):
            parts.append(f"Conv2D {layer.filters}")
        elif isinstance(layer, layers.Dense):
            parts.append(f"Dense {layer.units}")
        elif not isinstance(layer, layers.InputLayer):
            parts.append(type(layer).__name__)
    return " -> ".join(parts)


def check_model(report, model):
    """TODO 3, convolution and the parameter budget; Stop when the model cannot be trained and graded."""
    import keras
    from keras import layers

    name = "TODO 3 build_model"
    if not isinstance(model, keras.Model):
        report.check(name, False, f"should return a keras.Model, got {type(model).__name__}")
        raise Stop("build_model did not return a keras.Model, so there is nothing to train")
    try:
        out_shape = tuple(np.shape(model(np.zeros((2, *INPUT_SHAPE), "float32"), training=False)))
    except Exception as e:
        report.check(name, False, f"the model cannot take (N, 32, 32, 3) images: {base.first_line(e)}")
        raise Stop("the model from build_model cannot take CIFAR-10 images: keras.Input(shape=input_shape)") from None
    if out_shape != (2, NUM_CLASSES):
        report.check(name, False, f"{describe(model)}: the model gives shape {out_shape[1:]} per image, but there are "
                     f"{NUM_CLASSES} classes; end with layers.Dense(num_classes) (and a softmax, or from_logits=True)")
        raise Stop("the model must give one score per class before it can be trained and graded")
    params = model.count_params()
    report.check(name, True, f"{describe(model)}: {NUM_CLASSES} outputs per image")

    convs = [layer for layer in base.flat_layers(model)
             if isinstance(layer, (layers.Conv2D, layers.SeparableConv2D, layers.DepthwiseConv2D))]
    has_conv = report.check(
        "convolution", bool(convs),
        f"{len(convs)} convolution layer(s)" if convs else
        "no Conv2D layer: this is a multilayer perceptron (MLP), the grader's own baseline; the homework is a CNN: "
        "start with layers.Conv2D(32, 3, padding='same', activation='relu') and layers.MaxPooling2D()",
    )
    within = params <= MAX_PARAMS
    report.check(
        "parameter budget", within,
        f"{params:,} parameters <= {MAX_PARAMS:,}" if within else
        f"{params:,} parameters, {params - MAX_PARAMS:,} over the budget of {MAX_PARAMS:,}: the usual cause is "
        "Flatten on a large feature map feeding a Dense layer; pool more (MaxPooling2D) before Flatten, or use "
        "GlobalAveragePooling2D, or fewer filters",
    )
    if not (has_conv and within):
        raise Stop("the grader trains only a CNN within the budget: fix build_model first")
    return params


# --- 데이터와 기준선 / The grader's data and its MLP baseline -----------------------------------

def grader_data(seed, data_dir=None):
    """(x_train, y_train), (x_val, y_val), (x_held, y_held): images in [0, 1], chosen with the grader's seed.

    Train and validation images come from CIFAR-10's training batches, the held-out ones from its test batch.
    """
    try:
        (x_all, y_all), (x_test, y_test), _ = data.load_cifar10(data_dir)
    except data.DataError as e:
        raise Stop(f"cannot read CIFAR-10: {e}") from None
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x_all))
    n_val = min(N_VAL, len(x_all) // 10)
    n_train = min(N_TRAIN, len(x_all) - n_val)
    train, val = order[:n_train], order[n_train:n_train + n_val]
    held = np.sort(rng.permutation(len(x_test))[:N_HELD])

    def part(x, y, idx):
        return x[idx].astype("float32") / 255, y[idx].astype("int32")

    return part(x_all, y_all, train), part(x_all, y_all, val), part(x_test, y_test, held)


def baseline_accuracy(x_train, y_train, x_held, y_held, epochs, seed):
    """The grader's MLP (Flatten -> Dense 32 relu -> Dense 10 softmax) trained the same epochs: held-out accuracy."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    mlp = keras.Sequential([
        keras.Input(INPUT_SHAPE), layers.Flatten(), layers.Dense(BASELINE_UNITS, activation="relu"),
        layers.Dense(NUM_CLASSES, activation="softmax"),
    ])
    mlp.compile(keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    mlp.fit(x_train, y_train, epochs=epochs, batch_size=64, verbose=0)
    y_pred = mlp.predict(x_held, batch_size=500, verbose=0).argmax(axis=1)
    return float(np.mean(y_pred == y_held)), mlp.count_params()


# --- TODO 4: 학습, 소프트맥스와 손실 / Training, and one softmax -------------------------------

def loss_reading(loss):
    """How a compiled loss reads the model's outputs: 'probabilities', 'logits', or None (cannot tell).

    Found by behaviour: the loss is fed rows that are probabilities (non-uniform, summing to 1). A loss that
    reads probabilities gives mean(-log p[label]); one with from_logits=True softmaxes them again first.
    """
    import keras

    try:
        fn = keras.losses.get(loss) if isinstance(loss, str) else loss
    except (ValueError, TypeError):
        return None
    if not callable(fn):
        return None
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.full(NUM_CLASSES, 0.5), 16).astype("float32")
    y = np.arange(16) % NUM_CLASSES
    rows = np.arange(16)
    as_probabilities = float(np.mean(-np.log(p[rows, y])))
    shifted = p.astype("float64") - p.max(axis=1, keepdims=True)
    as_logits = float(np.mean(np.log(np.exp(shifted).sum(axis=1)) - shifted[rows, y]))
    for labels in (y, np.eye(NUM_CLASSES, dtype="float32")[y]):
        try:
            value = float(np.mean(np.asarray(fn(labels, p))))
        except Exception:
            continue
        if abs(value - as_probabilities) < 1e-3 * as_probabilities:
            return "probabilities"
        if abs(value - as_logits) < 1e-3 * as_logits:
            return "logits"
    return None


def check_softmax_and_loss(report, model, x):
    """One softmax: either the model ends in a softmax and the loss reads probabilities, or neither."""
    name = "softmax and loss"
    loss = getattr(model, "loss", None)
    if loss is None:
        return report.check(name, False, "the model has no loss: call model.compile(optimizer, loss=...) in train_model")
    outputs = np.asarray(model(x[:200], training=False), dtype="float64")
    probabilities = outputs.min() >= -1e-6 and np.allclose(outputs.sum(axis=1), 1, atol=1e-3)
    reading = loss_reading(loss)
    said = "probabilities (each row sums to 1)" if probabilities else "logits (rows do not sum to 1)"
    if reading is None:
        return report.check(name, True, f"the model outputs {said}; the grader could not tell how this loss reads them")
    if probabilities and reading == "logits":
        return report.check(
            name, False, "softmax applied twice: the model already ends in a softmax (its outputs sum to 1) and the "
            "loss has from_logits=True, which applies another softmax to those probabilities; keep one: drop the "
            "last activation='softmax', or use the loss with from_logits=False",
        )
    if not probabilities and reading == "probabilities":
        return report.check(
            name, False, "the model outputs logits (rows do not sum to 1) but the loss reads them as probabilities: "
            "end the model with activation='softmax', or pass from_logits=True to the loss",
        )
    return report.check(name, True, f"the model outputs {said} and the loss reads {reading}")


def grade(report, student, seed, epochs, data_dir):
    import keras

    settings, _ = base.training_settings(student.module, epochs, MAX_EPOCHS)
    rng = np.random.default_rng(seed)
    check_sizes(report, student, rng)
    check_shapes(report, student, rng)

    keras.utils.set_random_seed(seed)
    model = student.call("build_model", INPUT_SHAPE, NUM_CLASSES)
    params = check_model(report, model)

    (x_train, y_train), (x_val, y_val), (x_held, y_held) = grader_data(seed, data_dir)
    print(f"  data: {len(x_train):,} train / {len(x_val):,} validation images from CIFAR-10's training batches, "
          f"{len(x_held):,} held-out images from its test batch (seed {seed})", flush=True)
    start = time.perf_counter()
    baseline, baseline_params = baseline_accuracy(x_train, y_train, x_held, y_held, settings["epochs"], seed)
    print(f"  baseline: the grader's MLP (Flatten -> Dense {BASELINE_UNITS} relu -> Dense {NUM_CLASSES} softmax, "
          f"{baseline_params:,} parameters), {settings['epochs']} epochs in {time.perf_counter() - start:.0f} s: "
          f"held-out accuracy {baseline:.4f}", flush=True)

    keras.utils.set_random_seed(seed)
    base.train_and_check(report, student, model, ((x_train, y_train), (x_val, y_val)), settings, CIFAR, "TODO 4")
    check_softmax_and_loss(report, model, x_held)

    y_pred = np.asarray(model.predict(x_held, batch_size=500, verbose=0)).argmax(axis=1)
    correct = int(np.sum(y_pred == y_held))
    accuracy = correct / len(y_held)
    beats = accuracy > baseline or accuracy == 1.0  # 둘 다 모두 맞히면(작은 가짜 데이터) 비긴 것도 통과
    verdict = ("matched (both perfect)" if accuracy == baseline else "beaten") if beats else "not beaten"
    report.check(
        "held-out accuracy", beats and accuracy >= FLOOR,
        f"{accuracy:.4f} ({correct:,} of {len(y_held):,} images, {params:,} parameters); the MLP baseline "
        f"{baseline:.4f}: {verdict}; the floor {FLOOR:.2f}: {'reached' if accuracy >= FLOOR else 'not reached'}",
    )


def grade_file(path, seed=base.GRADER_SEED, epochs=None, data_dir=None):
    """Grades one CIFAR-10 CNN file in this process and prints the report; returns the exit status (0: pass)."""
    path = Path(path).resolve()
    print(
        f"Grading {base.display(path)}: TODO 1-2 against Keras' own output shapes; TODO 3-4 a CNN of at most "
        f"{MAX_PARAMS:,} parameters trained on the grader's CIFAR-10 split (seed {seed}, up to {N_TRAIN:,} train / "
        f"{N_VAL:,} validation / {N_HELD:,} held-out images) must beat the grader's MLP baseline",
        flush=True,
    )
    return base.score(lambda report: grade(report, base.load_student(path, REQUIRED, TODOS, CIFAR), seed, epochs, data_dir))


HOMEWORK = base.Homework(
    week=2, title="CIFAR-10 CNN: output-shape arithmetic, a CNN under 100k parameters that beats an MLP (TODO 1-4)",
    template="week2/homework/cifar_cnn.py", names="cifar_cnn*.py", required=tuple(TODOS), grade_file=grade_file,
    options=("epochs", "data_dir"),
)
