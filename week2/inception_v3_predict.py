"""Inception v3 prediction: label your own photos with a model from inception_v3_retrain.py.

요약: 재학습한 모델(model.keras)과 클래스 이름(labels.txt)을 읽어, 사진마다 가장 그럴듯한 클래스
k개와 그 확률을 보여 줍니다. 모델 안에 전처리(0-255 → -1..1)가 들어 있어서 사진을 크기만 맞춰 넣습니다.

Run:    python week2/inception_v3_predict.py my_photo.jpg other.png
        python week2/inception_v3_predict.py my_photo.jpg --model runs/inception_v3_retrain/<run>/ --top-k 5
Smoke:  python week2/inception_v3_predict.py --smoke   (trains a tiny stand-in model on generated shapes first)
Expect: for each photo, the top 3 labels with probabilities, e.g. "0.912  daisy". Three 299x299 photos on
        a 2-core CPU: 3.7 s to load the model (88 MB), 2.6 s to predict, 14 s wall with TensorFlow's
        start-up. predictions.png shows the photos with their top labels. Without --model, the newest
        runs/inception_v3_retrain/*/model.keras with labels.txt beside it is used (full runs before --smoke runs).
"""

import argparse
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # lets `import common` work from any folder

import numpy as np

from common import data, flags

RETRAIN_RUNS = flags.RUNS_DIR / "inception_v3_retrain"
SMOKE_SHAPES = (("red_circle", (220, 40, 40)), ("green_square", (40, 170, 60)), ("blue_triangle", (50, 80, 220)))
SMOKE_SIZE = 32  # the stand-in model's input: any size works, the script reads it from the model

# TensorFlow takes seconds to import, so main() imports it only after the flags, the photos and
# the model path have been checked: `--help` and a mistyped file name answer at once.
tf = keras = layers = logs = runtime = None


def positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive whole number")
    return value


def parse_args(argv=None):
    # --epochs/--batch-size/--learning-rate only matter for --smoke's stand-in model.
    parser = flags.make_parser(__file__, __doc__, epochs=20, batch_size=16, learning_rate=1e-2, smoke_epochs=20)
    parser.add_argument("images", nargs="*", metavar="IMAGE", help="photos to label (JPEG, PNG, ...)")
    parser.add_argument(
        "--model", type=Path, default=None,
        help="model.keras from inception_v3_retrain.py, or its run folder; labels.txt must be beside it "
        f"(default: the newest under {RETRAIN_RUNS.relative_to(flags.REPO_ROOT)}/)",
    )
    parser.add_argument("--top-k", type=positive, default=3, help="labels shown per photo (default: %(default)s)")
    args = flags.parse(parser, argv)
    if not args.images and not args.smoke:
        parser.error("give at least one IMAGE to label")
    args.images = [Path(p) for p in args.images]  # after flags.parse: config.json stores them as strings
    return args


def import_tensorflow():
    global tf, keras, layers, logs, runtime
    import keras
    import tensorflow as tf
    from keras import layers

    from common import logs, runtime


# 1. 입력 확인 / Check the photos and find the model (before TensorFlow starts)
def check_images(paths):
    from PIL import Image, UnidentifiedImageError

    for path in paths:
        if not path.is_file():
            raise data.DataError(f"{path} does not exist or is not a file; give the path of a photo (JPEG, PNG, ...)")
        try:
            with Image.open(path) as image:
                image.load()
        except (UnidentifiedImageError, OSError, ValueError) as e:
            raise data.DataError(
                f"{path} is not a readable image ({e}); give a JPEG, PNG, BMP, GIF or WebP photo"
            ) from None


def newest_model():
    """The newest model.keras under runs/inception_v3_retrain/ with labels.txt beside it; full runs first."""
    candidates = [p for p in RETRAIN_RUNS.glob("*/model.keras") if (p.parent / "labels.txt").is_file()]
    if not candidates:
        raise data.DataError(
            f"no trained model under {RETRAIN_RUNS}; train one with `python week2/inception_v3_retrain.py "
            "--image-dir DIR`, or pass --model PATH"
        )
    return max(candidates, key=lambda p: ("smoke" not in p.parent.name, p.stat().st_mtime))


def check_model(path):
    """Returns (model path, class names) after checking what can be checked without TensorFlow."""
    path = Path(path) if path is not None else newest_model()
    if path.is_dir():
        path = path / "model.keras"
    if not path.is_file():
        raise data.DataError(f"--model {path} does not exist; give the model.keras written by inception_v3_retrain.py")
    if path.suffix != ".keras" or not zipfile.is_zipfile(path):
        raise data.DataError(
            f"--model {path} is not a Keras model file (.keras, a zip archive); give the model.keras "
            "written by inception_v3_retrain.py"
        )
    labels = path.parent / "labels.txt"
    if not labels.is_file():
        raise data.DataError(
            f"{labels} is missing: it holds the class names, one per line, written beside {path.name}"
        )
    class_names = [line.strip() for line in labels.read_text(encoding="utf-8").splitlines() if line.strip()]
    return path, class_names


