"""Sampling homework (template): temperature, top-k and sampling from logits; nats, bits and perplexity.

요약: 3주차 과제입니다. 언어 모델(language model)이 내놓은 로짓(logits)에 온도(temperature)와 top-k를 적용해
다음 글자를 뽑고(TODO 1-3), 모델이 글을 얼마나 잘 맞히는지 글자당 나츠·비트와 퍼플렉서티(perplexity)로 잽니다
(TODO 4, 5). 채우지 않은 TODO가 있으면 스크립트는 그 번호를 알려 주고 멈춥니다.

Run:    python week3/homework/sampling.py
        python week3/homework/sampling.py --temperature 0.5 --top-k 5
Smoke:  python week3/homework/sampling.py --smoke
Grade:  python scripts/grade_homework.py week3/homework/sampling.py
Expect: until TODO 1 is filled: "TODO 1 (apply_temperature) is not done yet: ...".
        Once all five are filled: the bigram model's nats and bits per character and perplexity on the
        validation text, the next-character probabilities at three temperatures, text written by the bigram
        model, and temperature.png in the run folder; seconds on a 2-core CPU, no training.
"""

import math  # noqa: F401  (TODO 5에서 씁니다 / used in TODO 5)
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
PARSER = flags.make_parser(__file__, __doc__)
PARSER.add_argument("--corpus", choices=("tiny_shakespeare", "korean_novels"), default="tiny_shakespeare",
                    help="text to count the bigram model on (default: %(default)s); --data-dir DIR reads your copy")
PARSER.add_argument("--text", type=Path, default=None, help="any UTF-8 text file instead of --corpus")
PARSER.add_argument("--temperature", type=float, default=0.8, help="divides the logits before the softmax (default: %(default)s)")
PARSER.add_argument("--top-k", type=int, default=0, help="sample only among the k most likely characters; 0: all (default: %(default)s)")
PARSER.add_argument("--length", type=int, default=300, help="characters to write (default: %(default)s)")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import numpy as np

from common import data, runtime, tb

UNKNOWN = "\ufffd"  # week3/char_rnn.py와 같은 모르는 글자 토큰 (id 0): 학습 세트에서 2번 미만 나온 글자
VALIDATION_FRACTION = 0.1  # 글의 마지막 10%: 검증 세트
SMOKE_CHARS = 12000
TEMPERATURES = (0.5, 1.0, 2.0)


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


# 1. 온도 / Temperature: logits -> probabilities
def apply_temperature(logits, temperature):
    """softmax(logits / temperature) along the last axis; logits (..., V) -> probabilities (..., V)."""
    # ===== TODO 1: 온도를 적용한 소프트맥스 / Softmax with a temperature ==============================
    # 로짓을 온도 T로 나눈 뒤 소프트맥스(softmax)를 적용해 확률을 돌려주세요: p = softmax(logits / T).
    # Divide the logits by T, then take the softmax along the last axis (each row of a 2-D array is one distribution).
    #   T < 1: 큰 로짓이 더 커 보여 분포가 뾰족해집니다(안전하고 반복적). T > 1: 평평해집니다(다양하고 엉뚱함).
    # (a) 온도는 소프트맥스 **앞에서** 로짓을 나눕니다. 확률을 T로 나누거나 p ** (1/T)만 하고 합을 1로 맞추지
    #     않으면 틀립니다 (채점기가 확인합니다). / Divide the logits, before the softmax.
    # (b) 넘침(overflow) 막기: exp(1000)은 inf입니다. 행마다 가장 큰 값을 빼고 exp를 하세요. 모든 로짓에
    #     같은 수를 빼도 소프트맥스는 같습니다. / Subtract each row's max before np.exp.
    # (c) 넘겨받은 logits를 제자리에서 바꾸지 마세요 (logits /= T 대신 z = np.asarray(logits, dtype=float) / T).
    # 힌트 / Hint:
    #   z = np.asarray(logits, dtype="float64") / temperature
    #   z = z - z.max(axis=-1, keepdims=True)
    #   p = np.exp(z); return p / p.sum(axis=-1, keepdims=True)
    todo(1, "apply_temperature")
    # ===== end of TODO 1 =========================================================================


