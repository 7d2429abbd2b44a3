"""Decoding homework, reference solution: BLEU (clipped n-gram precision, brevity penalty, corpus BLEU), greedy
decoding and beam search, in NumPy.

요약: 과제 decoding.py의 모범 답안입니다. 캡션을 평가하는 BLEU를 잘라 낸 n-그램 정밀도(modified n-gram precision)와
짧은 문장 벌점(brevity penalty)부터 직접 만들고, 한 단어씩 쓰는 모델에서 탐욕 디코딩(greedy decoding)과
빔 서치(beam search)로 캡션을 씁니다. 모델은 합성 장면의 학습 캡션에서 센 단어 바이그램(bigram)이라 학습도
TensorFlow도 필요 없습니다. 함수 이름과 인자는 템플릿과 같아서 채점기로 똑같이 채점할 수 있습니다.

Run:    python week4/homework/decoding_solution.py
        python week4/homework/decoding_solution.py --beam-size 5
Smoke:  python week4/homework/decoding_solution.py --smoke
Grade:  python scripts/grade_homework.py week4/homework/decoding_solution.py
Expect: Papineni et al.'s clipped-precision example (2/7), the bigram model's greedy caption and its beam-search
        captions with their log-probabilities, then the test scenes' BLEU-1..4 of three caption sources (the
        bigram model, an object-count nearest neighbour, a paraphrase of the references) beside nltk's BLEU-4;
        config.json and metrics.json in the run folder; seconds on a 2-core CPU, no training.
"""

import json
import math
import re
import sys
import warnings
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): 이 과제는 데이터를 내려받지 않고(합성 장면) TensorFlow도 쓰지 않습니다.
PARSER = flags.make_parser(__file__, __doc__, data_dir=False)
PARSER.add_argument("--train-scenes", type=int, default=3000,
                    help="synthetic scenes whose captions the bigram model is counted on (default: %(default)s)")
PARSER.add_argument("--test-scenes", type=int, default=300, help="scenes the captions are scored on (default: %(default)s)")
PARSER.add_argument("--beam-size", type=int, default=3, help="captions kept at every step of beam search (default: %(default)s)")
PARSER.add_argument("--max-words", type=int, default=16, help="longest caption written, <end> included (default: %(default)s)")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import numpy as np

from common import data, scenes

START, END = "<start>", "<end>"  # 특별한 토큰(special tokens): 번호 0, 1
SMOKE_SCENES = (200, 40)  # --smoke: 학습 장면, 테스트 장면
BEAM_SIZES = (1, 2, 3, 5, 8)  # 빔 크기마다 가장 좋은 캡션을 비교합니다
# Papineni et al. (2002)의 예: 같은 단어만 되풀이한 후보가 잘라 내기(clipping) 없이는 정밀도 7/7을 받습니다.
PAPINENI = ("the the the the the the the", ("the cat is on the mat", "there is a cat on the mat"))


# 1. 잘라 낸 n-그램 정밀도 / Modified (clipped) n-gram precision
def modified_precision(hypothesis, references, n):
    """(matches, total): the hypothesis's n-grams, each counted at most as often as in any single reference."""
    counts = Counter(tuple(hypothesis[i:i + n]) for i in range(len(hypothesis) - n + 1))
    most = Counter()  # n-그램마다 한 정답 문장에 나온 가장 많은 횟수
    for reference in references:
        reference_counts = Counter(tuple(reference[i:i + n]) for i in range(len(reference) - n + 1))
        for gram, count in reference_counts.items():
            most[gram] = max(most[gram], count)
    matches = sum(min(count, most[gram]) for gram, count in counts.items())  # 잘라 내기(clipping)
    return matches, sum(counts.values())


# 2. 짧은 문장 벌점 / Brevity penalty
def brevity_penalty(hypothesis_length, reference_length):
    """1 if c > r, else exp(1 - r / c); 0 for an empty hypothesis (c = 0)."""
    c, r = hypothesis_length, reference_length
    if c > r:
        return 1.0
    if c == 0:
        return 0.0
    return math.exp(1 - r / c)


# 3. 말뭉치 BLEU / Corpus BLEU
def corpus_bleu(hypotheses, list_of_references, max_n=4):
    """Corpus BLEU (0-1) with uniform weights over n = 1..max_n, matches and totals summed over the corpus."""
    matches, totals = [0] * max_n, [0] * max_n
    c = r = 0  # 후보 길이의 합, 가장 가까운 정답 길이의 합
    for hypothesis, references in zip(hypotheses, list_of_references):
        for n in range(1, max_n + 1):
            m, t = modified_precision(hypothesis, references, n)
            matches[n - 1] += m
            totals[n - 1] += max(t, 1)  # n보다 짧은 후보도 틀린 n-그램 하나로 셉니다 (nltk와 같은 약속)
        c += len(hypothesis)
        # 길이가 가장 가까운 정답 문장; 똑같이 가까우면 짧은 쪽
        r += min((len(ref) for ref in references), key=lambda length: (abs(length - len(hypothesis)), length))
    if min(matches) == 0:
        return 0.0  # 맞은 n-그램이 없는 차수가 하나라도 있으면 기하 평균은 0
    log_precision = sum(math.log(m / t) for m, t in zip(matches, totals)) / max_n
    return brevity_penalty(c, r) * math.exp(log_precision)


