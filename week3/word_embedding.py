"""Word vectors with skip-gram and negative sampling (word2vec), shown in TensorBoard's Embedding Projector.

요약: 스킵그램(skip-gram)은 문장에서 가까이 나오는 두 단어를 "진짜 쌍"으로, 어휘에서 무작위로 뽑은 단어를
"가짜 쌍"(네거티브 샘플링, negative sampling)으로 두고 둘을 가려내도록 두 임베딩 표를 학습합니다. 그러면 같은
자리에 쓰이는 단어끼리 비슷한 벡터를 갖게 되고, 그 벡터를 임베딩 프로젝터(Embedding Projector)로 봅니다.

Run:    python week3/word_embedding.py --data-dir DIR     (DIR holds korean_novels.txt; or --text FILE)
        tensorboard --logdir runs/word_embedding           (PROJECTOR tab: the word vectors in 3-D)
Smoke:  python week3/word_embedding.py --smoke
Expect: per epoch the training loss and the held-out AUC (telling word pairs that co-occur in the last 10%
        of the text from randomly paired words by cosine; random vectors score 0.5) are printed and logged;
        then the nearest neighbours of a few frequent words. The run folder gets vectors.tsv and
        metadata.tsv (load both at projector.tensorflow.org), the projector files for TensorBoard, and
        word_embedding.png (loss curve and a 2-D PCA of the 200 most frequent words). Whitespace words,
        no morphological analyser: "그는" and "그가" are different words here.
"""

import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
PARSER = flags.make_parser(__file__, __doc__, epochs=8, batch_size=1024, learning_rate=1e-3)
PARSER.add_argument("--corpus", choices=("korean_novels", "tiny_shakespeare"), default="korean_novels",
                    help="registered text corpus (default: %(default)s)")
PARSER.add_argument("--text", type=Path, default=None, help="train on this UTF-8 text file instead of --corpus")
PARSER.add_argument("--dim", type=int, default=100, help="size of each word vector (default: %(default)s)")
PARSER.add_argument("--window", type=int, default=4, help="context words on each side of a target (default: %(default)s)")
PARSER.add_argument("--negatives", type=int, default=5, help="negative samples per true pair (default: %(default)s)")
PARSER.add_argument("--min-count", type=int, default=5,
                    help="words seen fewer times in the training part are dropped (default: %(default)s)")
PARSER.add_argument("--max-vocab", type=int, default=20000, help="keep at most this many words (default: %(default)s)")
PARSER.add_argument("--subsample", type=float, default=1e-3,
                    help="frequent-word subsampling threshold t (Mikolov et al.); 0 turns it off (default: %(default)s)")
PARSER.add_argument("--query", action="append", default=None, metavar="WORD",
                    help="print the nearest neighbours of WORD (repeatable; default: a few frequent words)")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
import numpy as np
import tensorflow as tf
from keras import layers
from tensorboard.plugins import projector

from common import data, runtime, tb

HELDOUT_FRACTION = 0.1  # 텍스트의 마지막 10%: 검증 부분(held-out), 학습에는 쓰지 않음
SMOKE_CHARS, SMOKE_MIN_COUNT, SMOKE_BATCH = 20000, 2, 64  # --smoke: 앞의 20,000자, 두 번 나온 단어부터, 작은 배치
QUERY_RANKS = (10, 25, 50, 100, 200)  # 기본 질의 단어: 빈도 순위 (가장 흔한 조사·대명사 몇 개는 건너뜀)
NEIGHBOURS = 8
PCA_WORDS = 200
TOKEN = re.compile(r"\w+(?:'[a-z]+)*")  # \w 는 한글도 포함; don't, king's 의 '는 단어 안에 두고 '러브레터'의 '는 뗌


# 1. 데이터 / Prepare the data: words, vocabulary, word ids
def load_text(corpus="korean_novels", text_path=None, data_dir=None, smoke=False):
    """Returns the text of --text FILE or of a registered corpus (the first SMOKE_CHARS characters with smoke)."""
    if text_path is not None:
        text = data.read_text(text_path)
    else:
        text, _ = data.load_corpus(corpus, data_dir)
    if smoke and len(text) > SMOKE_CHARS:
        text = text[:text.rfind("\n", 0, SMOKE_CHARS) + 1 or SMOKE_CHARS]
    return text


