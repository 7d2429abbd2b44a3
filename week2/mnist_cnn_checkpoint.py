"""MNIST CNN with checkpoints: keep the best model, survive Ctrl-C, resume where the run stopped, export.

요약: 1주차 CNN을 Keras 콜백 두 개와 함께 학습합니다. ModelCheckpoint는 검증 정확도가 가장 좋은 모델을
best.keras로 남기고, BackupAndRestore는 에포크가 끝날 때마다 가중치와 옵티마이저 상태를 저장해 두어, Ctrl-C 뒤에
`--resume`으로 다시 실행하면 마지막으로 끝난 에포크 다음부터 이어 갑니다. `--exact-resume`은 그 위에 한 걸음 더:
에포크 중간에서 멈춘 자리부터 이어 가서, 끊김 없이 학습한 것과 같은 가중치를 얻습니다(CPU에서는 비트 단위까지).

Run:    python week2/mnist_cnn_checkpoint.py     (Ctrl-C while it trains: it prints the command that resumes)
Resume: python week2/mnist_cnn_checkpoint.py --resume --log-dir runs/mnist_cnn_checkpoint/<run>
Exact:  python week2/mnist_cnn_checkpoint.py --exact-resume     (then --resume as above)
Smoke:  python week2/mnist_cnn_checkpoint.py --smoke
Expect: test accuracy about 0.994 after 6 epochs, about a minute on a 2-core CPU (README table).
        The run folder gets checkpoints/best.keras (the best epoch by validation accuracy),
        checkpoints/latest.json (history, best epoch, seconds of training), model.keras, saved_model/
        and history.png (accuracy per epoch, a dashed line where the run was resumed).
"""

import copy
import json
import math
import os
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
PARSER = flags.make_parser(__file__, __doc__, epochs=6, batch_size=64, learning_rate=3e-3)
PARSER.add_argument("--dropout", type=float, default=0.25, help="dropout around the dense layer (default: %(default)s)")
PARSER.add_argument(
    "--resume", action="store_true",
    help="continue the interrupted run in --log-dir DIR from its last checkpoint, with that run's settings",
)
PARSER.add_argument(
    "--exact-resume", action="store_true",
    help="also save on Ctrl-C mid-epoch and resume from that very batch, with the same data order and "
    "Dropout masks: on a CPU the resumed run ends with the very weights of an uninterrupted one",
)
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
import tensorflow as tf
from keras import layers

from common import data, runtime, tb

NUM_CLASSES = 10
VALIDATION = 5000  # 학습 세트의 마지막 5,000장: 검증 세트 (가장 좋은 에포크를 고르고, 학습에는 쓰지 않음)
SMOKE_TRAIN, SMOKE_VALIDATION, SMOKE_TEST = 1000, 200, 500
CHECKPOINTS = "checkpoints"  # 실행 폴더 안의 체크포인트 폴더
STATE = "latest.json"  # 실행의 기록(설정, 에포크별 정확도, 학습 시간); 체크포인트 파일 다음에 씁니다
# --resume은 실행을 바꾸지 않고 이어 가므로, 이 설정들은 처음 실행한 값을 그대로 씁니다.
RESUME_SETTINGS = ("epochs", "batch_size", "learning_rate", "seed", "dropout", "smoke", "exact_resume")


# 1. 데이터 / Prepare the data
def load_data(data_dir=None, smoke=False):
    """Returns (x_train, y_train), (x_val, y_val), (x_test, y_test); images (N, 28, 28, 1) in [0, 1]."""
    (x_train, y_train), (x_test, y_test) = data.load_mnist(data_dir)
    if smoke:
        x_train, y_train = x_train[:SMOKE_TRAIN], y_train[:SMOKE_TRAIN]
        x_test, y_test = x_test[:SMOKE_TEST], y_test[:SMOKE_TEST]
    x_train = x_train[..., None].astype("float32") / 255  # (28, 28) -> (28, 28, 1): 흑백 채널 하나
    x_test = x_test[..., None].astype("float32") / 255
    n_val = SMOKE_VALIDATION if smoke else VALIDATION
    x_val, y_val = x_train[-n_val:], y_train[-n_val:]
    x_train, y_train = x_train[:-n_val], y_train[:-n_val]
    print(f"Data: {len(x_train)} train, {len(x_val)} validation, {len(x_test)} test images")
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)


