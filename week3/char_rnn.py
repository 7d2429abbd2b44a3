"""Char-RNN: a character-level LSTM language model that learns to write like the text it reads.

요약: 글을 글자 단위로 읽는 순환 신경망(recurrent neural network, RNN)이 "다음 글자"를 맞히도록 학습합니다.
손실(loss)은 글자당 나츠(nats per character)이고, 2로 나눈 로그로 바꾸면 글자당 비트(bits per character)입니다.
같은 분할에서 유니그램·바이그램·트라이그램 문자 모델(n-gram)을 기준선(baseline)으로 계산해, RNN이 몇 글자
앞까지 보는 단순한 세기보다 얼마나 나은지 봅니다. 에포크마다 모델이 쓴 글을 TensorBoard에서 읽을 수 있습니다.

Run:    python week3/char_rnn.py                                  (tiny Shakespeare, downloaded on first use)
        python week3/char_rnn.py --corpus korean_novels --data-dir DIR   (DIR holds korean_novels.txt)
        python week3/char_rnn.py --text my_text.txt               (any UTF-8 text)
Smoke:  python week3/char_rnn.py --smoke
Then:   python week3/char_rnn_sample.py --model runs/char_rnn/<time> --prime "그는"
Expect: per epoch, training and validation loss in nats and bits per character next to the n-gram baselines
        (TensorBoard Scalars) and a generated sample (TensorBoard Text); model.keras and vocab.json in the run
        folder for char_rnn_sample.py; learning_curves.png. Tiny Shakespeare, default flags: validation loss
        1.485 nats per character (2.143 bits; trigram baseline 2.952 bits) after 20 epochs, 19 minutes of
        training on a 2-core CPU; 1.67 nats after the first 152 seconds (README table, results/).
Split:  the last 10% of the text is the validation set (as nanoGPT's shakespeare_char, so the numbers compare
        with published ones), read in pieces of 256 characters (nanoGPT's context length); there is no separate
        test set in this lesson.
Speed:  on a 2-core CPU the time goes into the LSTM's step-by-step loop (each step is a small matrix product).
        Tried on tiny Shakespeare: jit_compile=True (XLA) was slower than plain TensorFlow on the CPU; batches of
        256 sequences process more characters per second than 64 but make 4x fewer updates and learn less in
        the same time; sequences of 50 characters with Adam at 4e-3 were ahead of 100 at 2e-3 after one epoch
        (validation loss), at about the same characters per second. Hence the defaults. On a GPU the LSTM runs
        the fused cuDNN kernel (the default layer settings allow it).
"""

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
PARSER = flags.make_parser(__file__, __doc__, epochs=20, batch_size=64, learning_rate=4e-3)
PARSER.add_argument("--corpus", choices=("tiny_shakespeare", "korean_novels"), default="tiny_shakespeare",
                    help="text to learn (default: %(default)s); --data-dir DIR reads your copy of it")
PARSER.add_argument("--text", type=Path, default=None, help="learn any UTF-8 text file instead of --corpus")
PARSER.add_argument("--cell", choices=("lstm", "gru"), default="lstm", help="recurrent layer (default: %(default)s)")
PARSER.add_argument("--layers", type=int, default=2, help="stacked recurrent layers (default: %(default)s)")
PARSER.add_argument("--units", type=int, default=256, help="units per recurrent layer (default: %(default)s)")
PARSER.add_argument("--embedding-dim", type=int, default=64, help="size of each character's vector (default: %(default)s)")
PARSER.add_argument("--dropout", type=float, default=0.2, help="dropout after each recurrent layer (default: %(default)s)")
PARSER.add_argument("--seq-length", type=int, default=50, help="characters per training sequence (default: %(default)s)")
PARSER.add_argument("--clipnorm", type=float, default=5.0, help=(
    "global gradient-norm clipping, see week3/gradient_clipping.py; 0 turns it off (default: %(default)s)"))
