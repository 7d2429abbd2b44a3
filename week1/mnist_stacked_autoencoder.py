"""MNIST stacked autoencoder: greedy unsupervised pre-training, then a softmax, then fine-tuning.

요약: 적층 오토인코더(stacked autoencoder)는 오토인코더를 한 층씩 쌓아 레이블 없이 먼저 학습(비지도 사전 학습,
unsupervised pre-training)한 뒤, 그 위에 소프트맥스 분류기를 올립니다. 인코더를 고정한 채 소프트맥스만 학습한
모델과 전체를 미세 조정(fine-tuning)한 모델을 검증 세트로 비교하고, 테스트 세트는 마지막 모델에 한 번만 씁니다.

Run:    python week1/mnist_stacked_autoencoder.py
Smoke:  python week1/mnist_stacked_autoencoder.py --smoke
Expect: test accuracy about 0.985 after fine-tuning (README table); the softmax on the frozen
        pre-trained features scores lower on validation (about 0.91 in the README table); about two minutes on a
        2-core CPU. TensorBoard has one folder per stage (pretrain_1, pretrain_2, softmax_frozen,
        finetune), each with train and validation curves; features.png shows what layer 1 learned
        without labels, stages.png compares the two classifiers on the validation set.
"""

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
# --epochs는 미세 조정 단계의 에포크 수입니다. 사전 학습과 고정 특징 위 소프트맥스는 따로 정합니다.
PARSER = flags.make_parser(__file__, __doc__, epochs=15, batch_size=128, learning_rate=1e-3)
PARSER.add_argument(
    "--sizes", type=int, nargs="+", default=[512, 256], help="units of each stacked encoder layer (default: 512 256)"
)
PARSER.add_argument(
    "--dropout", type=float, default=0.2, help="dropout between layers while fine-tuning (default: %(default)s)"
)
PARSER.add_argument(
    "--pretrain-epochs", type=int, default=5,
    help="epochs for each autoencoder layer (default: %(default)s; 1 with --smoke)",
)
PARSER.add_argument(
    "--softmax-epochs", type=int, default=5,
    help="epochs for the softmax on frozen features (default: %(default)s)",
)
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
from keras import layers

from common import data, runtime, tb

NUM_CLASSES = 10
VALIDATION = 5000  # 학습 세트의 마지막 5,000장: 검증 세트 (학습에는 쓰지 않음)
SMOKE_TRAIN, SMOKE_VALIDATION, SMOKE_TEST = 1000, 200, 500


# 1. 데이터 / Prepare the data
def load_data(data_dir=None, smoke=False):
    """Returns (x_train, y_train), (x_val, y_val), (x_test, y_test); images as (N, 784) in [0, 1]."""
    (x_train, y_train), (x_test, y_test) = data.load_mnist(data_dir)
    if smoke:
        x_train, y_train = x_train[:SMOKE_TRAIN], y_train[:SMOKE_TRAIN]
        x_test, y_test = x_test[:SMOKE_TEST], y_test[:SMOKE_TEST]
    x_train = x_train.reshape(len(x_train), -1).astype("float32") / 255
    x_test = x_test.reshape(len(x_test), -1).astype("float32") / 255
    # 검증 세트(validation set)는 학습 세트에서 떼어 냅니다. 테스트 세트는 끝까지 보지 않습니다.
    n_val = SMOKE_VALIDATION if smoke else VALIDATION
    x_val, y_val = x_train[-n_val:], y_train[-n_val:]
    x_train, y_train = x_train[:-n_val], y_train[:-n_val]
    print(f"Data: {len(x_train)} train, {len(x_val)} validation, {len(x_test)} test images")
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)


def fit(model, x, y, x_val, y_val, epochs, batch_size, log_dir, stage, seed=42):
    """model.fit with a shuffled pipeline, validation data, and a TensorBoard folder per stage."""
    train_ds = data.make_pipeline(x, y, batch_size=batch_size, shuffle=True, seed=seed)
    val_ds = data.make_pipeline(x_val, y_val, batch_size=1000)
    print(f"--- {stage}")
    return model.fit(
        train_ds, validation_data=val_ds, epochs=epochs, verbose=2,
        callbacks=[tb.tensorboard_callback(Path(log_dir) / stage), tb.StopOnNaN(log_dir)],
    )


# 2. 비지도 사전 학습 / Greedy layer-wise pre-training: each layer is an autoencoder of the one below
def pretrain(x_train, x_val, sizes, epochs, batch_size, learning_rate, log_dir, seed=42):
    """Trains one autoencoder per entry of `sizes`; returns their encoder layers, bottom first."""
    encoders, inputs, val_inputs = [], x_train, x_val
    for i, size in enumerate(sizes, start=1):
        encoder = layers.Dense(size, activation="relu", name=f"encoder_{i}")
        if i == 1:  # 1층은 [0, 1] 픽셀을 되살립니다: 시그모이드 출력, 픽셀마다 교차 엔트로피
            decoder = layers.Dense(inputs.shape[1], activation="sigmoid", name=f"decoder_{i}", dtype="float32")
            loss = "binary_crossentropy"
        else:  # 위층은 ReLU 코드(0 이상의 아무 값)를 되살립니다: 선형 출력, 평균 제곱 오차(MSE)
            decoder = layers.Dense(inputs.shape[1], name=f"decoder_{i}", dtype="float32")
            loss = "mse"
        autoencoder = keras.Sequential(
            [keras.Input(shape=(inputs.shape[1],)), encoder, decoder], name=f"autoencoder_{i}"
        )
        autoencoder.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
        fit(autoencoder, inputs, inputs, val_inputs, val_inputs, epochs, batch_size, log_dir, f"pretrain_{i}", seed)
        encoders.append(encoder)
        # 다음 오토인코더는 픽셀이 아니라 이 층의 코드로 학습합니다.
        inputs = encoder(inputs).numpy()
        val_inputs = encoder(val_inputs).numpy()
    return encoders


