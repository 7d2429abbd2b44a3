"""Decoding homework (template): BLEU from its parts (clipped n-gram precision, brevity penalty, corpus BLEU),
greedy decoding and beam search, in NumPy.

요약: 4주차 과제입니다. 캡션을 평가하는 BLEU를 잘라 낸 n-그램 정밀도(modified n-gram precision, TODO 1)와
짧은 문장 벌점(brevity penalty, TODO 2)부터 말뭉치 BLEU(corpus BLEU, TODO 3)까지 직접 만들고, 한 단어씩 쓰는
모델로 탐욕 디코딩(greedy decoding, TODO 4)과 빔 서치(beam search, TODO 5)를 합니다. 모델은 합성 장면의 학습
캡션에서 센 단어 바이그램(bigram)이라 학습도 TensorFlow도 필요 없습니다. 채우지 않은 TODO가 있으면 스크립트는
그 번호를 알려 주고 멈춥니다.

Run:    python week4/homework/decoding.py
        python week4/homework/decoding.py --beam-size 5
Smoke:  python week4/homework/decoding.py --smoke
Grade:  python scripts/grade_homework.py week4/homework/decoding.py
Expect: until TODO 1 is filled: "TODO 1 (modified_precision) is not done yet: ...".
        Once all five are filled: Papineni et al.'s clipped-precision example (2/7), the bigram model's greedy
        caption and its beam-search captions with their log-probabilities, the test scenes' BLEU-1..4 of three
        caption sources beside nltk's BLEU-4, and config.json and metrics.json in the run folder; seconds on a
        2-core CPU, no training.
"""

import json
import math  # noqa: F401  (TODO 2에서 씁니다 / used in TODO 2)
import re
import sys
import warnings
from collections import Counter  # noqa: F401  (TODO 1에서 씁니다 / used in TODO 1)
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


class TodoNotDone(NotImplementedError):
    """Raised by a TODO block that is still empty; main() turns it into a one-line message."""


def todo(number, name):
    """채운 TODO 블록에서는 이 `todo(...)` 줄을 지우세요. / Delete the `todo(...)` line of a block you have filled."""
    raise TodoNotDone(
        f"TODO {number} ({name}) is not done yet: write the TODO {number} block of {Path(__file__).name} "
        "and delete its todo(...) line"
    )


# 채점기(scripts/grade_homework.py)가 아래 다섯 함수를 직접 부릅니다: 이름과 인자를 바꾸지 마세요.
# The grader calls the five functions below: keep their names and arguments.


# 1. 잘라 낸 n-그램 정밀도 / Modified (clipped) n-gram precision
def modified_precision(hypothesis, references, n):
    """(matches, total): the hypothesis's n-grams, each counted at most as often as in any single reference."""
    # ===== TODO 1: 잘라 낸 n-그램 정밀도 / Clipped n-gram precision ==================================
    # 후보(hypothesis, 단어 목록)의 n-그램(n-gram: 연속한 n단어의 튜플)을 세고, 그중 정답 문장들(references)에
    # 맞는 수를 (matches, total) 두 정수로 돌려주세요. total = 후보의 n-그램 수 = len(hypothesis) - n + 1 (n보다
    # 짧으면 0). Count the hypothesis's n-grams; return (matches, total) as two ints.
    # (a) 잘라 내기(clipping): n-그램마다 맞은 수는 min(후보에 나온 횟수, 한 정답 문장에 나온 가장 많은 횟수).
    #     'the the the the the the the'는 "the cat is on the mat"에 the가 2번뿐이라 2/7입니다. 잘라 내지 않으면
    #     7/7이 되어, 같은 단어만 되풀이해도 점수가 높습니다 (채점기가 확인합니다).
    #     Clip each n-gram's count by its largest count in any single reference (Papineni et al. 2002).
    # (b) 정답 문장들의 횟수를 더하지 말고(sum) 가장 큰 값(max)을 쓰세요: the가 두 정답에 2번, 1번 나오면 한도는 2.
    # (c) 비율이 아니라 두 정수: corpus_bleu(TODO 3)가 말뭉치 전체에서 더한 뒤에 한 번 나눕니다.
    # 힌트 / Hint:
    #   def count(words): return Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))
    #   counts, most = count(hypothesis), Counter()
    #   for reference in references:
    #       for gram, k in count(reference).items(): most[gram] = max(most[gram], k)
    #   return sum(min(k, most[gram]) for gram, k in counts.items()), sum(counts.values())
    todo(1, "modified_precision")
    # ===== end of TODO 1 =========================================================================