def split_text(text, heldout_fraction=HELDOUT_FRACTION):
    """Returns (training part, held-out part): the last fraction of the characters, cut at a line boundary."""
    cut = int(len(text) * (1 - heldout_fraction))
    line_end = text.rfind("\n", 0, cut)
    cut = line_end + 1 if line_end > 0 else cut
    return text[:cut], text[cut:]


def tokenize(text):
    """Lower-cased words: runs of letters and digits (Hangul too); punctuation and spaces separate them."""
    return TOKEN.findall(text.lower())


def build_vocabulary(tokens, min_count=5, max_vocab=20000):
    """Returns (words, counts): words seen at least min_count times, most frequent first (ties alphabetical)."""
    counted = sorted(Counter(tokens).items(), key=lambda item: (-item[1], item[0]))
    kept = [(word, count) for word, count in counted if count >= min_count][:max_vocab]
    return [word for word, _ in kept], np.array([count for _, count in kept], dtype=np.int64)


def encode(tokens, words):
    """Word ids (int32) of the tokens; words outside the vocabulary are dropped, so windows close over them."""
    index = {word: i for i, word in enumerate(words)}
    return np.array([index[t] for t in tokens if t in index], dtype=np.int32)


# 2. 스킵그램 쌍과 네거티브 샘플 / Skip-gram pairs and negative samples (NumPy, written out)
def skipgram_pairs(ids, window, rng=None):
    """(target, context) pairs: every word with each word at most `window` places before or after it.

    Pairs come in text order: target position first, then offsets -window..-1, 1..window.
    With rng, each target's window shrinks to a random reach 1..window (word2vec's trick: near
    words are paired more often than far ones).
    """
    ids = np.asarray(ids)
    offsets = np.array([o for o in range(-window, window + 1) if o != 0])  # (2*window,)
    positions = np.arange(len(ids))[:, None] + offsets[None, :]  # (n, 2*window): 문맥 단어의 위치
    valid = (positions >= 0) & (positions < len(ids))  # 텍스트 밖으로 나가는 자리는 뺍니다
    if rng is not None:
        reach = rng.integers(1, window + 1, size=len(ids))
        valid &= np.abs(offsets)[None, :] <= reach[:, None]
    targets = np.broadcast_to(ids[:, None], positions.shape)[valid]
    contexts = ids[positions[valid]]
    return targets, contexts


def keep_probabilities(counts, threshold=1e-3):
    """Chance of keeping each occurrence of a word, sqrt(t / frequency) capped at 1 (frequent-word subsampling)."""
    if threshold <= 0:
        return np.ones(len(counts))
    frequency = counts / counts.sum()
    return np.minimum(1.0, np.sqrt(threshold / frequency))


def noise_distribution(counts, power=0.75):
    """Negative-sampling distribution: unigram counts ** 0.75, normalised (rare words drawn a little more often)."""
    weights = np.asarray(counts, dtype=np.float64) ** power
    return weights / weights.sum()


def sample_negatives(noise, num_pairs, negatives, rng):
    """(num_pairs, negatives) word ids drawn from the noise distribution."""
    return rng.choice(len(noise), size=(num_pairs, negatives), p=noise).astype(np.int32)


def make_examples(ids, window, negatives, noise, rng, keep=None):
    """One epoch of training examples: targets (N,), contexts (N, 1 + negatives), labels (N, 1 + negatives).

    Column 0 of contexts is the true context word (label 1); the others are negative samples (label 0).
    """
    if keep is not None:  # 흔한 단어(그, 하고, the ...)의 등장을 확률적으로 솎아 냅니다
        ids = ids[rng.random(len(ids)) < keep[ids]]
    targets, contexts = skipgram_pairs(ids, window, rng)
    contexts = np.concatenate([contexts[:, None], sample_negatives(noise, len(targets), negatives, rng)], axis=1)
    labels = np.zeros(contexts.shape, dtype=np.float32)
    labels[:, 0] = 1
    return targets.astype(np.int32), contexts.astype(np.int32), labels