PARSER.add_argument("--min-char-count", type=int, default=2, help=(
    "characters seen fewer times than this in training become the unknown token (default: %(default)s)"))
PARSER.add_argument("--sample-length", type=int, default=300, help="characters of the per-epoch sample (default: %(default)s)")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import json
from collections import Counter

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from common import data, runtime, tb
from week3.char_rnn_sample import UNKNOWN, build_step_model, generate

LN2 = math.log(2)  # 나츠(nats) / ln 2 = 비트(bits)
VALIDATION_FRACTION = 0.1
# 검증 세트는 더 긴 조각으로 잽니다: 조각마다 상태가 0에서 시작하므로, 짧으면 앞 글자들이 문맥 없이 읽혀 손실이
# 실제(이어 쓰기)보다 나쁘게 나옵니다. 256은 nanoGPT의 문맥 길이(block size)와 같습니다.
VALIDATION_SEQ_LENGTH = 256
SMOKE_CHARS = 12000


# 1. 데이터 / Read the text and split it: the first 90% to learn from, the last 10% to validate on
def load_text(corpus="tiny_shakespeare", text_path=None, data_dir=None, smoke=False):
    """Returns (text, name): the whole text and what it is called in the logs."""
    if text_path is not None:
        text, name = data.read_text(text_path), Path(text_path).name
    else:
        text, _ = data.load_corpus(corpus, data_dir)
        name = corpus
    if smoke:
        text = text[:SMOKE_CHARS]
    return text, name


def split_text(text, fraction=VALIDATION_FRACTION):
    """(train, validation): the last `fraction` of the characters is the validation set."""
    cut = int(len(text) * (1 - fraction))
    return text[:cut], text[cut:]


# 2. 어휘 / The vocabulary: every character seen in training, plus one unknown token (id 0)
def build_vocab(train_text, min_count=2):
    """Characters sorted by code point; those seen fewer than `min_count` times fold into id 0.

    Folding the rarest characters into the unknown token lets the model learn how often a new character
    turns up (the validation set of a Korean corpus has syllables the training set never shows).
    """
    counts = Counter(train_text)
    return [UNKNOWN] + sorted(c for c, n in counts.items() if n >= min_count and c != UNKNOWN)


def encode(text, chars):
    index = {c: i for i, c in enumerate(chars)}
    return np.array([index.get(c, 0) for c in text], dtype="int32")


def split_input_target(chunk):
    """"Hello" -> input "Hell", target "ello": at every position the target is the next character."""
    return chunk[:-1], chunk[1:]


def make_dataset(ids, seq_length, batch_size, shuffle=False, seed=0):
    """(input, target) pairs from chunks of seq_length + 1 ids, in batches."""
    ds = tf.data.Dataset.from_tensor_slices(ids).batch(seq_length + 1, drop_remainder=True)
    ds = ds.map(split_input_target)
    if shuffle:
        ds = ds.shuffle(10_000, seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=shuffle).prefetch(tf.data.AUTOTUNE)


def check_length(train_ids, val_ids, seq_length, batch_size, source):
    """One-line error when the text cannot fill one training batch and one validation sequence."""
    need = (seq_length + 1) * batch_size
    if len(train_ids) < need or len(val_ids) < seq_length + 1:
        raise data.DataError(
            f"{source} is too short: {len(train_ids) + len(val_ids)} characters, but one training batch needs "
            f"(--seq-length {seq_length} + 1) x --batch-size {batch_size} = {need} in the first 90% and "
            f"{seq_length + 1} in the last 10%; give a longer text or lower --seq-length / --batch-size"
        )


# 3. 기준선 / Baselines: n-gram character models, counted on the same training text
def ngram_counts(ids, order, v):
    """All `order`-grams of ids as sorted int64 keys (a*v + b)*v + c ... and their counts."""
    keys = np.zeros(len(ids) - order + 1, dtype="int64")
    for k in range(order):
        keys = keys * v + ids[k:len(ids) - order + 1 + k]
    unique, counts = np.unique(keys, return_counts=True)
    return unique, counts


