"""Overfitting: a wide MLP memorises 1,000 MNIST images; plain, dropout and L2 versions compete on validation.

요약: 학습 세트(training set)에서 검증 세트(validation set)를 떼어 내고, 작은 학습 부분집합으로 넓은 MLP를
학습해 과적합(overfitting)을 봅니다. 같은 모델에 드롭아웃(dropout)과 L2 가중치 감쇠(weight decay)를 더해
비교하고, 검증 정확도로 셋 중 하나를 고른 뒤 고른 모델만 테스트 세트(test set)로 한 번 평가합니다.

Run:    python week1/overfitting.py
Smoke:  python week1/overfitting.py --smoke
Expect: all three reach training accuracy 0.999-1.0 while their best validation accuracy stays near 0.92:
        a gap of about 0.08 is the overfitting. In the measured run (seed 42, results/week1_overfitting.json)
        dropout and L2 did not beat the plain MLP on validation, so the plain one was chosen; its test
        accuracy was about 0.90. About 30 s on a 2-core CPU.
        Figure: overfitting.png (train vs validation loss and accuracy per epoch for the three).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
PARSER = flags.make_parser(__file__, __doc__, epochs=20, batch_size=32, learning_rate=1e-3)
PARSER.add_argument(
    "--train-size", type=int, default=1000,
    help="training examples: few, so that the model can memorise them (default: %(default)s)",
)
PARSER.add_argument("--hidden", type=int, default=512, help="units per hidden layer (default: %(default)s)")
PARSER.add_argument("--dropout", type=float, default=0.5, help="the dropout variant's rate (default: %(default)s)")
PARSER.add_argument("--l2", type=float, default=1e-4, help="the l2 variant's penalty λ (default: %(default)s)")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from common import data, runtime, tb

NUM_FEATURES, NUM_CLASSES = 28 * 28, 10
VALIDATION = 5000  # 학습 세트의 마지막 5,000장: 검증 세트 (학습에는 쓰지 않음)
SMOKE_TRAIN, SMOKE_VALIDATION, SMOKE_TEST = 200, 200, 200
VARIANTS = ("baseline", "dropout", "l2")


# 1. 데이터 / Train, validation and test sets
def load_data(data_dir=None, train_size=1000, smoke=False):
    """Returns (x_train, y_train), (x_val, y_val), (x_test, y_test); images (N, 784) in [0, 1].

    Training images are the first `train_size` of MNIST's training set, validation its last
    VALIDATION (smoke: SMOKE_VALIDATION), so the two never overlap.
    """
    (x_train, y_train), (x_test, y_test) = data.load_mnist(data_dir)
    n_val = SMOKE_VALIDATION if smoke else VALIDATION
    n_train = min(train_size, SMOKE_TRAIN) if smoke else train_size
    if smoke:
        x_test, y_test = x_test[:SMOKE_TEST], y_test[:SMOKE_TEST]
    if n_train < 1 or n_train + n_val > len(x_train):
        raise SystemExit(
            f"error: --train-size {n_train} plus {n_val} validation images needs more than the"
            f" {len(x_train)} training images there are; use a --train-size from 1 to {len(x_train) - n_val}"
        )
    # 검증 세트는 학습 세트의 끝에서 떼어 냅니다. 테스트 세트는 마지막까지 보지 않습니다.
    x_val, y_val = x_train[-n_val:], y_train[-n_val:]
    x_train, y_train = x_train[:n_train], y_train[:n_train]

    def prepare(x, y):
        return x.reshape(len(x), NUM_FEATURES).astype("float32") / 255, y.astype("int64")

    print(f"Data: {n_train} train, {n_val} validation, {len(x_test)} test images")
    return prepare(x_train, y_train), prepare(x_val, y_val), prepare(x_test, y_test)


# 2. 모델 / The same wide MLP three ways: plain, with dropout, with an L2 penalty on the weights
def build_model(variant, hidden=512, dropout=0.5, l2=1e-4, learning_rate=1e-3):
    """Two ReLU layers of `hidden` units and a softmax; `variant` adds dropout ("dropout") or L2 ("l2")."""
    dropout = dropout if variant == "dropout" else 0.0
    # L2: 손실에 λ Σ W²를 더해서, 매 스텝 W가 0 쪽으로 조금씩 줄어듭니다(가중치 감쇠). 편향은 벌점이 없습니다.
    regularizer = keras.regularizers.L2(l2) if variant == "l2" else None
    model = keras.Sequential(name=variant)
    model.add(keras.Input((NUM_FEATURES,)))
    for _ in range(2):
        model.add(layers.Dense(hidden, activation="relu", kernel_regularizer=regularizer))
        if dropout:
            model.add(layers.Dropout(dropout))  # 학습 중에만: 유닛마다 이 확률로 출력을 0으로 만듭니다
    model.add(layers.Dense(NUM_CLASSES, kernel_regularizer=regularizer))
    model.add(layers.Activation("softmax", dtype="float32"))  # 혼합 정밀도(mixed precision)에서도 확률은 float32로
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


# 3. 학습 / Train one variant; keep the weights of its best epoch on validation
def train(model, train_set, val_set, epochs, batch_size, log_dir):
    """Fits the model and restores its best epoch on validation; returns a dict of what happened."""
    # patience = 전체 에포크 수: 일찍 멈추는 일은 없고, 끝날 때 검증 정확도가 가장 높았던 에포크의 가중치로 돌아갑니다.
    best = keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=epochs, restore_best_weights=True)
    timer = tb.Timer()
    history = model.fit(
        *train_set, validation_data=val_set, batch_size=batch_size, epochs=epochs,
        validation_batch_size=1000,  # 검증 평가를 나누는 크기일 뿐, 학습에는 영향이 없습니다
        callbacks=[best, tb.tensorboard_callback(log_dir), tb.StopOnNaN(log_dir)], verbose=0,
    ).history
    # 되돌린 가중치로, 드롭아웃을 끄고 학습 이미지의 정확도를 다시 잽니다 (fit의 "accuracy"는 드롭아웃이 켜진 값).
    train_accuracy = model.evaluate(*train_set, batch_size=1000, verbose=0)[1]
    best_val = max(history["val_accuracy"])
    result = {
        "model": model, "history": history, "best_val_accuracy": best_val,
        "best_epoch": int(np.argmax(history["val_accuracy"])) + 1,
        "train_accuracy": train_accuracy, "gap": train_accuracy - best_val,
    }
    print(
        f"{model.name}: best validation accuracy {best_val:.4f} at epoch {result['best_epoch']}/{epochs};"
        f" training accuracy {train_accuracy:.4f}, gap {result['gap']:.4f}; {timer.seconds():.1f}s"
    )
    return result


# 4. 그림 / Train vs validation curves
def plot(results, log_dir):
    """One column per variant: loss (top) and accuracy (bottom) per epoch, train and validation."""
    plt = tb.pyplot()
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
    fig.suptitle("과적합: 학습 vs 검증 / overfitting: train vs validation\n"
                 "(l2's train loss includes the penalty; dropout's train curves are measured with dropout on)")
    tb.save_figure(fig, Path(log_dir) / "overfitting.png", log_dir=log_dir)


def main(argv=None):
    args = flags.parse(PARSER, argv)
    train_set, val_set, test_set = load_data(args.data_dir, args.train_size, args.smoke)
    strategy = runtime.setup(args)
    results = {}
    for variant in VARIANTS:
        keras.utils.set_random_seed(args.seed)  # 셋 모두 같은 시드: 차이는 변형에서만 옵니다
        with strategy.scope():
            model = build_model(variant, args.hidden, args.dropout, args.l2, args.learning_rate)
        results[variant] = train(model, train_set, val_set, args.epochs, args.batch_size, Path(args.log_dir) / variant)
    plot(results, args.log_dir)

    # 5. 선택과 테스트 / Choose on validation, then evaluate the chosen model on the test set, once
    # 동점이면 max()는 먼저 나온 것, 즉 VARIANTS 순서에서 더 단순한 모델을 고릅니다.
    chosen = max(results, key=lambda v: results[v]["best_val_accuracy"])
    test_loss, test_accuracy = results[chosen]["model"].evaluate(*test_set, batch_size=1000, verbose=0)
    print(f"Chosen on validation: {chosen}; test accuracy {test_accuracy:.4f} (the only look at the test set)")
    with tb.writer(args.log_dir, "test").as_default():
        tf.summary.scalar("accuracy", test_accuracy, step=0)
        tf.summary.scalar("loss", test_loss, step=0)
    metrics = {"test_accuracy": test_accuracy, "test_loss": test_loss, "chosen": chosen}
    for variant, result in results.items():
        metrics[f"best_val_accuracy_{variant}"] = result["best_val_accuracy"]
        metrics[f"best_epoch_{variant}"] = result["best_epoch"]
        metrics[f"train_accuracy_{variant}"] = result["train_accuracy"]
        metrics[f"train_val_gap_{variant}"] = result["gap"]
    return tb.write_metrics(args.log_dir, **metrics, epochs=args.epochs, train_size=len(train_set[0]))


if __name__ == "__main__":
    main()
