"""Predict your own handwritten digits: prepare a photo or drawing the way MNIST was made, then classify it.

요약: 직접 찍은 사진이나 그림 속 숫자를 MNIST와 같은 방식으로 전처리(preprocessing)해서 학습된 CNN에 넣고,
가능성이 높은 세 숫자와 그 확률을 출력합니다. 신경망은 학습 때와 같은 모양의 입력에서만 제대로 동작하므로,
predictions.png에서 신경망이 실제로 본 28x28 이미지를 꼭 확인하세요.

Run:    python week2/predict_digit.py my_digit.jpg [more.png ...]   (the newest model from mnist_cnn_checkpoint.py)
        python week2/predict_digit.py my_digit.jpg --model runs/mnist_cnn_checkpoint/<run>/model.keras
Smoke:  python week2/predict_digit.py --smoke   (an untrained stand-in model, no earlier run, no download)
Expect: one line per image, shaped like `my_digit.jpg: 7 (1.000)  2 (0.000)  1 (0.000)` (an illustration): the three likeliest digits and
        their probabilities (most of the time goes to importing TensorFlow). predictions.png shows each original, the 28x28 input the network saw, and all ten
        probabilities. With no IMAGE it draws a sample 7 (sample_7.png in the run folder) and uses that.
"""

import json
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

TRAINER = "mnist_cnn_checkpoint"  # 기본 모델을 만드는 스크립트: runs/<TRAINER>/*/model.keras

# 명령행 옵션(flags): 예측만 하는 스크립트라 학습 옵션(--epochs 등)은 없습니다.
PARSER = flags.make_parser(__file__, __doc__, data_dir=False)
PARSER.add_argument("images", nargs="*", type=Path, metavar="IMAGE", help="photos or drawings of one digit each")
PARSER.add_argument(
    "--model", type=Path, default=None,
    help=f"model.keras or saved_model/ folder (default: the newest runs/{TRAINER}/*/model.keras)",
)
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
import numpy as np
import tensorflow as tf
from PIL import Image, ImageOps, UnidentifiedImageError

from common import data, runtime, smoke, tb

NUM_CLASSES = 10
TOP = 3  # 이미지마다 출력하는 클래스 수
BOX, SIZE, CENTRE = 20, 28, 14.0  # MNIST: 숫자를 20x20 안에 넣고, 28x28의 (14, 14)에 무게중심을 둡니다
INK = 0.3  # 종이의 회색에서 가장 진한 잉크까지의 30% 이상이면 잉크로 봅니다
MNIST_STROKE = 0.13  # MNIST 획 굵기의 중앙값 / 숫자의 긴 변 (학습 세트에서 잰 값)
MAX_SIDE = 512  # 큰 사진은 먼저 줄입니다: 어차피 숫자는 20픽셀이 됩니다


def shown(path):
    """A path as the user would type it: relative to the current folder when it lies inside it."""
    path = Path(path).resolve()
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


# 1. 모델 찾기 / Find the model
def find_model(path=None):
    """`path` when given (checked), else the newest model.keras from a full (not --smoke) run of the trainer."""
    if path is not None:
        return check_model_path(path)
    runs = flags.RUNS_DIR / TRAINER
    candidates = [p for p in runs.glob("*/model.keras") if not is_smoke_run(p.parent)]
    if not candidates:
        raise SystemExit(
            f"error: no trained model in {shown(runs)}/*/model.keras; train one first with "
            f"`python week2/{TRAINER}.py`, or pass --model PATH"
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


def load_model(path):
    """Returns predict(images) -> probabilities (N, 10), from a .keras file or a SavedModel folder."""
    try:
        if path.is_dir():
            served = tf.saved_model.load(str(path))  # 서버가 읽는 것과 같은 것: `serve` 함수 하나
            return lambda images: served.serve(tf.constant(images)).numpy()
        model = keras.models.load_model(path, compile=False)  # 예측에는 옵티마이저가 필요 없습니다
    except Exception as e:  # 손상되었거나 다른 종류의 파일은 Keras, h5py, zipfile 안에서 여러 방식으로 실패합니다
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


# 2. 전처리 / Preprocess: any image -> a 28x28 MNIST-style digit
def read_image(path):
    """Opens an image file as RGB; a missing, empty or unreadable file is one clear error line."""
    if not path.exists():
        raise data.DataError(f"{path} does not exist; give the path of a photo or drawing of one digit")
    if path.is_dir():
        raise data.DataError(f"{path} is a folder; give image files (PNG, JPEG, ...)")
    if path.stat().st_size == 0:
        raise data.DataError(f"{path}: the file is empty (0 bytes); give a photo or drawing of one digit")
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)  # 휴대폰 사진: 카메라가 기록한 회전을 적용
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                # 투명한 픽셀은 흰 종이로 봅니다 (투명한 캔버스에 그린 그림).
                rgba = image.convert("RGBA")
                image = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise data.DataError(
            f"{path} is not an image Pillow can read ({type(e).__name__}); use PNG, JPEG, BMP, GIF or WebP"
        ) from None


