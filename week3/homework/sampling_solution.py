"""Sampling homework, reference solution: temperature, top-k and sampling from logits; nats, bits and perplexity.

요약: 과제 sampling.py의 모범 답안입니다. 로짓(logits)에 온도(temperature)와 top-k를 적용해 다음 글자를 뽑고,
모델이 글을 얼마나 잘 맞히는지 글자당 나츠·비트와 퍼플렉서티(perplexity)로 잽니다. 모델은 학습 세트에서 센
바이그램(bigram)이라 학습이 필요 없습니다. 함수 이름과 인자는 템플릿과 같아서 채점기로 똑같이 채점할 수 있습니다.

Run:    python week3/homework/sampling_solution.py
        python week3/homework/sampling_solution.py --temperature 0.5 --top-k 5
Smoke:  python week3/homework/sampling_solution.py --smoke
Grade:  python scripts/grade_homework.py week3/homework/sampling_solution.py
Expect: the bigram model's nats and bits per character and perplexity on the validation text, the next-character
        probabilities after the most common character at three temperatures, text written by the bigram model,
        and temperature.png in the run folder; seconds on a 2-core CPU.
"""

import math
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


# 1. 온도 / Temperature: logits -> probabilities
def apply_temperature(logits, temperature):
    """softmax(logits / temperature) along the last axis; logits (..., V) -> probabilities (..., V)."""
    z = np.asarray(logits, dtype="float64") / temperature  # 새 배열: 넘겨받은 로짓은 그대로
    z = z - z.max(axis=-1, keepdims=True)  # 가장 큰 로짓을 0으로: exp가 넘치지(overflow) 않음, 소프트맥스는 같음
    p = np.exp(z)
    return p / p.sum(axis=-1, keepdims=True)


# 2. top-k: keep the k largest logits
def top_k_filter(logits, k):
    """A copy of logits (V,) with all but the k largest set to -inf; k = 0 (or k >= V) keeps them all."""
    logits = np.array(logits, dtype="float64")  # 복사본
    if 0 < k < len(logits):
        cutoff = np.sort(logits)[-k]  # k번째로 큰 로짓
        logits[logits < cutoff] = -np.inf  # 확률 0 (k번째와 같은 값은 남습니다)
    return logits


# 3. 뽑기 / Sample one id
def sample(logits, temperature=1.0, top_k=0, rng=None):
    """One id drawn from softmax(top_k_filter(logits, top_k) / temperature) with the generator rng."""
    rng = np.random.default_rng() if rng is None else rng
    p = apply_temperature(top_k_filter(logits, top_k), temperature)
    return int(rng.choice(len(p), p=p))


# 4. 나츠 / Cross-entropy in nats per character
def cross_entropy_nats(logits, targets):
    """Mean -ln p(target) over the rows of logits (N, V), p = softmax of each row; targets (N,) ids."""
    z = np.asarray(logits, dtype="float64")
    z = z - z.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))  # 로그 소프트맥스(log-softmax)
    return float(-np.mean(log_p[np.arange(len(targets)), targets]))


# 5. 비트와 퍼플렉서티 / Bits per character and perplexity
def bits_and_perplexity(nats):
    """(bits per character = nats / ln 2, perplexity = e ** nats = 2 ** bits)."""
    return nats / math.log(2), math.exp(nats)


# 데이터와 바이그램 모델 / The text and the bigram model
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
