"""CIFAR-10, fast: how far engineering goes, with the fastest public recipe (airbench) as far as Keras allows.

요약: week2/cifar10_cnn.py와 같은 문제를, 가장 빠른 CIFAR-10 학습법(airbench)에서 2코어 CPU에 맞는 것들을
골라 풉니다: 데이터로 계산한 고정 화이트닝(whitening) 합성곱, 항등 초기화, 소프트맥스 온도, one-cycle 학습률,
레이블 스무딩(label smoothing), 룩어헤드(lookahead), 테스트 시 증강(test-time augmentation). 수업에 꼭
필요한 스크립트는 아닙니다: 공학(engineering)으로 어디까지 갈 수 있는지 보여 줍니다.

Run:    python week2/cifar10_fast.py
Smoke:  python week2/cifar10_fast.py --smoke
Offline: python week2/cifar10_fast.py --data-dir DIR   (DIR holds cifar-10-batches-bin/, the binary version)
Final:  python week2/cifar10_fast.py --final-fit   (the same settings, trained on all 50,000 training images)
Expect: test accuracy about 0.899 with test-time augmentation (0.885 without), validation accuracy 0.89,
        after 24 epochs: about 65 minutes of training in float32 on a 2-core CPU without AMX (README table;
        a JPEG re-encoded copy of CIFAR-10). These settings were chosen on the validation split; --final-fit
        then trains on all 50,000 images and reaches test accuracy 0.9037 (0.8911 without test-time
        augmentation), the target 0.90. It computes in bfloat16 only on CPUs with AMX units.
        metrics.json has test accuracy with and without test-time augmentation and per class;
        confusion_matrix.png, and TensorBoard images of mistakes.
"""

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
PARSER = flags.make_parser(__file__, __doc__, epochs=24, batch_size=1024, learning_rate=1.5)
PARSER.add_argument("--weight-decay", type=float, default=1.3e-5, help=(
    "decoupled weight decay: each step shrinks the weights by learning rate * weight decay (default: %(default)s)"))
PARSER.add_argument("--label-smoothing", type=float, default=0.2, help=(
    "share of each target spread evenly over the 10 classes (default: %(default)s)"))
PARSER.add_argument("--final-fit", action="store_true", help=(
    "after the settings are chosen on the validation split: train on all 50,000 training images "
    "(train + validation) with the same settings, then evaluate the test set once (no validation numbers)"))
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from common import data, runtime, tb

NUM_CLASSES = 10
WIDTHS = (64, 256, 256)  # 세 블록의 채널 수
VALIDATION = 5000  # 학습 세트의 마지막 5,000장: 검증 세트 (학습에는 쓰지 않음)
SMOKE_TRAIN, SMOKE_VALIDATION, SMOKE_TEST = 1000, 200, 500
SMOKE_BATCH_SIZE = 128  # --smoke: 작은 데이터에서도 스텝이 몇 번은 돌도록


# 1. 데이터 / Prepare the data
def load_data(data_dir=None, smoke=False, final_fit=False):
    """Returns (x_train, y_train), (x_val, y_val), (x_test, y_test), class_names; images (N, 32, 32, 3) uint8.

    With final_fit the validation split stays in the training set and x_val, y_val are None.
    """
    (x_train, y_train), (x_test, y_test), class_names = data.load_cifar10(data_dir)
    if smoke:
        x_train, y_train = x_train[:SMOKE_TRAIN], y_train[:SMOKE_TRAIN]
        x_test, y_test = x_test[:SMOKE_TEST], y_test[:SMOKE_TEST]
    if final_fit:
        # 최종 학습(final fit): 설정은 검증 세트로 이미 골랐으니, 검증 세트까지 모두 학습에 씁니다.
        print(f"Data: {len(x_train)} train (validation split included: --final-fit), {len(x_test)} test images")
        return (x_train, y_train.astype("int64")), (None, None), (x_test, y_test.astype("int64")), class_names
    # 검증 세트(validation set)는 학습 세트에서 떼어 냅니다. 테스트 세트는 끝까지 보지 않습니다.
    n_val = SMOKE_VALIDATION if smoke else VALIDATION
    x_val, y_val = x_train[-n_val:], y_train[-n_val:]
    x_train, y_train = x_train[:-n_val], y_train[:-n_val]
    print(f"Data: {len(x_train)} train, {len(x_val)} validation, {len(x_test)} test images of shape {x_train.shape[1:]}")
    return (x_train, y_train.astype("int64")), (x_val, y_val.astype("int64")), (x_test, y_test.astype("int64")), class_names


