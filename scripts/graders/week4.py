"""Week 4: the decoding homework (week4/homework/decoding.py): BLEU from its parts, greedy decoding, beam search.

요약: BLEU의 세 부분(잘라 낸 n-그램 정밀도, 짧은 문장 벌점, 말뭉치 BLEU)을 채점기가 직접 센 값과 nltk의
corpus_bleu에 비교하고, 탐욕 디코딩(greedy decoding)과 빔 서치(beam search)를 채점기가 손으로 만든 작은 언어
모델(로그 확률 표)에서 돌려 정확한 캡션과 점수, 그리고 step을 부른 횟수를 봅니다. TensorFlow도 학습도 필요 없습니다.

Pass:   TODO 1 modified_precision: (matches, total) of the clipped n-gram counts on Papineni et al.'s example
        (2/7), a case where the max over references differs from their sum, and random cases for n = 1-4;
        TODO 2 brevity_penalty: 1 if c > r, else exp(1 - r/c), 0 for c = 0, within 1e-12;
        TODO 3 corpus_bleu: equals nltk.translate.bleu_score.corpus_bleu (uniform weights) within 1e-9 on nltk's
        documented example (0.5920778868801042), corpora with ties in the closest reference length, short
        hypotheses and no matching 4-gram, and many random corpora (BLEU-1 to BLEU-4);
        TODO 4 greedy_decode: the exact caption of the grader's hand-made model, max_len respected, one step call
        per word, the state step returned passed back (second-order random models);
        TODO 5 beam_search: the exact best caption and log-probability where greedy decoding is beaten, a finished
        caption kept, beam_size 1 equal to greedy decoding, scores sorted and equal to the sum of the words'
        log-probabilities, at most beam_size x max_len step calls.
"""

import math
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

from scripts.graders import base
from scripts.graders.base import Stop

TOLERANCE = 1e-9  # BLEU와 로그 확률의 허용 오차
RANDOM_CORPORA = 40
REQUIRED = {
    "modified_precision": "modified_precision(hypothesis, references, n)",
    "brevity_penalty": "brevity_penalty(hypothesis_length, reference_length)",
    "corpus_bleu": "corpus_bleu(hypotheses, list_of_references, max_n=4)",
    "greedy_decode": "greedy_decode(step, start_state, start_token, end_token, max_len)",
    "beam_search": "beam_search(step, start_state, start_token, end_token, beam_size, max_len)",
}
TODOS = {name: number for number, name in enumerate(REQUIRED, start=1)}

# Papineni et al. (2002)의 예와 nltk 문서의 예 / Papineni et al.'s example and nltk's documented corpus_bleu example
MAT_REFERENCES = ("the cat is on the mat".split(), "there is a cat on the mat".split())
NLTK_HYPOTHESES = (
    "It is a guide to action which ensures that the military always obeys the commands of the party".split(),
    "he read the book because he was interested in world history".split(),
)
NLTK_REFERENCES = (
    ("It is a guide to action that ensures that the military will forever heed Party commands".split(),
     "It is the guiding principle which guarantees the military forces always being under the command of the "
     "Party".split(),
     "It is the practical guide for the army always to heed the directions of the party".split()),
    ("he was interested in world history because he read the book".split(),),
)
NLTK_BLEU = 0.5920778868801042  # nltk 문서에 적힌 corpus_bleu 값
CORPUS_WORDS = ("a", "red", "blue", "circle", "square", "and", "two", "the", "green", "triangle")


# --- 채점기의 BLEU / The grader's own BLEU, with the usual mistakes as options ------------------

def ngram_counts(tokens, n):
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def precision(hypothesis, references, n, clip="max"):
    """(matches, total) with the right clipping ("max") or a usual mistake ("none", "sum", "once", "first")."""
    counts = ngram_counts(hypothesis, n)
    ref_counts = [ngram_counts(r, n) for r in references]
    if clip == "max":
        limit = {g: max(rc[g] for rc in ref_counts) for g in counts}
    elif clip == "sum":
        limit = {g: sum(rc[g] for rc in ref_counts) for g in counts}
    elif clip == "first":
        limit = {g: ref_counts[0][g] for g in counts}
    elif clip == "once":
        limit = {g: min(1, max(rc[g] for rc in ref_counts)) for g in counts}
    else:  # "none": every n-gram found in some reference counts, however often
        limit = {g: counts[g] if any(rc[g] for rc in ref_counts) else 0 for g in counts}
    return sum(min(c, limit[g]) for g, c in counts.items()), sum(counts.values())


