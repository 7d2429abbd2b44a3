"""Week 3: the sampling homework (week3/homework/sampling.py): temperature, top-k, sampling, nats, bits, perplexity.

요약: 온도(temperature)와 top-k로 로짓(logits)에서 다음 글자를 뽑는 함수, 그리고 주어진 모델의 글자당 나츠·비트와
퍼플렉서티(perplexity)를 채점기가 직접 계산한 정확한 값과 비교합니다. 뽑기는 시드를 고정한 난수 생성기로 충분히
많이 뽑아, 뽑힌 비율이 기대한 분포와 허용 오차 안에서 같은지 봅니다. TensorFlow도 학습도 필요 없습니다.

Pass:   TODO 1 apply_temperature: softmax(logits / T) for many T, a batch of rows, logits of +-1000 (no overflow);
        TODO 2 top_k_filter: exactly the k largest logits kept, the rest -inf (ties at the k-th may be kept);
        TODO 3 sample: draws from a seeded rng follow softmax(top_k(logits) / T) (6,000 draws per setting, within
        5 standard errors); temperature near 0 and top_k=1 always give the argmax; the same rng seed, the same draws;
        TODO 4 cross_entropy_nats: the mean -ln p(next character) of the grader's bigram model on its text and of
        other logits, within 1e-4;
        TODO 5 bits_and_perplexity: bits = nats / ln 2 and perplexity = e^nats, within 1e-6.
"""

import math
from pathlib import Path

import numpy as np

from scripts.graders import base
from scripts.graders.base import Stop

LN2 = math.log(2)
DRAWS = 6000  # 설정마다 뽑는 수: 확률 0.3인 글자의 표준 오차 0.006
Z_LIMIT = 5.0  # 허용 오차: 표준 오차의 5배 (맞는 답이 우연히 떨어질 확률은 백만분의 몇)
UNKNOWN = "\ufffd"  # week3/char_rnn_sample.py와 같은 모르는 글자 토큰 (id 0)
REQUIRED = {
    "apply_temperature": "apply_temperature(logits, temperature)",
    "top_k_filter": "top_k_filter(logits, k)",
    "sample": "sample(logits, temperature=1.0, top_k=0, rng=None)",
    "cross_entropy_nats": "cross_entropy_nats(logits, targets)",
    "bits_and_perplexity": "bits_and_perplexity(nats)",
}
TODOS = {name: number for number, name in enumerate(REQUIRED, start=1)}

# 채점기의 글: 바이그램 모델은 앞의 80%로 세고, 뒤의 20%에서 잽니다.
TEXT = (
    "한 글자씩 읽는 언어 모델은 앞의 글자를 보고 다음 글자의 확률을 줍니다. 온도가 낮으면 가장 그럴듯한 글자만 "
    "고르고, 온도가 높으면 엉뚱한 글자도 고릅니다. 상위 k개만 남기면 아주 드문 글자는 뽑히지 않습니다.\n"
    "A character-level language model reads one character at a time and gives the probability of the next one. "
    "The lower the bits per character, the better it guesses; a model that knows nothing pays log2 of the "
    "vocabulary size for every character.\n"
    "바이그램 모델은 바로 앞의 한 글자만 보고 다음 글자를 셉니다. 세어 보지 못한 짝에도 확률이 조금 남도록 "
    "모든 짝에 1을 더합니다. The quick brown fox jumps over the lazy dog, and the dog sleeps on.\n"
)


def softmax(z, axis=-1):
    z = np.asarray(z, dtype="float64")
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(z):
    z = np.asarray(z, dtype="float64")
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def close(a, b, atol=1e-6, rtol=1e-5):
    try:
        a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
        return a.shape == b.shape and bool(np.all(np.isfinite(a))) and np.allclose(a, b, atol=atol, rtol=rtol)
    except (TypeError, ValueError):
        return False


def unchanged(student, name, *args):
    """Calls the student's function on copies; returns (result, True when the caller's arrays are unchanged)."""
    copies = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]
    result = student.call(name, *copies)
    same = all(not isinstance(a, np.ndarray) or np.array_equal(a, c) for a, c in zip(args, copies))
    return result, same


IN_PLACE = ("changed the caller's logits in place; work on a copy (e.g. logits = np.array(logits, dtype=float)) "
            "so that the caller's logits stay as they were")


# --- TODO 1: 온도 / Temperature -----------------------------------------------------------