# 2. 모델 / Build the model (the week-1 CNN)
def build_model(learning_rate=3e-3, dropout=0.25, total_steps=1000):
    """Two conv/pool blocks, a 128-unit dense layer, softmax over 10 digits; compiled with Adam."""
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu", name="conv1"),  # (26, 26, 32)
            layers.MaxPooling2D(2),  # (13, 13, 32)
            layers.Conv2D(64, 3, activation="relu", name="conv2"),  # (11, 11, 64)
            layers.MaxPooling2D(2),  # (5, 5, 64)
            layers.Flatten(),  # 1,600개 특징
            layers.Dropout(dropout),
            layers.Dense(128, activation="relu"),
            layers.Dropout(dropout),
            layers.Dense(NUM_CLASSES),
            layers.Activation("softmax", dtype="float32"),  # 혼합 정밀도(mixed precision)에서도 확률은 float32로
        ],
        name="cnn",
    )
    # 학습률 스케줄은 옵티마이저의 스텝 수를 읽습니다: 스텝 수를 복원하면 스케줄의 위치도 복원됩니다.
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=total_steps)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model


# 3. 체크포인트: Keras의 방법 / Checkpoints the Keras way
def keras_checkpoints(folder, best_so_far=None):
    """The two Keras callbacks this lesson is about: [ModelCheckpoint, BackupAndRestore].

    ModelCheckpoint writes best.keras after every epoch whose validation accuracy beats the best so far.
    BackupAndRestore writes the weights, the optimizer's state and the epoch number to backup/ after every
    epoch; the next model.fit given the same folder loads them and starts at the following epoch (a partly
    done epoch starts over). A fit that finishes deletes backup/.
    """
    return [
        # initial_value_threshold: 재개 전까지 가장 좋았던 검증 정확도. 새 ModelCheckpoint는 "아직 최고 없음"에서
        # 시작하므로, 이것이 없으면 재개 뒤의 더 나쁜 에포크가 best.keras를 덮어씁니다.
        keras.callbacks.ModelCheckpoint(
            folder / "best.keras", monitor="val_accuracy", mode="max", save_best_only=True,
            initial_value_threshold=best_so_far, verbose=1,
        ),
        keras.callbacks.BackupAndRestore(folder / "backup"),
    ]


class Progress(keras.callbacks.Callback):
    """Keeps the run's record in `state` across runs: a row per epoch, the best epoch, seconds of training.

    After every epoch it calls `save(state)`; on Ctrl-C the training functions save the state themselves.
    """

    def __init__(self, state, save):
        super().__init__()
        self.state, self.save = state, save
        self.seconds_before, self.timer = state["train_seconds"], tb.Timer()

    def on_epoch_end(self, epoch, logs=None):
        self.state["history"].append({"epoch": epoch + 1, **{k: float(v) for k, v in logs.items()}})
        best = self.state["best_val_accuracy"]
        if best is None or logs["val_accuracy"] > best:  # ModelCheckpoint와 같은 규칙: 더 좋을 때만
            self.state["best_val_accuracy"], self.state["best_epoch"] = float(logs["val_accuracy"]), epoch + 1
        self.save(self.update_seconds())

    def update_seconds(self):
        """Adds this run's seconds so far to those of the runs before it; returns the state."""
        self.state["train_seconds"] = round(self.seconds_before + self.timer.seconds(), 2)
        return self.state


def new_state(args):
    return {"settings": {k: getattr(args, k) for k in RESUME_SETTINGS}, "history": [], "resumed_at_epochs": [],
            "best_val_accuracy": None, "best_epoch": None, "train_seconds": 0.0, "finished": False}


def read_state(log_dir):
    """The record in <run>/checkpoints/latest.json, or None when the run has none."""
    path = Path(log_dir) / CHECKPOINTS / STATE
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise SystemExit(f"error: {path} is unreadable ({e}); start a new run in a new --log-dir") from None


