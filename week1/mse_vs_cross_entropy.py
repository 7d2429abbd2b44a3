"""MSE vs cross-entropy: one saturated sigmoid neuron learns slowly with squared error and fast with cross-entropy.

요약: 슬라이드 부록 B의 실험입니다. 시그모이드 뉴런 하나를 포화(saturation) 상태, 즉 큰 가중치로
틀린 답(출력 ≈ 0.98, 정답 0)을 내는 상태에서 출발시켜 평균 제곱 오차(MSE)와 교차 엔트로피(cross-entropy)로
각각 학습합니다. MSE의 기울기에는 σ'(z)가 곱해져 거의 0이 되고, 교차 엔트로피에서는 σ'(z)가 약분됩니다.

Run:    python week1/mse_vs_cross_entropy.py
Smoke:  python week1/mse_vs_cross_entropy.py --smoke
Expect: with α = 0.15 the output gets within 0.1 of the target after 50 steps with cross-entropy and
        469 steps with MSE; about 6 s on a 2-core CPU, mostly importing TensorFlow
        (results/week1_mse_vs_cross_entropy.json).
        Figure: mse_vs_cross_entropy.png (cost, output a, and |∂C/∂b| per step).
"""

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
# 예제가 하나라서 에포크 하나가 경사 하강법 한 스텝입니다. α = 0.15, w = b = 2는 슬라이드(Nielsen)의 값입니다.
PARSER = flags.make_parser(__file__, __doc__, epochs=600, batch_size=1, learning_rate=0.15, smoke_epochs=100)
PARSER.add_argument("--w0", type=float, default=2.0, help="starting weight (default: %(default)s)")
PARSER.add_argument("--b0", type=float, default=2.0, help="starting bias (default: %(default)s)")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import numpy as np
import tensorflow as tf

from common import runtime, tb

X_INPUT, TARGET = 1.0, 0.0  # 학습 예제 하나: 입력 1, 원하는 출력 0
TOLERANCE = 0.1  # |a − y| < 0.1이 되면 "배웠다"고 봅니다


# 1. 두 비용 함수 / The two costs, for the neuron's output a = σ(z), z = w x + b, and the target y
def mse(a, y):
    """C = (a − y)² / 2, so ∂C/∂b = (a − y) σ'(z): the gradient carries σ'(z)."""
    return 0.5 * (a - y) ** 2


def cross_entropy(a, y):
    """C = −[y ln a + (1 − y) ln(1 − a)], so ∂C/∂b = a − y: σ'(z) cancels."""
    return -(y * tf.math.log(a) + (1 - y) * tf.math.log(1 - a))


LOSSES = {"mse": mse, "cross_entropy": cross_entropy}


# 2. 학습 / Train the neuron by gradient descent; tf.GradientTape finds ∂C/∂w and ∂C/∂b
def train(loss_fn, w0=2.0, b0=2.0, learning_rate=0.15, steps=600, log_dir=None):
    """Returns {"z", "output", "loss", "grad_b"}: one value per step, taken before that step's update."""
    w = tf.Variable(w0, dtype=tf.float32, name="w")
    b = tf.Variable(b0, dtype=tf.float32, name="b")
    learning_rate = tf.constant(learning_rate, dtype=tf.float32)

    @tf.function
    def train_step():
        with tf.GradientTape() as tape:
            z = w * X_INPUT + b
            a = tf.sigmoid(z)
            cost = loss_fn(a, TARGET)
        dw, db = tape.gradient(cost, [w, b])
        w.assign_sub(learning_rate * dw)
        b.assign_sub(learning_rate * db)
        return z, a, cost, db

    history = {"z": [], "output": [], "loss": [], "grad_b": []}
    for step in range(steps):
        for key, value in zip(history, train_step()):
            history[key].append(float(value))
        if not math.isfinite(history["loss"][-1]):  # float32에서 a가 정확히 1이 되면 ln(1 − a) = −∞
            tb.stop_on_nan(history["loss"][-1], f"step {step + 1}", log_dir)
    return {key: np.array(values) for key, values in history.items()}


