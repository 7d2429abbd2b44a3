"""Device, seeds, mixed precision and multi-GPU strategy for a run.

One call, `setup(args)`, after the flags are parsed and the data is loaded:
- `--device auto` uses a GPU when TensorFlow sees one, else the CPU, and says which;
- seeds Python, NumPy and TensorFlow through Keras' global seed;
- turns on mixed precision (float16 compute, float32 weights) where it pays: on GPUs
  with tensor cores (compute capability 7.0 and newer), never on a CPU by default;
- returns a tf.distribute strategy: MirroredStrategy over all GPUs when there are
  several, else the default strategy. Build and compile Keras models inside
  `strategy.scope()` so the same script runs on one GPU, many, or none.
"""

import sys
import warnings

import keras
import tensorflow as tf

from common import flags


def setup(args):
    """Configures the device for this run; returns the tf.distribute strategy to build models in."""
    gpus = tf.config.list_physical_devices("GPU")
    if args.device == "cpu" and gpus:
        tf.config.set_visible_devices([], "GPU")
        gpus = []
    elif args.device == "gpu" and not gpus:
        raise SystemExit(
            "error: --device gpu, but TensorFlow sees no GPU. Install the CUDA build with "
            "`pip install 'tensorflow[and-cuda]'` (Linux), check `nvidia-smi`, or use --device auto"
        )
    for gpu in gpus:
        tf.config.experimental.set_memory_growth(gpu, True)  # share the card with other users/processes

    keras.utils.set_random_seed(args.seed)
    # Our tf.data pipelines shuffle every epoch themselves (common.data.make_pipeline).
    warnings.filterwarnings("ignore", message=r"`shuffle=True` was passed, but will be ignored")

    use_mixed = _mixed_precision_wanted(args.mixed_precision, gpus)
    keras.mixed_precision.set_global_policy("mixed_float16" if use_mixed else "float32")

    if len(gpus) > 1:
        strategy = tf.distribute.MirroredStrategy()
    else:
        strategy = tf.distribute.get_strategy()

    if gpus:
        names = sorted({tf.config.experimental.get_device_details(g).get("device_name", "GPU") for g in gpus})
        device = f"{len(gpus)} GPU ({', '.join(names)})"
    else:
        device = "CPU" + ("" if args.device == "cpu" else " (TensorFlow sees no GPU)")
    precision = "mixed_float16" if use_mixed else "float32"
    print(f"Device: {device}; precision {precision}; replicas {strategy.num_replicas_in_sync}; TensorFlow {tf.__version__}")
    flags.update_json(
        args.log_dir / "config.json",
        device=device, precision=precision, replicas=strategy.num_replicas_in_sync, tensorflow=tf.__version__,
    )
    return strategy


def _mixed_precision_wanted(choice, gpus):
    if choice == "off":
        return False
    if choice == "on":
        if not gpus:
            print("warning: --mixed-precision on without a GPU: float16 on a CPU is usually slower", file=sys.stderr)
        return True
    for gpu in gpus:  # auto: only where tensor cores make float16 faster
        capability = tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0))
        if capability < (7, 0):
            return False
    return bool(gpus)
