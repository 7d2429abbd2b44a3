"""CIFAR-10 CNN: three conv-BN-ReLU blocks with flip/shift augmentation, small enough to train on a CPU.

요약: 32x32 컬러 사진 10종류(비행기, 자동차, 새, 고양이 …)를 분류합니다. 합성곱(convolution) 층마다
배치 정규화(batch normalization)와 ReLU를 붙인 블록 세 개를 쌓고, 학습 때만 사진을 무작위로 뒤집고
옮기는 데이터 증강(data augmentation)으로 과적합을 줄입니다. 검증 세트로 지켜보고, 테스트 세트는 마지막에 한 번만 평가합니다.

Run:    python week2/cifar10_cnn.py
Smoke:  python week2/cifar10_cnn.py --smoke
Offline: python week2/cifar10_cnn.py --data-dir DIR   (DIR holds cifar-10-batches-bin/, the binary version)
Expect: test accuracy about 0.81 after the default 10 epochs, about 7 minutes of training on a 2-core
        CPU (README table; a JPEG re-encoded copy of CIFAR-10), validation accuracy 0.81.
        confusion_matrix.png shows which classes are taken for which; metrics.json has the accuracy
        per class; TensorBoard's Images tab shows test images it gets wrong.
        week2/cifar10_fast.py (optional) solves the same task with the fastest public recipe.
"""

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
PARSER = flags.make_parser(__file__, __doc__, epochs=10, batch_size=256, learning_rate=2e-3)
PARSER.add_argument("--shift", type=int, default=2, help="largest random shift in pixels, 0 for none (default: %(default)s)")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
import numpy as np
from keras import layers

from common import data, runtime, tb

NUM_CLASSES = 10
WIDTHS = (32, 64, 128)  # 블록마다 필터 수를 두 배로, 크기는 반으로: 32x32 -> 16x16 -> 8x8 -> 4x4
VALIDATION = 5000  # 학습 세트의 마지막 5,000장: 검증 세트 (학습에는 쓰지 않음)
SMOKE_TRAIN, SMOKE_VALIDATION, SMOKE_TEST = 1000, 200, 500
SMOKE_BATCH_SIZE = 16  # --smoke: 배치 정규화의 이동 평균이 자리를 잡을 만큼은 스텝이 돌도록


# 1. 데이터 / Prepare the data
def load_data(data_dir=None, smoke=False):
    """Returns (x_train, y_train), (x_val, y_val), (x_test, y_test), class_names; images (N, 32, 32, 3) in [0, 1]."""
    (x_train, y_train), (x_test, y_test), class_names = data.load_cifar10(data_dir)
    if smoke:
        x_train, y_train = x_train[:SMOKE_TRAIN], y_train[:SMOKE_TRAIN]
        x_test, y_test = x_test[:SMOKE_TEST], y_test[:SMOKE_TEST]
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    # 검증 세트(validation set)는 학습 세트에서 떼어 냅니다. 테스트 세트는 끝까지 보지 않습니다.
    n_val = SMOKE_VALIDATION if smoke else VALIDATION
    x_val, y_val = x_train[-n_val:], y_train[-n_val:]
    x_train, y_train = x_train[:-n_val], y_train[:-n_val]
    print(f"Data: {len(x_train)} train, {len(x_val)} validation, {len(x_test)} test images of shape {x_train.shape[1:]}")
    return (x_train, y_train), (x_val, y_val), (x_test, y_test), class_names


# 2. 모델 / Build the model
def augmentation(shift=2):
    """Random mirror and a random shift of up to `shift` pixels; active only while training."""
    steps = [layers.RandomFlip("horizontal")]  # 좌우로만: 위아래가 뒤집힌 배나 말은 없으니까
    if shift:
        # 가장자리는 거울처럼 채우고(reflect), 픽셀 값은 섞지 않습니다(nearest).
        steps.append(layers.RandomTranslation(shift / 32, shift / 32, fill_mode="reflect", interpolation="nearest"))
    return keras.Sequential(steps, name="augment")


def conv_block(width, name):
    """3x3 conv -> batch norm -> ReLU, 2x2 max pooling, then a second 3x3 conv -> batch norm -> ReLU."""
    block = []
    for i in (1, 2):
        block += [
            layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"{name}_conv{i}"),  # 편향은 BN이 대신
            # 배치마다 평균 0, 분산 1로 맞춥니다. momentum 0.9(Keras 기본값 0.99): 평가 때 쓰는 이동 평균이
            # 짧은 학습에서도 빨리 따라옵니다.
            layers.BatchNormalization(momentum=0.9, name=f"{name}_bn{i}"),
            layers.ReLU(),
        ]
        if i == 1:
            # 두 번째 합성곱은 가로세로를 반으로 줄인 특징 맵에서 계산합니다: 위치가 4분의 1이라 계산도 4분의 1
            block.append(layers.MaxPooling2D(2))
    return block


