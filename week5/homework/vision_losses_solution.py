"""Week-5 homework, reference solution: the VAE's sampling and KL term, the Gram matrix and style loss, IoU.

요약: 과제 vision_losses.py의 모범 답안입니다. 5주차 스크립트들의 핵심 계산을 NumPy로 직접 씁니다: VAE의
재매개변수화 트릭(reparameterisation trick)과 KL 발산, 스타일 전이의 그람 행렬(Gram matrix)과 스타일 손실,
의미 분할의 IoU와 평균 IoU(mean IoU). 함수 이름과 인자는 템플릿과 같아서 채점기로 똑같이 채점할 수 있습니다.

Run:    python week5/homework/vision_losses_solution.py
Smoke:  python week5/homework/vision_losses_solution.py --smoke
Grade:  python scripts/grade_homework.py week5/homework/vision_losses_solution.py
Expect: the mean and standard deviation of 100,000 reparameterised samples against the asked-for ones, the KL of a
        few posteriors, the Gram matrix of a small feature map, the style loss between two textures and a shuffled
        copy of one, and the IoU per class and mean IoU of a drawn scene's mask against a shifted copy;
        masks.png in the run folder; seconds on a 2-core CPU, no training.
"""

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
PARSER = flags.make_parser(__file__, __doc__, data_dir=False)
PARSER.add_argument("--shift", type=int, default=2, help="pixels the 'predicted' mask is shifted by (default: %(default)s)")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import numpy as np

from common import runtime, scenes, tb

SAMPLES = 100_000


# 1. 재매개변수화 / The reparameterisation trick
def reparameterize(mean, log_var, eps):
    """z = mean + exp(log_var / 2) * eps: a sample of N(mean, exp(log_var)) written as a function of mean and log_var."""
    return np.asarray(mean, dtype="float64") + np.exp(0.5 * np.asarray(log_var, dtype="float64")) * eps


# 2. KL 발산 / KL(N(mean, exp(log_var)) || N(0, I))
def kl_divergence(mean, log_var):
    """Per row (example): -1/2 sum over the latent dimensions of (1 + log_var - mean^2 - exp(log_var)), in nats."""
    mean, log_var = np.asarray(mean, dtype="float64"), np.asarray(log_var, dtype="float64")
    return 0.5 * np.sum(mean ** 2 + np.exp(log_var) - 1 - log_var, axis=-1)  # 같은 식, 부호를 안으로


# 3. 그람 행렬 / The Gram matrix
def gram_matrix(features):
    """features (h, w, c) -> (c, c): G[i, j] = sum over the h*w positions of F[i] F[j], divided by h*w."""
    features = np.asarray(features, dtype="float64")
    flat = features.reshape(-1, features.shape[-1])  # (위치 h*w, 채널 c)
    return flat.T @ flat / flat.shape[0]


# 4. 스타일 손실 / The style loss
def style_loss(features, style_features, weights):
    """sum over layers l of weights[l] * mean((gram(features[l]) - gram(style_features[l]))^2)."""
    return float(sum(w * np.mean((gram_matrix(f) - gram_matrix(s)) ** 2)
                     for f, s, w in zip(features, style_features, weights)))


# 5. IoU
def iou(true_mask, predicted_mask, class_id):
    """|A ∩ B| / |A ∪ B| for A = the pixels whose true class is class_id and B = those predicted as class_id."""
    a = np.asarray(true_mask) == class_id
    b = np.asarray(predicted_mask) == class_id
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else float("nan")


# 6. 평균 IoU / Mean IoU
def mean_iou(true_mask, predicted_mask, num_classes):
    """The mean of iou() over the classes 0..num_classes-1 that occur in either mask (as keras.metrics.MeanIoU)."""
    values = [iou(true_mask, predicted_mask, c) for c in range(num_classes)]
    present = [v for v in values if not math.isnan(v)]
    return float(np.mean(present))


