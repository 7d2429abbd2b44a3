"""MNIST convolutional network: two conv/pool blocks and a small dense head that learns fast on a CPU.

요약: 합성곱(convolution)은 작은 필터를 이미지 전체에 밀어 가며 같은 가중치로 지역 패턴을 찾고,
풀링(pooling)은 위치가 조금 바뀌어도 같은 답을 내도록 크기를 줄입니다. 학습 세트에서 떼어 낸
검증 세트로 학습을 지켜보고, 테스트 세트는 마지막에 한 번만 평가합니다.

Run:    python week1/mnist_cnn.py
Smoke:  python week1/mnist_cnn.py --smoke
Expect: test accuracy about 0.993 after 6 epochs (0.993 or more over three seeds),
        about a minute and a half on a 2-core CPU (README table).
        filters.png shows the 32 first-layer filters and what they make of one digit;
        mistakes.png the test digits it gets wrong. week1/README.md says how the settings were chosen.
"""

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
PARSER = flags.make_parser(__file__, __doc__, epochs=6, batch_size=64, learning_rate=3e-3)
PARSER.add_argument("--dropout", type=float, default=0.25, help="dropout around the dense layer (default: %(default)s)")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
import numpy as np
from keras import layers

from common import data, runtime, tb

NUM_CLASSES = 10
VALIDATION = 5000  # 학습 세트의 마지막 5,000장: 검증 세트 (학습에는 쓰지 않음)
SMOKE_TRAIN, SMOKE_VALIDATION, SMOKE_TEST = 1000, 200, 500


# 1. 데이터 / Prepare the data
def load_data(data_dir=None, smoke=False):
    """Returns (x_train, y_train), (x_val, y_val), (x_test, y_test); images (N, 28, 28, 1) in [0, 1]."""
    (x_train, y_train), (x_test, y_test) = data.load_mnist(data_dir)
    if smoke:
        x_train, y_train = x_train[:SMOKE_TRAIN], y_train[:SMOKE_TRAIN]
        x_test, y_test = x_test[:SMOKE_TEST], y_test[:SMOKE_TEST]
    # 합성곱 층은 (높이, 너비, 채널) 모양을 받습니다: 흑백이라 채널은 1개. (28, 28) -> (28, 28, 1)
    x_train = x_train[..., None].astype("float32") / 255
    x_test = x_test[..., None].astype("float32") / 255
    # 검증 세트(validation set)는 학습 세트에서 떼어 냅니다. 테스트 세트는 끝까지 보지 않습니다.
    n_val = SMOKE_VALIDATION if smoke else VALIDATION
    x_val, y_val = x_train[-n_val:], y_train[-n_val:]
    x_train, y_train = x_train[:-n_val], y_train[:-n_val]
    print(f"Data: {len(x_train)} train, {len(x_val)} validation, {len(x_test)} test images")
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)


# 2. 모델 / Build the model
def build_model(learning_rate=3e-3, dropout=0.25, total_steps=1000):
    """Two conv/pool blocks, a 128-unit dense layer, softmax over 10 digits; compiled with Adam."""
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu", name="conv1"),  # 3x3 필터 32개: (26, 26, 32)
            layers.MaxPooling2D(2),  # 2x2 영역마다 가장 큰 값만 남김: (13, 13, 32)
            layers.Conv2D(64, 3, activation="relu", name="conv2"),  # (11, 11, 64)
            layers.MaxPooling2D(2),  # (5, 5, 64)
            layers.Flatten(),  # 1,600개 특징
            layers.Dropout(dropout),
            layers.Dense(128, activation="relu"),
            layers.Dropout(dropout),
            layers.Dense(NUM_CLASSES),
            layers.Activation("softmax", dtype="float32"),  # 혼합 정밀도(mixed precision)에서도 확률은 float32로
        ],
        name="cnn",
    )
    # 학습률 스케줄(learning-rate schedule): 코사인 곡선을 따라 learning_rate에서 0까지 줄어듭니다.
    # 처음에는 크게 움직여 빨리 배우고, 끝에는 작게 움직여 자리를 잡습니다.
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=total_steps)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model


