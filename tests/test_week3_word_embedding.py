"""week3/word_embedding.py: skip-gram pairs, negative sampling, projector files, and vectors that learned something."""

import contextlib
import io
import json

import numpy as np
import pytest

from tests.helpers import REPO, load_script

GROUPS = "abcde"  # 5 groups of 6 words: a0..a5, b0..b5, ...; words meet only words of their own group


@pytest.fixture(scope="module")
def we():
    return load_script(REPO / "week3/word_embedding.py")


def grouped_text(paragraphs=320, length=40, seed=0):
    """One paragraph per line, all its words from one group: the structure word2vec should find."""
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(paragraphs):
        group = rng.choice(list(GROUPS))
        lines.append(" ".join(f"{group}{i}" for i in rng.integers(0, 6, length)))
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def trained(we, tmp_path_factory):
    """One short run on the grouped corpus; returns (run folder, metrics, printed output)."""
    folder = tmp_path_factory.mktemp("word_embedding")
    (folder / "groups.txt").write_text(grouped_text(), encoding="utf-8")
    run_dir = folder / "run"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        metrics = we.main(["--text", str(folder / "groups.txt"), "--log-dir", str(run_dir), "--dim", "16",
                           "--epochs", "4", "--batch-size", "256", "--learning-rate", "1e-2", "--subsample", "0",
                           "--query", "a0", "--query", "C3"])
    return run_dir, metrics, out.getvalue()


def test_skipgram_pairs_are_every_word_within_the_window(we):
    targets, contexts = we.skipgram_pairs(np.array([10, 11, 12, 13]), window=1)
    assert list(zip(targets, contexts)) == [(10, 11), (11, 10), (11, 12), (12, 11), (12, 13), (13, 12)]
    targets, contexts = we.skipgram_pairs(np.array([0, 1, 2]), window=2)
    assert list(zip(targets, contexts)) == [(0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)]


def test_random_window_keeps_near_words_more_often(we):
    """word2vec's shrinking window: a word d places away is kept with chance (window - d + 1) / window."""
    ids = np.arange(20000)  # every word distinct, so a pair's distance is |target - context|
    targets, contexts = we.skipgram_pairs(ids, window=4, rng=np.random.default_rng(0))
    distance = np.abs(targets - contexts)
    assert distance.min() == 1 and distance.max() == 4
    kept = np.array([np.sum(distance == d) for d in (1, 2, 3, 4)]) / (2 * len(ids))
    np.testing.assert_allclose(kept, [1.0, 0.75, 0.5, 0.25], atol=0.01)


def test_negatives_follow_unigram_to_the_three_quarters(we):
    counts = np.array([1000, 100, 10, 1])
    noise = we.noise_distribution(counts)
    negatives = we.sample_negatives(noise, 50000, 4, np.random.default_rng(0))
    assert negatives.shape == (50000, 4)
    drawn = np.bincount(negatives.ravel(), minlength=4) / negatives.size
    expected = counts**0.75 / np.sum(counts**0.75)
    np.testing.assert_allclose(drawn, expected, atol=0.004)
    unigram = counts / counts.sum()
    assert drawn[0] < unigram[0] - 0.05 and drawn[3] > 3 * unigram[3]  # flatter than the raw counts


def test_examples_put_the_true_context_first(we):
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 50, 500).astype(np.int32)
    noise = we.noise_distribution(np.bincount(ids, minlength=50))
    targets, contexts, labels = we.make_examples(ids, 2, 5, noise, rng)
    assert contexts.shape == labels.shape == (len(targets), 6)
    assert (labels[:, 0] == 1).all() and (labels[:, 1:] == 0).all()
    true_pairs = set(zip(*we.skipgram_pairs(ids, 2)))
    assert set(zip(targets, contexts[:, 0])) <= true_pairs


def test_tokenize_and_vocabulary(we):
    text = "KING: The king's men don't sleep. '러브레터'였다. 그는 편지를 읽었다. 그는 웃었다"
    tokens = we.tokenize(text)
    assert tokens == ["king", "the", "king's", "men", "don't", "sleep", "러브레터", "였다", "그는", "편지를", "읽었다",
                      "그는", "웃었다"]
    words, counts = we.build_vocabulary(["b", "a", "b", "c", "a", "b", "d"], min_count=2)
    assert words == ["b", "a"] and counts.tolist() == [3, 2]
    assert we.build_vocabulary(["b", "a", "b", "c", "a", "b"], min_count=1, max_vocab=2)[0] == ["b", "a"]
    assert we.encode(["a", "x", "b", "a"], ["b", "a"]).tolist() == [1, 0, 1]  # x is dropped


def test_split_holds_out_the_last_tenth_at_a_line_boundary(we):
    text = "".join(f"line {i:04d} of the text\n" for i in range(100))
    train_text, heldout_text = we.split_text(text)
    assert train_text + heldout_text == text and train_text.endswith("\n")
    assert heldout_text.startswith("line 0090") or heldout_text.startswith("line 0091")