# 3. 모델 / Build the model: two embedding tables and a dot product
def build_model(vocab_size, dim=100, learning_rate=1e-3):
    """Scores (target, context) pairs by the dot product of their vectors; a logit per context column."""
    target = keras.Input(shape=(), dtype="int32", name="target")  # (batch,)
    context = keras.Input(shape=(None,), dtype="int32", name="context")  # (batch, 1 + negatives)
    # 단어마다 벡터가 두 개: 가운데 단어일 때(embedding)와 문맥 단어일 때(context_embedding).
    # 우리가 쓰고 프로젝터에 올리는 단어 벡터는 앞의 것입니다.
    t = layers.Embedding(vocab_size, dim, name="embedding")(target)  # (batch, dim)
    c = layers.Embedding(vocab_size, dim, name="context_embedding")(context)  # (batch, 1 + negatives, dim)
    logits = keras.ops.cast(keras.ops.einsum("bd,bkd->bk", t, c), "float32")  # 내적(dot product): (batch, 1 + negatives)
    model = keras.Model([target, context], logits, name="skipgram")
    # 열마다 "진짜 쌍인가?"를 묻는 이진 분류: 시그모이드 교차 엔트로피(sigmoid cross-entropy)
    model.compile(keras.optimizers.Adam(learning_rate), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    return model


def word_vectors(model):
    """The (vocab_size, dim) target-embedding table as a NumPy array."""
    return model.get_layer("embedding").get_weights()[0]


# 4. 검증 부분으로 재기 / Measure on the held-out part
def heldout_pairs(ids, window, rng):
    """(co-occurring pairs, random pairs) of the held-out word ids, each an (N, 2) array.

    Co-occurring: two different words at most `window` places apart. Random: the same left words with
    the right words shuffled, so both sets have the same word frequencies and only the pairing differs.
    """
    targets, contexts = skipgram_pairs(ids, window)
    cooccurring = np.stack([targets, contexts], axis=1)
    cooccurring = cooccurring[cooccurring[:, 0] < cooccurring[:, 1]]  # (a, b)와 (b, a)는 한 번만, 같은 단어끼리는 빼고
    random_pairs = np.stack([cooccurring[:, 0], rng.permutation(cooccurring[:, 1])], axis=1)
    random_pairs = random_pairs[random_pairs[:, 0] != random_pairs[:, 1]]
    return cooccurring, random_pairs


def cosine_similarities(vectors, pairs):
    """Cosine similarity of the two word vectors of each pair."""
    unit = vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12)
    return np.sum(unit[pairs[:, 0]] * unit[pairs[:, 1]], axis=1)


def roc_auc(positive_scores, negative_scores):
    """Chance that a random positive scores above a random negative (ties count half): the Mann-Whitney rank formula."""
    scores = np.concatenate([positive_scores, negative_scores])
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2)[inverse]  # 1부터 매긴 순위, 같은 값은 평균 순위
    n_pos, n_neg = len(positive_scores), len(negative_scores)
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def heldout_similarity(vectors, cooccurring, random_pairs):
    """Returns (AUC, mean cosine of co-occurring pairs, mean cosine of random pairs)."""
    pos, neg = cosine_similarities(vectors, cooccurring), cosine_similarities(vectors, random_pairs)
    return roc_auc(pos, neg), float(pos.mean()), float(neg.mean())


def nearest_neighbours(vectors, words, word, k=NEIGHBOURS):
    """The k words whose vectors have the largest cosine similarity with `word`'s: [(word, cosine), ...]."""
    unit = vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12)
    query = words.index(word)
    similarity = unit @ unit[query]
    similarity[query] = -np.inf  # 자기 자신은 빼고
    best = np.argsort(-similarity)[:k]
    return [(words[i], float(similarity[i])) for i in best]


def default_queries(words):
    """A few frequent words, skipping the very top (particles and pronouns): ranks QUERY_RANKS."""
    return [words[r] for r in sorted({min(r, len(words) - 1) for r in QUERY_RANKS})]