# 4. 탐욕 디코딩 / Greedy decoding
def greedy_decode(step, start_state, start_token, end_token, max_len):
    """The most likely next token at every step: step(token, state) -> (log-probabilities, new state).

    Returns the token ids written (start token left out, end token included if reached), at most max_len.
    """
    tokens, token, state = [], start_token, start_state
    for _ in range(max_len):
        log_probs, state = step(token, state)  # 마지막 단어 하나와 상태만: 앞의 단어들을 다시 돌리지 않습니다
        token = int(np.argmax(log_probs))
        tokens.append(token)
        if token == end_token:
            break
    return tokens


# 5. 빔 서치 / Beam search
def beam_search(step, start_state, start_token, end_token, beam_size, max_len):
    """The beam_size best captions by total log-probability: [(tokens, log-probability), ...], best first.

    Every step extends each live caption by its most likely words and keeps the best of all those candidates.
    A caption that has written end_token is finished: it is set aside with its score and never dropped, and the
    beam goes on with one caption fewer. With beam_size 1 this is greedy decoding.
    """
    live = [([], 0.0, start_state)]  # (단어들, 로그 확률 합, 상태): 처음에는 <start> 하나뿐
    finished = []  # 끝난 캡션: 따로 두고 버리지 않습니다
    for _ in range(max_len):
        room = beam_size - len(finished)  # 빔에 남은 자리
        if not live or room < 1:
            break
        candidates = []
        for tokens, score, state in live:
            log_probs, new_state = step(tokens[-1] if tokens else start_token, state)  # 빔마다 한 번, 한 단어씩
            log_probs = np.asarray(log_probs, dtype="float64")
            for word in np.argsort(-log_probs, kind="stable")[:room]:  # 이 빔에서 나올 수 있는 후보는 room개면 충분
                candidates.append((tokens + [int(word)], score + float(log_probs[word]), new_state))
        candidates.sort(key=lambda beam: -beam[1])  # 안정 정렬: 점수가 같으면 먼저 나온 후보
        live = []
        for beam in candidates[:room]:
            (finished if beam[0][-1] == end_token else live).append(beam)
    best = sorted(finished + live, key=lambda beam: -beam[1])  # max_len에서 멈춘 캡션도 함께
    return [(tokens, score) for tokens, score, _ in best]


# 데이터와 바이그램 모델 / The scenes' captions and the bigram model
def words(text):
    """A caption -> its words, as week4/image_captioning.py: lower case, punctuation dropped."""
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower())


def load_captions(seed=42, train_scenes=3000, test_scenes=300, smoke=False):
    """(train scenes, test scenes) of common/scenes.py: their captions and objects, drawn in seconds."""
    if smoke:
        train_scenes, test_scenes = SMOKE_SCENES
    if min(train_scenes, test_scenes) < 1:
        raise data.DataError("--train-scenes and --test-scenes must be at least 1")
    return scenes.generate("train", train_scenes, seed), scenes.generate("test", test_scenes, seed)


def bigram_table(caption_lists, vocabulary):
    """(V, V) log-probabilities ln p(next | word) counted on <start> caption <end>, add-one smoothing."""
    index = {w: i for i, w in enumerate(vocabulary)}
    counts = np.zeros((len(vocabulary), len(vocabulary)))
    for captions in caption_lists:
        for caption in captions:
            ids = [index[START]] + [index[w] for w in words(caption)] + [index[END]]
            np.add.at(counts, (ids[:-1], ids[1:]), 1)
    counts += 1  # 세어 보지 못한 짝에도 확률이 조금 남도록 (add-one)
    return np.log(counts / counts.sum(axis=1, keepdims=True))


def bigram_step(table):
    """step(token, state) for the bigram model: the log-probabilities after `token`; the state is the last token."""

    def step(token, state):
        return table[token].copy(), token

    return step


def nearest_neighbour_captions(train, test):
    """For each test scene, the first caption of the training scene with the closest (colour, shape) counts."""
    def vector(scene):
        facts = scenes.scene_facts(scene.objects)
        return [facts[combo] for combo in scenes.ALL_COMBOS]

    train_vectors = np.array([vector(s) for s in train])
    out = []
    for scene in test:
        distance = np.abs(train_vectors - np.array(vector(scene))).sum(axis=1)
        out.append(words(train[int(np.argmin(distance))].captions[0]))
    return out


def show(ids, vocabulary):
    return " ".join(vocabulary[i] for i in ids)


