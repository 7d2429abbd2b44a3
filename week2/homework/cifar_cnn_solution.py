"""CIFAR-10 CNN homework, reference solution: output-shape arithmetic and a CNN under 100,000 parameters.

요약: 과제 cifar_cnn.py의 모범 답안입니다. 합성곱(convolution)·풀링(pooling)의 출력 크기를 손으로 계산하고,
파라미터 100,000개 이하의 작은 CNN을 CIFAR-10 사진 10,000장으로 학습해 테스트 세트에서 평가합니다.
함수 이름과 인자는 템플릿과 같아서 채점기로 똑같이 채점할 수 있습니다.

Run:    python week2/homework/cifar_cnn_solution.py
Smoke:  python week2/homework/cifar_cnn_solution.py --smoke
Grade:  python scripts/grade_homework.py week2/homework/cifar_cnn_solution.py
Expect: the shapes of week2/cifar10_cnn.py's conv/pool stack, the model summary (66,570 parameters), a few
        minutes of training on a 2-core CPU, the test accuracy (README.md has the measured numbers) and
        learning_curves.png in the run folder.
"""

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
# 채점기도 이 기본값(에포크, 배치 크기, 학습률)으로 학습합니다.
PARSER = flags.make_parser(__file__, __doc__, epochs=5, batch_size=64, learning_rate=2e-3)
PARSER.set_defaults(mixed_precision="off")  # 작은 CNN: 16비트 계산으로 얻는 것이 없습니다
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
import numpy as np
from keras import layers

from common import data, runtime, tb

INPUT_SHAPE, NUM_CLASSES = (32, 32, 3), 10
MAX_PARAMS = 100_000  # 파라미터 예산: 채점기가 model.count_params()로 셉니다
N_TRAIN, N_VAL = 10_000, 1_000  # 학습 세트 50,000장 중 앞의 10,000장으로 학습, 다음 1,000장은 검증 세트
SMOKE_TRAIN, SMOKE_VAL, SMOKE_TEST = 1000, 200, 500
# week2/cifar10_cnn.py의 합성곱·풀링 층 (배치 정규화와 ReLU는 모양을 바꾸지 않으므로 뺌)
COURSE_STACK = [
    ("conv", 32, 3, 1, "same"), ("pool", 2, None, "valid"), ("conv", 32, 3, 1, "same"),
    ("conv", 64, 3, 1, "same"), ("pool", 2, None, "valid"), ("conv", 64, 3, 1, "same"),
    ("conv", 128, 3, 1, "same"), ("pool", 2, None, "valid"), ("conv", 128, 3, 1, "same"), ("flatten",),
]


# 1. 출력 크기 / The output size of a conv or pooling layer along one axis
def conv_output_size(size, kernel, stride=1, padding="valid"):
    """Output length along one axis of Conv2D or MaxPooling2D with this kernel (window), stride and padding."""
    if padding == "valid":
        # 패딩 없음: 창(kernel)이 통째로 들어가는 자리만. 첫 자리 하나 + 남은 (size - kernel)칸을 stride씩
        return (size - kernel) // stride + 1
    if padding == "same":
        # Keras의 'same': 가장자리를 0으로 채워 ceil(size / stride)개의 자리를 만듭니다 (커널 크기와 상관없이)
        return math.ceil(size / stride)
    raise ValueError(f"padding must be 'valid' or 'same', not {padding!r}")


# 2. 층을 쌓으면 / The shape after each layer of a conv/pool stack
def output_shapes(input_shape, stack):
    """[(height, width, channels) after each layer, or (features,) after a flatten], without the batch axis."""
    height, width, channels = input_shape
    shapes = []
    for spec in stack:
        if spec[0] == "conv":
            _, filters, kernel, strides, padding = spec
            height = conv_output_size(height, kernel, strides, padding)
            width = conv_output_size(width, kernel, strides, padding)
            channels = filters  # 필터 하나가 특징 맵 하나
            shapes.append((height, width, channels))
        elif spec[0] == "pool":
            _, pool, strides, padding = spec
            strides = strides or pool  # Keras의 MaxPooling2D: strides=None이면 창 크기만큼
            height = conv_output_size(height, pool, strides, padding)
            width = conv_output_size(width, pool, strides, padding)
            shapes.append((height, width, channels))  # 풀링은 채널 수를 바꾸지 않습니다
        elif spec[0] == "flatten":
            shapes.append((height * width * channels,))
        else:
            raise ValueError(f"unknown layer {spec!r}: use 'conv', 'pool' or 'flatten'")
    return shapes


