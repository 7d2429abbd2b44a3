"""Command-line flags shared by every script, and the run folder they resolve to.

This module imports only the standard library, so `python weekN/script.py --help`
answers in a fraction of a second (TensorFlow takes seconds to import).
"""

import argparse
import datetime
import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RUNS_DIR = REPO_ROOT / "runs"


def make_parser(script_file, doc, *, epochs, batch_size, learning_rate, seed=42, smoke_epochs=2):
    """Returns an ArgumentParser with the standard flags; scripts add their own.

    The defaults given here are the ones that reproduce the README's numbers. With
    --smoke, epochs drops to `smoke_epochs` unless --epochs is given explicitly.
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
    group.add_argument("--epochs", type=int, default=epochs, help="passes over the training data (default: %(default)s)")
    group.add_argument("--batch-size", type=int, default=batch_size, help="examples per gradient step (default: %(default)s)")
    group.add_argument("--learning-rate", type=float, default=learning_rate, help="step size (default: %(default)s)")
    group.add_argument("--seed", type=int, default=seed, help="random seed for weights and shuffling (default: %(default)s)")
    group.add_argument(
        "--data-dir", type=Path, default=None,
        help="read the dataset's files as distributed from DIR instead of the download cache",
    )
    group.add_argument(
        "--log-dir", type=Path, default=None,
        help="run folder for TensorBoard events, config.json, metrics.json and figures "
        "(default: runs/<script>/<timestamp>/)",
    )
    group.add_argument(
        "--device", choices=("auto", "cpu", "gpu"), default="auto",
        help="auto: a GPU when TensorFlow sees one, else the CPU (default: %(default)s)",
    )
    group.add_argument(
        "--mixed-precision", choices=("auto", "on", "off"), default="auto",
        help="16-bit compute with float32 weights (float16 on GPUs, bfloat16 on CPUs); auto: on where it was "
        "measured to pay (default: %(default)s)",
    )
    group.add_argument("--smoke", action="store_true", help="tiny run (a few batches) that finishes in seconds")
    return parser


def parse(parser, argv=None):
    """Parses argv, checks the standard flags, creates the run folder, saves config.json."""
    args = parser.parse_args(argv)
    explicit = sys.argv[1:] if argv is None else argv
    if args.smoke and not any(a == "--epochs" or a.startswith("--epochs=") for a in explicit):
        args.epochs = min(args.epochs, args.smoke_epochs)
    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.learning_rate <= 0:
        parser.error("--learning-rate must be positive")
    if args.log_dir is None:
        args.log_dir = new_run_dir(args.script, smoke=args.smoke)
    args.log_dir = Path(args.log_dir)
    args.log_dir.mkdir(parents=True, exist_ok=True)
    config = config_dict(args)
    print("Config: " + json.dumps(config, ensure_ascii=False))
    save_json(args.log_dir / "config.json", config)
    return args


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
    """Writes obj as indented UTF-8 JSON."""
    Path(path).write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def update_json(path, **values):
    """Adds or replaces keys in a JSON file (used to add the device to config.json)."""
    path = Path(path)
    obj = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    obj.update(values)
    save_json(path, obj)
