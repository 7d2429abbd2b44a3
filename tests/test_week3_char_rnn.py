"""Week 3, char_rnn.py and char_rnn_sample.py: baselines, vocabulary, save/reload/sample, bad inputs."""

import json
import math

import numpy as np
import pytest

from tests import fakes
from tests.helpers import REPO, load_script


@pytest.fixture(scope="module")
def rnn():
    return load_script(REPO / "week3" / "char_rnn.py")


@pytest.fixture(scope="module")
def sampler():
    return load_script(REPO / "week3" / "char_rnn_sample.py")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, rnn):
    """A tiny model trained for a few epochs on a generated English text, through main() as a user runs it."""
    folder = tmp_path_factory.mktemp("char_rnn")
    text = folder / "play.txt"
    text.write_text(fakes.english_text(n_lines=300), encoding="utf-8")
    run = folder / "run"
    metrics = rnn.main(["--text", str(text), "--epochs", "4", "--learning-rate", "0.01", "--units", "32", "--layers", "2", "--seq-length", "40",
                        "--batch-size", "16", "--sample-length", "20", "--log-dir", str(run)])
    return run, metrics


def test_split_is_the_last_ten_percent(rnn):
    train, val = rnn.split_text("abcdefghij" * 10)
    assert len(train) == 90 and len(val) == 10 and train + val == "abcdefghij" * 10


def test_vocabulary_folds_rare_characters_into_the_unknown_token(rnn):
    chars = rnn.build_vocab("aabbbc한한", min_count=2)
    assert chars == [rnn.UNKNOWN, "a", "b", "한"]
    assert rnn.encode("a한cz", chars).tolist() == [1, 3, 0, 0]


def test_ngram_models_give_the_hand_computed_values(rnn):
    # training ids 1 2 1 2 1 2 (V = 3): n(1) = n(2) = 3, n(0) = 0; contexts 1,2,1,2,1 -> n(1) = 3, n(2) = 2
    model = rnn.NGramModel(np.array([1, 2, 1, 2, 1, 2]), vocab_size=3)
    uni = model.log_probs(np.array([1, 2, 0]), order=1)
    np.testing.assert_allclose(np.exp(uni), [4 / 9, 4 / 9, 1 / 9])  # add-one: (n + 1) / (6 + 3)
    # p2(2|1) = 0.5 * n(12)/n(1) + 0.5 * p1(2) = 0.5 * 3/3 + 0.5 * 4/9; p2(0|2) = 0.5 * 0 + 0.5 * 1/9
    bi = model.log_probs(np.array([1, 2, 0]), order=2, l2=0.5)
    np.testing.assert_allclose(np.exp(bi), [0.5 + 0.5 * 4 / 9, 0.5 / 9])
    # p3(1|12) = 0.5 * n(121)/n(12) + 0.5 * p2(1|2) with n(121) = 2, n(12) as a context = 2 (positions 0, 2)
    # and p2(1|2) = 0.5 * n(21)/n(2) + 0.5 * 4/9 = 0.5 * 2/2 + 0.5 * 4/9
    tri = model.log_probs(np.array([1, 2, 1]), order=3, l2=0.5, l3=0.5)
    np.testing.assert_allclose(np.exp(tri), [0.5 * 2 / 2 + 0.5 * (0.5 + 0.5 * 4 / 9)])
    # an unseen context falls back to the lower order: context (0, 0) never occurs
    np.testing.assert_allclose(model.log_probs(np.array([0, 0, 1]), 3, 0.5, 0.5), model.log_probs(np.array([0, 1]), 1)[1:])


def test_ngram_probabilities_sum_to_one(rnn):
    rng = np.random.default_rng(0)
    model = rnn.NGramModel(rng.integers(0, 5, size=300), vocab_size=6)
    for context in ([1, 2], [5, 5], [0, 3]):
        candidates = np.array([context + [c] for c in range(6)])
        total = sum(math.exp(model.log_probs(row, 3, l2=0.7, l3=0.8)[0]) for row in candidates)
        assert total == pytest.approx(1.0)


def test_baselines_order_on_structured_text(rnn):
    ids = rnn.encode(fakes.english_text(n_lines=600), rnn.build_vocab(fakes.english_text(n_lines=600)))
    bits, lambdas = rnn.ngram_baselines(ids[:-2000], ids[-2000:], int(ids.max()) + 1)
    assert bits["trigram"] < bits["bigram"] < bits["unigram"] < math.log2(ids.max() + 1)
    assert set(lambdas) == {"bigram_lambda", "trigram_lambda"}


def test_train_save_reload_and_sample(trained, sampler, tmp_path, capsys):
    run, metrics = trained
    assert (run / "model.keras").exists() and json.loads((run / "vocab.json").read_text())["script"] == "char_rnn"
    assert metrics["val_bits_per_char"] == pytest.approx(metrics["val_nats_per_char"] / math.log(2))
    assert metrics["val_bits_per_char"] < metrics["unigram_bits_per_char"]  # a few epochs beat counting letters
    out = sampler.main(["--model", str(run), "--prime", "The king", "--length", "30", "--temperature", "0.5",
                        "--top-k", "3", "--log-dir", str(tmp_path / "sample")])
    sample = (tmp_path / "sample" / "sample.txt").read_text(encoding="utf-8")
    body = sample.split("\n\n", 1)[1]
    assert body.startswith("The king") and len(body.rstrip("\n")) == len("The king") + 30
    assert out["chars_per_second"] > 0 and "characters per second" in capsys.readouterr().out


