"""TensorBoard logging, figures saved as PNG, and the run's metrics.json.

TensorBoard layout of a run folder (the same as Keras' own TensorBoard callback):
`train/` and `validation/` (or `test/`) hold event files with per-epoch scalars
named `epoch_loss`, `epoch_accuracy`, ...; images and text go where the caller says.
Open it with `tensorboard --logdir runs`.
"""

import json
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from common import flags


def tensorboard_callback(log_dir, histograms=False):
    """Keras callback: per-epoch scalars and the model graph; weight histograms if asked."""
    return keras.callbacks.TensorBoard(
        log_dir=str(log_dir), histogram_freq=1 if histograms else 0, write_graph=True, update_freq="epoch"
    )


def writer(log_dir, name):
    """A summary writer for the sub-folder `name` ("train", "test", ...) of the run folder."""
    return tf.summary.create_file_writer(str(Path(log_dir) / name))


def image_grid(images, ncols=None, pad=1):
    """Tiles images (N, H, W[, C]) with values in [0, 1] into one (rows*H, cols*W, C) array."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:
        images = images[..., None]
    n, h, w, c = images.shape
    ncols = ncols or int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    grid = np.ones((nrows * (h + pad) - pad, ncols * (w + pad) - pad, c), dtype=np.float32)
    for i, image in enumerate(images):
        r, k = divmod(i, ncols)
        grid[r * (h + pad):r * (h + pad) + h, k * (w + pad):k * (w + pad) + w] = image
    return grid


def log_image(log_dir, name, tag, image, step=0, description=None):
    """Writes one image (H, W[, C]) in [0, 1] to TensorBoard under `tag`."""
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 2:
        image = image[..., None]
    with writer(log_dir, name).as_default():
        tf.summary.image(tag, image[None], step=step, description=description)


def log_text(log_dir, name, tag, text, step=0):
    """Writes markdown text to TensorBoard's Text tab."""
    with writer(log_dir, name).as_default():
        tf.summary.text(tag, text, step=step)


def pyplot():
    """matplotlib.pyplot with a file-only backend and fonts that render Korean.

    DejaVu Sans comes first for Latin text and math signs (NanumGothic lacks the minus sign
    of log-scale ticks such as 10⁻³); Hangul falls back to NanumGothic from koreanize-matplotlib.
    """
    import matplotlib

    matplotlib.use("Agg")
    import koreanize_matplotlib  # noqa: F401  (registers NanumGothic so 한글 renders, not boxes)
    import matplotlib.pyplot as plt

    plt.rcParams["font.family"] = ["DejaVu Sans", "NanumGothic"]
    return plt


def save_figure(fig, path, log_dir=None, tag=None):
    """Saves a matplotlib figure as PNG and closes it; returns the path.

    With `log_dir`, the same picture also goes to TensorBoard's Images tab under
    `figures/<tag>` (tag defaults to the file name without .png).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt = pyplot()
    plt.close(fig)
    print(f"Saved figure: {path}")
    if log_dir is not None:
        log_image(log_dir, "figures", tag or path.stem, plt.imread(path))
    return path


def write_metrics(log_dir, **metrics):
    """Writes metrics.json (the run's final numbers) and prints it."""
    metrics = {k: (float(v) if isinstance(v, (np.floating, np.integer)) else v) for k, v in metrics.items()}
    flags.save_json(Path(log_dir) / "metrics.json", metrics)
    print("Metrics: " + json.dumps(metrics, ensure_ascii=False))
    return metrics


def read_scalars(log_dir):
    """Reads every scalar under a run folder: {"train/epoch_loss": [(step, value), ...], ...}."""
    from tensorboard.compat.proto import event_pb2

    scalars = {}
    for path in sorted(Path(log_dir).rglob("events.out.tfevents.*")):
        prefix = path.parent.relative_to(log_dir).as_posix()
        for record in tf.data.TFRecordDataset(str(path)):
            event = event_pb2.Event.FromString(record.numpy())
            for value in event.summary.value:
                if value.HasField("simple_value"):
                    number = value.simple_value
                elif value.metadata.plugin_data.plugin_name == "scalars":
                    number = float(tf.make_ndarray(value.tensor))
                else:
                    continue
                tag = f"{prefix}/{value.tag}" if prefix != "." else value.tag
                scalars.setdefault(tag, []).append((event.step, number))
    return scalars


class Timer:
    """Wall-clock seconds since creation: `timer = Timer(); ...; timer.seconds()`."""

    def __init__(self):
        self.start = time.perf_counter()

    def seconds(self):
        return time.perf_counter() - self.start


class TimeToAccuracy(keras.callbacks.Callback):
    """Measures how long training takes to first reach `target` accuracy on (x, y).

    Evaluates every `every` training steps and at each epoch's end. Only time spent in
    training counts: the evaluations themselves are excluded, so models that are
    evaluated equally often are compared fairly. Logs `epoch_loss` and `epoch_accuracy`
    under `<log_dir>/test` for TensorBoard. With `stop_at_target`, training stops once
    the target is reached (used for baselines).
    """

    def __init__(self, x, y, target, every=None, log_dir=None, stop_at_target=False, batch_size=1000):
        super().__init__()
        self.x, self.y, self.target, self.every = x, y, target, every
        self.writer = writer(log_dir, "test") if log_dir else None
        self.stop_at_target, self.batch_size = stop_at_target, batch_size
        self.seconds_to_target = None
        self.curve = []  # (train seconds, epochs done, accuracy)

    def on_train_begin(self, logs=None):
        self.train_seconds, self.steps = 0.0, 0
        self.started = time.perf_counter()

    def _evaluate(self, epochs_done):
        self.train_seconds += time.perf_counter() - self.started
        loss, accuracy = self.model.evaluate(self.x, self.y, batch_size=self.batch_size, verbose=0)[:2]
        self.curve.append((round(self.train_seconds, 2), round(epochs_done, 3), float(accuracy)))
        if self.seconds_to_target is None and accuracy >= self.target:
            self.seconds_to_target = self.train_seconds
            print(f"  reached test accuracy {accuracy:.4f} >= {self.target} after {self.train_seconds:.1f}s of training")
            if self.stop_at_target:
                self.model.stop_training = True
        self.started = time.perf_counter()
        return loss, accuracy

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if self.every and (batch + 1) % self.every == 0 and (batch + 1) < self.params.get("steps", 0):
            self._evaluate(self.epoch + (batch + 1) / self.params["steps"])

    def on_epoch_end(self, epoch, logs=None):
        loss, accuracy = self._evaluate(epoch + 1)
        print(f"  epoch {epoch + 1}: test accuracy {accuracy:.4f}, {self.train_seconds:.1f}s of training")
        if self.writer:
            with self.writer.as_default():
                tf.summary.scalar("epoch_loss", loss, step=epoch)
                tf.summary.scalar("epoch_accuracy", accuracy, step=epoch)