def standardize(images, mean, std):
    """(images - mean) / std per colour channel, as float32; mean and std come from the training set."""
    return ((images - mean) / std).astype("float32")


def whitening_kernel(x, patch=2, eps=5e-4, samples=5000, seed=0):
    """A fixed conv kernel that whitens 2x2 patches: W = V diag(1/sqrt(λ + ε)), and its negative.

    V and λ are the eigenvectors and eigenvalues of the covariance of the 2x2x3 patches of `x`:
    the 12 filters turn a patch into 12 uncorrelated numbers of variance about 1 (주성분 분석(PCA)).
    Returns (patch, patch, 3, 24) float32: the 12 filters and their negatives.
    """
    rng = np.random.default_rng(seed)
    images = x[rng.choice(len(x), size=min(samples, len(x)), replace=False)]
    h, w, c = images.shape[1:]
    patches = np.stack(
        [images[:, i:h - patch + 1 + i, j:w - patch + 1 + j, :] for i in range(patch) for j in range(patch)], axis=3
    ).reshape(-1, patch * patch * c)  # 한 행이 2x2x3 패치 하나: (dy, dx, 채널) 순서
    covariance = np.cov(patches, rowvar=False)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    filters = eigenvectors / np.sqrt(eigenvalues + eps)  # (12, 12): 열 하나가 화이트닝 필터 하나
    kernel = filters.reshape(patch, patch, c, -1)
    return np.concatenate([kernel, -kernel], axis=-1).astype("float32")  # 다음 GELU가 양쪽 부호를 다 보도록


# 2. 모델 / Build the model
def conv_block(x, width, name):
    """Conv, 2x2 max pooling, batch norm, GELU, then conv, batch norm, GELU."""
    # 배치 정규화(batch normalization): 학습하는 배율(scale)은 빼고(다음 합성곱이 배율을 맡음), 이동 평균은 빠르게.
    norm = dict(momentum=0.4, epsilon=1e-5, scale=False)
    x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"{name}_conv1")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.BatchNormalization(**norm, name=f"{name}_bn1")(x)
    x = layers.Activation("gelu")(x)
    x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"{name}_conv2")(x)
    x = layers.BatchNormalization(**norm, name=f"{name}_bn2")(x)
    return layers.Activation("gelu")(x)


def identity_init(model):
    """Starts each trainable 3x3 conv as "pass the input through": its first C_in filters copy the input channels."""
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D) and layer.trainable:
            kernel = layer.get_weights()[0]  # (3, 3, C_in, C_out)
            channels = kernel.shape[2]
            kernel[:, :, :, :channels] = 0
            kernel[1, 1, np.arange(channels), np.arange(channels)] = 1
            layer.set_weights([kernel])


class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """Step size: 0.2*peak rising linearly to `peak` over the first 23% of steps, then falling to 0.07*peak."""

    def __init__(self, peak, total):
        self.peak, self.total = peak, total
        self.warmup = max(1, int(0.23 * total))

    def __call__(self, step):
        step = tf.cast(step, "float32")
        rising = 0.2 + 0.8 * step / self.warmup
        falling = 0.07 + 0.93 * (self.total - step) / max(1, self.total - self.warmup)
        return self.peak * tf.maximum(0.07, tf.where(step < self.warmup, rising, falling))

    def get_config(self):
        return {"peak": self.peak, "total": self.total}


def build_model(whitening, learning_rate=1.5, total_steps=1000, weight_decay=1.3e-5, label_smoothing=0.2):
    """Fixed whitening conv, three conv blocks (64, 256, 256), max-pool head, logits / 9; SGD with one-cycle."""
    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(whitening.shape[-1], 2, use_bias=False, trainable=False, name="whiten")(inputs)  # (31, 31, 24)
    x = layers.Activation("gelu")(x)
    for i, width in enumerate(WIDTHS, start=1):
        x = conv_block(x, width, f"block{i}")  # 31 -> 15 -> 7 -> 3 픽셀
    x = layers.GlobalMaxPooling2D()(x)
    x = layers.Dense(NUM_CLASSES, use_bias=False)(x)
    x = layers.Rescaling(1 / 9, name="temperature")(x)  # airbench의 출력 배율: 로짓(logits) / 9
    outputs = layers.Activation("softmax", dtype="float32")(x)
    model = keras.Model(inputs, outputs, name="cifar10_fast")
    model.get_layer("whiten").set_weights([whitening])
    identity_init(model)
    model.compile(
        optimizer=keras.optimizers.SGD(
            OneCycle(learning_rate, total_steps), momentum=0.85, nesterov=True, weight_decay=weight_decay
        ),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        metrics=["accuracy"],
    )
    return model


