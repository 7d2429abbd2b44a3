"""Week-5 homework (template): the VAE's sampling and KL term, the Gram matrix and style loss, IoU and mean IoU.

요약: 5주차 과제입니다. 5주차 스크립트들의 핵심 계산을 NumPy로 직접 씁니다: VAE의 재매개변수화 트릭
(reparameterisation trick, TODO 1)과 KL 발산(TODO 2), 스타일 전이의 그람 행렬(Gram matrix, TODO 3)과 스타일
손실(TODO 4), 의미 분할의 IoU(TODO 5)와 평균 IoU(mean IoU, TODO 6). 채우지 않은 TODO가 있으면 스크립트는 그
번호를 알려 주고 멈춥니다.

Run:    python week5/homework/vision_losses.py
Smoke:  python week5/homework/vision_losses.py --smoke
Grade:  python scripts/grade_homework.py week5/homework/vision_losses.py
Expect: until TODO 1 is filled: "TODO 1 (reparameterize) is not done yet: ...". Once all six are filled: the mean and standard deviation of 100,000 reparameterised samples against the asked-for ones, the KL of a
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


class TodoNotDone(NotImplementedError):
    """Raised by a TODO block that is still empty; main() turns it into a one-line message."""


def todo(number, name):
    """채운 TODO 블록에서는 이 `todo(...)` 줄을 지우세요. / Delete the `todo(...)` line of a block you have filled."""
    raise TodoNotDone(
        f"TODO {number} ({name}) is not done yet: write the TODO {number} block of {Path(__file__).name} "
        "and delete its todo(...) line"
    )


# 채점기(scripts/grade_homework.py)가 아래 여섯 함수를 직접 부릅니다: 이름과 인자를 바꾸지 마세요.
# The grader calls the six functions below: keep their names and arguments.


# 1. 재매개변수화 / The reparameterisation trick
def reparameterize(mean, log_var, eps):
    """z = mean + exp(log_var / 2) * eps: a sample of N(mean, exp(log_var)) written as a function of mean and log_var."""
    # ===== TODO 1: 재매개변수화 트릭 / The reparameterisation trick ===================================
    # 인코더는 평균(mean)과 로그 분산(log_var = ln σ²)을 냅니다. 표준정규분포에서 뽑아 둔 잡음 eps로
    # z = mean + σ * eps 를 돌려주세요. σ(표준편차)는 exp(log_var / 2) 입니다.
    # Return z = mean + sigma * eps with sigma = exp(log_var / 2) (the standard deviation, not the variance).
    #   - 분산 exp(log_var)를 곱하거나, log_var를 그대로 곱하면 틀립니다 (채점기가 확인합니다).
    #   - 이렇게 쓰면 무작위성은 eps에만 있고, z는 mean과 log_var의 미분 가능한 함수입니다: 기울기가 흐릅니다.
    #   - 배열(예: (배치, 잠재 차원))이 들어와도 원소마다 계산됩니다. week5/vae_mnist.py의 Sampling 층과 같습니다.
    # 힌트 / Hint: np.exp(0.5 * np.asarray(log_var))
    todo(1, "reparameterize")
    # ===== end of TODO 1 =========================================================================


# 2. KL 발산 / KL(N(mean, exp(log_var)) || N(0, I))
def kl_divergence(mean, log_var):
    """Per row (example): -1/2 sum over the latent dimensions of (1 + log_var - mean^2 - exp(log_var)), in nats."""
    # ===== TODO 2: KL 발산 / The KL term =========================================================
    # 인코더의 분포 N(mean, exp(log_var))가 사전분포 N(0, I)와 얼마나 다른지, 닫힌 꼴(closed form)로:
    #   KL = -1/2 * sum over latent dimensions of (1 + log_var - mean^2 - exp(log_var))
    # 행(예제)마다 하나씩, 마지막 축을 따라 **합**해 (배치,) 모양으로 돌려주세요. Sum over the last axis, one
    # value per row (example).
    #   - KL은 0 이상입니다: 음수가 나오면 부호를 확인하세요. 사전분포 자신(mean 0, log_var 0)이면 정확히 0.
    #   - 차원마다 평균(mean)이 아니라 합(sum)입니다. log_var는 로그 분산이지 분산이 아닙니다.
    # week5/vae_mnist.py의 kl_nats와 같습니다.
    todo(2, "kl_divergence")
    # ===== end of TODO 2 =========================================================================


# 3. 그람 행렬 / The Gram matrix
def gram_matrix(features):
    """features (h, w, c) -> (c, c): G[i, j] = sum over the h*w positions of F[i] F[j], divided by h*w."""
    # ===== TODO 3: 그람 행렬 / The Gram matrix ===================================================
    # 특징 맵 features (h, w, c)를 위치 h*w개 x 채널 c개의 행렬 F로 펴고(reshape), G = F^T F / (h*w)를
    # (c, c) 모양으로 돌려주세요. G[i, j]는 "채널 i와 j가 같은 위치에서 함께 켜지는 정도"입니다: 어디에서는 버립니다.
    # Flatten to F (h*w positions, c channels) and return F^T F / (h*w), shape (c, c).
    #   - F F^T (h*w, h*w)가 아니라 F^T F (c, c)입니다. 위치 수 h*w로 나눕니다 (c로 나누지 않습니다).
    # 힌트 / Hint: flat = np.asarray(features, dtype=float).reshape(-1, features.shape[-1])
    todo(3, "gram_matrix")
    # ===== end of TODO 3 =========================================================================


# 4. 스타일 손실 / The style loss
def style_loss(features, style_features, weights):
    """sum over layers l of weights[l] * mean((gram(features[l]) - gram(style_features[l]))^2)."""
    # ===== TODO 4: 스타일 손실 / The style loss ===================================================
    # 층(layer)마다 결과 그림의 특징 features[l]과 스타일 그림의 특징 style_features[l]의 그람 행렬(TODO 3)을 구해,
    # 두 행렬 차이의 제곱의 **평균**에 그 층의 가중치 weights[l]을 곱하고, 층들에 걸쳐 더해 float 하나로 돌려주세요.
    # For each layer: weights[l] * mean((gram(features[l]) - gram(style_features[l])) ** 2); return the sum.
    #   - 특징 자체를 비교하면 내용 손실(content loss)이 됩니다: 스타일은 위치를 섞어도 같아야 합니다
    #     (채점기는 위치를 뒤섞은 같은 특징과의 손실이 0인지 봅니다).
    # week5/neural_style_transfer.py의 style_loss와 같습니다.
    todo(4, "style_loss")
    # ===== end of TODO 4 =========================================================================


# 5. IoU
def iou(true_mask, predicted_mask, class_id):
    """|A ∩ B| / |A ∪ B| for A = the pixels whose true class is class_id and B = those predicted as class_id."""
    # ===== TODO 5: IoU (교집합 / 합집합) / Intersection over union ================================
    # A = 정답이 class_id인 픽셀, B = class_id로 예측한 픽셀 (불리언 마스크). |A ∩ B| / |A ∪ B|를 float로 돌려주세요.
    # Return |A and B| / |A or B| as a float, A and B the boolean masks of class_id in the true and predicted masks.
    #   - 합집합은 |A| + |B| - |A ∩ B|입니다. |A| + |B|를 그대로 쓰면 겹친 곳을 두 번 셉니다 (채점기가 확인합니다).
    #   - 2|A ∩ B| / (|A| + |B|)는 Dice이지 IoU가 아닙니다 (Dice = 2 IoU / (1 + IoU)).
    #   - 두 마스크 어디에도 그 클래스가 없으면(합집합 0) float("nan")을 돌려주세요: 잴 것이 없습니다.
    # 힌트 / Hint: np.logical_and(a, b).sum(), np.logical_or(a, b).sum()
    todo(5, "iou")
    # ===== end of TODO 5 =========================================================================


# 6. 평균 IoU / Mean IoU
def mean_iou(true_mask, predicted_mask, num_classes):
    """The mean of iou() over the classes 0..num_classes-1 that occur in either mask (as keras.metrics.MeanIoU)."""
    # ===== TODO 6: 평균 IoU / Mean IoU =========================================================
    # 클래스 0..num_classes-1 각각의 IoU(TODO 5)를 구해, 두 마스크 어디에든 나오는 클래스들의 평균을 float로
    # 돌려주세요 (nan인 클래스, 곧 어디에도 없는 클래스는 뺍니다: keras.metrics.MeanIoU와 같은 규칙).
    # Average iou() over the classes that occur in either mask (leave out the nan ones, as keras.metrics.MeanIoU does).
    #   - 없는 클래스를 0으로 넣어 평균하면 점수가 부당하게 낮아집니다 (채점기가 확인합니다).
    # 힌트 / Hint: math.isnan(v)
    todo(6, "mean_iou")
    # ===== end of TODO 6 =========================================================================


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
    try:
        return demonstrate(args)
    except TodoNotDone as e:
        raise SystemExit(str(e)) from None  # 한 줄 메시지와 종료 코드 1, 트레이스백 없이


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