# 3. 분류기 / A softmax classifier on top of the stack
def build_classifier(encoders, trainable, learning_rate=1e-3, dropout=0.2, total_steps=1000):
    """The stacked encoders plus a softmax layer; trainable=False freezes the encoders."""
    for encoder in encoders:
        encoder.trainable = trainable
    stack = []
    for encoder in encoders:  # 드롭아웃은 미세 조정 때만: 고정 특징 모델은 특징을 그대로 소프트맥스에 넘깁니다
        stack += [encoder, layers.Dropout(dropout if trainable else 0.0)]
    model = keras.Sequential(
        [
            keras.Input(shape=(784,)),
            *stack,
            layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32", name="softmax"),
        ],
        name="stacked_autoencoder_classifier",
    )
    # 학습률 스케줄: 코사인 곡선을 따라 0까지 줄어, 끝으로 갈수록 사전 학습된 가중치를 작게만 움직입니다.
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=max(1, total_steps))
    model.compile(
        optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model


# 4. 그림 / Figures
def save_figures(first_layer_weights, val_accuracies, log_dir):
    """features.png: layer-1 weight patterns; stages.png: validation accuracy of each classifier."""
    n = min(100, first_layer_weights.shape[1])
    patterns = first_layer_weights[:, :n].T.reshape(n, 28, 28)
    patterns = patterns / (2 * abs(patterns).max(axis=(1, 2), keepdims=True)) + 0.5  # 회색 = 0
    plt = tb.pyplot()
    fig, ax = plt.subplots(figsize=(7, 7))
    ax.imshow(tb.image_grid(patterns, ncols=10)[..., 0], cmap="gray", vmin=0, vmax=1)
    ax.axis("off")
    ax.set_title("레이블 없이 학습한 1층 특징 / layer-1 features learned without labels")
    tb.save_figure(fig, Path(log_dir) / "features.png", log_dir=log_dir)

    fig, ax = plt.subplots(figsize=(6, 3.5))
    names = list(val_accuracies)
    bars = ax.bar(names, [val_accuracies[k] for k in names], color=["#9ecae1", "#3182bd"])
    ax.bar_label(bars, fmt="%.4f")
    ax.set_ylim(min(val_accuracies.values()) - 0.05, 1.0)
    ax.set_ylabel("검증 정확도 / validation accuracy")
    ax.set_title("고정된 특징 vs 미세 조정 / frozen features vs fine-tuned")
    tb.save_figure(fig, Path(log_dir) / "stages.png", log_dir=log_dir)


def main(argv=None):
    args = flags.parse(PARSER, argv)
    if args.smoke:
        args.pretrain_epochs = 1  # 고정된 특징 위의 소프트맥스는 빨라서 --softmax-epochs는 그대로 둡니다
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_data(args.data_dir, args.smoke)
    runtime.setup(args)  # 장치 하나: 단계마다 작은 모델을 차례로 학습하므로 분산 전략은 쓰지 않습니다
    timer = tb.Timer()
    encoders = pretrain(
        x_train, x_val, args.sizes, args.pretrain_epochs, args.batch_size, args.learning_rate, args.log_dir, args.seed
    )
    first_layer_weights = encoders[0].get_weights()[0].copy()  # 미세 조정이 바꾸기 전의 1층 가중치
    steps_per_epoch = math.ceil(len(x_train) / args.batch_size)

    # 고정된 코드 위의 소프트맥스 회귀: 레이블 없이 배운 특징이 얼마나 쓸모 있는지 검증 세트로 봅니다.
    frozen = build_classifier(
        encoders, trainable=False, learning_rate=args.learning_rate, total_steps=args.softmax_epochs * steps_per_epoch
    )
    history = fit(
        frozen, x_train, y_train, x_val, y_val, args.softmax_epochs, args.batch_size, args.log_dir, "softmax_frozen",
        args.seed,
    )
    frozen_val_acc = history.history["val_accuracy"][-1]

    # 미세 조정: 사전 학습된 가중치에서 시작해 이제 모든 층이 레이블로 학습합니다.
    finetuned = build_classifier(
        encoders, trainable=True, learning_rate=args.learning_rate, dropout=args.dropout,
        total_steps=args.epochs * steps_per_epoch,
    )
    finetuned.layers[-1].set_weights(frozen.layers[-1].get_weights())  # 위에서 학습한 소프트맥스에서 이어서
    history = fit(
        finetuned, x_train, y_train, x_val, y_val, args.epochs, args.batch_size, args.log_dir, "finetune", args.seed
    )
    val_acc = history.history["val_accuracy"][-1]
    seconds = timer.seconds()
    print(f"Validation accuracy: softmax on frozen features {frozen_val_acc:.4f}, after fine-tuning {val_acc:.4f}")

    # 5. 평가 / Evaluate the final (fine-tuned) model on the test set, once
    test_loss, test_acc = finetuned.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    print(f"Test: loss {test_loss:.4f}, accuracy {test_acc:.4f}")
    save_figures(first_layer_weights, {"frozen features": frozen_val_acc, "fine-tuned": val_acc}, args.log_dir)
    return tb.write_metrics(
        args.log_dir, test_accuracy=test_acc, test_loss=test_loss, val_accuracy=val_acc,
        frozen_features_val_accuracy=frozen_val_acc, train_seconds=round(seconds, 2), epochs=args.epochs,
        pretrain_epochs=args.pretrain_epochs, softmax_epochs=args.softmax_epochs,
    )


if __name__ == "__main__":
    main()
