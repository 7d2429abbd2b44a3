"""Iris ANN homework (template): classify three iris species from four measurements with a small neural network.

요약: 1주차 과제입니다. 꽃받침·꽃잎의 길이와 너비(특성 4개)로 붓꽃 3종을 분류하는 신경망을
Keras로 만듭니다. 아래의 TODO 1~4를 순서대로 채우세요. 채우지 않은 TODO가 있으면 스크립트는
그 번호를 알려 주고 멈춥니다.

Run:    python week1/homework/iris_ann.py
Smoke:  python week1/homework/iris_ann.py --smoke
Grade:  python scripts/grade_homework.py week1/homework/iris_ann.py
Expect: until TODO 1 is filled: "TODO 1 (load_and_split) is not done yet: ...".
        Once all four are filled: seconds of training on a 2-core CPU, the test accuracy (the grader asks
        for 0.90 on its held-out flowers; the solution's numbers are in README.md), and iris_results.png
        (training and validation curves, the test set's confusion matrix) in the run folder.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
# 채점기도 이 기본값으로 학습합니다. 바꾸려면 검증 세트의 곡선을 보고 바꾸세요 (테스트 정확도가 아니라).
PARSER = flags.make_parser(__file__, __doc__, epochs=20, batch_size=8, learning_rate=0.02, smoke_epochs=3)
PARSER.add_argument("--hidden-units", type=int, default=16, help="neurons in the hidden layer (default: %(default)s)")
# 4-16-3 망은 16비트 계산(mixed precision)으로 얻는 것이 없습니다: 늘 float32.
PARSER.set_defaults(mixed_precision="off")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras  # noqa: F401  (TODO 2, 3에서 씁니다 / used in TODO 2 and 3)
import numpy as np
from keras import layers  # noqa: F401  (TODO 2)

from common import data, runtime, tb

NUM_FEATURES = 4  # 꽃받침 길이·너비, 꽃잎 길이·너비 (cm)
TEST_FRACTION = 0.2  # 품종마다 50송이 중 10송이: 테스트 세트 30송이
VALIDATION_FRACTION = 0.2  # 품종마다 10송이 더: 검증 세트 30송이. 학습 세트는 90송이


class TodoNotDone(NotImplementedError):
    """Raised by a TODO block that is still empty; main() turns it into a one-line message."""


def todo(number, name):
    """채운 TODO 블록에서는 이 `todo(...)` 줄을 지우세요. / Delete the `todo(...)` line of a block you have filled."""
    raise TodoNotDone(
        f"TODO {number} ({name}) is not done yet: write the TODO {number} block of {Path(__file__).name} "
        "and delete its todo(...) line"
    )


# 채점기(scripts/grade_homework.py)가 아래 네 함수를 직접 부릅니다: 이름과 인자를 바꾸지 마세요.
# The grader calls the four functions below: keep their names and arguments.


# 1. 데이터 / Split by species, standardise with the training set's statistics
def load_and_split(seed=42):
    """Returns (x_train, y_train), (x_val, y_val), (x_test, y_test), class_names; x (N, 4) float32, y 0/1/2."""
    features, labels, class_names = data.load_iris()  # (150, 4), (150,): 파일은 품종 순서로 정렬되어 있음

    # ===== TODO 1: 데이터 나누기와 표준화 / Split and standardise the data ======================
    # (a) 계층별 분할(stratified split): 품종마다 50송이를 섞은 뒤, 처음 TEST_FRACTION(20%)은 테스트 세트,
    #     다음 VALIDATION_FRACTION(20%)은 검증 세트, 나머지는 학습 세트로 나누세요.
    #     세 품종이 10송이씩 테스트 세트와 검증 세트에 들어갑니다. 시드(seed)로 난수를 고정합니다.
    #     For each species, shuffle its 50 flowers with a generator seeded by `seed`; the first 20% go to
    #     the test set, the next 20% to the validation set, the rest to the training set.
    #     힌트 / Hint:
    #       rng = np.random.default_rng(seed)
    #       train_idx, val_idx, test_idx = [], [], []
    #       for k in range(len(class_names)):
    #           idx = rng.permutation(np.flatnonzero(labels == k))
    #           n_test, n_val = round(len(idx) * TEST_FRACTION), round(len(idx) * VALIDATION_FRACTION)
    #           test_idx.extend(idx[:n_test]); val_idx.extend(idx[n_test:n_test + n_val]); ...
    # (b) 파일이 품종 순서로 정렬되어 있으니 학습 세트의 순서를 섞으세요: train_idx = rng.permutation(train_idx)
    #     Shuffle the training order (the file is sorted by species).
    # (c) 표준화(standardisation): 특성마다 (x - 평균) / 표준편차. 평균과 표준편차는 학습 세트에서만
    #     구하고(axis=0), 같은 값으로 검증 세트와 테스트 세트도 바꿉니다. 테스트 세트의 통계를 쓰면
    #     테스트 세트의 정보가 학습에 새어 듭니다(채점기가 확인합니다).
    #     Standardise each feature with the mean and std of x_train only, and apply the same
    #     mean and std to x_val and x_test.
    # 돌려줄 것 / Return: (x_train, y_train), (x_val, y_val), (x_test, y_test), class_names
    todo(1, "load_and_split")
    # ===== end of TODO 1 =========================================================================


# 2. 모델 / Build the network: 4 inputs -> hidden layer -> 3 outputs
def build_model(num_features=NUM_FEATURES, num_classes=3, hidden_units=16):
    """A keras.Sequential with at least one hidden layer, not yet compiled."""
    # ===== TODO 2: 신경망 만들기 / Build the network ==============================================
    # keras.Sequential로 은닉층(hidden layer)이 하나 이상 있는 신경망을 만들어 돌려주세요.
    # Return a keras.Sequential network with at least one hidden layer:
    #   keras.Input(shape=(num_features,))
    #   layers.Dense(hidden_units, activation="relu")     <- 은닉층: 비선형 활성화 함수(activation function)가 꼭 필요
    #   layers.Dense(num_classes, activation="softmax")   <- 출력층: 품종마다 확률 하나 (출력 3개)
    # 활성화 함수 없이 Dense를 쌓으면 선형 모델 하나와 같습니다(채점기가 확인합니다).
    # Dense layers without an activation stack into one linear model (the grader checks this).
    # 컴파일은 TODO 3에서 합니다. / Do not compile here: TODO 3 does.
    todo(2, "build_model")
    # ===== end of TODO 2 =========================================================================


# 3. 학습 / Train: cross-entropy loss, an optimizer, mini-batches, watching the validation set
def train_model(model, x_train, y_train, x_val, y_val, epochs=20, batch_size=8, learning_rate=0.02, callbacks=()):
    """Compiles and fits `model` in place; returns the History (loss, accuracy, val_loss, val_accuracy per epoch)."""
    # ===== TODO 3: 학습 / Train the model =========================================================
    # (a) model.compile(...)로 손실(loss), 옵티마이저(optimizer), 지표를 정하세요.
    #       optimizer=keras.optimizers.Adam(learning_rate=learning_rate)
    #       loss="sparse_categorical_crossentropy"   <- 레이블이 정수 0, 1, 2라서 sparse를 씁니다
    #                                                   (원-핫(one-hot) 레이블이면 "categorical_crossentropy")
    #       metrics=["accuracy"]
    # (b) model.fit(...)으로 학습하고 그 결과(History)를 돌려주세요. 검증 세트는 validation_data로 넘깁니다:
    #     가중치를 고치는 데는 쓰이지 않고, 에포크마다 점수(val_loss, val_accuracy)만 잽니다.
    #       return model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs,
    #                        batch_size=batch_size, callbacks=list(callbacks), verbose=0)
    #     넘겨받은 x_train만으로 학습하세요. 채점기는 넘겨준 model을 평가하므로 새 모델을 만들지 마세요.
    #     Train on the x_train you are given, and train this `model`: the grader evaluates it.
    todo(3, "train_model")
    # ===== end of TODO 3 =========================================================================


# 4. 평가 / Evaluate: the fraction of test flowers whose most probable species is right
def evaluate_model(model, x_test, y_test):
    """Returns (test accuracy as a float in [0, 1], the predicted species of each flower)."""
    # ===== TODO 4: 평가 / Evaluate the model =====================================================
    # 정확도(accuracy)를 0과 1 사이의 float 하나로, 꽃마다 예측한 품종과 함께 돌려주세요.
    # Return the accuracy as one float between 0 and 1, and the predicted species of each flower.
    # 힌트 / Hint:
    #   probabilities = model.predict(x_test, verbose=0)   # (N, 3): 행마다 합이 1
    #   y_pred = probabilities.argmax(axis=1)              # 꽃마다 확률이 가장 큰 품종
    #   return float(np.mean(y_pred == y_test)), y_pred
    todo(4, "evaluate_model")
    # ===== end of TODO 4 =========================================================================


# 그림 / Training curves and the confusion matrix (이 아래는 채울 것이 없습니다 / nothing to fill in below)
def save_results_figure(history, y_test, y_pred, class_names, log_dir):
    plt = tb.pyplot()
    fig, (ax_curve, ax_cm) = plt.subplots(1, 2, figsize=(11, 4.2))
    epochs = np.arange(1, len(history.history["loss"]) + 1)
    for key, style in (("loss", "-"), ("accuracy", "-"), ("val_loss", "--"), ("val_accuracy", "--")):
        if key in history.history:
            ax_curve.plot(epochs, history.history[key], style, label=key)
    ax_curve.set_xlabel("에포크 / epoch")
    ax_curve.set_title("학습·검증 곡선 / training and validation curves")
    ax_curve.legend()
    num_classes = len(class_names)
    confusion = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(confusion, (y_test, y_pred), 1)  # 행: 정답 품종, 열: 예측한 품종
    ax_cm.imshow(confusion, cmap="Blues")
    for (i, j), count in np.ndenumerate(confusion):
        ax_cm.text(j, i, count, ha="center", va="center", color="white" if count > confusion.max() / 2 else "black")
    short = [name.replace("Iris-", "") for name in class_names]
    ax_cm.set_xticks(range(num_classes), short)
    ax_cm.set_yticks(range(num_classes), short)
    ax_cm.set_xlabel("예측 / predicted")
    ax_cm.set_ylabel("정답 / true")
    ax_cm.set_title("혼동 행렬(confusion matrix) / test set")
    tb.save_figure(fig, Path(log_dir) / "iris_results.png")


def main(argv=None):
    args = flags.parse(PARSER, argv)
    try:
        (x_train, y_train), (x_val, y_val), (x_test, y_test), class_names = load_and_split(args.seed)
        strategy = runtime.setup(args)  # 장치, 시드, 실행 폴더와 config.json
        with strategy.scope():
            model = build_model(NUM_FEATURES, len(class_names), args.hidden_units)
        timer = tb.Timer()
        history = train_model(
            model, x_train, y_train, x_val, y_val, args.epochs, args.batch_size, args.learning_rate,
            callbacks=[tb.tensorboard_callback(args.log_dir), tb.StopOnNaN(args.log_dir)],
        )
        seconds = timer.seconds()
        h = history.history
        for epoch in sorted({*range(0, len(h["loss"]), max(1, len(h["loss"]) // 10)), len(h["loss"]) - 1}):
            validation = (
                f", validation loss {h['val_loss'][epoch]:.4f} acc {h['val_accuracy'][epoch]:.4f}"
                if "val_loss" in h else ""
            )
            print(f"Epoch {epoch + 1}/{len(h['loss'])}: train loss {h['loss'][epoch]:.4f} acc {h['accuracy'][epoch]:.4f}"
                  + validation)

        # 5. 평가 / Evaluate on the test set, once
        test_accuracy, y_pred = evaluate_model(model, x_test, y_test)
    except TodoNotDone as e:
        raise SystemExit(str(e)) from None  # 한 줄 메시지와 종료 코드 1, 트레이스백 없이
    print(f"Test accuracy: {test_accuracy:.4f} ({round(test_accuracy * len(y_test))} of {len(y_test)} flowers)")
    save_results_figure(history, y_test, y_pred, class_names, args.log_dir)
    return tb.write_metrics(
        args.log_dir, test_accuracy=test_accuracy, val_accuracy=h.get("val_accuracy", [None])[-1],
        train_seconds=round(seconds, 2), epochs=args.epochs,
    )


if __name__ == "__main__":
    main()
