"""Activation functions and their derivatives, and vanishing gradients in a deep sigmoid network.

요약: 계단(step), 시그모이드(sigmoid), tanh, ReLU, leaky ReLU, ELU, 맥스아웃(maxout) 함수와 도함수를 그리고,
도함수 식을 tf.GradientTape로 확인합니다. 이어서 10층 MLP를 시그모이드와 ReLU로 만들어 MNIST 배치에서
층마다 기울기 크기를 재면, 시그모이드 쪽은 입력에 가까운 층일수록 기울기가 사라집니다(기울기 소실, vanishing gradient).

Run:    python week1/activation_functions.py
Smoke:  python week1/activation_functions.py --smoke
Expect: at initialisation the sigmoid network's first-layer gradient norm is about 5e-5 times the ReLU
        network's (1.3e-6 vs 2.6e-2); after 3 epochs of plain SGD on 10,000 images the loss on the measuring
        batch is 1.40 for ReLU and 2.32 for sigmoid (ln 10 ≈ 2.30 is guessing). About 11 s on a 2-core CPU (results/week1_activation_functions.json).
        Figures: activations.png (functions and derivatives), vanishing_gradients.png.
"""

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
# 일부러 순수 SGD를 씁니다: Adam 같은 적응형 옵티마이저(optimizer)는 기울기마다 크기를 다시 맞춰서 문제의 일부를 가립니다.
PARSER = flags.make_parser(__file__, __doc__, epochs=3, batch_size=128, learning_rate=0.1, smoke_epochs=1)
PARSER.add_argument("--depth", type=int, default=10, help="hidden layers in the deep MLP (default: %(default)s)")
PARSER.add_argument("--width", type=int, default=128, help="units per hidden layer (default: %(default)s)")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from common import data, runtime, tb

NUM_FEATURES, NUM_CLASSES = 28 * 28, 10
NUM_TRAIN = 10000  # 짧은 학습에 쓰는 학습 세트의 앞 10,000장
MEASURE = 512  # 기울기 크기를 재는 고정 배치의 예제 수 (학습 세트의 앞부분)
SMOKE_TRAIN, SMOKE_MEASURE = 300, 256
LEAKY_SLOPE = 0.1  # z < 0에서 leaky ReLU의 기울기 (흔히 0.01이지만, 0.1이어야 그림에서 보입니다)
MAXOUT_PIECES = ((1.2, 0.5), (-0.4, 0.0))  # 직선 w z + b 두 개의 맥스아웃: max(1.2z + 0.5, −0.4z)


# 1. 활성화 함수와 도함수 / The activation functions g(z) and their derivatives g'(z), written out
def step(z):
    return (z > 0).astype(float)


def step_grad(z):
    return np.zeros_like(z)  # 어디서나 0 (0에서는 정의되지 않음): 경사 하강법이 받는 신호가 전혀 없습니다


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def sigmoid_grad(z):
    return sigmoid(z) * (1 - sigmoid(z))  # σ' = σ(1 − σ), 최댓값 0.25 (z = 0에서)


def tanh_grad(z):
    return 1 - np.tanh(z) ** 2  # 최댓값 1 (z = 0에서), 그래도 |z|가 크면 ≈ 0


def relu(z):
    return np.maximum(z, 0)


def relu_grad(z):
    return (z > 0).astype(float)  # 켜진 유닛에서는 1: 기울기가 줄지 않고 그대로 지나갑니다


def leaky_relu(z):
    return np.where(z > 0, z, LEAKY_SLOPE * z)


def leaky_relu_grad(z):
    return np.where(z > 0, 1.0, LEAKY_SLOPE)  # 정확히 0인 곳이 없어서 "죽은" 유닛이 생기지 않습니다


def elu(z):
    return np.where(z > 0, z, np.exp(z) - 1)  # α = 1인 ELU: 매끄럽고, 음수 출력이 평균을 0 쪽으로 당깁니다


