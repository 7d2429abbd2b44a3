"""Trials of CIFAR-10 training recipes on a GPU, to choose week2/cifar10_cnn.py's settings.

요약: week2/cifar10_cnn.py의 학습 설정을 고르려고 여러 설정을 GPU에서 빠르게 비교하는 개발용 스크립트입니다.
수업용이 아닙니다.

A full run of cifar10_cnn.py takes about an hour on the 2-core CPU, too long to compare settings there.
This restates its network in backend-neutral Keras 3 (so it also runs on the JAX backend, on a GPU machine
without TensorFlow), trains each named variant on numpy batches (flip + translate, optional cutout), and
prints test accuracy without TTA, with the mirror, and with mirror + 1-pixel shifts.
"cur" are cifar10_cnn.py's settings before the change, "air" airbench's as Keras can express them.

Run:    KERAS_BACKEND=jax python scripts/cifar10_recipe_trials.py --data-dir DIR --only cur10,air10
Smoke:  python scripts/cifar10_recipe_trials.py --smoke --data-dir DIR   (Keras' default backend, TensorFlow)
Expect (an H200, Keras 3.15 on JAX, mixed bfloat16, 2026-11-27; the shared JPEG copy of CIFAR-10), mirror TTA:
        cur10 0.863 (float32: 0.867), cur20 0.891, cur28 0.896, air10 0.887 (weight decay 5e-5: 0.887), air16 0.896,
        cur10_lookahead_identity 0.830, cur28_cut8 0.894, cur28_cut12_t4 0.894; 2.0-2.9 s per epoch
        (numpy augmentation on the host included). Two calls of the device tool, 388 s and 244 s.
"""

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # lets `import common` work from any folder

import numpy as np  # noqa: E402

from common import data  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

CUR = dict(epochs=10, batch=512, lr=0.2, mom=0.9, wd=5e-4, ls=0.2, warm=0.2, start=0.0, end=0.0, head=1.0,
           bn_mom=0.8, bn_eps=1e-3, bn_scale=True, identity=False, lookahead=False, translate=2, cutout=0,
           policy="mixed_bfloat16")
AIR = dict(CUR, batch=1024, lr=1.5, mom=0.85, wd=1.3e-5, warm=0.23, start=0.2, end=0.07, head=1 / 9, bn_mom=0.4,
           bn_eps=1e-5, bn_scale=False, identity=True, lookahead=True)
VARIANTS = {
    "cur10": CUR,
    "cur20": dict(CUR, epochs=20),
    "cur28": dict(CUR, epochs=28),
    "air10": AIR,
    "air16": dict(AIR, epochs=16),
    "cur10_lookahead_identity": dict(CUR, lookahead=True, identity=True),
    "cur10_fp32": dict(CUR, policy="float32"),
    "air10_wd5e-5": dict(AIR, wd=5e-5),
    "cur28_cut8": dict(CUR, epochs=28, cutout=8),
    "cur28_cut12_t4": dict(CUR, epochs=28, cutout=12, translate=4),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, help="folder with cifar-10-batches-bin/ (default: the course cache)")
    parser.add_argument("--only", help=f"comma-separated variants (default: all): {', '.join(VARIANTS)}")
    parser.add_argument("--out", type=Path, help="write the results here as JSON")
    parser.add_argument("--budget-seconds", type=float, default=float("inf"), help="skip variants that would not fit")
    parser.add_argument("--smoke", action="store_true", help="1 epoch on 512 images per variant")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(VARIANTS)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    args.variants = names
    return args