def closest_length(references, length, ties="shorter"):
    lengths = [len(r) for r in references]
    return min(lengths, key=lambda x: (abs(x - length), x if ties == "shorter" else -x))


def penalty(c, r):
    return 1.0 if c > r else 0.0 if c == 0 else math.exp(1 - r / c)


def bleu(hypotheses, list_of_references, max_n=4, *, average="corpus", reference="closest", short=True,
         mean="geometric", brevity=True, swapped=False):
    """Corpus BLEU as nltk computes it; the keyword options give the usual mistakes' values."""
    if average == "sentence":
        scores = [bleu([h], [refs], max_n, reference=reference, short=short, mean=mean, brevity=brevity)
                  for h, refs in zip(hypotheses, list_of_references)]
        return float(np.mean(scores))
    matches, totals, per_sentence = [0] * max_n, [0] * max_n, [[] for _ in range(max_n)]
    c = r = 0
    for hypothesis, references in zip(hypotheses, list_of_references):
        for n in range(1, max_n + 1):
            m, t = precision(hypothesis, references, n)
            t = max(t, 1) if short else t
            matches[n - 1] += m
            totals[n - 1] += t
            per_sentence[n - 1].append(m / t if t else 0.0)
        c += len(hypothesis)
        if reference == "closest":
            r += closest_length(references, len(hypothesis))
        elif reference == "closest_longer":
            r += closest_length(references, len(hypothesis), ties="longer")
        elif reference == "shortest":
            r += min(len(x) for x in references)
        elif reference == "longest":
            r += max(len(x) for x in references)
        elif reference == "first":
            r += len(references[0])
        else:  # "mean"
            r += float(np.mean([len(x) for x in references]))
    if average == "macro":
        p = [float(np.mean(values)) for values in per_sentence]
    else:
        p = [m / t if t else 0.0 for m, t in zip(matches, totals)]
    bp = (penalty(r, c) if swapped else penalty(c, r)) if brevity else 1.0
    if mean == "arithmetic":
        return bp * float(np.mean(p))
    if min(p) <= 0:
        return 0.0
    return bp * math.exp(sum(math.log(x) for x in p) / max_n)


def nltk_bleu(hypotheses, list_of_references, max_n=4):
    """nltk's corpus_bleu with uniform weights over n = 1..max_n; its tiny stand-in for 0 counts as 0."""
    try:
        from nltk.translate.bleu_score import corpus_bleu
    except ImportError:
        raise Stop("nltk is not installed, and TODO 3 is compared with nltk's corpus_bleu: "
                   "pip install -r requirements.txt (nltk>=3.9)") from None
    with warnings.catch_warnings():  # 맞은 n-그램이 없는 차수가 있으면 nltk가 경고하고 아주 작은 수를 줍니다
        warnings.simplefilter("ignore", UserWarning)
        value = float(corpus_bleu([list(r) for r in list_of_references], [list(h) for h in hypotheses],
                                  weights=(1 / max_n,) * max_n))
    return value if value > 1e-30 else 0.0


# --- TODO 1: 잘라 낸 정밀도 / Clipped precision ------------------------------------------------

def as_pair(returned, label):
    """(matches, total) as two ints, or Stop with what to return."""
    try:
        m, t = returned
        m_int, t_int = int(m), int(t)
    except (TypeError, ValueError):
        raise Stop(f"{label} returned {returned!r}; return two integers (matches, total), not their ratio: "
                   "corpus_bleu adds them up over the sentences before dividing") from None
    if m_int != m or t_int != t:
        raise Stop(f"{label} returned {returned!r}; return two integers (matches, total)")
    return m_int, t_int


def precision_mistake(hypothesis, references, n, got):
    m, t = got
    right = precision(hypothesis, references, n)
    for clip, words in (
        ("none", "not clipped: a hypothesis n-gram counts at most as often as it appears in one reference "
                 "(min(count, max count in any single reference))"),
        ("sum", "clipped by the sum of the references' counts; use the largest count in any single reference (max)"),
        ("first", "clipped by the first reference only; take the largest count over every reference"),
        ("once", "counted every matching n-gram at most once; clip by how often it appears in a reference"),
    ):
        if precision(hypothesis, references, n, clip) == got:
            return words
    if n > 1 and (m, t) == precision(hypothesis, references, 1):
        return f"counted single words for n = {n}: count n-grams, tuples of n consecutive words"
    if (t, m) == right:
        return "matches and total are swapped: return (matches, total)"
    if m == right[0] and t == len(hypothesis) != right[1]:
        return "total is the number of n-grams in the hypothesis: len(hypothesis) - n + 1, not its length"
    if m == right[0] and t in {max(0, len(r) - n + 1) for r in references} and t != right[1]:
        return "divided by a reference's n-grams (that is recall): total is the hypothesis's n-gram count"
    return "expected each hypothesis n-gram's count clipped by its largest count in any single reference"