# 3. 학습 / Train, watching the validation set
def train(model, x_train, y_train, x_val, y_val, epochs, batch_size, log_dir, seed=42):
    """Fits the model; returns (history, seconds of training)."""
    train_ds = data.make_pipeline(x_train, y_train, batch_size=batch_size, shuffle=True, seed=seed)
    val_ds = data.make_pipeline(x_val, y_val, batch_size=1000)
    timer = tb.Timer()
    history = model.fit(
        train_ds, validation_data=val_ds, epochs=epochs, verbose=2,
        callbacks=[tb.tensorboard_callback(log_dir), tb.StopOnNaN(log_dir)],
    )
    return history, timer.seconds()


# 4. 그림 / Look inside: filters, feature maps, mistakes
def save_filters(model, image, log_dir):
    """The 32 first-layer 3x3 filters, and the 32 feature maps they make of one digit."""
    conv1 = model.get_layer("conv1")
    kernels = conv1.get_weights()[0][:, :, 0, :].transpose(2, 0, 1)  # (32, 3, 3)
    feature_maps = keras.Model(model.inputs, conv1.output)([image[None]])[0].numpy().transpose(2, 0, 1)  # (32, 26, 26)
    plt = tb.pyplot()
    fig, axes = plt.subplots(4, 16, figsize=(14, 4))
    for i in range(32):
        top, bottom = axes[2 * (i // 16), i % 16], axes[2 * (i // 16) + 1, i % 16]
        top.imshow(kernels[i], cmap="RdBu_r")
        bottom.imshow(feature_maps[i], cmap="gray")
        top.axis("off")
        bottom.axis("off")
    fig.suptitle("1층 필터(3x3)와 그 필터가 만든 특징 맵 / conv1 filters and their feature maps of one digit")
    tb.save_figure(fig, Path(log_dir) / "filters.png")
    maps = feature_maps / (feature_maps.max(axis=(1, 2), keepdims=True) + 1e-8)
    tb.log_image(log_dir, "test", "conv1_feature_maps", tb.image_grid(maps, ncols=8))


def save_mistakes(x_test, y_test, predictions, log_dir, limit=40):
    """Up to `limit` test digits the model gets wrong, titled true→predicted."""
    wrong = np.flatnonzero(predictions.argmax(axis=1) != y_test)[:limit]
    plt = tb.pyplot()
    cols = 10
    rows = max(1, math.ceil(len(wrong) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.2, rows * 1.45), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, wrong):
        ax.imshow(x_test[i, :, :, 0], cmap="gray_r")
        ax.set_title(f"{y_test[i]}→{predictions[i].argmax()}", fontsize=9)
    fig.suptitle(f"틀린 예 {len(wrong)}개: 정답→예측 / mistakes: true→predicted")
    tb.save_figure(fig, Path(log_dir) / "mistakes.png")
    if len(wrong):
        tb.log_image(log_dir, "test", "mistakes", tb.image_grid(x_test[wrong, :, :, 0], ncols=cols))


def main(argv=None):
    args = flags.parse(PARSER, argv)
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_data(args.data_dir, args.smoke)
    strategy = runtime.setup(args)
    total_steps = args.epochs * math.ceil(len(x_train) / args.batch_size)
    with strategy.scope():  # GPU 한 장, 여러 장, CPU: 같은 코드
        model = build_model(args.learning_rate, args.dropout, total_steps)
    model.summary()
    history, seconds = train(model, x_train, y_train, x_val, y_val, args.epochs, args.batch_size, args.log_dir, args.seed)

    # 5. 평가 / Evaluate on the test set, once
    predictions = model.predict(x_test, batch_size=1000, verbose=0)
    test_acc = float(np.mean(predictions.argmax(axis=1) == y_test))
    print(f"Test accuracy: {test_acc:.4f}")
    save_filters(model, x_test[0], args.log_dir)
    save_mistakes(x_test, y_test, predictions, args.log_dir)
    return tb.write_metrics(
        args.log_dir, test_accuracy=test_acc, val_accuracy=history.history["val_accuracy"][-1],
        train_seconds=round(seconds, 2), epochs=args.epochs,
    )


if __name__ == "__main__":
    main()