def build_model(learning_rate=2e-3, total_steps=1000, shift=2):
    """Augmentation, three conv blocks (32, 64, 128 filters), a dense softmax layer; compiled with Adam."""
    model = keras.Sequential(
        [keras.Input(shape=(32, 32, 3)), augmentation(shift)]
        + conv_block(WIDTHS[0], "block1")  # (32, 32, 32) -> (16, 16, 32)
        + conv_block(WIDTHS[1], "block2")  # (8, 8, 64)
        + conv_block(WIDTHS[2], "block3")  # (4, 4, 128)
        + [
            layers.Flatten(),  # 2,048개 특징
            layers.Dropout(0.2),
            layers.Dense(NUM_CLASSES),
            layers.Activation("softmax", dtype="float32"),  # 혼합 정밀도(mixed precision)에서도 확률은 float32로
        ],
        name="cifar10_cnn",
    )
    # 학습률 스케줄(learning-rate schedule): 처음 10%의 스텝 동안 0에서 learning_rate까지 올리고(warm-up),
    # 그다음 코사인 곡선을 따라 0까지 내립니다.
    warmup = max(1, total_steps // 10)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=max(1, total_steps - warmup), warmup_target=learning_rate, warmup_steps=warmup
    )
    model.compile(
        optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model


# 3. 학습 / Train, watching the validation set
def train(model, x_train, y_train, x_val, y_val, epochs, batch_size, log_dir, seed=42):
    """Fits the model; returns (history, seconds of training)."""
    train_ds = data.make_pipeline(x_train, y_train, batch_size=batch_size, shuffle=True, seed=seed)
    val_ds = data.make_pipeline(x_val, y_val, batch_size=1000)
    timer = tb.Timer()
    history = model.fit(
        train_ds, validation_data=val_ds, epochs=epochs, verbose=2,
        callbacks=[tb.tensorboard_callback(log_dir), tb.StopOnNaN(log_dir)],
    )
    return history, timer.seconds()


# 4. 그림 / Confusion matrix and mistakes
def save_confusion(y_test, y_pred, class_names, log_dir):
    """Saves confusion_matrix.png; returns the (10, 10) counts, rows = true class, columns = predicted."""
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=int)
    np.add.at(confusion, (y_test, y_pred), 1)
    plt = tb.pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    image = ax.imshow(confusion, cmap="Blues")
    for (i, j), count in np.ndenumerate(confusion):
        ax.text(j, i, count, ha="center", va="center", fontsize=8, color="white" if count > confusion.max() / 2 else "black")
    ax.set_xticks(range(NUM_CLASSES), class_names, rotation=45, ha="right")
    ax.set_yticks(range(NUM_CLASSES), class_names)
    ax.set_xlabel("예측 / predicted")
    ax.set_ylabel("정답 / true")
    ax.set_title("혼동 행렬, 테스트 세트 / confusion matrix, test set")
    fig.colorbar(image, ax=ax, fraction=0.046)
    tb.save_figure(fig, Path(log_dir) / "confusion_matrix.png")
    return confusion


def log_mistakes(x_test, y_test, y_pred, class_names, log_dir, limit=36):
    """The first `limit` test images it gets wrong, to TensorBoard's Images tab."""
    wrong = np.flatnonzero(y_pred != y_test)[:limit]
    if len(wrong):
        names = ", ".join(f"{class_names[y_test[i]]}→{class_names[y_pred[i]]}" for i in wrong[:12])
        tb.log_image(log_dir, "test", "mistakes", tb.image_grid(x_test[wrong], ncols=9),
                     description="First test images the model gets wrong (true→predicted): " + names)


def main(argv=None):
    args = flags.parse(PARSER, argv)
    (x_train, y_train), (x_val, y_val), (x_test, y_test), class_names = load_data(args.data_dir, args.smoke)
    if args.smoke:
        args.batch_size = min(args.batch_size, SMOKE_BATCH_SIZE)
    strategy = runtime.setup(args)
    total_steps = args.epochs * math.ceil(len(x_train) / args.batch_size)
    with strategy.scope():
        model = build_model(args.learning_rate, total_steps, args.shift)
    model.summary()
    history, seconds = train(model, x_train, y_train, x_val, y_val, args.epochs, args.batch_size, args.log_dir, args.seed)

    # 5. 평가 / Evaluate on the test set, once
    y_pred = model.predict(x_test, batch_size=1000, verbose=0).argmax(axis=1)
    test_acc = float(np.mean(y_pred == y_test))
    print(f"Test accuracy: {test_acc:.4f}; {seconds:.0f}s of training")
    confusion = save_confusion(y_test, y_pred, class_names, args.log_dir)
    per_class = {name: round(float(confusion[k, k] / max(1, confusion[k].sum())), 4) for k, name in enumerate(class_names)}
    for name, accuracy in per_class.items():
        print(f"  {name:12s} {accuracy:.3f}")
    log_mistakes(x_test, y_test, y_pred, class_names, args.log_dir)
    return tb.write_metrics(
        args.log_dir, test_accuracy=test_acc, val_accuracy=history.history["val_accuracy"][-1],
        train_seconds=round(seconds, 1), epochs=args.epochs, per_class_accuracy=per_class,
    )


if __name__ == "__main__":
    main()
