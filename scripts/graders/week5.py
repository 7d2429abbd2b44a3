"""Week 5: the vision-losses homework (week5/homework/vision_losses.py): VAE sampling and KL, Gram and style loss, IoU.

요약: 재매개변수화 트릭과 KL 발산은 닫힌 꼴(closed form)과, 그람 행렬과 스타일 손실은 손으로 계산한 작은 예와,
IoU와 평균 IoU는 겹치는 넓이를 알고 만든 마스크와 비교합니다. 모두 채점기가 직접 계산한 정확한 값이고,
TensorFlow도 학습도 필요 없습니다. 흔한 실수(분산과 표준편차 혼동, KL의 부호, 합 대신 평균, 정규화 빠뜨리기,
특징 자체 비교, 합집합에서 겹친 곳 두 번 세기, 없는 클래스를 0으로 평균하기)는 이름을 대어 알려 줍니다.

Pass:   TODO 1 reparameterize: mean + exp(log_var / 2) * eps for given eps, any shape, within 1e-9;
        TODO 2 kl_divergence: -1/2 sum(1 + log_var - mean^2 - exp(log_var)) per row: 0 for the prior itself,
        the per-dimension closed forms, random rows, within 1e-6;
        TODO 3 gram_matrix: a 2x2x2 feature map worked by hand, and random maps, within 1e-9;
        TODO 4 style_loss: 0 against itself and against a position-shuffled copy; a hand-computed value; the
        layer weights;
        TODO 5 iou: known pairs of masks (2/6, disjoint 0, identical 1, 3 classes of a drawn scene);
        TODO 6 mean_iou: classes in neither mask left out, as keras.metrics.MeanIoU does.
"""

import math
from pathlib import Path

import numpy as np

from common import scenes
from scripts.graders import base
from scripts.graders.base import Stop

REQUIRED = {
    "reparameterize": "reparameterize(mean, log_var, eps)",
    "kl_divergence": "kl_divergence(mean, log_var)",
    "gram_matrix": "gram_matrix(features)",
    "style_loss": "style_loss(features, style_features, weights)",
    "iou": "iou(true_mask, predicted_mask, class_id)",
    "mean_iou": "mean_iou(true_mask, predicted_mask, num_classes)",
}
TODOS = {name: number for number, name in enumerate(REQUIRED, start=1)}


def as_array(value, what):
    try:
        array = np.asarray(value, dtype="float64")
    except (TypeError, ValueError):
        raise Stop(f"{what} returned {type(value).__name__}, not numbers") from None
    return array


def close(a, b, atol=1e-9, rtol=1e-7):
    a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    return a.shape == b.shape and bool(np.all(np.isfinite(a))) and np.allclose(a, b, atol=atol, rtol=rtol)


def as_number(value, what):
    try:
        return float(value)
    except (TypeError, ValueError):
        raise Stop(f"{what} returned {type(value).__name__}: return one number (e.g. float(...))") from None


def first_match(got, candidates, default, **tolerance):
    for wrong, words in candidates:
        if wrong is not None and close(got, wrong, **tolerance):
            return words
    return default


# --- TODO 1, 2: VAE ---------------------------------------------------------------------------

def check_reparameterize(report, student, rng):
    name = "TODO 1 reparameterize"
    for shape in ((5,), (4, 3), (2, 3, 2)):
        mean, log_var, eps = rng.normal(size=shape), rng.normal(size=shape), rng.normal(size=shape)
        copies = [mean.copy(), log_var.copy(), eps.copy()]
        got = as_array(student.call("reparameterize", *copies), name)
        want = mean + np.exp(0.5 * log_var) * eps
        if not close(got, want):
            why = first_match(got, (
                (mean + np.exp(log_var) * eps, "multiplied eps by the variance exp(log_var); the standard deviation is "
                                               "exp(log_var / 2)"),
                (mean + log_var * eps, "multiplied eps by log_var itself; sigma = exp(log_var / 2)"),
                (mean + np.sqrt(np.abs(log_var)) * eps, "sigma is exp(log_var / 2), not the square root of log_var"),
                (mean + np.exp(0.5 * log_var), "forgot eps: z = mean + sigma * eps"),
                (np.exp(0.5 * log_var) * eps, "forgot the mean: z = mean + sigma * eps"),
            ), "expected mean + exp(log_var / 2) * eps", atol=1e-9)
            return report.check(name, False, f"shape {shape}: expected {np.round(want.ravel()[:4], 4).tolist()} ..., "
                                f"got {np.round(got.ravel()[:4], 4).tolist()} ... ({why})")
        if not all(np.array_equal(a, b) for a, b in zip(copies, (mean, log_var, eps))):
            return report.check(name, False, "changed the caller's arrays in place; compute a new array")
    return report.check(name, True, "equals mean + exp(log_var / 2) * eps elementwise for shapes (5,), (4, 3), "
                        "(2, 3, 2)")