def precision_cases(rng):
    the7 = ["the"] * 7
    cats = "the cat the cat on the mat".split()
    cases = [
        ("Papineni et al.'s 'the the the the the the the'", the7, MAT_REFERENCES, 1),
        ("'the cat the cat on the mat' (the max over the references is not their sum)", cats, MAT_REFERENCES, 1),
        ("'the cat the cat on the mat', bigrams", cats, MAT_REFERENCES, 2),
    ]
    cases += [(f"nltk's example, n = {n}", NLTK_HYPOTHESES[0], NLTK_REFERENCES[0], n) for n in (1, 2, 3, 4)]
    for i in range(20):
        vocab = CORPUS_WORDS[:int(rng.integers(2, 6))]
        n = int(rng.integers(1, 5))
        refs = [list(rng.choice(vocab, size=int(rng.integers(n, 12)))) for _ in range(int(rng.integers(1, 4)))]
        hypothesis = list(rng.choice(vocab, size=int(rng.integers(n, 12))))
        cases.append((f"random case {i + 1} (n = {n})", [str(w) for w in hypothesis],
                      [[str(w) for w in r] for r in refs], n))
    cases.append(("a hypothesis shorter than n", ["a", "red"], [["a", "red", "circle"]], 3))
    return cases


def check_precision(report, student, rng, failed):
    name = "TODO 1 modified_precision"
    for what, hypothesis, references, n in precision_cases(rng):
        got = as_pair(student.call("modified_precision", list(hypothesis), [list(r) for r in references], n),
                      "TODO 1 (modified_precision)")
        want = precision(hypothesis, references, n)
        if len(hypothesis) < n and got in ((0, 0), (0, 1)):
            continue  # n-그램이 없는 후보: (0, 0), 또는 nltk처럼 (0, 1)
        if got != want:
            return report.check(name, False, f"{what}: hypothesis {' '.join(hypothesis)!r}, references "
                                f"{[' '.join(r) for r in references]}, n = {n}: expected {want}, got {got} "
                                f"({precision_mistake(hypothesis, references, n, got)})")
    return report.check(name, True, "clipped counts on Papineni et al.'s example (2/7, not 7/7), the max over "
                        "the references (5/7, not their sum 7/7), nltk's example for n = 1-4 and 20 random cases")


# --- TODO 2: 짧은 문장 벌점 / Brevity penalty ------------------------------------------------

def check_brevity(report, student, rng, failed):
    name = "TODO 2 brevity_penalty"
    for c, r in ((12, 12), (13, 12), (12, 28), (12, 13), (7, 12), (1, 10), (20, 3), (5, 4)):
        want = penalty(c, r)
        returned = student.call("brevity_penalty", c, r)
        try:
            got = float(returned)
        except (TypeError, ValueError):
            return report.check(name, False, f"returned {returned!r}; return one number")
        if math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-15):
            continue
        shown = f"c = {c} hypothesis words, r = {r} reference words: expected {want:.6f}, got {got:.6f}"
        swapped = ("the arguments are (hypothesis_length, reference_length), c then r (nltk's brevity_penalty "
                   "takes them the other way round)")
        if c > r and math.isclose(got, math.exp(1 - r / c)):
            why = "a hypothesis longer than the reference (c > r) gets 1, no penalty; exp(1 - r / c) is above 1 there"
        elif math.isclose(got, math.exp(1 - c / r)):
            why = "the ratio is upside down: exp(1 - r / c), r the reference length, c the hypothesis length"
            why += f"; or {swapped}" if math.isclose(got, penalty(r, c)) else ""
        elif math.isclose(got, penalty(r, c)):
            why = swapped
        elif math.isclose(got, 1 - r / c):
            why = "take the exponential: exp(1 - r / c)"
        elif math.isclose(got, math.exp(-r / c)):
            why = "exp(1 - r / c): the 1 is missing"
        else:
            why = "1 if c > r, else exp(1 - r / c)"
        return report.check(name, False, f"{shown} ({why})")
    try:
        got = student.call("brevity_penalty", 0, 5)
    except Stop as stop:
        if stop.todo:
            raise
        return report.check(name, False, f"{stop} (an empty hypothesis, c = 0, gets 0: check c == 0 before dividing)")
    if got != 0:
        return report.check(name, False, f"c = 0 (an empty hypothesis), r = 5: expected 0, got {got!r}")
    return report.check(name, True, f"1 when c > r, exp(1 - r / c) otherwise (12 words against 28: "
                        f"{penalty(12, 28):.4f}), 0 for an empty hypothesis")