# 2. top-k: keep the k largest logits
def top_k_filter(logits, k):
    """A copy of logits (V,) with all but the k largest set to -inf; k = 0 (or k >= V) keeps them all."""
    # ===== TODO 2: 상위 k개만 남기기 / Keep the k largest ===========================================
    # 가장 큰 로짓 k개는 값 그대로, 나머지는 -np.inf(확률 0)로 바꾼 **복사본**을 돌려주세요.
    # k가 0이거나 로짓 수 이상이면 모두 남깁니다 (char_rnn_sample.py의 --top-k 0과 같음).
    # Return a copy with the k largest logits unchanged and the others -np.inf; k = 0 keeps all of them.
    #   - 0이 아니라 -np.inf: 로짓 0은 여전히 확률이 있습니다 (e^0 = 1).
    #   - np.sort는 작은 것부터 정렬합니다: k번째로 큰 값은 np.sort(logits)[-k] (인덱스가 하나 어긋나면
    #     k+1개나 k-1개가 남습니다: 채점기가 확인합니다).
    #   - k번째와 같은 값이 여럿이면(동점, tie) 모두 남겨도, 정확히 k개만 남겨도 됩니다.
    # 힌트 / Hint:
    #   logits = np.array(logits, dtype="float64")            # 복사본 (a copy)
    #   if 0 < k < len(logits):
    #       logits[logits < np.sort(logits)[-k]] = -np.inf
    #   return logits
    todo(2, "top_k_filter")
    # ===== end of TODO 2 =========================================================================


# 3. 뽑기 / Sample one id
def sample(logits, temperature=1.0, top_k=0, rng=None):
    """One id drawn from softmax(top_k_filter(logits, top_k) / temperature) with the generator rng."""
    # ===== TODO 3: 다음 글자 뽑기 / Sample the next character ========================================
    # TODO 2로 상위 k개만 남기고, TODO 1로 확률을 만든 뒤, 넘겨받은 난수 생성기(rng)로 id 하나를 뽑아
    # int로 돌려주세요. Filter with TODO 2, turn into probabilities with TODO 1, draw one id with `rng`.
    #   - 꼭 넘겨받은 rng로 뽑으세요 (rng.choice, rng.random ...): 같은 시드면 같은 글이 나와야 합니다.
    #     np.random.* 이나 호출마다 새로 만든 default_rng(0)은 안 됩니다 (채점기가 확인합니다).
    #   - 채점기는 같은 로짓에서 수천 번 뽑아 비율이 softmax(top_k(logits) / T)와 맞는지 봅니다.
    #     온도가 0에 가까우면(예: 0.001) 늘 가장 큰 로짓(argmax)이, top_k=1이어도 늘 argmax가 나와야 합니다.
    # 힌트 / Hint:
    #   rng = np.random.default_rng() if rng is None else rng
    #   p = apply_temperature(top_k_filter(logits, top_k), temperature)
    #   return int(rng.choice(len(p), p=p))
    todo(3, "sample")
    # ===== end of TODO 3 =========================================================================