# 3. 증강 / Augment whole batches: random mirror and random 2-pixel shifts, vectorised
def augment(x, y):
    """(B, 32, 32, 3) images and (B,) labels -> mirrored/shifted images and one-hot labels (for label smoothing)."""
    batch = tf.shape(x)[0]
    flip = tf.random.uniform([batch, 1, 1, 1]) < 0.5
    x = tf.where(flip, tf.reverse(x, axis=[2]), x)
    padded = tf.pad(x, [[0, 0], [2, 2], [2, 2], [0, 0]], mode="REFLECT")  # (B, 36, 36, 3)
    dy = tf.random.uniform([batch], 0, 5, dtype=tf.int32)
    dx = tf.random.uniform([batch], 0, 5, dtype=tf.int32)
    rows = dy[:, None] + tf.range(32)[None]  # 사진마다 자기 자르기 창(crop window)
    cols = dx[:, None] + tf.range(32)[None]
    x = tf.gather(padded, rows, axis=1, batch_dims=1)  # (B, 32, 36, 3)
    x = tf.gather(x, cols, axis=2, batch_dims=1)  # (B, 32, 32, 3)
    return x, tf.one_hot(y, NUM_CLASSES)


# 4. 룩어헤드 / Lookahead: every 5 steps, pull the weights towards their slow moving average
class Lookahead(keras.callbacks.Callback):
    """Every `every` steps: slow = d*slow + (1-d)*weights, then weights = slow, with d = 0.95^every * (step/total)^3.

    Early on it does almost nothing (d ~ 0); near the end it averages out the noise of the last steps, like
    the lookahead in airbench. The last step loads the averaged weights (batch-norm statistics too).
    """

    def __init__(self, total_steps, every=5):
        super().__init__()
        self.total_steps, self.every = total_steps, every
        self.step, self.slow = 0, None

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        last = self.step >= self.total_steps
        if self.step % self.every and not last:
            return
        weights = self.model.get_weights()
        decay = 1.0 if last else 0.95 ** self.every * (self.step / self.total_steps) ** 3
        slow = self.slow or weights
        self.slow = [decay * s + (1 - decay) * w for s, w in zip(slow, weights)]
        self.model.set_weights(self.slow)


# 5. 학습 / Train, watching the validation set
def train(model, x_train, y_train, x_val, y_val, epochs, batch_size, log_dir, seed=42):
    """Fits the model with batch augmentation and lookahead; returns (history, seconds of training).

    x_val None (--final-fit): no validation pass.
    """
    train_ds = data.make_pipeline(x_train, y_train, batch_size=batch_size, shuffle=True, seed=seed, augment=augment)
    val_ds = None
    if x_val is not None:
        val_ds = data.make_pipeline(x_val, np.eye(NUM_CLASSES, dtype="float32")[y_val], batch_size=1000)
    total_steps = epochs * math.ceil(len(x_train) / batch_size)
    timer = tb.Timer()
    history = model.fit(
        train_ds, validation_data=val_ds, epochs=epochs, verbose=2,
        callbacks=[Lookahead(total_steps), tb.tensorboard_callback(log_dir), tb.StopOnNaN(log_dir)],
    )
    return history, timer.seconds()


# 6. 테스트 시 증강 / Test-time augmentation: the image, its mirror, and both shifted by 1 pixel
TTA_VIEWS = ("image", "mirror", "shifted down-right", "shifted down-right, mirror",
             "shifted up-left", "shifted up-left, mirror")
TTA_WEIGHTS = np.array([1 / 4, 1 / 4, 1 / 8, 1 / 8, 1 / 8, 1 / 8])  # 원래 위치가 절반, 옮긴 두 가지가 절반


def tta_views(x):
    """(6, N, 32, 32, 3): the views of TTA_VIEWS, in that order (shifts fill the edge by reflection)."""
    padded = np.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)], mode="reflect")
    down_right, up_left = padded[:, :-2, :-2], padded[:, 2:, 2:]  # 내용이 오른쪽 아래로 / 왼쪽 위로 한 픽셀
    return np.stack([v for view in (x, down_right, up_left) for v in (view, view[:, :, ::-1])])


