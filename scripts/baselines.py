"""Reference recipes that course scripts are timed against (run by scripts/benchmark.py --baseline).

요약: 비교 기준이 되는 잘 알려진 학습 방법입니다. benchmark.py가 같은 컴퓨터, 같은 실행에서
코스 스크립트와 나란히 돌려 "목표 정확도까지 걸린 시간"을 비교합니다.

keras_mnist_convnet: the Keras example "Simple MNIST convnet" (keras-io examples/vision/
mnist_convnet.py): Conv32-3x3, max-pool, Conv64-3x3, max-pool, flatten, dropout 0.5, dense
softmax; Adam (default step 1e-3); batch 128. It is measured exactly as week1/mnist_cnn.py is:
the same data, tf.data pipeline and test-accuracy checks (four per epoch, their time excluded),
and it stops once it first reaches the target (at most 15 epochs, the example's own count).

Run:    python scripts/baselines.py keras_mnist_convnet --data-dir ../shared/datasets/mnist
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # lets `import common` work from any folder

from common import data, flags

RECIPES = ("keras_mnist_convnet",)
EVALS_PER_EPOCH = 4  # as in week1/mnist_cnn.py


def parse_args(argv=None):
    parser = flags.make_parser(__file__, __doc__, epochs=15, batch_size=128, learning_rate=1e-3)
    parser.add_argument("recipe", choices=RECIPES)
    parser.add_argument("--target", type=float, default=0.990, help="stop at this test accuracy (default: %(default)s)")
    return flags.parse(parser, argv)


def keras_mnist_convnet(keras, layers, learning_rate):
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


def main(argv=None):
    args = parse_args(argv)
    (x_train, y_train), (x_test, y_test) = data.load_mnist(args.data_dir)
    if args.smoke:
        x_train, y_train, x_test, y_test = x_train[:1000], y_train[:1000], x_test[:500], y_test[:500]
    x_train = x_train[..., None].astype("float32") / 255
    x_test = x_test[..., None].astype("float32") / 255

    import keras
    from keras import layers

    from common import logs, runtime

    strategy = runtime.setup(args)
    with strategy.scope():
        model = keras_mnist_convnet(keras, layers, args.learning_rate)
    steps_per_epoch = -(-len(x_train) // args.batch_size)
    clock = logs.TimeToAccuracy(
        x_test, y_test, args.target, every=max(1, steps_per_epoch // EVALS_PER_EPOCH), log_dir=args.log_dir,
        stop_at_target=True,
    )
    train_ds = data.make_pipeline(x_train, y_train, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    model.fit(train_ds, epochs=args.epochs, verbose=2, callbacks=[logs.tensorboard_callback(args.log_dir), clock])
    test_acc = clock.curve[-1][2]
    return logs.write_metrics(
        args.log_dir, recipe=args.recipe, test_accuracy=test_acc, target_accuracy=args.target,
        seconds_to_target=None if clock.seconds_to_target is None else round(clock.seconds_to_target, 2),
        train_seconds=round(clock.train_seconds, 2), accuracy_curve=clock.curve,
    )


if __name__ == "__main__":
    main()