# 보여 주기 / The demonstration (이 아래는 채울 것이 없습니다 / nothing to fill in below)
def texture(kind, rng, size=16, channels=4):
    """A small made-up feature map (size, size, channels): stripes or dots, plus a little noise."""
    yy, xx = np.mgrid[0:size, 0:size]
    base = np.sin(xx * 1.2) if kind == "stripes" else (np.sin(xx * 1.5) * np.sin(yy * 1.5) > 0.6).astype(float)
    weights = rng.uniform(0.5, 1.5, channels)
    return np.maximum(0, base[..., None] * weights + rng.normal(0, 0.1, (size, size, channels)))


def save_masks(image, true_mask, predicted, path):
    plt = tb.pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.6))
    for ax, panel, title in zip(axes, (image, true_mask, predicted), ("그림 / image", "정답 / true", "예측 / predicted")):
        ax.imshow(panel, vmin=0, vmax=len(scenes.SEGMENTATION_CLASSES) - 1, cmap="tab10" if panel.ndim == 2 else None,
                  interpolation="nearest")
        ax.set_title(title)
        ax.axis("off")
    tb.save_figure(fig, path)


def main(argv=None):
    args = flags.parse(PARSER, argv)
    return demonstrate(args)


def demonstrate(args):
    rng = np.random.default_rng(args.seed)
    n = 2_000 if args.smoke else SAMPLES
    # 1. 재매개변수화: 평균 2, 분산 0.25(표준편차 0.5)에서 뽑은 z의 평균과 표준편차
    z = reparameterize(np.full(n, 2.0), np.full(n, math.log(0.25)), rng.standard_normal(n))
    print(f"Reparameterised samples of N(2, 0.5^2): mean {z.mean():.3f}, standard deviation {z.std():.3f} ({n:,} draws)")
    # 2. KL: 사전분포 그 자체, 평균만 옮긴 것, 분산만 바꾼 것
    posteriors = {"N(0, 1) (the prior itself)": (0.0, 0.0), "N(1, 1)": (1.0, 0.0), "N(0, 4)": (0.0, math.log(4))}
    for name, (m, lv) in posteriors.items():
        kl = kl_divergence(np.full((1, 16), m), np.full((1, 16), lv))[0]
        print(f"KL({name} in 16 dimensions || N(0, I)) = {kl:.3f} nats")
    # 3, 4. 그람 행렬과 스타일 손실: 같은 줄무늬를 섞어도(위치를 바꿔도) 스타일은 같습니다
    stripes, dots = texture("stripes", rng), texture("dots", rng)
    shuffled = stripes.reshape(-1, stripes.shape[-1])[rng.permutation(stripes.shape[0] * stripes.shape[1])]
    shuffled = shuffled.reshape(stripes.shape)
    print("Gram matrix of the stripes (4 channels):\n" + np.array2string(gram_matrix(stripes), precision=3))
    loss_dots = style_loss([stripes], [dots], [1.0])
    loss_shuffled = style_loss([stripes], [shuffled], [1.0])
    print(f"Style loss stripes vs dots {loss_dots:.4f}; stripes vs the same stripes shuffled {loss_shuffled:.2e} "
          "(the Gram matrix forgets where)")
    # 5, 6. IoU: 그린 장면의 마스크와, 몇 픽셀 밀린 "예측"
    image, true_mask = scenes.segmentation_scene(index=3, seed=args.seed, size=64)
    predicted = np.roll(true_mask, args.shift, axis=1)
    per_class = {name: iou(true_mask, predicted, c) for c, name in enumerate(scenes.SEGMENTATION_CLASSES)}
    miou = mean_iou(true_mask, predicted, len(scenes.SEGMENTATION_CLASSES))
    print(f"Mask shifted by {args.shift} pixels: IoU " + ", ".join(
        f"{name} {'absent' if math.isnan(v) else f'{v:.3f}'}" for name, v in per_class.items()) + f"; mean IoU {miou:.3f}")
    runtime.setup(args)  # 실행 폴더와 config.json, 시드
    save_masks(image, true_mask, predicted, args.log_dir / "masks.png")
    return tb.write_metrics(args.log_dir, sample_mean=float(z.mean()), sample_std=float(z.std()),
                            style_loss_dots=loss_dots, style_loss_shuffled=loss_shuffled, mean_iou=miou)


if __name__ == "__main__":
    main()
