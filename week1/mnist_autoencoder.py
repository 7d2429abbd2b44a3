"""MNIST autoencoder: squeeze each image through a 64-number code and rebuild it.

요약: 오토인코더(autoencoder)는 입력을 작은 코드(code)로 압축하는 인코더와 코드에서 입력을 다시 만드는
디코더로 이루어지고, 레이블 없이 "입력 = 목표"로 학습합니다(비지도 학습, unsupervised learning). 784개 픽셀을 64개 숫자로
줄였다가 되살린 결과를 원본과 나란히 봅니다. 검증 세트로 학습을 지켜보고, 테스트 세트는 마지막에 한 번만 씁니다.

Run:    python week1/mnist_autoencoder.py
Smoke:  python week1/mnist_autoencoder.py --smoke
Expect: test MSE about 0.003 (mean squared error per pixel, pixels between 0 and 1) after 10 epochs,
        about a minute on a 2-core CPU (README table). reconstructions.png shows test originals (top)
        and reconstructions (bottom); TensorBoard's Images tab shows validation digits improving epoch by epoch.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
PARSER = flags.make_parser(__file__, __doc__, epochs=10, batch_size=128, learning_rate=1e-3)
PARSER.add_argument(
    "--code-size", type=int, default=64, help="numbers in the code each image is squeezed into (default: %(default)s)"
)
PARSER.add_argument("--hidden", type=int, default=512, help="units in the hidden layers (default: %(default)s)")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
import numpy as np
from keras import layers

from common import data, runtime, tb

NUM_PIXELS = 28 * 28
VALIDATION = 5000  # 학습 세트의 마지막 5,000장: 검증 세트 (학습에는 쓰지 않음)
SMOKE_TRAIN, SMOKE_VALIDATION, SMOKE_TEST = 1000, 200, 500
NUM_SHOWN = 10  # 원본과 재구성을 나란히 보여 줄 숫자 개수


# 1. 데이터 / Prepare the data: images only, no labels
def load_data(data_dir=None, smoke=False):
    """Returns x_train, x_val, x_test: images as (N, 784) in [0, 1]; the labels are not used."""
    (x_train, _), (x_test, _) = data.load_mnist(data_dir)
    if smoke:
        x_train, x_test = x_train[:SMOKE_TRAIN], x_test[:SMOKE_TEST]
    x_train = x_train.reshape(len(x_train), -1).astype("float32") / 255
    x_test = x_test.reshape(len(x_test), -1).astype("float32") / 255
    # 검증 세트(validation set)는 학습 세트에서 떼어 냅니다. 테스트 세트는 끝까지 보지 않습니다.
    n_val = SMOKE_VALIDATION if smoke else VALIDATION
    x_val, x_train = x_train[-n_val:], x_train[:-n_val]
    print(f"Data: {len(x_train)} train, {len(x_val)} validation, {len(x_test)} test images")
    return x_train, x_val, x_test


# 2. 모델 / Build the model: encoder 784 -> 512 -> 64, decoder 64 -> 512 -> 784
def build_model(code_size=64, hidden=512, learning_rate=1e-3):
    """The autoencoder, compiled; its two layers are the models "encoder" and "decoder"."""
    encoder = keras.Sequential(
        [keras.Input(shape=(NUM_PIXELS,)), layers.Dense(hidden, activation="relu"), layers.Dense(code_size)],
        name="encoder",
    )
    decoder = keras.Sequential(
        [
            keras.Input(shape=(code_size,)),
            layers.Dense(hidden, activation="relu"),
            layers.Dense(NUM_PIXELS, activation="sigmoid", dtype="float32"),  # 픽셀 값은 [0, 1]
        ],
        name="decoder",
    )
    autoencoder = keras.Sequential([encoder, decoder], name="autoencoder")
    # 손실은 픽셀마다의 이진 교차 엔트로피(binary cross-entropy): 시그모이드 출력에서 그 기울기에는
    # σ'(z) 인자가 없습니다(mse_vs_cross_entropy.py). 보고하는 숫자는 흔히 비교하는 MSE입니다.
    autoencoder.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="binary_crossentropy",
        metrics=[keras.metrics.MeanSquaredError(name="mse")],
    )
    return autoencoder


def pairs_grid(originals, reconstructions):
    """Originals on the top row, their reconstructions below, as one (2*28, n*28) grid."""
    images = np.concatenate([originals, reconstructions]).reshape(-1, 28, 28)
    return tb.image_grid(images, ncols=len(originals))


# 3. 학습 / Train: the input is also the target
def train(autoencoder, x_train, x_val, epochs, batch_size, log_dir, seed=42):
    """Fits the autoencoder, logging validation reconstructions each epoch; returns (history, seconds)."""
    shown = x_val[:NUM_SHOWN]

    def log_reconstructions(epoch, _logs=None):
        grid = pairs_grid(shown, autoencoder.predict(shown, verbose=0))
        tb.log_image(log_dir, "validation", "originals_vs_reconstructions", grid, step=epoch)

    train_ds = data.make_pipeline(x_train, x_train, batch_size=batch_size, shuffle=True, seed=seed)
    val_ds = data.make_pipeline(x_val, x_val, batch_size=1000)
    timer = tb.Timer()
    history = autoencoder.fit(
        train_ds, validation_data=val_ds, epochs=epochs, verbose=2,
        callbacks=[
            tb.tensorboard_callback(log_dir), tb.StopOnNaN(log_dir),
            keras.callbacks.LambdaCallback(on_epoch_end=log_reconstructions),
        ],
    )
    return history, timer.seconds()


# 4. 그림 / Originals and reconstructions
def save_reconstructions(originals, reconstructions, mse, log_dir):
    plt = tb.pyplot()
    fig, ax = plt.subplots(figsize=(10, 2.4))
    ax.imshow(pairs_grid(originals, reconstructions)[..., 0], cmap="gray")
    ax.axis("off")
    ax.set_title(f"위: 원본, 아래: 재구성 / top: original, bottom: reconstruction (test MSE {mse:.4f})")
    tb.save_figure(fig, Path(log_dir) / "reconstructions.png", log_dir=log_dir)


def main(argv=None):
    args = flags.parse(PARSER, argv)
    x_train, x_val, x_test = load_data(args.data_dir, args.smoke)
    strategy = runtime.setup(args)
    with strategy.scope():  # GPU 한 장, 여러 장, CPU: 같은 코드
        autoencoder = build_model(args.code_size, args.hidden, args.learning_rate)
    autoencoder.summary()
    history, seconds = train(autoencoder, x_train, x_val, args.epochs, args.batch_size, args.log_dir, args.seed)

    # 5. 평가 / Evaluate on the test set, once: the same reconstructions give the MSE and the figure
    reconstructions = autoencoder.predict(x_test, batch_size=1000, verbose=0)
    test_mse = float(np.mean((reconstructions - x_test) ** 2))
    print(f"Test: MSE {test_mse:.5f} per pixel ({x_test.shape[1]} pixels squeezed into {args.code_size} numbers)")
    save_reconstructions(x_test[:NUM_SHOWN], reconstructions[:NUM_SHOWN], test_mse, args.log_dir)
    return tb.write_metrics(
        args.log_dir, test_mse=test_mse, val_mse=history.history["val_mse"][-1], train_seconds=round(seconds, 2),
        code_size=args.code_size, epochs=args.epochs,
    )


if __name__ == "__main__":
    main()
