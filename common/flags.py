"""Command-line flags shared by every script, and the run folder they resolve to.

This module imports only the standard library. A script builds its parser at module
level and parses it before `import keras`, so `python weekN/script.py --help` and a
mistyped flag answer at once (TensorFlow takes seconds to import).

- `make_parser(...)`: the standard flags; the script adds its own.
- `parse(parser, argv)`: checks the values and picks the run folder, but creates nothing,
  so a run that stops on a user error leaves no half-made folder behind.
- `start_run(args, **extra)`: creates the run folder and writes config.json (called by
  `common.runtime.setup` once the data has been read and the run really starts).
"""

import argparse
import datetime
import json
import math
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RUNS_DIR = REPO_ROOT / "runs"


def make_parser(script_file, doc, *, epochs=None, batch_size=None, learning_rate=None, seed=42, smoke_epochs=2,
                data_dir=True):
    """Returns an ArgumentParser with the standard flags; scripts add their own.

    The defaults given here are the ones that reproduce the README's numbers. With
    --smoke, epochs drops to `smoke_epochs` unless --epochs is given explicitly.
    A script that does not train (a prediction script) leaves out epochs, batch_size
    and learning_rate, and its --help then shows no training flags; one that reads no
    dataset passes data_dir=False and gets no --data-dir.
    """
    script = Path(script_file).resolve()
    try:
        prog = f"python {script.relative_to(REPO_ROOT)}"
    except ValueError:
        prog = f"python {script.name}"
    parser = argparse.ArgumentParser(
        prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.set_defaults(script=script.stem, smoke_epochs=smoke_epochs)
    group = parser.add_argument_group("common flags")
    if epochs is not None:
        group.add_argument("--epochs", type=int, default=epochs, help="passes over the training data (default: %(default)s)")
    if batch_size is not None:
        group.add_argument("--batch-size", type=int, default=batch_size, help="examples per gradient step (default: %(default)s)")
    if learning_rate is not None:
        group.add_argument("--learning-rate", type=float, default=learning_rate, help="step size (default: %(default)s)")
    group.add_argument("--seed", type=int, default=seed, help="random seed for weights and shuffling (default: %(default)s)")
    if data_dir:
        group.add_argument(
            "--data-dir", type=Path, default=None,
            help="read the dataset's files as distributed from DIR instead of the download cache",
        )
    group.add_argument(
        "--log-dir", type=Path, default=None,
        help="run folder for TensorBoard events, config.json, metrics.json and figures "
        "(default: runs/<script>/<timestamp>/); it must be new or empty",
    )
    group.add_argument(
        "--device", choices=("auto", "cpu", "gpu"), default="auto",
        help="auto: a GPU when TensorFlow sees one, else the CPU (default: %(default)s)",
    )
    group.add_argument(
        "--mixed-precision", choices=("auto", "on", "off"), default="auto",
        help="16-bit compute with float32 weights (float16 on GPUs, bfloat16 on CPUs); auto: float16 on GPUs "
        "with tensor cores, float32 elsewhere (default: %(default)s)",
    )
    group.add_argument("--smoke", action="store_true", help="tiny run (a few batches) that finishes in seconds")
    return parser


def parse(parser, argv=None, allow_existing_run=False):
    """Parses argv and checks the values; returns args with args.log_dir resolved (not created).

    A run folder that already holds files is refused (a second run would mix its
    TensorBoard events and overwrite the first run's numbers) unless `allow_existing_run`
    (used by --resume, which continues the run in that folder).
    """
    args = parser.parse_args(argv)
    explicit = sys.argv[1:] if argv is None else argv
    if args.smoke and getattr(args, "epochs", None) is not None and not any(a == "--epochs" or a.startswith("--epochs=") for a in explicit):
        args.epochs = min(args.epochs, args.smoke_epochs)
    for name in ("epochs", "batch_size"):
        if getattr(args, name, None) is not None and getattr(args, name) < 1:  # None: the script chooses
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    for name, value in vars(args).items():
        if isinstance(value, float) and not math.isfinite(value):
            parser.error(f"--{name.replace('_', '-')} must be a finite number, not {value}")
    if getattr(args, "learning_rate", 1) <= 0:
        parser.error("--learning-rate must be positive")
    if args.log_dir is None:
        args.log_dir = new_run_dir(args.script, smoke=args.smoke)
    args.log_dir = Path(args.log_dir)
    if not allow_existing_run and args.log_dir.is_dir() and any(args.log_dir.iterdir()):
        raise SystemExit(
            f"error: --log-dir {args.log_dir} already holds a run; choose a new folder "
            "(or leave out --log-dir for a new runs/<script>/<time>/ folder), or delete that one"
        )
    print("Config: " + json.dumps(config_dict(args), ensure_ascii=False))
    return args


def start_run(args, **extra):
    """Creates the run folder and writes config.json: the flags plus `extra` (device, versions)."""
    args.log_dir.mkdir(parents=True, exist_ok=True)
    save_json(args.log_dir / "config.json", {**config_dict(args), **extra})
    return args.log_dir


def new_run_dir(script, smoke=False):
    """Returns runs/<script>/<timestamp>[-smoke], a name no earlier run has used."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = RUNS_DIR / script / (stamp + ("-smoke" if smoke else ""))
    run_dir, n = base, 1
    while run_dir.exists():
        n += 1
        run_dir = base.with_name(f"{base.name}-{n}")
    return run_dir


def config_dict(args):
    """The flags as plain JSON values (paths as strings, also inside lists)."""

    def plain(value):
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    return {k: plain(v) for k, v in sorted(vars(args).items())}


def save_json(path, obj):
    """Writes obj as indented UTF-8 JSON; NaN and infinity are not JSON, so they raise ValueError."""
    Path(path).write_text(json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")


def update_json(path, **values):
    """Adds or replaces keys in a JSON file."""
    path = Path(path)
    obj = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    obj.update(values)
    save_json(path, obj)