# --- TODO 3: 말뭉치 BLEU / Corpus BLEU -------------------------------------------------------

def noisy_copy(rng, words, vocab):
    """A hypothesis close to a reference: each word kept, dropped, replaced or followed by another word."""
    out = []
    for word in words:
        roll = rng.random()
        if roll < 0.12:
            continue
        out.append(str(rng.choice(vocab)) if roll < 0.24 else word)
        if rng.random() < 0.1:
            out.append(str(rng.choice(vocab)))
    return out


def random_corpus(rng):
    vocab = CORPUS_WORDS[:int(rng.integers(4, len(CORPUS_WORDS) + 1))]
    max_n = int(rng.choice([4, 4, 4, 3, 2, 1]))
    hypotheses, references = [], []
    for _ in range(int(rng.integers(1, 8))):
        refs = [[str(w) for w in rng.choice(vocab, size=int(rng.integers(3, 14)))] for _ in range(int(rng.integers(1, 5)))]
        if rng.random() < 0.1:  # 짧은 후보 (n보다 짧을 수 있음) / a short hypothesis, maybe shorter than n
            hypothesis = [str(w) for w in rng.choice(vocab, size=int(rng.integers(1, 4)))]
        else:
            hypothesis = noisy_copy(rng, refs[int(rng.integers(len(refs)))], vocab) or [str(vocab[0])]
        hypotheses.append(hypothesis)
        references.append(refs)
    return hypotheses, references, max_n


def corpus_cases(rng):
    w = str.split
    tie = ([w("a red circle and blue square")],  # 6 words; references of 5 and 7: the shorter one, 5, is used
           [[w("a red circle and square"), w("a red circle and a blue square")]])
    short = ([w("a red circle"), w("two blue squares and a green circle"), w("a red")],
             [[w("a red circle")], [w("two blue squares and a green circle")], [w("a red square")]])
    zero = ([w("a red circle and a blue square")], [[w("a square blue and circle red a")]])
    cases = [
        ("nltk's documented example", NLTK_HYPOTHESES, NLTK_REFERENCES, 4),
        ("a tie in the closest reference length (6 words; references of 5 and 7)", *tie, 4),
        ("short hypotheses (3 and 2 words: fewer than 4 words)", *short, 4),
        ("no 2-gram matches", *zero, 4),
        ("BLEU-2 of nltk's example", NLTK_HYPOTHESES, NLTK_REFERENCES, 2),
    ]
    cases += [(f"random corpus {i + 1}", *random_corpus(rng)) for i in range(RANDOM_CORPORA)]
    return cases


MISTAKES = (
    ({"average": "sentence"}, "averaged the sentences' BLEU: corpus BLEU adds every sentence's matches and totals "
                              "(and lengths) first, then divides once"),
    ({"average": "macro"}, "averaged each sentence's precision: add the matches and the totals over the corpus "
                           "first, then divide"),
    ({"short": False}, "a hypothesis shorter than n counts as one n-gram that does not match (nltk's rule): "
                       "add max(total, 1) to the totals"),
    ({"swapped": True}, "brevity_penalty takes (c, r): the summed hypothesis length first"),
    ({"reference": "closest_longer"}, "a tie in the closest reference length goes to the shorter reference"),
    ({"reference": "shortest"}, "used the shortest reference's length; use the one closest to the hypothesis's length"),
    ({"reference": "longest"}, "used the longest reference's length; use the one closest to the hypothesis's length"),
    ({"reference": "first"}, "used the first reference's length; use the one closest to the hypothesis's length"),
    ({"reference": "mean"}, "used the mean reference length; use the one closest to the hypothesis's length"),
    ({"brevity": False}, "the brevity penalty is missing: BLEU = BP * exp(mean of ln p_n)"),
    ({"mean": "arithmetic"}, "the arithmetic mean of the precisions; BLEU takes the geometric mean, "
                             "exp(mean of ln p_n)"),
)


