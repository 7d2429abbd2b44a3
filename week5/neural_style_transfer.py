"""Neural style transfer (Gatys et al.): a picture with one photo's content and one painting's style.

요약: 학습된 CNN(VGG19)의 깊은 층 특징은 그림의 "내용(content)"을, 여러 층 특징의 그람 행렬(Gram matrix:
채널끼리의 상관)은 위치와 상관없는 "스타일(style)"을 담습니다. 모델의 가중치는 그대로 두고, 그림 자체를 변수로
놓고 경사 하강법으로 고칩니다: 내용 손실(content loss) + 스타일 손실(style loss) + 전체 변동 손실(total variation
loss, 잡음을 누르는 매끄러움)의 가중합을 줄입니다.

Run:    python week5/neural_style_transfer.py       (the paper's Tübingen photo and The Starry Night, downloaded once)
        python week5/neural_style_transfer.py --content my_photo.jpg --style my_painting.jpg --size 384
        python week5/neural_style_transfer.py --optimizer lbfgs      (L-BFGS as in the paper, through SciPy)
        python week5/neural_style_transfer.py --weights none         (offline: random VGG19 features, see below)
Smoke:  python week5/neural_style_transfer.py --smoke
Expect: a progress bar with the total, content, style and total-variation losses; TensorBoard shows the losses per
        iteration and the picture every --save-every iterations (also saved as progress/step_NNNN.png). The run
        folder gets result.png and comparison.png (content | style | result).
        --weights none needs no download: the features of an untrained VGG19 still measure textures, so the
        result mixes in the painting's colours and textures but keeps less of the photo's shapes.
        The ImageNet weights (80 MB) download into the Keras cache (~/.keras/models) on first use.
        Measured (README table, 2-core CPU): 0.348 s per iteration at the default size (a 256x192 picture) with
        --weights none; the ImageNet weights do the same computation.
"""

import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
PARSER = flags.make_parser(__file__, __doc__, learning_rate=0.02)
PARSER.add_argument("--content", type=Path, default=None,
                    help="the photo whose content to keep (default: the paper's Tübingen photo, downloaded)")
PARSER.add_argument("--style", type=Path, default=None,
                    help="the painting whose style to take (default: van Gogh's The Starry Night, downloaded)")
PARSER.add_argument("--weights", choices=("imagenet", "none"), default="imagenet",
                    help="VGG19's weights: imagenet (downloaded once) or none (random, offline) (default: %(default)s)")
PARSER.add_argument("--size", type=int, default=256,
                    help="the result's longer side in pixels; the content photo's aspect ratio is kept (default: %(default)s)")
PARSER.add_argument("--iterations", type=int, default=300, help="optimisation steps on the picture (default: %(default)s)")
PARSER.add_argument("--optimizer", choices=("adam", "lbfgs"), default="adam",
                    help="adam (TensorFlow) or lbfgs (SciPy's L-BFGS-B, as in the paper) (default: %(default)s)")
PARSER.add_argument("--content-weight", type=float, default=1e4, help="weight of the content loss (default: %(default)s)")
PARSER.add_argument("--style-weight", type=float, default=None,
                    help="weight of the style loss (default: 1e-2 with ImageNet weights, as in TensorFlow's tutorial; "
                         "1e4 with --weights none, whose random features give far smaller Gram matrices)")
PARSER.add_argument("--tv-weight", type=float, default=30.0,
                    help="weight of the total variation loss (smoothness) (default: %(default)s)")
PARSER.add_argument("--save-every", type=int, default=50,
                    help="iterations between pictures in TensorBoard and progress/ (default: %(default)s)")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
import numpy as np
import scipy.optimize
import tensorflow as tf
from PIL import Image, UnidentifiedImageError

from common import data, runtime, tb

CONTENT_LAYER = "block5_conv2"  # 깊은 층: 무엇이 어디에 있는지
# 스타일 층과 층마다의 가중치: 얕은 층은 붓 자국과 색, 깊은 층은 더 큰 무늬
STYLE_LAYERS = {"block1_conv1": 0.2, "block2_conv1": 0.2, "block3_conv1": 0.2, "block4_conv1": 0.2, "block5_conv1": 0.2}
SMOKE_SIZE, SMOKE_ITERATIONS, SMOKE_SAVE_EVERY = 64, 6, 3


