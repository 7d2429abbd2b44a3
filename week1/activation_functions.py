"""Activation functions and their derivatives, and why deep sigmoid networks suffer from vanishing gradients.

요약: 계단(step), 시그모이드(sigmoid), tanh, ReLU, leaky ReLU, ELU, 맥스아웃(maxout) 함수와 도함수를 그리고,
도함수 식을 tf.GradientTape로 확인합니다. 이어서 10층 MLP를 시그모이드와 ReLU로 만들어 MNIST 배치에서
층마다 기울기 크기를 재면, 시그모이드 쪽은 입력에 가까운 층일수록 기울기가 사라집니다(vanishing gradients).

Why: backpropagation multiplies one factor σ'(z) ≤ 0.25 per sigmoid layer, so after 10 layers the
first layer's gradient is many orders of magnitude smaller than the last one's; ReLU's derivative
is 1 wherever a unit is active, so the gradient reaches the first layer with its size roughly intact.

Run:    python week1/activation_functions.py
Smoke:  python week1/activation_functions.py --smoke
Expect: at initialisation the sigmoid network's first-layer gradient norm is about 5e-5 times the
        ReLU network's (1e-6 vs 3e-2); after 3 epochs of plain SGD on 10,000 images the ReLU network's
        loss falls from 2.3 to about 0.7 while the sigmoid network's stays at ln 10 ≈ 2.3 (guessing).
        About 20 s on a 2-core CPU.
        Figures: activations.png (functions and derivatives), vanishing_gradients.png.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # lets `import common` work from any folder

import numpy as np

from common import data, flags

NUM_FEATURES, NUM_CLASSES = 28 * 28, 10
NUM_TRAIN = 10000  # training examples for the short training run (the whole set would only take longer)
MEASURE = 512  # examples in the fixed batch on which gradient norms are measured
SMOKE_TRAIN, SMOKE_MEASURE = 300, 256
LEAKY_SLOPE = 0.1  # leaky ReLU's slope for z < 0 (0.01 is common; 0.1 shows up in a plot)
MAXOUT_PIECES = ((1.2, 0.5), (-0.4, 0.0))  # maxout of two lines w z + b: max(1.2z + 0.5, −0.4z)

tf = keras = layers = logs = runtime = None


def parse_args(argv=None):
    # Plain SGD on purpose: adaptive optimisers such as Adam rescale each gradient and hide part of the problem.
    parser = flags.make_parser(__file__, __doc__, epochs=3, batch_size=128, learning_rate=0.1, smoke_epochs=1)
    parser.add_argument("--depth", type=int, default=10, help="hidden layers in the deep MLP (default: %(default)s)")
    parser.add_argument("--width", type=int, default=128, help="units per hidden layer (default: %(default)s)")
    return flags.parse(parser, argv)


def import_tensorflow():
    global tf, keras, layers, logs, runtime
    import keras
    import tensorflow as tf
    from keras import layers

    from common import logs, runtime


# 1. 활성화 함수와 도함수 / The activation functions g(z) and their derivatives g'(z), written out
def step(z):
    return (z > 0).astype(float)


def step_grad(z):
    return np.zeros_like(z)  # 0 everywhere (undefined at 0): gradient descent gets no signal at all


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def sigmoid_grad(z):
    return sigmoid(z) * (1 - sigmoid(z))  # σ' = σ(1 − σ), at most 0.25 (at z = 0)


def tanh_grad(z):
    return 1 - np.tanh(z) ** 2  # at most 1 (at z = 0), but still ≈ 0 for large |z|


def relu(z):
    return np.maximum(z, 0)


def relu_grad(z):
    return (z > 0).astype(float)  # 1 for active units: the gradient passes through unchanged


def leaky_relu(z):
    return np.where(z > 0, z, LEAKY_SLOPE * z)


def leaky_relu_grad(z):
    return np.where(z > 0, 1.0, LEAKY_SLOPE)  # never exactly 0, so no unit is ever "dead"


def elu(z):
    return np.where(z > 0, z, np.exp(z) - 1)  # ELU with α = 1: smooth, negative outputs push the mean towards 0


def elu_grad(z):
    return np.where(z > 0, 1.0, np.exp(z))


def maxout(z):
    return np.max([w * z + b for w, b in MAXOUT_PIECES], axis=0)  # a learned convex piecewise-linear function


def maxout_grad(z):
    slopes = np.array([w for w, _ in MAXOUT_PIECES])
    return slopes[np.argmax([w * z + b for w, b in MAXOUT_PIECES], axis=0)]  # the slope of the winning piece


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
        derivatives[name] = tape.gradient(g, z).numpy()  # g is elementwise, so this is g'(z) at every point
    return derivatives


def plot_activations(z, log_dir):
    plt = logs.pyplot()
    fig, axes = plt.subplots(2, 4, figsize=(16, 7.5), sharex=True)
    for ax, (name, (fn, grad)) in zip(axes.flat, ACTIVATIONS.items()):
        ax.plot(z, fn(z), lw=2, label="g(z)")
        ax.plot(z, grad(z), "--", lw=2, label="g'(z)")
        ax.axhline(0, color="grey", lw=0.5)
        ax.axvline(0, color="grey", lw=0.5)
        ax.set(title=name, ylim=(-1.6, 3.1))
        ax.legend(fontsize=8, loc="upper left")
    for w, b in MAXOUT_PIECES:  # the two lines the maxout unit takes the maximum of
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
    logs.save_figure(fig, Path(log_dir) / "activations.png", log_dir=log_dir, tag="activations")


# 2. 데이터 / A slice of MNIST
def load_data(args):
    (x_train, y_train), _ = data.load_mnist(args.data_dir)
    n = SMOKE_TRAIN if args.smoke else NUM_TRAIN
    x = x_train[:n].reshape(-1, NUM_FEATURES).astype("float32") / 255
    y = y_train[:n].astype("int64")
    print(f"Data: {len(x)} training images")
    return x, y


# 3. 깊은 MLP / A deep MLP: `depth` hidden layers of `width` units, then 10 logits
def build_model(activation, depth, width, seed):
    keras.utils.set_random_seed(seed)  # the same seed for both: identical starting weights, only g differs
    # float32 even where mixed precision is on: gradients of 1e-7 would underflow in float16.
    hidden = [layers.Dense(width, activation=activation, dtype="float32", name=f"layer_{i:02d}")
              for i in range(1, depth + 1)]
    output = layers.Dense(NUM_CLASSES, dtype="float32", name=f"layer_{depth + 1:02d}")  # the logits z
    # Keras' default initialisation (Glorot uniform) for every layer, whatever the activation.
    return keras.Sequential([keras.Input((NUM_FEATURES,)), *hidden, output], name=f"mlp_{activation}")


def make_steps(model, learning_rate):
    """Returns grad_norms(x, y) -> (loss, norms) and train_step(x, y) -> (loss, norms), both compiled."""
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = keras.optimizers.SGD(learning_rate)

    def loss_and_grads(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        # ‖∂J/∂W‖ for each layer, input side first (each W is 2-D, each b 1-D).
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
def run_network(args, activation, x, y, x_measure, y_measure):
    model = build_model(activation, args.depth, args.width, args.seed)
    grad_norms, train_step = make_steps(model, args.learning_rate)
    loss0, norms0 = grad_norms(x_measure, y_measure)
    norms0 = norms0.numpy()
    train_ds = data.make_pipeline(x, y, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    losses = []
    with logs.writer(args.log_dir, activation).as_default():
        for i, norm in enumerate(norms0, start=1):
            tf.summary.scalar(f"grad_norm_init/layer_{i:02d}", norm, step=0)
        step = 0
        for _ in range(args.epochs):
            for xb, yb in train_ds:
                loss, norms = train_step(xb, yb)
                losses.append(float(loss))
                tf.summary.scalar("loss", loss, step=step)
                for i, norm in enumerate(norms.numpy(), start=1):
                    tf.summary.scalar(f"grad_norm/layer_{i:02d}", norm, step=step)
                step += 1
    loss1, norms1 = grad_norms(x_measure, y_measure)
    accuracy = float(np.mean(np.argmax(model.predict(x_measure, verbose=0), axis=1) == y_measure))
    print(
        f"{activation}: gradient norm at init, first layer {norms0[0]:.2e}, last layer {norms0[-1]:.2e};"
        f" loss {float(loss0):.3f} -> {float(loss1):.3f} after {step} SGD steps (accuracy {accuracy:.3f})"
    )
    return {"init": norms0, "trained": norms1.numpy(), "losses": np.array(losses),
            "loss_init": float(loss0), "loss_trained": float(loss1), "accuracy": accuracy}


def plot_gradients(results, log_dir):
    plt = logs.pyplot()
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
    logs.save_figure(fig, Path(log_dir) / "vanishing_gradients.png", log_dir=log_dir, tag="vanishing_gradients")




def main(argv=None):
    args = parse_args(argv)
    if args.depth < 1 or args.width < 1:
        raise SystemExit("error: --depth and --width must be at least 1")
    x, y = load_data(args)
    import_tensorflow()
    runtime.setup(args)

    # Part 1: the functions, and their derivatives checked against TensorFlow's.
    z = np.linspace(-4, 4, 800)  # an even count: z = 0 exactly, where ReLU and step have a kink, is not on the grid
    tape = tape_derivatives(z)
    derivative_error = max(float(np.max(np.abs(ACTIVATIONS[name][1](z) - tape[name]))) for name in tape)
    print(f"Derivatives: max |g'(z) written out - tf.GradientTape| = {derivative_error:.1e}")
    plot_activations(z, args.log_dir)

    # Part 2: the same deep MLP with sigmoid and with ReLU hidden units.
    n_measure = SMOKE_MEASURE if args.smoke else MEASURE
    x_measure, y_measure = x[:n_measure], y[:n_measure]
    results = {name: run_network(args, name, x, y, x_measure, y_measure) for name in ("sigmoid", "relu")}
    plot_gradients(results, args.log_dir)
    first = {name: r["init"][0] for name, r in results.items()}
    return logs.write_metrics(
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
