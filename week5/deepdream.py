"""DeepDream and feature visualisation: what a trained CNN (InceptionV3) sees, found by gradient ascent on the picture.

요약: 보통의 학습은 그림을 고정하고 가중치를 고치지만, 여기서는 가중치를 고정하고 그림을 고칩니다. 고른 층들의
활성화(activation)가 커지는 쪽으로 그림을 조금씩 바꾸면(경사 상승, gradient ascent), 그 층이 알아보는 무늬가 그림
속에 점점 또렷해집니다(DeepDream). 여러 크기(옥타브, octave)에서 차례로 하면 큰 무늬와 작은 무늬가 함께 자라고,
큰 그림은 타일(tile)로 나눠 기울기를 구해 메모리에 맞춥니다. --visualize는 잡음에서 시작해 한 채널(channel)만 키워
"이 채널은 무엇을 찾는가"를 격자로 보여 줍니다(특징 시각화, feature visualisation).

Run:    python week5/deepdream.py                         (the Tübingen photo of week 5's style transfer, downloaded once)
        python week5/deepdream.py --image my_photo.jpg --layers mixed3,mixed5 --octaves 4
        python week5/deepdream.py --visualize mixed4 --channels 0,1,2,3,4,5,6,7
        python week5/deepdream.py --weights none          (offline: an untrained InceptionV3, see below)
Smoke:  python week5/deepdream.py --smoke
Expect: a progress bar over all the steps; the loss (the chosen layers' summed activations) rises. TensorBoard and
        octave_N.png show the picture after each octave; the run folder gets dream.png and comparison.png
        (photo | dream). --visualize writes features_<layer>.png, one picture per channel, and records how
        much each channel's mean activation grew. With --weights none the network has random weights: the
        patterns are noise-like textures, not the dogs' eyes and pagodas ImageNet weights give.
        The ImageNet weights (90 MB) download into the Keras cache (~/.keras/models) on first use.
        Measured (README table, 2-core CPU): 0.128 s per step at the default size (a 384x288 picture, 3 octaves of
        40 steps) with --weights none.
"""

import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
PARSER = flags.make_parser(__file__, __doc__)
PARSER.add_argument("--image", type=Path, default=None,
                    help="the picture to dream on (default: the Tübingen photo, downloaded into the cache)")
PARSER.add_argument("--weights", choices=("imagenet", "none"), default="imagenet",
                    help="InceptionV3's weights: imagenet (downloaded once) or none (random, offline) (default: %(default)s)")
PARSER.add_argument("--layers", default="mixed3,mixed5",
                    help="comma-separated InceptionV3 layers whose activations to grow: mixed0 (small patterns) "
                         "... mixed10 (whole objects) (default: %(default)s)")
PARSER.add_argument("--size", type=int, default=384, help="the picture's longer side in pixels (default: %(default)s)")
PARSER.add_argument("--steps", type=int, default=40,
                    help="gradient-ascent steps per octave (per channel with --visualize) (default: %(default)s)")
PARSER.add_argument("--step-size", type=float, default=0.01, help="how far each step moves the picture (default: %(default)s)")
PARSER.add_argument("--octaves", type=int, default=3,
                    help="picture sizes to dream at, each --octave-scale times the previous, ending at --size "
                         "(default: %(default)s)")
PARSER.add_argument("--octave-scale", type=float, default=1.3, help="size ratio between octaves (default: %(default)s)")
PARSER.add_argument("--tile", type=int, default=256,
                    help="side of the tiles the gradient is computed on, so large pictures fit in memory (default: %(default)s)")
PARSER.add_argument("--visualize", default=None, metavar="LAYER",
                    help="feature visualisation: grow single channels of LAYER from noise instead of dreaming")
PARSER.add_argument("--channels", default="0,1,2,3,4,5,6,7",
                    help="--visualize: comma-separated channel numbers, one picture each (default: %(default)s)")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
import numpy as np
import tensorflow as tf
from PIL import Image, UnidentifiedImageError

from common import data, runtime, tb

MIN_SIDE = 80  # InceptionV3는 75픽셀보다 작은 그림을 받지 못합니다
SMOKE_SIZE, SMOKE_STEPS, SMOKE_OCTAVES, SMOKE_TILE = 96, 3, 2, 96
VISUALIZE_SIZE = 128


