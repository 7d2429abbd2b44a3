"""Run a course script, record its numbers in results/, and render the README's results table.

요약: 스크립트를 실행해 metrics.json, 걸린 시간, TensorFlow 버전, 장치를 results/에
기록하고, README의 결과 표를 results/에서 다시 만듭니다. README의 모든 숫자는 여기서 나옵니다.

Run:    python scripts/benchmark.py week1/mnist_softmax_regression.py -- --data-dir ../shared/datasets/mnist
        python scripts/benchmark.py week1/mnist_softmax_regression.py --name keras -- --keras --data-dir DIR
        python scripts/benchmark.py week1/mnist_cnn.py --baseline keras_mnist_convnet -- --data-dir DIR
        python scripts/benchmark.py --render     (only rewrite the README table from results/*.json)
--baseline NAME also runs that recipe from scripts/baselines.py right after the script, on the same
machine and data, and records both times to the target accuracy and their ratio.
Flags after `--` go to the script unchanged. Each run writes results/<week>_<script>[_<name>].json
and re-renders the table between the `results:begin` and `results:end` markers of README.md.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "results"
README = REPO_ROOT / "README.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
HEADLINE_METRICS = ("test_accuracy", "test_mse", "val_accuracy")
NOTE_METRICS = {  # metric key -> how the notes column names it
    "frozen_features_test_accuracy": "frozen-feature softmax test_accuracy",
    "grad_check_finite_diff": "gradient check vs finite differences",
    "grad_check_gradient_tape": "vs GradientTape",
    "xor_accuracy": "XOR accuracy",
    "final_loss_alpha_good": "final J at good α",
    "diverged_alpha_large": "large α diverged",
    "grad_norm_ratio_sigmoid_to_relu": "first-layer gradient norm sigmoid/ReLU",
    "steps_to_target_mse": "steps to target with MSE",
    "steps_to_target_cross_entropy": "with cross-entropy",
    "best_val_accuracy_baseline": "best val acc plain",
    "best_val_accuracy_dropout": "dropout",
    "best_val_accuracy_l2": "L2",
    "images_per_second": "feature extraction images/s",
    "bottlenecks_computed": "bottlenecks computed",
}


def machine_description():
    """'2-core CPU (model name)' from this machine, for the table's machine column."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()}-core CPU ({model})"


def git_commit():
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True)
        return out.stdout.strip() or None
    except OSError:
        return None


def result_name(script, name=None):
    script = Path(script)
    stem = f"{script.parent.name}_{script.stem}"
    return f"{stem}_{name}" if name else stem


def run_once(script, args, log_dir):
    """Runs a script in a subprocess; returns (metrics, config, wall seconds)."""
    command = [sys.executable, str(script), *args, "--log-dir", str(log_dir)]
    print("Running: " + " ".join(command), flush=True)
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=REPO_ROOT)
    wall = time.perf_counter() - start
    metrics = json.loads((log_dir / "metrics.json").read_text())
    config = json.loads((log_dir / "config.json").read_text())
    return metrics, config, wall


def shared_data_flags(script_args):
    """The flags a baseline must share with the script: where the data is, and --smoke."""
    keep = []
    for i, arg in enumerate(script_args):
        if arg == "--data-dir" and i + 1 < len(script_args):
            keep += [arg, script_args[i + 1]]
        elif arg.startswith("--data-dir=") or arg == "--smoke":
            keep.append(arg)
    return keep