def bleu_mistake(results):
    """The usual mistake that gives the student's value on every corpus (or at least the first wrong one)."""
    wrong = [r for r in results if abs(r[1] - r[2]) > TOLERANCE]
    for everywhere in (True, False):
        for options, words in MISTAKES:
            checked = results if everywhere else wrong[:1]
            values = [bleu(h, refs, max_n, **options) for (_, h, refs, max_n), _, _ in checked]
            if all(abs(got - v) <= TOLERANCE for (_, got, _), v in zip(checked, values)):
                return words
    (_, hypotheses, references, max_n), got, _ = wrong[0]
    if max_n != 4 and abs(got - bleu(hypotheses, references, 4)) <= TOLERANCE:
        return f"used n = 1-4 whatever max_n is; here max_n = {max_n}"
    return "expected BP * exp((ln p_1 + ... + ln p_max_n) / max_n) with p_n summed over the corpus"


def check_corpus_bleu(report, student, rng, failed):
    name = "TODO 3 corpus_bleu"
    results = []  # (case, the student's value, nltk's value) for every corpus: a mistake shows on all of them
    for case in corpus_cases(rng):
        _, hypotheses, references, max_n = case
        returned = student.call("corpus_bleu", [list(h) for h in hypotheses],
                                [[list(r) for r in refs] for refs in references], max_n)
        try:
            got = float(returned)
        except (TypeError, ValueError):
            return report.check(name, False, f"returned {returned!r}; return one number, the corpus BLEU")
        results.append((case, got, nltk_bleu(hypotheses, references, max_n)))
    wrong = [r for r in results if abs(r[1] - r[2]) > TOLERANCE]
    if wrong:
        (what, hypotheses, _, max_n), got, want = wrong[0]
        if what.startswith("random"):
            what += f" ({len(hypotheses)} hypotheses, max_n = {max_n})"
        builds = [n for n in (1, 2) if n in failed]
        after = (f"; TODO {' and '.join(map(str, builds))} failed above, and corpus_bleu builds on "
                 f"{'them' if len(builds) > 1 else 'it'}: fix {'those' if len(builds) > 1 else 'it'} first"
                 if builds else "")
        return report.check(name, False, f"{what}: nltk's corpus_bleu gives {want:.10f}, yours {got:.10f} "
                            f"({bleu_mistake(results)}{after}; {len(wrong)} of {len(results)} corpora differ)")
    return report.check(name, True, f"equals nltk's corpus_bleu within {TOLERANCE:g} on its documented example "
                        f"({NLTK_BLEU:.6f}), a tie in the closest reference length, short hypotheses, no matching "
                        f"n-grams (0) and {RANDOM_CORPORA} random corpora (BLEU-1 to BLEU-4)")


# --- 채점기의 언어 모델 / The grader's language models --------------------------------------

WORDS = ("<start>", "<end>", "a", "the", "red", "blue", "circle", "square", "and")
START, END = 0, 1


def table_from(rows, words=WORDS):
    """(V, V) log-probabilities: row w holds ln p(next | w); the given probabilities, the rest shared unevenly
    (so that no two words tie) among the other words."""
    index = {w: i for i, w in enumerate(words)}
    table = np.zeros((len(words), len(words)))
    for word in words:
        given = rows.get(word, {})
        others = [w for w in words if w not in given]
        share = np.arange(1, len(others) + 1, dtype=float) * 0.1 + 1.0
        row = np.zeros(len(words))
        row[[index[w] for w in others]] = (1 - sum(given.values())) * share / share.sum()
        for w, p in given.items():
            row[index[w]] = p
        table[index[word]] = np.log(row)
    return table


# Greedy decoding takes 'the' (0.45) and ends with 'the red circle <end>' (0.45 x 0.25 x 0.6 x 0.9 = 0.061);
# beam search keeps 'a' (0.40) too and finds 'a red circle <end>' (0.40 x 0.9 x 0.6 x 0.9 = 0.194).
HAND = table_from({
    "<start>": {"the": 0.45, "a": 0.40},
    "the": {"red": 0.25, "blue": 0.24, "circle": 0.2, "square": 0.19},
    "a": {"red": 0.9},
    "red": {"circle": 0.6, "square": 0.3},
    "blue": {"square": 0.7, "circle": 0.2},
    "circle": {"<end>": 0.9, "and": 0.05},
    "square": {"<end>": 0.8, "and": 0.15},
    "and": {"a": 0.5, "the": 0.4},
})
# The best caption, 'a circle <end>' (0.165), is finished after three words, while longer ones
# ('a red circle and ...') still look better for a step: a beam search that drops finished captions loses it.
EARLY = table_from({
    "<start>": {"a": 0.6, "the": 0.35},
    "a": {"circle": 0.55, "red": 0.4},
    "the": {"circle": 0.5, "square": 0.45},
    "circle": {"<end>": 0.5, "and": 0.45},
    "red": {"circle": 0.9},
    "square": {"<end>": 0.5, "and": 0.45},
    "and": {"a": 0.6, "the": 0.35},
})
# Captions that almost never end: every beam lives to max_len, which makes the number of step calls clear.
LOOP = table_from({
    "<start>": {"a": 0.52, "the": 0.41},
    "a": {"red": 0.53, "blue": 0.44},
    "the": {"red": 0.51, "blue": 0.46},
    "red": {"circle": 0.55, "square": 0.42},
    "blue": {"circle": 0.47, "square": 0.49},
    "circle": {"and": 0.97},
    "square": {"and": 0.96},
    "and": {"a": 0.54, "the": 0.43},
})