# 1. 그림 / Load the content photo and the style painting
def load_picture(path, longer_side=None, shape=None):
    """A picture file -> float32 (1, h, w, 3) in [0, 1], resized so its longer side is `longer_side`
    (aspect ratio kept), or to exactly `shape` (h, w)."""
    try:
        with Image.open(path) as picture:
            picture = picture.convert("RGB")
            if shape is None:
                scale = longer_side / max(picture.size)
                shape = (max(1, round(picture.size[1] * scale)), max(1, round(picture.size[0] * scale)))
            picture = picture.resize((shape[1], shape[0]), Image.Resampling.LANCZOS)
            return np.asarray(picture, dtype="float32")[None] / 255
    except (FileNotFoundError, UnidentifiedImageError, OSError) as e:
        raise data.DataError(f"cannot read {path} as a picture ({e}); give a JPEG or PNG file") from None


def picture_paths(args):
    """(content, style): the user's files, or the defaults from the cache (--data-dir: a folder holding them)."""
    if args.content is not None and args.style is not None:
        return args.content, args.style
    folder = Path(args.data_dir) if args.data_dir is not None else data.fetch("style_images")
    defaults = [folder / remote.filename for remote in data.REGISTRY["style_images"].files]
    for path in defaults:
        if not path.exists():
            raise data.DataError(f"{path} is missing; --data-dir should hold {data.REGISTRY['style_images'].data_dir_hint}")
    return args.content or defaults[0], args.style or defaults[1]


# 2. 특징 추출기 / The feature extractor: VGG19's chosen layers, frozen
def build_extractor(weights):
    """VGG19 without its classifier, returning the style layers' and the content layer's activations.
    weights "none": random weights (the same for the same --seed)."""
    vgg = keras.applications.VGG19(include_top=False, weights=None if weights == "none" else weights)
    vgg.trainable = False  # 모델은 고치지 않습니다: 고치는 것은 그림입니다
    outputs = [vgg.get_layer(name).output for name in STYLE_LAYERS] + [vgg.get_layer(CONTENT_LAYER).output]
    return keras.Model(vgg.input, outputs, name="vgg19_features")


def features(extractor, picture):
    """(style activations list, content activation) of a picture in [0, 1]."""
    # VGG19는 0-255 범위에서 ImageNet 평균을 뺀 BGR 그림으로 학습했습니다
    outputs = extractor(keras.applications.vgg19.preprocess_input(picture * 255))
    return outputs[:-1], outputs[-1]


def gram_matrix(activation):
    """G[c, d] = sum over positions of F[c] F[d] / positions, for activations (1, h, w, channels).

    그람 행렬은 "어느 채널들이 함께 켜지는가"만 남기고 "어디에서"는 버립니다: 그래서 스타일입니다.
    """
    h, w = tf.shape(activation)[1], tf.shape(activation)[2]
    return tf.einsum("bijc,bijd->bcd", activation, activation) / tf.cast(h * w, activation.dtype)


# 3. 손실 / The losses
def style_loss(style_activations, style_targets):
    """Sum over the style layers of weight x mean squared difference of the Gram matrices."""
    return tf.add_n([weight * tf.reduce_mean(tf.square(gram_matrix(a) - target))
                     for weight, a, target in zip(STYLE_LAYERS.values(), style_activations, style_targets)])


def content_loss(content_activation, content_target):
    return tf.reduce_mean(tf.square(content_activation - content_target))


def total_variation_loss(picture):
    """The summed absolute differences of neighbouring pixels: small when the picture is smooth."""
    return tf.reduce_sum(tf.image.total_variation(tf.convert_to_tensor(picture)))


