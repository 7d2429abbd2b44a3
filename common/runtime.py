"""Device, seeds, mixed precision and multi-GPU strategy for a run.

One call, `setup(args)`, after the flags are parsed and the data is loaded:
- creates the run folder and writes config.json (the flags, the device, the versions);
- `--device auto` uses a GPU when TensorFlow sees one, else the CPU, and says which;
- seeds Python, NumPy and TensorFlow through Keras' global seed;
- turns on mixed precision (16-bit compute, float32 weights) where it is expected to help:
  float16 on GPUs with tensor cores (compute capability 7.0 and newer); bfloat16 on a CPU
  only for scripts that ask for it (`cpu_bfloat16=True`: week2/cifar10_fast.py) and only on
  CPUs with AMX bfloat16 units (Intel Xeon since Sapphire Rapids), never on a laptop CPU.
  No record in results/ compares the speeds yet (the recorded runs are float32 on CPUs);
- returns a tf.distribute strategy: MirroredStrategy over all GPUs when there are
  several, else the default strategy. Build and compile Keras models inside
  `strategy.scope()` so the same script runs on one GPU, many, or none;
- makes Ctrl-C end the run with one line instead of a traceback (exit status 130),
  keeping what was written to the run folder, and says in one line what to do when
  the device runs out of memory (on a shared GPU, usually other users' processes).
"""

import sys
import warnings

import keras
import tensorflow as tf

from common import flags, tb


def setup(args, cpu_bfloat16=False):
    """Configures the device for this run; returns the tf.distribute strategy to build models in.

    cpu_bfloat16: with `--mixed-precision auto`, compute in bfloat16 on a CPU that has AMX
    bfloat16 units. Pass True only where a benchmark showed it faster.
    """
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

    precision = _precision(args.mixed_precision, gpus, cpu_bfloat16)
    keras.mixed_precision.set_global_policy(precision)

    if len(gpus) > 1:
        strategy = tf.distribute.MirroredStrategy()
    else:
        strategy = tf.distribute.get_strategy()

    if gpus:
        names = sorted({tf.config.experimental.get_device_details(g).get("device_name", "GPU") for g in gpus})
        device = f"{len(gpus)} GPU ({', '.join(names)})"
    else:
        device = "CPU" + ("" if args.device == "cpu" else " (TensorFlow sees no GPU)")
    print(f"Device: {device}; precision {precision}; replicas {strategy.num_replicas_in_sync}; TensorFlow {tf.__version__}")
    flags.start_run(
        args, device=device, precision=precision, replicas=strategy.num_replicas_in_sync, tensorflow=tf.__version__,
        keras=keras.__version__,
    )
    sys.excepthook = error_hook(args.log_dir, getattr(args, "batch_size", None), bool(gpus))
    return strategy


def error_hook(log_dir, batch_size=None, on_gpu=False):
    """An excepthook that reports Ctrl-C and out-of-memory in one line each, and leaves the run folder as it is.

    After Ctrl-C Python still exits with status 130 (interrupted); metrics.json, if the run had not
    written one, records that it was interrupted, so a reader of the folder knows. Running out of
    memory prints what to try and exits with status 1. Every other exception gets Python's usual traceback.
    """

    def hook(kind, value, traceback):
        if issubclass(kind, tf.errors.ResourceExhaustedError):
            smaller = f"--batch-size {max(1, batch_size // 2)}" if batch_size else "a smaller --batch-size"
            where = ("GPU memory is used up, often by other processes on a shared GPU (see `nvidia-smi`)"
                     if on_gpu else "the computer's memory is used up")
            print(f"error: out of memory: {where}; try {smaller}" + (" or --device cpu" if on_gpu else ""), file=sys.stderr)
            return
        if not issubclass(kind, KeyboardInterrupt):
            return sys.__excepthook__(kind, value, traceback)
        epochs = len(tb.read_scalars(log_dir).get("train/epoch_loss", [])) if log_dir.is_dir() else 0
        metrics = log_dir / "metrics.json"
        if log_dir.is_dir() and not metrics.exists():
            flags.save_json(metrics, {"interrupted": True, "epochs_completed": epochs})
        done = f" after {epochs} epoch{'s' * (epochs != 1)}" if epochs else ""
        print(f"\ninterrupted (Ctrl-C){done}; what was written so far is kept in {log_dir}", file=sys.stderr)

    return hook


def cpu_has_amx_bfloat16():
    """True on CPUs with AMX bfloat16 tiles (read from /proc/cpuinfo, so Linux only; elsewhere False)."""
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("flags") and " amx_bf16" in line for line in f)
    except OSError:
        return False


def _precision(choice, gpus, cpu_bfloat16):
    """The Keras dtype policy: "mixed_float16" (GPU), "mixed_bfloat16" (CPU) or "float32"."""
    if choice == "off":
        return "float32"
    if choice == "on":
        if gpus:
            return "mixed_float16"
        if not cpu_has_amx_bfloat16():
            print("warning: --mixed-precision on without a GPU or an AMX CPU: bfloat16 is usually slower", file=sys.stderr)
        return "mixed_bfloat16"
    if not gpus:  # auto on a CPU
        return "mixed_bfloat16" if cpu_bfloat16 and cpu_has_amx_bfloat16() else "float32"
    for gpu in gpus:  # auto: only where tensor cores make float16 faster
        capability = tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0))
        if capability < (7, 0):
            return "float32"
    return "mixed_float16"