def lookup(table, keys):
    """Counts of `keys` in an ngram_counts table (0 for keys never seen)."""
    unique, counts = table
    i = np.clip(np.searchsorted(unique, keys), 0, max(len(unique) - 1, 0))
    return np.where((len(unique) > 0) & (unique[i] == keys), counts[i], 0).astype("float64")


class NGramModel:
    """Interpolated (Jelinek-Mercer) character n-grams, orders 1..3, on ids < vocab_size.

    p1(c)      = (n(c) + 1) / (N + V)                       (add-one, so unseen characters are possible)
    p2(c|b)    = l2 * n(bc)/n(b)   + (1 - l2) * p1(c)        (p1 alone when b was never seen)
    p3(c|ab)   = l3 * n(abc)/n(ab) + (1 - l3) * p2(c|b)      (p2 alone when ab was never seen)
    """

    def __init__(self, ids, vocab_size):
        ids = np.asarray(ids, dtype="int64")
        self.vocab_size, self.n = vocab_size, len(ids)
        self.unigram = np.bincount(ids, minlength=vocab_size).astype("float64")
        # 문맥(context)의 수는 뒤에 글자가 오는 자리만 셉니다 (마지막 글자 제외): n(b) = Σc n(bc)
        self.contexts = {k: ngram_counts(ids[:-1], k, vocab_size) for k in (1, 2)}
        self.tables = {k: ngram_counts(ids, k, vocab_size) for k in (2, 3)}

    def log_probs(self, ids, order, l2=0.0, l3=0.0):
        """Natural-log probability of ids[order-1:] given the characters before each (nats)."""
        ids = np.asarray(ids, dtype="int64")
        v = self.vocab_size
        c = ids[order - 1:]
        p = (self.unigram[c] + 1) / (self.n + v)
        if order >= 2:
            b = ids[order - 2:-1]
            n_b, n_bc = lookup(self.contexts[1], b), lookup(self.tables[2], b * v + c)
            p = np.where(n_b > 0, l2 * n_bc / np.maximum(n_b, 1) + (1 - l2) * p, p)
        if order >= 3:
            a = ids[:-2]
            n_ab, n_abc = lookup(self.contexts[2], a * v + b), lookup(self.tables[3], (a * v + b) * v + c)
            p = np.where(n_ab > 0, l3 * n_abc / np.maximum(n_ab, 1) + (1 - l3) * p, p)
        return np.log(p)


LAMBDAS = (0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99)


def ngram_baselines(train_ids, val_ids, vocab_size):
    """Bits per character of the unigram, bigram and trigram models on the validation ids.

    The interpolation weights are chosen on the last 10% of the training text with counts from the
    first 90% (never on the validation set); then the counts are redone on the whole training text.
    """
    cut = int(len(train_ids) * 0.9)
    tune = NGramModel(train_ids[:cut], vocab_size)
    held = train_ids[cut:]
    l2 = min(LAMBDAS, key=lambda lam: -tune.log_probs(held, 2, l2=lam).mean())
    l3 = min(LAMBDAS, key=lambda lam: -tune.log_probs(held, 3, l2=l2, l3=lam).mean())
    full = NGramModel(train_ids, vocab_size)
    # 앞 두 글자를 모르는 검증 세트의 첫 글자들은 빼고, 세 모델 모두 같은 글자들로 잽니다
    bits = {name: float(-full.log_probs(val_ids, order, l2, l3)[3 - order:].mean() / LN2)
            for name, order in (("unigram", 1), ("bigram", 2), ("trigram", 3))}
    return bits, {"bigram_lambda": l2, "trigram_lambda": l3}