# 5. 학습 / Train: fresh pairs and negatives every epoch
def train(model, ids, counts, window, negatives, epochs, batch_size, log_dir, subsample=1e-3, seed=42, heldout=None):
    """Trains one epoch at a time on freshly drawn examples.

    heldout: (co-occurring pairs, random pairs) to score after each epoch. Returns a dict with the
    per-epoch lists loss, pairs, auc, and seconds of training.
    """
    rng = np.random.default_rng(seed)
    noise = noise_distribution(counts)
    keep = keep_probabilities(counts, subsample) if subsample > 0 else None
    train_writer, val_writer = tb.writer(log_dir, "train"), tb.writer(log_dir, "validation")
    result = {"loss": [], "pairs": [], "auc": []}
    timer = tb.Timer()
    for epoch in range(epochs):
        # 에포크마다 창 크기, 솎아 내기, 네거티브 샘플을 새로 뽑습니다 (word2vec이 하는 대로)
        targets, contexts, labels = make_examples(ids, window, negatives, noise, rng, keep)
        history = model.fit(
            (targets, contexts), labels, batch_size=batch_size, epochs=epoch + 1, initial_epoch=epoch,
            shuffle=True, verbose=0, callbacks=[tb.StopOnNaN(log_dir)],
        )
        result["loss"].append(history.history["loss"][-1])
        result["pairs"].append(len(targets))
        with train_writer.as_default():
            tf.summary.scalar("epoch_loss", result["loss"][-1], step=epoch)
            tf.summary.scalar("epoch_pairs", len(targets), step=epoch)
        if heldout is not None:
            auc, _, _ = heldout_similarity(word_vectors(model), *heldout)
            result["auc"].append(auc)
            with val_writer.as_default():
                tf.summary.scalar("epoch_auc", auc, step=epoch)
        print(f"Epoch {epoch + 1}/{epochs}: loss {result['loss'][-1]:.4f}, {len(targets)} pairs"
              + (f", held-out AUC {result['auc'][-1]:.3f}" if result["auc"] else "") + f" ({timer.seconds():.0f} s)")
    train_writer.flush()
    val_writer.flush()
    result["seconds"] = timer.seconds()
    return result


# 6. 임베딩 프로젝터 / Files for the Embedding Projector
def save_projector(log_dir, words, vectors):
    """vectors.tsv + metadata.tsv (projector.tensorflow.org), and a checkpoint + projector_config.pbtxt (TensorBoard)."""
    log_dir = Path(log_dir)
    np.savetxt(log_dir / "vectors.tsv", vectors, delimiter="\t", fmt="%.5f")
    (log_dir / "metadata.tsv").write_text("".join(word + "\n" for word in words), encoding="utf-8")
    # TensorBoard의 PROJECTOR 탭은 체크포인트 속 변수를 읽고, 행마다 metadata.tsv의 단어를 붙입니다.
    checkpoint = tf.train.Checkpoint(embedding=tf.Variable(vectors))
    checkpoint.save(str(log_dir / "embedding.ckpt"))
    config = projector.ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name = "embedding/.ATTRIBUTES/VARIABLE_VALUE"
    embedding.metadata_path = "metadata.tsv"
    projector.visualize_embeddings(str(log_dir), config)


def save_figure(losses, aucs, words, vectors, path, log_dir):
    """Loss and held-out AUC per epoch, and the 200 most frequent words on their first two principal components."""
    n = min(PCA_WORDS, len(words))
    top = vectors[:n] - vectors[:n].mean(axis=0)
    _, _, components = np.linalg.svd(top, full_matrices=False)  # 주성분 분석(PCA): 가장 많이 퍼진 두 방향
    xy = top @ components[:2].T
    plt = tb.pyplot()
    fig, (ax_loss, ax_pca) = plt.subplots(1, 2, figsize=(15, 6.5), gridspec_kw={"width_ratios": [1, 2.2]})
    epochs = np.arange(1, len(losses) + 1)
    ax_loss.plot(epochs, losses, marker="o", label="학습 손실 / training loss")
    ax_loss.set(xlabel="에포크 / epoch", ylabel="손실 / loss", title="학습 손실과 검증 AUC")
    if aucs:
        ax_auc = ax_loss.twinx()
        ax_auc.plot(epochs, aucs, marker="s", color="tab:orange", label="검증 AUC / held-out AUC")
        ax_auc.set_ylabel("AUC")
        ax_loss.legend(handles=ax_loss.lines + ax_auc.lines, loc="center right")
    ax_pca.scatter(xy[:, 0], xy[:, 1], s=6, color="tab:blue")
    for (x, y), word in zip(xy, words[:n]):
        ax_pca.annotate(word, (x, y), fontsize=7, alpha=0.8)
    ax_pca.set(title=f"가장 흔한 단어 {n}개의 벡터, PCA 2차원 / top {n} words, 2-D PCA", xticks=[], yticks=[])
    tb.save_figure(fig, path, log_dir=log_dir)


