"""MNIST CNN with checkpoints: save every epoch, keep the best, survive Ctrl-C, resume, export.

요약: 1주차 CNN을 그대로 학습하면서 매 에포크마다 체크포인트(checkpoint: 가중치 + 옵티마이저 상태)를
저장하고, 검증 정확도가 가장 좋은 모델을 따로 남깁니다. Ctrl-C로 멈춰도 그 순간의 상태를 저장하고,
`--resume`으로 이어서 학습하면 끊김 없이 학습한 것과 같은 결과가 나옵니다. 끝나면 서빙용으로 내보냅니다.

Run:    python week2/mnist_cnn_checkpoint.py
Resume: python week2/mnist_cnn_checkpoint.py --resume --log-dir runs/mnist_cnn_checkpoint/<run>
Smoke:  python week2/mnist_cnn_checkpoint.py --smoke
Expect: test accuracy about 0.994 after 6 epochs (about 2.5 minutes on a 2-core CPU); stopped with
        Ctrl-C and resumed, the same accuracy (on a CPU, the very same weights). The run folder
        gets checkpoints/ (latest.json, step-*.keras, best.keras), model.keras, saved_model/ and
        history.png (accuracy per epoch, with a line where the run was resumed).

What a checkpoint must hold to continue a run exactly:
- the weights and the optimizer's state: Adam's moment estimates and its step counter, which also
  sets the position in the learning-rate schedule. `model.save("x.keras")` writes all of this.
- the position in the data: the step counter says which epoch and batch come next, and each epoch's
  order is fixed by (seed, epoch) (see training_batches), so the resumed run sees the same batches.
- the random state of Dropout, which `model.save` leaves out; we keep it in latest.json.
keras.callbacks.BackupAndRestore does the first at epoch boundaries only, so it redoes a partly
finished epoch and reshuffles the data differently after a restart; that is fine for long jobs on
preemptible machines, but the runs then differ by noise rather than not at all.
"""

import json
import os
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # lets `import common` work from any folder

from common import data, flags

NUM_CLASSES = 10
VALIDATION = 5000  # the last 5,000 training images choose the best epoch; they are never trained on
SMOKE_TRAIN, SMOKE_VALIDATION, SMOKE_TEST = 1000, 200, 500
CHECKPOINTS = "checkpoints"  # sub-folder of the run folder
LATEST = "latest.json"  # names the newest checkpoint; written last, so a crash mid-save leaves the old one valid
RESUME_SETTINGS = ("epochs", "batch_size", "learning_rate", "seed", "dropout", "smoke")  # fixed for a run's life

# TensorFlow takes seconds to import, so main() imports it only after the flags and the
# data files have been checked: `--help` and a bad file answer at once.
tf = keras = layers = logs = runtime = None


def parse_args(argv=None):
    parser = flags.make_parser(__file__, __doc__, epochs=6, batch_size=64, learning_rate=3e-3)
    parser.add_argument(
        "--dropout", type=float, default=0.25, help="dropout around the dense layer (default: %(default)s)"
    )
    parser.add_argument(
        "--resume", action="store_true",
        help="continue the interrupted run in --log-dir DIR from its last checkpoint, with that run's settings",
    )
    # A first pass, before flags.parse writes config.json: with --resume, the run's own settings
    # become the defaults, so `--resume --log-dir DIR` alone continues it unchanged.
    first = parser.parse_args(argv)
    state = read_latest(first.log_dir) if first.log_dir is not None else None
    if first.resume:
        if first.log_dir is None:
            parser.error("--resume needs --log-dir DIR: the run folder to continue (printed when it was interrupted)")
        if state is None:
            raise SystemExit(
                f"error: {first.log_dir / CHECKPOINTS / LATEST} does not exist, so there is nothing to resume; "
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
                parser.error(
                    f"{option} {getattr(first, key)} differs from the run being resumed ({state['settings'][key]}); "
                    f"--resume continues a run unchanged: drop {option}, or start a new run"
                )
        parser.set_defaults(**state["settings"], smoke_epochs=state["settings"]["epochs"])
    elif state is not None:
        raise SystemExit(
            f"error: {first.log_dir} already holds a checkpoint (step {state['step']}); add --resume to continue "
            "that run, or choose another --log-dir for a new one"
        )
    return flags.parse(parser, argv)


def import_tensorflow():
    global tf, keras, layers, logs, runtime
    import keras
    import tensorflow as tf
    from keras import layers

    from common import logs, runtime


# 1. 데이터 / Prepare the data
def load_data(args):
    (x_train, y_train), (x_test, y_test) = data.load_mnist(args.data_dir)
    if args.smoke:
        x_train, y_train = x_train[:SMOKE_TRAIN], y_train[:SMOKE_TRAIN]
        x_test, y_test = x_test[:SMOKE_TEST], y_test[:SMOKE_TEST]
    # Make sure images have shape (28, 28, 1): height, width, and one grey channel.
    x_train = x_train[..., None].astype("float32") / 255
    x_test = x_test[..., None].astype("float32") / 255
    n_val = SMOKE_VALIDATION if args.smoke else VALIDATION
    x_val, y_val = x_train[-n_val:], y_train[-n_val:]
    x_train, y_train = x_train[:-n_val], y_train[:-n_val]
    print(f"Data: {len(x_train)} train, {len(x_val)} validation, {len(x_test)} test images")
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)