def random_table(rng, vocab=8):
    """(V, V, V) log-probabilities of a second-order model: table[previous, last] is the next word's row."""
    logits = rng.normal(size=(vocab, vocab, vocab)) * 1.5
    logits[..., START] = -20.0  # <start>는 나오지 않습니다
    logits[..., END] += 0.3
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class Model:
    """A language model for the student's decoder: step(token, state) -> (log-probabilities, new state).

    First order (table (V, V)): the log-probabilities depend on the token only and the state is that token.
    Second order (table (V, V, V)): they depend on the state too (the word before the token), so a decoder that
    passes the wrong state gets other log-probabilities. step counts its calls.
    """

    def __init__(self, table, label, words=None):
        self.table, self.label, self.words = table, label, words
        self.vocab = table.shape[-1]
        self.calls, self.limit = 0, 10_000

    def step(self, token, state):
        self.calls += 1
        if self.calls > self.limit:
            raise Stop(f"{self.label} called step more than {self.limit:,} times: stop after max_len words")
        token = self.id(token, "token", "one word id (an int): the last word written, not the whole caption")
        if self.table.ndim == 2:
            return self.table[token].copy(), token
        state = self.id(state, "state", "the state step returned for this caption (start_state at first)")
        return self.table[state, token].copy(), token

    def id(self, value, what, hint):
        array = np.asarray(value)
        if array.ndim != 0 or array.dtype.kind not in "iu" or not 0 <= int(array) < self.vocab:
            shown = repr(value) if array.size < 20 else f"an array of shape {array.shape}"
            raise Stop(f"{self.label} gave step {shown} as the {what}; give it {hint}")
        return int(array)

    def score(self, tokens):
        """The sum of the log-probabilities of the tokens after <start>, as the model gives them."""
        total, previous, last = 0.0, START, START
        for token in tokens:
            row = self.table[last] if self.table.ndim == 2 else self.table[previous, last]
            total += float(row[token])
            previous, last = last, token
        return total

    def show(self, tokens):
        if self.words is not None:
            return repr(" ".join(self.words[t] for t in tokens))
        return str(list(tokens))


def reference_greedy(model, max_len):
    tokens, token, state = [], START, START
    for _ in range(max_len):
        log_probs, state = model.step(token, state)
        token = int(np.argmax(log_probs))
        tokens.append(token)
        if token == END:
            break
    model.calls = 0
    return tokens


def as_tokens(value, label, model, max_len):
    """A caption as a list of ints in the vocabulary, or Stop with what to return."""
    try:
        tokens = [int(t) for t in value]
        ok = all(t == v for t, v in zip(tokens, value))
    except (TypeError, ValueError):
        tokens, ok = [], False
    if not ok or any(not 0 <= t < model.vocab for t in tokens):
        raise Stop(f"{label} returned {value!r} as a caption; return a list of word ids (ints)")
    return tokens


def caption_problem(model, tokens, max_len):
    """What is wrong with a caption's shape (start token, words after <end>, too long), or None."""
    if tokens and tokens[0] == START:
        return "it starts with the start token: return only the words written after it"
    if END in tokens[:-1]:
        return "it has words after <end>: a finished caption is not extended"
    if len(tokens) > max_len:
        return f"it has {len(tokens)} words, more than max_len = {max_len}"
    if not tokens:
        return "it is empty: write at least one word"
    return None


# --- TODO 4: 탐욕 디코딩 / Greedy decoding ---------------------------------------------------

def greedy_cases(rng):
    label = "TODO 4 (greedy_decode)"
    cases = [("the grader's hand-made model", Model(HAND, label, WORDS), 10),
             ("a model whose captions rarely end, max_len 7", Model(LOOP, label, WORDS), 7)]
    cases += [(f"random second-order model {i + 1}", Model(random_table(rng), label), 8) for i in range(5)]
    return cases