def course_script(keras):
    """week2/cifar10_cnn.py as a module, for its whitening, identity init, lookahead and TTA: the same code.

    Its functions find Keras through module globals that its main() sets after importing TensorFlow; the
    GPU machine has no TensorFlow, so they are set here to the Keras in use.
    """
    spec = importlib.util.spec_from_file_location("cifar10_cnn", REPO / "week2" / "cifar10_cnn.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.keras, module.layers = keras, keras.layers
    return module


def build(keras, cnn, v, whitening, steps_per_epoch):
    from keras import layers, ops

    norm = dict(momentum=v["bn_mom"], epsilon=v["bn_eps"], scale=v["bn_scale"])
    inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(whitening.shape[-1], 2, use_bias=False, trainable=False, name="whiten")(inputs)
    x = layers.Activation("gelu")(x)
    for width in (64, 256, 256):
        x = layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Activation("gelu")(layers.BatchNormalization(**norm)(x))
        x = layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
        x = layers.Activation("gelu")(layers.BatchNormalization(**norm)(x))
    x = layers.Dense(10, use_bias=False)(layers.GlobalMaxPooling2D()(x))
    x = layers.Rescaling(v["head"])(x)
    model = keras.Model(inputs, layers.Activation("softmax", dtype="float32")(x))
    model.get_layer("whiten").set_weights([whitening])
    if v["identity"]:
        cnn.identity_init(model)

    total, warm = v["epochs"] * steps_per_epoch, max(1, int(v["warm"] * v["epochs"] * steps_per_epoch))

    class Schedule(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            step = ops.cast(step, "float32")
            rising = v["start"] + (1 - v["start"]) * step / warm
            falling = v["end"] + (1 - v["end"]) * (total - step) / max(1, total - warm)
            return v["lr"] * ops.maximum(0.0, ops.where(step < warm, rising, falling))

    model.compile(
        optimizer=keras.optimizers.SGD(Schedule(), momentum=v["mom"], nesterov=True, weight_decay=v["wd"]),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=v["ls"]),
        metrics=["accuracy"],
    )
    return model


def augment(x, rng, translate, cutout):
    """Random mirror, random shift by up to `translate` pixels (reflect padding), optional cutout square."""
    n = len(x)
    x = np.where((rng.random(n) < 0.5)[:, None, None, None], x[:, :, ::-1], x)
    if translate:
        p = translate
        padded = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), mode="reflect")
        dy, dx = rng.integers(0, 2 * p + 1, n), rng.integers(0, 2 * p + 1, n)
        for a in range(2 * p + 1):
            for b in range(2 * p + 1):
                chosen = (dy == a) & (dx == b)
                x[chosen] = padded[chosen, a:a + 32, b:b + 32]
    if cutout:
        cy, cx = rng.integers(0, 32, n)[:, None, None], rng.integers(0, 32, n)[:, None, None]
        r = np.arange(32)
        square = (np.abs(r[None, :, None] - cy) < cutout / 2) & (np.abs(r[None, None, :] - cx) < cutout / 2)
        x = np.where(square[..., None], 0.0, x).astype("float32")
    return x


def evaluate(cnn, model, x, y):
    """Test accuracy without TTA, with the mirror, and with cifar10_cnn.py's TTA (mirror + 1-pixel shifts)."""
    plain = cnn.predict(model, x, tta=False)
    mirror = (plain + cnn.predict(model, x[:, :, ::-1], tta=False)) / 2
    return [float((p.argmax(1) == y).mean()) for p in (plain, mirror, cnn.predict(model, x, tta=True))]


def main(argv=None):
    args = parse_args(argv)
    start = time.time()
    (x_train, y_train), (x_test, y_test), _ = data.load_cifar10(args.data_dir)
    if args.smoke:
        x_train, y_train, x_test, y_test = x_train[:512], y_train[:512], x_test[:256], y_test[:256]
    mean, std = x_train.mean(axis=(0, 1, 2), dtype=np.float64), x_train.std(axis=(0, 1, 2), dtype=np.float64)
    x_train, x_test = ((x_train - mean) / std).astype("float32"), ((x_test - mean) / std).astype("float32")
    one_hot = np.eye(10, dtype="float32")[y_train]
    import keras

    cnn = course_script(keras)
    whitening = cnn.whitening_kernel(x_train)

    print(f"Keras {keras.__version__} on {keras.backend.backend()}")
    results, epoch_seconds = {}, 6.0
    for name in args.variants:
        v = dict(VARIANTS[name], **({"epochs": 1, "batch": 128} if args.smoke else {}))
        if time.time() - start + v["epochs"] * epoch_seconds + 30 > args.budget_seconds:
            print(f"skipped {name}: it would not fit in --budget-seconds")
            continue
        keras.mixed_precision.set_global_policy(v["policy"])
        keras.utils.set_random_seed(42)
        rng = np.random.default_rng(42)
        steps = -(-len(x_train) // v["batch"])
        model = build(keras, cnn, v, whitening, steps)
        callbacks = [cnn.lookahead(model, v["epochs"] * steps)] if v["lookahead"] else []
        times = []
        for _ in range(v["epochs"]):
            tick = time.time()
            history = model.fit(augment(x_train, rng, v["translate"], v["cutout"]), one_hot,
                                batch_size=v["batch"], epochs=1, shuffle=True, verbose=0, callbacks=callbacks)
            times.append(time.time() - tick)
        epoch_seconds = float(np.median(times[1:] or times))  # the first epoch includes compiling
        plain, mirror, tta = evaluate(cnn, model, x_test, y_test)
        results[name] = dict(v, plain=plain, mirror=mirror, tta=tta, train_seconds=round(sum(times), 1),
                             epoch_seconds=round(epoch_seconds, 2),
                             train_accuracy=round(float(history.history["accuracy"][-1]), 4))
        print(f"{name:26s} no TTA {plain:.4f}  mirror {mirror:.4f}  mirror+shifts {tta:.4f}  "
              f"train {results[name]['train_accuracy']:.3f}  {epoch_seconds:.2f} s/epoch", flush=True)
        keras.mixed_precision.set_global_policy("float32")
        if args.out:
            args.out.write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
