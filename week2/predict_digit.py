"""Predict your own handwritten digits: prepare any photo or drawing the way MNIST was made, then classify it.

요약: 직접 찍은 사진이나 그림 속 숫자를 MNIST와 같은 방식으로 전처리(preprocessing)해서 학습된 CNN에
넣고, 가능성이 높은 세 개의 숫자와 확률을 출력합니다. 네트워크는 배운 것과 같은 모양의 입력에서만
제대로 동작하므로, predictions.png에서 네트워크가 실제로 본 28x28 이미지를 꼭 확인하세요.

Run:    python week2/predict_digit.py my_digit.jpg [more.png ...]   (the newest model from mnist_cnn_checkpoint.py)
        python week2/predict_digit.py my_digit.jpg --model runs/mnist_cnn_checkpoint/<run>/model.keras
Smoke:  python week2/predict_digit.py --smoke
Expect: for each image a line `my_digit.jpg: 7 (1.000)  2 (0.000)  1 (0.000)`: the three likeliest digits
        and their probabilities, in about 15 s on a CPU (mostly importing TensorFlow). predictions.png
        shows each original, the 28x28 input the network saw, and all ten probabilities. With no IMAGE,
        it draws a sample 7 (sample_7.png in the run folder) and uses that.
        --smoke without --model trains a tiny CNN for a few seconds on 1,000 MNIST images (about 80%
        test accuracy) instead of loading one, so it needs no earlier run. --epochs, --batch-size,
        --learning-rate and --data-dir apply only to that tiny model.

How MNIST's digits were made (LeCun et al.), and so what happens to your image:
1. greyscale, with light ink on a dark background: inverted when the border of the image is light;
2. cropped to the ink's bounding box;
3. scaled so that the longer side is 20 pixels, keeping the aspect ratio (with anti-aliasing);
4. pasted into a 28x28 image so that the ink's centre of mass lies at the centre, (14, 14);
5. pixels scaled to [0, 1].
We add two steps MNIST did not need, because photos are not scans: the paper's grey level becomes 0
and the strongest ink 1 (shadows, grey paper), and strokes thinner than 90% of MNIST's (a ballpoint pen
on a large photo) are thickened to MNIST's median width, 13% of the digit's longer side, before scaling.
"""

import json
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # lets `import common` work from any folder

import numpy as np
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from common import data, flags

NUM_CLASSES = 10
TOP = 3  # classes printed per image
BOX, SIZE, CENTRE = 20, 28, 14.0  # MNIST: digit scaled into 20x20, centre of mass at (14, 14) of 28x28
INK = 0.3  # a pixel is ink when it is at least 30% of the way from the paper's grey to the strongest ink
MNIST_STROKE = 0.13  # MNIST's median stroke width / the digit's longer side (measured on the training set)
MAX_SIDE = 512  # larger photos are shrunk first: the digit ends up 20 pixels tall anyway
TRAINER = "mnist_cnn_checkpoint"  # the script whose run folders hold the default model
SMOKE_TRAIN, SMOKE_TEST = 1000, 500

# TensorFlow takes seconds to import, so main() imports it only after the flags, the model path
# and the images have been checked: `--help` and a bad file answer at once.
tf = keras = layers = logs = runtime = None


def parse_args(argv=None):
    parser = flags.make_parser(__file__, __doc__, epochs=2, batch_size=64, learning_rate=3e-3)
    # str, not Path: config.json stores the flags, and flags.config_dict converts single paths only.
    parser.add_argument("images", nargs="*", metavar="IMAGE", help="photos or drawings of one digit each")
    parser.add_argument(
        "--model", type=Path, default=None,
        help=f"model.keras or saved_model/ folder (default: the newest runs/{TRAINER}/*/model.keras)",
    )
    return flags.parse(parser, argv)


def import_tensorflow():
    global tf, keras, layers, logs, runtime
    import keras
    import tensorflow as tf
    from keras import layers

    from common import logs, runtime


def shown(path):
    """A path as the user would type it: relative to the current folder when it lies inside it."""
    path = Path(path).resolve()
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