def temperature_mistake(logits, t, got):
    """The usual slip behind a wrong apply_temperature, in words."""
    got = np.asarray(got, dtype="float64")
    if got.shape != np.shape(logits):
        return f"returned shape {got.shape} for logits of shape {np.shape(logits)}: one probability per logit"
    if not np.all(np.isfinite(got)):
        return ("got nan or inf: np.exp overflowed; subtract the largest logit first (softmax does not change when "
                "every logit moves by the same amount)")
    p = softmax(logits)
    candidates = [
        (p / t, "divided the probabilities by T: the temperature divides the logits, before the softmax"),
        (p ** (1 / t), "raised the probabilities to 1/T but did not renormalise them: divide by their sum "
                       "(or divide the logits by T before the softmax)"),
        (softmax(np.asarray(logits) * t), "multiplied the logits by T; divide them: softmax(logits / T)"),
        (p, "the temperature has no effect: softmax(logits / T)"),
        (np.exp(np.asarray(logits) / t), "these are not normalised: divide by their sum (softmax)"),
    ]
    if np.ndim(logits) == 2:
        candidates.append((softmax(np.asarray(logits) / t, axis=0), "normalised over the wrong axis: each row "
                                                                    "(axis=-1) is one distribution"))
    for wrong, words in candidates:
        if close(got, wrong):
            return words
    sums = got.sum(axis=-1)
    if not np.allclose(sums, 1, atol=1e-6):
        return f"the probabilities sum to {np.round(sums, 4).tolist()}, not 1"
    return "differs from softmax(logits / T)"


def check_temperature(report, student, rng):
    name = "TODO 1 apply_temperature"
    logits = np.array([2.0, 1.0, 0.1, -1.0, 0.5, 3.0])
    cases = [(logits, t) for t in (1.0, 0.5, 2.0, 0.1, 10.0)]
    cases += [(rng.normal(size=(4, 7)) * 3, 0.7),  # 배치: 행마다 분포 하나
              (np.array([1000.0, 999.0, 990.0, -1000.0]), 1.0), (np.array([1000.0, 999.0, 990.0, -1000.0]), 0.01)]
    for z, t in cases:
        got, same = unchanged(student, "apply_temperature", z, t)
        want = softmax(z / t)
        if not close(got, want):
            return report.check(name, False, f"logits {np.round(z, 3).tolist()}, T = {t}: expected "
                                f"{np.round(want, 4).tolist()}, got {np.round(np.asarray(got, dtype=float), 4).tolist()}"
                                f" ({temperature_mistake(z, t, got)})")
        if not same:
            return report.check(name, False, IN_PLACE)
    return report.check(name, True, "equals softmax(logits / T) for T = 0.01-10, a batch of rows (softmax per row) "
                        "and logits of +-1000 (no overflow); the caller's logits unchanged")


# --- TODO 2: top-k ------------------------------------------------------------------------