class StyleTransfer:
    """The three losses of a picture against fixed targets, and one optimisation step on the picture."""

    def __init__(self, extractor, content, style, content_weight, style_weight, tv_weight):
        self.extractor = extractor
        self.style_targets = [gram_matrix(a) for a in features(extractor, style)[0]]
        self.content_target = features(extractor, content)[1]
        self.weights = (content_weight, style_weight, tv_weight)

    def losses(self, picture):
        """(total, content, style, total variation), each already multiplied by its weight."""
        style_activations, content_activation = features(self.extractor, picture)
        content = self.weights[0] * content_loss(content_activation, self.content_target)
        style = self.weights[1] * style_loss(style_activations, self.style_targets)
        variation = self.weights[2] * total_variation_loss(picture)
        return content + style + variation, content, style, variation

    @tf.function
    def loss_and_gradient(self, picture):
        with tf.GradientTape() as tape:
            tape.watch(picture)
            losses = self.losses(picture)
        return losses, tape.gradient(losses[0], picture)

    @tf.function
    def adam_step(self, picture, optimizer):
        """One compiled step: losses, the gradient with respect to the picture's pixels, an Adam update, and
        clipping back into [0, 1]."""
        with tf.GradientTape() as tape:
            losses = self.losses(picture)
        optimizer.apply([tape.gradient(losses[0], picture)], [picture])
        picture.assign(tf.clip_by_value(picture, 0.0, 1.0))
        return losses


# 4. 최적화 / Optimise the picture, logging as it changes
def save_progress(picture, step, log_dir):
    image = np.asarray(picture)[0]
    tb.log_image(log_dir, "progress", "picture", image, step=step,
                 description="최적화 중인 그림 / the picture being optimised")
    (log_dir / "progress").mkdir(exist_ok=True)
    Image.fromarray((np.clip(image, 0, 1) * 255).astype(np.uint8)).save(log_dir / "progress" / f"step_{step:04d}.png")


def run_adam(transfer, content, iterations, learning_rate, save_every, log_dir):
    """Adam on the pixels, starting from the content photo. Returns (picture, last losses, seconds)."""
    picture = tf.Variable(content)
    # TensorFlow 튜토리얼의 설정: 큰 beta_1과 epsilon이 그림의 갱신을 부드럽게 합니다
    optimizer = keras.optimizers.Adam(learning_rate, beta_1=0.99, epsilon=0.1)
    optimizer.build([picture])
    bar = keras.utils.Progbar(iterations, stateful_metrics=["loss", "content", "style", "tv"])
    writer = tb.writer(log_dir, "losses")
    losses, start = None, None
    for step in range(1, iterations + 1):
        losses = [float(v) for v in transfer.adam_step(picture, optimizer)]
        if step == 1:
            start = time.perf_counter()  # 첫 걸음은 그래프를 만드는(tracing) 시간이라 빼고 잽니다
        if not math.isfinite(losses[0]):
            tb.stop_on_nan(losses[0], f"iteration {step}", log_dir)
        log_losses(writer, losses, step)
        bar.update(step, values=list(zip(("loss", "content", "style", "tv"), losses)))
        if step % save_every == 0 or step == iterations:
            save_progress(picture, step, log_dir)
    seconds = time.perf_counter() - start
    return picture.numpy(), losses, seconds / max(iterations - 1, 1)


def run_lbfgs(transfer, content, iterations, save_every, log_dir):
    """SciPy's L-BFGS-B on the pixels (bounded to [0, 1]), TensorFlow giving the loss and its gradient."""
    shape = content.shape
    bar = keras.utils.Progbar(iterations, stateful_metrics=["loss", "content", "style", "tv"])
    writer = tb.writer(log_dir, "losses")
    state = {"step": 0, "losses": None, "start": None}

    def value_and_gradient(flat):
        losses, gradient = transfer.loss_and_gradient(tf.constant(flat.reshape(shape), tf.float32))
        state["losses"] = [float(v) for v in losses]
        return state["losses"][0], gradient.numpy().astype("float64").ravel()

    def after_step(flat):
        state["step"] += 1
        step, losses = state["step"], state["losses"]
        if step == 1:
            state["start"] = time.perf_counter()
        if not math.isfinite(losses[0]):
            tb.stop_on_nan(losses[0], f"iteration {step}", log_dir)
        log_losses(writer, losses, step)
        bar.update(step, values=list(zip(("loss", "content", "style", "tv"), losses)))
        if step % save_every == 0:
            save_progress(flat.reshape(shape), step, log_dir)

    result = scipy.optimize.minimize(value_and_gradient, content.ravel().astype("float64"), jac=True,
                                     method="L-BFGS-B", bounds=[(0.0, 1.0)] * content.size, callback=after_step,
                                     options={"maxiter": iterations})
    picture = result.x.reshape(shape).astype("float32")
    save_progress(picture, state["step"], log_dir)
    seconds = time.perf_counter() - (state["start"] or time.perf_counter())
    return picture, state["losses"], seconds / max(state["step"] - 1, 1)