def steps_to_target(outputs):
    """The first step at which |a − y| < TOLERANCE, or None if it never gets there."""
    reached = np.flatnonzero(np.abs(outputs - TARGET) < TOLERANCE)
    return int(reached[0]) if len(reached) else None


# 3. 그림 / Cost, output and gradient per step
def plot(histories, hits, log_dir):
    """Three panels: the cost, the output a, and |∂C/∂b| per step, one line per cost function."""
    plt = tb.pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    colors = {"mse": "tab:orange", "cross_entropy": "tab:blue"}
    for name, history in histories.items():
        hit = f"{hits[name]} steps" if hits[name] is not None else "not reached"
        label = f"{name} (|a − y| < {TOLERANCE}: {hit})"
        axes[0].plot(history["loss"], color=colors[name], label=label)
        axes[1].plot(history["output"], color=colors[name], label=label)
        axes[2].semilogy(np.abs(history["grad_b"]), color=colors[name], label=label)
        if hits[name] is not None:
            axes[1].axvline(hits[name], color=colors[name], ls=":", lw=1)
    axes[1].axhline(TARGET + TOLERANCE, color="k", ls="--", lw=1, label=f"y + {TOLERANCE}")
    axes[0].set(xlabel="step", ylabel="cost C", title="비용 / cost")
    axes[1].set(xlabel="step", ylabel="output a = σ(wx + b)", ylim=(-0.02, 1.02),
                title=f"출력 (목표 y = {TARGET:g}) / output")
    axes[2].set(xlabel="step", ylabel="|∂C/∂b| (log scale)", title="기울기 크기 / gradient size: MSE carries σ'(z)")
    for ax in axes:
        ax.legend(fontsize=8)
    fig.suptitle("포화된 시그모이드 뉴런: MSE vs 교차 엔트로피 / a saturated sigmoid neuron: MSE vs cross-entropy")
    tb.save_figure(fig, Path(log_dir) / "mse_vs_cross_entropy.png", log_dir=log_dir)


def main(argv=None):
    args = flags.parse(PARSER, argv)
    runtime.setup(args)
    steps = args.epochs  # 예제 하나: 에포크 하나가 스텝 하나

    z0 = args.w0 * X_INPUT + args.b0
    a0 = float(1 / (1 + np.exp(-z0)))
    print(f"Start: w = {args.w0}, b = {args.b0}, z = {z0:.2f}, a = σ(z) = {a0:.4f}, target y = {TARGET:g}")
    print(f"  σ'(z) = a(1 − a) = {a0 * (1 - a0):.4f}: the factor the MSE gradient carries and cross-entropy does not")

    histories, hits, metrics = {}, {}, {"initial_output": a0, "initial_sigmoid_derivative": a0 * (1 - a0)}
    for name, loss_fn in LOSSES.items():
        history = train(loss_fn, args.w0, args.b0, args.learning_rate, steps, args.log_dir)
        histories[name], hits[name] = history, steps_to_target(history["output"])
        with tb.writer(args.log_dir, name).as_default():
            for step in range(steps):
                tf.summary.scalar("loss", history["loss"][step], step=step)
                tf.summary.scalar("output", history["output"][step], step=step)
                tf.summary.scalar("grad_b", history["grad_b"][step], step=step)
        reached = f"|a - y| < {TOLERANCE} after {hits[name]} steps" if hits[name] is not None else "target not reached"
        print(
            f"{name}: ∂C/∂b at the start {history['grad_b'][0]:.4f}; {reached};"
            f" after {steps} steps a = {history['output'][-1]:.4f}, C = {history['loss'][-1]:.4f}"
        )
        metrics.update({
            f"steps_to_target_{name}": hits[name] if hits[name] is not None else steps,
            f"reached_target_{name}": int(hits[name] is not None),
            f"initial_grad_b_{name}": history["grad_b"][0],
            f"final_output_{name}": history["output"][-1],
            f"final_loss_{name}": history["loss"][-1],
        })
    plot(histories, hits, args.log_dir)
    return tb.write_metrics(args.log_dir, steps=steps, **metrics)


if __name__ == "__main__":
    main()
