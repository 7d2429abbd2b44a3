"""Run a course script, record its numbers in results/, and render the README's results table.

요약: 스크립트를 실행해 metrics.json, 걸린 시간, TensorFlow 버전, 장치를 results/에
기록하고, README의 결과 표를 results/에서 다시 만듭니다. README의 모든 숫자는 여기서 나옵니다.

Run:    python scripts/benchmark.py week1/mnist_softmax_regression.py
        python scripts/benchmark.py week1/mnist_softmax_regression.py --name keras -- --keras
        python scripts/benchmark.py week1/mnist_cnn.py --seeds 3
        python scripts/benchmark.py week1/mnist_cnn.py --name to_0.990 --seeds 3 --baseline keras_mnist_convnet -- --epochs 2
        python scripts/benchmark.py --render     (only rewrite the README table from results/*.json)
Flags after `--` go to the script unchanged (add `--data-dir DIR` to read your own copy of the data; the
recorded command leaves it out, since it only says where the same files are). Each run writes
results/<week>_<script>[_<name>].json and re-renders the table between the `results:begin` and
`results:end` markers of README.md.

--seeds N runs the script N times (--seed 42, 43, ...) and records every run, the mean of each metric and the
median of the times. --baseline NAME times a reference recipe from scripts/baselines.py in the same invocation,
by airbench's rule: the script's fixed schedule must reach --target in test accuracy averaged over the seeds; the
recipe is credited with the fewest epochs whose seed-averaged test accuracy reaches it; the ratio compares the
median training seconds of the two.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "results"
README = REPO_ROOT / "README.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
HEADLINE_METRICS = ("test_accuracy", "test_mse", "bleu4", "test_neg_elbo_nats", "inception_score", "test_pixel_accuracy",
                    "val_accuracy", "val_nats_per_char", "heldout_auc", "chars_per_second",
                    "rnn_global_clipnorm_final_loss", "seconds_per_iteration", "seconds_per_step")
FIRST_SEED = 42  # the scripts' default --seed, so a one-seed benchmark is the default run
NOTE_METRICS = {  # metric key -> how the notes column names it
    "val_accuracy": "val_accuracy",
    "val_mse": "val_mse",
    "frozen_features_val_accuracy": "frozen-feature softmax val_accuracy",
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
    "val_bits_per_char": "val bits/char",
    "unigram_bits_per_char": "baselines: unigram",
    "bigram_bits_per_char": "bigram",
    "trigram_bits_per_char": "trigram",
    "heldout_cosine_cooccurring": "held-out cosine co-occurring",
    "heldout_cosine_random": "random pairs",
    "vocab_size": "vocabulary",
    "linear_none_diverged": "linear regression, plain SGD diverged",
    "linear_global_clipnorm_final_loss": "clipped final MSE",
    "rnn_none_diverged": "RNN unclipped diverged",
    "rnn_initial_loss": "RNN loss at start",
    "blind_test_accuracy": "question-only (blind) model",
    "test_accuracy_relation": "relation questions",
    "blind_test_accuracy_relation": "blind",
    "compositional_test_accuracy": "compositional split",
    "nn_bleu4": "nearest-neighbour BLEU-4",
    "fact_accuracy": "fact accuracy",
    "compositional_bleu4": "compositional BLEU-4",
    "test_iwae_nats": "importance-weighted bound (nats)",
    "raw_inception_score": "without the generator's moving average",
    "real_inception_score": "real test digits' Inception Score",
    "frechet_distance": "Fréchet distance",
    "min_class_share": "smallest digit share",
    "conditional_accuracy": "asked-for digit read back",
    "test_mean_iou": "mean IoU",
    "test_dice": "membrane Dice",
    "best_epoch": "epoch chosen on validation",
    "val_pixel_accuracy": "its validation pixel accuracy",
    "test_baseline_pixel_accuracy": "commonest-class baseline",
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


def user_command(rel, script_args):
    """The command a user types: the script's flags without --data-dir (which only says where the files are)."""
    data_flags = shared_data_flags(script_args)
    shown = [a for a in script_args if a not in data_flags or a == "--smoke"]
    return " ".join(["python", rel, *shown])


