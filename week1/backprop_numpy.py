"""Backpropagation in NumPy: the slides' 3-layer network learns XOR, and its gradients are checked twice.

요약: 입력 2개, 시그모이드(sigmoid) 은닉층(hidden layer), 시그모이드 출력 1개인 3층 신경망의 순전파(forward propagation)와
역전파(backpropagation)의 δ 식을 슬라이드 표기(z, a, δ, W, b) 그대로 NumPy로 씁니다. 역전파로 구한
기울기를 중앙 차분(central finite differences)과 tf.GradientTape로 검증한 뒤 XOR을 학습합니다.

Run:    python week1/backprop_numpy.py
Smoke:  python week1/backprop_numpy.py --smoke
Expect: both gradient checks agree with backpropagation to a relative error below 1e-6 (2.7e-8 against
        finite differences, 7.7e-16 against GradientTape), and XOR is solved: accuracy 1.0, loss 0.0012
        after 3,000 steps; about 5 s on a 2-core CPU, mostly importing TensorFlow
        (results/week1_backprop_numpy.json). Figure: backprop_xor.png (loss curve, decision boundary).
"""

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
# XOR은 예제가 4개뿐이라 매 스텝이 4개를 모두 쓰는 (배치) 경사 하강법입니다: 에포크 하나 = 스텝 하나.
# 은닉 유닛 3개와 α = 2를 고른 과정은 week1/README.md에 있습니다.
PARSER = flags.make_parser(__file__, __doc__, epochs=3000, batch_size=4, learning_rate=2.0, smoke_epochs=200)
PARSER.add_argument("--hidden-units", type=int, default=3, help="sigmoid units in layer 2 (default: %(default)s)")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import numpy as np
import tensorflow as tf  # 기울기 검증(tf.GradientTape)과 TensorBoard 기록에만 씁니다

from common import runtime, tb

# XOR: 슬라이드처럼 예제 하나가 열 하나입니다. a1의 모양은 (2, m), y는 (1, m).
X_XOR = np.array([[0, 0, 1, 1],
                  [0, 1, 0, 1]], dtype=np.float64)
Y_XOR = np.array([[0, 1, 1, 0]], dtype=np.float64)
# 중앙 차분의 간격 ε: float64 반올림 오차 ~1e-16/ε와 절단 오차 ~ε²가 둘 다 아주 작아지는 값
EPSILON = 1e-5


# 1. 모델 / The network: a1 = x, z2 = W1 a1 + b1, a2 = σ(z2), z3 = W2 a2 + b2, a3 = σ(z3)
def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def init_params(hidden_units=3, seed=42):
    """Random weights, zero biases: {"W1": (hidden, 2), "b1": (hidden, 1), "W2": (1, hidden), "b2": (1, 1)}."""
    # 작은 무작위 가중치로 은닉 유닛 사이의 대칭을 깹니다 (모두 0이면 유닛들이 언제나 똑같이 움직입니다).
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.normal(0, 1, (hidden_units, 2)),  # (2층 유닛 수, 1층 유닛 수)
        "b1": np.zeros((hidden_units, 1)),
        "W2": rng.normal(0, 1, (1, hidden_units)),
        "b2": np.zeros((1, 1)),
    }


def forward(params, a1):
    """Forward propagation; returns every z and a, since backpropagation needs them."""
    z2 = params["W1"] @ a1 + params["b1"]
    a2 = sigmoid(z2)
    z3 = params["W2"] @ a2 + params["b2"]
    a3 = sigmoid(z3)  # 출력 h(x): XOR(x) = 1일 확률
    return {"a1": a1, "z2": z2, "a2": a2, "z3": z3, "a3": a3}


def loss(a3, y):
    """Cross-entropy J = −(1/m) Σ [y log a3 + (1 − y) log(1 − a3)].

    With a sigmoid output it gives δ3 = a3 − y: the σ'(z3) in the squared error's
    δ3 = (a3 − y) ⊙ σ'(z3) cancels (mse_vs_cross_entropy.py shows why that matters).
    """
    return -np.mean(y * np.log(a3) + (1 - y) * np.log(1 - a3))