def write_state(folder, state):
    """Writes latest.json under a temporary name, then renames it (os.replace is atomic): never half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    flags.save_json(folder / f"saving-{STATE}", state)
    os.replace(folder / f"saving-{STATE}", folder / STATE)


def train(model, state, x_train, y_train, x_val, y_val, epochs, batch_size, log_dir, seed=42, callbacks=()):
    """model.fit with ModelCheckpoint and BackupAndRestore; returns the epoch it started from (0 unless resumed).

    A resumed run calls this again with the same log_dir, and BackupAndRestore loads the last finished
    epoch. On Ctrl-C it records the seconds so far, says what was kept and lets KeyboardInterrupt go on.
    """
    folder = Path(log_dir) / CHECKPOINTS
    train_ds = data.make_pipeline(x_train, y_train, batch_size=batch_size, shuffle=True, seed=seed)
    val_ds = data.make_pipeline(x_val, y_val, batch_size=1000)
    progress = Progress(state, lambda s: write_state(folder, s))
    start = len(state["history"])  # BackupAndRestore가 저장한 마지막 에포크 = 기록된 에포크 수
    try:
        model.fit(
            train_ds, validation_data=val_ds, epochs=epochs, verbose=2,
            callbacks=[tb.tensorboard_callback(log_dir), tb.StopOnNaN(log_dir),
                       *keras_checkpoints(folder, state["best_val_accuracy"]), progress, *callbacks],
        )
    except KeyboardInterrupt:
        write_state(folder, progress.update_seconds())
        done = len(state["history"])
        kept = f"the end of epoch {done} is kept in {shown(folder / 'backup')}" if done else "no epoch had finished"
        print(f"\nInterrupted during epoch {done + 1} of {epochs}; {kept}, so epoch {done + 1} starts over.",
              file=sys.stderr)
        raise  # main() prints how to resume
    return start


# 4. 더 나아가기: 에포크 중간에서 정확히 이어 가기 / Extra: resume exactly, mid-epoch included (--exact-resume)
# 끊김 없이 학습한 것과 같은 결과를 얻으려면 체크포인트에 세 가지가 있어야 합니다.
# - 가중치와 옵티마이저 상태: Adam의 모멘트와 스텝 수(학습률 스케줄의 위치). model.save가 모두 씁니다.
# - 데이터의 위치: 스텝 수가 다음 에포크와 배치를 정하고, 에포크마다의 순서는 (seed, epoch)로 정해집니다.
# - 드롭아웃(dropout)의 난수 상태: model.save가 빼놓으므로 latest.json에 둡니다.
def training_batches(x_train, y_train, batch_size, epochs, seed, start_step):
    """Every training batch of the run, from global step `start_step` on.

    Epoch e's order is a permutation drawn from the seed pair (seed, e), so it is the same in every
    run and a resumed run skips to exactly the batch where the interrupted one stopped. (A shuffle
    that reshuffles each epoch draws from a random state inside the running process, so after a
    restart its order would differ.)
    """
    x, y = tf.constant(x_train), tf.constant(y_train)

    def one_epoch(epoch):
        # 무작위 키를 정렬하면 무작위 순열이 되고, 같은 키는 같은 순열을 줍니다.
        keys = tf.random.stateless_uniform([len(x_train)], seed=tf.stack([tf.constant(seed, tf.int64), epoch]))
        return tf.data.Dataset.from_tensor_slices(tf.argsort(keys)).batch(batch_size)

    def gather(indices):
        return tf.gather(x, indices), tf.gather(y, indices)

    indices = tf.data.Dataset.range(epochs).flat_map(one_epoch).skip(start_step)
    return indices.map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def random_state(model):
    """Dropout's random-number generator states: `model.variables` minus `model.weights`."""
    weights = {id(w) for w in model.weights}
    return [v for v in model.variables if id(v) not in weights]


def save_checkpoint(model, folder, state):
    """Writes step-<N>.keras (weights + optimizer), then latest.json naming it; deletes older steps.

    Both are written under a temporary name and renamed into place, so a second Ctrl-C or a crash
    while saving leaves the previous checkpoint whole and still named by latest.json.
    """
    folder.mkdir(parents=True, exist_ok=True)
    step = int(model.optimizer.iterations.numpy())
    name = f"step-{step:07d}.keras"
    model.save(folder / f"saving-{name}")
    os.replace(folder / f"saving-{name}", folder / name)
    state.update(file=name, step=step, random_state=[v.numpy().tolist() for v in random_state(model)])
    write_state(folder, state)
    for old in folder.glob("step-*.keras"):
        if old.name != name:
            old.unlink()
    return folder / name


def restore_checkpoint(folder, state):
    """Loads the model (weights, optimizer, its step counter) and Dropout's random state."""
    path = folder / state["file"]
    try:
        model = keras.models.load_model(path)
    except Exception as e:  # 없거나 손상된 파일은 Keras, h5py, zipfile 안에서 여러 방식으로 실패합니다
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise SystemExit(f"error: cannot load checkpoint {path} ({reason}); start a new run without --resume") from None
    for variable, value in zip(random_state(model), state["random_state"]):
        variable.assign(value)
    return model


