"""TensorBoard logging, figures saved as PNG, and the run's metrics.json.

TensorBoard layout of a run folder (the same as Keras' own TensorBoard callback):
`train/` and `validation/` (or `test/`) hold event files with per-epoch scalars
named `epoch_loss`, `epoch_accuracy`, ...; images and text go where the caller says.
Open it with `tensorboard --logdir runs`.
"""

import json
import math
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from common import flags


def tensorboard_callback(log_dir):
    """Keras callback: per-epoch scalars and the model graph, under `train/` and `validation/`."""
    return keras.callbacks.TensorBoard(log_dir=str(log_dir), write_graph=True, update_freq="epoch")


class StopOnNaN(keras.callbacks.TerminateOnNaN):
    """Keras' TerminateOnNaN, but the run ends with one line that says what to do.

    A loss of NaN or infinity means the weights have blown up (usually a learning rate
    that is too large); training further or evaluating such a model means nothing.
    """

    def __init__(self, log_dir=None):
        super().__init__()
        self.log_dir = log_dir

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            stop_on_nan(loss, f"epoch {getattr(self, 'epoch', 0) + 1}, step {batch + 1}", self.log_dir)


def stop_on_nan(loss, where, log_dir=None):
    """Ends the run with one line (exit status 1) because the loss became NaN or infinite."""
    if log_dir is not None and Path(log_dir).is_dir():
        flags.save_json(Path(log_dir) / "metrics.json", {"stopped": f"loss became {float(loss)} at {where}"})
    raise SystemExit(
        f"error: the training loss became {float(loss)} at {where}, so the run stopped; the weights have "
        "blown up: try a smaller --learning-rate"
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
    """Writes metrics.json (the run's final numbers) and prints it.

    NumPy numbers become plain ones; NaN or infinity (not valid JSON) become null.
    """

    def plain(value):
        if isinstance(value, (np.floating, np.integer)):
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    metrics = {k: plain(v) for k, v in metrics.items()}
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