# 2. 짧은 문장 벌점 / Brevity penalty
def brevity_penalty(hypothesis_length, reference_length):
    """1 if c > r, else exp(1 - r / c); 0 for an empty hypothesis (c = 0)."""
    # ===== TODO 2: 짧은 문장 벌점 / Brevity penalty ==============================================
    # 후보 길이 c(hypothesis_length)와 정답 길이 r(reference_length)로 짧은 문장 벌점(brevity penalty)을 돌려주세요.
    #   c > r:   1                  (후보가 더 길면 벌점 없음 / no penalty)
    #   c <= r:  exp(1 - r / c)     (짧을수록 작아짐; c == r이면 1)
    #   c == 0:  0                  (빈 후보: 0으로 나누기 전에 먼저 확인 / check before dividing)
    # 정밀도만으로는 짧게 쓸수록 유리합니다("a red"만 써도 정밀도 1): 벌점이 그것을 막습니다.
    # 인자 순서는 (c, r)입니다. nltk의 brevity_penalty(closest_ref_len, hyp_len)는 반대 순서이니 헷갈리지 마세요.
    # 힌트 / Hint: math.exp(1 - reference_length / hypothesis_length)
    todo(2, "brevity_penalty")
    # ===== end of TODO 2 =========================================================================


# 3. 말뭉치 BLEU / Corpus BLEU
def corpus_bleu(hypotheses, list_of_references, max_n=4):
    """Corpus BLEU (0-1) with uniform weights over n = 1..max_n, matches and totals summed over the corpus."""
    # ===== TODO 3: 말뭉치 BLEU / Corpus BLEU =====================================================
    # 후보 문장들(hypotheses: 단어 목록의 목록)과 문장마다의 정답 문장들(list_of_references)로 BLEU를 돌려주세요:
    #   BLEU = BP * exp((ln p_1 + ln p_2 + ... + ln p_max_n) / max_n)     (n-그램 정밀도의 기하 평균 x 벌점)
    #   p_n = (모든 문장의 matches 합) / (모든 문장의 total 합)              (TODO 1을 문장마다 불러 더하기)
    # (a) 말뭉치 수준(corpus level): 문장마다 BLEU를 구해 평균 내지 말고, n마다 matches와 total을 말뭉치 전체에서
    #     더한 뒤 한 번 나눕니다 (Papineni et al. 2002, nltk의 corpus_bleu; 채점기가 확인합니다).
    #     Sum the matches and totals over the corpus first, then divide: not the mean of sentence BLEUs.
    # (b) 짧은 문장 벌점도 말뭉치에서 한 번: c = 후보 길이의 합, r = 문장마다 길이가 가장 가까운 정답의 길이를 더한 값
    #     (똑같이 가까우면 짧은 쪽). BP = brevity_penalty(c, r) (TODO 2).
    # (c) 어떤 n에서든 맞은 n-그램이 하나도 없으면 BLEU는 0.0입니다 (log 0을 부르지 마세요).
    # (d) nltk와 같은 약속: n보다 짧은 후보(3단어 캡션의 4-그램)는 맞지 않은 n-그램 하나로 셉니다. 그래서 total은
    #     max(total, 1)을 더합니다. 이렇게 하면 nltk.translate.bleu_score.corpus_bleu와 1e-9까지 같습니다.
    # 힌트 / Hint:
    #   matches, totals, c, r = [0] * max_n, [0] * max_n, 0, 0
    #   for hypothesis, references in zip(hypotheses, list_of_references):
    #       for n in range(1, max_n + 1):
    #           m, t = modified_precision(hypothesis, references, n)
    #           matches[n - 1] += m; totals[n - 1] += max(t, 1)
    #       c += len(hypothesis)
    #       r += min((len(ref) for ref in references), key=lambda length: (abs(length - len(hypothesis)), length))
    todo(3, "corpus_bleu")
    # ===== end of TODO 3 =========================================================================


