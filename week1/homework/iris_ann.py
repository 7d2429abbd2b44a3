"""Iris ANN homework (template): classify three iris species from four measurements with a small neural network.

요약: 1주차 과제입니다. 꽃받침·꽃잎의 길이와 너비(4개 특성)로 붓꽃 3종을 분류하는
인공 신경망(ANN)을 Keras로 만듭니다. 아래의 TODO 1~4를 순서대로 채우세요.
채우지 않은 TODO가 있으면 스크립트는 그 번호를 알려 주고 멈춥니다.

Run:    python week1/homework/iris_ann.py
Smoke:  python week1/homework/iris_ann.py --smoke
Grade:  python scripts/grade_homework.py week1/homework/iris_ann.py
Expect: until TODO 1 is filled: "TODO 1 (load_and_split) is not done yet: ...".
        Once all four are filled: test accuracy about 0.95 or more, in seconds on a 2-core CPU;
        iris_results.png (training curves, confusion matrix) and TensorBoard logs in the run folder.

The grader calls these functions: keep their names and arguments (채점기가 부르는 함수들):
    load_and_split(args) -> (x_train, y_train), (x_test, y_test), class_names      TODO 1
    build_model(num_features, num_classes, args) -> keras.Model, not yet compiled   TODO 2
    train_model(model, x_train, y_train, args, callbacks=()) -> the History of fit  TODO 3
    evaluate_model(model, x_test, y_test) -> test accuracy, a float between 0 and 1 TODO 4
It calls them after `import_tensorflow()`, on its own split of the flowers (its own seed),
with x_* standardised float32 arrays (N, 4) and y_* integer labels 0, 1, 2.
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


class TodoNotDone(NotImplementedError):
    """Raised by a TODO block that is still empty; main() turns it into a one-line message."""


def todo(number, name):
    """Stops the program at an empty TODO. Delete the `todo(...)` line once you have written the block.

    채운 TODO 블록에서는 `todo(...)` 줄을 지우세요.
    """
    raise TodoNotDone(
        f"TODO {number} ({name}) is not done yet: write the TODO {number} block of {Path(__file__).name} "
        "and delete its todo(...) line"
    )


def parse_args(argv=None):
    # Adam at 0.02 with batches of 8: 15 steps per epoch, so 20 epochs are 300 steps, enough for
    # the loss to level off on 120 flowers. You may change these defaults (the grader uses them).
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

    # ===== TODO 1: 데이터 나누기와 표준화 / Split and standardise the data ======================
    # (a) 계층별 분할(stratified split): 품종마다 TEST_FRACTION(20%)을 시험용으로 떼어 내세요.
    #     시험 데이터에 세 품종이 10송이씩 들어가야 합니다. 시드는 args.seed로 고정합니다.
    #     Stratified split: hold out TEST_FRACTION of EACH species (10 + 10 + 10 test flowers),
    #     with a generator seeded by args.seed so every run gets the same split.
    #     Hint: rng = np.random.default_rng(args.seed); for each class k,
    #           idx = rng.permutation(np.flatnonzero(labels == k)) and take the first
    #           round(len(idx) * TEST_FRACTION) of idx for the test.
    # (b) 나머지는 학습용입니다. 파일이 품종 순서로 정렬되어 있으니 학습 순서를 섞으세요.
    #     The rest is for training; shuffle its order (the file is sorted by species).
    #     Hint: is_test = np.zeros(len(labels), dtype=bool); is_test[test_idx] = True
    #           train_idx = rng.permutation(np.flatnonzero(~is_test))
    # (c) 표준화(standardisation): 특성마다 (x - 평균) / 표준편차. 평균과 표준편차는
    #     학습 데이터에서만 구하고, 같은 값으로 시험 데이터도 변환합니다(시험 데이터 정보 유출 방지).
    #     Standardise each feature: (x - mean) / std, with mean and std computed on x_train
    #     only (axis=0), and apply the same mean and std to x_test.
    # Return: (x_train, y_train), (x_test, y_test), class_names
    todo(1, "load_and_split")
    # ===== end of TODO 1 =========================================================================


# 2. 모델 / Build the network: 4 inputs -> hidden layer -> 3 outputs
def build_model(num_features, num_classes, args):
    # ===== TODO 2: 신경망 만들기 / Build the network ==============================================
    # keras.Sequential로 은닉층(hidden layer)이 하나 이상 있는 신경망을 만드세요.
    # Build a keras.Sequential network with at least one hidden layer:
    #   keras.Input(shape=(num_features,))
    #   layers.Dense(args.hidden_units, activation="relu")    <- 은닉층: 비선형 활성화 함수가 꼭 필요합니다
    #                                                            the hidden layer: it needs a nonlinearity
    #   layers.Dense(num_classes, activation="softmax")       <- 출력층: 품종마다 확률 하나
    #                                                            the output layer: one probability per species
    # 활성화 함수 없이 Dense를 쌓으면 선형 모델 하나와 같습니다(채점기가 확인합니다).
    # Dense layers without an activation stack into one linear model (the grader checks this).
    # Return the model; do not compile it here (TODO 3 does). / 컴파일은 TODO 3에서 합니다.
    todo(2, "build_model")
    # ===== end of TODO 2 =========================================================================


# 3. 학습 / Train: cross-entropy loss, an optimizer, mini-batches
def train_model(model, x_train, y_train, args, callbacks=()):
    # ===== TODO 3: 학습 / Train the model =========================================================
    # (a) model.compile(...)로 손실 함수, 최적화기(optimizer), 지표를 정하세요.
    #     optimizer=keras.optimizers.Adam(learning_rate=args.learning_rate)
    #     loss="sparse_categorical_crossentropy"   (레이블이 0, 1, 2 정수이므로 sparse를 씁니다)
    #                                              (sparse: the labels are integers, not one-hot vectors)
    #     metrics=["accuracy"]
    # (b) model.fit(...)으로 학습하고 그 결과(History)를 돌려주세요.
    #     Train with model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
    #     callbacks=list(callbacks), verbose=0) and return what fit returns (a History).
    #     `model` itself must be the trained one: the grader evaluates the model it passed in.
    #     채점기는 넘겨준 model을 평가하므로, 새 모델을 만들지 말고 이 model을 학습시키세요.
    todo(3, "train_model")
    # ===== end of TODO 3 =========================================================================


# 4. 평가 / Evaluate: the fraction of test flowers whose most probable class is right
def evaluate_model(model, x_test, y_test):
    # ===== TODO 4: 평가 / Evaluate the model =====================================================
    # 시험 데이터의 정확도(accuracy)를 0과 1 사이의 float 하나로 돌려주세요.
    # Return the test accuracy as one float between 0 and 1.
    # Hint: probabilities = model.predict(x_test, verbose=0)   # (N, 3): each row sums to 1
    #       y_pred = probabilities.argmax(axis=1)              # the most probable species of each flower
    #       accuracy = np.mean(y_pred == y_test)               # return float(accuracy)
    todo(4, "evaluate_model")
    # ===== end of TODO 4 =========================================================================


# 그림 / Training curves and the confusion matrix (given: nothing to fill in below)
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
    try:
        (x_train, y_train), (x_test, y_test), class_names = load_and_split(args)
        import_tensorflow()
        strategy = runtime.setup(args)
        timer = logs.Timer()
        with strategy.scope():
            model = build_model(NUM_FEATURES, len(class_names), args)
            history = train_model(model, x_train, y_train, args, callbacks=[logs.tensorboard_callback(args.log_dir)])
        seconds = timer.seconds()
        test_accuracy = evaluate_model(model, x_test, y_test)
    except TodoNotDone as e:
        raise SystemExit(str(e)) from None  # one line and exit status 1, no traceback
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