def training_batches(x_train, y_train, args, start_step):
    """Every training batch of the run, from global step `start_step` on.

    Epoch e's order is a permutation drawn from the seed pair (seed, e), so it is the same in
    every run: a resumed run skips to exactly the batch where the interrupted one stopped.
    (`shuffle(reshuffle_each_iteration=True)` draws each epoch's order from a random state
    that lives in the running process, so after a restart the order would differ.)
    """
    x, y = tf.constant(x_train), tf.constant(y_train)

    def one_epoch(epoch):
        # Sorting random keys gives a random permutation; the same keys give the same one.
        seed = tf.stack([tf.constant(args.seed, tf.int64), epoch])
        keys = tf.random.stateless_uniform([len(x_train)], seed=seed)
        return tf.data.Dataset.from_tensor_slices(tf.argsort(keys)).batch(args.batch_size)

    def gather(indices):
        return tf.gather(x, indices), tf.gather(y, indices)

    indices = tf.data.Dataset.range(args.epochs).flat_map(one_epoch).skip(start_step)
    return indices.map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


# 2. 모델 / Build the model (the week-1 CNN)
def build_model(args, steps_per_epoch):
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu", name="conv1"),  # (26, 26, 32)
            layers.MaxPooling2D(2),  # (13, 13, 32)
            layers.Conv2D(64, 3, activation="relu", name="conv2"),  # (11, 11, 64)
            layers.MaxPooling2D(2),  # (5, 5, 64)
            layers.Flatten(),  # 1,600 features
            layers.Dropout(args.dropout),
            layers.Dense(128, activation="relu"),
            layers.Dropout(args.dropout),
            layers.Dense(NUM_CLASSES),
            layers.Activation("softmax", dtype="float32"),  # float32 even under mixed precision
        ],
        name="cnn",
    )
    # The schedule reads the optimizer's step counter, so restoring the counter restores the position.
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, decay_steps=args.epochs * steps_per_epoch)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model


# 3. 체크포인트 / Checkpoints: save, find the newest, restore
def read_latest(log_dir):
    """The state in <run>/checkpoints/latest.json, or None when the run has no checkpoint."""
    path = Path(log_dir) / CHECKPOINTS / LATEST
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise SystemExit(
            f"error: {path} is unreadable ({e}); delete the run folder's checkpoints/ and start a new run"
        ) from None


def random_state(model):
    """Dropout's random-number generator states: `model.variables` minus `model.weights`."""
    weights = {id(w) for w in model.weights}
    return [v for v in model.variables if id(v) not in weights]