def test_incremental_sampling_matches_the_full_sequence(trained, sampler):
    run, _ = trained
    model, vocab = sampler.load_model_dir(run)
    step = sampler.build_step_model(model)
    ids = sampler.encode("The king sees a rose.", vocab["chars"])
    full = model(ids[None], training=False)[0, -1].numpy()  # the whole prefix at once
    logits, *states = step([ids[:5][None], *sampler.zero_states(step)])  # a prime, then one character a step
    for i in ids[5:]:
        logits, *states = step([np.array([[i]], dtype="int32"), *[s.numpy() for s in states]])
    np.testing.assert_allclose(logits[0].numpy(), full, rtol=1e-4, atol=1e-5)


def test_sampling_respects_top_k_temperature_and_never_writes_unknown(sampler):
    rng = np.random.default_rng(0)
    logits = np.array([5.0, 2.0, 1.9, 0.0, -1.0])
    picks = [sampler.sample_next(logits, rng, temperature=1.0, top_k=2) for _ in range(300)]
    assert set(picks) == {1, 2}  # id 0 (unknown) is banned; top-2 of the rest
    cold = [sampler.sample_next(logits, rng, temperature=0.01) for _ in range(50)]  # 0.1 apart -> e^10 : 1
    assert set(cold) == {1}


def test_unknown_prime_characters_warn_and_do_not_crash(trained, sampler, tmp_path, capsys):
    run, _ = trained
    sampler.main(["--model", str(run), "--prime", "한글 The", "--length", "5", "--log-dir", str(tmp_path / "s")])
    out = capsys.readouterr().out
    assert "warning: the model never saw" in out and "한" in out


def test_korean_model_samples_carry_the_attribution(rnn, sampler, tmp_path):
    text = tmp_path / "novels.txt"
    text.write_text(fakes.korean_text(n_sentences=300), encoding="utf-8")
    run = tmp_path / "run"
    rnn.main(["--text", str(text), "--epochs", "1", "--units", "16", "--layers", "1", "--seq-length", "20",
              "--batch-size", "8", "--sample-length", "0", "--log-dir", str(run)])
    vocab = json.loads((run / "vocab.json").read_text(encoding="utf-8"))
    vocab["corpus"] = "korean_novels"  # as if trained with --corpus korean_novels
    (run / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    sampler.main(["--model", str(run), "--prime", "그는", "--length", "10", "--log-dir", str(tmp_path / "s")])
    sample = (tmp_path / "s" / "sample.txt").read_text(encoding="utf-8")
    assert "KoCoNovel" in sample and "CC BY-SA 4.0" in sample


@pytest.mark.parametrize("content, message", [
    ("한국어 소설의 첫 문장입니다.".encode("cp949"), "iconv -f CP949 -t UTF-8"),
    (b"", "is empty"),
    ("abc def\n".encode(), "is too short"),
])
def test_bad_text_files_stop_with_one_line(rnn, tmp_path, content, message):
    from common import data

    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(data.DataError) as err:
        rnn.main(["--text", str(path), "--log-dir", str(tmp_path / "run")])
    assert message in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "run").exists()  # a user error leaves no run folder


def test_not_utf8_names_the_byte_offset(tmp_path):
    from common import data

    path = tmp_path / "latin1.txt"
    path.write_bytes("plain start, then caf\xe9".encode("latin-1"))
    with pytest.raises(data.DataError, match=r"byte 21 \(0xe9\)"):
        data.read_text(path)


def test_wrong_model_folders_stop_with_one_line(sampler, trained, tmp_path):
    from common import data

    other = tmp_path / "mnist_run"
    other.mkdir()
    (other / "metrics.json").write_text("{}")
    with pytest.raises(data.DataError, match="has no vocab.json"):
        sampler.load_model_dir(other)
    (other / "vocab.json").write_text('{"classes": [1, 2]}')
    (other / "model.keras").write_text("")
    with pytest.raises(data.DataError, match="is not a char_rnn.py vocabulary"):
        sampler.load_model_dir(other)
    with pytest.raises(data.DataError, match="is not a folder"):
        sampler.load_model_dir(tmp_path / "missing")


def test_model_and_step_model_work_under_mixed_precision(rnn, sampler):
    """On a GPU runtime.setup turns on mixed_float16: the logits stay float32 and sampling still works."""
    import keras

    keras.mixed_precision.set_global_policy("mixed_float16")  # conftest puts float32 back after the test
    model = rnn.build_model(vocab_size=12, n_layers=2, units=8, embedding_dim=4)
    assert model.output.dtype == "float32"
    chars = [sampler.UNKNOWN] + list("abcdefghijk")
    text, speed = sampler.generate(sampler.build_step_model(model), chars, "abc", 10, seed=1)
    assert text.startswith("abc") and len(text) == 13 and sampler.UNKNOWN not in text