# 1. 그림 / Load the picture, in InceptionV3's range [-1, 1]
def load_picture(path, longer_side):
    try:
        with Image.open(path) as picture:
            picture = picture.convert("RGB")
            scale = longer_side / max(picture.size)
            picture = picture.resize((max(MIN_SIDE, round(picture.size[0] * scale)),
                                      max(MIN_SIDE, round(picture.size[1] * scale))), Image.Resampling.LANCZOS)
            return np.asarray(picture, dtype="float32") / 127.5 - 1  # inception_v3.preprocess_input과 같은 변환
    except (FileNotFoundError, UnidentifiedImageError, OSError) as e:
        raise data.DataError(f"cannot read {path} as a picture ({e}); give a JPEG or PNG file") from None


def to_uint8(picture):
    return ((np.clip(np.asarray(picture), -1, 1) + 1) * 127.5).astype(np.uint8)


# 2. 모델 / The network: InceptionV3 up to the chosen layers
def build_dreamer(weights, layer_names):
    """InceptionV3 without its classifier, returning the activations of `layer_names`."""
    base = keras.applications.InceptionV3(include_top=False, weights=None if weights == "none" else weights)
    known = [layer.name for layer in base.layers if layer.name.startswith("mixed")]
    unknown = [name for name in layer_names if name not in {layer.name for layer in base.layers}]
    if unknown:
        raise data.DataError(f"InceptionV3 has no layer {unknown[0]!r}; choose from {', '.join(known)}")
    outputs = [base.get_layer(name).output for name in layer_names]
    return keras.Model(base.input, outputs if len(outputs) > 1 else outputs[0], name="dreamer")


def dream_loss(activations):
    """The sum of every chosen layer's activations: what gradient ascent makes larger.

    합(sum)을 씁니다(평균이 아니라): 그러면 조각(tile)마다의 손실을 더한 것이 그림 전체의 손실과 같아집니다.
    """
    if not isinstance(activations, (list, tuple)):
        activations = [activations]
    return tf.add_n([tf.reduce_sum(a) for a in activations])