def save_checkpoint(model, folder, state):
    """Writes step-<N>.keras (weights + optimizer), then latest.json naming it; deletes older steps.

    Each file is written under a temporary name and renamed into place (os.replace is atomic), so
    a second Ctrl-C or a crash while saving leaves the previous checkpoint whole and still named.
    """
    folder.mkdir(parents=True, exist_ok=True)
    step = int(model.optimizer.iterations.numpy())
    name = f"step-{step:07d}.keras"
    model.save(folder / f"saving-{name}")
    os.replace(folder / f"saving-{name}", folder / name)
    state = dict(state, file=name, step=step, random_state=[v.numpy().tolist() for v in random_state(model)])
    flags.save_json(folder / f"saving-{LATEST}", state)
    os.replace(folder / f"saving-{LATEST}", folder / LATEST)
    for old in folder.glob("step-*.keras"):
        if old.name != name:
            old.unlink()
    return folder / name


def restore_checkpoint(folder, state):
    """Loads the model (weights, optimizer, its step counter) and Dropout's random state."""
    path = folder / state["file"]
    try:
        model = keras.models.load_model(path)
    except Exception as e:  # a missing or damaged file fails in many ways inside Keras, h5py and zipfile
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise SystemExit(
            f"error: cannot load checkpoint {path} ({reason}); start a new run without --resume"
        ) from None
    for variable, value in zip(random_state(model), state["random_state"]):
        variable.assign(value)
    return model


def shown(path):
    """A path as the user would type it: relative to the current folder when it lies inside it."""
    path = Path(path).resolve()
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def resume_command(args):
    command = f"python {shown(__file__)} --resume --log-dir {shlex.quote(shown(args.log_dir))}"
    if args.data_dir is not None:
        command += f" --data-dir {shlex.quote(str(args.data_dir))}"
    return command


# 4. 학습 / Train, saving a checkpoint after every epoch and on Ctrl-C
def train(args, model, state, train_data, val_data, steps_per_epoch, callbacks=()):
    (x_train, y_train), (x_val, y_val) = train_data, val_data
    folder = args.log_dir / CHECKPOINTS
    seconds_before, timer = state["train_seconds"], logs.Timer()

    def checkpoint(epoch=None, epoch_logs=None):
        """Saves the full training state; Keras calls it after every epoch, and we call it on Ctrl-C."""
        if epoch_logs is not None:
            state["history"].append({"epoch": epoch + 1, **{k: float(v) for k, v in epoch_logs.items()}})
            if epoch_logs["val_accuracy"] > (state["best_val_accuracy"] or 0):
                state["best_val_accuracy"], state["best_epoch"] = float(epoch_logs["val_accuracy"]), epoch + 1
        state["train_seconds"] = round(seconds_before + timer.seconds(), 2)
        return save_checkpoint(model, folder, state)

    callbacks = [
        logs.tensorboard_callback(args.log_dir),
        # The best model by validation accuracy. initial_value_threshold carries the best so far
        # across a resume, so a worse epoch after it does not overwrite best.keras.
        keras.callbacks.ModelCheckpoint(
            folder / "best.keras", monitor="val_accuracy", mode="max", save_best_only=True,
            initial_value_threshold=state["best_val_accuracy"], verbose=1,
        ),
        keras.callbacks.LambdaCallback(on_epoch_end=checkpoint),
        *callbacks,
    ]
    val_ds = data.make_pipeline(x_val, y_val, batch_size=1000)
    # The optimizer's step counter (restored with it) says where this run starts: epoch and batch.
    start = int(model.optimizer.iterations.numpy())
    epoch, batch = divmod(start, steps_per_epoch)
    try:
        if batch:  # stopped inside an epoch: finish that epoch first, from the batch where it stopped
            print(f"Finishing epoch {epoch + 1} from batch {batch + 1} of {steps_per_epoch}")
            model.fit(
                training_batches(x_train, y_train, args, start), steps_per_epoch=steps_per_epoch - batch,
                validation_data=val_ds, initial_epoch=epoch, epochs=epoch + 1, callbacks=callbacks, verbose=2,
            )
            epoch += 1
        if epoch < args.epochs:
            model.fit(
                training_batches(x_train, y_train, args, epoch * steps_per_epoch), steps_per_epoch=steps_per_epoch,
                validation_data=val_ds, initial_epoch=epoch, epochs=args.epochs, callbacks=callbacks, verbose=2,
            )
    except KeyboardInterrupt:
        path = checkpoint()  # the state right now, mid-epoch included: nothing done so far is lost
        step = int(model.optimizer.iterations.numpy())
        print(
            f"\nInterrupted after {step} of {args.epochs * steps_per_epoch} training steps "
            f"({step / steps_per_epoch:.2f} of {args.epochs} epochs). Checkpoint saved: {shown(path)}\n"
            f"Resume with:\n  {resume_command(args)}",
            file=sys.stderr,
        )
        raise SystemExit(130) from None  # 130: the usual exit status after Ctrl-C
    state["train_seconds"] = round(seconds_before + timer.seconds(), 2)
    return start


