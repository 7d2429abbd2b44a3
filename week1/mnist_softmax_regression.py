"""MNIST softmax regression: y = softmax(Wx + b), trained by mini-batch gradient descent.

요약: 슬라이드에서 유도한 소프트맥스 회귀(softmax regression)를 그대로 구현합니다. 가중치 W와 편향 b를
변수로 두고, 교차 엔트로피(cross-entropy)의 기울기를 tf.GradientTape로 구해 경사 하강법(gradient descent)으로
갱신합니다. 검증 세트로 학습을 지켜보고, 테스트 세트는 마지막에 한 번만 평가합니다.

Run:    python week1/mnist_softmax_regression.py   (--keras: the same model as one Dense layer)
Smoke:  python week1/mnist_softmax_regression.py --smoke
Expect: test accuracy about 0.92 after 10 epochs, well under a minute on a 2-core CPU (README table).
        TensorBoard (`tensorboard --logdir runs`) shows train and validation loss/accuracy per epoch;
        weights.png shows the learned W as one 28x28 template per digit.
"""

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
PARSER = flags.make_parser(__file__, __doc__, epochs=10, batch_size=100, learning_rate=0.2)
PARSER.add_argument("--keras", action="store_true", help="train the same model as a one-layer keras.Sequential")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
import numpy as np
import tensorflow as tf

from common import data, runtime, tb

NUM_FEATURES = 28 * 28  # 이미지 한 장이 픽셀 784개짜리 벡터 x가 됩니다
NUM_CLASSES = 10
VALIDATION = 5000  # 학습 세트의 마지막 5,000장: 검증 세트 (학습에는 쓰지 않음)
SMOKE_TRAIN, SMOKE_VALIDATION, SMOKE_TEST = 1000, 200, 500


# 1. 데이터 / Prepare the data
def load_data(data_dir=None, smoke=False):
    """Returns (x_train, y_train), (x_val, y_val), (x_test, y_test); x is (N, 784) in [0, 1], y int64."""
    (x_train, y_train), (x_test, y_test) = data.load_mnist(data_dir)
    if smoke:
        x_train, y_train = x_train[:SMOKE_TRAIN], y_train[:SMOKE_TRAIN]
        x_test, y_test = x_test[:SMOKE_TEST], y_test[:SMOKE_TEST]
    # 28x28 이미지를 한 줄로 펴서 행 벡터 x (784,)로 만듭니다. 레이블은 tf.argmax의 결과(int64)와 비교합니다.
    x_train = x_train.reshape(-1, NUM_FEATURES).astype("float32") / 255
    x_test = x_test.reshape(-1, NUM_FEATURES).astype("float32") / 255
    y_train, y_test = y_train.astype("int64"), y_test.astype("int64")
    # 검증 세트(validation set)는 학습 세트에서 떼어 냅니다. 테스트 세트는 끝까지 보지 않습니다.
    n_val = SMOKE_VALIDATION if smoke else VALIDATION
    x_val, y_val = x_train[-n_val:], y_train[-n_val:]
    x_train, y_train = x_train[:-n_val], y_train[:-n_val]
    print(f"Data: {len(x_train)} train, {len(x_val)} validation, {len(x_test)} test images")
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)


# 2. 모델 / The model: y = softmax(Wx + b)
def init_params():
    # 0으로 시작해도 됩니다: 손실이 볼록(convex)해서 깨야 할 대칭이 없습니다.
    W = tf.Variable(tf.zeros([NUM_FEATURES, NUM_CLASSES]), name="W")  # 클래스마다 열 하나
    b = tf.Variable(tf.zeros([NUM_CLASSES]), name="b")
    return W, b


def logits_fn(W, b, x):
    return tf.matmul(x, W) + b  # z = xW + b: (batch, 10). softmax(z)가 확률 y입니다


def cross_entropy(logits, labels):
    # H(y', y) = -Σ_k y'_k log y_k, y = softmax(z). log_softmax는 log y를 넘침(overflow) 없이 계산합니다
    # (tf.nn.softmax_cross_entropy_with_logits도 같은 방법을 씁니다).
    y_true = tf.one_hot(labels, NUM_CLASSES)
    return -tf.reduce_mean(tf.reduce_sum(y_true * tf.nn.log_softmax(logits), axis=1))


def accuracy(logits, labels):
    return tf.reduce_mean(tf.cast(tf.argmax(logits, axis=1) == labels, tf.float32))


def evaluate(W, b, x, y):
    """(loss, accuracy) of the model W, b on a whole set, as Python floats."""
    logits = logits_fn(W, b, x)
    return float(cross_entropy(logits, y)), float(accuracy(logits, y))


def log_scalars(writer, loss, acc, step):
    """Writes epoch_loss and epoch_accuracy, the tags Keras' TensorBoard callback uses."""
    with writer.as_default():
        tf.summary.scalar("epoch_loss", loss, step=step)
        tf.summary.scalar("epoch_accuracy", acc, step=step)