# 3. 데이터 / Prepare the data (the grader makes its own split)
def load_data(data_dir=None, smoke=False):
    """(x_train, y_train), (x_val, y_val), (x_test, y_test), class_names; images (N, 32, 32, 3) in [0, 1]."""
    (x_all, y_all), (x_test, y_test), class_names = data.load_cifar10(data_dir)
    n_train, n_val = (SMOKE_TRAIN, SMOKE_VAL) if smoke else (N_TRAIN, N_VAL)
    n_val = min(n_val, len(x_all) // 10)  # 사진이 적으면(시험용 작은 데이터) 비율로
    n_train = min(n_train, len(x_all) - n_val)
    if smoke:
        x_test, y_test = x_test[:SMOKE_TEST], y_test[:SMOKE_TEST]
    x_train, y_train = x_all[:n_train], y_all[:n_train]
    x_val, y_val = x_all[n_train:n_train + n_val], y_all[n_train:n_train + n_val]
    x_train, x_val, x_test = (x.astype("float32") / 255 for x in (x_train, x_val, x_test))
    print(f"Data: {len(x_train)} train, {len(x_val)} validation, {len(x_test)} test images of shape {x_train.shape[1:]}")
    return (x_train, y_train.astype("int32")), (x_val, y_val.astype("int32")), (x_test, y_test.astype("int32")), class_names


# 4. 모델 / Build a CNN with at most MAX_PARAMS parameters
def build_model(input_shape=INPUT_SHAPE, num_classes=NUM_CLASSES):
    """Three conv-pool blocks (32, 64, 64 filters) and a softmax layer: 66,570 parameters, not yet compiled."""
    return keras.Sequential([
        keras.Input(shape=input_shape),
        layers.Conv2D(32, 3, padding="same", activation="relu"),  # (32, 32, 32): 3*3*3*32 + 32 = 896
        layers.MaxPooling2D(),                                    # (16, 16, 32)
        layers.Conv2D(64, 3, padding="same", activation="relu"),  # (16, 16, 64): 3*3*32*64 + 64 = 18,496
        layers.MaxPooling2D(),                                    # (8, 8, 64)
        layers.Conv2D(64, 3, padding="same", activation="relu"),  # (8, 8, 64): 36,928
        layers.MaxPooling2D(),                                    # (4, 4, 64)
        layers.Flatten(),                                         # 1,024개 특징
        layers.Dense(num_classes, activation="softmax"),          # 1,024*10 + 10 = 10,250
    ])


# 5. 학습 / Train: cross-entropy, Adam, mini-batches, watching the validation set
def train_model(model, x_train, y_train, x_val, y_val, epochs=5, batch_size=64, learning_rate=2e-3, callbacks=()):
    """Compiles and fits `model` in place; returns the History (loss, accuracy, val_loss, val_accuracy per epoch)."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        # 모델이 소프트맥스로 끝나므로 손실은 확률을 받습니다 (from_logits=False가 기본값)
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model.fit(
        x_train, y_train, validation_data=(x_val, y_val), epochs=epochs, batch_size=batch_size,
        callbacks=list(callbacks), verbose=2,
    )


# 그림 / Learning curves
def save_curves(history, log_dir):
    plt = tb.pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    epochs = np.arange(1, len(history.history["loss"]) + 1)
    for key, style in (("accuracy", "o-"), ("val_accuracy", "o--")):
        ax.plot(epochs, history.history[key], style, label=key)
    ax.set_xlabel("에포크 / epoch")
    ax.set_ylabel("정확도 / accuracy")
    ax.set_title("학습·검증 정확도 / training and validation accuracy")
    ax.legend()
    tb.save_figure(fig, Path(log_dir) / "learning_curves.png")


def main(argv=None):
    args = flags.parse(PARSER, argv)
    examples = [(32, 3, 1, "valid"), (32, 3, 1, "same"), (31, 2, 2, "valid"), (7, 3, 2, "same")]
    print("conv_output_size(size, kernel, stride, padding): " + ", ".join(
        f"{example} -> {conv_output_size(*example)}" for example in examples))
    print("Output shapes of week2/cifar10_cnn.py's conv/pool layers for a (32, 32, 3) image:")
    for spec, shape in zip(COURSE_STACK, output_shapes(INPUT_SHAPE, COURSE_STACK)):
        print(f"  {str(spec):32s} -> {shape}")
    (x_train, y_train), (x_val, y_val), (x_test, y_test), class_names = load_data(args.data_dir, args.smoke)
    strategy = runtime.setup(args)  # 장치, 시드, 실행 폴더와 config.json
    with strategy.scope():
        model = build_model(INPUT_SHAPE, len(class_names))
    model.summary()
    params = model.count_params()
    print(f"Parameters: {params:,} of the budget {MAX_PARAMS:,}" + (" (over the budget!)" if params > MAX_PARAMS else ""))
    timer = tb.Timer()
    history = train_model(
        model, x_train, y_train, x_val, y_val, args.epochs, args.batch_size, args.learning_rate,
        callbacks=[tb.tensorboard_callback(args.log_dir), tb.StopOnNaN(args.log_dir)],
    )
    seconds = timer.seconds()

    # 6. 평가 / Evaluate on the test set, once
    y_pred = model.predict(x_test, batch_size=500, verbose=0).argmax(axis=1)
    test_accuracy = float(np.mean(y_pred == y_test))
    print(f"Test accuracy: {test_accuracy:.4f} on {len(y_test)} test images; {seconds:.0f}s of training")
    save_curves(history, args.log_dir)
    return tb.write_metrics(
        args.log_dir, test_accuracy=test_accuracy, val_accuracy=history.history["val_accuracy"][-1],
        params=params, train_seconds=round(seconds, 1), epochs=args.epochs,
    )


if __name__ == "__main__":
    main()
