"""Reference recipes that course scripts are timed against (run by scripts/benchmark.py --baseline).

요약: 비교 기준이 되는 잘 알려진 학습 방법입니다. benchmark.py가 같은 컴퓨터, 같은 실행에서
코스 스크립트와 나란히 돌려 "목표 정확도까지 걸린 학습 시간"을 비교합니다.

keras_mnist_convnet: the Keras example "Simple MNIST convnet" (keras-io examples/vision/mnist_convnet.py):
Conv32-3x3, max-pool, Conv64-3x3, max-pool, flatten, dropout 0.5, dense softmax; Adam at its default,
constant step 1e-3; batch 128. It trains on the same 55,000 images as week1/mnist_cnn.py (the last 5,000
are that script's validation set) through the same tf.data pipeline.

How it is timed (airbench's rule): a course script runs a fixed schedule (e.g. `--epochs 2`) and its final
test accuracy, averaged over seeds, must reach the target; the recipe counts as reaching the target after the
fewest epochs whose seed-averaged test accuracy does. Because this recipe's step size is constant, the test
accuracy after epoch e of one run equals the final accuracy of an e-epoch run with the same seed, so one run
per seed, evaluated on the test set at each epoch's end, measures every schedule length at once. These
evaluations are a measuring device for the reference recipe, not part of any lesson; their time is excluded.

Run:    python scripts/baselines.py keras_mnist_convnet --epochs 8 --data-dir DIR
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

RECIPES = ("keras_mnist_convnet",)
PARSER = flags.make_parser(__file__, __doc__, epochs=8, batch_size=128, learning_rate=1e-3)
PARSER.add_argument("recipe", choices=RECIPES)
if __name__ == "__main__":
    PARSER.parse_args()

import keras
from keras import layers

from common import data, runtime, tb

VALIDATION = 5000  # held out exactly as week1/mnist_cnn.py does, so both train on the same images


def keras_mnist_convnet(learning_rate=1e-3):
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax", dtype="float32"),
        ]
    )
    model.compile(loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.Adam(learning_rate), metrics=["accuracy"])
    return model


class TestAccuracyByEpoch(keras.callbacks.Callback):
    """Test accuracy at each epoch's end, against the training seconds so far (evaluation time excluded)."""

    def __init__(self, x_test, y_test):
        super().__init__()
        self.x_test, self.y_test, self.curve, self.train_seconds = x_test, y_test, [], 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.train_seconds += time.perf_counter() - self.started
        accuracy = self.model.evaluate(self.x_test, self.y_test, batch_size=1000, verbose=0)[1]
        self.curve.append([epoch + 1, round(float(accuracy), 5), round(self.train_seconds, 2)])
        print(f"  after epoch {epoch + 1}: test accuracy {accuracy:.4f}, {self.train_seconds:.1f} s of training")


def main(argv=None):
    args = flags.parse(PARSER, argv)
    (x_train, y_train), (x_test, y_test) = data.load_mnist(args.data_dir)
    if args.smoke:
        x_train, y_train, x_test, y_test = x_train[:1200], y_train[:1200], x_test[:500], y_test[:500]
    x_train = x_train[:-VALIDATION if not args.smoke else -200, ..., None].astype("float32") / 255
    y_train = y_train[:len(x_train)]
    x_test = x_test[..., None].astype("float32") / 255
    strategy = runtime.setup(args)
    with strategy.scope():
        model = keras_mnist_convnet(args.learning_rate)
    clock = TestAccuracyByEpoch(x_test, y_test)
    train_ds = data.make_pipeline(x_train, y_train, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    model.fit(train_ds, epochs=args.epochs, verbose=2, callbacks=[tb.tensorboard_callback(args.log_dir), clock])
    return tb.write_metrics(
        args.log_dir, recipe=args.recipe, test_accuracy=clock.curve[-1][1], train_seconds=round(clock.train_seconds, 2),
        accuracy_by_epoch=clock.curve,
    )


if __name__ == "__main__":
    main()
