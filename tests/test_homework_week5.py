"""Week-5 vision-losses homework: the template stops at its first TODO, the solution passes the grader, a correct
solution written differently passes, and typical mistakes fail with a message naming the check."""

import inspect
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests import helpers
from tests.helpers import TF_START_UP_WORDS, load_script

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "week5/homework/vision_losses.py"
SOLUTION = REPO / "week5/homework/vision_losses_solution.py"
GRADER = REPO / "scripts/grade_homework.py"
FUNCTIONS = ("reparameterize", "kl_divergence", "gram_matrix", "style_loss", "iou", "mean_iou")


@pytest.fixture(scope="module")
def grader():
    return load_script(GRADER)


def student_file(tmp_path, overrides=""):
    """A student's file: the solution's functions, then `overrides` (new definitions replace them)."""
    return helpers.student_file(tmp_path / "vision_losses_student.py", SOLUTION, FUNCTIONS, overrides)


def test_template_and_solution_offer_the_same_functions():
    template, solution = load_script(TEMPLATE), load_script(SOLUTION)
    for name in FUNCTIONS:
        assert inspect.signature(getattr(template, name)) == inspect.signature(getattr(solution, name)), name


def test_template_stops_at_todo_1_and_the_grader_names_it(tmp_path):
    template = load_script(TEMPLATE)
    with pytest.raises(SystemExit) as stop:
        template.main(["--smoke", "--log-dir", str(tmp_path / "run")])
    assert str(stop.value).startswith("TODO 1 (reparameterize) is not done yet:")
    assert not (tmp_path / "run").exists()

    result = subprocess.run([sys.executable, str(GRADER), str(TEMPLATE)], cwd=REPO, capture_output=True, text=True,
                            timeout=300, env=dict(os.environ))
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "[TODO] TODO 1 (reparameterize) is not done yet:" in result.stdout
    assert result.stdout.strip().splitlines()[-1].endswith("FAIL")
    assert "Traceback" not in output and not any(word in output for word in TF_START_UP_WORDS), output


def test_grader_passes_the_solution(grader, capsys):
    assert grader.grade_file(SOLUTION) == 0
    out = capsys.readouterr().out
    for number, name in enumerate(FUNCTIONS, start=1):
        assert f"[PASS] TODO {number} {name}" in out, out
    assert out.strip().splitlines()[-1] == "Score: 6/6 checks passed. PASS"


# Correct, and written differently: the standard deviation as sqrt(exp(log_var)), KL through the variance and
# log-determinant, the Gram matrix by einsum, the style loss by np.linalg.norm, IoU and mean IoU from a
# confusion matrix (as Keras computes them).
DIFFERENT = '''
import numpy as np


def reparameterize(mean, log_var, eps):
    return np.add(mean, np.sqrt(np.exp(log_var)) * np.asarray(eps))


def kl_divergence(mean, log_var):
    var = np.exp(log_var)
    d = np.shape(mean)[-1]
    return 0.5 * (np.sum(var, -1) + np.sum(np.square(mean), -1) - d - np.sum(log_var, -1))


def gram_matrix(features):
    h, w, _ = np.shape(features)
    return np.einsum("ijc,ijd->cd", features, features) / (h * w)


def style_loss(features, style_features, weights):
    total = 0.0
    for f, s, w in zip(features, style_features, weights):
        difference = gram_matrix(f) - gram_matrix(s)
        total += w * np.linalg.norm(difference) ** 2 / difference.size
    return total


def confusion(true_mask, predicted_mask, n):
    return np.bincount(np.ravel(true_mask) * n + np.ravel(predicted_mask), minlength=n * n).reshape(n, n)


def iou(true_mask, predicted_mask, class_id):
    n = int(max(np.max(true_mask), np.max(predicted_mask), class_id)) + 1
    c = confusion(true_mask, predicted_mask, n)
    union = c[class_id].sum() + c[:, class_id].sum() - c[class_id, class_id]
    return c[class_id, class_id] / union if union else float("nan")


def mean_iou(true_mask, predicted_mask, num_classes):
    c = confusion(true_mask, predicted_mask, num_classes).astype(float)
    union = c.sum(0) + c.sum(1) - np.diag(c)
    return float(np.mean(np.diag(c)[union > 0] / union[union > 0]))
'''


def test_a_different_correct_solution_passes(grader, tmp_path, capsys):
    path = tmp_path / "my_losses.py"  # recognised by its six functions
    path.write_text(DIFFERENT)
    assert grader.grade_file(path) == 0, capsys.readouterr().out