def check_top_k(report, student):
    name = "TODO 2 top_k_filter"
    logits = np.array([0.3, 2.5, -1.0, 1.7, 0.9, 2.1, -0.2, 1.2])
    order = np.argsort(logits)[::-1]  # 큰 것부터
    for k in (1, 3, 5, 7, 8, 0):
        got, same = unchanged(student, "top_k_filter", logits, k)
        got = np.asarray(got, dtype="float64")
        if got.shape != logits.shape:
            return report.check(name, False, f"k = {k}: returned shape {got.shape}; return all {len(logits)} logits, "
                                "the removed ones as -inf")
        n = len(logits) if k == 0 else min(k, len(logits))
        want = set(order[:n].tolist())
        removed = got <= -1e9  # -inf (또는 그만큼 작은 값): 확률 0
        kept = set(np.flatnonzero(~removed).tolist())
        if kept == want and np.allclose(got[~removed], logits[~removed]):
            if not same:
                return report.check(name, False, IN_PLACE)
            continue
        shown = f"k = {k}, logits {logits.tolist()}: expected to keep ids {sorted(want)}, kept {sorted(kept)}"
        if kept == want:
            why = "the kept logits must keep their values (only the others change, to -inf)"
        elif np.any(got[~removed & ~np.isin(np.arange(len(logits)), list(want))] == 0):
            why = ("the removed logits were set to 0, which still has probability; set them to -np.inf "
                   "(probability exactly 0)")
        elif k == 0:
            why = "top_k = 0 means no filtering: keep every logit (as char_rnn_sample.py --top-k 0)"
        elif kept == set(order[::-1][:n].tolist()):
            why = ("kept the k smallest: np.sort sorts upwards, so the k-th largest is np.sort(logits)[-k] "
                   "(or use np.argsort(logits)[-k:])")
        elif len(kept) == n + 1 and want <= kept:
            why = "kept k + 1 logits (off by one: the k-th largest is np.sort(logits)[-k])"
        elif len(kept) == n - 1 and kept <= want:
            why = "kept k - 1 logits (off by one: the k-th largest is np.sort(logits)[-k])"
        else:
            why = "keep the k largest logits, set the others to -np.inf"
        return report.check(name, False, f"{shown} ({why})")

    ties = np.array([1.0, 3.0, 2.0, 2.0, 0.5, 2.0])  # k = 2: 3.0 다음의 2.0이 셋
    got = np.asarray(student.call("top_k_filter", ties.copy(), 2), dtype="float64")
    kept = set(np.flatnonzero(got > -1e9).tolist()) if got.shape == ties.shape else set()
    if not ({1} <= kept <= {1, 2, 3, 5} and len(kept) >= 2):
        return report.check(name, False, f"k = 2, logits {ties.tolist()} (a tie at the 2nd largest): kept ids "
                            f"{sorted(kept)}; keep id 1 and one or all of the tied ids 2, 3, 5")
    return report.check(name, True, f"k = 1, 3, 5, 7, 8 (all) and 0 (all) keep exactly the k largest, the rest -inf; "
                        f"with a tie at the k-th it kept {len(kept)} (keeping the ties or cutting to k both pass)")


# --- TODO 3: 뽑기 / Sampling ----------------------------------------------------------------

def expected_distribution(logits, temperature, top_k):
    z = np.asarray(logits, dtype="float64") / temperature
    if 0 < top_k < len(z):
        z = np.where(z >= np.sort(z)[-top_k], z, -np.inf)
    return softmax(z)


def draw(student, logits, temperature, top_k, rng, n):
    """n ids from the student's sample(); Stop when one is not an id."""
    ids = np.empty(n, dtype="int64")
    for i in range(n):
        value = student.call("sample", logits.copy(), temperature, top_k, rng)
        number = None
        if np.ndim(value) == 0:
            try:
                number = float(value)
            except (TypeError, ValueError):
                number = None
        if number is None or not number.is_integer() or not 0 <= number < len(logits):
            shown = f"an array of shape {np.shape(value)}" if np.ndim(value) else repr(value)
            raise Stop(f"TODO 3 (sample) returned {shown}: return one character id, an int in 0..{len(logits) - 1} "
                       "(e.g. int(rng.choice(len(p), p=p)))")
        ids[i] = int(number)
    return ids


def fits(counts, p, n):
    """True when the observed counts agree with the distribution p within Z_LIMIT standard errors (per id)."""
    f = counts / n
    se = np.sqrt(p * (1 - p) / n)
    return bool(np.all(np.abs(f - p) <= Z_LIMIT * se + 1.5 / n) and np.all(counts[p == 0] == 0))


