"""Week-4 decoding homework: the template stops at its first TODO, the solution passes the grader (and matches
nltk's BLEU), a correct solution written differently passes, and typical mistakes fail the right check."""

import heapq
import inspect
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scripts.graders import week4
from tests import helpers
from tests.helpers import TF_START_UP_WORDS, load_script

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "week4/homework/decoding.py"
SOLUTION = REPO / "week4/homework/decoding_solution.py"
GRADER = REPO / "scripts/grade_homework.py"
FUNCTIONS = ("modified_precision", "brevity_penalty", "corpus_bleu", "greedy_decode", "beam_search")


@pytest.fixture(scope="module")
def grader():
    return load_script(GRADER)


def student_file(tmp_path, overrides=""):
    """A student's file: the solution's functions, then `overrides` (new definitions replace them)."""
    return helpers.student_file(tmp_path / "decoding_student.py", SOLUTION, FUNCTIONS,
                                "from collections import Counter\n\n" + overrides)


def test_template_and_solution_offer_the_same_functions():
    template, solution = load_script(TEMPLATE), load_script(SOLUTION)
    for name in FUNCTIONS:
        assert inspect.signature(getattr(template, name)) == inspect.signature(getattr(solution, name)), name
    assert vars(template.PARSER.parse_args([])) | {"script": ""} == vars(solution.PARSER.parse_args([])) | {"script": ""}