# 2. 스모크용 모델 / --smoke: a tiny stand-in model and photos, so the script runs without a trained model
def shape_image(k, rng, size):
    from PIL import Image, ImageDraw

    image = Image.fromarray(rng.integers(150, 256, size=(size, size, 3), dtype=np.uint8))
    r = int(rng.integers(size // 5, size // 3))
    cx, cy = (int(v) for v in rng.integers(r, size - r, 2))
    box, colour = (cx - r, cy - r, cx + r, cy + r), SMOKE_SHAPES[k][1]
    draw = ImageDraw.Draw(image)
    if k == 0:
        draw.ellipse(box, fill=colour)
    elif k == 1:
        draw.rectangle(box, fill=colour)
    else:
        draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
    return image


def write_smoke_images(folder, seed):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed + 1)
    paths = []
    for k, (name, _) in enumerate(SMOKE_SHAPES):
        paths.append(folder / f"{name}.jpg")
        shape_image(k, rng, 64).save(paths[-1], quality=90)
    return paths


def train_smoke_model(args, strategy, folder):
    """Same interface as the retrained Inception model (pixels 0-255 in, probabilities out), but tiny."""
    rng = np.random.default_rng(args.seed)
    y = np.arange(90) % len(SMOKE_SHAPES)
    x = np.stack([np.asarray(shape_image(k, rng, SMOKE_SIZE)) for k in y])
    with strategy.scope():
        model = keras.Sequential(
            [
                keras.Input(shape=(SMOKE_SIZE, SMOKE_SIZE, 3)),
                layers.Rescaling(1 / 127.5, offset=-1),
                layers.Conv2D(8, 3, activation="relu"),
                layers.GlobalAveragePooling2D(),
                layers.Dense(len(SMOKE_SHAPES)),
                layers.Activation("softmax", dtype="float32"),
            ],
            name="smoke_stand_in",
        )
        model.compile(optimizer=keras.optimizers.Adam(args.learning_rate), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    ds = data.make_pipeline(x, y, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    model.fit(ds, epochs=args.epochs, verbose=0, callbacks=[logs.tensorboard_callback(folder)])
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / "model.keras")
    (folder / "labels.txt").write_text("\n".join(name for name, _ in SMOKE_SHAPES) + "\n", encoding="utf-8")
    return folder / "model.keras"


# 3. 예측 / Predict
def load_model(path, class_names):
    try:
        model = keras.saving.load_model(path)
    except Exception as e:  # a damaged archive or a model saved by another Keras raises many kinds of errors
        reason = " ".join(str(e).split())[:300]
        raise data.DataError(f"--model {path} could not be loaded ({reason}); retrain it with this Keras") from None
    shape = tuple(model.input_shape)
    if len(shape) != 4 or shape[3] != 3 or model.output_shape[-1] != len(class_names):
        raise data.DataError(
            f"--model {path} maps {shape} to {model.output_shape[-1]} classes but labels.txt names "
            f"{len(class_names)}; give a model.keras with its own labels.txt from inception_v3_retrain.py"
        )
    return model


def predict(model, paths, batch_size):
    size = model.input_shape[1]
    images, _ = data.load_images(paths, size)  # resized like the training photos: RGB, bilinear
    return images, model.predict(images, batch_size=batch_size, verbose=0)


def report(paths, probabilities, class_names, top_k):
    """Prints the top-k labels per photo; returns the same as markdown for TensorBoard."""
    lines = []
    for path, probs in zip(paths, probabilities):
        print(path)
        lines.append(f"**{path.name}**: ")
        best = np.argsort(probs)[::-1][:top_k]
        for k in best:
            print(f"  {probs[k]:.3f}  {class_names[k]}")
        lines[-1] += ", ".join(f"{class_names[k]} {probs[k]:.3f}" for k in best)
    return "\n\n".join(lines)


def save_predictions(images, paths, probabilities, class_names, top_k, log_dir):
    plt = logs.pyplot()
    cols = min(4, len(images))
    rows = -(-len(images) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 2.8, rows * 3.2), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, path, probs in zip(axes.flat, images, paths, probabilities):
        best = np.argsort(probs)[::-1][:top_k]
        ax.imshow(image)
        ax.set_title(path.name + "\n" + "\n".join(f"{class_names[k]} {probs[k]:.2f}" for k in best), fontsize=8)
    fig.suptitle(f"사진마다 상위 {top_k}개 예측 / top-{top_k} predictions")
    logs.save_figure(fig, Path(log_dir) / "predictions.png")
    logs.log_image(log_dir, "predict", "photos", logs.image_grid(images / 255, ncols=cols))


def main(argv=None):
    args = parse_args(argv)
    smoke_model = args.smoke and args.model is None
    if args.smoke and not args.images:
        args.images = write_smoke_images(args.log_dir / "smoke_images", args.seed)
    check_images(args.images)
    if not smoke_model:
        model_path, class_names = check_model(args.model)
    import_tensorflow()
    strategy = runtime.setup(args)
    if smoke_model:
        model_path, class_names = check_model(train_smoke_model(args, strategy, args.log_dir / "smoke_model"))
    timer = logs.Timer()
    with strategy.scope():
        model = load_model(model_path, class_names)
    load_seconds = timer.seconds()
    size = model.input_shape[1]
    print(f"Model: {model_path} ({len(class_names)} classes, {size}x{size} photos), loaded in {load_seconds:.1f}s")
    timer = logs.Timer()
    images, probabilities = predict(model, args.images, args.batch_size)
    predict_seconds = timer.seconds()
    top_k = min(args.top_k, len(class_names))
    text = report(args.images, probabilities, class_names, top_k)
    logs.log_text(args.log_dir, "predict", "top_k", text)
    save_predictions(images, args.images, probabilities, class_names, top_k, args.log_dir)
    return logs.write_metrics(
        args.log_dir, num_images=len(args.images), top_k=top_k, num_classes=len(class_names),
        mean_top1_probability=float(probabilities.max(axis=1).mean()),
        load_seconds=round(load_seconds, 2), predict_seconds=round(predict_seconds, 2), model=str(model_path),
    )


if __name__ == "__main__":
    main()