# 1. 모델 찾기 / Find the model (checked before TensorFlow is imported)
def find_model(args):
    """The model file to use, or None for --smoke without --model (a tiny model is trained instead)."""
    if args.model is not None:
        return check_model_path(args.model)
    if args.smoke:
        return None
    runs = flags.RUNS_DIR / TRAINER
    candidates = [p for p in runs.glob("*/model.keras") if not is_smoke_run(p.parent)]
    if not candidates:
        raise SystemExit(
            f"error: no trained model in {shown(runs)}/*/model.keras; train one first with "
            f"`python week2/{TRAINER}.py` (a few minutes on a CPU), or pass --model PATH"
        )
    path = max(candidates, key=lambda p: p.stat().st_mtime)
    print(f"Model: {shown(path)} (the newest from week2/{TRAINER}.py; --model PATH chooses another)")
    return path


def is_smoke_run(run_dir):
    """A --smoke run's model has barely trained: never pick it by default."""
    try:
        return bool(json.loads((run_dir / "config.json").read_text(encoding="utf-8")).get("smoke"))
    except (OSError, ValueError):
        return False


def check_model_path(path):
    fix = f"give the model.keras (or saved_model/ folder) that week2/{TRAINER}.py wrote in its run folder"
    if not path.exists():
        raise SystemExit(f"error: --model {path} does not exist; {fix}")
    if path.is_dir():
        if not (path / "saved_model.pb").exists():
            raise SystemExit(f"error: --model {path} is a folder without saved_model.pb, so not a SavedModel; {fix}")
    elif path.suffix != ".keras" or not zipfile.is_zipfile(path):
        raise SystemExit(f"error: --model {path} is not a Keras model file (a .keras zip archive); {fix}")
    return path


# 2. 전처리 / Preprocess: any image -> a 28x28 MNIST-style digit
def draw_sample_digit(path):
    """A handwritten-style 7, dark ink on off-white paper, 200x200: used when no IMAGE is given."""
    image = Image.new("RGB", (200, 200), (236, 233, 222))
    draw = ImageDraw.Draw(image)
    draw.line([(52, 52), (138, 44), (146, 50), (112, 108), (90, 162)], fill=(35, 35, 70), width=13, joint="curve")
    draw.line([(88, 104), (134, 100)], fill=(35, 35, 70), width=10)  # the crossbar some people write
    image.save(path)
    print(f"No IMAGE given: drew a sample 7 in {shown(path)}")
    return path


def read_image(path):
    """Opens an image file as RGB; a missing or unreadable file is one clear error line."""
    if not path.exists():
        raise data.DataError(f"{path} does not exist; give the path of a photo or drawing of one digit")
    if path.is_dir():
        raise data.DataError(f"{path} is a folder; give image files (PNG, JPEG, ...)")
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)  # phone photos: apply the rotation the camera recorded
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                # Transparent pixels count as white paper (a drawing on a transparent canvas).
                rgba = image.convert("RGBA")
                image = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise data.DataError(
            f"{path} is not an image Pillow can read ({type(e).__name__}); use PNG, JPEG, BMP, GIF or WebP"
        ) from None