def check_sample(report, student, seed):
    name = "TODO 3 sample"
    logits = np.array([1.0, 2.0, 0.5, -0.5, 1.5, 0.0])
    v = len(logits)
    argmax = int(np.argmax(logits))
    # 정확한 검사 / exact checks
    for temperature, top_k, z, what in (
        (1e-3, 0, logits, "temperature 0.001 (near 0)"), (1.0, 1, logits, "top_k = 1"),
        (0.01, 0, logits * 500, "temperature 0.01 on logits up to 1000"),
    ):
        ids = draw(student, z, temperature, top_k, np.random.default_rng(seed), 100)
        if np.any(ids != int(np.argmax(z))):
            return report.check(name, False, f"{what} should always give the argmax (id {argmax}); drew "
                                f"{np.bincount(ids, minlength=v).tolist()} (counts per id)")
    a = draw(student, logits, 1.0, 0, np.random.default_rng(seed), 200)
    b = draw(student, logits, 1.0, 0, np.random.default_rng(seed), 200)
    if not np.array_equal(a, b):
        return report.check(name, False, "two generators with the same seed gave different draws: draw with the rng "
                            "you are given (rng.choice(...) or rng.random()), not np.random.* or random.*")
    # 통계 검사 / statistical checks: DRAWS draws per setting from one seeded generator
    rng = np.random.default_rng(seed)
    for temperature, top_k in ((1.0, 0), (0.5, 3), (2.0, 0), (1.5, 4)):
        p = expected_distribution(logits, temperature, top_k)
        counts = np.bincount(draw(student, logits, temperature, top_k, rng, DRAWS), minlength=v)
        if fits(counts, p, DRAWS):
            continue
        shown = (f"T = {temperature}, top_k = {top_k}: expected frequencies {np.round(p, 3).tolist()}, drew "
                 f"{np.round(counts / DRAWS, 3).tolist()} in {DRAWS} draws")
        if counts.max() == DRAWS:
            why = ("every draw was the same id: draw with the rng you are given, once per call "
                   "(a new generator with a fixed seed in every call repeats the same draw)")
        elif np.any(counts[p == 0]):
            why = f"drew ids that top-k removes ({np.flatnonzero(counts * (p == 0)).tolist()})"
        else:
            why = "differs from softmax(top_k(logits) / T)"
            for wrong, words in (
                (expected_distribution(logits, 1.0, top_k), "the temperature has no effect"),
                (expected_distribution(logits, 1.0 / temperature, top_k), "the logits were multiplied by T, not divided"),
                (expected_distribution(logits, temperature, 0), "top_k has no effect"),
                (expected_distribution(logits, temperature, min(top_k + 1, v)) if top_k else None,
                 "kept k + 1 logits (off by one)"),
            ):
                if wrong is not None and fits(counts, wrong, DRAWS):
                    why = words
                    break
        return report.check(name, False, f"{shown} ({why})")
    return report.check(name, True, f"{DRAWS} draws each at (T, top_k) = (1, all), (0.5, 3), (2, all), (1.5, 4) match "
                        f"softmax(top_k(logits) / T) within {Z_LIMIT:g} standard errors; T near 0 and top_k = 1 "
                        "give the argmax; the same seed gives the same draws")


# --- TODO 4, 5: 나츠, 비트, 퍼플렉서티 / Nats, bits and perplexity ------------------------------

def bigram_case(text=TEXT):
    """The grader's model: add-one bigram log-probabilities counted on the first 80% of the text.

    Returns (logits (N, V), targets (N,)) for every next character of the last 20%; characters never seen
    in the first 80% are the unknown token, id 0 (as week3/char_rnn.py does).
    """
    cut = int(len(text) * 0.8)
    chars = [UNKNOWN] + sorted(set(text[:cut]))
    index = {c: i for i, c in enumerate(chars)}
    ids = np.array([index.get(c, 0) for c in text], dtype="int64")
    v = len(chars)
    counts = np.zeros((v, v))
    np.add.at(counts, (ids[:cut - 1], ids[1:cut]), 1)
    log_p = np.log((counts + 1) / (counts.sum(axis=1, keepdims=True) + v))
    held = ids[cut - 1:]
    return log_p[held[:-1]], held[1:]


def nats_cases(rng):
    logits, targets = bigram_case()
    n, v = logits.shape
    shift = rng.uniform(-5, 5, size=(n, 1))  # 행마다 같은 수를 더해도 소프트맥스는 그대로
    z = rng.normal(size=(300, 40)) * 3
    return [
        ("the grader's bigram model (log-probabilities)", logits, targets),
        ("the same logits, each row shifted by a constant", logits + shift, targets),
        ("the same logits plus 1000", logits + 1000, targets),
        ("uniform logits over 65 characters", np.zeros((10, 65)), np.arange(10) % 65),
        ("random logits (300 x 40)", z, rng.integers(0, 40, 300)),
    ]


def nats_mistake(logits, targets, want, got):
    rows = np.arange(len(targets))
    if not math.isfinite(got):
        return "got nan or inf: use the log-softmax, logits - max - log(sum(exp(logits - max))), not log(softmax)"
    for wrong, words in (
        (want / LN2, "that is bits (log base 2); nats use the natural log, np.log"),
        (-want, "the sign: cross-entropy is -mean(log p)"),
        (want * len(targets), "summed over the characters; take the mean per character"),
        (float(-np.mean(np.asarray(logits)[rows, targets])),
         "the logits are not log-probabilities: take the log-softmax first (logits - logsumexp(logits))"),
        (float(-np.mean(log_softmax(logits))), "averaged over every character of the vocabulary; pick each row's "
                                               "target: log_p[np.arange(N), targets]"),
    ):
        if abs(got - wrong) <= 1e-4 * max(1.0, abs(wrong)):
            return words
    return "expected -mean(log_softmax(logits)[i, targets[i]])"


