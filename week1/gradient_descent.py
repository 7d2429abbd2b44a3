"""Gradient descent on a small linear regression: the cost J(θ), the update θ := θ − α∇J, and the step size α.

요약: 직접 만든 선형 회귀(linear regression)의 비용 함수(cost function) J(θ)를 경사 하강법(gradient descent)
θ := θ − α∇J로 줄입니다. 학습률(learning rate) α가 너무 작을 때, 적당할 때, 너무 클 때(발산)의 경로를 그리고
배치·미니배치·확률적 경사 하강법(batch / mini-batch / stochastic gradient descent)을 비교합니다.

Run:    python week1/gradient_descent.py
Smoke:  python week1/gradient_descent.py --smoke
Expect: the middle α ends at J 0.1295 (minimum 0.1281) after 50 steps, the small one at 1.38, the large one
        (1.1 × 2/λ_max) diverges; after 20 epochs batch GD is at J 1.50, mini-batch and SGD at 0.128-0.129.
        About 7 s on a 2-core CPU, mostly importing TensorFlow (results/week1_gradient_descent.json).
        Figures: alpha_paths.png (paths on the contours of J, cost per step), gd_variants.png.
"""

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
# --learning-rate, --epochs, --batch-size는 2부(배치 vs 미니배치 vs SGD)에 씁니다. α = 0.1이면 예제 하나로
# 움직여도 안정합니다(여기서는 모든 x에 대해 α‖x‖² ≤ 0.1 × 5 < 2): 그래서 세 방법이 같은 α를 씁니다.
PARSER = flags.make_parser(__file__, __doc__, epochs=20, batch_size=32, learning_rate=0.1, smoke_epochs=3)
PARSER.add_argument("--steps", type=int, default=50, help="steps for each α in part 1 (default: %(default)s)")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import numpy as np
import tensorflow as tf  # TensorBoard 기록에만 씁니다: 경사 하강법 자체는 NumPy로 씁니다

from common import runtime, tb

NUM_EXAMPLES = 1000  # m: (x, y) 쌍의 개수
SMOKE_EXAMPLES, SMOKE_STEPS = 200, 15
TRUE_THETA = np.array([1.0, 2.0])  # y = θ0 + θ1 x + 잡음: 데이터를 만든 직선
NOISE = 0.5
THETA_START = np.array([5.0, -2.0])  # 최소점에서 먼 출발점: 경로가 길어서 눈에 보입니다
# 세 학습률은 안정 한계 2/λ_max(alpha_limit() 참고)에 대한 비율로 정합니다.
ALPHA_FRACTIONS = {"small": 0.05, "good": 0.5, "large": 1.1}
DIVERGED = 1e6  # J가 처음 값의 이만큼 배가 되면 발산한 것으로 보고 멈춥니다 (그림이 무한대로 가지 않도록)


