"""Overfitting: a wide MLP memorises 1,000 MNIST images; plain, dropout and L2 versions compete on validation.

요약: 훈련 세트(training set)에서 검증 세트(validation set)를 떼어 내고, 작은 훈련 부분집합으로 넓은 MLP를
학습해 과적합(overfitting)을 봅니다. 같은 모델에 드롭아웃(dropout)과 L2 가중치 감쇠(weight decay)를 더해
비교하고, 검증 정확도로 셋 중 하나를 고른 뒤 테스트 세트(test set)는 마지막에 한 번만 씁니다.

Why three sets: the validation set chooses (epochs, regularisation, the model); once it has been used
to choose, its accuracy is an optimistic estimate. The test set is touched once, by the chosen model,
so its accuracy is an honest estimate of accuracy on new images.

Run:    python week1/overfitting.py
Smoke:  python week1/overfitting.py --smoke
Expect: all three reach training accuracy 1.0 while validation accuracy stops near 0.92: a gap of
        about 0.08 is the overfitting. Without regularisation the validation loss climbs again after
        a few epochs. On MNIST with 1,000 images the three end within about 1% of each other, and which
        one wins depends on the seed: that is why the choice is made on validation, and the test set
        (accuracy about 0.90) is looked at once, by the chosen model. About 45 s on a 2-core CPU.
        Figure: overfitting.png (train vs validation loss and accuracy per epoch for the three).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # lets `import common` work from any folder

import numpy as np

from common import data, flags

NUM_FEATURES, NUM_CLASSES = 28 * 28, 10
VALIDATION = 5000  # the last 5,000 training images, as in mnist_mlp.py: never trained on
SMOKE_TRAIN, SMOKE_VALIDATION, SMOKE_TEST = 200, 200, 200
VARIANTS = ("baseline", "dropout", "l2")

tf = keras = layers = logs = runtime = None


def parse_args(argv=None):
    parser = flags.make_parser(__file__, __doc__, epochs=20, batch_size=32, learning_rate=1e-3)
    parser.add_argument(
        "--train-size", type=int, default=1000,
        help="training examples: few, so that the model can memorise them (default: %(default)s)",
    )
    parser.add_argument("--hidden", type=int, default=512, help="units per hidden layer (default: %(default)s)")
    parser.add_argument("--dropout", type=float, default=0.5, help="the dropout variant's rate (default: %(default)s)")
    parser.add_argument("--l2", type=float, default=1e-4, help="the l2 variant's penalty λ (default: %(default)s)")
    return flags.parse(parser, argv)


def import_tensorflow():
    global tf, keras, layers, logs, runtime
    import keras
    import tensorflow as tf
    from keras import layers

    from common import logs, runtime


# 1. 데이터 / Train, validation and test sets
def load_data(args):
    (x_train, y_train), (x_test, y_test) = data.load_mnist(args.data_dir)
    n_val = SMOKE_VALIDATION if args.smoke else VALIDATION
    n_train = min(args.train_size, SMOKE_TRAIN) if args.smoke else args.train_size
    if args.smoke:
        x_test, y_test = x_test[:SMOKE_TEST], y_test[:SMOKE_TEST]
    if n_train < 1 or n_train + n_val > len(x_train):
        raise SystemExit(
            f"error: --train-size {n_train} plus {n_val} validation images needs more than the"
            f" {len(x_train)} training images there are; use a --train-size from 1 to {len(x_train) - n_val}"
        )
    # Validation comes from the training set (its last images); the test set stays untouched until the end.
    x_val, y_val = x_train[-n_val:], y_train[-n_val:]
    x_train, y_train = x_train[:n_train], y_train[:n_train]

    def prepare(x, y):
        return x.reshape(len(x), NUM_FEATURES).astype("float32") / 255, y.astype("int64")

    print(f"Data: {n_train} train, {n_val} validation, {len(x_test)} test images")
    return prepare(x_train, y_train), prepare(x_val, y_val), prepare(x_test, y_test)


# 2. 모델 / The same wide MLP three ways: plain, with dropout, with an L2 penalty on the weights
def build_model(args, variant):
    dropout = args.dropout if variant == "dropout" else 0.0
    # L2: J + λ Σ W², so each step also shrinks W towards 0 ("weight decay"). Biases are not penalised.
    regularizer = keras.regularizers.L2(args.l2) if variant == "l2" else None
    model = keras.Sequential(name=variant)
    model.add(keras.Input((NUM_FEATURES,)))
    for _ in range(2):
        model.add(layers.Dense(args.hidden, activation="relu", kernel_regularizer=regularizer))
        if dropout:
            model.add(layers.Dropout(dropout))  # training only: each unit is zeroed with this probability
    model.add(layers.Dense(NUM_CLASSES, kernel_regularizer=regularizer))
    model.add(layers.Activation("softmax", dtype="float32"))  # float32 even under mixed precision
    model.compile(
        optimizer=keras.optimizers.Adam(args.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


# 3. 학습 / Train each variant; keep the weights of its best epoch on validation
def train(args, strategy, variant, train_set, val_set):
    keras.utils.set_random_seed(args.seed)  # the same seed for all three: differences come from the variant
    with strategy.scope():
        model = build_model(args, variant)
    # patience = all epochs: it never stops early, it only restores the best epoch's weights at the end.
    best = keras.callbacks.EarlyStopping(
        monitor="val_accuracy", mode="max", patience=args.epochs, restore_best_weights=True
    )
    timer = logs.Timer()
    history = model.fit(
        *train_set, validation_data=val_set, batch_size=args.batch_size, epochs=args.epochs,
        validation_batch_size=1000,  # larger batches only make the evaluation faster; the numbers are the same
        callbacks=[best], verbose=0,
    ).history
    log_history(Path(args.log_dir) / variant, history)
    # Accuracy on the training images with dropout off (fit's own "accuracy" has it on), at the kept weights.
    train_accuracy = model.evaluate(*train_set, verbose=0)[1]
    best_val = max(history["val_accuracy"])
    result = {
        "model": model, "history": history, "best_val_accuracy": best_val,
        "best_epoch": int(np.argmax(history["val_accuracy"])) + 1,
        "train_accuracy": train_accuracy, "gap": train_accuracy - best_val,
    }
    print(
        f"{variant}: best validation accuracy {best_val:.4f} at epoch {result['best_epoch']}/{args.epochs};"
        f" training accuracy {train_accuracy:.4f}, gap {result['gap']:.4f}; {timer.seconds():.1f}s"
    )
    return result


def log_history(log_dir, history):
    """Per-epoch scalars in the layout of Keras' TensorBoard callback (train/ and validation/, epoch_loss, ...).

    Written after fit() rather than by the callback, which here would add about a third to the training time.
    """
    for split, prefix in (("train", ""), ("validation", "val_")):
        with logs.writer(log_dir, split).as_default():
            for metric in ("loss", "accuracy"):
                for epoch, value in enumerate(history[prefix + metric]):
                    tf.summary.scalar(f"epoch_{metric}", value, step=epoch)


# 4. 그림 / Train vs validation curves
def plot(results, log_dir):
    plt = logs.pyplot()
    fig, axes = plt.subplots(2, len(results), figsize=(5 * len(results), 8), sharey="row", squeeze=False)
    for k, (variant, result) in enumerate(results.items()):
        history = result["history"]
        epochs = np.arange(1, len(history["loss"]) + 1)
        for row, metric in enumerate(("loss", "accuracy")):
            ax = axes[row, k]
            ax.plot(epochs, history[metric], label="train")
            ax.plot(epochs, history[f"val_{metric}"], label="validation")
            ax.axvline(result["best_epoch"], color="grey", ls=":", lw=1, label="best validation epoch")
            ax.set(xlabel="epoch", ylabel=metric)
            ax.legend(fontsize=8)
        axes[0, k].set_title(f"{variant}: best val acc {result['best_val_accuracy']:.4f}")
    axes[1, 0].set_ylim(max(0.0, axes[1, 0].get_ylim()[0]), 1.005)
    fig.suptitle("과적합: 훈련 vs 검증 / overfitting: train vs validation\n"
                 "(l2's train loss includes the penalty; dropout's train curves are measured with dropout on)")
    logs.save_figure(fig, Path(log_dir) / "overfitting.png", log_dir=log_dir)


def main(argv=None):
    args = parse_args(argv)
    train_set, val_set, test_set = load_data(args)
    import_tensorflow()
    strategy = runtime.setup(args)
    results = {variant: train(args, strategy, variant, train_set, val_set) for variant in VARIANTS}
    plot(results, args.log_dir)

    # 5. 선택과 테스트 / Choose on validation, then evaluate the chosen model on the test set, once.
    chosen = max(results, key=lambda v: results[v]["best_val_accuracy"])
    test_loss, test_accuracy = results[chosen]["model"].evaluate(*test_set, verbose=0)
    print(f"Chosen on validation: {chosen}; test accuracy {test_accuracy:.4f} (the only look at the test set)")
    with logs.writer(args.log_dir, "test").as_default():
        tf.summary.scalar("accuracy", test_accuracy, step=0)
        tf.summary.scalar("loss", test_loss, step=0)
    metrics = {"test_accuracy": test_accuracy, "test_loss": test_loss, "chosen": chosen}
    for variant, result in results.items():
        metrics[f"best_val_accuracy_{variant}"] = result["best_val_accuracy"]
        metrics[f"best_epoch_{variant}"] = result["best_epoch"]
        metrics[f"train_accuracy_{variant}"] = result["train_accuracy"]
        metrics[f"train_val_gap_{variant}"] = result["gap"]
    return logs.write_metrics(args.log_dir, **metrics, epochs=args.epochs, train_size=len(train_set[0]))


if __name__ == "__main__":
    main()