def predict_views(model, x, batch_size=500):
    """Probabilities (6, N, classes) for the views of each image: one pass over x."""
    chunks = []
    for start in range(0, len(x), batch_size):
        views = tta_views(x[start:start + batch_size])  # (6, b, 32, 32, 3)
        probabilities = np.asarray(model.predict_on_batch(views.reshape(-1, *x.shape[1:])))
        chunks.append(probabilities.reshape(len(views), views.shape[1], -1))
    return np.concatenate(chunks, axis=1)


def tta_average(view_probabilities):
    """The TTA prediction: the views' probabilities averaged with TTA_WEIGHTS, (N, classes)."""
    return np.tensordot(TTA_WEIGHTS, view_probabilities, axes=1)


# 7. 그림 / Confusion matrix and mistakes
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


def log_mistakes(test_images, y_test, y_pred, class_names, log_dir, limit=36):
    """The first `limit` test images it gets wrong (uint8 originals), to TensorBoard's Images tab."""
    wrong = np.flatnonzero(y_pred != y_test)[:limit]
    if len(wrong):
        names = ", ".join(f"{class_names[y_test[i]]}→{class_names[y_pred[i]]}" for i in wrong[:12])
        tb.log_image(log_dir, "test", "mistakes", tb.image_grid(test_images[wrong] / 255.0, ncols=9),
                     description="First test images the model gets wrong (true→predicted): " + names)


def main(argv=None):
    args = flags.parse(PARSER, argv)
    (x_train, y_train), (x_val, y_val), (x_test, y_test), class_names = load_data(
        args.data_dir, args.smoke, args.final_fit)
    if args.smoke:
        args.batch_size = min(args.batch_size, SMOKE_BATCH_SIZE)
    # 색 채널마다 학습 세트의 평균과 표준 편차로: 검증·테스트 세트도 같은 수로 바꿉니다.
    mean = x_train.mean(axis=(0, 1, 2), dtype=np.float64)
    std = x_train.std(axis=(0, 1, 2), dtype=np.float64)
    test_images = x_test  # uint8 그대로: 틀린 예 그림용
    x_train, x_test = standardize(x_train, mean, std), standardize(x_test, mean, std)
    if x_val is not None:
        x_val = standardize(x_val, mean, std)
    # AMX bfloat16 장치가 있는 CPU에서만 bfloat16으로 계산합니다 (노트북 CPU와 AMX 없는 CPU는 float32).
    strategy = runtime.setup(args, cpu_bfloat16=True)
    whitening = whitening_kernel(x_train)
    total_steps = args.epochs * math.ceil(len(x_train) / args.batch_size)
    with strategy.scope():
        model = build_model(whitening, args.learning_rate, total_steps, args.weight_decay, args.label_smoothing)
    model.summary()
    history, seconds = train(model, x_train, y_train, x_val, y_val, args.epochs, args.batch_size, args.log_dir, args.seed)

    # 8. 평가 / Evaluate on the test set, once: one prediction pass over all six views
    view_probabilities = predict_views(model, x_test)
    y_pred = tta_average(view_probabilities).argmax(axis=1)
    test_acc = float(np.mean(y_pred == y_test))
    plain_acc = float(np.mean(view_probabilities[0].argmax(axis=1) == y_test))  # 원래 사진만 본 예측
    print(f"Test accuracy: {test_acc:.4f} (without test-time augmentation: {plain_acc:.4f}); {seconds:.0f}s of training")
    confusion = save_confusion(y_test, y_pred, class_names, args.log_dir)
    per_class = {name: round(float(confusion[k, k] / max(1, confusion[k].sum())), 4) for k, name in enumerate(class_names)}
    for name, accuracy in per_class.items():
        print(f"  {name:12s} {accuracy:.3f}")
    log_mistakes(test_images, y_test, y_pred, class_names, args.log_dir)
    return tb.write_metrics(
        args.log_dir, test_accuracy=test_acc, test_accuracy_no_tta=plain_acc,
        val_accuracy=history.history["val_accuracy"][-1] if x_val is not None else None, train_seconds=round(seconds, 1), epochs=args.epochs,
        per_class_accuracy=per_class,
    )


if __name__ == "__main__":
    main()