# 4. 나츠 / Cross-entropy in nats per character
def cross_entropy_nats(logits, targets):
    """Mean -ln p(target) over the rows of logits (N, V), p = softmax of each row; targets (N,) ids."""
    # ===== TODO 4: 글자당 나츠 / Nats per character ===============================================
    # 교차 엔트로피(cross-entropy): 행 i의 정답 글자 targets[i]의 확률 p_i를 소프트맥스로 구해
    # -mean(ln p_i)를 float 하나로 돌려주세요. 자연로그(np.log)라서 단위는 나츠(nats)입니다.
    # Return -mean(ln p_i), p_i = softmax(logits[i])[targets[i]], as one float (natural log: nats).
    #   - 로그 소프트맥스(log-softmax): ln softmax(z) = z - max - ln(sum(exp(z - max))). softmax를 구한 뒤
    #     np.log를 하면 아주 작은 확률이 0이 되어 -inf가 납니다 (채점기는 로짓에 1000을 더해 봅니다).
    #   - 행마다 정답 글자 하나만 고릅니다: log_p[np.arange(len(targets)), targets]
    #   - 합이 아니라 평균(글자당), 그리고 앞에 마이너스. / The mean per character, with the minus sign.
    # week3/char_rnn.py의 손실(SparseCategoricalCrossentropy(from_logits=True))이 바로 이 값입니다.
    todo(4, "cross_entropy_nats")
    # ===== end of TODO 4 =========================================================================


# 5. 비트와 퍼플렉서티 / Bits per character and perplexity
def bits_and_perplexity(nats):
    """(bits per character = nats / ln 2, perplexity = e ** nats = 2 ** bits)."""
    # ===== TODO 5: 비트와 퍼플렉서티 / Bits and perplexity ========================================
    # 나츠를 글자당 비트(bits per character)와 퍼플렉서티(perplexity)로 바꿔 (bits, perplexity)로 돌려주세요.
    #   bits = nats / ln 2          (log2 x = ln x / ln 2: ln 2를 곱하면 틀립니다)
    #   perplexity = e ** nats = 2 ** bits   (밑을 섞어 2 ** nats나 e ** bits로 쓰면 틀립니다)
    # 퍼플렉서티는 "글자 몇 개 중에서 고르는 것만큼 헷갈리나": 아무것도 모르는 모델(모든 글자 같은 확률)은
    # 어휘 크기 V만큼, 즉 ln V 나츠 = log2 V 비트입니다. 힌트: math.log(2), math.exp
    todo(5, "bits_and_perplexity")
    # ===== end of TODO 5 =========================================================================


# 데이터와 바이그램 모델 / The text and the bigram model (이 아래는 채울 것이 없습니다 / nothing to fill in below)
def load_text(corpus="tiny_shakespeare", text_path=None, data_dir=None, smoke=False):
    """(train text, validation text, name): the last 10% of the characters is the validation set."""
    if text_path is not None:
        text, name = data.read_text(text_path), Path(text_path).name
    else:
        text, name = data.load_corpus(corpus, data_dir)[0], corpus
    if smoke:
        text = text[:SMOKE_CHARS]
    cut = int(len(text) * (1 - VALIDATION_FRACTION))
    return text[:cut], text[cut:], name


def build_vocab(train_text, min_count=2):
    """[UNKNOWN] + the characters seen at least min_count times, sorted (as week3/char_rnn.py)."""
    counts = Counter(train_text)
    return [UNKNOWN] + sorted(c for c, n in counts.items() if n >= min_count and c != UNKNOWN)


def encode(text, chars):
    index = {c: i for i, c in enumerate(chars)}
    return np.array([index.get(c, 0) for c in text], dtype="int64")


def bigram_logits(ids, vocab_size):
    """(V, V) table: row b holds ln p(c | b) = ln((n(b c) + 1) / (n(b) + V)), add-one smoothing."""
    counts = np.zeros((vocab_size, vocab_size))
    np.add.at(counts, (ids[:-1], ids[1:]), 1)
    return np.log((counts + 1) / (counts.sum(axis=1, keepdims=True) + vocab_size))


def write(table, chars, prime, length, temperature, top_k, rng):
    """prime + length characters, each drawn with sample() from the bigram row of the character before."""
    out = list(prime)
    last = encode(prime[-1:], chars)[0]
    for _ in range(length):
        logits = table[last].copy()
        logits[0] = -np.inf  # 모르는 글자 토큰은 쓰지 않습니다 (char_rnn_sample.py와 같음)
        last = sample(logits, temperature, top_k, rng)
        out.append(chars[last])
    return "".join(out)


