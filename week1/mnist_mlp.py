"""MNIST multilayer perceptron: two hidden ReLU layers with dropout, trained with Adam.

요약: 슬라이드의 순전파(forward propagation) a(l+1) = f(W(l) a(l) + b(l))를 Keras의 Dense 층으로 쌓은
다층 퍼셉트론(MLP)입니다. 은닉층의 활성화 함수는 ReLU이고, 과적합(overfitting)을 줄이려고 드롭아웃(dropout)을
씁니다. 학습 세트에서 떼어 낸 검증 세트로 학습을 지켜보고, 테스트 세트는 마지막에 한 번만 평가합니다.

Run:    python week1/mnist_mlp.py
Smoke:  python week1/mnist_mlp.py --smoke
Expect: test accuracy about 0.985 after 15 epochs, about a minute on a 2-core CPU (README table).
        TensorBoard shows train vs validation loss/accuracy per epoch; first_layer.png shows
        100 of the 512 learned first-layer weight patterns.
"""

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
PARSER = flags.make_parser(__file__, __doc__, epochs=15, batch_size=128, learning_rate=1e-3)
PARSER.add_argument("--hidden", type=int, default=512, help="units in each hidden layer (default: %(default)s)")
PARSER.add_argument(
    "--dropout", type=float, default=0.3, help="fraction of hidden units dropped while training (default: %(default)s)"
)
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
    """Returns (x_train, y_train), (x_val, y_val), (x_test, y_test); images as (N, 784) in [0, 1]."""
    (x_train, y_train), (x_test, y_test) = data.load_mnist(data_dir)
    if smoke:
        x_train, y_train = x_train[:SMOKE_TRAIN], y_train[:SMOKE_TRAIN]
        x_test, y_test = x_test[:SMOKE_TEST], y_test[:SMOKE_TEST]
    # 이미지 한 장이 픽셀 784개짜리 벡터가 됩니다: MLP는 2차원 구조를 보지 않습니다.
    x_train = x_train.reshape(len(x_train), -1).astype("float32") / 255
    x_test = x_test.reshape(len(x_test), -1).astype("float32") / 255
    # 검증 세트(validation set)는 학습 세트에서 떼어 냅니다. 테스트 세트는 끝까지 보지 않습니다.
    n_val = SMOKE_VALIDATION if smoke else VALIDATION
    x_val, y_val = x_train[-n_val:], y_train[-n_val:]
    x_train, y_train = x_train[:-n_val], y_train[:-n_val]
    print(f"Data: {len(x_train)} train, {len(x_val)} validation, {len(x_test)} test images")
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)


# 2. 모델 / Build the model: 784 -> 512 -> 512 -> 10
def build_model(hidden=512, dropout=0.3, learning_rate=1e-3, total_steps=1000):
    """Two hidden ReLU layers with dropout, softmax over 10 digits; compiled with Adam."""
    model = keras.Sequential(
        [
            keras.Input(shape=(784,)),
            layers.Dense(hidden, activation="relu"),  # a2 = ReLU(W1 x + b1)
            layers.Dropout(dropout),  # 학습 중에만: 유닛마다 이 확률로 꺼집니다
            layers.Dense(hidden, activation="relu"),  # a3 = ReLU(W2 a2 + b2)
            layers.Dropout(dropout),
            layers.Dense(NUM_CLASSES),  # 로짓(logits) z
            # 소프트맥스(softmax)로 확률을 만들고, 손실은 그 확률을 받습니다(from_logits=False).
            # 혼합 정밀도(mixed precision)에서도 확률은 float32로 계산합니다.
            layers.Activation("softmax", dtype="float32"),
        ],
        name="mlp",
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


# 4. 그림 / Look at what the first layer learned
def save_first_layer(model, log_dir):
    """Each column of W1 is a 28x28 pattern a first-layer unit responds to."""
    W1 = model.layers[0].get_weights()[0]  # (784, hidden)
    n = min(100, W1.shape[1])
    patterns = W1[:, :n].T.reshape(n, 28, 28)
    limit = np.abs(patterns).max(axis=(1, 2), keepdims=True)
    patterns = patterns / (2 * limit) + 0.5  # 회색 = 0, 밝은 쪽 = +, 어두운 쪽 = -
    plt = tb.pyplot()
    fig, ax = plt.subplots(figsize=(7, 7))
    ax.imshow(tb.image_grid(patterns, ncols=10)[..., 0], cmap="gray", vmin=0, vmax=1)
    ax.axis("off")
    ax.set_title(f"첫 번째 은닉층 가중치 {n}개 / first-layer weights")
    tb.save_figure(fig, Path(log_dir) / "first_layer.png", log_dir=log_dir)


def main(argv=None):
    args = flags.parse(PARSER, argv)
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_data(args.data_dir, args.smoke)
    strategy = runtime.setup(args)
    total_steps = args.epochs * math.ceil(len(x_train) / args.batch_size)
    with strategy.scope():  # GPU 한 장, 여러 장, CPU: 같은 코드
        model = build_model(args.hidden, args.dropout, args.learning_rate, total_steps)
    model.summary()
    history, seconds = train(
        model, x_train, y_train, x_val, y_val, args.epochs, args.batch_size, args.log_dir, args.seed
    )

    # 5. 평가 / Evaluate on the test set, once
    test_loss, test_acc = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    print(f"Test: loss {test_loss:.4f}, accuracy {test_acc:.4f}")
    save_first_layer(model, args.log_dir)
    return tb.write_metrics(
        args.log_dir, test_accuracy=test_acc, test_loss=test_loss, val_accuracy=history.history["val_accuracy"][-1],
        train_seconds=round(seconds, 2), epochs=len(history.history["loss"]),
    )


if __name__ == "__main__":
    main()
