"""CIFAR-10 CNN: a small, fast network that reaches 90% test accuracy on a 2-core CPU in about an hour.

요약: 32x32 컬러 사진 10종류를 분류합니다. 배치 정규화(batch normalization), 데이터 증강
(augmentation: 좌우 뒤집기, 평행 이동), 학습률 스케줄(one-cycle), 레이블 스무딩(label smoothing),
룩어헤드(lookahead, 가중치 평균), 테스트 시 증강(test-time augmentation)처럼 가장 빠른 CIFAR-10
학습법(airbench)에서 2코어 CPU에 맞는 것들을 골라 씁니다.

Run:    python week2/cifar10_cnn.py
Class:  python week2/cifar10_cnn.py --epochs 6   (classroom length: 0.873 after 14 minutes of training)
Smoke:  python week2/cifar10_cnn.py --smoke
Offline: python week2/cifar10_cnn.py --data-dir DIR (DIR holds cifar-10-batches-bin/, the binary version)
Expect: test accuracy 0.902 after 24 epochs: 64 minutes of training, 65 minutes in all, on a 2-core CPU
        with AMX (bfloat16); 0.889 without test-time augmentation. Train accuracy ends at 0.995: the
        network overfits, so more epochs alone add little. Hardest: cat 0.80 and dog 0.84 (96 dogs taken
        for cats). Without AMX (most laptops) it computes in float32, 1.5x slower here (208 s vs 137 s for epoch 1).
        confusion_matrix.png, per-class accuracy in metrics.json, and TensorBoard images of mistakes.

What we took from the fastest public CIFAR-10 recipe, Keller Jordan's airbench (94% in seconds on a GPU;
built on David Page's "how to train your ResNet" series), and why:
- Patch whitening: the first 2x2 convolution is fixed, computed from the data (PCA of 2x2 patches),
  so the network starts from decorrelated inputs; it costs nothing to train.
- Three conv/pool/batch-norm blocks (64, 256, 256 channels) and a max-pool head: few layers, so few
  passes of memory traffic per image, which is what a CPU is slow at. Each 3x3 conv starts as the
  identity; batch norm has no learned scale; the logits are divided by 9 (a softmax temperature).
- Batch 1024, SGD with Nesterov momentum 0.85, a one-cycle step size (0.3 rising to 1.5 over the first
  23% of steps, then falling to 0.105), decoupled weight decay, label smoothing 0.2.
- Lookahead: every 5 steps the weights are pulled towards their slow average, more so near the end,
  and the last step loads the average.
- Flip and 2-pixel translate augmentation done on whole batches with gathers (vectorised, cheap);
  test-time augmentation averages the predictions for the image, its mirror, and 1-pixel shifts of both.
- bfloat16 compute on CPUs with AMX units (this machine): 1.5x faster than float32 (first epoch 137 s vs 208 s).
Why these: in a trial on a GPU (the same network in Keras on the JAX backend, mixed bfloat16), 10 epochs
with them reached 0.887 test accuracy (mirror TTA) against 0.863 with our previous settings (batch 512,
momentum 0.9, learning rate 0.2 from 0, no temperature, no lookahead); 16 epochs reached 0.896.
Tried and dropped: cutout (8 or 12 pixels), no gain at 28 epochs in the same GPU trial (0.894 vs 0.896).
Not used: airbench's 64x learning rate for batch-norm biases (Keras has no per-variable learning rate),
its trained whitening bias, and its GPU-specific kernels. airbench's 94% is on the original images; the
shared copy used for our numbers is re-encoded as JPEG, which loses detail and reads lower.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # lets `import common` work from any folder

import numpy as np

from common import data, flags

NUM_CLASSES = 10
WIDTHS = (64, 256, 256)  # channels of the three conv blocks
SMOKE_TRAIN, SMOKE_TEST = 512, 256

# TensorFlow takes seconds to import, so main() imports it only after the flags and the
# data files have been checked: `--help` and a bad file answer at once.
tf = keras = layers = logs = runtime = None


def parse_args(argv=None):
    parser = flags.make_parser(__file__, __doc__, epochs=24, batch_size=1024, learning_rate=1.5)
    parser.add_argument("--weight-decay", type=float, default=1.3e-5, help=(
        "decoupled weight decay, shrinks weights by lr*wd each step; 1.3e-5 at lr 1.5 is airbench's "
        "0.0153 per 1024 images (default: %(default)s)"))
    parser.add_argument("--label-smoothing", type=float, default=0.2, help="(default: %(default)s)")
    parser.add_argument("--no-tta", action="store_true", help="evaluate without test-time augmentation")
    args = flags.parse(parser, argv)
    if args.smoke:  # a few small steps: the whole run takes seconds
        args.batch_size = min(args.batch_size, 128)
        flags.update_json(args.log_dir / "config.json", batch_size=args.batch_size)
    return args


def import_tensorflow():
    global tf, keras, layers, logs, runtime
    import keras
    import tensorflow as tf
    from keras import layers

    from common import logs, runtime


# 1. 데이터 / Prepare the data
def load_data(args):
    (x_train, y_train), (x_test, y_test), class_names = data.load_cifar10(args.data_dir)
    if args.smoke:
        x_train, y_train, x_test, y_test = x_train[:SMOKE_TRAIN], y_train[:SMOKE_TRAIN], x_test[:SMOKE_TEST], y_test[:SMOKE_TEST]
    # Standardise each colour channel with the training set's mean and standard deviation.
    mean = x_train.mean(axis=(0, 1, 2), dtype=np.float64)
    std = x_train.std(axis=(0, 1, 2), dtype=np.float64)
    test_images = x_test  # uint8, kept for pictures of mistakes
    x_train = ((x_train - mean) / std).astype("float32")
    x_test = ((x_test - mean) / std).astype("float32")
    print(f"Data: {len(x_train)} train, {len(x_test)} test images of shape {x_train.shape[1:]}")
    return (x_train, y_train.astype("int64")), (x_test, y_test.astype("int64")), class_names, test_images


def whitening_kernel(x, patch=2, eps=5e-4, samples=5000, seed=0):
    """A fixed conv kernel that whitens 2x2 patches: W = V diag(1/sqrt(λ + ε)), and its negative."""
    rng = np.random.default_rng(seed)
    images = x[rng.choice(len(x), size=min(samples, len(x)), replace=False)]
    h, w, c = images.shape[1:]
    patches = np.stack(
        [images[:, i:h - patch + 1 + i, j:w - patch + 1 + j, :] for i in range(patch) for j in range(patch)], axis=3
    ).reshape(-1, patch * patch * c)  # each row: one 2x2x3 patch, ordered (dy, dx, channel)
    covariance = np.cov(patches, rowvar=False)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    w_ = eigenvectors / np.sqrt(eigenvalues + eps)  # (12, 12): one whitening filter per column
    kernel = w_.reshape(patch, patch, c, -1)
    return np.concatenate([kernel, -kernel], axis=-1).astype("float32")  # 24 filters: both signs


# 2. 모델 / Build the model
def conv_block(x, width, name):
    # Batch norm without a learned scale (the next conv can scale), with fast-moving statistics.
    norm = dict(momentum=0.4, epsilon=1e-5, scale=False)
    x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"{name}_conv1")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.BatchNormalization(**norm, name=f"{name}_bn1")(x)
    x = layers.Activation("gelu")(x)
    x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"{name}_conv2")(x)
    x = layers.BatchNormalization(**norm, name=f"{name}_bn2")(x)
    return layers.Activation("gelu")(x)


def identity_init(model):
    """Starts each 3x3 conv as "pass the input through": its first C_in filters copy the input channels."""
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D) and layer.trainable:
            kernel = layer.get_weights()[0]  # (3, 3, C_in, C_out)
            channels = kernel.shape[2]
            kernel[:, :, :, :channels] = 0
            kernel[1, 1, np.arange(channels), np.arange(channels)] = 1
            layer.set_weights([kernel])


def build_model(args, whitening, steps_per_epoch):
    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(whitening.shape[-1], 2, use_bias=False, trainable=False, name="whiten")(inputs)  # (31, 31, 24)
    x = layers.Activation("gelu")(x)
    for i, width in enumerate(WIDTHS, start=1):
        x = conv_block(x, width, f"block{i}")  # 31 -> 15 -> 7 -> 3 pixels
    x = layers.GlobalMaxPooling2D()(x)
    x = layers.Dense(NUM_CLASSES, use_bias=False)(x)
    x = layers.Rescaling(1 / 9, name="temperature")(x)  # airbench's output scale: logits / 9
    outputs = layers.Activation("softmax", dtype="float32")(x)
    model = keras.Model(inputs, outputs, name="cifar10_cnn")
    model.get_layer("whiten").set_weights([whitening])
    identity_init(model)

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

    schedule = OneCycle(args.learning_rate, total=args.epochs * steps_per_epoch)
    model.compile(
        optimizer=keras.optimizers.SGD(schedule, momentum=0.85, nesterov=True, weight_decay=args.weight_decay),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=args.label_smoothing),
        metrics=["accuracy"],
    )
    return model


# 3. 증강 / Augment whole batches: random mirror and random 2-pixel shifts, vectorised
def augment(x, y):
    batch = tf.shape(x)[0]
    flip = tf.random.uniform([batch, 1, 1, 1]) < 0.5
    x = tf.where(flip, tf.reverse(x, axis=[2]), x)
    padded = tf.pad(x, [[0, 0], [2, 2], [2, 2], [0, 0]], mode="REFLECT")  # (B, 36, 36, 3)
    dy = tf.random.uniform([batch], 0, 5, dtype=tf.int32)
    dx = tf.random.uniform([batch], 0, 5, dtype=tf.int32)
    rows = dy[:, None] + tf.range(32)[None]  # each image gets its own crop window
    cols = dx[:, None] + tf.range(32)[None]
    x = tf.gather(padded, rows, axis=1, batch_dims=1)  # (B, 32, 36, 3)
    x = tf.gather(x, cols, axis=2, batch_dims=1)  # (B, 32, 32, 3)
    return x, tf.one_hot(y, NUM_CLASSES)


# 4. 룩어헤드 / Lookahead: every 5 steps, pull the weights towards their slow moving average
def lookahead(model, total_steps, every=5):
    """Every 5 steps: slow = d*slow + (1-d)*weights, then weights = slow, with d = 0.77*(step/total)^3.

    Early on it does nothing (d ~ 0); near the end it averages out the noise of the last steps, like the
    lookahead in airbench. The last step loads the averaged weights (batch-norm statistics too).
    """
    state = {"step": 0, "slow": None}

    def on_train_batch_end(batch, logs=None):
        state["step"] += 1
        step, last = state["step"], state["step"] >= total_steps
        if step % every and not last:
            return
        weights = model.get_weights()
        decay = 1.0 if last else 0.95 ** every * (step / total_steps) ** 3
        slow = state["slow"] or weights
        state["slow"] = [decay * s + (1 - decay) * w for s, w in zip(slow, weights)]
        model.set_weights(state["slow"])

    return keras.callbacks.LambdaCallback(on_train_batch_end=on_train_batch_end)


# 5. 평가 / Evaluate, with test-time augmentation: the image, its mirror, and both shifted by 1 pixel
def predict(model, x, tta=True):
    def mirrored(images):  # average over the image and its mirror
        return (model.predict(images, batch_size=1000, verbose=0)
                + model.predict(images[:, :, ::-1], batch_size=1000, verbose=0)) / 2

    if not tta:
        return model.predict(x, batch_size=1000, verbose=0)
    padded = np.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)], mode="reflect")
    shifted = (mirrored(padded[:, :32, :32]) + mirrored(padded[:, 2:, 2:])) / 2  # up-left and down-right
    return (mirrored(x) + shifted) / 2


def save_confusion(y_test, y_pred, class_names, log_dir):
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=int)
    np.add.at(confusion, (y_test, y_pred), 1)
    plt = logs.pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    image = ax.imshow(confusion, cmap="Blues")
    for (i, j), count in np.ndenumerate(confusion):
        ax.text(j, i, count, ha="center", va="center", fontsize=8, color="white" if count > confusion.max() / 2 else "black")
    ax.set_xticks(range(NUM_CLASSES), class_names, rotation=45, ha="right")
    ax.set_yticks(range(NUM_CLASSES), class_names)
    ax.set_xlabel("predicted / 예측")
    ax.set_ylabel("true / 정답")
    ax.set_title("혼동 행렬(confusion matrix), test set")
    fig.colorbar(image, ax=ax, fraction=0.046)
    logs.save_figure(fig, Path(log_dir) / "confusion_matrix.png")
    return confusion


def log_mistakes(x_test_raw, y_test, y_pred, class_names, log_dir, limit=36):
    wrong = np.flatnonzero(y_pred != y_test)[:limit]
    if len(wrong):
        logs.log_image(log_dir, "test", "mistakes", logs.image_grid(x_test_raw[wrong] / 255.0, ncols=9), description=(
            "First test images the model gets wrong: " + ", ".join(
                f"{class_names[y_test[i]]}→{class_names[y_pred[i]]}" for i in wrong[:12])))


def main(argv=None):
    args = parse_args(argv)
    (x_train, y_train), (x_test, y_test), class_names, test_images = load_data(args)
    import_tensorflow()
    strategy = runtime.setup(args, cpu_bfloat16=True)  # bfloat16 on AMX CPUs: 1.5x faster here
    whitening = whitening_kernel(x_train)
    steps_per_epoch = -(-len(x_train) // args.batch_size)
    with strategy.scope():
        model = build_model(args, whitening, steps_per_epoch)
    model.summary()

    train_ds = data.make_pipeline(
        x_train, y_train, batch_size=args.batch_size, shuffle=True, seed=args.seed, augment=augment,
    )
    test_ds = data.make_pipeline(x_test, tf.one_hot(y_test, NUM_CLASSES).numpy(), batch_size=1000)
    timer = logs.Timer()
    model.fit(train_ds, validation_data=test_ds, epochs=args.epochs, verbose=2,
              callbacks=[lookahead(model, args.epochs * steps_per_epoch), logs.tensorboard_callback(args.log_dir)])
    seconds = timer.seconds()

    probabilities = predict(model, x_test, tta=not args.no_tta)
    y_pred = probabilities.argmax(axis=1)
    test_acc = float(np.mean(y_pred == y_test))
    plain_acc = float(np.mean(model.predict(x_test, batch_size=1000, verbose=0).argmax(axis=1) == y_test))
    print(f"Test accuracy: {test_acc:.4f} (without test-time augmentation: {plain_acc:.4f}); {seconds:.0f}s of training")
    confusion = save_confusion(y_test, y_pred, class_names, args.log_dir)
    per_class = {name: float(confusion[k, k] / max(1, confusion[k].sum())) for k, name in enumerate(class_names)}
    for name, accuracy in per_class.items():
        print(f"  {name:12s} {accuracy:.3f}")
    log_mistakes(test_images, y_test, y_pred, class_names, args.log_dir)
    return logs.write_metrics(
        args.log_dir, test_accuracy=test_acc, test_accuracy_no_tta=plain_acc, train_seconds=round(seconds, 1),
        epochs=args.epochs, per_class_accuracy=per_class,
    )


if __name__ == "__main__":
    main()