# 2. 역전파 / Backpropagation: δ of each layer, from the output back to the input
def backprop(params, cache, y):
    """Returns ∂J/∂W and ∂J/∂b for every layer, in the slides' δ notation."""
    m = y.shape[1]
    a1, a2, a3 = cache["a1"], cache["a2"], cache["a3"]
    delta3 = a3 - y  # δ3 = ∂J/∂z3 (교차 엔트로피 + 시그모이드 출력; J가 평균이라 m배)
    delta2 = (params["W2"].T @ delta3) * a2 * (1 - a2)  # δ2 = (W2ᵀ δ3) ⊙ σ'(z2), σ'(z) = σ(z)(1 − σ(z))
    return {
        "W2": delta3 @ a2.T / m,  # ∂J/∂W2 = δ3 a2ᵀ, m개 예제의 평균
        "b2": delta3.sum(axis=1, keepdims=True) / m,  # ∂J/∂b2 = δ3
        "W1": delta2 @ a1.T / m,  # ∂J/∂W1 = δ2 a1ᵀ
        "b1": delta2.sum(axis=1, keepdims=True) / m,  # ∂J/∂b1 = δ2
    }


# 3. 기울기 검증 / Gradient checking
def numerical_gradients(params, x, y, epsilon=EPSILON):
    """Central differences: ∂J/∂θ ≈ (J(θ + ε) − J(θ − ε)) / 2ε, one parameter at a time."""
    grads = {}
    for name, value in params.items():
        grad = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            original = value[i]
            value[i] = original + epsilon
            j_plus = loss(forward(params, x)["a3"], y)
            value[i] = original - epsilon
            j_minus = loss(forward(params, x)["a3"], y)
            value[i] = original
            grad[i] = (j_plus - j_minus) / (2 * epsilon)
        grads[name] = grad
    return grads


def tape_gradients(params, x, y):
    """The same loss written with TensorFlow ops; tf.GradientTape differentiates it (float64)."""
    variables = {name: tf.Variable(value, dtype=tf.float64) for name, value in params.items()}
    with tf.GradientTape() as tape:
        a2 = tf.sigmoid(variables["W1"] @ x + variables["b1"])
        a3 = tf.sigmoid(variables["W2"] @ a2 + variables["b2"])
        j = -tf.reduce_mean(y * tf.math.log(a3) + (1 - y) * tf.math.log(1 - a3))
    grads = tape.gradient(j, variables)
    return {name: g.numpy() for name, g in grads.items()}


def relative_error(grads, reference):
    """max over parameters of |g − g_ref| / max(|g| + |g_ref|, 1e-8); the floor avoids 0/0 for zero gradients."""
    return max(
        float(np.max(np.abs(grads[k] - reference[k]) / np.maximum(np.abs(grads[k]) + np.abs(reference[k]), 1e-8)))
        for k in grads
    )