def to_mnist(image, name="image"):
    """An RGB PIL image of one digit, any size -> (28, 28) float32 in [0, 1], light ink on black.

    MNIST's steps (LeCun et al.): light ink on a dark background; crop to the ink; longer side to
    20 pixels with anti-aliasing; centre of mass at (14, 14) of 28x28. Two more for photos, which are
    not scans: the paper's grey becomes 0 and the strongest ink 1, and thin strokes are thickened.
    """
    image = image.copy()
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.LANCZOS)
    grey = np.asarray(image.convert("L"), dtype=np.float32) / 255
    # 1. MNIST는 검은 바탕에 밝은 글씨입니다. 대부분 종이인 테두리를 보고 뒤집을지 정합니다.
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if np.median(border) > 0.5:
        grey, border = 1 - grey, 1 - border
    paper, ink = float(np.median(border)), float(grey.max())
    if ink - paper < 0.1:
        raise data.DataError(f"{name} shows no digit: its pixels barely differ from the background; is it blank?")
    grey = np.clip((grey - paper) / (ink - paper), 0, 1)  # 종이 0, 가장 진한 잉크 1 (그림자, 회색 종이)
    grey[grey < INK] = 0  # 종이의 결과 그림자를 지웁니다
    # 2. 잉크를 둘러싼 상자로 자릅니다.
    rows, cols = np.flatnonzero(grey.any(axis=1)), np.flatnonzero(grey.any(axis=0))
    digit = grey[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    digit = thicken(digit)
    # 3. 가로세로 비율을 지키며 긴 변을 20픽셀로; LANCZOS가 MNIST처럼 가장자리를 회색으로 부드럽게 만듭니다.
    h, w = digit.shape
    scale = BOX / max(h, w)
    small_size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = np.asarray(Image.fromarray(digit, mode="F").resize(small_size, Image.LANCZOS), dtype=np.float32)
    small = np.clip(small, 0, None)
    small /= small.max()  # 줄이면 가는 획이 흐려지므로 가장 진한 잉크를 다시 1로
    # 4. 무게중심이 (14, 14)에 오도록 28x28에 붙입니다.
    total = small.sum()
    cy = (small.sum(axis=1) * np.arange(small.shape[0])).sum() / total
    cx = (small.sum(axis=0) * np.arange(small.shape[1])).sum() / total
    top, left = int(round(CENTRE - cy)), int(round(CENTRE - cx))
    canvas = np.zeros((SIZE, SIZE), dtype=np.float32)
    y0, x0 = max(top, 0), max(left, 0)  # 한쪽으로 치우친 숫자가 28x28 밖으로 나가는 부분은 잘라 냅니다
    y1, x1 = min(top + small.shape[0], SIZE), min(left + small.shape[1], SIZE)
    canvas[y0:y1, x0:x1] = small[y0 - top:y1 - top, x0 - left:x1 - left]
    return canvas  # 5. 학습 때처럼 [0, 1]의 float32


def stroke_width(ink):
    """Average stroke width in pixels: area / (half the outline), exact for long thin strokes."""
    padded = np.pad(ink, 1)
    inside = padded[1:-1, 1:-1] & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    outline = np.count_nonzero(ink & ~inside)
    return 2 * np.count_nonzero(ink) / max(outline, 1)


def thicken(digit):
    """Widens strokes thinner than MNIST's to its median width; MNIST-like strokes pass unchanged."""
    width, target = stroke_width(digit > 0), MNIST_STROKE * max(digit.shape)
    if width >= 0.8 * target:  # 0.8 x 13% = 10%: MNIST 숫자의 90%보다 가는 획만 굵게 합니다
        return digit
    k = int(target - width) // 2 * 2 + 1  # 홀수 창 크기; 획은 k - 1 픽셀 굵어집니다
    return max_filter(np.pad(digit, k // 2), k)


def max_filter(image, k):
    """Each pixel becomes the largest value in the k x k window around it (k odd): a dilation."""
    windows = np.lib.stride_tricks.sliding_window_view
    padded = np.pad(image, k // 2)
    rows = windows(padded, k, axis=0).max(axis=-1)  # 세로 한 번, 가로 한 번: k * k가 아니라 k + k번 비교
    return np.ascontiguousarray(windows(rows, k, axis=1).max(axis=-1))


# 3. 예측과 그림 / Predict, and show what the network saw
def top_classes(probabilities, k=TOP):
    order = np.argsort(probabilities)[::-1][:k]
    return [(int(c), float(probabilities[c])) for c in order]


def save_predictions(paths, originals, inputs, probabilities, log_dir):
    """One row per image: the original, the 28x28 input the network saw, and the ten probabilities."""
    plt = tb.pyplot()
    fig, axes = plt.subplots(len(paths), 3, figsize=(9, 2.6 * len(paths)), squeeze=False)
    for row, path, original, x, p in zip(axes, paths, originals, inputs, probabilities):
        row[0].imshow(original)
        row[0].set_title(path.name, fontsize=9)
        row[1].imshow(x, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        row[1].set_title("신경망 입력 / input 28x28", fontsize=9)
        for ax in row[:2]:
            ax.set_xticks([])
            ax.set_yticks([])
        row[2].bar(range(NUM_CLASSES), p, color=["C3" if c == p.argmax() else "C0" for c in range(NUM_CLASSES)])
        row[2].set_xticks(range(NUM_CLASSES))
        row[2].set_ylim(0, 1)
        row[2].set_title("  ".join(f"{c}: {q:.3f}" for c, q in top_classes(p)), fontsize=9)
    fig.suptitle("원본, 전처리된 입력, 확률 / original, preprocessed input, probabilities")
    fig.tight_layout()
    tb.save_figure(fig, Path(log_dir) / "predictions.png")
    tb.log_image(log_dir, "predict", "inputs", tb.image_grid(inputs, ncols=min(len(inputs), 8)))
    table = "| image | top 3 |\n|---|---|\n" + "\n".join(
        f"| {path.name} | " + ", ".join(f"{c} ({q:.3f})" for c, q in top_classes(p)) + " |"
        for path, p in zip(paths, probabilities)
    )
    tb.log_text(log_dir, "predict", "top3", table)


def main(argv=None):
    args = flags.parse(PARSER, argv)
    # 잘못된 모델 경로나 그림 파일은 실행 폴더를 만들기 전에 한 줄로 알립니다.
    model_path = None if args.smoke and args.model is None else find_model(args.model)
    paths = list(args.images)
    originals = [read_image(path) for path in paths]
    inputs = [to_mnist(image, name=str(path)) for path, image in zip(paths, originals)]
    runtime.setup(args)
    if not paths:  # 그림을 주지 않으면 견본 7을 그려서 씁니다
        paths = [smoke.draw_seven(args.log_dir / "sample_7.png")]
        print(f"No IMAGE given: drew a sample 7 in {shown(paths[0])}")
        originals = [read_image(paths[0])]
        inputs = [to_mnist(originals[0], name=str(paths[0]))]
    if model_path is None:  # --smoke without --model: an untrained stand-in with a trained model's interface
        model_path = smoke.untrained_digit_classifier(args.log_dir / "tiny_model.keras")
    predict = load_model(model_path)

    inputs = np.stack(inputs)
    probabilities = np.asarray(predict(inputs[..., None]))  # (N, 28, 28) -> (N, 28, 28, 1): 흑백 채널 하나
    results = []
    for path, p in zip(paths, probabilities):
        top = top_classes(p)
        print(f"{path}: " + "  ".join(f"{c} ({q:.3f})" for c, q in top))
        results.append({"image": str(path), "top3": [[c, round(q, 4)] for c, q in top]})
    save_predictions(paths, originals, inputs, probabilities, args.log_dir)
    return tb.write_metrics(
        args.log_dir, images=len(paths), mean_top1_probability=float(probabilities.max(axis=1).mean()),
        model=str(model_path), predictions=results,
    )


if __name__ == "__main__":
    main()
