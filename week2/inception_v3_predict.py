"""Inception v3 prediction: label your own photos with a model from inception_v3_retrain.py.

요약: 재학습한 모델(model.keras)과 클래스 이름(labels.txt)을 읽어, 사진마다 가장 그럴듯한 클래스 k개와
그 확률을 보여 줍니다(추론, inference). 모델 안에 전처리(0-255 → -1..1)가 들어 있어서 사진은 크기만 맞춰 넣습니다.

Run:    python week2/inception_v3_predict.py my_photo.jpg other.png
        python week2/inception_v3_predict.py my_photo.jpg --model runs/inception_v3_retrain/<run>/ --top-k 5
Smoke:  python week2/inception_v3_predict.py --smoke   (a tiny stand-in model and generated photos, no retrained model)
Expect: for each photo, the top 3 labels with their probabilities, one per line (shaped like "  0.912  daisy", an illustration);
        predictions.png shows the photos with their top labels; metrics.json records the load and predict times
        (not measured for the README yet). Without --model, the newest runs/inception_v3_retrain/*/model.keras
        with labels.txt beside it is used (full runs before --smoke runs).
"""

import argparse
import math
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

RETRAIN_RUNS = flags.RUNS_DIR / "inception_v3_retrain"


def positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive whole number")
    return value


# 명령행 옵션(flags): 예측만 하므로 학습 옵션(--epochs, --batch-size, --learning-rate)은 없습니다.
PARSER = flags.make_parser(__file__, __doc__, data_dir=False)
PARSER.add_argument("images", nargs="*", metavar="IMAGE", help="photos to label (JPEG, PNG, ...)")
PARSER.add_argument(
    "--model", type=Path, default=None,
    help="model.keras from inception_v3_retrain.py, or its run folder; labels.txt must be beside it "
    f"(default: the newest under {RETRAIN_RUNS.relative_to(flags.REPO_ROOT)}/)",
)
PARSER.add_argument("--top-k", type=positive, default=3, help="labels shown per photo (default: %(default)s)")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
import numpy as np
from PIL import Image, UnidentifiedImageError

from common import data, runtime, smoke, tb

BATCH_SIZE = 32  # 한 번에 망에 넣는 사진 수 (예측 결과에는 영향이 없습니다)


# 1. 입력 확인 / Check the photos and find the model, before any work
def check_images(paths):
    """Stops with one line naming the first path that is missing or not a readable image."""
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


def check_model(path=None):
    """Returns (model path, class names) after checking what can be checked without loading the model."""
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


# 2. 예측 / Predict
def load_model(path, class_names):
    """Loads model.keras and checks that it takes RGB photos and has one output per name in labels.txt."""
    try:
        model = keras.saving.load_model(path)
    except Exception as e:  # 망가진 파일이나 다른 Keras로 저장한 모델은 여러 종류의 예외를 냅니다
        reason = " ".join(str(e).split())[:300]
        raise data.DataError(f"--model {path} could not be loaded ({reason}); retrain it with this Keras") from None
    shape = tuple(model.input_shape)
    if len(shape) != 4 or shape[3] != 3 or model.output_shape[-1] != len(class_names):
        raise data.DataError(
            f"--model {path} maps {shape} to {model.output_shape[-1]} classes but labels.txt names "
            f"{len(class_names)}; give a model.keras with its own labels.txt from inception_v3_retrain.py"
        )
    return model


def predict(model, paths, batch_size=BATCH_SIZE):
    """Returns (uint8 photos resized to the model's input, probabilities (n, num_classes))."""
    size = model.input_shape[1]
    images, _ = data.load_images(paths, size)  # 학습 때와 같은 방법으로: RGB, 쌍선형(bilinear) 크기 조절
    return images, model.predict(images, batch_size=batch_size, verbose=0)


def report(paths, probabilities, class_names, top_k):
    """Prints the top-k labels per photo; returns the same as markdown for TensorBoard."""
    lines = []
    for path, probs in zip(paths, probabilities):
        print(path)
        best = np.argsort(probs)[::-1][:top_k]
        for k in best:
            print(f"  {probs[k]:.3f}  {class_names[k]}")
        lines.append(f"**{path.name}**: " + ", ".join(f"{class_names[k]} {probs[k]:.3f}" for k in best))
    return "\n\n".join(lines)


# 3. 그림 / Draw
def save_predictions(images, paths, probabilities, class_names, top_k, log_dir):
    plt = tb.pyplot()
    cols = min(4, len(images))
    rows = math.ceil(len(images) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 2.8, rows * 3.2), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, path, probs in zip(axes.flat, images, paths, probabilities):
        best = np.argsort(probs)[::-1][:top_k]
        ax.imshow(image)
        ax.set_title(path.name + "\n" + "\n".join(f"{class_names[k]} {probs[k]:.2f}" for k in best), fontsize=8)
    fig.suptitle(f"사진마다 상위 {top_k}개 예측 / top-{top_k} predictions")
    tb.save_figure(fig, Path(log_dir) / "predictions.png")
    tb.log_image(log_dir, "predict", "photos", tb.image_grid(images / 255, ncols=cols))


def main(argv=None):
    args = flags.parse(PARSER, argv)
    if not args.images and not args.smoke:
        PARSER.error("give at least one IMAGE to label")
    images = [Path(p) for p in args.images]
    check_images(images)  # 잘못된 사진이나 모델 경로는 실행 폴더를 만들기 전에 멈춥니다
    stand_in = args.smoke and args.model is None
    if not stand_in:
        model_path, class_names = check_model(args.model)
    strategy = runtime.setup(args)
    if stand_in:  # --smoke: 재학습한 모델 대신 작은 대역 모델(common/smoke.py)과 만든 사진
        model_path, class_names = check_model(smoke.train_shape_classifier(args.log_dir / "smoke_model", seed=args.seed))
    if not images:
        images = sorted(smoke.write_shape_images(args.log_dir / "smoke_images", per_class=1, seed=args.seed + 1)
                        .rglob("*.jpg"))

    timer = tb.Timer()
    with strategy.scope():
        model = load_model(model_path, class_names)
    load_seconds = timer.seconds()
    size = model.input_shape[1]
    print(f"Model: {model_path} ({len(class_names)} classes, {size}x{size} photos), loaded in {load_seconds:.1f}s")
    timer = tb.Timer()
    pixels, probabilities = predict(model, images)
    predict_seconds = timer.seconds()
    top_k = min(args.top_k, len(class_names))
    tb.log_text(args.log_dir, "predict", "top_k", report(images, probabilities, class_names, top_k))
    save_predictions(pixels, images, probabilities, class_names, top_k, args.log_dir)
    return tb.write_metrics(
        args.log_dir, num_images=len(images), top_k=top_k, num_classes=len(class_names),
        mean_top1_probability=float(probabilities.max(axis=1).mean()),
        load_seconds=round(load_seconds, 2), predict_seconds=round(predict_seconds, 2), model=str(model_path),
    )


if __name__ == "__main__":
    main()