def save_temperature_figure(logits, chars, path, top=12):
    """Bars of the most likely next characters at each temperature in TEMPERATURES (apply_temperature)."""
    order = np.argsort(logits)[::-1][:top]
    labels = [repr(chars[i])[1:-1] or " " for i in order]
    plt = tb.pyplot()
    fig, axes = plt.subplots(1, len(TEMPERATURES), figsize=(4.3 * len(TEMPERATURES), 3.3), sharey=True)
    for ax, t in zip(axes, TEMPERATURES):
        ax.bar(range(top), apply_temperature(logits, t)[order], color="tab:blue")
        ax.set_xticks(range(top), labels)
        ax.set_title(f"온도(temperature) {t}")
    axes[0].set_ylabel("다음 글자 확률 / next-character probability")
    fig.suptitle("같은 로짓, 다른 온도 / same logits, different temperatures")
    tb.save_figure(fig, path)


def main(argv=None):
    args = flags.parse(PARSER, argv)
    if args.length < 1 or args.temperature <= 0 or args.top_k < 0:
        PARSER.error("--length must be at least 1, --temperature positive and --top-k at least 0")
    train_text, val_text, name = load_text(args.corpus, args.text, args.data_dir, args.smoke)
    if len(train_text) < 2 or len(val_text) < 2:
        raise data.DataError(f"{args.text or name} is too short: give a text of at least 20 characters")
    chars = build_vocab(train_text)
    train_ids, val_ids = encode(train_text, chars), encode(val_text, chars)
    table = bigram_logits(train_ids, len(chars))
    print(f"Text: {name}, {len(train_text):,} training and {len(val_text):,} validation characters; "
          f"vocabulary {len(chars)} (id 0: the unknown token)")
    try:
        # 6. 온도 / How temperature reshapes one next-character distribution
        common = Counter(train_ids.tolist()).most_common(1)[0][0]
        logits = table[common]
        order = np.argsort(logits)[::-1][:5]
        probabilities = [apply_temperature(logits, t) for t in TEMPERATURES]
        print(f"Next character after {chars[common]!r}:")
        for t, p in zip(TEMPERATURES, probabilities):
            print(f"  T = {t}: " + ", ".join(f"{chars[i]!r} {p[i]:.3f}" for i in order))

        # 7. 쓰기 / Write with temperature and top-k
        rng = np.random.default_rng(args.seed)
        text = write(table, chars, val_text[0], args.length, args.temperature, args.top_k, rng)
        print(f"Written by the bigram model (temperature {args.temperature}, top-k {args.top_k or 'all'}):")
        print("-" * 60 + "\n" + text + "\n" + "-" * 60)

        # 8. 재기 / Score the bigram model on the validation text
        nats = cross_entropy_nats(table[val_ids[:-1]], val_ids[1:])
        bits, perplexity = bits_and_perplexity(nats)
    except TodoNotDone as e:
        raise SystemExit(str(e)) from None  # 한 줄 메시지와 종료 코드 1, 트레이스백 없이
    print(f"Bigram model on the validation text: {nats:.4f} nats = {bits:.4f} bits per character, "
          f"perplexity {perplexity:.2f} (as unsure as choosing among {perplexity:.0f} characters; "
          f"knowing nothing: {len(chars)})")
    runtime.setup(args)  # 실행 폴더와 config.json, 시드
    save_temperature_figure(logits, chars, args.log_dir / "temperature.png")
    return tb.write_metrics(
        args.log_dir, val_nats_per_char=nats, val_bits_per_char=bits, val_perplexity=perplexity,
        vocab_size=len(chars), temperature=args.temperature, top_k=args.top_k,
    )


if __name__ == "__main__":
    main()