def check_kl(report, student, rng):
    name = "TODO 2 kl_divergence"
    d = 6
    cases = [
        ("the prior itself (mean 0, log_var 0)", np.zeros((2, d)), np.zeros((2, d))),
        ("mean 1, variance 1", np.ones((1, d)), np.zeros((1, d))),  # d * 1/2
        ("mean 0, variance 4", np.zeros((1, d)), np.full((1, d), math.log(4))),  # d * (4 - 1 - ln 4) / 2
        ("random rows", rng.normal(size=(5, d)), rng.normal(size=(5, d)) * 0.7),
    ]
    for what, mean, log_var in cases:
        got = as_array(student.call("kl_divergence", mean.copy(), log_var.copy()), name)
        want = -0.5 * np.sum(1 + log_var - mean ** 2 - np.exp(log_var), axis=-1)
        if close(got, want, atol=1e-6, rtol=1e-6):
            continue
        if got.shape != want.shape:
            why = (f"returned shape {got.shape}; return one KL per row (example), shape {want.shape}: sum over the last "
                   "axis only" if got.size == 1 else f"returned shape {got.shape}, expected {want.shape} (sum over axis=-1)")
        else:
            why = first_match(got, (
                (-want, "the sign: KL = -1/2 sum(1 + log_var - mean^2 - exp(log_var)) is never negative"),
                (want / d, "averaged over the latent dimensions; KL sums them"),
                (-0.5 * np.sum(1 + np.log(np.abs(log_var) + 1e-300) - mean ** 2 - log_var, axis=-1),
                 "treated log_var as the variance; it is the log of the variance"),
                (2 * want, "missing the factor 1/2"),
                (-0.5 * np.sum(log_var - mean ** 2 - np.exp(log_var), axis=-1), "missing the 1 inside the sum"),
            ), "expected -1/2 sum(1 + log_var - mean^2 - exp(log_var)) per row", atol=1e-6, rtol=1e-6)
        return report.check(name, False, f"{what}: expected {np.round(want, 4).tolist()} nats, got "
                            f"{np.round(got.ravel(), 4).tolist()} ({why})")
    return report.check(name, True, f"0 for the prior itself, {d / 2:g} nats for mean 1 in {d} dimensions, "
                        f"{d * (4 - 1 - math.log(4)) / 2:.4f} for variance 4, and random rows, one value per row")


# --- TODO 3, 4: Gram matrix and style loss ---------------------------------------------------------

def gram(features):
    flat = np.asarray(features, dtype="float64").reshape(-1, np.shape(features)[-1])
    return flat.T @ flat / flat.shape[0]


def check_gram(report, student, rng):
    name = "TODO 3 gram_matrix"
    # 2x2 위치, 2채널: 채널 0 = [1, 2, 3, 4], 채널 1 = [0, 1, 0, 1]
    by_hand = np.array([[[1, 0], [2, 1]], [[3, 0], [4, 1]]], dtype="float64")
    want_hand = np.array([[30 / 4, 6 / 4], [6 / 4, 2 / 4]])
    for what, features, want in (("a 2x2 map with 2 channels (by hand)", by_hand, want_hand),
                                 ("a random 5x3 map with 4 channels", rng.normal(size=(5, 3, 4)), None)):
        want = gram(features) if want is None else want
        got = as_array(student.call("gram_matrix", features.copy()), name)
        if close(got, want):
            continue
        positions, channels = features.shape[0] * features.shape[1], features.shape[-1]
        flat = features.reshape(-1, channels)
        if got.shape == (positions, positions):
            why = "that is F F^T (positions x positions); the Gram matrix is F^T F (channels x channels)"
        else:
            why = first_match(got, (
                (want * positions, "not divided by the number of positions h*w"),
                (want * positions / channels, "divided by the channels; divide by the positions h*w"),
                (want / channels, "divided by h*w*c; divide by the positions h*w only"),
                (flat.T @ flat / positions ** 2, "divided by (h*w)^2; divide by h*w once"),
            ), f"expected F^T F / (h*w), shape ({channels}, {channels})")
        return report.check(name, False, f"{what}: expected {np.round(want, 4).tolist()}, got "
                            f"{np.round(got, 4).tolist() if got.size <= 16 else f'shape {got.shape}'} ({why})")
    return report.check(name, True, "the 2x2x2 map worked by hand gives [[7.5, 1.5], [1.5, 0.5]]; a random 5x3x4 map "
                        "matches F^T F / (h*w)")


