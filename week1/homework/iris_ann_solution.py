"""Iris ANN homework, reference solution: a one-hidden-layer Keras network for three iris species.

요약: 과제 iris_ann.py의 모범 답안입니다. 꽃받침·꽃잎의 길이와 너비 4개로 붓꽃 3종을 분류하는
신경망(은닉층 1개)을 만들고, 품종별로 나눈 검증 세트로 학습을 지켜본 뒤 테스트 세트로 한 번 평가합니다.
함수 이름과 인자는 템플릿과 같아서 채점기로 똑같이 채점할 수 있습니다.

Run:    python week1/homework/iris_ann_solution.py
Smoke:  python week1/homework/iris_ann_solution.py --smoke
Grade:  python scripts/grade_homework.py week1/homework/iris_ann_solution.py
Expect: test accuracy 0.9667 (29 of 30 test flowers) with the defaults; 0.978 averaged over seeds 42-44
        (README table); seconds of training on a 2-core CPU.
        iris_results.png: training and validation curves, the test set's confusion matrix.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
# 채점기도 이 기본값으로 학습합니다. 기본값은 검증 세트를 보고 고릅니다 (README).
PARSER = flags.make_parser(__file__, __doc__, epochs=20, batch_size=8, learning_rate=0.02, smoke_epochs=3)
PARSER.add_argument("--hidden-units", type=int, default=16, help="neurons in the hidden layer (default: %(default)s)")
# 4-16-3 망은 16비트 계산(mixed precision)으로 얻는 것이 없습니다: 늘 float32.
PARSER.set_defaults(mixed_precision="off")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
import numpy as np
from keras import layers

from common import data, runtime, tb

NUM_FEATURES = 4  # 꽃받침 길이·너비, 꽃잎 길이·너비 (cm)
TEST_FRACTION = 0.2  # 품종마다 50송이 중 10송이: 테스트 세트 30송이
VALIDATION_FRACTION = 0.2  # 품종마다 10송이 더: 검증 세트 30송이. 학습 세트는 90송이


# 1. 데이터 / Split by species, standardise with the training set's statistics
def load_and_split(seed=42):
    """Returns (x_train, y_train), (x_val, y_val), (x_test, y_test), class_names; x (N, 4) float32, y 0/1/2."""
    features, labels, class_names = data.load_iris()  # (150, 4), (150,): 파일은 품종 순서로 정렬되어 있음

    # 계층별 분할(stratified split): 품종마다 같은 비율을 떼어 내면 테스트 세트와 검증 세트에
    # 세 품종이 10송이씩 들어갑니다 (그냥 무작위로 자르면 한 품종이 6송이, 다른 품종이 14송이일 수도 있음).
    rng = np.random.default_rng(seed)
    train_idx, val_idx, test_idx = [], [], []
    for k in range(len(class_names)):
        idx = rng.permutation(np.flatnonzero(labels == k))
        n_test, n_val = round(len(idx) * TEST_FRACTION), round(len(idx) * VALIDATION_FRACTION)
        test_idx.extend(idx[:n_test])
        val_idx.extend(idx[n_test:n_test + n_val])
        train_idx.extend(idx[n_test + n_val:])
    train_idx = rng.permutation(train_idx)  # 품종이 섞인 순서로 학습
    x_train, y_train = features[train_idx], labels[train_idx]
    x_val, y_val = features[val_idx], labels[val_idx]
    x_test, y_test = features[test_idx], labels[test_idx]

    # 표준화(standardisation): 특성마다 (x - 평균) / 표준편차. 평균과 표준편차는 학습 세트에서만 구하고
    # 검증 세트와 테스트 세트에도 같은 값을 씁니다: 그래야 테스트 세트의 정보가 학습에 새어 들지 않습니다.
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    x_train, x_val, x_test = (x_train - mean) / std, (x_val - mean) / std, (x_test - mean) / std
    print(
        f"Data: {len(x_train)} train, {len(x_val)} validation, {len(x_test)} test flowers; "
        f"test per species {np.bincount(y_test).tolist()}"
    )
    return (x_train, y_train), (x_val, y_val), (x_test, y_test), class_names


# 2. 모델 / Build the network: 4 inputs -> hidden layer (ReLU) -> 3 softmax outputs
def build_model(num_features=NUM_FEATURES, num_classes=3, hidden_units=16):
    """A keras.Sequential with one hidden layer, not yet compiled."""
    return keras.Sequential([
        keras.Input(shape=(num_features,)),
        # 은닉층(hidden layer): 활성화 함수(activation function) ReLU가 없으면 Dense 두 개는 선형 모델 하나와 같습니다.
        layers.Dense(hidden_units, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),  # 소프트맥스(softmax): 품종마다 확률 하나, 합은 1
    ])


# 3. 학습 / Train: cross-entropy loss, Adam, mini-batches, watching the validation set
def train_model(model, x_train, y_train, x_val, y_val, epochs=20, batch_size=8, learning_rate=0.02, callbacks=()):
    """Compiles and fits `model` in place; returns the History (loss, accuracy, val_loss, val_accuracy per epoch)."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",  # 레이블이 정수 0, 1, 2라서 sparse (원-핫(one-hot)이면 categorical_)
        metrics=["accuracy"],
    )
    # 검증 세트는 가중치를 고치는 데 쓰지 않고 에포크마다 점수만 잽니다: 에포크 수 같은 선택은 이 곡선으로 합니다.
    return model.fit(
        x_train, y_train, validation_data=(x_val, y_val), epochs=epochs, batch_size=batch_size,
        callbacks=list(callbacks), verbose=0,
    )


# 4. 평가 / Evaluate: the fraction of test flowers whose most probable species is right
def evaluate_model(model, x_test, y_test):
    """Returns (test accuracy as a float in [0, 1], the predicted species of each flower)."""
    probabilities = model.predict(x_test, verbose=0)  # (N, 3): 행마다 합이 1
    y_pred = probabilities.argmax(axis=1)  # 꽃마다 확률이 가장 큰 품종
    return float(np.mean(y_pred == y_test)), y_pred


# 그림 / Training curves and the confusion matrix
def save_results_figure(history, y_test, y_pred, class_names, log_dir):
    plt = tb.pyplot()
    fig, (ax_curve, ax_cm) = plt.subplots(1, 2, figsize=(11, 4.2))
    epochs = np.arange(1, len(history.history["loss"]) + 1)
    for key, style in (("loss", "-"), ("accuracy", "-"), ("val_loss", "--"), ("val_accuracy", "--")):
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
        print(
            f"Epoch {epoch + 1}/{len(h['loss'])}: train loss {h['loss'][epoch]:.4f} acc {h['accuracy'][epoch]:.4f}, "
            f"validation loss {h['val_loss'][epoch]:.4f} acc {h['val_accuracy'][epoch]:.4f}"
        )

    # 5. 평가 / Evaluate on the test set, once
    test_accuracy, y_pred = evaluate_model(model, x_test, y_test)
    print(f"Test accuracy: {test_accuracy:.4f} ({round(test_accuracy * len(y_test))} of {len(y_test)} flowers)")
    save_results_figure(history, y_test, y_pred, class_names, args.log_dir)
    return tb.write_metrics(
        args.log_dir, test_accuracy=test_accuracy, val_accuracy=h["val_accuracy"][-1],
        train_seconds=round(seconds, 2), epochs=args.epochs,
    )


if __name__ == "__main__":
    main()
