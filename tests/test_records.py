"""Every figure a script's docstring promises under "Expect:" is backed by its record in results/."""

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p for p in REPO.glob("week*/**/*.py") if not p.name.startswith("_"))
# "test accuracy about 0.993", "its test accuracy was about 0.90", "validation accuracy 0.81"
# "validation loss 1.52 nats per character"
FIGURE = re.compile(r"\b(test|validation) (accuracy|MSE|loss)\b[^0-9.\n(]{0,40}?(\d+\.\d+)", re.IGNORECASE)
METRIC = {("test", "accuracy"): "test_accuracy", ("validation", "accuracy"): "val_accuracy",
          ("test", "mse"): "test_mse", ("validation", "mse"): "val_mse", ("validation", "loss"): "val_nats_per_char"}


def expect_block(path):
    doc = re.match(r'\s*"""(.*?)"""', path.read_text(encoding="utf-8"), re.S).group(1)
    block = re.search(r"^Expect:(.*?)(?=^\S|\Z)", doc, re.S | re.M)
    return " ".join(block.group(1).split()) if block else ""


def records_for(path):
    """The script's results records: the default run and named variants (e.g. week2_cifar10_fast_final_fit)."""
    rel = path.relative_to(REPO)
    found = [json.loads(p.read_text()) for p in sorted((REPO / "results").glob(f"{rel.parent.name}_{rel.stem}*.json"))]
    return [r for r in found if r["script"] == rel.as_posix()]


def test_the_figure_pattern_reads_docstrings():
    text = ("test accuracy about 0.993 after 6 epochs; its test accuracy was about 0.90. validation accuracy 0.81; "
            "the test accuracy (the grader asks for 0.90)")  # a target in parentheses is no measurement
    assert [m.groups() for m in FIGURE.finditer(text)] == [
        ("test", "accuracy", "0.993"), ("test", "accuracy", "0.90"), ("validation", "accuracy", "0.81")]


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.relative_to(REPO).as_posix() for p in SCRIPTS])
def test_expected_figures_match_the_record(path):
    figures = [m.groups() for m in FIGURE.finditer(expect_block(path))]
    if not figures:
        return
    records = records_for(path)
    assert records, f"{path.name} promises {figures} but results/ has no record for it"
    for split, kind, number in figures:
        key = METRIC[(split.lower(), kind.lower())]
        runs = [m for r in records for m in [r["metrics"]] + [run["metrics"] for run in r.get("runs", [])]]
        # a script comparing models reports each one's best, e.g. best_val_accuracy_baseline
        values = [v for m in runs for k, v in m.items() if (k == key or k.startswith(f"best_{key}_")) and v is not None]
        assert values, f"{path.name}: Expect names {key} but the record has none"
        decimals = len(number.split(".")[1])
        # "about 0.993": the record may differ by at most one unit of the last digit written
        assert any(abs(v - float(number)) <= 10 ** -decimals + 1e-9 for v in values), (
            f"{path.name}: Expect says {split} {kind} {number}, results/ has {values}"
        )


def test_the_figure_pattern_reads_language_model_losses():
    found = [m.groups() for m in FIGURE.finditer("validation loss 1.52 nats per character after 20 epochs")]
    assert found == [("validation", "loss", "1.52")] and METRIC[("validation", "loss")] == "val_nats_per_char"


# Other figures an Expect block may name, with the record keys they may come from (any of them).
NAMED = [
    (re.compile(r"(\d[\d,]*(?:\.\d+)?) s of training"), ("train_seconds",)),
    (re.compile(r"\bInception Score (\d+\.\d+)"), ("inception_score",)),
    (re.compile(r"\bFréchet distance (\d+\.\d+)"), ("frechet_distance",)),
    (re.compile(r"\bnegative ELBO (\d+\.\d+)"), ("test_neg_elbo_nats",)),
    (re.compile(r"\bBLEU-4 (\d+\.\d+)"), ("bleu4", "nn_bleu4", "compositional_bleu4")),
    (re.compile(r"\bpixel accuracy (\d+\.\d+)"), ("test_pixel_accuracy",)),
    (re.compile(r"\bmean IoU (\d+\.\d+)"), ("test_mean_iou",)),
    (re.compile(r"\bDice (\d+\.\d+)"), ("test_dice",)),
    (re.compile(r"(\d+\.\d+) s per (?:iteration|step)"), ("seconds_per_iteration", "seconds_per_step")),
    (re.compile(r"\bread back (\d+\.\d+)"), ("conditional_accuracy",)),
]


def test_the_named_figure_patterns_read_docstrings():
    text = ("1,489 s of training; Inception Score 8.07 (...); Fréchet distance 17.6; test BLEU-4 0.846; "
            "test pixel accuracy 0.925, mean IoU 0.79, membrane Dice 0.81; 0.52 s per iteration; read back 0.970")
    found = [(keys, m.group(1)) for pattern, keys in NAMED for m in pattern.finditer(text)]
    assert sorted(number for _, number in found) == sorted(
        ["1,489", "8.07", "17.6", "0.846", "0.925", "0.79", "0.81", "0.52", "0.970"])


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.relative_to(REPO).as_posix() for p in SCRIPTS])
def test_named_figures_and_durations_match_the_record(path):
    """Training times ("1,489 s of training"), sample scores and BLEU named under Expect are in the record too."""
    block = expect_block(path)
    found = [(keys, m.group(1)) for pattern, keys in NAMED for m in pattern.finditer(block)]
    if not found:
        return
    records = records_for(path)
    assert records, f"{path.name} promises {found} but results/ has no record for it"
    for keys, number in found:
        values = [r["metrics"][k] for r in records for k in keys if r["metrics"].get(k) is not None]
        written = float(number.replace(",", ""))
        decimals = len(number.split(".")[1]) if "." in number else 0
        # the number as written, rounded: at most one unit of its last digit away from the record
        assert any(abs(v - written) <= 10 ** -decimals + 1e-9 for v in values), (
            f"{path.name}: Expect says {number} for {keys}, results/ has {values}"
        )