# 1. 데이터 / Make the data: y = 1 + 2x + noise, x uniform in [0, 2]
def make_data(num_examples=NUM_EXAMPLES, seed=42):
    """Returns the design matrix X (m, 2), whose first column is all ones, and the targets y (m,)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 2, num_examples)
    y = TRUE_THETA[0] + TRUE_THETA[1] * x + rng.normal(0, NOISE, num_examples)
    # 1로 된 열을 붙이면 h_θ(x) = θ0 + θ1 x = Xθ. x가 0을 중심으로 놓이지 않아서 J의 등고선이
    # 가늘고 긴 타원이 됩니다: 학습률이 가장 중요해지는 경우입니다.
    X = np.stack([np.ones_like(x), x], axis=1)
    return X, y


# 2. 비용 함수와 기울기 / The cost J(θ) and its gradient ∇J(θ)
def cost(theta, X, y):
    """J(θ) = 1/(2m) Σ (h_θ(x) − y)², the mean squared error halved (so the gradient has no factor 2)."""
    residual = X @ theta - y
    return residual @ residual / (2 * len(y))


def gradient(theta, X, y):
    """∇J(θ) = (1/m) Xᵀ (Xθ − y): one partial derivative ∂J/∂θ_j per parameter."""
    return X.T @ (X @ theta - y) / len(y)


def alpha_limit(X):
    """The largest stable α, 2/λ_max.

    J is a quadratic whose Hessian is XᵀX/m; gradient descent on a quadratic converges
    only when α < 2/λ_max, λ_max being the Hessian's largest eigenvalue.
    """
    return 2 / np.linalg.eigvalsh(X.T @ X / len(X)).max()


# 3. 경사 하강법 / Gradient descent: θ := θ − α ∇J(θ)
def gradient_descent(X, y, alpha, steps, theta_start=THETA_START):
    """Full-batch gradient descent; returns the path of θ (steps + 1, 2) and the cost at each point of it."""
    theta = np.array(theta_start, dtype=float)
    path, losses = [theta.copy()], [cost(theta, X, y)]
    for _ in range(steps):
        theta = theta - alpha * gradient(theta, X, y)
        path.append(theta.copy())
        losses.append(cost(theta, X, y))
        # 큰 α는 일부러 발산시키는 예입니다: NaN에서 실행을 끝내지(tb.stop_on_nan) 않고 경로만 멈춥니다.
        if not math.isfinite(losses[-1]) or losses[-1] > DIVERGED * losses[0]:
            break  # 발산: 한 걸음마다 최소점을 지난번보다 더 멀리 지나칩니다
    return np.array(path), np.array(losses)


# 4. 배치 / 미니배치 / 확률적 경사 하강법 / Batch vs mini-batch vs stochastic gradient descent
def gradient_descent_variant(X, y, alpha, epochs, batch_size, seed=42, theta_start=THETA_START):
    """Gradient descent on mini-batches of `batch_size` examples, reshuffled every epoch.

    batch_size = m is batch GD (one step per epoch), batch_size = 1 is stochastic GD
    (m steps per epoch), anything in between is mini-batch GD.
    Returns an array of (epoch as a fraction, J on all the data), one row per step plus the start.
    """
    rng = np.random.default_rng(seed)
    m = len(y)
    steps_per_epoch = math.ceil(m / batch_size)
    theta = np.array(theta_start, dtype=float)
    curve = [(0.0, cost(theta, X, y))]
    for epoch in range(epochs):
        order = rng.permutation(m)
        for step in range(steps_per_epoch):
            batch = order[step * batch_size:(step + 1) * batch_size]
            theta = theta - alpha * gradient(theta, X[batch], y[batch])  # 이 배치만의 기울기: 전체 기울기의 어림값
            curve.append((epoch + (step + 1) / steps_per_epoch, cost(theta, X, y)))
    return np.array(curve)


# 5. 그림 / Figures
def plot_alpha_runs(runs, X, y, theta_best, log_dir):
    """Left: the paths of θ on the contours of J; right: J per step, one line per α."""
    plt = tb.pyplot()
    fig, (ax_path, ax_loss) = plt.subplots(1, 2, figsize=(13, 5.2))
    # 최소점 둘레 격자 위의 J 등고선: 로그 간격의 높이로 그릇 전체가 보이게 합니다.
    span = np.abs(THETA_START - theta_best).max() * 1.3
    t0, t1 = np.meshgrid(np.linspace(theta_best[0] - span, theta_best[0] + span, 200),
                         np.linspace(theta_best[1] - span, theta_best[1] + span, 200))
    grid = np.stack([t0.ravel(), t1.ravel()], axis=1)
    J = (((grid @ X.T) - y) ** 2).mean(axis=1).reshape(t0.shape) / 2
    levels = np.geomspace(J.min() + 1e-3, J.max(), 15)
    ax_path.contour(t0, t1, J, levels=levels, cmap="viridis", linewidths=0.8)
    colors = {"small": "tab:blue", "good": "tab:green", "large": "tab:red"}
    for name, run in runs.items():
        label = f"α = {run['alpha']:.3f} ({name})"
        path = run["path"]
        outside = np.flatnonzero(np.abs(path - theta_best).max(axis=1) > span)
        path = path[:outside[0] + 1] if len(outside) else path  # 발산하는 경로는 그림 밖으로 나가는 곳까지만
        ax_path.plot(path[:, 0], path[:, 1], "o-", ms=2.5, lw=1, color=colors[name], label=label)
        ax_loss.semilogy(run["losses"], color=colors[name], label=label)
    ax_path.plot(*theta_best, "k*", ms=12, label="최소점 / minimum")
    ax_path.set(xlim=(t0.min(), t0.max()), ylim=(t1.min(), t1.max()), xlabel="θ0 (bias)", ylabel="θ1 (slope)",
                title="J(θ) 등고선 위의 경로 / paths on the contours of J")
    ax_path.legend(loc="lower left", fontsize=8)
    ax_loss.axhline(cost(theta_best, X, y), color="k", ls=":", lw=1, label="최소 비용 / minimum J")
    ax_loss.set(xlabel="step", ylabel="J(θ) (log scale)", title="학습률별 비용 / cost per step for each α")
    ax_loss.legend(fontsize=8)
    return tb.save_figure(fig, Path(log_dir) / "alpha_paths.png", log_dir=log_dir, tag="alpha_paths")


def plot_variants(curves, batch_sizes, j_min, log_dir):
    """J on all the data against epochs (left) and against the number of updates (right)."""
    plt = tb.pyplot()
    fig, (ax_epoch, ax_step) = plt.subplots(1, 2, figsize=(13, 4.8))
    for name, curve in curves.items():
        style = {"lw": 0.8, "alpha": 0.8} if name == "sgd" else {"lw": 1.8}
        label = f"{name} (batch size {batch_sizes[name]})"
        ax_epoch.semilogy(curve[:, 0], curve[:, 1], label=label, **style)
        ax_step.loglog(np.arange(1, len(curve)), curve[1:, 1], label=label, **style)
    for ax in (ax_epoch, ax_step):
        ax.axhline(j_min, color="k", ls=":", lw=1, label="최소 비용 / minimum J")
        ax.set_ylabel("J(θ) on all the data (log scale)")
        ax.legend(fontsize=8)
    ax_epoch.set(xlabel="epoch (passes over the data)", title="에포크당 / per pass over the data")
    ax_step.set(xlabel="parameter updates (log scale)", title="갱신 횟수당 / per update")
    fig.suptitle("배치 vs 미니배치 vs 확률적 경사 하강법 / batch vs mini-batch vs stochastic GD")
    return tb.save_figure(fig, Path(log_dir) / "gd_variants.png", log_dir=log_dir, tag="gd_variants")


def main(argv=None):
    args = flags.parse(PARSER, argv)
    if args.steps < 1:
        PARSER.error("--steps must be at least 1")
    X, y = make_data(SMOKE_EXAMPLES if args.smoke else NUM_EXAMPLES, args.seed)
    runtime.setup(args)
    steps = min(args.steps, SMOKE_STEPS) if args.smoke else args.steps
    theta_best = np.linalg.solve(X.T @ X, X.T @ y)  # 정규 방정식(normal equations): 비교할 정확한 최소점
    j_min = cost(theta_best, X, y)
    limit = alpha_limit(X)
    print(f"Data: {len(y)} examples; minimum J = {j_min:.4f} at θ = {np.round(theta_best, 3)}")
    print(f"Stability limit: gradient descent diverges for α > 2/λ_max = {limit:.3f}")

    # 1부: 한 문제, 세 학습률 / Part 1: one problem, three step sizes
    runs, metrics = {}, {"alpha_limit": limit, "min_loss": j_min}
    for name, fraction in ALPHA_FRACTIONS.items():
        alpha = fraction * limit
        path, losses = gradient_descent(X, y, alpha, steps)
        diverged = bool(losses[-1] > losses[0] or not math.isfinite(losses[-1]))
        runs[name] = {"alpha": alpha, "path": path, "losses": losses}
        with tb.writer(args.log_dir, f"alpha_{name}").as_default():
            for step, loss in enumerate(losses):
                tf.summary.scalar("loss", loss, step=step)
        status = f"diverged after {len(losses) - 1} steps" if diverged else f"J - min J = {losses[-1] - j_min:.2e}"
        print(f"α = {alpha:.3f} ({name}): final J = {losses[-1]:.4g}, {status}")
        metrics.update({f"alpha_{name}": alpha, f"final_loss_alpha_{name}": losses[-1],
                        f"diverged_alpha_{name}": int(diverged)})
    plot_alpha_runs(runs, X, y, theta_best, args.log_dir)

    # 2부: 같은 α, 같은 에포크 수로 한 번에 예제 1개, 몇 개, 전부 / Part 2: 1, a few or all examples per step
    batch_sizes = {"batch": len(y), "minibatch": args.batch_size, "sgd": 1}
    curves = {}
    for name, batch_size in batch_sizes.items():
        curve = gradient_descent_variant(X, y, args.learning_rate, args.epochs, batch_size, args.seed)
        curves[name] = curve
        with tb.writer(args.log_dir, name).as_default():
            for epoch in range(args.epochs + 1):  # 각 에포크 끝에서 전체 데이터의 J
                tf.summary.scalar("epoch_loss", curve[curve[:, 0] <= epoch][-1, 1], step=epoch)
        print(f"{name} (batch size {batch_size}): {len(curve) - 1} steps, final J = {curve[-1, 1]:.4f}")
        metrics[f"final_loss_{name}"] = curve[-1, 1]
    plot_variants(curves, batch_sizes, j_min, args.log_dir)
    return tb.write_metrics(args.log_dir, **metrics)


if __name__ == "__main__":
    main()