def train_exact(model, state, x_train, y_train, x_val, y_val, epochs, batch_size, log_dir, seed=42, callbacks=()):
    """Like train(), but also checkpoints on Ctrl-C and resumes from that very batch; returns the starting step."""
    folder = Path(log_dir) / CHECKPOINTS
    steps_per_epoch = math.ceil(len(x_train) / batch_size)
    val_ds = data.make_pipeline(x_val, y_val, batch_size=1000)
    progress = Progress(state, lambda s: save_checkpoint(model, folder, s))
    best_model = keras_checkpoints(folder, state["best_val_accuracy"])[0]  # ModelCheckpoint; no BackupAndRestore
    callbacks = [tb.tensorboard_callback(log_dir), tb.StopOnNaN(log_dir), best_model, progress, *callbacks]
    if "file" not in state:  # 새 실행: 0번째 스텝의 체크포인트가 있어야 첫 에포크의 검증 중 Ctrl-C도 이어 갈 수 있습니다
        save_checkpoint(model, folder, state)
    # 복원된 스텝 수와 끝난 에포크 수가 시작할 에포크와 배치를 알려 줍니다.
    start, epoch = int(model.optimizer.iterations.numpy()), len(state["history"])
    batch = start - epoch * steps_per_epoch
    try:
        if batch:  # 에포크 중간에서 멈췄다면: 그 에포크를 멈춘 배치부터 먼저 끝냅니다
            print(f"Finishing epoch {epoch + 1} from batch {batch + 1} of {steps_per_epoch}")
            model.fit(
                training_batches(x_train, y_train, batch_size, epochs, seed, start),
                steps_per_epoch=steps_per_epoch - batch, validation_data=val_ds, initial_epoch=epoch,
                epochs=epoch + 1, callbacks=callbacks, verbose=2,
            )
            epoch += 1
        if epoch < epochs:
            model.fit(
                training_batches(x_train, y_train, batch_size, epochs, seed, epoch * steps_per_epoch),
                steps_per_epoch=steps_per_epoch, validation_data=val_ds, initial_epoch=epoch, epochs=epochs,
                callbacks=callbacks, verbose=2,
            )
    except KeyboardInterrupt:
        step, done = int(model.optimizer.iterations.numpy()), len(state["history"])
        if step < (done + 1) * steps_per_epoch:  # 에포크 중간: 지금 이 순간의 상태를 저장합니다
            path = save_checkpoint(model, folder, progress.update_seconds())
            print(f"\nInterrupted after {step} of {epochs * steps_per_epoch} training steps ({step / steps_per_epoch:.2f} "
                  f"of {epochs} epochs); checkpoint saved: {shown(path)}", file=sys.stderr)
        else:  # 마지막 스텝 뒤, 에포크의 끝(검증, 기록) 전: 기록 없는 에포크를 건너뛰지 않도록 앞의 체크포인트를 둡니다
            write_state(folder, progress.update_seconds())
            print(f"\nInterrupted at the end of epoch {done + 1} (validation), before it was recorded; the checkpoint "
                  f"after {state['step']} steps stays, and --resume continues from it", file=sys.stderr)
        raise  # main() prints how to resume
    return start


# 5. 그림, 내보내기 / Plot the history, export the model
def save_history(state, log_dir):
    """Train and validation accuracy per epoch over the whole run; dashed lines where it was resumed."""
    plt = tb.pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    epochs = [row["epoch"] for row in state["history"]]
    ax.plot(epochs, [row["accuracy"] for row in state["history"]], "o-", label="학습 / train")
    ax.plot(epochs, [row["val_accuracy"] for row in state["history"]], "s-", label="검증 / validation")
    for i, at in enumerate(state["resumed_at_epochs"]):
        ax.axvline(at, color="grey", linestyle="--", label="재개 / resumed" if i == 0 else None)
    ax.set(xlabel="에포크 / epoch", ylabel="정확도 / accuracy", title="에포크별 정확도 / accuracy per epoch")
    ax.legend()
    tb.save_figure(fig, Path(log_dir) / "history.png")


def export(model, log_dir):
    """model.keras for Keras (training can continue from it), saved_model/ for serving (TF Serving, TFLite)."""
    keras_path, saved_model_dir = Path(log_dir) / "model.keras", Path(log_dir) / "saved_model"
    model.save(keras_path)
    model.export(saved_model_dir, verbose=False)  # `serve` 함수 하나를 가진 SavedModel
    print(f"Saved Keras model: {shown(keras_path)}  (keras.models.load_model)")
    print(f"Saved SavedModel:  {shown(saved_model_dir)}  (tf.saved_model.load(...).serve(images))")
    return keras_path, saved_model_dir


def shown(path):
    """A path as the user would type it: relative to the current folder when it lies inside it."""
    path = Path(path).resolve()
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def resume_command(log_dir, data_dir=None):
    """The command that continues this run, as the user would type it."""
    command = f"python {shown(__file__)} --resume --log-dir {shlex.quote(shown(log_dir))}"
    if data_dir is not None:
        command += f" --data-dir {shlex.quote(str(data_dir))}"
    return command