def greedy_mistake(model, got, want, max_len):
    problem = caption_problem(model, got, max_len)
    if problem:
        return problem
    if got == want[:-1] and want[-1] == END:
        return "the end token is missing: include <end> when it is written, then stop"
    if got[:len(want)] == want and len(got) > len(want):
        return "did not stop at the end token"
    if model.table.ndim == 3:
        return "pass step the state it returned for the previous word (the log-probabilities depend on it)"
    worst, token = [], START
    for _ in range(max_len):
        token = int(np.argmin(model.table[token]))
        worst.append(token)
        if token == END:
            break
    if got == worst:
        return "picked the least likely word each time: np.argmax"
    return "pick the word with the largest log-probability (np.argmax) at every step"


def check_greedy(report, student, rng, failed):
    name = "TODO 4 greedy_decode"
    detail = []
    for what, model, max_len in greedy_cases(rng):
        want = reference_greedy(model, max_len)
        model.calls = 0
        got = as_tokens(student.call("greedy_decode", model.step, START, START, END, max_len),
                        "TODO 4 (greedy_decode)", model, max_len)
        if got != want:
            return report.check(name, False, f"{what}: expected {model.show(want)}, got {model.show(got)} "
                                f"({greedy_mistake(model, got, want, max_len)})")
        if model.calls > len(got):
            return report.check(name, False, f"{what}: called step {model.calls} times to write {len(got)} words; "
                                "call it once per word, with the last word and the state it returned (do not run "
                                "the caption again from the start)")
        if not detail:
            detail.append(f"{model.show(got)} on the hand-made model in {model.calls} step calls")
    return report.check(name, True, f"{detail[0]}; stops at max_len; one step call per word; passes the state "
                        "step returned (5 random second-order models)")


# --- TODO 5: 빔 서치 / Beam search -----------------------------------------------------------

def as_beams(value, model, beam_size, max_len):
    """[(tokens, score), ...] from the student's beam_search, or Stop with what to return."""
    label = "TODO 5 (beam_search)"
    try:
        pairs = list(value)
        beams = [(as_tokens(tokens, label, model, max_len), float(score)) for tokens, score in pairs]
    except Stop:
        raise
    except (TypeError, ValueError):
        raise Stop(f"{label} returned {value!r:.200}; return a list of (tokens, log-probability) pairs, "
                   "best first") from None
    if not beams:
        raise Stop(f"{label} returned no captions; return the beam_size best (tokens, log-probability) pairs "
                   "(a caption that has written <end> is finished: keep it with its score, do not drop it)")
    return beams


def beam_problem(model, beams, beam_size, max_len):
    """What is wrong with any beam_search result (shape, order, scores, step calls), or None."""
    if len(beams) > beam_size:
        return f"returned {len(beams)} captions for beam_size {beam_size}: return at most beam_size"
    for tokens, score in beams:
        problem = caption_problem(model, tokens, max_len)
        if problem:
            return f"the caption {model.show(tokens)}: {problem}"
        true = model.score(tokens)
        if abs(score - true) > TOLERANCE * max(1.0, abs(true)):
            hint = ("give step the state of the caption the word extends (each caption keeps its own state)"
                    if model.table.ndim == 3 else "add log_probs[word] of every word written, <end> included")
            return (f"the caption {model.show(tokens)} has score {score:.6f}, but its words' log-probabilities "
                    f"add up to {true:.6f} ({hint})")
    if len({tuple(t) for t, _ in beams}) < len(beams):
        return ("the same caption appears more than once: start from one caption (the start token), "
                "not beam_size copies of it")
    scores = [s for _, s in beams]
    if any(a < b - 1e-12 for a, b in zip(scores, scores[1:])):
        return f"the captions are not sorted best first: scores {np.round(scores, 4).tolist()}"
    if model.calls > beam_size * max_len:
        return (f"called step {model.calls} times for beam_size {beam_size} and max_len {max_len} (at most "
                f"{beam_size * max_len}: once per caption per step): keep each caption's state and give step only "
                "its last word, instead of running the caption again from the start")
    return None


DROPPED = ("a finished caption was dropped: a caption that has written <end> is finished; keep it with its score "
           "and return it with the others (it is not extended)")


def run_beam(student, model, beam_size, max_len):
    model.calls = 0
    beams = as_beams(student.call("beam_search", model.step, START, START, END, beam_size, max_len),
                     model, beam_size, max_len)
    return beams, beam_problem(model, beams, beam_size, max_len)


