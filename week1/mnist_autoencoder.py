"""MNIST autoencoder: squeeze each image through a 64-number code and rebuild it.

요약: 오토인코더(autoencoder)는 입력을 작은 코드(code)로 압축하는 인코더와 코드에서 입력을
다시 만드는 디코더로 이루어지고, 정답 레이블 없이 "입력 = 목표"로 학습합니다(비지도 학습).
784개 픽셀을 64개 숫자로 줄였다가 되살린 결과를 원본과 나란히 봅니다.

Run:    python week1/mnist_autoencoder.py
Smoke:  python week1/mnist_autoencoder.py --smoke
Expect: test MSE (mean squared error per pixel, pixels in [0, 1]) below 0.008 after 10 epochs,
        a few minutes on a 2-core CPU. reconstructions.png shows originals (top) and
        reconstructions (bottom); TensorBoard's Images tab shows them improving epoch by epoch.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # lets `import common` work from any folder

import numpy as np

from common import data, flags

SMOKE_TRAIN, SMOKE_TEST = 1000, 500
NUM_SHOWN = 10  # test digits shown as original vs reconstruction

# TensorFlow takes seconds to import, so main() imports it only after the flags and the
# data files have been checked: `--help` and a bad file answer at once.
tf = keras = layers = logs = runtime = None


def parse_args(argv=None):
    parser = flags.make_parser(__file__, __doc__, epochs=10, batch_size=128, learning_rate=1e-3)
    parser.add_argument("--code-size", type=int, default=64, help="numbers in the code each image is squeezed into (default: %(default)s)")
    parser.add_argument("--hidden", type=int, default=512, help="units in the hidden layers (default: %(default)s)")
    return flags.parse(parser, argv)


def import_tensorflow():
    global tf, keras, layers, logs, runtime
    import keras
    import tensorflow as tf
    from keras import layers

    from common import logs, runtime


# 1. 데이터 / Prepare the data: images only, no labels
def load_data(args):
    (x_train, _), (x_test, _) = data.load_mnist(args.data_dir)
    if args.smoke:
        x_train, x_test = x_train[:SMOKE_TRAIN], x_test[:SMOKE_TEST]
    x_train = x_train.reshape(len(x_train), -1).astype("float32") / 255
    x_test = x_test.reshape(len(x_test), -1).astype("float32") / 255
    print(f"Data: {len(x_train)} train, {len(x_test)} test images")
    return x_train, x_test


# 2. 모델 / Build the model: encoder 784 -> 512 -> 64, decoder 64 -> 512 -> 784
def build_model(args):
    encoder = keras.Sequential(
        [keras.Input(shape=(784,)), layers.Dense(args.hidden, activation="relu"), layers.Dense(args.code_size)],
        name="encoder",
    )
    decoder = keras.Sequential(
        [
            keras.Input(shape=(args.code_size,)),
            layers.Dense(args.hidden, activation="relu"),
            layers.Dense(784, activation="sigmoid", dtype="float32"),  # pixels in [0, 1]
        ],
        name="decoder",
    )
    autoencoder = keras.Sequential([encoder, decoder], name="autoencoder")
    # Binary cross-entropy per pixel trains faster than MSE for outputs in [0, 1] (no σ' factor
    # in its gradient, see mse_vs_cross_entropy.py); we still report MSE, the number people compare.
    autoencoder.compile(
        optimizer=keras.optimizers.Adam(args.learning_rate),
        loss="binary_crossentropy",
        metrics=[keras.metrics.MeanSquaredError(name="mse")],
    )
    return autoencoder, encoder


def pairs_grid(originals, reconstructions):
    """Originals on the top row, their reconstructions below, as one (2*28, n*28) grid."""
    images = np.concatenate([originals, reconstructions]).reshape(-1, 28, 28)
    return logs.image_grid(images, ncols=len(originals))


# 3. 학습 / Train: the input is also the target
def train(args, autoencoder, x_train, x_test):
    shown = x_test[:NUM_SHOWN]

    def log_reconstructions(epoch, _logs):
        grid = pairs_grid(shown, autoencoder.predict(shown, verbose=0))
        logs.log_image(args.log_dir, "validation", "originals_vs_reconstructions", grid, step=epoch)

    train_ds = data.make_pipeline(x_train, x_train, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    test_ds = data.make_pipeline(x_test, x_test, batch_size=1024)
    timer = logs.Timer()
    autoencoder.fit(
        train_ds, validation_data=test_ds, epochs=args.epochs, verbose=2,
        callbacks=[logs.tensorboard_callback(args.log_dir), keras.callbacks.LambdaCallback(on_epoch_end=log_reconstructions)],
    )
    return timer.seconds()


# 4. 평가와 그림 / Evaluate and look
def save_reconstructions(originals, reconstructions, mse, log_dir):
    plt = logs.pyplot()
    fig, ax = plt.subplots(figsize=(10, 2.4))
    ax.imshow(pairs_grid(originals, reconstructions)[..., 0], cmap="gray")
    ax.axis("off")
    ax.set_title(f"위: 원본, 아래: 재구성 / top: original, bottom: reconstruction (test MSE {mse:.4f})")
    logs.save_figure(fig, Path(log_dir) / "reconstructions.png")


def main(argv=None):
    args = parse_args(argv)
    x_train, x_test = load_data(args)
    import_tensorflow()
    strategy = runtime.setup(args)
    with strategy.scope():
        autoencoder, encoder = build_model(args)
    autoencoder.summary()
    seconds = train(args, autoencoder, x_train, x_test)
    reconstructions = autoencoder.predict(x_test, batch_size=1024, verbose=0)
    test_mse = float(np.mean((reconstructions - x_test) ** 2))
    print(f"Test: MSE {test_mse:.5f} per pixel ({784} pixels squeezed into {args.code_size} numbers)")
    save_reconstructions(x_test[:NUM_SHOWN], reconstructions[:NUM_SHOWN], test_mse, args.log_dir)
    return logs.write_metrics(
        args.log_dir, test_mse=test_mse, train_seconds=round(seconds, 2), code_size=args.code_size, epochs=args.epochs,
    )


if __name__ == "__main__":
    main()