def test_roc_auc_rank_formula(we):
    assert we.roc_auc(np.array([0.9, 0.8]), np.array([0.1, 0.2])) == 1.0
    assert we.roc_auc(np.array([0.1]), np.array([0.9])) == 0.0
    assert we.roc_auc(np.array([0.5, 0.5]), np.array([0.5])) == 0.5  # ties count half
    rng = np.random.default_rng(0)
    pos, neg = rng.integers(0, 10, 300) / 10, rng.integers(0, 8, 200) / 10  # many ties
    brute = np.mean((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :]))
    assert we.roc_auc(pos, neg) == pytest.approx(brute)


def test_random_vectors_score_half(we):
    ids = np.random.default_rng(1).integers(0, 300, 5000)
    cooccurring, random_pairs = we.heldout_pairs(ids, 4, np.random.default_rng(0))
    assert (cooccurring[:, 0] < cooccurring[:, 1]).all() and (random_pairs[:, 0] != random_pairs[:, 1]).all()
    vectors = np.random.default_rng(2).normal(size=(300, 32))
    auc, _, _ = we.heldout_similarity(vectors, cooccurring, random_pairs)
    assert abs(auc - 0.5) < 0.03


def test_grouped_corpus_gives_high_heldout_auc(trained):
    run_dir, metrics, out = trained
    # a perfect model scores about 1 - 1/(2*5) = 0.9: a random pair falls in one group one time in five
    assert metrics["heldout_auc"] >= 0.8, out
    assert abs(metrics["heldout_auc_before_training"] - 0.5) < 0.05
    assert metrics["heldout_cosine_cooccurring"] > metrics["heldout_cosine_random"] + 0.2
    assert metrics["vocab_size"] == 30 and metrics["final_loss"] < 0.5
    assert json.loads((run_dir / "metrics.json").read_text()) == metrics


def test_nearest_neighbours_are_in_the_same_group(we, trained):
    run_dir, _, out = trained
    words = (run_dir / "metadata.tsv").read_text(encoding="utf-8").split()
    vectors = np.loadtxt(run_dir / "vectors.tsv", delimiter="\t")
    for query in ("a0", "c3", "e5"):
        neighbours = [w for w, _ in we.nearest_neighbours(vectors, words, query, k=5)]
        assert query not in neighbours and all(w[0] == query[0] for w in neighbours), (query, neighbours)
    printed = {line.split(":")[0].strip(): line for line in out.splitlines() if line.startswith("  ")}
    assert set(printed) == {"a0", "c3"}  # --query is lower-cased like the text
    assert [w.split()[0] for w in printed["a0"].split(": ")[1].split(", ")][:5] == \
        [w for w, _ in we.nearest_neighbours(vectors, words, "a0", k=5)]


def test_projector_files_agree(trained):
    import tensorflow as tf
    from google.protobuf import text_format
    from tensorboard.plugins import projector

    run_dir, metrics, _ = trained
    config = text_format.Parse((run_dir / "projector_config.pbtxt").read_text(), projector.ProjectorConfig())
    assert len(config.embeddings) == 1
    embedding = config.embeddings[0]
    assert embedding.tensor_name == "embedding/.ATTRIBUTES/VARIABLE_VALUE"
    metadata = (run_dir / embedding.metadata_path).read_text(encoding="utf-8").splitlines()
    vectors = np.loadtxt(run_dir / "vectors.tsv", delimiter="\t")
    assert len(metadata) == len(vectors) == metrics["vocab_size"] and vectors.shape[1] == 16
    reader = tf.train.load_checkpoint(str(run_dir))  # the latest checkpoint in the folder, as TensorBoard finds it
    assert reader.get_variable_to_shape_map()[embedding.tensor_name] == [metrics["vocab_size"], 16]
    np.testing.assert_allclose(reader.get_tensor(embedding.tensor_name), vectors, atol=1e-4)


def test_tensorboard_curves(trained):
    from common import tb

    run_dir, _, _ = trained
    scalars = tb.read_scalars(run_dir)
    loss = [v for _, v in scalars["train/epoch_loss"]]
    auc = [v for _, v in scalars["validation/epoch_auc"]]
    assert len(loss) == len(auc) == 4 and loss[-1] < loss[0] and auc[-1] > 0.8
    assert (run_dir / "word_embedding.png").stat().st_size > 0


def test_too_little_text_is_one_line(we, tmp_path):
    path = tmp_path / "short.txt"
    path.write_text("하나 둘 셋 넷 다섯 여섯\n일곱 여덟\n", encoding="utf-8")
    with pytest.raises(SystemExit) as error:
        we.main(["--text", str(path), "--log-dir", str(tmp_path / "run")])
    message = str(error.value)
    assert "\n" not in message and "--min-count" in message and "more text" in message
    assert not (tmp_path / "run").exists()  # stopped before the run folder was made


def test_unknown_query_word_stops_before_training(we, tmp_path):
    path = tmp_path / "groups.txt"
    path.write_text(grouped_text(paragraphs=40), encoding="utf-8")
    with pytest.raises(SystemExit) as error:
        we.main(["--text", str(path), "--log-dir", str(tmp_path / "run"), "--query", "zebra"])
    assert "zebra" in str(error.value) and "\n" not in str(error.value)
    assert not (tmp_path / "run").exists()