# 3. 학습 / Train: W := W - α ∂J/∂W, b := b - α ∂J/∂b on each mini-batch
def train(x_train, y_train, x_val, y_val, epochs, batch_size, learning_rate, log_dir, seed=42):
    """Hand-written mini-batch gradient descent; returns (W, b, history, seconds of training).

    history has Keras' keys: loss and accuracy (training set), val_loss and val_accuracy.
    """
    W, b = init_params()
    alpha = tf.constant(learning_rate)

    @tf.function  # 한 번 그래프로 바꿔 두면(tracing) 스텝마다 파이썬을 거치지 않습니다
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = logits_fn(W, b, x)
            loss = cross_entropy(logits, y)
        dW, db = tape.gradient(loss, [W, b])  # 자동 미분(automatic differentiation)
        W.assign_sub(alpha * dW)
        b.assign_sub(alpha * db)
        return loss, accuracy(logits, y)

    train_ds = data.make_pipeline(x_train, y_train, batch_size=batch_size, shuffle=True, seed=seed)
    train_writer, val_writer = tb.writer(log_dir, "train"), tb.writer(log_dir, "validation")
    history = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}
    timer = tb.Timer()
    for epoch in range(epochs):
        losses, accs = [], []
        for step, (x, y) in enumerate(train_ds):
            loss, acc = train_step(x, y)
            losses.append(float(loss))
            accs.append(float(acc))
            if not math.isfinite(losses[-1]):
                tb.stop_on_nan(losses[-1], f"epoch {epoch + 1}, step {step + 1}", log_dir)
        # 학습 손실은 에포크 동안 가중치가 바뀌는 중에 잰 미니배치 평균, 검증 손실은 에포크 끝의 W, b로 잰 값입니다.
        train_loss, train_acc = float(np.mean(losses)), float(np.mean(accs))
        val_loss, val_acc = evaluate(W, b, x_val, y_val)
        log_scalars(train_writer, train_loss, train_acc, epoch)
        log_scalars(val_writer, val_loss, val_acc, epoch)
        for key, value in zip(history, (train_loss, train_acc, val_loss, val_acc)):
            history[key].append(value)
        print(
            f"Epoch {epoch + 1}/{epochs}: train loss {train_loss:.4f} acc {train_acc:.4f}"
            f" | validation loss {val_loss:.4f} acc {val_acc:.4f} | {timer.seconds():.1f}s"
        )
    return W.numpy(), b.numpy(), history, timer.seconds()


# 3b. 같은 모델을 Keras로 / The same model in Keras: one Dense layer with softmax
def build_keras_model(learning_rate=0.2):
    """softmax(xW + b) as one Dense layer, compiled with plain SGD and cross-entropy."""
    model = keras.Sequential(
        [keras.Input((NUM_FEATURES,)), keras.layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32")]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model


def train_keras(model, x_train, y_train, x_val, y_val, epochs, batch_size, log_dir, seed=42):
    """Fits the Keras model; returns (history dict, seconds of training)."""
    train_ds = data.make_pipeline(x_train, y_train, batch_size=batch_size, shuffle=True, seed=seed)
    val_ds = data.make_pipeline(x_val, y_val, batch_size=1000)
    timer = tb.Timer()
    history = model.fit(
        train_ds, validation_data=val_ds, epochs=epochs, verbose=2,
        callbacks=[tb.tensorboard_callback(log_dir), tb.StopOnNaN(log_dir)],
    )
    return history.history, timer.seconds()


# 4. 그림 / Look at W
def save_weight_templates(W, log_dir):
    """Each column of W, reshaped to 28x28, is the pixel template its class scores against."""
    plt = tb.pyplot()
    fig, axes = plt.subplots(2, 5, figsize=(10, 4.4))
    limit = np.abs(W).max()
    for k, ax in enumerate(axes.flat):
        ax.imshow(W[:, k].reshape(28, 28), cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(f"{k}")
        ax.axis("off")
    fig.suptitle("클래스별 가중치 템플릿 (빨강: +, 파랑: -) / weight templates per class")
    tb.save_figure(fig, Path(log_dir) / "weights.png", log_dir=log_dir)


def main(argv=None):
    args = flags.parse(PARSER, argv)
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_data(args.data_dir, args.smoke)
    runtime.setup(args)  # 장치, 시드, 실행 폴더와 config.json (모델이 작아서 분산 전략은 쓰지 않습니다)
    if args.keras:
        model = build_keras_model(args.learning_rate)
        history, seconds = train_keras(
            model, x_train, y_train, x_val, y_val, args.epochs, args.batch_size, args.log_dir, args.seed
        )
        W, b = model.layers[-1].get_weights()  # 위와 같은 W (784, 10)와 b (10,): 평가도 같은 evaluate()로
    else:
        W, b, history, seconds = train(
            x_train, y_train, x_val, y_val, args.epochs, args.batch_size, args.learning_rate, args.log_dir, args.seed
        )

    # 5. 평가 / Evaluate on the test set, once
    test_loss, test_acc = evaluate(W, b, x_test, y_test)
    print(f"Test: loss {test_loss:.4f}, accuracy {test_acc:.4f}")
    log_scalars(tb.writer(args.log_dir, "test"), test_loss, test_acc, args.epochs - 1)  # TensorBoard에는 마지막 에포크 자리에 점 하나
    save_weight_templates(W, args.log_dir)
    return tb.write_metrics(
        args.log_dir, test_accuracy=test_acc, test_loss=test_loss, val_accuracy=history["val_accuracy"][-1],
        train_seconds=round(seconds, 2), epochs=args.epochs, model="keras" if args.keras else "gradient_tape",
    )


if __name__ == "__main__":
    main()