# 3. 타일로 나눈 기울기 / Gradients in tiles, with a random shift each step
def tile_edges(length, tile):
    """Edges that cut `length` into equal pieces of at most about `tile` (and at least MIN_SIDE) pixels."""
    pieces = max(1, min(math.ceil(length / tile), length // MIN_SIDE))
    return np.linspace(0, length, pieces + 1).round().astype(int)


@tf.function(reduce_retracing=True)
def piece_gradient(model, piece):
    """d(loss)/d(piece), compiled (one graph per piece size)."""
    with tf.GradientTape() as tape:
        tape.watch(piece)
        loss = dream_loss(model(piece[None], training=False))
    return tape.gradient(loss, piece)


def tiled_gradients(model, picture, tile, shift=(0, 0)):
    """d(loss)/d(picture) for a picture (h, w, 3), computed tile by tile: the tiles split the picture
    without overlap, and the loss is a sum, so the tiles' gradients add up to the picture's.

    그림을 무작위로 굴려(roll) 놓고 타일로 나누면, 타일의 경계가 매번 다른 곳에 생겨 경계의 자국이 남지 않습니다.
    기울기를 구한 뒤 다시 굴려 제자리로 돌려놓습니다.
    """
    rolled = tf.roll(picture, shift=shift, axis=(0, 1))
    ys, xs = tile_edges(rolled.shape[0], tile), tile_edges(rolled.shape[1], tile)
    rows = []
    for y0, y1 in zip(ys[:-1], ys[1:]):
        row = []
        for x0, x1 in zip(xs[:-1], xs[1:]):
            row.append(piece_gradient(model, rolled[y0:y1, x0:x1]))
        rows.append(tf.concat(row, axis=1))
    return tf.roll(tf.concat(rows, axis=0), shift=(-shift[0], -shift[1]), axis=(0, 1))


def ascent_step(model, picture, step_size, tile, rng):
    """One step uphill: the gradient scaled to unit standard deviation (so the step size means the same on
    every layer and octave), added to the picture, kept in [-1, 1]."""
    shift = tuple(int(v) for v in rng.integers(-tile // 2, tile // 2 + 1, size=2))
    gradient = tiled_gradients(model, picture, tile, shift)
    gradient /= tf.math.reduce_std(gradient) + 1e-8
    return tf.clip_by_value(picture + step_size * gradient, -1, 1)


# 4. 옥타브 / Dream at several sizes, small to large
def octave_shapes(shape, octaves, scale):
    """The (h, w) of each octave, smallest first, the last being `shape` itself."""
    return [tuple(max(MIN_SIDE, round(side * scale ** (n - octaves + 1))) for side in shape) for n in range(octaves)]


def deep_dream(model, picture, args, rng, log_dir):
    """Returns (dream, loss before, loss after, seconds per step)."""
    shapes = octave_shapes(picture.shape[:2], args.octaves, args.octave_scale)
    bar = keras.utils.Progbar(len(shapes) * args.steps, stateful_metrics=["loss"])
    writer = tb.writer(log_dir, "dream")
    current = tf.constant(picture)
    first = float(dream_loss(model(current[None], training=False)))
    step, start = 0, None
    for octave, shape in enumerate(shapes):
        current = tf.image.resize(current, shape)  # 크기를 바꿔도 앞 옥타브에서 자란 무늬는 남습니다
        for _ in range(args.steps):
            current = ascent_step(model, current, args.step_size, args.tile, rng)
            step += 1
            if step == 1:
                start = time.perf_counter()  # 첫 걸음은 그래프 준비 시간이라 빼고 잽니다
            if step % 5 == 0 or step == len(shapes) * args.steps:
                loss = float(dream_loss(model(current[None], training=False)))
                bar.update(step, values=[("loss", loss)])
                with writer.as_default():
                    tf.summary.scalar("loss", loss, step=step)
        Image.fromarray(to_uint8(current)).save(log_dir / f"octave_{octave + 1}.png")
        tb.log_image(log_dir, "dream", "picture", to_uint8(current) / 255, step=octave,
                     description=f"옥타브 {octave + 1}/{len(shapes)}: {shape[1]}x{shape[0]}")
    final = tf.image.resize(current, picture.shape[:2])
    last = float(dream_loss(model(final[None], training=False)))
    seconds = (time.perf_counter() - start) / max(step - 1, 1) if start else 0.0
    return final.numpy(), first, last, seconds


# 5. 특징 시각화 / Feature visualisation: one channel at a time, from noise
def visualize_channel(model, channel, steps, step_size, rng, size=VISUALIZE_SIZE):
    """A picture that makes `channel` of the model's (single) output layer large. Returns (picture, mean
    activation of the channel before, after)."""
    picture = tf.constant(rng.normal(0, 0.1, (size, size, 3)).astype("float32"))

    def channel_mean(p):
        return tf.reduce_mean(model(p[None], training=False)[..., channel])

    before = float(channel_mean(picture))
    for _ in range(steps):
        shift = tuple(int(v) for v in rng.integers(-8, 9, size=2))  # 작은 흔들기(jitter): 격자 무늬 대신 모양이 자랍니다
        rolled = tf.roll(picture, shift, axis=(0, 1))
        with tf.GradientTape() as tape:
            tape.watch(rolled)
            value = channel_mean(rolled)
        gradient = tf.roll(tape.gradient(value, rolled), (-shift[0], -shift[1]), axis=(0, 1))
        picture = tf.clip_by_value(picture + step_size * 5 * gradient / (tf.math.reduce_std(gradient) + 1e-8), -1, 1)
    return picture.numpy(), before, float(channel_mean(picture))


def save_grid(pictures, titles, path, log_dir, suptitle):
    plt = tb.pyplot()
    cols = min(4, len(pictures))
    rows = math.ceil(len(pictures) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 3.2 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, picture, title in zip(axes.ravel(), pictures, titles):
        ax.imshow(to_uint8(picture))
        ax.set_title(title, fontsize=9)
    fig.suptitle(suptitle)
    tb.save_figure(fig, path, log_dir=log_dir)


def main(argv=None):
    args = flags.parse(PARSER, argv)
    explicit = sys.argv[1:] if argv is None else argv
    if args.smoke:
        if not any(a.startswith("--weights") for a in explicit):
            args.weights = "none"  # --smoke: 내려받기 없이 몇 초 안에
        args.size, args.steps, args.octaves, args.tile = SMOKE_SIZE, SMOKE_STEPS, SMOKE_OCTAVES, SMOKE_TILE
    if args.size < MIN_SIDE or args.tile < MIN_SIDE or args.steps < 1 or args.octaves < 1 or args.octave_scale <= 1:
        raise data.DataError(f"--size and --tile must be at least {MIN_SIDE}, --steps and --octaves at least 1, "
                             "--octave-scale above 1")
    layer_names = [args.visualize] if args.visualize else [n.strip() for n in args.layers.split(",") if n.strip()]
    rng = np.random.default_rng(args.seed)

    if args.visualize is None:
        path = args.image
        if path is None:
            folder = Path(args.data_dir) if args.data_dir is not None else data.fetch("style_images")
            path = folder / data.REGISTRY["style_images"].files[0].filename
        picture = load_picture(path, args.size)
        print(f"Dreaming on {path} at {picture.shape[1]}x{picture.shape[0]} pixels, layers {', '.join(layer_names)}")

    runtime.setup(args)  # 장치, 시드, 실행 폴더와 config.json
    try:
        model = build_dreamer(args.weights, layer_names)
    except data.DataError:
        raise
    except Exception as e:  # 내려받기 실패는 여러 종류의 예외로 옵니다
        raise data.DataError(f"could not load InceptionV3's ImageNet weights ({type(e).__name__}: {str(e)[:150]}); "
                             "check your internet connection, or run with --weights none (offline)") from None
    if args.weights == "none":
        print("Note: --weights none: InceptionV3 has random weights; expect noise-like textures, not ImageNet's "
              "eyes and animals. Use --weights imagenet for the real thing.")

    if args.visualize is not None:
        try:
            channels = [int(c) for c in args.channels.split(",") if c.strip()]
        except ValueError:
            raise data.DataError(f"--channels must be comma-separated numbers, not {args.channels!r}") from None
        width = model.output.shape[-1]
        if not channels or min(channels) < 0 or max(channels) >= width:
            raise data.DataError(f"--channels must lie in 0..{width - 1} ({args.visualize} has {width} channels)")
        bar = keras.utils.Progbar(len(channels))
        pictures, titles, gains = [], [], []
        for i, channel in enumerate(channels):
            picture, before, after = visualize_channel(model, channel, args.steps, args.step_size, rng)
            pictures.append(picture)
            titles.append(f"{args.visualize} #{channel}\n{before:.3g} -> {after:.3g}")
            gains.append(after - before)
            bar.update(i + 1)
        save_grid(pictures, titles, args.log_dir / f"features_{args.visualize}.png", args.log_dir,
                  f"{args.visualize}의 채널을 키우는 그림 / pictures that excite single channels (mean activation before -> after)")
        print("Mean activation gain per channel: " + ", ".join(f"#{c} {g:+.3g}" for c, g in zip(channels, gains)))
        return tb.write_metrics(args.log_dir, mode="visualize", layer=args.visualize, channels=len(channels),
                                min_activation_gain=min(gains), mean_activation_gain=float(np.mean(gains)))

    dream, first, last, per_step = deep_dream(model, picture, args, rng, args.log_dir)
    print(f"Loss (summed activations) {first:.4g} -> {last:.4g}; {per_step:.3f} s per step")
    Image.fromarray(to_uint8(dream)).save(args.log_dir / "dream.png")
    save_grid([picture, dream], ["사진 / photo", "꿈 / dream"], args.log_dir / "comparison.png", args.log_dir,
              f"DeepDream: {', '.join(layer_names)}")
    return tb.write_metrics(args.log_dir, mode="dream", first_loss=first, final_loss=last, seconds_per_step=round(per_step, 4),
                            steps=args.steps * args.octaves, height=int(picture.shape[0]), width=int(picture.shape[1]))


if __name__ == "__main__":
    main()