def run_seeds(script, script_args, seeds, log_root, label):
    """Runs a script once per seed; returns [{"seed", "metrics", "config", "wall_seconds"}]."""
    if any(a == "--seed" or a.startswith("--seed=") for a in script_args) and len(seeds) > 1:
        raise SystemExit("error: --seeds N chooses the seeds itself; drop --seed from the script's flags")
    runs = []
    for seed in seeds:
        args = script_args + (["--seed", str(seed)] if len(seeds) > 1 else [])
        metrics, config, wall = run_once(script, args, log_root / f"{label}-seed{seed}")
        runs.append({"seed": seed, "metrics": metrics, "config": config, "wall_seconds": round(wall, 1)})
    return runs


def summarise(runs):
    """One run's metrics as they are; several runs: each number's mean (times: median), and its spread."""
    if len(runs) == 1:
        return runs[0]["metrics"], None
    summary, spread = {}, {}
    for key, value in runs[0]["metrics"].items():
        values = [r["metrics"].get(key) for r in runs]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            timing = key.endswith("seconds")
            centre = statistics.median(values) if timing else statistics.fmean(values)
            summary[key] = round(centre, 5)
            spread[key] = {"min": min(values), "max": max(values), "std": round(statistics.pstdev(values), 5)}
        elif all(v == value for v in values):
            summary[key] = value
    return summary, spread


def time_to_target(record, runs, baseline, baseline_epochs, target, script_args, seeds, log_root, stamp):
    """Runs the baseline recipe over the same seeds and compares training time to the target (airbench's rule)."""
    baseline_args = [baseline, "--epochs", str(baseline_epochs), *shared_data_flags(script_args)]
    b_runs = run_seeds(REPO_ROOT / "scripts" / "baselines.py", baseline_args, seeds, log_root, f"{baseline}-{stamp}")
    curves = [r["metrics"]["accuracy_by_epoch"] for r in b_runs]
    mean_by_epoch = [round(statistics.fmean(c[e][1] for c in curves), 5) for e in range(min(map(len, curves)))]
    epochs = next((e + 1 for e, acc in enumerate(mean_by_epoch) if acc >= target), None)
    b_seconds = statistics.median(c[epochs - 1][2] for c in curves) if epochs else None
    ours_acc = statistics.fmean(r["metrics"]["test_accuracy"] for r in runs)
    ours_seconds = statistics.median(r["metrics"]["train_seconds"] for r in runs)
    reached = ours_acc >= target
    ratio = round(ours_seconds / b_seconds, 3) if reached and b_seconds else None
    record["time_to_target"] = {
        "target": target,
        "seeds": seeds,
        "script_mean_test_accuracy": round(ours_acc, 5),
        "script_reached_target": reached,
        "script_train_seconds": ours_seconds,
        "baseline": {
            "recipe": baseline,
            "command": user_command("scripts/baselines.py", baseline_args),
            "mean_test_accuracy_by_epoch": mean_by_epoch,
            "epochs_to_target": epochs,
            "train_seconds": b_seconds,
            "runs": [{"seed": r["seed"], "accuracy_by_epoch": r["metrics"]["accuracy_by_epoch"]} for r in b_runs],
        },
        "ratio": ratio,
    }
    print(f"Time to {target} (mean of {len(seeds)} seeds): script {ours_seconds:.1f}s (mean accuracy {ours_acc:.4f}), "
          f"{baseline} {b_seconds if b_seconds is None else round(b_seconds, 1)}s after {epochs} epochs, ratio {ratio}")