def check_nats(report, student, rng):
    name = "TODO 4 cross_entropy_nats"
    bigram_nats, cases = None, nats_cases(rng)
    for what, logits, targets in cases:
        want = float(-np.mean(log_softmax(logits)[np.arange(len(targets)), targets]))
        returned, same = unchanged(student, "cross_entropy_nats", logits, targets)
        try:
            got = float(returned)
        except (TypeError, ValueError):
            return report.check(name, False, f"returned {type(returned).__name__}; return one number, the mean nats "
                                "per character (e.g. float(...))")
        if not abs(got - want) <= 1e-4 * max(1.0, abs(want)):
            return report.check(name, False, f"{what}: expected {want:.6f} nats per character, got {got:.6f} "
                                f"({nats_mistake(logits, targets, want, got)})")
        if not same:
            return report.check(name, False, "changed the caller's logits or targets in place; work on a copy")
        bigram_nats = bigram_nats if bigram_nats is not None else want
    return report.check(name, True, f"equals the grader's value in all {len(cases)} cases (the bigram model "
                        f"on the grader's text: {bigram_nats:.4f} nats per character; shifted rows; +1000; uniform "
                        "= ln 65; random)")


def check_bits(report, student):
    name = "TODO 5 bits_and_perplexity"
    for nats in (math.log(65), 2.0, 1.1, 0.0):
        want_bits, want_perplexity = nats / LN2, math.exp(nats)
        returned = student.call("bits_and_perplexity", nats)
        try:
            bits, perplexity = (float(x) for x in returned)
        except (TypeError, ValueError):
            return report.check(name, False, f"returned {returned!r}; return two numbers: (bits, perplexity)")
        problems = []
        if not math.isclose(bits, want_bits, rel_tol=1e-6, abs_tol=1e-9):
            why = ("multiplied by ln 2; divide: bits = nats / ln 2 (log2 x = ln x / ln 2)" if math.isclose(bits, nats * LN2)
                   else "returned the nats unchanged; bits = nats / ln 2" if math.isclose(bits, nats)
                   else "bits = nats / ln 2")
            problems.append(f"bits {bits:.6f}, expected {want_bits:.6f} ({why})")
        if not math.isclose(perplexity, want_perplexity, rel_tol=1e-6):
            why = ("2 ** nats mixes the bases: perplexity = e ** nats = 2 ** bits" if math.isclose(perplexity, 2 ** nats)
                   else "e ** bits mixes the bases: perplexity = e ** nats = 2 ** bits"
                   if math.isclose(perplexity, math.exp(want_bits))
                   else "perplexity = e ** nats = 2 ** bits")
            problems.append(f"perplexity {perplexity:.6f}, expected {want_perplexity:.6f} ({why})")
        if problems:
            return report.check(name, False, f"nats {nats:.6f}: " + "; ".join(problems))
    return report.check(name, True, "bits = nats / ln 2 and perplexity = e ** nats (ln 65 nats: 6.0224 bits, "
                        "perplexity 65, as a model that knows nothing about 65 characters)")


def grade(report, student, seed):
    rng = np.random.default_rng(seed)
    checks = (check_temperature, (rng,)), (check_top_k, ()), (check_sample, (seed,)), (check_nats, (rng,)), (check_bits, ())
    for (check, args), (name, number) in zip(checks, TODOS.items()):
        try:
            check(report, student, *args)
        except Stop as stop:
            if stop.todo:
                raise
            report.check(f"TODO {number} {name}", False, str(stop))  # 한 TODO가 고장 나도 나머지는 채점


def grade_file(path, seed=base.GRADER_SEED):
    """Grades one sampling file in this process and prints the report; returns the exit status (0: pass)."""
    path = Path(path).resolve()
    print(f"Grading {base.display(path)} against exact values and seeded draws (seed {seed}); no training", flush=True)
    return base.score(lambda report: grade(report, base.load_student(path, REQUIRED, TODOS), seed))


HOMEWORK = base.Homework(
    week=3, title="Sampling and scoring a language model: temperature, top-k, sampling, nats, bits, perplexity (TODO 1-5)",
    template="week3/homework/sampling.py", names="sampling*.py", required=tuple(TODOS), grade_file=grade_file,
)