# 4. 학습 / Train: θ := θ − α ∂J/∂θ with the backpropagated gradients
def train(params, x, y, learning_rate, epochs, log_dir):
    """Updates `params` in place; returns the loss before each step."""
    history = []
    with tb.writer(log_dir, "train").as_default():
        for epoch in range(epochs):
            cache = forward(params, x)
            j = loss(cache["a3"], y)
            if not math.isfinite(j):  # 출력이 정확히 0이나 1이 되면 log(0): 가중치가 폭주한 것입니다
                tb.stop_on_nan(j, f"epoch {epoch + 1}", log_dir)
            grads = backprop(params, cache, y)
            for name in params:
                params[name] -= learning_rate * grads[name]
            history.append(j)
            if epoch % 10 == 0 or epoch == epochs - 1:
                accuracy = np.mean((cache["a3"] > 0.5) == y)
                tf.summary.scalar("loss", j, step=epoch)
                tf.summary.scalar("accuracy", accuracy, step=epoch)
            if (epoch + 1) % max(epochs // 5, 1) == 0:
                print(f"Epoch {epoch + 1}/{epochs}: loss {j:.4f}")
    return np.array(history)


# 5. 그림 / Loss curve and decision boundary
def plot(history, params, log_dir):
    """Left: the loss per step; right: the output a3 over the unit square and its 0.5 contour."""
    plt = tb.pyplot()
    fig, (ax_loss, ax_map) = plt.subplots(1, 2, figsize=(12, 4.8))
    ax_loss.semilogy(history)
    ax_loss.set(xlabel="epoch (gradient descent step)", ylabel="cross-entropy J (log scale)",
                title="학습 손실 / training loss")
    # 단위 정사각형(보다 조금 넓은 곳) 위의 출력 a3. 0.5 등고선이 결정 경계(decision boundary)입니다.
    u = np.linspace(-0.2, 1.2, 141)
    g0, g1 = np.meshgrid(u, u)
    a3 = forward(params, np.stack([g0.ravel(), g1.ravel()]))["a3"].reshape(g0.shape)
    image = ax_map.contourf(g0, g1, a3, levels=np.linspace(0, 1, 11), cmap="RdBu_r")
    ax_map.contour(g0, g1, a3, levels=[0.5], colors="k", linewidths=2)
    fig.colorbar(image, ax=ax_map, label="a3 = P(y = 1)")
    for (x0, x1), label in zip(X_XOR.T, Y_XOR[0]):
        ax_map.scatter(x0, x1, s=160, c="tab:red" if label else "tab:blue", edgecolors="k", zorder=3)
        ax_map.annotate(f"y = {label:.0f}", (x0, x1), xytext=(28 * (1 - 2 * x0), 20 * (1 - 2 * x1)),
                        textcoords="offset points", ha="center", va="center", fontsize=11,
                        bbox={"boxstyle": "round", "fc": "white", "alpha": 0.8})
    ax_map.set(xlabel="x1", ylabel="x2", aspect="equal", title="결정 경계 / decision boundary (a3 = 0.5)")
    tb.save_figure(fig, Path(log_dir) / "backprop_xor.png", log_dir=log_dir)
    # 출력 지도 자체를 그림으로: 밝으면 1, 어두우면 0. x2가 위로 커지도록 행을 뒤집습니다.
    tb.log_image(log_dir, "train", "output_a3", a3[::-1], description="a3 over the unit square")


def main(argv=None):
    args = flags.parse(PARSER, argv)
    if args.hidden_units < 1:
        PARSER.error("--hidden-units must be at least 1")
    runtime.setup(args)
    params = init_params(args.hidden_units, args.seed)

    # 학습에 쓰기 전에, 무작위 출발점에서 역전파의 기울기를 두 방법으로 검증합니다.
    grads = backprop(params, forward(params, X_XOR), Y_XOR)
    error_fd = relative_error(grads, numerical_gradients(params, X_XOR, Y_XOR))
    error_tape = relative_error(grads, tape_gradients(params, X_XOR, Y_XOR))
    print(f"Gradient check: max relative error vs central finite differences {error_fd:.2e}")
    print(f"Gradient check: max relative error vs tf.GradientTape          {error_tape:.2e}")
    if max(error_fd, error_tape) > 1e-6:
        print("warning: relative error above 1e-6: the backpropagation code has a bug", file=sys.stderr)

    history = train(params, X_XOR, Y_XOR, args.learning_rate, args.epochs, args.log_dir)
    a3 = forward(params, X_XOR)["a3"]
    accuracy = float(np.mean((a3 > 0.5) == Y_XOR))
    final_loss = float(loss(a3, Y_XOR))
    for (x0, x1), y, out in zip(X_XOR.T, Y_XOR[0], a3[0]):
        print(f"  x = ({x0:.0f}, {x1:.0f})  y = {y:.0f}  a3 = {out:.4f}")
    print(f"XOR accuracy {accuracy:.2f}, final loss {final_loss:.4f}")
    plot(history, params, args.log_dir)
    return tb.write_metrics(
        args.log_dir, grad_check_finite_diff=error_fd, grad_check_gradient_tape=error_tape,
        xor_accuracy=accuracy, final_loss=final_loss, epochs=args.epochs, hidden_units=args.hidden_units,
    )


if __name__ == "__main__":
    main()