def check_style(report, student, rng):
    name = "TODO 4 style_loss"
    a, b = rng.normal(size=(4, 4, 3)), rng.normal(size=(4, 4, 3))
    c, d = rng.normal(size=(2, 3, 5)), rng.normal(size=(2, 3, 5))
    shuffled = a.reshape(-1, 3)[rng.permutation(16)].reshape(4, 4, 3)
    cases = [
        ("a layer against itself", [a], [a], [1.0], 0.0),
        ("a layer against its positions shuffled", [a], [shuffled], [1.0], 0.0),
        ("one layer", [a], [b], [1.0], float(np.mean((gram(a) - gram(b)) ** 2))),
        ("two layers, weights 0.3 and 2", [a, c], [b, d], [0.3, 2.0],
         0.3 * float(np.mean((gram(a) - gram(b)) ** 2)) + 2.0 * float(np.mean((gram(c) - gram(d)) ** 2))),
    ]
    for what, features, style, weights, want in cases:
        got = as_number(student.call("style_loss", [f.copy() for f in features], [s.copy() for s in style],
                                     list(weights)), name)
        if math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-9):
            continue
        wrongs = (
            (float(sum(w * np.mean((f - s) ** 2) for f, s, w in zip(features, style, weights))),
             "compared the features themselves (that is a content loss); compare their Gram matrices"),
            (float(sum(w * np.sum((gram(f) - gram(s)) ** 2) for f, s, w in zip(features, style, weights))),
             "summed the squared differences; take their mean"),
            (float(sum(np.mean((gram(f) - gram(s)) ** 2) for f, s in zip(features, style))), "ignored the weights"),
            (float(sum(w * np.mean(np.abs(gram(f) - gram(s))) for f, s, w in zip(features, style, weights))),
             "absolute differences; square them"),
        )
        why = next((words for wrong, words in wrongs if math.isclose(got, wrong, rel_tol=1e-6, abs_tol=1e-9)),
                   "expected sum of weights[l] * mean((gram(features[l]) - gram(style_features[l]))^2)")
        if what == "a layer against its positions shuffled" and why.startswith("expected"):
            why = "style ignores where things are: the Gram matrices of a map and of its shuffled copy are equal"
        return report.check(name, False, f"{what}: expected {want:.6g}, got {got:.6g} ({why})")
    return report.check(name, True, "0 against itself and against a position-shuffled copy (style forgets where); "
                        "the mean squared Gram difference of one layer; two layers weighted 0.3 and 2")


# --- TODO 5, 6: IoU and mean IoU --------------------------------------------------------------------

def true_iou(a, b, k):
    a, b = np.asarray(a) == k, np.asarray(b) == k
    union = np.logical_or(a, b).sum()
    return np.logical_and(a, b).sum() / union if union else float("nan")


def mask_pairs():
    known_true = np.zeros((4, 4), int)
    known_true[0, :] = 1  # 4 pixels of class 1
    known_pred = np.zeros((4, 4), int)
    known_pred[:2, :2] = 1  # 4 pixels, 2 of them right: intersection 2, union 6
    _, scene = scenes.segmentation_scene(index=5, seed=base.GRADER_SEED, size=48)
    return [
        ("the 4x4 pair (class 1: intersection 2, union 6)", known_true, known_pred, 1),
        ("the 4x4 pair, class 0 (intersection 10, union 14)", known_true, known_pred, 0),
        ("disjoint masks", known_true, 1 - known_true, 1),
        ("identical masks", known_true, known_true.copy(), 1),
        *[(f"a drawn scene shifted by 3 pixels, class {k}", scene, np.roll(scene, 3, axis=1), k) for k in (0, 1, 2)],
    ]


