"""Iris ANN homework, reference solution: a one-hidden-layer Keras network for three iris species.

요약: 과제 iris_ann.py의 모범 답안입니다. 꽃받침·꽃잎의 길이와 너비 4개로 붓꽃 3종을
분류하는 작은 신경망(은닉층 1개)을 Keras로 만들고, 계층별(stratified)로 나눈 시험 데이터로
평가합니다. 함수 이름과 인자는 과제 템플릿과 같아서 채점기로 똑같이 채점할 수 있습니다.

Run:    python week1/homework/iris_ann_solution.py
Smoke:  python week1/homework/iris_ann_solution.py --smoke
Grade:  python scripts/grade_homework.py week1/homework/iris_ann_solution.py
Expect: test accuracy 1.0000 (30 of 30 test flowers) after 20 epochs: about 3 s of training on a 2-core CPU.
        iris_results.png shows the training curves and the test confusion matrix;
        TensorBoard (`tensorboard --logdir runs`) shows loss/accuracy per epoch.

The grader calls these functions (the template iris_ann.py has the same ones):
    load_and_split(args) -> (x_train, y_train), (x_test, y_test), class_names
    build_model(num_features, num_classes, args) -> keras.Model, not yet compiled
    train_model(model, x_train, y_train, args, callbacks=()) -> the History of model.fit
    evaluate_model(model, x_test, y_test) -> test accuracy, a float between 0 and 1
after `import_tensorflow()`, with x_* standardised float32 (N, 4) and y_* int labels 0, 1, 2.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # lets `import common` work from any folder

import numpy as np

from common import data, flags

NUM_FEATURES = 4  # sepal length, sepal width, petal length, petal width (cm)
TEST_FRACTION = 0.2  # 30 of the 150 flowers, 10 per species, are kept for the test
SMOKE_EPOCHS = 3

# TensorFlow takes seconds to import, so main() imports it only after the flags are
# parsed and the data is split: `--help` answers at once (import_tensorflow).
keras = layers = logs = runtime = None


def parse_args(argv=None):
    # Adam at 0.02 with batches of 8: 15 steps per epoch, so 20 epochs are 300 steps, enough for
    # the loss to level off on 120 flowers. Fewer, longer epochs also train faster: Keras spends
    # a fixed few tens of milliseconds on every epoch, more than on the steps of a network this small.
    parser = flags.make_parser(__file__, __doc__, epochs=20, batch_size=8, learning_rate=0.02, smoke_epochs=SMOKE_EPOCHS)
    parser.add_argument(
        "--hidden-units", type=int, default=16, help="neurons in the hidden layer (default: %(default)s)"
    )
    # A 4-16-3 network gains nothing from float16, and float32 keeps the softmax simple.
    parser.set_defaults(mixed_precision="off")
    return flags.parse(parser, argv)


def import_tensorflow():
    global keras, layers, logs, runtime
    import keras
    from keras import layers

    from common import logs, runtime


# 1. 데이터 / Load the data, split it by species, standardise with the training statistics
def load_and_split(args):
    features, labels, class_names = data.load_iris()  # (150, 4) float32, (150,) int64: 0, 1, 2

    # Stratified split: take TEST_FRACTION of each species, so the test set has 10 of each
    # (a plain random cut could leave one species with 6 test flowers and another with 14).
    rng = np.random.default_rng(args.seed)
    test_idx = []
    for k in range(len(class_names)):
        idx = rng.permutation(np.flatnonzero(labels == k))
        test_idx.extend(idx[:round(len(idx) * TEST_FRACTION)])
    is_test = np.zeros(len(labels), dtype=bool)
    is_test[test_idx] = True
    train_idx = rng.permutation(np.flatnonzero(~is_test))  # mixed order: the file is sorted by species
    test_idx = np.flatnonzero(is_test)
    x_train, y_train = features[train_idx], labels[train_idx]
    x_test, y_test = features[test_idx], labels[test_idx]

    # Standardise: (x - mean) / std per feature, with the mean and std of the training part only,
    # so nothing about the test flowers leaks into training.
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    x_train = (x_train - mean) / std
    x_test = (x_test - mean) / std
    print(f"Data: {len(x_train)} train, {len(x_test)} test flowers; test per species {np.bincount(y_test).tolist()}")
    return (x_train, y_train), (x_test, y_test), class_names


# 2. 모델 / Build the network: 4 inputs -> hidden layer (ReLU) -> 3 softmax outputs
def build_model(num_features, num_classes, args):
    return keras.Sequential([
        keras.Input(shape=(num_features,)),
        layers.Dense(args.hidden_units, activation="relu"),  # the hidden layer: its nonlinearity is what a
        layers.Dense(num_classes, activation="softmax"),     # linear model lacks; softmax gives probabilities
    ])


# 3. 학습 / Train: cross-entropy loss, Adam, mini-batches
def train_model(model, x_train, y_train, args, callbacks=()):
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=args.learning_rate),
        loss="sparse_categorical_crossentropy",  # labels are integers 0, 1, 2 (not one-hot)
        metrics=["accuracy"],
    )
    return model.fit(
        x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
        callbacks=list(callbacks), verbose=0,
    )


# 4. 평가 / Evaluate: the fraction of test flowers whose most probable class is right
def evaluate_model(model, x_test, y_test):
    probabilities = model.predict(x_test, verbose=0)  # (N, 3), each row sums to 1
    y_pred = probabilities.argmax(axis=1)
    return float(np.mean(y_pred == y_test))


# 그림 / Training curves and the confusion matrix
def save_results_figure(history, y_test, y_pred, class_names, log_dir):
    plt = logs.pyplot()
    fig, (ax_curve, ax_cm) = plt.subplots(1, 2, figsize=(11, 4.2))
    epochs = np.arange(1, len(history.history["loss"]) + 1)
    ax_curve.plot(epochs, history.history["loss"], label="loss")
    ax_curve.plot(epochs, history.history["accuracy"], label="accuracy")
    ax_curve.set_xlabel("epoch")
    ax_curve.set_title("학습 곡선 / training curves")
    ax_curve.legend()
    num_classes = len(class_names)
    confusion = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(confusion, (y_test, y_pred), 1)  # row: true species, column: predicted species
    ax_cm.imshow(confusion, cmap="Blues")
    for (i, j), count in np.ndenumerate(confusion):
        ax_cm.text(j, i, count, ha="center", va="center", color="white" if count > confusion.max() / 2 else "black")
    short = [name.replace("Iris-", "") for name in class_names]
    ax_cm.set_xticks(range(num_classes), short)
    ax_cm.set_yticks(range(num_classes), short)
    ax_cm.set_xlabel("predicted")
    ax_cm.set_ylabel("true")
    ax_cm.set_title("혼동 행렬(confusion matrix) / test set")
    logs.save_figure(fig, Path(log_dir) / "iris_results.png")


def main(argv=None):
    args = parse_args(argv)
    (x_train, y_train), (x_test, y_test), class_names = load_and_split(args)
    import_tensorflow()
    strategy = runtime.setup(args)
    timer = logs.Timer()
    with strategy.scope():
        model = build_model(NUM_FEATURES, len(class_names), args)
        history = train_model(model, x_train, y_train, args, callbacks=[logs.tensorboard_callback(args.log_dir)])
    seconds = timer.seconds()
    test_accuracy = evaluate_model(model, x_test, y_test)
    loss, accuracy = history.history["loss"], history.history["accuracy"]
    for epoch in sorted({*range(0, len(loss), max(1, len(loss) // 10)), len(loss) - 1}):
        print(f"Epoch {epoch + 1}/{len(loss)}: train loss {loss[epoch]:.4f} acc {accuracy[epoch]:.4f}")
    print(f"Test accuracy: {test_accuracy:.4f} ({round(test_accuracy * len(y_test))} of {len(y_test)} flowers)")
    y_pred = model.predict(x_test, verbose=0).argmax(axis=1)
    save_results_figure(history, y_test, y_pred, class_names, args.log_dir)
    return logs.write_metrics(
        args.log_dir, test_accuracy=test_accuracy, train_seconds=round(seconds, 2), epochs=args.epochs,
    )


if __name__ == "__main__":
    main()