def elu_grad(z):
    return np.where(z > 0, 1.0, np.exp(z))


def maxout(z):
    return np.max([w * z + b for w, b in MAXOUT_PIECES], axis=0)  # 직선들의 최댓값: 볼록한 조각별 선형 함수


def maxout_grad(z):
    slopes = np.array([w for w, _ in MAXOUT_PIECES])
    return slopes[np.argmax([w * z + b for w, b in MAXOUT_PIECES], axis=0)]  # 최댓값을 내는 직선의 기울기


ACTIVATIONS = {
    "step": (step, step_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (np.tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "elu": (elu, elu_grad),
    "maxout": (maxout, maxout_grad),
}


def tape_derivatives(z):
    """The same derivatives from tf.GradientTape on TensorFlow's own activations (the step has no gradient)."""
    tf_functions = {
        "sigmoid": tf.sigmoid,
        "tanh": tf.tanh,
        "relu": tf.nn.relu,
        "leaky_relu": lambda t: tf.nn.leaky_relu(t, alpha=LEAKY_SLOPE),
        "elu": tf.nn.elu,
        "maxout": lambda t: tf.reduce_max(tf.stack([w * t + b for w, b in MAXOUT_PIECES]), axis=0),
    }
    z = tf.constant(z, dtype=tf.float64)
    derivatives = {}
    for name, fn in tf_functions.items():
        with tf.GradientTape() as tape:
            tape.watch(z)
            g = fn(z)
        derivatives[name] = tape.gradient(g, z).numpy()  # g가 원소별 함수라서 이것이 곧 각 점의 g'(z)
    return derivatives


def plot_activations(z, log_dir):
    """One panel per function (g solid, g' dashed), and a last panel with all the derivatives."""
    plt = tb.pyplot()
    fig, axes = plt.subplots(2, 4, figsize=(16, 7.5), sharex=True)
    for ax, (name, (fn, grad)) in zip(axes.flat, ACTIVATIONS.items()):
        ax.plot(z, fn(z), lw=2, label="g(z)")
        ax.plot(z, grad(z), "--", lw=2, label="g'(z)")
        ax.axhline(0, color="grey", lw=0.5)
        ax.axvline(0, color="grey", lw=0.5)
        ax.set(title=name, ylim=(-1.6, 3.1))
        ax.legend(fontsize=8, loc="upper left")
    for w, b in MAXOUT_PIECES:  # 맥스아웃 유닛이 최댓값을 고르는 두 직선
        axes.flat[6].plot(z, w * z + b, ":", color="grey", lw=1)
    last = axes.flat[7]
    for name, (_, grad) in ACTIVATIONS.items():
        if name != "step":
            last.plot(z, grad(z), lw=1.5, label=name)
    last.set(title="도함수 비교 / all derivatives g'(z)", ylim=(-0.5, 1.6))
    last.legend(fontsize=8)
    for ax in axes[1]:
        ax.set_xlabel("z")
    fig.suptitle("활성화 함수와 도함수 / activation functions (solid) and their derivatives (dashed)")
    tb.save_figure(fig, Path(log_dir) / "activations.png", log_dir=log_dir, tag="activations")


# 2. 데이터 / A slice of the MNIST training set
def load_data(data_dir=None, smoke=False):
    """The first NUM_TRAIN (smoke: SMOKE_TRAIN) training images as (N, 784) floats in [0, 1], and their labels."""
    (x_train, y_train), _ = data.load_mnist(data_dir)
    n = SMOKE_TRAIN if smoke else NUM_TRAIN
    x = x_train[:n].reshape(-1, NUM_FEATURES).astype("float32") / 255
    y = y_train[:n].astype("int64")
    print(f"Data: {len(x)} training images")
    return x, y


# 3. 깊은 MLP / A deep MLP: `depth` hidden layers of `width` units, then 10 logits
def build_model(activation, depth=10, width=128, seed=42):
    """An MLP whose hidden layers all use `activation`; Keras' default initialisation (Glorot uniform) everywhere."""
    keras.utils.set_random_seed(seed)  # 두 망에 같은 시드: 시작 가중치가 같고 활성화 함수만 다릅니다
    # 혼합 정밀도(mixed precision)가 켜져 있어도 float32: 1e-7 크기의 기울기는 float16에서 0이 됩니다.
    hidden = [layers.Dense(width, activation=activation, dtype="float32", name=f"layer_{i:02d}")
              for i in range(1, depth + 1)]
    output = layers.Dense(NUM_CLASSES, dtype="float32", name=f"layer_{depth + 1:02d}")  # 로짓(logits) z
    return keras.Sequential([keras.Input((NUM_FEATURES,)), *hidden, output], name=f"mlp_{activation}")


def make_steps(model, learning_rate):
    """Returns grad_norms(x, y) -> (loss, norms) and train_step(x, y) -> (loss, norms), both compiled."""
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = keras.optimizers.SGD(learning_rate)

    def loss_and_grads(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        # 층마다 ‖∂J/∂W‖, 입력 쪽 층부터 (W는 2차원, b는 1차원이라 W만 고릅니다).
        norms = tf.stack([tf.norm(g) for g, v in zip(grads, model.trainable_variables) if len(v.shape) == 2])
        return loss, grads, norms

    @tf.function
    def grad_norms(x, y):
        loss, _, norms = loss_and_grads(x, y)
        return loss, norms

    @tf.function
    def train_step(x, y):
        loss, grads, norms = loss_and_grads(x, y)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss, norms

    return grad_norms, train_step


# 4. 기울기 측정과 짧은 학습 / Measure the gradient per layer, train a little, measure again
def run_network(activation, x, y, x_measure, y_measure, log_dir, depth=10, width=128, epochs=3, batch_size=128,
                learning_rate=0.1, seed=42):
    """Gradient norms per layer before and after `epochs` of SGD, and the loss on the measuring batch."""
    model = build_model(activation, depth, width, seed)
    grad_norms, train_step = make_steps(model, learning_rate)
    loss0, norms0 = grad_norms(x_measure, y_measure)
    norms0 = norms0.numpy()
    train_ds = data.make_pipeline(x, y, batch_size=batch_size, shuffle=True, seed=seed)
    losses = []
    with tb.writer(log_dir, activation).as_default():
        for i, norm in enumerate(norms0, start=1):
            tf.summary.scalar(f"grad_norm_init/layer_{i:02d}", norm, step=0)
        step = 0
        for epoch in range(epochs):
            for xb, yb in train_ds:
                loss, norms = train_step(xb, yb)
                losses.append(float(loss))
                if not math.isfinite(losses[-1]):
                    tb.stop_on_nan(losses[-1], f"{activation}, epoch {epoch + 1}, step {step + 1}", log_dir)
                tf.summary.scalar("loss", loss, step=step)
                for i, norm in enumerate(norms.numpy(), start=1):
                    tf.summary.scalar(f"grad_norm/layer_{i:02d}", norm, step=step)
                step += 1
    loss1, norms1 = grad_norms(x_measure, y_measure)
    # 측정 배치는 학습 세트의 일부입니다: 이 정확도는 학습이 움직였는지만 보여 줍니다 (일반화 성능이 아님).
    accuracy = float(np.mean(np.argmax(model.predict(x_measure, verbose=0), axis=1) == y_measure))
    print(
        f"{activation}: gradient norm at init, first layer {norms0[0]:.2e}, last layer {norms0[-1]:.2e};"
        f" loss {float(loss0):.3f} -> {float(loss1):.3f} after {step} SGD steps"
        f" (training-batch accuracy {accuracy:.3f})"
    )
    return {"init": norms0, "trained": norms1.numpy(), "losses": np.array(losses),
            "loss_init": float(loss0), "loss_trained": float(loss1), "accuracy": accuracy}


def plot_gradients(results, log_dir):
    """Left: gradient norm per layer, before and after training; right: the training loss per step."""
    plt = tb.pyplot()
    fig, (ax_norm, ax_loss) = plt.subplots(1, 2, figsize=(14, 5))
    colors = {"sigmoid": "tab:orange", "relu": "tab:blue"}
    for name, result in results.items():
        layer = np.arange(1, len(result["init"]) + 1)
        ax_norm.semilogy(layer, result["init"], "o-", color=colors[name], label=f"{name}, 초기 / at initialisation")
        ax_norm.semilogy(layer, result["trained"], "s--", color=colors[name], alpha=0.6,
                         label=f"{name}, 학습 후 / after training")
        ax_loss.plot(result["losses"], color=colors[name], lw=1, label=name)
    ax_norm.set(xlabel="layer (1 = next to the input, last = output)", ylabel="‖∂J/∂W‖ (log scale)",
                title="층별 기울기 크기 / gradient norm per layer", xticks=layer)
    ax_norm.legend(fontsize=8)
    ax_loss.axhline(np.log(NUM_CLASSES), color="k", ls=":", lw=1, label="ln 10 (guessing)")
    ax_loss.set(xlabel="SGD step", ylabel="training loss (mini-batch)", title="학습 손실 / training loss")
    ax_loss.legend(fontsize=8)
    fig.suptitle(f"기울기 소실 / vanishing gradients: {len(layer) - 1} hidden layers, sigmoid vs ReLU")
    tb.save_figure(fig, Path(log_dir) / "vanishing_gradients.png", log_dir=log_dir, tag="vanishing_gradients")


def main(argv=None):
    args = flags.parse(PARSER, argv)
    if args.depth < 1 or args.width < 1:
        PARSER.error("--depth and --width must be at least 1")
    x, y = load_data(args.data_dir, args.smoke)
    runtime.setup(args)

    # 1부: 함수와 도함수, TensorFlow의 도함수와 비교 / Part 1: the functions, derivatives checked against TensorFlow's
    z = np.linspace(-4, 4, 800)  # 점의 개수가 짝수라 ReLU와 계단이 꺾이는 z = 0은 격자에 없습니다
    tape = tape_derivatives(z)
    derivative_error = max(float(np.max(np.abs(ACTIVATIONS[name][1](z) - tape[name]))) for name in tape)
    print(f"Derivatives: max |g'(z) written out - tf.GradientTape| = {derivative_error:.1e}")
    plot_activations(z, args.log_dir)

    # 2부: 같은 깊은 MLP를 시그모이드와 ReLU로 / Part 2: the same deep MLP with sigmoid and with ReLU units
    n_measure = SMOKE_MEASURE if args.smoke else MEASURE
    x_measure, y_measure = x[:n_measure], y[:n_measure]
    results = {
        name: run_network(name, x, y, x_measure, y_measure, args.log_dir, args.depth, args.width, args.epochs,
                          args.batch_size, args.learning_rate, args.seed)
        for name in ("sigmoid", "relu")
    }
    plot_gradients(results, args.log_dir)
    first = {name: r["init"][0] for name, r in results.items()}
    return tb.write_metrics(
        args.log_dir,
        max_derivative_error=derivative_error,
        grad_norm_first_layer_sigmoid=first["sigmoid"],
        grad_norm_first_layer_relu=first["relu"],
        grad_norm_ratio_sigmoid_to_relu=first["sigmoid"] / first["relu"],
        grad_norm_last_layer_sigmoid=results["sigmoid"]["init"][-1],
        grad_norm_last_layer_relu=results["relu"]["init"][-1],
        loss_after_training_sigmoid=results["sigmoid"]["loss_trained"],
        loss_after_training_relu=results["relu"]["loss_trained"],
        depth=args.depth, epochs=args.epochs,
    )


if __name__ == "__main__":
    main()