# 4. 탐욕 디코딩 / Greedy decoding
def greedy_decode(step, start_state, start_token, end_token, max_len):
    """The most likely next token at every step: step(token, state) -> (log-probabilities, new state).

    Returns the token ids written (start token left out, end token included if reached), at most max_len.
    """
    # ===== TODO 4: 탐욕 디코딩 / Greedy decoding =================================================
    # step(token, state)는 모델을 한 스텝 돌려 (다음 단어의 로그 확률 (V,), 새 상태)를 돌려줍니다. start_token과
    # start_state에서 시작해, 스텝마다 로그 확률이 가장 큰 단어(np.argmax) 하나를 골라 다음 입력으로 넣으세요.
    # 고른 단어 id들의 목록을 돌려줍니다: start_token은 빼고, end_token이 나오면 넣고 멈춤; 길어야 max_len개.
    # Pick the most likely word at every step and feed it back; return the ids written (end_token included).
    #   - 학습 때의 교사 강요(teacher forcing)와 달리, 쓸 때는 모델이 고른 단어가 다음 입력입니다.
    #   - step에는 마지막 단어 하나와, step이 바로 전에 돌려준 상태를 주세요: 단어마다 한 번 부르고, 앞의 단어들을
    #     처음부터 다시 넣지 않습니다 (채점기가 step을 부른 횟수를 셉니다). / One step call per word written.
    # 힌트 / Hint:
    #   tokens, token, state = [], start_token, start_state
    #   for _ in range(max_len):
    #       log_probs, state = step(token, state)
    #       token = int(np.argmax(log_probs)); tokens.append(token)
    #       if token == end_token: break
    #   return tokens
    todo(4, "greedy_decode")
    # ===== end of TODO 4 =========================================================================


# 5. 빔 서치 / Beam search
def beam_search(step, start_state, start_token, end_token, beam_size, max_len):
    """The beam_size best captions by total log-probability: [(tokens, log-probability), ...], best first.

    Every step extends each live caption by its most likely words and keeps the best of all those candidates.
    A caption that has written end_token is finished: it is set aside with its score and never dropped, and the
    beam goes on with one caption fewer. With beam_size 1 this is greedy decoding.
    """
    # ===== TODO 5: 빔 서치 / Beam search =========================================================
    # 로그 확률의 합이 가장 큰 캡션들을 [(단어 id 목록, 로그 확률 합), ...]로, 가장 좋은 것부터 돌려주세요(beam_size개
    # 이하). Keep the beam_size best partial captions at every step; return [(tokens, log-probability)], best first.
    # (a) 처음에는 후보 하나: ([], 0.0, start_state). beam_size개로 복사해 시작하면 같은 캡션이 여러 번 나옵니다.
    # (b) 스텝마다, 살아 있는 후보마다 step을 한 번 부르고(그 후보의 마지막 단어와 그 후보의 상태), 단어 w마다
    #     새 후보 (단어들 + [w], 점수 + log_probs[w], 새 상태)를 만든 뒤, 모든 후보 중 점수가 큰 것만 남깁니다.
    #     후보마다 자기 상태를 들고 다니세요: 다른 후보의 상태를 쓰면 점수가 틀립니다 (채점기가 확인합니다).
    # (c) 끝난 캡션(end_token을 쓴 것)은 버리지 말고 점수와 함께 따로 두세요. 더 길어지지 않고 빔의 자리 하나를
    #     차지합니다(다음 스텝에는 beam_size - 끝난 캡션 수만큼 남김). 살아 있는 후보가 없거나 max_len 스텝이 지나면
    #     멈추고, 끝난 캡션과 남은 후보를 함께 점수 순으로 돌려줍니다. / Keep finished captions with their scores.
    # (d) beam_size = 1이면 탐욕 디코딩(TODO 4)과 같은 캡션이 나와야 합니다 (채점기가 확인합니다).
    # (e) step은 스텝마다 살아 있는 후보 하나에 한 번: 모두 beam_size * max_len번을 넘지 않습니다. 후보의 단어들을
    #     처음부터 다시 넣어 상태를 구하지 마세요. / At most beam_size * max_len step calls.
    # 힌트 / Hint: np.argsort(-log_probs)[:k]는 가장 큰 k개의 단어 id; candidates.sort(key=lambda c: -c[1]);
    #   한 후보에서 나올 새 후보는 (빔에 남은 자리) 개만 보면 충분합니다.
    todo(5, "beam_search")
    # ===== end of TODO 5 =========================================================================


# 데이터와 바이그램 모델 / The scenes' captions and the bigram model (이 아래는 채울 것이 없습니다 / nothing to fill in below)
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

    try:
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
    except TodoNotDone as e:
        raise SystemExit(str(e)) from None  # 한 줄 메시지와 종료 코드 1, 트레이스백 없이

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