def check_beam(report, student, rng, failed):
    name = "TODO 5 beam_search"
    hand = Model(HAND, "TODO 5 (beam_search)", WORDS)
    best = [WORDS.index(w) for w in ("a", "red", "circle", "<end>")]
    greedy = reference_greedy(hand, 10)
    for beam_size in (2, 3):
        beams, problem = run_beam(student, hand, beam_size, 10)
        what = f"the hand-made model, beam_size {beam_size}"
        if problem:
            return report.check(name, False, f"{what}: {problem}")
        if beams[0][0] != best or abs(beams[0][1] - hand.score(best)) > TOLERANCE:
            if not any(tokens[-1] == END for tokens, _ in beams):
                why = DROPPED
            elif beams[0][0] == greedy:
                why = "that is greedy decoding's caption: keep the beam_size best captions at every step, not only the best one"
            else:
                why = "keep the beam_size best of all the captions' extensions at every step"
            return report.check(name, False, f"{what}: expected the best caption {hand.show(best)} "
                                f"(log-probability {hand.score(best):.4f}), got {hand.show(beams[0][0])} "
                                f"({beams[0][1]:.4f}) ({why})")

    early = Model(EARLY, "TODO 5 (beam_search)", WORDS)
    short = [WORDS.index(w) for w in ("a", "circle", "<end>")]
    beams, problem = run_beam(student, early, 2, 8)
    if problem:
        return report.check(name, False, f"a model whose best caption ends early, beam_size 2: {problem}")
    if beams[0][0] != short:
        return report.check(name, False, f"a model whose best caption ends early, beam_size 2: expected "
                            f"{early.show(short)} ({early.score(short):.4f}), finished after 3 words, got "
                            f"{early.show(beams[0][0])} ({beams[0][1]:.4f}) ({DROPPED})")

    label = "TODO 5 (beam_search)"
    models = [("the hand-made model", Model(HAND, label, WORDS), 10),
              ("a model whose captions rarely end", Model(LOOP, label, WORDS), 12)]
    models += [(f"random second-order model {i + 1}", Model(random_table(rng), label), 8) for i in range(6)]
    for what, model, max_len in models:
        want = reference_greedy(model, max_len)
        beams, problem = run_beam(student, model, 1, max_len)
        if problem:
            return report.check(name, False, f"{what}, beam_size 1: {problem}")
        if beams[0][0] != want:
            return report.check(name, False, f"{what}, beam_size 1: expected greedy decoding's {model.show(want)}, "
                                f"got {model.show(beams[0][0])} (with one caption kept, beam search is greedy "
                                "decoding: a finished caption takes its place in the beam)")
        for beam_size in (3, 4):
            _, problem = run_beam(student, model, beam_size, max_len)
            if problem:
                return report.check(name, False, f"{what}, beam_size {beam_size}: {problem}")
    return report.check(name, True, f"{hand.show(best)} ({hand.score(best):.4f}) beats greedy decoding's "
                        f"{hand.show(greedy)} ({hand.score(greedy):.4f}); a caption that ends early is kept; beam_size 1 "
                        "is greedy decoding; scores sorted and equal to the words' log-probabilities (random "
                        "second-order models); at most beam_size x max_len step calls")


def grade(report, student, seed):
    failed = set()
    checks = (check_precision, check_brevity, check_corpus_bleu, check_greedy, check_beam)
    for check, (name, number) in zip(checks, TODOS.items()):
        try:
            ok = check(report, student, np.random.default_rng([seed, number]), failed)
        except Stop as stop:
            if stop.todo:
                raise
            ok = report.check(f"TODO {number} {name}", False, str(stop))  # 한 TODO가 고장 나도 나머지는 채점
        if not ok:
            failed.add(number)


def grade_file(path, seed=base.GRADER_SEED):
    """Grades one decoding file in this process and prints the report; returns the exit status (0: pass)."""
    path = Path(path).resolve()
    print(f"Grading {base.display(path)} against nltk's BLEU and the grader's own language models (seed {seed}); "
          "no training", flush=True)
    return base.score(lambda report: grade(report, base.load_student(path, REQUIRED, TODOS), seed))


HOMEWORK = base.Homework(
    week=4, title="Scoring and decoding captions: clipped n-gram precision, brevity penalty, corpus BLEU, greedy "
                  "decoding, beam search (TODO 1-5)",
    template="week4/homework/decoding.py", names="decoding*.py", required=tuple(TODOS), grade_file=grade_file,
)