def log_losses(writer, losses, step):
    with writer.as_default():
        for name, value in zip(("total", "content", "style", "total_variation"), losses):
            tf.summary.scalar(name, value, step=step)


# 5. 그림 / Figures
def save_comparison(content, style, result, path, log_dir):
    plt = tb.pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 5))
    for ax, image, title in zip(axes, (content, style, result), ("내용 / content", "스타일 / style", "결과 / result")):
        ax.imshow(np.clip(image[0], 0, 1))
        ax.set_title(title)
        ax.axis("off")
    tb.save_figure(fig, path, log_dir=log_dir)


def main(argv=None):
    args = flags.parse(PARSER, argv)
    explicit = sys.argv[1:] if argv is None else argv
    if args.smoke and not any(a.startswith("--weights") for a in explicit):
        args.weights = "none"  # --smoke: 내려받기 없이 몇 초 안에
    if args.style_weight is None:
        args.style_weight = 1e-2 if args.weights == "imagenet" else 1e4
    size = SMOKE_SIZE if args.smoke else args.size
    iterations = SMOKE_ITERATIONS if args.smoke else args.iterations
    save_every = SMOKE_SAVE_EVERY if args.smoke else args.save_every
    if size < 32 or iterations < 1 or save_every < 1:
        raise data.DataError("--size must be at least 32, --iterations and --save-every at least 1")
    content_path, style_path = picture_paths(args)
    content = load_picture(content_path, longer_side=size)
    style = load_picture(style_path, shape=content.shape[1:3])  # 스타일 그림은 결과와 같은 크기로
    print(f"Content {content_path} and style {style_path} at {content.shape[2]}x{content.shape[1]} pixels")

    runtime.setup(args)  # 장치, 시드, 실행 폴더와 config.json
    try:
        extractor = build_extractor(args.weights)
    except Exception as e:  # 내려받기 실패는 여러 종류의 예외로 옵니다
        raise data.DataError(f"could not load VGG19's ImageNet weights ({type(e).__name__}: {str(e)[:150]}); check "
                             "your internet connection, or run with --weights none (random features, offline)") from None
    if args.weights == "none":
        print("Note: --weights none: VGG19 has random weights, so the features are not ImageNet's; the result "
              "takes colours and textures but less of the photo's structure. Use --weights imagenet for the real thing.")
    transfer = StyleTransfer(extractor, tf.constant(content), tf.constant(style), args.content_weight,
                             args.style_weight, args.tv_weight)
    first = [float(v) for v in transfer.losses(tf.constant(content))]
    print(f"Start (the content photo itself): loss {first[0]:.4g} (content {first[1]:.4g}, style {first[2]:.4g}, "
          f"total variation {first[3]:.4g})")
    if args.optimizer == "adam":
        result, last, per_iteration = run_adam(transfer, content, iterations, args.learning_rate, save_every, args.log_dir)
    else:
        result, last, per_iteration = run_lbfgs(transfer, content, iterations, save_every, args.log_dir)
    print(f"End: loss {last[0]:.4g} (content {last[1]:.4g}, style {last[2]:.4g}, total variation {last[3]:.4g}); "
          f"{per_iteration:.3f} s per iteration")

    Image.fromarray((np.clip(result[0], 0, 1) * 255).astype(np.uint8)).save(args.log_dir / "result.png")
    save_comparison(content, style, result, args.log_dir / "comparison.png", args.log_dir)
    return tb.write_metrics(
        args.log_dir, seconds_per_iteration=round(per_iteration, 4), iterations=iterations, first_loss=first[0],
        final_loss=last[0], final_content_loss=last[1], final_style_loss=last[2], final_tv_loss=last[3],
        height=int(content.shape[1]), width=int(content.shape[2]), weights=args.weights, optimizer=args.optimizer,
    )


if __name__ == "__main__":
    main()