def check_iou(report, student):
    name = "TODO 5 iou"
    for what, a, b, k in mask_pairs():
        want = true_iou(a, b, k)
        if math.isnan(want):
            continue
        got = as_number(student.call("iou", a.copy(), b.copy(), k), name)
        if math.isclose(got, want, abs_tol=1e-9):
            continue
        ma, mb = np.asarray(a) == k, np.asarray(b) == k
        inter, size_a, size_b = np.logical_and(ma, mb).sum(), ma.sum(), mb.sum()
        wrongs = (
            (inter / (size_a + size_b) if size_a + size_b else None,
             "the union counted the overlap twice: |A ∪ B| = |A| + |B| - |A ∩ B|"),
            (2 * inter / (size_a + size_b) if size_a + size_b else None, "that is the Dice coefficient, "
                                                                         "2|A ∩ B| / (|A| + |B|); IoU is |A ∩ B| / |A ∪ B|"),
            (inter / size_a if size_a else None, "divided by the true area only (that is recall); divide by the union"),
            (float(np.mean(np.asarray(a) == np.asarray(b))), "that is pixel accuracy over all classes; IoU looks at "
                                                             "one class's pixels"),
        )
        why = next((words for wrong, words in wrongs if wrong is not None and math.isclose(got, wrong, abs_tol=1e-9)),
                   "expected |A ∩ B| / |A ∪ B| for the pixels of class_id")
        return report.check(name, False, f"{what}: expected {want:.4f}, got {got:.4f} ({why})")
    return report.check(name, True, "2/6 and 10/14 on the 4x4 pair, 0 for disjoint and 1 for identical masks, and "
                        "a drawn scene against a shifted copy")


def check_mean_iou(report, student):
    name = "TODO 6 mean_iou"
    cases = [(what, a, b, 4) for what, a, b, _ in mask_pairs()[:1]] + [
        (what, a, b, 4) for what, a, b, k in mask_pairs()[4:5]]
    for what, a, b, n in cases:
        values = [true_iou(a, b, k) for k in range(n)]
        want = float(np.mean([v for v in values if not math.isnan(v)]))
        got = as_number(student.call("mean_iou", a.copy(), b.copy(), n), name)
        if math.isclose(got, want, abs_tol=1e-9):
            continue
        absent = [k for k, v in enumerate(values) if math.isnan(v)]
        wrongs = (
            (float(np.mean([0 if math.isnan(v) else v for v in values])),
             f"averaged in the classes in neither mask ({absent}) as 0; leave them out (as keras.metrics.MeanIoU)"),
            (float(np.mean([1 if math.isnan(v) else v for v in values])),
             f"counted the classes in neither mask ({absent}) as 1; leave them out"),
            (float(np.mean(np.asarray(a) == np.asarray(b))), "that is pixel accuracy; average the per-class IoU"),
        )
        why = next((words for wrong, words in wrongs if math.isclose(got, wrong, abs_tol=1e-9)),
                   "expected the mean of iou() over the classes that occur in either mask")
        if math.isnan(got):
            why = "got nan: a class in neither mask has no IoU; leave it out of the mean"
        return report.check(name, False, f"{what}, {n} classes: expected {want:.4f}, got {got:.4f} ({why})")
    return report.check(name, True, "the mean over the classes present in either mask (absent classes left out, "
                        "as keras.metrics.MeanIoU) on the 4x4 pair and a drawn scene")


def grade(report, student, seed):
    rng = np.random.default_rng(seed)
    checks = ((check_reparameterize, (rng,)), (check_kl, (rng,)), (check_gram, (rng,)), (check_style, (rng,)),
              (check_iou, ()), (check_mean_iou, ()))
    for (check, args), (name, number) in zip(checks, TODOS.items()):
        try:
            check(report, student, *args)
        except Stop as stop:
            if stop.todo:
                raise
            report.check(f"TODO {number} {name}", False, str(stop))  # 한 TODO가 고장 나도 나머지는 채점


def grade_file(path, seed=base.GRADER_SEED):
    """Grades one vision-losses file in this process and prints the report; returns the exit status (0: pass)."""
    path = Path(path).resolve()
    print(f"Grading {base.display(path)} against closed forms and hand-computed cases (seed {seed}); no training",
          flush=True)
    return base.score(lambda report: grade(report, base.load_student(path, REQUIRED, TODOS), seed))


HOMEWORK = base.Homework(
    week=5, title="VAE sampling and KL, the Gram matrix and style loss, IoU and mean IoU (TODO 1-6)",
    template="week5/homework/vision_losses.py", names="vision_losses*.py", required=tuple(TODOS), grade_file=grade_file,
)
