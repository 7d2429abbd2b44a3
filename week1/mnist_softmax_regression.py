"""MNIST softmax regression: y = softmax(Wx + b), trained by mini-batch gradient descent.

요약: 슬라이드에서 유도한 소프트맥스 회귀(softmax regression)를 그대로 구현합니다.
가중치 W와 편향 b를 변수로 두고, 교차 엔트로피(cross-entropy)의 기울기를
tf.GradientTape로 구해 경사 하강법(gradient descent)으로 갱신합니다.

Run:    python week1/mnist_softmax_regression.py
Smoke:  python week1/mnist_softmax_regression.py --smoke
Keras:  python week1/mnist_softmax_regression.py --keras   (the same model as one Dense layer)
Offline: python week1/mnist_softmax_regression.py --data-dir DIR   (DIR holds the four MNIST .gz files)
Expect: test accuracy about 0.92 after 10 epochs, in well under a minute on a 2-core CPU.
        TensorBoard (`tensorboard --logdir runs`) shows loss/accuracy per epoch and the
        learned weights; weights.png shows one 28x28 template per digit.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # lets `import common` work from any folder

import numpy as np

from common import data, flags

NUM_FEATURES = 28 * 28  # each image becomes a vector x of 784 pixels
NUM_CLASSES = 10
SMOKE_TRAIN, SMOKE_TEST = 1000, 500  # examples used by --smoke

# TensorFlow takes seconds to import, so main() imports it only after the flags and the
# data files have been checked: `--help` and a bad file answer at once (import_tensorflow).
tf = keras = logs = runtime = None


def parse_args(argv=None):
    # Plain mini-batch gradient descent, 10 epochs of 600 steps. The original tutorial's step
    # of 0.5 also works but is noisy: test accuracy jumps by about 1% from epoch to epoch.
    parser = flags.make_parser(__file__, __doc__, epochs=10, batch_size=100, learning_rate=0.2)
    parser.add_argument("--keras", action="store_true", help="train the same model as a one-layer keras.Sequential")
    return flags.parse(parser, argv)


def import_tensorflow():
    global tf, keras, logs, runtime
    import keras
    import tensorflow as tf

    from common import logs, runtime


# 1. 데이터 / Prepare the data
def load_data(args):
    (x_train, y_train), (x_test, y_test) = data.load_mnist(args.data_dir)
    if args.smoke:
        x_train, y_train, x_test, y_test = x_train[:SMOKE_TRAIN], y_train[:SMOKE_TRAIN], x_test[:SMOKE_TEST], y_test[:SMOKE_TEST]
    # Flatten each 28x28 image into a row vector x (784,) and scale pixels to [0, 1].
    x_train = x_train.reshape(-1, NUM_FEATURES).astype("float32") / 255
    x_test = x_test.reshape(-1, NUM_FEATURES).astype("float32") / 255
    print(f"Data: {len(x_train)} train, {len(x_test)} test images")
    return (x_train, y_train.astype("int64")), (x_test, y_test.astype("int64"))


# 2. 모델 / The model: y = softmax(Wx + b)
def init_params():
    # Zeros are fine here: the loss is convex, so there is no symmetry to break.
    W = tf.Variable(tf.zeros([NUM_FEATURES, NUM_CLASSES]), name="W")  # one column per class
    b = tf.Variable(tf.zeros([NUM_CLASSES]), name="b")
    return W, b


def logits_fn(W, b, x):
    return tf.matmul(x, W) + b  # z = xW + b, shape (batch, 10); softmax(z) gives the probabilities y


def cross_entropy(logits, labels):
    # H(y', y) = -sum_k y'_k log y_k with y = softmax(z). log_softmax computes log y
    # without overflow, which is what tf.nn.softmax_cross_entropy_with_logits does too.
    y_true = tf.one_hot(labels, NUM_CLASSES)
    return -tf.reduce_mean(tf.reduce_sum(y_true * tf.nn.log_softmax(logits), axis=1))


def accuracy(logits, labels):
    return tf.reduce_mean(tf.cast(tf.argmax(logits, axis=1) == labels, tf.float32))


# 3. 학습 / Train: W := W - α ∂J/∂W, b := b - α ∂J/∂b on each mini-batch
def train(args, x_train, y_train, x_test, y_test):
    W, b = init_params()
    learning_rate = tf.constant(args.learning_rate)

    @tf.function  # traced once into a graph: each step then runs without Python overhead
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = logits_fn(W, b, x)
            loss = cross_entropy(logits, y)
        dW, db = tape.gradient(loss, [W, b])
        W.assign_sub(learning_rate * dW)
        b.assign_sub(learning_rate * db)
        return loss, accuracy(logits, y)

    train_ds = data.make_pipeline(x_train, y_train, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    steps = None if not args.smoke else 5  # --smoke: a few steps per epoch
    train_writer, test_writer = logs.writer(args.log_dir, "train"), logs.writer(args.log_dir, "test")
    history = []
    timer = logs.Timer()
    for epoch in range(args.epochs):
        losses, accs = [], []
        for x, y in train_ds.take(steps) if steps else train_ds:
            loss, acc = train_step(x, y)
            losses.append(float(loss))
            accs.append(float(acc))
        test_logits = logits_fn(W, b, x_test)
        test_loss, test_acc = float(cross_entropy(test_logits, y_test)), float(accuracy(test_logits, y_test))
        with train_writer.as_default():
            tf.summary.scalar("epoch_loss", np.mean(losses), step=epoch)
            tf.summary.scalar("epoch_accuracy", np.mean(accs), step=epoch)
        with test_writer.as_default():
            tf.summary.scalar("epoch_loss", test_loss, step=epoch)
            tf.summary.scalar("epoch_accuracy", test_acc, step=epoch)
        history.append((np.mean(losses), test_loss, test_acc))
        print(
            f"Epoch {epoch + 1}/{args.epochs}: train loss {np.mean(losses):.4f} acc {np.mean(accs):.4f}"
            f" | test loss {test_loss:.4f} acc {test_acc:.4f} | {timer.seconds():.1f}s"
        )
    return W.numpy(), b.numpy(), timer.seconds(), history


# 3b. 같은 모델을 Keras로 / The same model in Keras: one Dense layer with softmax
def train_keras(args, x_train, y_train, x_test, y_test):
    model = keras.Sequential([keras.Input((NUM_FEATURES,)), keras.layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32")])
    model.compile(
        optimizer=keras.optimizers.SGD(args.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    timer = logs.Timer()
    model.fit(
        x_train[:SMOKE_TRAIN] if args.smoke else x_train,
        y_train[:SMOKE_TRAIN] if args.smoke else y_train,
        batch_size=args.batch_size, epochs=args.epochs, validation_data=(x_test, y_test),
        callbacks=[logs.tensorboard_callback(args.log_dir)], verbose=2,
    )
    seconds = timer.seconds()
    W, b = model.layers[-1].get_weights()  # the same W (784, 10) and b (10,) as above
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    return W, b, seconds, test_loss, test_acc


# 4. 평가와 그림 / Evaluate and look at W
def save_weight_templates(W, log_dir):
    """Each column of W, reshaped to 28x28, is the pixel template its class scores against."""
    plt = logs.pyplot()
    fig, axes = plt.subplots(2, 5, figsize=(10, 4.4))
    limit = np.abs(W).max()
    for k, ax in enumerate(axes.flat):
        ax.imshow(W[:, k].reshape(28, 28), cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(f"{k}")
        ax.axis("off")
    fig.suptitle("클래스별 가중치 템플릿 (빨강: +, 파랑: -) / weight templates per class")
    logs.save_figure(fig, Path(log_dir) / "weights.png")
    # The same templates in TensorBoard's Images tab, scaled to [0, 1] (grey = 0).
    templates = (W.T.reshape(-1, 28, 28) / (2 * limit) + 0.5).clip(0, 1)
    logs.log_image(log_dir, "test", "weight_templates", logs.image_grid(templates, ncols=5))


def main(argv=None):
    args = parse_args(argv)
    (x_train, y_train), (x_test, y_test) = load_data(args)
    import_tensorflow()
    runtime.setup(args)
    if args.keras:
        W, b, seconds, test_loss, test_acc = train_keras(args, x_train, y_train, x_test, y_test)
    else:
        W, b, seconds, history = train(args, x_train, y_train, x_test, y_test)
        _, test_loss, test_acc = history[-1]
    save_weight_templates(W, args.log_dir)
    return logs.write_metrics(
        args.log_dir, test_accuracy=test_acc, test_loss=test_loss, train_seconds=round(seconds, 2),
        epochs=args.epochs, model="keras" if args.keras else "gradient_tape",
    )


if __name__ == "__main__":
    main()