def run(script, script_args, name=None, results_dir=RESULTS_DIR, log_root=None, seeds=1, baseline=None,
        baseline_epochs=8, target=0.990, note=None):
    """Runs one script as a user would (over `seeds` seeds, and a baseline if asked); writes and returns the record."""
    script = Path(script).resolve()
    rel = script.relative_to(REPO_ROOT).as_posix()
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    log_root = log_root or REPO_ROOT / "runs" / "benchmark"
    seed_list = [FIRST_SEED + i for i in range(seeds)]
    runs = run_seeds(script, script_args, seed_list, log_root, f"{result_name(rel, name)}-{stamp}")
    metrics, spread = summarise(runs)
    config = runs[0]["config"]
    record = {
        "script": rel,
        "name": name,
        "command": user_command(rel, script_args),
        "data_dir_given": bool(shared_data_flags(script_args)),
        "metrics": metrics,
        "wall_seconds": round(statistics.median(r["wall_seconds"] for r in runs), 1),
        "device": config.get("device"),
        "precision": config.get("precision"),
        "tensorflow": config.get("tensorflow"),
        "machine": machine_description(),
        "python": platform.python_version(),
        "date": datetime.date.today().isoformat(),
        "commit": git_commit(),
    }
    if spread:
        record["seeds"] = seed_list
        record["spread"] = spread
        record["runs"] = [{k: v for k, v in r.items() if k != "config"} for r in runs]
    if note:
        record["note"] = note
    if baseline:
        time_to_target(record, runs, baseline, baseline_epochs, target, script_args, seed_list, log_root, stamp)
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{result_name(rel, name)}.json"
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"Wrote {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}")
    return record


def load_results(results_dir=RESULTS_DIR):
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(Path(results_dir).glob("*.json"))]


def headline(value):
    return f"{value:.4f}" if abs(value) < 100 else f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"


def render_table(records):
    """The README's results table (Markdown), one row per results record."""
    lines = [
        "| script | result | train time | wall time | machine | command | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in sorted(records, key=lambda r: (r["script"], r.get("name") or "")):
        metrics = r["metrics"]
        key = next((k for k in HEADLINE_METRICS if metrics.get(k) is not None), None)
        result = f"{key} {headline(metrics[key])}" if key else ""
        if key and r.get("spread"):
            low, high = r["spread"][key]["min"], r["spread"][key]["max"]
            result += f" (mean of {len(r['seeds'])} seeds, {low:.4f}–{high:.4f})"
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
    race = record.get("time_to_target")
    if race:
        base = race["baseline"]
        ours = "reached" if race["script_reached_target"] else "did not reach"
        theirs = (f"{base['epochs_to_target']} epochs, {base['train_seconds']:.0f} s" if base["epochs_to_target"]
                  else "not reached")
        parts.append(
            f"time to test accuracy {race['target']:.3f} (mean of {len(race['seeds'])} seeds): this schedule {ours} it "
            f"({race['script_mean_test_accuracy']:.4f}) in {race['script_train_seconds']:.0f} s of training; "
            f"baseline `{base['recipe']}`: {theirs} (ratio {race['ratio']})"
        )
    if record.get("note"):
        parts.append(record["note"])
    for key, label in NOTE_METRICS.items():
        if metrics.get(key) is not None and not (key == "val_accuracy" and "test_accuracy" not in metrics):
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
    parser.add_argument("--seeds", type=int, default=1, help="run the script this many times (--seed 42, 43, ...)")
    parser.add_argument("--baseline", help="also time this recipe from scripts/baselines.py (e.g. keras_mnist_convnet)")
    parser.add_argument("--baseline-epochs", type=int, default=8, help="the longest schedule tried for the baseline")
    parser.add_argument("--target", type=float, default=0.990, help="test accuracy of the time-to-target race")
    parser.add_argument("--note", help="a sentence for the table's notes column (what the run measures)")
    args = parser.parse_args(own)
    if args.script:
        run(args.script, script_args, name=args.name, seeds=args.seeds, baseline=args.baseline,
            baseline_epochs=args.baseline_epochs, target=args.target, note=args.note)
    elif not args.render:
        parser.error("give a script to run, or --render")
    changed = render_readme()
    print("README results table " + ("updated" if changed else "unchanged"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