def main(argv=None):
    args = flags.parse(PARSER, argv)
    if args.beam_size < 1 or args.max_words < 2:
        PARSER.error("--beam-size must be at least 1 and --max-words at least 2")
    train, test = load_captions(args.seed, args.train_scenes, args.test_scenes, args.smoke)
    vocabulary = [START, END] + sorted({w for s in train for c in s.captions for w in words(c)})
    table = bigram_table([s.captions for s in train], vocabulary)
    step = bigram_step(table)
    references = [[words(c) for c in s.captions] for s in test]
    print(f"Scenes: {len(train):,} training and {len(test):,} test; vocabulary {len(vocabulary)} words "
          "(<start> and <end> included)")

    # 6. 잘라 낸 정밀도와 짧은 문장 벌점 / Clipped precision and the brevity penalty on Papineni et al.'s example
    hypothesis, refs = PAPINENI[0].split(), [r.split() for r in PAPINENI[1]]
    matches, total = modified_precision(hypothesis, refs, 1)
    print(f"Modified unigram precision of {PAPINENI[0]!r} against {list(PAPINENI[1])}: {matches}/{total} "
          f"(without clipping {total}/{total}); brevity penalty for 7 words against 12: "
          f"{brevity_penalty(7, 12):.4f}")

    # 7. 탐욕 디코딩과 빔 서치 / Greedy decoding and beam search with the bigram model
    start, end = vocabulary.index(START), vocabulary.index(END)
    greedy = greedy_decode(step, start, start, end, args.max_words)
    greedy_score = float(sum(table[a, b] for a, b in zip([start] + greedy[:-1], greedy)))
    beams = beam_search(step, start, start, end, args.beam_size, args.max_words)
    print(f"Greedy caption:  {show(greedy, vocabulary)!r}, log-probability {greedy_score:.4f}")
    for rank, (ids, score) in enumerate(beams, start=1):
        print(f"Beam {rank} of {args.beam_size}:     {show(ids, vocabulary)!r}, log-probability {score:.4f}")
    gain, k = beams[0][1] - greedy_score, args.beam_size
    if gain > 1e-9:
        print(f"Beam search (beam {k}) found a caption {gain:.4f} nats more likely than greedy decoding")
    elif gain < -1e-9:
        print(f"Beam search (beam {k}) lost greedy decoding's caption: its best is {-gain:.4f} nats less likely "
              "(captions that looked better early filled the beam: beam search is an approximate search)")
    else:
        print(f"Beam search (beam {k}) and greedy decoding found equally likely captions")
    widths = {size: beam_search(step, start, start, end, size, args.max_words)[0] for size in BEAM_SIZES}
    print("Best caption by beam size: " + "; ".join(f"{size}: {show(ids, vocabulary)!r} {score:.4f}"
                                                    for size, (ids, score) in widths.items()))

    # 8. BLEU / Score three caption sources on the test scenes against every reference caption
    model_caption = [vocabulary[i] for i in beams[0][0] if i != end]
    sources = {
        "bigram model (the same caption for every scene)": [model_caption] * len(test),
        "object-count nearest neighbour": nearest_neighbour_captions(train, test),
        "paraphrase (one reference, scored against the others)": [r[1] for r in references],
    }
    paraphrase_refs = [[x for i, x in enumerate(r) if i != 1] for r in references]
    scores = {}
    for name, hypotheses in sources.items():
        refs_used = paraphrase_refs if name.startswith("paraphrase") else references
        scores[name] = [corpus_bleu(hypotheses, refs_used, max_n) for max_n in (1, 2, 3, 4)]
        print(f"BLEU-1..4 {' '.join(f'{b:.4f}' for b in scores[name])}  {name}")
    nn_name = "object-count nearest neighbour"
    nltk_bleu4 = nltk_corpus_bleu(sources[nn_name], references)
    if nltk_bleu4 is not None:
        print(f"nltk's corpus_bleu for the nearest neighbour: BLEU-4 {nltk_bleu4:.4f} (yours: {scores[nn_name][3]:.4f})")

    flags.start_run(args)  # 실행 폴더와 config.json
    bleu4 = [value[3] for value in scores.values()]
    metrics = {
        "greedy_log_prob": round(greedy_score, 6), "beam_log_prob": round(beams[0][1], 6),
        "bleu4_bigram_model": bleu4[0], "bleu4_nearest_neighbour": bleu4[1], "bleu4_paraphrase": bleu4[2],
        "nltk_bleu4_nearest_neighbour": nltk_bleu4, "beam_size": args.beam_size, "vocab_size": len(vocabulary),
    }
    flags.save_json(args.log_dir / "metrics.json", metrics)
    print("Metrics: " + json.dumps(metrics, ensure_ascii=False))
    return metrics


def nltk_corpus_bleu(hypotheses, references):
    """nltk's BLEU-4 of the same captions, to compare with yours; None when nltk is not installed."""
    try:
        from nltk.translate.bleu_score import corpus_bleu as nltk_bleu
    except ImportError:
        return None
    with warnings.catch_warnings():  # 맞은 n-그램이 없으면 nltk는 경고하고 0 대신 아주 작은 수를 줍니다
        warnings.simplefilter("ignore", UserWarning)
        return float(nltk_bleu(references, hypotheses))


if __name__ == "__main__":
    main()