# 4. 모델 / The model: embedding -> stacked LSTM (or GRU) with dropout -> logits over the vocabulary
def build_model(vocab_size, cell="lstm", n_layers=2, units=256, embedding_dim=64, dropout=0.2):
    """Logits (B, T, V) for the next character at every position of tokens (B, T).

    Each recurrent layer also returns its final state (unused in training): char_rnn_sample.py calls the
    same layers with a carried state to write one character at a time.
    """
    rnn = {"lstm": layers.LSTM, "gru": layers.GRU}[cell]
    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = layers.Embedding(vocab_size, embedding_dim, name="embedding")(tokens)  # 글자 번호 -> 학습되는 벡터
    for i in range(1, n_layers + 1):
        # GPU에서는 기본 설정(tanh, sigmoid, recurrent_dropout 없음)일 때 cuDNN 커널을 씁니다
        x, *_ = rnn(units, return_sequences=True, return_state=True, name=f"rnn{i}")(x)
        x = layers.Dropout(dropout, name=f"dropout{i}")(x)
    logits = layers.Dense(vocab_size, dtype="float32", name="logits")(x)
    return keras.Model(tokens, logits, name=f"char_{cell}")


def compile_model(model, learning_rate, total_steps, clipnorm=5.0):
    """Adam with a cosine-decaying learning rate (to 10%), sparse cross-entropy on logits (nats)."""
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=max(total_steps, 1), alpha=0.1)
    optimizer = keras.optimizers.Adam(schedule, global_clipnorm=clipnorm or None)
    model.compile(optimizer, keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


# 5. 학습 / Train: per epoch, nats and bits per character, the baselines beside them, and a sample
class CharRNNLogger(keras.callbacks.Callback):
    """Bits per character (train, validation, baselines) in one TensorBoard chart, a sample as text."""

    def __init__(self, log_dir, chars, prime, baselines, sample_length=300, seed=0):
        super().__init__()
        self.log_dir, self.chars, self.prime = log_dir, chars, prime
        self.baselines, self.sample_length, self.seed = baselines, sample_length, seed
        self.timer, self.curve = tb.Timer(), []  # (초, 검증 나츠) — 시간에 따른 학습 곡선

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        seconds = self.timer.seconds()
        self.curve.append((round(seconds, 1), float(logs["val_loss"])))
        for name, nats in (("train", logs["loss"]), ("validation", logs["val_loss"])):
            with tb.writer(self.log_dir, name).as_default():
                tf.summary.scalar("bits_per_char", nats / LN2, step=epoch)
        with tb.writer(self.log_dir, "validation").as_default():
            tf.summary.scalar("nats_per_char_by_seconds", logs["val_loss"], step=int(seconds))
        for name, bits in self.baselines.items():
            with tb.writer(self.log_dir, f"baseline_{name}").as_default():
                tf.summary.scalar("bits_per_char", bits, step=epoch)
        if self.sample_length:
            text, _ = generate(build_step_model(self.model), self.chars, self.prime, self.sample_length, seed=self.seed)
            tb.log_text(self.log_dir, "samples", "sample", "    " + text.replace("\n", "\n    "), step=epoch)
            print(f"  sample: {text[:120]!r}")


def train(model, train_ds, val_ds, epochs, log_dir, logger):
    timer = tb.Timer()
    history = model.fit(train_ds, validation_data=val_ds, epochs=epochs, verbose=2,
                        callbacks=[tb.tensorboard_callback(log_dir), tb.StopOnNaN(log_dir), logger])
    return history, timer.seconds()


def save_curves(history, baselines, path):
    plt = tb.pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    epochs = np.arange(1, len(history["loss"]) + 1)
    ax.plot(epochs, np.array(history["loss"]) / LN2, "o-", label="RNN 학습 세트 / train")
    ax.plot(epochs, np.array(history["val_loss"]) / LN2, "o-", label="RNN 검증 세트 / validation")
    for (name, bits), style in zip(baselines.items(), (":", "--", "-.")):
        ax.axhline(bits, color="gray", linestyle=style, label=f"{name} (검증 / validation)")
    ax.set_xlabel("에포크 / epoch")
    ax.set_ylabel("글자당 비트 / bits per character")
    ax.set_title("문자 수준 언어 모델 / character-level language model")
    ax.legend()
    return tb.save_figure(fig, path)


def main(argv=None):
    args = flags.parse(PARSER, argv)
    if args.layers < 1 or args.units < 1 or args.seq_length < 2 or not 0 <= args.dropout < 1:
        PARSER.error("--layers and --units must be at least 1, --seq-length at least 2, --dropout in [0, 1)")
    text, source = load_text(args.corpus, args.text, args.data_dir, args.smoke)
    if args.smoke:  # 몇 초 안에 끝나도록 작게
        args.batch_size, args.seq_length, args.units = min(args.batch_size, 16), min(args.seq_length, 50), min(args.units, 64)
        args.sample_length = min(args.sample_length, 40)
    train_text, val_text = split_text(text)
    chars = build_vocab(train_text, args.min_char_count)
    train_ids, val_ids = encode(train_text, chars), encode(val_text, chars)
    check_length(train_ids, val_ids, args.seq_length, args.batch_size, args.text or source)
    unknown_share = float(np.mean(val_ids == 0))
    print(f"Text: {source}, {len(train_text):,} training and {len(val_text):,} validation characters; "
          f"vocabulary {len(chars)} (unknown token: {unknown_share:.2%} of the validation characters)")

    baselines, lambdas = ngram_baselines(train_ids, val_ids, len(chars))
    print("Baselines on the validation set: " + ", ".join(f"{k} {v:.3f} bits/char" for k, v in baselines.items()))

    strategy = runtime.setup(args)
    prime = train_text.split("\n", 1)[0][:20] or train_text[:20]
    (args.log_dir / "vocab.json").write_text(json.dumps(
        {"script": "char_rnn", "chars": chars, "corpus": source, "default_prime": prime}, ensure_ascii=False),
        encoding="utf-8")
    train_ds = make_dataset(train_ids, args.seq_length, args.batch_size, shuffle=True, seed=args.seed)
    val_ds = make_dataset(val_ids, max(args.seq_length, min(VALIDATION_SEQ_LENGTH, len(val_ids) - 1)), args.batch_size)
    steps = args.epochs * (len(train_ids) // (args.seq_length + 1) // args.batch_size)
    with strategy.scope():
        model = compile_model(build_model(len(chars), args.cell, args.layers, args.units, args.embedding_dim, args.dropout),
                              args.learning_rate, steps, args.clipnorm)
    model.summary()
    logger = CharRNNLogger(args.log_dir, chars, prime, baselines, args.sample_length, args.seed)
    history, seconds = train(model, train_ds, val_ds, args.epochs, args.log_dir, logger)
    model.save(args.log_dir / "model.keras")
    save_curves(history.history, baselines, args.log_dir / "learning_curves.png")

    val_nats = float(history.history["val_loss"][-1])
    print(f"Validation: {val_nats:.4f} nats/char = {val_nats / LN2:.4f} bits/char after {seconds:.0f}s of training; "
          f"saved {args.log_dir / 'model.keras'}")
    return tb.write_metrics(
        args.log_dir, val_nats_per_char=val_nats, val_bits_per_char=val_nats / LN2,
        best_val_nats_per_char=float(min(history.history["val_loss"])),
        unigram_bits_per_char=baselines["unigram"], bigram_bits_per_char=baselines["bigram"],
        trigram_bits_per_char=baselines["trigram"], **lambdas, train_seconds=round(seconds, 1),
        epochs=len(history.history["loss"]), vocab_size=len(chars), val_unknown_share=unknown_share,
        val_curve_seconds_nats=logger.curve,
    )


if __name__ == "__main__":
    main()
