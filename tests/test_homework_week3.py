"""Week-3 sampling homework: the template stops at its first TODO, the solution passes the grader, a correct
solution written differently passes, and typical mistakes fail with a message naming the check."""

import inspect
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from common import data
from scripts.graders import week3
from tests import helpers
from tests.helpers import TF_START_UP_WORDS, load_script

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "week3/homework/sampling.py"
SOLUTION = REPO / "week3/homework/sampling_solution.py"
GRADER = REPO / "scripts/grade_homework.py"
FUNCTIONS = ("apply_temperature", "top_k_filter", "sample", "cross_entropy_nats", "bits_and_perplexity")



@pytest.fixture(scope="module")
def grader():
    return load_script(GRADER)


def student_file(tmp_path, overrides=""):
    """A student's file: the solution's functions, then `overrides` (new definitions replace them)."""
    return helpers.student_file(tmp_path / "sampling_student.py", SOLUTION, FUNCTIONS, overrides)


def test_template_and_solution_offer_the_same_functions():
    template, solution = load_script(TEMPLATE), load_script(SOLUTION)
    for name in FUNCTIONS:
        assert inspect.signature(getattr(template, name)) == inspect.signature(getattr(solution, name)), name


def test_template_stops_at_todo_1_and_the_grader_names_it(offline_cache, tmp_path):
    template = load_script(TEMPLATE)
    with pytest.raises(SystemExit) as stop:
        template.main(["--smoke", "--log-dir", str(tmp_path / "run")])
    assert str(stop.value).startswith("TODO 1 (apply_temperature) is not done yet:")
    assert not (tmp_path / "run").exists()

    env = {**os.environ, data.CACHE_ENV: str(offline_cache)}
    result = subprocess.run([sys.executable, str(GRADER), str(TEMPLATE)], cwd=REPO, capture_output=True, text=True,
                            timeout=300, env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "[TODO] TODO 1 (apply_temperature) is not done yet:" in result.stdout
    assert result.stdout.strip().splitlines()[-1].endswith("FAIL")
    assert "Traceback" not in output and not any(word in output for word in TF_START_UP_WORDS), output


def test_grader_passes_the_solution(grader, capsys):
    assert grader.grade_file(SOLUTION) == 0
    out = capsys.readouterr().out
    for number, name in enumerate(FUNCTIONS, start=1):
        assert f"[PASS] TODO {number} {name}" in out, out
    assert out.strip().splitlines()[-1] == "Score: 5/5 checks passed. PASS"


# Correct, and written differently: temperature on log-probabilities, top-k by argpartition (exactly k),
# the Gumbel-max trick for sampling, log-sum-exp by np.logaddexp, perplexity as 2 ** bits.
DIFFERENT = '''
import math

import numpy as np


def apply_temperature(logits, temperature):
    z = np.asarray(logits, dtype=float)
    log_p = z - np.logaddexp.reduce(z, axis=-1, keepdims=True)
    scaled = log_p / temperature
    return np.exp(scaled - np.logaddexp.reduce(scaled, axis=-1, keepdims=True))


def top_k_filter(logits, k):
    z = np.asarray(logits, dtype=float)
    if k <= 0 or k >= z.size:
        return z.copy()
    out = np.full_like(z, -np.inf)
    keep = np.argpartition(z, -k)[-k:]
    out[keep] = z[keep]
    return out


def sample(logits, temperature=1.0, top_k=0, rng=None):
    z = top_k_filter(logits, top_k) / temperature
    return int(np.argmax(z + rng.gumbel(size=z.shape)))


def cross_entropy_nats(logits, targets):
    z = np.asarray(logits, dtype=float)
    picked = np.take_along_axis(z, np.asarray(targets)[:, None], axis=1)[:, 0]
    return float(np.mean(np.logaddexp.reduce(z, axis=1) - picked))


def bits_and_perplexity(nats):
    bits = nats / math.log(2)
    return bits, 2.0 ** bits
'''


def test_a_different_correct_solution_passes(grader, tmp_path, capsys):
    path = tmp_path / "my_sampler.py"  # recognised by its five functions
    path.write_text(DIFFERENT)
    assert grader.grade_file(path) == 0, capsys.readouterr().out
    assert "with a tie at the k-th it kept 2" in capsys.readouterr().out  # exactly k: also right


def softmax(name="softmax"):
    return (f"def {name}(z):\n    z = np.asarray(z, dtype=float)\n    e = np.exp(z - z.max(axis=-1, keepdims=True))\n"
            "    return e / e.sum(axis=-1, keepdims=True)\n\n\n")


BROKEN = {
    # TODO 1: the temperature applied after the softmax, in its usual two forms, and no overflow guard.
    "probabilities_divided_by_t": (
        softmax() + "def apply_temperature(logits, temperature):\n    return softmax(logits) / temperature\n",
        1, "divided the probabilities by T: the temperature divides the logits, before the softmax"),
    "power_without_renormalising": (
        softmax() + "def apply_temperature(logits, temperature):\n    return softmax(logits) ** (1 / temperature)\n",
        1, "raised the probabilities to 1/T but did not renormalise them"),
    "overflow": (
        "def apply_temperature(logits, temperature):\n    e = np.exp(np.asarray(logits) / temperature)\n"
        "    return e / e.sum(axis=-1, keepdims=True)\n",
        1, "np.exp overflowed; subtract the largest logit first"),
    "in_place": (
        "def apply_temperature(logits, temperature):\n    logits /= temperature\n    logits -= logits.max(axis=-1, keepdims=True)\n"
        "    e = np.exp(logits)\n    return e / e.sum(axis=-1, keepdims=True)\n",
        1, "changed the caller's logits in place"),
    # TODO 2: off by one, the wrong end of the sort, zeros instead of -inf.
    "top_k_plus_one": (
        "def top_k_filter(logits, k):\n    z = np.array(logits, dtype=float)\n    if 0 < k < len(z):\n"
        "        z[z < np.sort(z)[-k - 1]] = -np.inf\n    return z\n",
        2, "kept k + 1 logits (off by one"),
    "top_k_smallest": (
        "def top_k_filter(logits, k):\n    z = np.array(logits, dtype=float)\n    if 0 < k < len(z):\n"
        "        z[z > np.sort(z)[k - 1]] = -np.inf\n    return z\n",
        2, "kept the k smallest"),
    "top_k_zeros": (
        "def top_k_filter(logits, k):\n    z = np.array(logits, dtype=float)\n    if 0 < k < len(z):\n"
        "        z[z < np.sort(z)[-k]] = 0.0\n    return z\n",
        2, "set them to -np.inf"),
    # TODO 3: the global generator instead of the given one, and a temperature that never reaches the draw.
    "global_random": (
        "def sample(logits, temperature=1.0, top_k=0, rng=None):\n"
        "    p = apply_temperature(top_k_filter(logits, top_k), temperature)\n"
        "    return int(np.random.choice(len(p), p=p))\n",
        3, "two generators with the same seed gave different draws"),
    "temperature_ignored": (
        "def sample(logits, temperature=1.0, top_k=0, rng=None):\n"
        "    p = apply_temperature(top_k_filter(logits, top_k), 1.0)\n"
        "    return int(rng.choice(len(p), p=p))\n",
        3, "should always give the argmax"),
    "returns_probabilities": (
        "def sample(logits, temperature=1.0, top_k=0, rng=None):\n"
        "    return apply_temperature(top_k_filter(logits, top_k), temperature)\n",
        3, "return one character id"),
    # TODO 4: log base 2, a sum, logits taken for log-probabilities.
    "nats_in_log2": (
        "def cross_entropy_nats(logits, targets):\n"
        "    return float(solution.cross_entropy_nats(logits, targets) / math.log(2))\n",
        4, "that is bits (log base 2); nats use the natural log"),
    "nats_summed": (
        "def cross_entropy_nats(logits, targets):\n"
        "    return float(solution.cross_entropy_nats(logits, targets) * len(targets))\n",
        4, "summed over the characters; take the mean per character"),
    "no_log_softmax": (
        "def cross_entropy_nats(logits, targets):\n"
        "    return float(-np.mean(np.asarray(logits)[np.arange(len(targets)), targets]))\n",
        4, "the logits are not log-probabilities: take the log-softmax first"),
    # TODO 5: the factor ln 2 the wrong way round, bases mixed.
    "bits_times_ln2": (
        "def bits_and_perplexity(nats):\n    return nats * math.log(2), math.exp(nats)\n",
        5, "multiplied by ln 2; divide: bits = nats / ln 2"),
    "perplexity_two_to_nats": (
        "def bits_and_perplexity(nats):\n    return nats / math.log(2), 2 ** nats\n",
        5, "2 ** nats mixes the bases"),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_grader_fails_typical_mistakes(case, grader, tmp_path, capsys):
    overrides, number, expected = BROKEN[case]
    assert grader.grade_file(student_file(tmp_path, overrides)) == 1
    out = capsys.readouterr().out
    failed = [line for line in out.splitlines() if "[FAIL]" in line]
    assert len(failed) == 1 and f"[FAIL] TODO {number} {FUNCTIONS[number - 1]}" in failed[0], out  # the others pass
    assert expected in failed[0], out
    assert "Traceback" not in out and out.strip().splitlines()[-1] == "Score: 4/5 checks passed. FAIL"


def test_grader_names_the_first_empty_todo(grader, tmp_path, capsys):
    overrides = ("_template = importlib.util.module_from_spec(importlib.util.spec_from_file_location('t', "
                 f"{str(TEMPLATE)!r}))\n"
                 "importlib.util.spec_from_file_location('t', _template.__spec__.origin).loader.exec_module(_template)\n"
                 "sample = _template.sample\n")
    assert grader.grade_file(student_file(tmp_path, overrides)) == 1
    out = capsys.readouterr().out
    assert "[PASS] TODO 2 top_k_filter" in out and "[TODO] TODO 3 (sample) is not done yet:" in out


def test_the_graders_model_and_exact_values():
    logits, targets = week3.bigram_case()
    assert logits.shape == (len(targets), logits.shape[1]) and np.allclose(np.exp(logits).sum(axis=1), 1)
    assert np.any(targets == 0)  # characters the first 80% never showed: the unknown token
    solution = load_script(SOLUTION)
    nats = solution.cross_entropy_nats(np.zeros((4, 65)), np.arange(4))
    assert nats == pytest.approx(math.log(65))
    assert solution.bits_and_perplexity(nats) == pytest.approx((math.log2(65), 65.0))


def test_solution_smoke_run(offline_cache, tmp_path):
    solution = load_script(SOLUTION)
    metrics = solution.main(["--smoke", "--log-dir", str(tmp_path / "run"), "--length", "50"])
    # the fake Shakespeare repeats a few lines: the bigram model is far better than choosing among every character
    assert metrics["val_perplexity"] < metrics["vocab_size"] / 3, metrics
    assert metrics["val_bits_per_char"] == pytest.approx(metrics["val_nats_per_char"] / math.log(2))
    assert (tmp_path / "run" / "temperature.png").stat().st_size > 0


def test_template_main_runs_once_filled(offline_cache, tmp_path, monkeypatch, capsys):
    template, solution = load_script(TEMPLATE), load_script(SOLUTION)
    for name in FUNCTIONS:
        monkeypatch.setattr(template, name, getattr(solution, name))
    metrics = template.main(["--smoke", "--log-dir", str(tmp_path / "run"), "--top-k", "3", "--length", "40"])
    assert metrics == solution.main(["--smoke", "--log-dir", str(tmp_path / "again"), "--top-k", "3", "--length", "40"])
    out = capsys.readouterr().out
    assert "Written by the bigram model (temperature 0.8, top-k 3):" in out and "T = 0.5:" in out