def main(argv=None):
    args = flags.parse(PARSER, argv)
    for name in ("dim", "window", "negatives", "min_count", "max_vocab"):
        if getattr(args, name) < 1:
            PARSER.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.subsample < 0:
        PARSER.error("--subsample must be 0 (off) or a small positive threshold such as 1e-3")
    text = load_text(args.corpus, args.text, args.data_dir, args.smoke)
    min_count = min(args.min_count, SMOKE_MIN_COUNT) if args.smoke else args.min_count
    batch_size = min(args.batch_size, SMOKE_BATCH) if args.smoke else args.batch_size
    train_text, heldout_text = split_text(text)
    tokens = tokenize(train_text)
    words, counts = build_vocabulary(tokens, min_count, args.max_vocab)
    if len(words) < 2:
        raise data.DataError(
            f"only {len(words)} distinct word(s) appear at least {min_count} times in the training part "
            f"({len(tokens)} words, {len(train_text)} characters); lower --min-count or give more text"
        )
    ids = encode(tokens, words)
    heldout_ids = encode(tokenize(heldout_text), words)
    cooccurring, random_pairs = heldout_pairs(heldout_ids, args.window, np.random.default_rng(args.seed))
    if len(cooccurring) == 0 or len(random_pairs) == 0:
        raise data.DataError(
            f"the held-out part (the last {HELDOUT_FRACTION:.0%} of the text) has no two different vocabulary words "
            f"within --window {args.window} of each other; give more text or lower --min-count"
        )
    queries = [unicodedata.normalize("NFC", q.lower()) for q in args.query] if args.query else default_queries(words)
    missing = [q for q in queries if q not in words]
    if missing:
        raise data.DataError(
            f"--query {', '.join(missing)}: not in the vocabulary (seen fewer than {min_count} times in the training "
            "part, or cut by --max-vocab); pick another word"
        )
    print(f"Data: {len(train_text)} training characters, {len(tokens)} words, vocabulary {len(words)} "
          f"(min count {min_count}); held-out part {len(heldout_text)} characters, {len(cooccurring)} co-occurring pairs")
    strategy = runtime.setup(args)
    with strategy.scope():
        model = build_model(len(words), args.dim, args.learning_rate)
    model.summary()
    auc_before, _, _ = heldout_similarity(word_vectors(model), cooccurring, random_pairs)
    print(f"Held-out AUC before training (random vectors): {auc_before:.3f}")
    result = train(model, ids, counts, args.window, args.negatives, args.epochs, batch_size, args.log_dir,
                   args.subsample, args.seed, heldout=(cooccurring, random_pairs))

    # 7. 결과 / Neighbours, projector files, figure, metrics
    vectors = word_vectors(model)
    auc, cos_cooccurring, cos_random = heldout_similarity(vectors, cooccurring, random_pairs)
    print(f"Held-out: AUC {auc:.3f}; mean cosine {cos_cooccurring:.3f} (co-occurring) vs {cos_random:.3f} (random pairs)")
    print("Nearest neighbours (cosine):")
    table = ["| 단어 / word | 가장 가까운 단어 / nearest neighbours (cosine) |", "|---|---|"]
    for query in queries:
        neighbours = ", ".join(f"{w} {s:.2f}" for w, s in nearest_neighbours(vectors, words, query))
        print(f"  {query}: {neighbours}")
        table.append(f"| {query} | {neighbours} |")
    tb.log_text(args.log_dir, "validation", "nearest_neighbours", "\n".join(table))
    save_projector(args.log_dir, words, vectors)
    print(f"Projector: {args.log_dir / 'vectors.tsv'} and metadata.tsv (projector.tensorflow.org), "
          f"or `tensorboard --logdir {args.log_dir}` → PROJECTOR")
    save_figure(result["loss"], result["auc"], words, vectors, Path(args.log_dir) / "word_embedding.png", args.log_dir)
    return tb.write_metrics(
        args.log_dir, vocab_size=len(words), train_tokens=len(ids), train_pairs=int(np.mean(result["pairs"])),
        heldout_auc=auc, heldout_auc_before_training=auc_before, heldout_cosine_cooccurring=cos_cooccurring,
        heldout_cosine_random=cos_random, final_loss=result["loss"][-1], train_seconds=round(result["seconds"], 2),
    )


if __name__ == "__main__":
    main()
