"""Exploding gradients made visible, then tamed with gradient clipping (Keras' clipvalue, clipnorm, global_clipnorm).

요약: 1부는 선형 회귀(linear regression)에서 너무 큰 학습률로 순수 SGD가 발산하는 것을 보고, 같은 학습률에
기울기 클리핑(gradient clipping)을 켜면 참값 근처에 머무는 것을 봅니다. 2부는 순환 가중치를 크게 초기화한
SimpleRNN이 100 스텝 앞의 값을 기억하다가 기울기 폭주(exploding gradients)로 무너지고, global_clipnorm으로는 배웁니다.

Run:    python week3/gradient_clipping.py
Smoke:  python week3/gradient_clipping.py --smoke
Expect: part 1: plain SGD's loss runs off to infinity within a few dozen steps (the step is above the stability
        limit 2/λ_max the script prints); the same step with clipvalue, clipnorm or global_clipnorm ends close to
        the true weights (2, -3.4) and bias 4.2, bouncing a little around the minimum. Part 2: the unclipped RNN's
        gradient norm is far above the threshold from the first step and its loss runs off to infinity; with
        global_clipnorm the loss falls below the predict-the-mean baseline.
        Figures: linear_regression.png and rnn.png (loss, gradient norm and step size per step, log scale).
"""

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
# --learning-rate, --epochs, --batch-size는 1부(선형 회귀)에 씁니다. 0.06은 일부러 너무 큰 학습률입니다:
# 이 데이터에서 순수 SGD가 안정한 한계 2/λ_max는 약 0.039입니다(실행하면 출력합니다).
PARSER = flags.make_parser(__file__, __doc__, epochs=30, batch_size=100, learning_rate=0.06, smoke_epochs=8,
                           data_dir=False)
PARSER.add_argument("--clip", type=float, default=1.0,
                    help="threshold c for clipvalue, clipnorm and global_clipnorm in both parts (default: %(default)s)")
PARSER.add_argument("--rnn-learning-rate", type=float, default=0.05, help="SGD step size in part 2 (default: %(default)s)")
PARSER.add_argument("--rnn-steps", type=int, default=600, help="training steps in part 2 (default: %(default)s)")
PARSER.add_argument("--seq-len", type=int, default=100, help="time steps per sequence in part 2 (default: %(default)s)")
PARSER.add_argument("--recurrent-gain", type=float, default=1.5,
                    help="the RNN's recurrent weights start as an orthogonal matrix times this; above 1 the "
                    "gradient grows with every time step (default: %(default)s)")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from common import runtime, tb

# 1부 데이터: y = x·w + b + 잡음. 두 특성의 크기가 다릅니다(표준편차 1과 5). 큰 특성 쪽 방향은 비용 함수의
# 곡률이 25배 커서, 다른 방향에는 적당한 학습률이 그 방향에서만 너무 큽니다.
NUM_EXAMPLES = 1000
FEATURE_SCALES = np.array([1.0, 5.0])
TRUE_W, TRUE_B = np.array([2.0, -3.4]), 4.2
NOISE = 0.5
LINEAR_VARIANTS = ("none", "clipvalue", "clipnorm", "global_clipnorm")
# 2부: 기억 과제(memory task). 첫 스텝에만 값 v ~ U(-1, 1)이 있고 나머지는 0; seq_len 스텝 뒤에 v를 맞힙니다.
RNN_UNITS, RNN_BATCH_SIZE = 32, 32
MEASURE = 512  # 학습에 쓰지 않는 새 시퀀스로 만든 측정 배치 (손실을 처음과 끝에 잽니다)
BASELINE_LOSS = 1 / 3  # 언제나 평균 0을 예측하면 MSE = Var(v) = 1/3: 아무것도 기억하지 못한 망의 손실
RNN_VARIANTS = ("none", "global_clipnorm")
SMOKE_RNN_STEPS = 60
COLORS = {"none": "tab:red", "clipvalue": "tab:blue", "clipnorm": "tab:green", "global_clipnorm": "tab:purple"}