# 5. 평가, 그림, 내보내기 / Evaluate, plot, export
def save_history(state, steps_per_epoch, log_dir):
    """Train and validation accuracy per epoch over the whole run; dashed lines where it was resumed."""
    plt = logs.pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    epochs = [row["epoch"] for row in state["history"]]
    ax.plot(epochs, [row["accuracy"] for row in state["history"]], "o-", label="train")
    ax.plot(epochs, [row["val_accuracy"] for row in state["history"]], "s-", label="validation")
    for i, step in enumerate(state["resumed_at_steps"]):
        ax.axvline(step / steps_per_epoch, color="grey", linestyle="--", label="재개 / resumed" if i == 0 else None)
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.legend()
    ax.set_title("에포크별 정확도 / accuracy per epoch")
    logs.save_figure(fig, Path(log_dir) / "history.png")


def export(model, log_dir):
    """model.keras for Keras (training can continue from it), saved_model/ for serving (TF Serving, TFLite)."""
    keras_path, saved_model_dir = Path(log_dir) / "model.keras", Path(log_dir) / "saved_model"
    model.save(keras_path)
    model.export(saved_model_dir, verbose=False)  # a SavedModel with one signature, `serve`
    print(f"Saved Keras model: {shown(keras_path)}  (keras.models.load_model)")
    print(f"Saved SavedModel:  {shown(saved_model_dir)}  (tf.saved_model.load(...).serve(images))")
    return keras_path, saved_model_dir


def main(argv=None, callbacks=()):
    """Trains, checkpoints and exports. `callbacks`: extra Keras callbacks (the tests simulate Ctrl-C with one)."""
    args = parse_args(argv)
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_data(args)
    import_tensorflow()
    strategy = runtime.setup(args)
    steps_per_epoch = -(-len(x_train) // args.batch_size)
    folder = args.log_dir / CHECKPOINTS
    state = read_latest(args.log_dir) if args.resume else None
    with strategy.scope():
        if state is None:
            model = build_model(args, steps_per_epoch)
            state = {"settings": {k: getattr(args, k) for k in RESUME_SETTINGS}, "history": [], "resumed_at_steps": [],
                     "best_val_accuracy": None, "best_epoch": None, "train_seconds": 0.0}
        else:
            model = restore_checkpoint(folder, state)
            state["resumed_at_steps"].append(state["step"])
            total = args.epochs * steps_per_epoch
            print(f"Resuming from {shown(folder / state['file'])}: step {state['step']} of {total}")
    model.summary()
    start = train(args, model, state, (x_train, y_train), (x_val, y_val), steps_per_epoch, callbacks)
    state["finished"] = True  # --resume now has nothing left to do
    save_checkpoint(model, folder, state)
    test_loss, test_acc = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    print(f"Test: loss {test_loss:.4f}, accuracy {test_acc:.4f}")
    save_history(state, steps_per_epoch, args.log_dir)
    export(model, args.log_dir)
    return logs.write_metrics(
        args.log_dir, test_accuracy=test_acc, test_loss=test_loss, train_seconds=state["train_seconds"],
        epochs=args.epochs, resumed_from_epoch=start // steps_per_epoch, resumed_from_step=start,
        best_val_accuracy=state["best_val_accuracy"], best_epoch=state["best_epoch"],
    )


if __name__ == "__main__":
    main()