def test_template_stops_at_todo_1_and_the_grader_names_it(tmp_path):
    template = load_script(TEMPLATE)
    with pytest.raises(SystemExit) as stop:
        template.main(["--smoke", "--log-dir", str(tmp_path / "run")])
    assert str(stop.value).startswith("TODO 1 (modified_precision) is not done yet:")
    assert not (tmp_path / "run").exists()

    result = subprocess.run([sys.executable, str(GRADER), str(TEMPLATE)], cwd=REPO, capture_output=True, text=True,
                            timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "[TODO] TODO 1 (modified_precision) is not done yet:" in result.stdout
    assert result.stdout.strip().splitlines()[-1].endswith("FAIL")
    assert "Traceback" not in output and not any(word in output for word in TF_START_UP_WORDS), output


def test_the_grader_and_the_homework_never_import_tensorflow():
    code = ("import sys; from scripts import grade_homework as g; "
            f"status = g.grade_file({str(SOLUTION)!r}); "
            "print('imported:', sorted(m for m in ('tensorflow', 'keras') if m in sys.modules), 'status', status)")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert "imported: [] status 0" in result.stdout, result.stdout + result.stderr


def test_grader_passes_the_solution(grader, capsys):
    assert grader.main([str(SOLUTION)]) == 0  # through the worker process, as from a shell
    out = capsys.readouterr().out
    for number, name in enumerate(FUNCTIONS, start=1):
        assert f"[PASS] TODO {number} {name}" in out, out
    assert "'a red circle <end>' (-1.6378) beats greedy decoding's 'the red circle <end>' (-2.8010)" in out
    assert out.strip().splitlines()[-1] == "Score: 5/5 checks passed. PASS"
    assert not any(word in out for word in TF_START_UP_WORDS), out


# Correct, and written differently: n-grams by zip, clipping by Counter union and intersection, the penalty as
# exp(min(0, 1 - r/c)), precisions in NumPy, a while loop for greedy decoding, and the lesson's beam search
# (week4/image_captioning.py): every word of the vocabulary a candidate, finished captions competing in the beam.
DIFFERENT = '''
import math
from collections import Counter

import numpy as np


def grams(words, n):
    return Counter(zip(*(words[i:] for i in range(n))))


def modified_precision(hypothesis, references, n):
    counts, most = grams(hypothesis, n), Counter()
    for reference in references:
        most |= grams(reference, n)
    return sum((counts & most).values()), sum(counts.values())


def brevity_penalty(hypothesis_length, reference_length):
    if hypothesis_length == 0:
        return 0.0
    return math.exp(min(0.0, 1 - reference_length / hypothesis_length))


def corpus_bleu(hypotheses, list_of_references, max_n=4):
    matches, totals, c, r = np.zeros(max_n), np.zeros(max_n), 0, 0
    for hypothesis, references in zip(hypotheses, list_of_references):
        pairs = [modified_precision(hypothesis, references, n) for n in range(1, max_n + 1)]
        matches += [m for m, _ in pairs]
        totals += [max(t, 1) for _, t in pairs]
        c += len(hypothesis)
        r += min(sorted(len(x) for x in references), key=lambda length: abs(length - len(hypothesis)))
    if not matches.all():
        return 0.0
    return brevity_penalty(c, r) * float(np.exp(np.mean(np.log(matches / totals))))


def greedy_decode(step, start_state, start_token, end_token, max_len):
    out, state = [], start_state
    while len(out) < max_len and (not out or out[-1] != end_token):
        log_probs, state = step(out[-1] if out else start_token, state)
        out.append(int(np.argmax(log_probs)))
    return out


def beam_search(step, start_state, start_token, end_token, beam_size, max_len):
    beams = [((), 0.0, start_state)]
    for _ in range(max_len):
        candidates = []
        for tokens, score, state in beams:
            if tokens and tokens[-1] == end_token:
                candidates.append((tokens, score, state))
                continue
            log_probs, new_state = step(tokens[-1] if tokens else start_token, state)
            candidates += [(tokens + (w,), score + float(p), new_state) for w, p in enumerate(log_probs)]
        beams = sorted(candidates, key=lambda beam: beam[1], reverse=True)[:beam_size]
        if all(tokens[-1] == end_token for tokens, _, _ in beams):
            break
    return [(list(tokens), score) for tokens, score, _ in beams]
'''


def test_a_different_correct_solution_passes(grader, tmp_path, capsys):
    path = tmp_path / "my_decoder.py"  # recognised by its five functions
    path.write_text(DIFFERENT)
    assert grader.pick(path).week == 4
    assert grader.grade_file(path) == 0, capsys.readouterr().out


def precision_with(clip):
    return ("def modified_precision(hypothesis, references, n):\n"
            "    grams = lambda w: Counter(tuple(w[i:i + n]) for i in range(len(w) - n + 1))\n"
            "    counts = grams(hypothesis)\n"
            f"    {clip}\n"
            "    return sum(min(k, limit[g]) for g, k in counts.items()), sum(counts.values())\n")


def corpus_bleu_with(total="max(t, 1)", length="min((len(x) for x in refs), key=lambda x: (abs(x - len(h)), x))"):
    return ("def corpus_bleu(hypotheses, list_of_references, max_n=4):\n"
            "    matches, totals, c, r = [0] * max_n, [0] * max_n, 0, 0\n"
            "    for h, refs in zip(hypotheses, list_of_references):\n"
            "        for n in range(1, max_n + 1):\n"
            "            m, t = modified_precision(h, refs, n)\n"
            f"            matches[n - 1] += m\n            totals[n - 1] += {total}\n"
            f"        c += len(h)\n        r += {length}\n"
            "    if min(matches) == 0:\n        return 0.0\n"
            "    return brevity_penalty(c, r) * math.exp(sum(math.log(m / t) for m, t in zip(matches, totals)) / max_n)\n")


def beam_with(start="[([], 0.0, start_state)]", keep="True", state="new_state", run="step(last, state)"):
    """A beam search (finished captions compete in the beam) with one part replaced by a usual mistake."""
    return (
        "def beam_search(step, start_state, start_token, end_token, beam_size, max_len):\n"
        "    def again(tokens):  # runs the whole caption from the start: what an incremental decoder avoids\n"
        "        token, s = start_token, start_state\n"
        "        for t in tokens:\n"
        "            _, s = step(token, s)\n"
        "            token = t\n"
        "        return step(token, s)\n\n"
        f"    beams = {start}\n"
        "    for _ in range(max_len):\n"
        "        candidates, states = [], []\n"
        "        for tokens, score, state in beams:\n"
        "            if tokens and tokens[-1] == end_token:\n"
        "                candidates.append((tokens, score, state))\n"
        "                states.append(state)\n"
        "                continue\n"
        "            last = tokens[-1] if tokens else start_token\n"
        f"            log_probs, new_state = {run}\n"
        "            states.append(new_state)\n"
        "            for w in np.argsort(-log_probs, kind='stable')[:beam_size]:\n"
        "                w = int(w)\n"
        f"                if {keep}:\n"
        "                    candidates.append((tokens + [w], score + float(log_probs[w]), new_state))\n"
        "        beams = sorted(candidates, key=lambda b: -b[1])[:beam_size]\n"
        f"        beams = [(t, s, {state}) for i, (t, s, new_state) in enumerate(beams)]\n"
        "        if all(t and t[-1] == end_token for t, _, _ in beams):\n"
        "            break\n"
        "    return [(t, s) for t, s, _ in beams]\n"
    )


BROKEN = {
    # TODO 1: no clipping, and clipping by the sum over the references.
    "unclipped_precision": (
        precision_with("limit = {g: k if any(g in grams(r) for r in references) else 0 for g, k in counts.items()}"),
        1, "not clipped: a hypothesis n-gram counts at most as often as it appears in one reference"),
    "clipped_by_the_sum": (
        precision_with("limit = sum((grams(r) for r in references), Counter())"),
        1, "clipped by the sum of the references' counts; use the largest count in any single reference (max)"),
    # TODO 2: the ratio upside down, no cap at 1 for long hypotheses.
    "brevity_upside_down": (
        "def brevity_penalty(hypothesis_length, reference_length):\n"
        "    c, r = hypothesis_length, reference_length\n"
        "    return 1.0 if c > r else 0.0 if c == 0 else math.exp(1 - c / r)\n",
        2, "the ratio is upside down: exp(1 - r / c)"),
    "brevity_not_capped": (
        "def brevity_penalty(hypothesis_length, reference_length):\n"
        "    c, r = hypothesis_length, reference_length\n"
        "    return 0.0 if c == 0 else math.exp(1 - r / c)\n",
        2, "a hypothesis longer than the reference (c > r) gets 1, no penalty"),
    # TODO 3: the mean of sentence BLEUs, no rule for short hypotheses, the shortest reference's length.
    "sentence_average_bleu": (
        "def corpus_bleu(hypotheses, list_of_references, max_n=4):\n"
        "    return float(np.mean([solution.corpus_bleu([h], [refs], max_n)\n"
        "                          for h, refs in zip(hypotheses, list_of_references)]))\n",
        3, "averaged the sentences' BLEU: corpus BLEU adds every sentence's matches and totals"),
    "no_rule_for_short_hypotheses": (
        corpus_bleu_with(total="t"), 3, "a hypothesis shorter than n counts as one n-gram that does not match"),
    "shortest_reference": (
        corpus_bleu_with(length="min(len(x) for x in refs)"), 3, "used the shortest reference's length"),
    # TODO 4: the caption run again from the start at every word, the start token returned.
    "greedy_reruns_the_caption": (
        "def greedy_decode(step, start_state, start_token, end_token, max_len):\n"
        "    tokens = []\n"
        "    while len(tokens) < max_len and (not tokens or tokens[-1] != end_token):\n"
        "        token, state = start_token, start_state\n"
        "        for t in tokens:\n"
        "            _, state = step(token, state)\n"
        "            token = t\n"
        "        log_probs, state = step(token, state)\n"
        "        tokens.append(int(np.argmax(log_probs)))\n"
        "    return tokens\n",
        4, "called step 10 times to write 4 words; call it once per word"),
    "greedy_keeps_the_start_token": (
        "def greedy_decode(step, start_state, start_token, end_token, max_len):\n"
        "    return [start_token] + solution.greedy_decode(step, start_state, start_token, end_token, max_len)\n",
        4, "it starts with the start token: return only the words written after it"),
    # TODO 5: finished captions dropped, the caption run again from the start, states mixed up between
    # captions, beam_size copies of the start.
    "beam_drops_finished_captions": (
        beam_with(keep="w != end_token"), 5, "a finished caption was dropped"),
    "beam_reruns_the_caption": (
        beam_with(run="again(tokens)"), 5, "called step 78 times for beam_size 1 and max_len 12 (at most 12"),
    "beam_mixes_up_states": (
        beam_with(state="states[min(i, len(states) - 1)]"), 5,
        "give step the state of the caption the word extends"),
    "beam_starts_with_copies": (
        beam_with(start="[([], 0.0, start_state)] * beam_size"), 5, "the same caption appears more than once"),
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


def test_a_wrong_todo_1_is_named_where_corpus_bleu_fails(grader, tmp_path, capsys):
    overrides = precision_with("limit = sum((grams(r) for r in references), Counter())") + corpus_bleu_with()
    assert grader.grade_file(student_file(tmp_path, overrides)) == 1
    out = capsys.readouterr().out
    assert "[FAIL] TODO 1 modified_precision" in out and "[FAIL] TODO 3 corpus_bleu" in out, out
    assert "TODO 1 failed above, and corpus_bleu builds on it: fix it first" in out, out


def test_grader_names_the_first_empty_todo(grader, tmp_path, capsys):
    overrides = ("_template = importlib.util.module_from_spec(importlib.util.spec_from_file_location('t', "
                 f"{str(TEMPLATE)!r}))\n"
                 "importlib.util.spec_from_file_location('t', _template.__spec__.origin).loader.exec_module(_template)\n"
                 "corpus_bleu = _template.corpus_bleu\n")
    assert grader.grade_file(student_file(tmp_path, overrides)) == 1
    out = capsys.readouterr().out
    assert "[PASS] TODO 2 brevity_penalty" in out and "[TODO] TODO 3 (corpus_bleu) is not done yet:" in out


def test_the_graders_bleu_is_nltks():
    from nltk.translate.bleu_score import corpus_bleu, modified_precision

    assert corpus_bleu([list(r) for r in week4.NLTK_REFERENCES], [list(h) for h in week4.NLTK_HYPOTHESES]) \
        == pytest.approx(week4.NLTK_BLEU, abs=1e-15)
    rng = np.random.default_rng(0)
    for what, hypothesis, references, n in week4.precision_cases(rng):
        fraction = modified_precision(references, hypothesis, n)
        matches, total = week4.precision(hypothesis, references, n)
        assert (fraction.numerator, fraction.denominator) == (matches, max(total, 1)), what
    for what, hypotheses, references, max_n in week4.corpus_cases(rng):
        assert week4.bleu(hypotheses, references, max_n) == pytest.approx(
            week4.nltk_bleu(hypotheses, references, max_n), abs=1e-12), what
    solution = load_script(SOLUTION)
    assert solution.modified_precision("the the the the the the the".split(), week4.MAT_REFERENCES, 1) == (2, 7)
    assert solution.brevity_penalty(12, 28) == pytest.approx(0.2635971381157267)  # nltk's documented value


def most_likely_caption(table, max_len):
    """The most likely caption of a first-order model (uniform-cost search over -log p), to check the grader's
    hand-made case: beam search's answer there is the best caption there is."""
    queue = [(0.0, ())]
    while queue:
        cost, tokens = heapq.heappop(queue)
        if tokens and tokens[-1] == week4.END:
            return list(tokens), -cost
        if len(tokens) < max_len:
            last = tokens[-1] if tokens else week4.START
            for word, log_p in enumerate(table[last]):
                heapq.heappush(queue, (cost - log_p, tokens + (word,)))
    return None


def test_the_graders_hand_made_models():
    words = [week4.WORDS.index(w) for w in ("a", "red", "circle", "<end>")]
    best, score = most_likely_caption(week4.HAND, 6)
    assert best == words and score == pytest.approx(math.log(0.40 * 0.9 * 0.6 * 0.9))
    hand = week4.Model(week4.HAND, "test", week4.WORDS)
    greedy = week4.reference_greedy(hand, 10)
    assert hand.show(greedy) == "'the red circle <end>'" and hand.score(greedy) < score - 1
    early = week4.Model(week4.EARLY, "test", week4.WORDS)
    assert early.show(most_likely_caption(week4.EARLY, 6)[0]) == "'a circle <end>'"
    solution = load_script(SOLUTION)
    beams = solution.beam_search(early.step, 0, 0, 1, 2, 8)
    assert [early.show(t) for t, _ in beams] == ["'a circle <end>'", "'a red circle <end>'"]
    loop = week4.Model(week4.LOOP, "test", week4.WORDS)
    assert all(len(t) == 12 and t[-1] != week4.END for t, _ in solution.beam_search(loop.step, 0, 0, 1, 3, 12))


def test_solution_smoke_run(tmp_path, capsys):
    solution = load_script(SOLUTION)
    metrics = solution.main(["--smoke", "--log-dir", str(tmp_path / "run")])
    out = capsys.readouterr().out
    assert "2/7 (without clipping 7/7)" in out and "Greedy caption:" in out and "Best caption by beam size:" in out
    assert metrics["nltk_bleu4_nearest_neighbour"] == pytest.approx(metrics["bleu4_nearest_neighbour"], abs=1e-9)
    assert 0 < metrics["bleu4_bigram_model"] < metrics["bleu4_nearest_neighbour"] < 1, metrics
    assert json.loads((tmp_path / "run" / "metrics.json").read_text()) == metrics
    assert json.loads((tmp_path / "run" / "config.json").read_text())["beam_size"] == 3


def test_template_main_runs_once_filled(tmp_path, monkeypatch):
    template, solution = load_script(TEMPLATE), load_script(SOLUTION)
    for name in FUNCTIONS:
        monkeypatch.setattr(template, name, getattr(solution, name))
    metrics = template.main(["--smoke", "--log-dir", str(tmp_path / "run"), "--beam-size", "2"])
    assert metrics == solution.main(["--smoke", "--log-dir", str(tmp_path / "again"), "--beam-size", "2"])


def test_week_4_is_listed_and_picked(grader, tmp_path, capsys):
    assert grader.main(["--list"]) == 0
    out = capsys.readouterr().out
    assert "week 4  " in out and "python scripts/grade_homework.py week4/homework/decoding.py" in out, out
    (tmp_path / "decoding_done.py").write_text("")
    assert grader.pick(tmp_path / "decoding_done.py").week == 4
    renamed = tmp_path / "homework4.py"
    renamed.write_text("def greedy_decode(step, start_state, start_token, end_token, max_len): ...\n"
                       "def beam_search(step, start_state, start_token, end_token, beam_size, max_len): ...\n")
    assert grader.pick(renamed).week == 4
    with pytest.raises(SystemExit):
        grader.main([str(tmp_path / "decoding_done.py"), "--epochs", "3"])
    assert "--epochs does not apply to week 4's homework" in capsys.readouterr().err