def run(script, script_args, name=None, results_dir=RESULTS_DIR, log_root=None, baseline=None, note=None):
    """Runs one script as a user would (and a baseline recipe if asked); writes and returns the record."""
    script = Path(script).resolve()
    rel = script.relative_to(REPO_ROOT).as_posix()
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    log_root = log_root or REPO_ROOT / "runs" / "benchmark"
    metrics, config, wall = run_once(script, script_args, log_root / f"{result_name(rel, name)}-{stamp}")
    record = {
        "script": rel,
        "name": name,
        "command": " ".join(["python", rel, *script_args]),
        "metrics": metrics,
        "wall_seconds": round(wall, 1),
        "device": config.get("device"),
        "precision": config.get("precision"),
        "tensorflow": config.get("tensorflow"),
        "machine": machine_description(),
        "python": platform.python_version(),
        "date": datetime.date.today().isoformat(),
        "commit": git_commit(),
    }
    if note:
        record["note"] = note
    if baseline:
        baseline_args = [baseline, *shared_data_flags(script_args)]
        b_metrics, _, b_wall = run_once(REPO_ROOT / "scripts" / "baselines.py", baseline_args, log_root / f"{baseline}-{stamp}")
        record["baseline"] = {
            "recipe": baseline,
            "command": " ".join(["python scripts/baselines.py", *baseline_args]),
            "seconds_to_target": b_metrics.get("seconds_to_target"),
            "target_accuracy": b_metrics.get("target_accuracy"),
            "test_accuracy": b_metrics.get("test_accuracy"),
            "wall_seconds": round(b_wall, 1),
        }
        ours, theirs = metrics.get("seconds_to_target"), b_metrics.get("seconds_to_target")
        record["speed_ratio"] = round(ours / theirs, 3) if ours and theirs else None
        print(f"Time to {metrics.get('target_accuracy')}: script {ours}s, {baseline} {theirs}s, ratio {record['speed_ratio']}")
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{result_name(rel, name)}.json"
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"Wrote {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}")
    return record


def load_results(results_dir=RESULTS_DIR):
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(Path(results_dir).glob("*.json"))]


def render_table(records):
    """The README's results table (Markdown), one row per results record."""
    lines = [
        "| script | result | train time | wall time | machine | command | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in sorted(records, key=lambda r: (r["script"], r.get("name") or "")):
        metrics = r["metrics"]
        key = next((k for k in HEADLINE_METRICS if k in metrics), None)
        result = f"{key} {metrics[key]:.4f}" if key else ""
        train = f"{metrics['train_seconds']:.1f} s" if "train_seconds" in metrics else ""
        machine = r["machine"] if (r.get("device") or "CPU").startswith("CPU") else f"{r['device']}"
        if r.get("precision") not in (None, "float32"):
            machine += f", {r['precision']}"
        script = r["script"] + (f" ({r['name']})" if r.get("name") else "")
        lines.append(
            f"| `{script}` | {result} | {train} | {r['wall_seconds']:.0f} s | {machine}, TF {r['tensorflow']} "
            f"| `{r['command']}` | {notes(r)} |"
        )
    return "\n".join(lines)


def notes(record):
    """Extra numbers worth a column: time to a target accuracy, a baseline's, other metrics."""
    metrics, parts = record["metrics"], []
    if metrics.get("seconds_to_target") is not None:
        parts.append(f"{metrics['target_accuracy']:.3f} after {metrics['seconds_to_target']:.0f} s of training")
    base = record.get("baseline")
    if base:
        theirs = "never reached" if base["seconds_to_target"] is None else f"{base['seconds_to_target']:.0f} s"
        parts.append(f"baseline `{base['recipe']}`: {theirs} (ratio {record.get('speed_ratio')})")
    if record.get("note"):
        parts.append(record["note"])
    for key, label in NOTE_METRICS.items():
        if key in metrics:
            value = metrics[key]
            parts.append(f"{label} {value:.2g}" if abs(value) < 1e-3 or abs(value) >= 1e4 else f"{label} {value:.4g}")
    return "; ".join(parts)


def render_readme(readme=README, results_dir=RESULTS_DIR):
    """Replaces the table between the markers in README.md; returns True if it changed."""
    text = readme.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"error: {readme} lacks the markers {BEGIN} and {END}")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{BEGIN}\n{render_table(load_results(results_dir))}\n{END}{tail}"
    readme.write_text(new, encoding="utf-8")
    return new != text


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    script_args = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("script", nargs="?", help="the script to run, e.g. week1/mnist_softmax_regression.py")
    parser.add_argument("--name", help="a suffix for the results file, for a variant run (e.g. keras)")
    parser.add_argument("--render", action="store_true", help="only re-render the README table from results/")
    parser.add_argument("--baseline", help="also time this recipe from scripts/baselines.py (e.g. keras_mnist_convnet)")
    parser.add_argument("--note", help="a sentence for the table's notes column (what the run measures)")
    args = parser.parse_args(own)
    if args.script:
        run(args.script, script_args, name=args.name, baseline=args.baseline, note=args.note)
    elif not args.render:
        parser.error("give a script to run, or --render")
    changed = render_readme()
    print("README results table " + ("updated" if changed else "unchanged"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