def to_mnist(image, name="image"):
    """An RGB PIL image of one digit, any size -> (28, 28) float32 in [0, 1], light ink on black."""
    image = image.copy()
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.LANCZOS)
    grey = np.asarray(image.convert("L"), dtype=np.float32) / 255
    # 1. MNIST's ink is light on black. Decide from the border, which is mostly paper, not ink.
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if np.median(border) > 0.5:
        grey, border = 1 - grey, 1 - border
    paper, ink = float(np.median(border)), float(grey.max())
    if ink - paper < 0.1:
        raise data.DataError(f"{name} shows no digit: its pixels barely differ from the background; is it blank?")
    grey = np.clip((grey - paper) / (ink - paper), 0, 1)  # paper 0, strongest ink 1
    grey[grey < INK] = 0  # paper texture and shadows
    # 2. Crop to the ink's bounding box.
    rows, cols = np.flatnonzero(grey.any(axis=1)), np.flatnonzero(grey.any(axis=0))
    digit = grey[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    digit = thicken(digit)
    # 3. Longer side to 20 pixels, keeping the aspect ratio; LANCZOS anti-aliases like MNIST's grey edges.
    h, w = digit.shape
    scale = BOX / max(h, w)
    small_size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = np.asarray(Image.fromarray(digit, mode="F").resize(small_size, Image.LANCZOS), dtype=np.float32)
    small = np.clip(small, 0, None)
    small /= small.max()  # scaling down dims thin strokes: make the strongest ink 1 again
    # 4. Paste into 28x28 with the centre of mass at (14, 14).
    total = small.sum()
    cy = (small.sum(axis=1) * np.arange(small.shape[0])).sum() / total
    cx = (small.sum(axis=0) * np.arange(small.shape[1])).sum() / total
    top, left = int(round(CENTRE - cy)), int(round(CENTRE - cx))
    canvas = np.zeros((SIZE, SIZE), dtype=np.float32)
    y0, x0 = max(top, 0), max(left, 0)  # clip where a lopsided digit would stick out of the 28x28 field
    y1, x1 = min(top + small.shape[0], SIZE), min(left + small.shape[1], SIZE)
    canvas[y0:y1, x0:x1] = small[y0 - top:y1 - top, x0 - left:x1 - left]
    return canvas  # 5. float32 in [0, 1], as the network was trained


def stroke_width(ink):
    """Average stroke width in pixels: area / (half the outline), exact for long thin strokes."""
    padded = np.pad(ink, 1)
    inside = padded[1:-1, 1:-1] & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    outline = np.count_nonzero(ink & ~inside)
    return 2 * np.count_nonzero(ink) / max(outline, 1)


def thicken(digit):
    """Widens strokes thinner than MNIST's to its median width; MNIST-like strokes pass unchanged."""
    width, target = stroke_width(digit > 0), MNIST_STROKE * max(digit.shape)
    if width >= 0.8 * target:  # 0.8 x 13% = 10%: thinner than 90% of MNIST's digits
        return digit
    k = int(target - width) // 2 * 2 + 1  # odd window size; the stroke grows by k - 1 pixels
    return max_filter(np.pad(digit, k // 2), k)


def max_filter(image, k):
    """Each pixel becomes the largest value in the k x k window around it (k odd): a dilation."""
    windows = np.lib.stride_tricks.sliding_window_view
    padded = np.pad(image, k // 2)
    rows = windows(padded, k, axis=0).max(axis=-1)  # vertical pass, then horizontal: k + k, not k * k
    return np.ascontiguousarray(windows(rows, k, axis=1).max(axis=-1))


# 3. 모델 / Load the trained model, or train a tiny one for --smoke
def load_model(path):
    """Returns predict(images) -> probabilities (N, 10), from a .keras file or a SavedModel folder."""
    try:
        if path.is_dir():
            served = tf.saved_model.load(str(path))  # what a server would load: only the `serve` function
            return lambda images: served.serve(tf.constant(images)).numpy()
        model = keras.models.load_model(path, compile=False)  # compile=False: no optimizer needed to predict
    except Exception as e:  # a damaged or foreign file fails in many ways inside Keras, h5py and zipfile
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise SystemExit(
            f"error: cannot load --model {path} ({reason}); give a model.keras from week2/{TRAINER}.py"
        ) from None
    if tuple(model.input_shape[1:]) != (SIZE, SIZE, 1) or tuple(model.output_shape[1:]) != (NUM_CLASSES,):
        raise SystemExit(
            f"error: --model {path} maps {model.input_shape} to {model.output_shape}; an MNIST classifier "
            f"takes (None, {SIZE}, {SIZE}, 1) to (None, {NUM_CLASSES})"
        )
    return lambda images: model.predict(images, verbose=0)


def train_tiny_model(args, x_train, y_train, x_test, y_test):
    """--smoke without --model: a tiny CNN trained for seconds, so the smoke run needs no earlier run."""
    model = keras.Sequential(
        [
            keras.Input(shape=(SIZE, SIZE, 1)),
            layers.Conv2D(8, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="tiny_cnn",
    )
    model.compile(keras.optimizers.Adam(args.learning_rate), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(
        x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, verbose=2,
        callbacks=[logs.tensorboard_callback(args.log_dir)],
    )
    test_accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)[1]
    model.save(args.log_dir / "tiny_model.keras")
    print(f"Tiny model: test accuracy {test_accuracy:.4f} after {args.epochs} epochs on {len(x_train)} images")
    return (lambda images: model.predict(images, verbose=0)), test_accuracy


# 4. 예측과 그림 / Predict, and show what the network saw
def top_classes(probabilities, k=TOP):
    order = np.argsort(probabilities)[::-1][:k]
    return [(int(c), float(probabilities[c])) for c in order]


def save_predictions(paths, originals, inputs, probabilities, log_dir):
    """One row per image: the original, the 28x28 input the network saw, and the ten probabilities."""
    plt = logs.pyplot()
    fig, axes = plt.subplots(len(paths), 3, figsize=(9, 2.6 * len(paths)), squeeze=False)
    for row, path, original, x, p in zip(axes, paths, originals, inputs, probabilities):
        row[0].imshow(original)
        row[0].set_title(path.name, fontsize=9)
        row[1].imshow(x, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        row[1].set_title("네트워크 입력 / input 28x28", fontsize=9)
        for ax in row[:2]:
            ax.set_xticks([])
            ax.set_yticks([])
        row[2].bar(range(NUM_CLASSES), p, color=["C3" if c == p.argmax() else "C0" for c in range(NUM_CLASSES)])
        row[2].set_xticks(range(NUM_CLASSES))
        row[2].set_ylim(0, 1)
        row[2].set_title("  ".join(f"{c}: {q:.3f}" for c, q in top_classes(p)), fontsize=9)
    fig.suptitle("원본, 전처리된 입력, 확률 / original, preprocessed input, probabilities")
    fig.tight_layout()
    logs.save_figure(fig, Path(log_dir) / "predictions.png")
    logs.log_image(log_dir, "predict", "inputs", logs.image_grid(inputs, ncols=min(len(inputs), 8)))
    table = "| image | top 3 |\n|---|---|\n" + "\n".join(
        f"| {path.name} | " + ", ".join(f"{c} ({q:.3f})" for c, q in top_classes(p)) + " |"
        for path, p in zip(paths, probabilities)
    )
    logs.log_text(log_dir, "predict", "top3", table)


def main(argv=None):
    args = parse_args(argv)
    model_path = find_model(args)
    paths = [Path(p) for p in args.images] or [draw_sample_digit(args.log_dir / "sample_7.png")]
    originals = [read_image(path) for path in paths]
    inputs = np.stack([to_mnist(image, name=str(path)) for path, image in zip(paths, originals)])
    if model_path is None:
        (x_train, y_train), (x_test, y_test) = data.load_mnist(args.data_dir)
        x_train, y_train = x_train[:SMOKE_TRAIN, ..., None] / np.float32(255), y_train[:SMOKE_TRAIN]
        x_test, y_test = x_test[:SMOKE_TEST, ..., None] / np.float32(255), y_test[:SMOKE_TEST]
    import_tensorflow()
    runtime.setup(args)
    extra = {}
    if model_path is None:
        predict, extra["tiny_model_test_accuracy"] = train_tiny_model(args, x_train, y_train, x_test, y_test)
    else:
        predict = load_model(model_path)
    probabilities = np.asarray(predict(inputs[..., None]))
    results = []
    for path, p in zip(paths, probabilities):
        top = top_classes(p)
        print(f"{path}: " + "  ".join(f"{c} ({q:.3f})" for c, q in top))
        results.append({"image": str(path), "top3": [[c, round(q, 4)] for c, q in top]})
    save_predictions(paths, originals, inputs, probabilities, args.log_dir)
    return logs.write_metrics(
        args.log_dir, images=len(paths), mean_top1_probability=float(probabilities.max(axis=1).mean()),
        model=str(model_path) if model_path else "tiny model (--smoke)", predictions=results, **extra,
    )


if __name__ == "__main__":
    main()