# 1. 데이터 / Make the data: part 1 regression, part 2 recall-the-first-value sequences
def make_linear_data(num_examples=NUM_EXAMPLES, seed=42):
    """Returns x (m, 2) and y (m, 1), float32, with y = x·TRUE_W + TRUE_B + noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(num_examples, 2)) * FEATURE_SCALES
    y = x @ TRUE_W + TRUE_B + rng.normal(0, NOISE, num_examples)
    return x.astype("float32"), y[:, None].astype("float32")


def stability_limit(x):
    """2/λ_max: plain gradient descent on the MSE of a linear model diverges for learning rates above it.

    The MSE's Hessian is 2·XᵀX/m (X with a column of ones for the bias); week1/gradient_descent.py shows why.
    """
    X = np.c_[x, np.ones(len(x))].astype("float64")
    return 2 / np.linalg.eigvalsh(2 * X.T @ X / len(X)).max()


def least_squares_loss(x, y):
    """The lowest MSE a linear model can reach on (x, y), from least squares: the floor the runs are compared with."""
    X = np.c_[x, np.ones(len(x))].astype("float64")
    theta = np.linalg.lstsq(X, y, rcond=None)[0]
    return float(np.mean((X @ theta - y) ** 2))


def make_recall_data(num_sequences, seq_len, seed=42):
    """Returns x (n, seq_len, 1), zero except x[:, 0] = v ~ U(-1, 1), and y = v (n, 1): remember the first value."""
    rng = np.random.default_rng(seed)
    v = rng.uniform(-1, 1, num_sequences).astype("float32")
    x = np.zeros((num_sequences, seq_len, 1), dtype="float32")
    x[:, 0, 0] = v
    return x, v[:, None]


# 2. 모델과 옵티마이저 / The models, and the optimizer that clips
def build_linear_model():
    """ŷ = x·w + b, starting from w = 0, b = 0 (float32 even under mixed precision: inf must mean inf)."""
    return keras.Sequential([keras.Input((2,)), layers.Dense(1, kernel_initializer="zeros", dtype="float32")],
                            name="linear")


def build_rnn(seq_len, units=RNN_UNITS, recurrent_gain=1.5, seed=42):
    """SimpleRNN (tanh) whose recurrent matrix starts orthogonal × recurrent_gain, and a Dense readout of the last state.

    기울기는 시간을 거슬러 한 스텝마다 순환 가중치 행렬(과 tanh의 도함수)을 곱하며 전해집니다. 직교 행렬은
    길이를 보존하므로 gain > 1이면 곱할 때마다 커질 수 있어, 100 스텝이면 기울기가 폭주합니다.
    """
    keras.utils.set_random_seed(seed)  # 두 변형(클리핑 없음/있음)이 같은 시작 가중치에서 출발합니다
    return keras.Sequential(
        [
            keras.Input((seq_len, 1)),
            layers.SimpleRNN(units, recurrent_initializer=keras.initializers.Orthogonal(gain=recurrent_gain),
                             dtype="float32"),
            layers.Dense(1, dtype="float32"),
        ],
        name="rnn",
    )


def make_optimizer(variant, learning_rate, clip):
    """Plain SGD; `variant` names Keras' clipping argument ("clipvalue", "clipnorm", "global_clipnorm") or "none".

    클리핑은 Keras 옵티마이저가 apply_gradients 안에서 합니다(기울기 g, 문턱 c):
    - clipvalue: 원소마다 [-c, c]로 자릅니다. 큰 원소만 잘려서 기울기의 방향이 바뀝니다.
    - clipnorm: 변수(가중치 행렬, 편향)마다 ‖g‖ > c이면 g·c/‖g‖로 줄입니다. 한 변수 안에서는 방향이
      그대로지만, 변수마다 따로 줄이므로 변수끼리의 비율은 바뀝니다.
    - global_clipnorm: 모든 변수의 기울기를 한 벡터로 보고 전체 노름이 c를 넘으면 모두 같은 비율로 줄입니다:
      방향은 그대로, 크기만 c. 손으로 쓰면 한 줄입니다: grads, _ = tf.clip_by_global_norm(grads, c)
    어느 쪽이든 한 스텝에 움직이는 거리에 상한이 생깁니다: global_clipnorm은 전체가 학습률 × c, clipnorm은
    변수마다, clipvalue는 원소마다 학습률 × c (그래서 둘은 전체로는 그보다 조금 더 움직일 수 있습니다).
    """
    if variant == "none":
        return keras.optimizers.SGD(learning_rate)
    if variant not in ("clipvalue", "clipnorm", "global_clipnorm"):
        raise ValueError(f"unknown clipping variant {variant!r}")
    return keras.optimizers.SGD(learning_rate, **{variant: clip})


# 3. 학습 루프 / A training loop that measures the gradient before the optimizer clips it
def make_train_step(model, optimizer):
    """Returns a compiled step(x, y) -> (loss, gradient norm before clipping, ‖Δθ‖ the step actually taken)."""
    loss_fn = keras.losses.MeanSquaredError()

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        grad_norm = tf.linalg.global_norm(grads)  # 클리핑 전의 전체 기울기 노름 ‖g‖
        before = [tf.identity(v) for v in model.trainable_variables]
        optimizer.apply_gradients(zip(grads, model.trainable_variables))  # 클리핑은 여기서 (옵티마이저 인자)
        step_norm = tf.linalg.global_norm([v - b for v, b in zip(model.trainable_variables, before)])
        return loss, grad_norm, step_norm

    return train_step


def train(model, optimizer, batches, log_dir=None, name="run"):
    """Runs the steps over `batches` ((x, y) pairs); stops at the first loss or gradient that is inf or NaN.

    Returns {"losses", "grad_norms", "step_norms"} (arrays, one entry per step) and "diverged" (bool).
    With log_dir, each step's loss, grad_norm and step_norm go to TensorBoard under `name/`.
    """
    train_step = make_train_step(model, optimizer)
    losses, grad_norms, step_norms = [], [], []
    diverged = False
    writer = tb.writer(log_dir, name) if log_dir is not None else None
    for step, (x, y) in enumerate(batches):
        loss, grad_norm, step_norm = (float(t) for t in train_step(x, y))
        if not (math.isfinite(loss) and math.isfinite(grad_norm)):
            # 발산(divergence): 일부러 보여 주는 실패라서 실행 전체를 끝내지(tb.stop_on_nan) 않고 이 학습만 멈춥니다.
            diverged = True
            print(f"  {name}: loss {loss:.3g}, gradient norm {grad_norm:.3g} at step {step}: diverged, stopped")
            break
        losses.append(loss)
        grad_norms.append(grad_norm)
        step_norms.append(step_norm)
        if writer is not None:
            with writer.as_default():
                tf.summary.scalar("loss", loss, step=step)
                tf.summary.scalar("grad_norm", grad_norm, step=step)
                tf.summary.scalar("step_norm", step_norm, step=step)
    if writer is not None:
        writer.flush()
    return {"losses": np.array(losses), "grad_norms": np.array(grad_norms), "step_norms": np.array(step_norms),
            "diverged": diverged}


def minibatches(x, y, batch_size, epochs, seed=42):
    """Yields (x, y) mini-batches, reshuffled every epoch."""
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            batch = order[start:start + batch_size]
            yield x[batch], y[batch]


# 4. 1부: 너무 큰 학습률의 선형 회귀 / Part 1: linear regression with a step that is too large
def run_linear(x, y, variant, learning_rate, clip, epochs, batch_size, seed=42, log_dir=None):
    """Trains the linear model with one clipping variant; returns train()'s record plus the final weights and loss.

    클리핑은 학습률을 고쳐 주지 않습니다. 기울기가 클 때(멀리서 출발할 때)는 한 스텝을 학습률 × c로 묶어 발산을
    막지만, 최소점 근처에서 기울기가 c보다 작아지면 클리핑이 꺼지고 여전히 너무 큰 학습률이 다시 지나치게 합니다.
    그래서 가중치는 최소점에 딱 멈추지 않고, 기울기가 c쯤 되는 가까운 거리 안에서 오락가락합니다. 제대로 된
    처방은 특성을 표준화하거나(같은 크기로 맞추기) 학습률을 한계 아래로 줄이는 것입니다.
    """
    model = build_linear_model()
    record = train(model, make_optimizer(variant, learning_rate, clip), minibatches(x, y, batch_size, epochs, seed),
                   log_dir, f"linear/{variant}")
    kernel, bias = model.layers[0].get_weights()
    with np.errstate(over="ignore", invalid="ignore"):  # 발산한 가중치로는 inf가 나옵니다: 그대로 기록합니다
        final_loss = float(np.mean((x @ kernel + bias - y) ** 2))  # 데이터 전체의 MSE
    record.update(w=kernel.ravel(), b=float(bias[0]), final_loss=final_loss,
                  weight_error=float(np.max(np.abs(np.r_[kernel.ravel() - TRUE_W, bias - TRUE_B]))))
    return record


# 5. 2부: 순환 신경망의 기울기 폭주 / Part 2: exploding gradients in a plain RNN
def run_rnn(variant, x, y, x_measure, y_measure, learning_rate, clip, recurrent_gain=1.5, seed=42, log_dir=None):
    """Trains a fresh RNN on (x, y) in batches of RNN_BATCH_SIZE, one pass; measures the loss before and after."""
    # 클리핑이 없으면 첫 스텝의 ‖g‖가 문턱보다 몇 자릿수 커서, 한 번의 갱신이 가중치를 제 크기의 몇 배나
    # 옮깁니다. 그 뒤로 망은 돌아오지 못하고 손실이 inf가 됩니다. global_clipnorm이면 한 스텝이 학습률 × c를
    # 넘지 않아서, 작은 걸음으로 폭주하는 영역을 빠져나와 첫 값을 기억하는 법을 배웁니다.
    model = build_rnn(x.shape[1], RNN_UNITS, recurrent_gain, seed)
    loss_fn = keras.losses.MeanSquaredError()
    initial_loss = float(loss_fn(y_measure, model(x_measure)))
    batches = ((x[i:i + RNN_BATCH_SIZE], y[i:i + RNN_BATCH_SIZE]) for i in range(0, len(x), RNN_BATCH_SIZE))
    record = train(model, make_optimizer(variant, learning_rate, clip), batches, log_dir, f"rnn/{variant}")
    final_loss = math.nan if record["diverged"] else float(loss_fn(y_measure, model(x_measure)))
    # 학습 배치의 손실은 아직 유한해도 가중치가 이미 터져서 측정 배치의 손실이 inf일 수 있습니다: 그것도 발산입니다.
    # NaN과 inf는 metrics.json에 null로 적힙니다.
    record.update(initial_loss=initial_loss, final_loss=final_loss,
                  diverged=record["diverged"] or not math.isfinite(final_loss))
    return record


# 6. 그림 / Figures: loss, gradient norm and step size per step
def plot_runs(runs, threshold, learning_rate, floor, title, path, log_dir):
    """Three log-scale panels, one line per variant; a run that diverged ends with ×.

    floor: (loss, label), a reference line in the loss panel (the lowest reachable loss, or a baseline).
    """
    plt = tb.pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
    panels = (("losses", "손실 / loss (MSE)"), ("grad_norms", "클리핑 전 기울기 노름 / gradient norm ‖g‖ before clipping"),
              ("step_norms", "실제로 움직인 거리 / step size ‖Δθ‖"))
    # 발산하는 손실은 10³⁰을 넘어갑니다: 손실 그림은 처음 손실의 1000배에서 자르고 ×를 위 가장자리에 찍습니다.
    loss_top = 1e3 * max(run["losses"][0] for run in runs.values() if len(run["losses"]))
    for ax, (key, label) in zip(axes, panels):
        top = loss_top if key == "losses" else math.inf
        for variant, run in runs.items():
            values = run[key]
            if not len(values):
                continue
            ax.semilogy(values, color=COLORS[variant], lw=1.2, label=variant)
            if run["diverged"]:
                ax.semilogy(len(values) - 1, min(values[-1], top), "x", color=COLORS[variant], ms=10, mew=2,
                            clip_on=False)
        ax.set(xlabel="step", title=label)
    axes[0].set_ylim(min(run["losses"].min() for run in runs.values() if len(run["losses"])) / 2, loss_top)
    axes[0].axhline(floor[0], color="k", ls="--", lw=1, label=floor[1])
    if any(run["diverged"] for run in runs.values()):
        axes[0].plot([], [], "x", color="k", ms=8, mew=2, label="발산 / diverged (inf or NaN)")
    axes[1].axhline(threshold, color="k", ls=":", lw=1, label=f"c = {threshold:g}")
    axes[2].axhline(learning_rate * threshold, color="k", ls=":", lw=1, label=f"학습률 × c = {learning_rate * threshold:g}")
    for ax in axes:
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return tb.save_figure(fig, Path(log_dir) / path, log_dir=log_dir)


def main(argv=None):
    args = flags.parse(PARSER, argv)
    for name in ("clip", "rnn_learning_rate", "recurrent_gain"):
        if getattr(args, name) <= 0:
            PARSER.error(f"--{name.replace('_', '-')} must be positive")
    if args.rnn_steps < 1 or args.seq_len < 2:
        PARSER.error("--rnn-steps must be at least 1 and --seq-len at least 2")
    rnn_steps = min(args.rnn_steps, SMOKE_RNN_STEPS) if args.smoke else args.rnn_steps
    x, y = make_linear_data(NUM_EXAMPLES, args.seed)
    x_seq, y_seq = make_recall_data(rnn_steps * RNN_BATCH_SIZE, args.seq_len, args.seed)
    x_measure, y_measure = make_recall_data(MEASURE, args.seq_len, args.seed + 1)  # 학습에 쓰지 않은 새 시퀀스
    runtime.setup(args)
    timer = tb.Timer()

    # 1부 / Part 1
    limit = stability_limit(x)
    print(f"Part 1: {len(x)} examples; plain SGD is stable for learning rates below 2/λ_max = {limit:.4f}; "
          f"this run uses {args.learning_rate:g} ({args.learning_rate / limit:.2f} × the limit)")
    metrics = {"linear_learning_rate": args.learning_rate, "linear_stability_limit": limit,
               "linear_min_loss": least_squares_loss(x, y)}
    linear_runs = {}
    for variant in LINEAR_VARIANTS:
        run = run_linear(x, y, variant, args.learning_rate, args.clip, args.epochs, args.batch_size, args.seed,
                         args.log_dir)
        linear_runs[variant] = run
        print(f"  {variant}: {len(run['losses'])} steps, loss on all the data {run['final_loss']:.4g}, "
              f"w = {np.round(run['w'], 3)}, b = {run['b']:.3f}, max gradient norm {run['grad_norms'].max():.3g}")
        metrics.update({f"linear_{variant}_diverged": int(run["diverged"]), f"linear_{variant}_steps": len(run["losses"]),
                        f"linear_{variant}_final_loss": run["final_loss"],
                        f"linear_{variant}_weight_error": run["weight_error"],
                        f"linear_{variant}_max_grad_norm": run["grad_norms"].max(),
                        f"linear_{variant}_max_step_norm": run["step_norms"].max()})
    plot_runs(linear_runs, args.clip, args.learning_rate, (metrics["linear_min_loss"], "최소 제곱의 손실 / least squares"),
              f"선형 회귀, 학습률 {args.learning_rate:g} (안정 한계 {limit:.3f}) / linear regression with a step "
              "that is too large: plain SGD vs clipping", "linear_regression.png", args.log_dir)

    # 2부 / Part 2
    print(f"Part 2: SimpleRNN({RNN_UNITS}), sequences of {args.seq_len} steps, recurrent gain {args.recurrent_gain:g}, "
          f"{rnn_steps} SGD steps of {RNN_BATCH_SIZE}; predicting 0 scores {BASELINE_LOSS:.3f}")
    rnn_runs = {}
    for variant in RNN_VARIANTS:
        run = run_rnn(variant, x_seq, y_seq, x_measure, y_measure, args.rnn_learning_rate, args.clip,
                      args.recurrent_gain, args.seed, args.log_dir)
        rnn_runs[variant] = run
        print(f"  {variant}: {len(run['losses'])} steps, loss {run['initial_loss']:.4g} -> {run['final_loss']:.4g}, "
              f"max gradient norm {run['grad_norms'].max():.3g}")
        metrics.update({f"rnn_{variant}_diverged": int(run["diverged"]), f"rnn_{variant}_steps": len(run["losses"]),
                        f"rnn_{variant}_final_loss": run["final_loss"],
                        f"rnn_{variant}_max_grad_norm": run["grad_norms"].max()})
    metrics.update(rnn_initial_loss=rnn_runs["none"]["initial_loss"], rnn_baseline_loss=BASELINE_LOSS)
    plot_runs(rnn_runs, args.clip, args.rnn_learning_rate, (BASELINE_LOSS, "늘 0을 예측 / always predict 0"),
              f"SimpleRNN, {args.seq_len} 스텝, 순환 가중치 gain {args.recurrent_gain:g} / exploding gradients "
              "with and without global_clipnorm", "rnn.png", args.log_dir)
    return tb.write_metrics(args.log_dir, **metrics, clip=args.clip, train_seconds=round(timer.seconds(), 2))


if __name__ == "__main__":
    main()
