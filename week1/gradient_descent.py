"""Gradient descent on a small linear regression: the cost J(θ), the update θ := θ − α∇J, and the step size α.

요약: 직접 만든 선형 회귀(linear regression)의 비용 함수(cost function) J(θ)를 경사 하강법(gradient descent)
θ := θ − α∇J로 줄입니다. 학습률(learning rate) α가 너무 작을 때, 적당할 때, 너무 클 때(발산)의 경로를 그리고
배치·미니배치·확률적 경사 하강법(batch / mini-batch / stochastic gradient descent)을 비교합니다.

Run:    python week1/gradient_descent.py
Smoke:  python week1/gradient_descent.py --smoke
Expect: in about 10 s on a 2-core CPU (most of it importing TensorFlow, used only for logging):
        the small α is still far from the minimum after 50 steps, the middle one reaches it,
        the large one (just past the limit 2/λ_max) diverges; per pass over the data,
        mini-batch and stochastic GD get much closer to the minimum than batch GD.
        Figures: alpha_paths.png (paths on the contours of J, loss curves), gd_variants.png.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # lets `import common` work from any folder

import numpy as np

from common import flags

NUM_EXAMPLES = 1000  # m, the number of (x, y) pairs
SMOKE_EXAMPLES = 200
TRUE_THETA = np.array([1.0, 2.0])  # y = θ0 + θ1 x + noise: the line the data comes from
NOISE = 0.5
THETA_START = np.array([5.0, -2.0])  # a start far from the minimum, so the paths are long enough to see
# The three step sizes, as fractions of the stability limit 2/λ_max (see alpha_limit()).
ALPHA_FRACTIONS = {"small": 0.05, "good": 0.5, "large": 1.1}
DIVERGED = 1e6  # stop a run once J is this many times its starting value: it has diverged

tf = logs = runtime = None


def parse_args(argv=None):
    # --learning-rate, --epochs and --batch-size belong to part 2 (batch vs mini-batch vs SGD).
    # α = 0.1 keeps one example's step stable (α‖x‖² < 2 for every x here), so all three use the same α.
    parser = flags.make_parser(__file__, __doc__, epochs=20, batch_size=32, learning_rate=0.1, smoke_epochs=3)
    parser.add_argument("--steps", type=int, default=50, help="steps for each α in part 1 (default: %(default)s)")
    return flags.parse(parser, argv)


def import_tensorflow():
    global tf, logs, runtime
    import tensorflow as tf

    from common import logs, runtime


# 1. 데이터 / Make the data: y = 1 + 2x + noise, x uniform in [0, 2]
def make_data(num_examples, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 2, num_examples)
    y = TRUE_THETA[0] + TRUE_THETA[1] * x + rng.normal(0, NOISE, num_examples)
    # Design matrix X with a column of ones, so h_θ(x) = θ0 + θ1 x = Xθ. x is not centred on 0,
    # which makes the contours of J long thin ellipses: the case where α matters most.
    X = np.stack([np.ones_like(x), x], axis=1)
    return X, y


# 2. 비용 함수와 기울기 / The cost J(θ) and its gradient ∇J(θ)
def cost(theta, X, y):
    """J(θ) = 1/(2m) Σ (h_θ(x) − y)², the mean squared error (halved so the gradient has no 2)."""
    residual = X @ theta - y
    return residual @ residual / (2 * len(y))


def gradient(theta, X, y):
    """∇J(θ) = (1/m) Xᵀ (Xθ − y): one partial derivative ∂J/∂θ_j per parameter."""
    return X.T @ (X @ theta - y) / len(y)


def alpha_limit(X):
    """The largest stable α: J is a quadratic whose Hessian is XᵀX/m, and gradient descent
    on a quadratic converges only when α < 2/λ_max (λ_max = its largest eigenvalue)."""
    return 2 / np.linalg.eigvalsh(X.T @ X / len(X)).max()


# 3. 경사 하강법 / Gradient descent: θ := θ − α ∇J(θ)
def gradient_descent(X, y, alpha, steps):
    """Full-batch gradient descent; returns the path of θ and the cost at each point of it."""
    theta = THETA_START.copy()
    path, losses = [theta.copy()], [cost(theta, X, y)]
    for _ in range(steps):
        theta = theta - alpha * gradient(theta, X, y)
        path.append(theta.copy())
        losses.append(cost(theta, X, y))
        if not np.isfinite(losses[-1]) or losses[-1] > DIVERGED * losses[0]:
            break  # diverged: each step overshoots the minimum by more than the last one
    return np.array(path), np.array(losses)


# 4. 배치 / 미니배치 / 확률적 경사 하강법 / Batch vs mini-batch vs stochastic gradient descent
def gradient_descent_variant(X, y, alpha, epochs, batch_size, seed):
    """Gradient descent on mini-batches of `batch_size` examples, reshuffled every epoch.

    batch_size = m is batch GD (one step per epoch), batch_size = 1 is stochastic GD
    (m noisy steps per epoch), anything in between is mini-batch GD.
    Returns (epoch as a fraction, J on all the data) after every step.
    """
    rng = np.random.default_rng(seed)
    m = len(y)
    steps_per_epoch = int(np.ceil(m / batch_size))
    theta = THETA_START.copy()
    curve = [(0.0, cost(theta, X, y))]
    for epoch in range(epochs):
        order = rng.permutation(m)
        for step in range(steps_per_epoch):
            batch = order[step * batch_size:(step + 1) * batch_size]
            theta = theta - alpha * gradient(theta, X[batch], y[batch])  # the gradient of this batch only
            curve.append((epoch + (step + 1) / steps_per_epoch, cost(theta, X, y)))
    return np.array(curve)


# 5. 그림 / Figures
def plot_alpha_runs(runs, X, y, theta_best, log_dir):
    plt = logs.pyplot()
    fig, (ax_path, ax_loss) = plt.subplots(1, 2, figsize=(13, 5.2))
    # Contours of J on a grid around the minimum; log-spaced levels show the whole bowl.
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
        path = path[:outside[0] + 1] if len(outside) else path  # a diverging path: up to where it leaves the view
        ax_path.plot(path[:, 0], path[:, 1], "o-", ms=2.5, lw=1, color=colors[name], label=label)
        ax_loss.semilogy(run["losses"], color=colors[name], label=label)
    ax_path.plot(*theta_best, "k*", ms=12, label="최소점 / minimum")
    ax_path.set(xlim=(t0.min(), t0.max()), ylim=(t1.min(), t1.max()), xlabel="θ0 (bias)", ylabel="θ1 (slope)",
                title="J(θ) 등고선 위의 경로 / paths on the contours of J")
    ax_path.legend(loc="lower left", fontsize=8)
    ax_loss.axhline(cost(theta_best, X, y), color="k", ls=":", lw=1, label="최소 비용 / minimum J")
    ax_loss.set(xlabel="step", ylabel="J(θ) (log scale)", title="학습률별 비용 / cost per step for each α")
    ax_loss.legend(fontsize=8)
    return logs.save_figure(fig, Path(log_dir) / "alpha_paths.png", log_dir=log_dir, tag="alpha_paths")


def plot_variants(curves, batch_sizes, j_min, log_dir):
    plt = logs.pyplot()
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
    return logs.save_figure(fig, Path(log_dir) / "gd_variants.png", log_dir=log_dir, tag="gd_variants")


def main(argv=None):
    args = parse_args(argv)
    import_tensorflow()
    runtime.setup(args)
    X, y = make_data(SMOKE_EXAMPLES if args.smoke else NUM_EXAMPLES, args.seed)
    steps = min(args.steps, 15) if args.smoke else args.steps
    theta_best = np.linalg.solve(X.T @ X, X.T @ y)  # the normal equations give the exact minimum to compare with
    j_min = cost(theta_best, X, y)
    limit = alpha_limit(X)
    print(f"Data: {len(y)} examples; minimum J = {j_min:.4f} at θ = {np.round(theta_best, 3)}")
    print(f"Stability limit: gradient descent diverges for α > 2/λ_max = {limit:.3f}")

    # Part 1: one problem, three step sizes.
    runs, metrics = {}, {"alpha_limit": limit, "min_loss": j_min}
    for name, fraction in ALPHA_FRACTIONS.items():
        alpha = fraction * limit
        path, losses = gradient_descent(X, y, alpha, steps)
        diverged = bool(losses[-1] > losses[0] or not np.isfinite(losses[-1]))
        runs[name] = {"alpha": alpha, "path": path, "losses": losses}
        with logs.writer(args.log_dir, f"alpha_{name}").as_default():
            for step, loss in enumerate(losses):
                tf.summary.scalar("loss", loss, step=step)
        status = f"diverged after {len(losses) - 1} steps" if diverged else f"J - min J = {losses[-1] - j_min:.2e}"
        print(f"α = {alpha:.3f} ({name}): final J = {losses[-1]:.4g}, {status}")
        metrics.update({f"alpha_{name}": alpha, f"final_loss_alpha_{name}": losses[-1],
                        f"diverged_alpha_{name}": int(diverged)})
    plot_alpha_runs(runs, X, y, theta_best, args.log_dir)

    # Part 2: the same α and number of epochs, with 1, a few, or all examples per step.
    batch_sizes = {"batch": len(y), "minibatch": args.batch_size, "sgd": 1}
    curves = {}
    for name, batch_size in batch_sizes.items():
        curve = gradient_descent_variant(X, y, args.learning_rate, args.epochs, batch_size, args.seed)
        curves[name] = curve
        with logs.writer(args.log_dir, name).as_default():
            for epoch in range(args.epochs + 1):  # J on all the data at the end of each epoch
                tf.summary.scalar("epoch_loss", curve[curve[:, 0] <= epoch][-1, 1], step=epoch)
        print(f"{name} (batch size {batch_size}): {len(curve) - 1} steps, final J = {curve[-1, 1]:.4f}")
        metrics[f"final_loss_{name}"] = curve[-1, 1]
    plot_variants(curves, batch_sizes, j_min, args.log_dir)
    return logs.write_metrics(args.log_dir, **metrics)


if __name__ == "__main__":
    main()