BROKEN = {
    # TODO 1: the variance instead of the standard deviation.
    "variance_not_std": (
        "def reparameterize(mean, log_var, eps):\n    return mean + np.exp(log_var) * eps\n",
        1, "multiplied eps by the variance exp(log_var)"),
    # TODO 2: the sign, a mean over the dimensions, log_var taken for the variance.
    "kl_wrong_sign": (
        "def kl_divergence(mean, log_var):\n    return 0.5 * np.sum(1 + log_var - mean ** 2 - np.exp(log_var), axis=-1)\n",
        2, "the sign"),
    "kl_mean_over_dimensions": (
        "def kl_divergence(mean, log_var):\n    return -0.5 * np.mean(1 + log_var - mean ** 2 - np.exp(log_var), axis=-1)\n",
        2, "averaged over the latent dimensions"),
    # TODO 3: not normalised; F F^T.
    "gram_not_normalised": (
        "def gram_matrix(features):\n    f = np.reshape(features, (-1, np.shape(features)[-1]))\n    return f.T @ f\n",
        3, "not divided by the number of positions"),
    "gram_positions": (
        "def gram_matrix(features):\n    f = np.reshape(features, (-1, np.shape(features)[-1]))\n"
        "    return f @ f.T / f.shape[0]\n",
        3, "that is F F^T"),
    # TODO 4: the features compared, not their Gram matrices.
    "style_compares_features": (
        "def style_loss(features, style_features, weights):\n"
        "    return float(sum(w * np.mean((np.asarray(f) - np.asarray(s)) ** 2)\n"
        "                     for f, s, w in zip(features, style_features, weights)))\n",
        4, "compared the features themselves"),
    # TODO 5: the union double-counted; Dice.
    "union_double_counted": (
        "def iou(true_mask, predicted_mask, class_id):\n    a, b = np.asarray(true_mask) == class_id, "
        "np.asarray(predicted_mask) == class_id\n    return float((a & b).sum() / (a.sum() + b.sum()))\n",
        5, "the union counted the overlap twice"),
    "dice_not_iou": (
        "def iou(true_mask, predicted_mask, class_id):\n    a, b = np.asarray(true_mask) == class_id, "
        "np.asarray(predicted_mask) == class_id\n    return float(2 * (a & b).sum() / (a.sum() + b.sum()))\n",
        5, "that is the Dice coefficient"),
    # TODO 6: absent classes averaged in as 0.
    "absent_classes_as_zero": (
        "def mean_iou(true_mask, predicted_mask, num_classes):\n"
        "    values = [iou(true_mask, predicted_mask, c) for c in range(num_classes)]\n"
        "    return float(np.mean([0.0 if math.isnan(v) else v for v in values]))\n",
        6, "averaged in the classes in neither mask"),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_grader_fails_typical_mistakes(case, grader, tmp_path, capsys):
    overrides, number, expected = BROKEN[case]
    assert grader.grade_file(student_file(tmp_path, overrides)) == 1
    out = capsys.readouterr().out
    failed = [line for line in out.splitlines() if "[FAIL]" in line]
    assert len(failed) == 1 and f"[FAIL] TODO {number} {FUNCTIONS[number - 1]}" in failed[0], out  # the others pass
    assert expected in failed[0], out
    assert "Traceback" not in out and out.strip().splitlines()[-1] == "Score: 5/6 checks passed. FAIL"


def test_grader_names_the_first_empty_todo(grader, tmp_path, capsys):
    overrides = ("_template = importlib.util.module_from_spec(importlib.util.spec_from_file_location('t', "
                 f"{str(TEMPLATE)!r}))\n"
                 "importlib.util.spec_from_file_location('t', _template.__spec__.origin).loader.exec_module(_template)\n"
                 "style_loss = _template.style_loss\n")
    assert grader.grade_file(student_file(tmp_path, overrides)) == 1
    out = capsys.readouterr().out
    assert "[PASS] TODO 3 gram_matrix" in out and "[TODO] TODO 4 (style_loss) is not done yet:" in out


def test_solution_demonstration(tmp_path, capsys):
    solution = load_script(SOLUTION)
    metrics = solution.main(["--smoke", "--log-dir", str(tmp_path / "run")])
    assert metrics["sample_mean"] == pytest.approx(2.0, abs=0.05) and metrics["sample_std"] == pytest.approx(0.5, abs=0.03)
    assert metrics["style_loss_shuffled"] < 1e-12 < metrics["style_loss_dots"]
    assert 0 < metrics["mean_iou"] < 1
    assert (tmp_path / "run" / "masks.png").stat().st_size > 0
    out = capsys.readouterr().out
    assert f"KL(N(0, 4) in 16 dimensions || N(0, I)) = {16 * (4 - 1 - math.log(4)) / 2:.3f} nats" in out


def test_template_main_runs_once_filled(tmp_path, monkeypatch):
    template, solution = load_script(TEMPLATE), load_script(SOLUTION)
    for name in FUNCTIONS:
        monkeypatch.setattr(template, name, getattr(solution, name))
    assert template.main(["--smoke", "--log-dir", str(tmp_path / "a")]) == \
        solution.main(["--smoke", "--log-dir", str(tmp_path / "b")])
    assert np.isfinite(list(template.main(["--smoke", "--log-dir", str(tmp_path / "c")]).values())).all()