def parse_flags(argv=None):
    """flags.parse; with --resume, the run's own settings become the defaults, so `--resume --log-dir DIR` suffices."""
    first = PARSER.parse_args(argv)
    if not first.resume:
        return flags.parse(PARSER, argv)  # 이미 무언가 들어 있는 --log-dir은 flags.parse가 거절합니다
    if first.log_dir is None:
        PARSER.error("--resume needs --log-dir DIR: the run folder to continue (printed when it was interrupted)")
    state = read_state(first.log_dir)
    if state is None:
        raise SystemExit(
            f"error: {first.log_dir / CHECKPOINTS / STATE} does not exist, so there is nothing to resume; "
            "check the folder name, or start a new run without --resume"
        )
    if state.get("finished"):
        raise SystemExit(
            f"error: the run in {first.log_dir} has finished all its epochs; its model is "
            f"{first.log_dir / 'model.keras'}. Start a new run without --resume to train again"
        )
    given = sys.argv[1:] if argv is None else argv
    for key in RESUME_SETTINGS:
        option = "--" + key.replace("_", "-")
        explicit = any(a == option or a.startswith(option + "=") for a in given)
        if explicit and getattr(first, key) != state["settings"][key]:
            PARSER.error(
                f"{option} {getattr(first, key)} differs from the run being resumed ({state['settings'][key]}); "
                f"--resume continues a run unchanged: drop {option}, or start a new run"
            )
    parser = copy.deepcopy(PARSER)  # 복사본에만 기본값을 바꿔, 같은 프로세스의 다음 main()은 원래 기본값을 씁니다
    parser.set_defaults(**state["settings"], smoke_epochs=state["settings"]["epochs"])
    return flags.parse(parser, argv, allow_existing_run=True)


def main(argv=None, callbacks=()):
    """Trains with checkpoints, evaluates once, exports. `callbacks`: extra Keras callbacks (tests simulate Ctrl-C)."""
    args = parse_flags(argv)
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_data(args.data_dir, args.smoke)
    strategy = runtime.setup(args)
    steps_per_epoch = math.ceil(len(x_train) / args.batch_size)
    folder = args.log_dir / CHECKPOINTS
    state = read_state(args.log_dir) if args.resume else new_state(args)
    with strategy.scope():
        if args.resume and args.exact_resume:
            model = restore_checkpoint(folder, state)
        else:  # 새 실행, 또는 Keras 방식의 재개: 같은 모델을 만들면 BackupAndRestore가 가중치를 채웁니다
            model = build_model(args.learning_rate, args.dropout, args.epochs * steps_per_epoch)
    if args.resume:
        at = state["step"] / steps_per_epoch if args.exact_resume else len(state["history"])
        state["resumed_at_epochs"].append(at)
        print(f"Resuming {shown(args.log_dir)} after {at:.2f} of {args.epochs} epochs")
    model.summary()
    fit = train_exact if args.exact_resume else train
    try:
        start = fit(model, state, x_train, y_train, x_val, y_val, args.epochs, args.batch_size, args.log_dir,
                    args.seed, callbacks)
    except KeyboardInterrupt:  # Ctrl-C: 학습 함수가 저장을 마쳤습니다
        print(f"Resume with:\n  {resume_command(args.log_dir, args.data_dir)}", file=sys.stderr)
        raise SystemExit(130) from None  # 130: Ctrl-C 뒤의 관례적인 종료 상태
    state["finished"] = True  # 이제 --resume으로 할 일이 없습니다
    if args.exact_resume:
        save_checkpoint(model, folder, state)
    else:
        write_state(folder, state)

    # 6. 평가 / Evaluate on the test set, once
    test_loss, test_acc = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    print(f"Test: loss {test_loss:.4f}, accuracy {test_acc:.4f}")
    save_history(state, args.log_dir)
    export(model, args.log_dir)
    start_step = start if args.exact_resume else start * steps_per_epoch
    return tb.write_metrics(
        args.log_dir, test_accuracy=test_acc, test_loss=test_loss, val_accuracy=state["history"][-1]["val_accuracy"],
        best_val_accuracy=state["best_val_accuracy"], best_epoch=state["best_epoch"],
        train_seconds=state["train_seconds"], epochs=args.epochs,
        resumed_from_epoch=start_step // steps_per_epoch, resumed_from_step=start_step,
    )


if __name__ == "__main__":
    main()
