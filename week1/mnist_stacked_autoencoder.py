"""MNIST stacked autoencoder: greedy unsupervised pre-training, then a softmax, then fine-tuning.

요약: 적층 오토인코더(stacked autoencoder)는 오토인코더를 한 층씩 쌓아 레이블 없이 먼저
학습(비지도 사전 학습, unsupervised pre-training)한 뒤, 그 위에 소프트맥스 분류기를 올립니다.
인코더를 고정한 채 소프트맥스만 학습한 정확도와, 전체를 미세 조정(fine-tuning)한 정확도를 비교합니다.

Run:    python week1/mnist_stacked_autoencoder.py
Smoke:  python week1/mnist_stacked_autoencoder.py --smoke
Expect: softmax on the frozen pre-trained features about 0.90, after fine-tuning about 0.98
        test accuracy; about 4 minutes on a 2-core CPU. TensorBoard has one folder per stage
        (pretrain_1, pretrain_2, softmax_frozen, finetune); features.png shows what layer 1
        learned without labels, and stages.png compares the stages.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # lets `import common` work from any folder

import numpy as np

from common import data, flags

NUM_CLASSES = 10
SMOKE_TRAIN, SMOKE_TEST = 1000, 500

# TensorFlow takes seconds to import, so main() imports it only after the flags and the
# data files have been checked: `--help` and a bad file answer at once.
tf = keras = layers = logs = runtime = None


def parse_args(argv=None):
    # --epochs is the fine-tuning stage; the two pre-training stages and the frozen softmax have their own.
    parser = flags.make_parser(__file__, __doc__, epochs=15, batch_size=128, learning_rate=1e-3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 256], help="units of each stacked encoder layer (default: 512 256)")
    parser.add_argument("--dropout", type=float, default=0.2, help="dropout between layers while fine-tuning (default: %(default)s)")
    parser.add_argument("--pretrain-epochs", type=int, default=5, help="epochs for each autoencoder layer (default: %(default)s)")
    parser.add_argument("--softmax-epochs", type=int, default=5, help="epochs for the softmax on frozen features (default: %(default)s)")
    args = flags.parse(parser, argv)
    if args.smoke:
        args.pretrain_epochs, args.softmax_epochs = 1, 1
    return args


def import_tensorflow():
    global tf, keras, layers, logs, runtime
    import keras
    import tensorflow as tf
    from keras import layers

    from common import logs, runtime


# 1. 데이터 / Prepare the data
def load_data(args):
    (x_train, y_train), (x_test, y_test) = data.load_mnist(args.data_dir)
    if args.smoke:
        x_train, y_train, x_test, y_test = x_train[:SMOKE_TRAIN], y_train[:SMOKE_TRAIN], x_test[:SMOKE_TEST], y_test[:SMOKE_TEST]
    x_train = x_train.reshape(len(x_train), -1).astype("float32") / 255
    x_test = x_test.reshape(len(x_test), -1).astype("float32") / 255
    print(f"Data: {len(x_train)} train, {len(x_test)} test images")
    return (x_train, y_train), (x_test, y_test)


def fit(args, model, x, y, epochs, stage, validation_data=None):
    """model.fit with a shuffled pipeline and a TensorBoard folder per stage."""
    ds = data.make_pipeline(x, y, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    val = data.make_pipeline(*validation_data, batch_size=1024) if validation_data else None
    print(f"--- {stage}")
    return model.fit(
        ds, validation_data=val, epochs=epochs, verbose=2,
        callbacks=[logs.tensorboard_callback(Path(args.log_dir) / stage)],
    )


# 2. 비지도 사전 학습 / Greedy layer-wise pre-training: each layer is an autoencoder of the one below
def pretrain(args, x_train, x_test):
    encoders, inputs, test_inputs = [], x_train, x_test
    for i, size in enumerate(args.sizes, start=1):
        encoder = layers.Dense(size, activation="relu", name=f"encoder_{i}")
        if i == 1:  # layer 1 rebuilds pixels in [0, 1]: sigmoid output, per-pixel cross-entropy
            decoder = layers.Dense(inputs.shape[1], activation="sigmoid", name=f"decoder_{i}", dtype="float32")
            loss = "binary_crossentropy"
        else:  # higher layers rebuild ReLU codes (any value >= 0): linear output, squared error
            decoder = layers.Dense(inputs.shape[1], name=f"decoder_{i}", dtype="float32")
            loss = "mse"
        autoencoder = keras.Sequential([keras.Input(shape=(inputs.shape[1],)), encoder, decoder], name=f"autoencoder_{i}")
        autoencoder.compile(optimizer=keras.optimizers.Adam(args.learning_rate), loss=loss)
        fit(args, autoencoder, inputs, inputs, args.pretrain_epochs, f"pretrain_{i}", (test_inputs, test_inputs))
        encoders.append(encoder)
        # The next autoencoder learns from this layer's code, not from pixels.
        inputs = encoder(inputs).numpy()
        test_inputs = encoder(test_inputs).numpy()
    return encoders


# 3. 분류기 / A softmax classifier on top of the stack
def build_classifier(args, encoders, trainable, steps_per_epoch, epochs):
    for encoder in encoders:
        encoder.trainable = trainable
    stack = []
    for encoder in encoders:  # dropout between layers only matters while fine-tuning
        stack += [encoder, layers.Dropout(args.dropout if trainable else 0.0)]
    model = keras.Sequential(
        [keras.Input(shape=(784,)), *stack, layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32", name="softmax")],
        name="stacked_autoencoder_classifier",
    )
    # Fine-tuning uses a cosine-decaying step so the pre-trained weights settle rather than jump.
    rate = keras.optimizers.schedules.CosineDecay(args.learning_rate, decay_steps=max(1, epochs * steps_per_epoch))
    model.compile(optimizer=keras.optimizers.Adam(rate), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


# 4. 그림 / Figures
def save_figures(args, first_layer_weights, accuracies):
    plt = logs.pyplot()
    n = min(100, first_layer_weights.shape[1])
    patterns = first_layer_weights[:, :n].T.reshape(n, 28, 28)
    patterns = patterns / (2 * np.abs(patterns).max(axis=(1, 2), keepdims=True)) + 0.5
    grid = logs.image_grid(patterns, ncols=10)
    fig, ax = plt.subplots(figsize=(7, 7))
    ax.imshow(grid[..., 0], cmap="gray")
    ax.axis("off")
    ax.set_title("레이블 없이 학습한 1층 특징 / layer-1 features learned without labels")
    logs.save_figure(fig, Path(args.log_dir) / "features.png")
    logs.log_image(args.log_dir, "pretrain_1", "layer1_features", grid)

    fig, ax = plt.subplots(figsize=(6, 3.5))
    names = list(accuracies)
    bars = ax.bar(names, [accuracies[k] for k in names], color=["#9ecae1", "#3182bd"])
    ax.bar_label(bars, fmt="%.4f")
    ax.set_ylim(min(accuracies.values()) - 0.05, 1.0)
    ax.set_ylabel("test accuracy")
    ax.set_title("고정된 특징 vs 미세 조정 / frozen features vs fine-tuned")
    logs.save_figure(fig, Path(args.log_dir) / "stages.png")


def main(argv=None):
    args = parse_args(argv)
    (x_train, y_train), (x_test, y_test) = load_data(args)
    import_tensorflow()
    runtime.setup(args)  # single-device by design: the greedy stages are small, sequential models
    timer = logs.Timer()
    encoders = pretrain(args, x_train, x_test)
    first_layer_weights = encoders[0].get_weights()[0].copy()
    steps = -(-len(x_train) // args.batch_size)

    # Softmax regression on the frozen code: how good are features learned without labels?
    frozen = build_classifier(args, encoders, trainable=False, steps_per_epoch=steps, epochs=args.softmax_epochs)
    fit(args, frozen, x_train, y_train, args.softmax_epochs, "softmax_frozen", (x_test, y_test))
    _, frozen_acc = frozen.evaluate(x_test, y_test, batch_size=1024, verbose=0)

    # Fine-tuning: every layer now learns from the labels, starting from the pre-trained weights.
    finetuned = build_classifier(args, encoders, trainable=True, steps_per_epoch=steps, epochs=args.epochs)
    finetuned.layers[-1].set_weights(frozen.layers[-1].get_weights())  # keep the softmax trained above
    fit(args, finetuned, x_train, y_train, args.epochs, "finetune", (x_test, y_test))
    test_loss, test_acc = finetuned.evaluate(x_test, y_test, batch_size=1024, verbose=0)
    seconds = timer.seconds()
    print(f"Test accuracy: softmax on frozen features {frozen_acc:.4f}, after fine-tuning {test_acc:.4f}")

    save_figures(args, first_layer_weights, {"frozen features": frozen_acc, "fine-tuned": test_acc})
    return logs.write_metrics(
        args.log_dir, test_accuracy=test_acc, test_loss=test_loss, frozen_features_test_accuracy=frozen_acc,
        train_seconds=round(seconds, 2), epochs=args.epochs, pretrain_epochs=args.pretrain_epochs,
    )


if __name__ == "__main__":
    main()
