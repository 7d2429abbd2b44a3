"""Week 4, image_captioning.py and caption_image.py: captions as numbers, incremental decoding (greedy and beam),
BLEU, the baseline, save/reload, Flickr8k on a tiny fake, and bad inputs."""

import json

import numpy as np
import pytest

from common import data, scenes
from tests import fakes
from tests.helpers import REPO, load_script


@pytest.fixture(scope="module")
def cap():
    return load_script(REPO / "week4" / "image_captioning.py")


@pytest.fixture(scope="module")
def caption_image():
    return load_script(REPO / "week4" / "caption_image.py")


@pytest.fixture(scope="module")
def splits(cap):
    return cap.load_scenes(seed=3, smoke=True)


@pytest.fixture(scope="module")
def tiny(cap, splits):
    """A small untrained attention captioner: (vocabulary, training model, encoder, decoder step)."""
    vocabulary = cap.build_vocabulary(splits["train"]["captions"])
    model, encoder, step = cap.build_captioner(len(vocabulary), (64, 64, 3), units=16, embedding_dim=8,
                                               attention=True)
    return vocabulary, model, encoder, step


@pytest.fixture(scope="module")
def run(cap, tmp_path_factory):
    """A --smoke run with attention through main(), as a user runs it."""
    folder = tmp_path_factory.mktemp("image_captioning") / "run"
    metrics = cap.main(["--smoke", "--units", "32", "--log-dir", str(folder)])
    return folder, metrics


def test_captions_become_shifted_inputs_and_targets(cap):
    vocabulary = cap.build_vocabulary([["a red circle", "two red circles"], ["a red square"]])
    assert vocabulary[:4] == ["<pad>", "<unk>", "<start>", "<end>"]
    assert vocabulary[4:6] == ["red", "a"]  # most common first: red 3 times, a twice
    ids, inputs, targets = cap.encode_captions([["A red zebra!"], ["two red circles"]], vocabulary, max_words=6)
    assert list(ids) == [0, 1]
    w = {word: i for i, word in enumerate(vocabulary)}
    assert list(inputs[0]) == [w["<start>"], w["a"], w["red"], w["<unk>"], 0, 0]  # zebra was never seen
    assert list(targets[0]) == [w["a"], w["red"], w["<unk>"], w["<end>"], 0, 0]
    np.testing.assert_array_equal(inputs[:, 1:4], targets[:, :3])  # the target is the next input
    _, short_in, short_out = cap.encode_captions([["two red circles"]], vocabulary, max_words=3)
    assert list(short_out[0]) == [w["two"], w["red"], w["<end>"]]  # cut to fit, the end token kept


def test_dataset_pairs_each_caption_with_its_picture_and_masks_the_padding(cap, splits):
    vocabulary = cap.build_vocabulary(splits["train"]["captions"])
    ids, inputs, targets = cap.encode_captions(splits["test"]["captions"], vocabulary, 22)
    assert len(ids) == sum(len(c) for c in splits["test"]["captions"])
    x, y, weights = next(iter(cap.make_dataset(splits["test"]["images"], ids, inputs, targets, batch_size=5)))
    for i in range(5):
        assert np.array_equal(x["image"][i].numpy(), splits["test"]["images"][ids[i]])
    np.testing.assert_array_equal(weights.numpy(), (y.numpy() != 0).astype(np.float32))
    assert weights.numpy().sum(axis=1).min() >= 2  # at least one word and <end>


def test_beam_size_one_is_greedy_and_beams_are_valid_sequences(cap, splits, tiny):
    vocabulary, _, encoder, step = tiny
    pictures = splits["test"]["images"][:4]
    greedy, maps = cap.greedy_decode(encoder, step, pictures, max_words=7)
    beam1, scores1 = cap.beam_search(encoder, step, pictures, beam_size=1, max_words=7)
    np.testing.assert_array_equal(beam1[:, 0], greedy)
    assert maps.shape[0] == 4 and maps.shape[2] == 64
    np.testing.assert_allclose(maps.sum(axis=-1)[:, : maps.shape[1]], 1.0, rtol=1e-4)  # weights over the 8x8 cells
    ids, scores = cap.beam_search(encoder, step, pictures, beam_size=3, max_words=7)
    assert ids.shape == (4, 3, 7) and scores.shape == (4, 3)
    assert ((ids >= 0) & (ids < len(vocabulary))).all() and not (ids == vocabulary.index("<start>")).any()
    assert np.isfinite(scores).all() and (np.diff(scores, axis=1) <= 1e-9).all()  # best first
    assert all(len({tuple(row) for row in beams}) == 3 for beams in ids)  # three different captions per picture
    for row in ids.reshape(-1, 7):  # after <end>, only padding
        end = np.flatnonzero(row == vocabulary.index("<end>"))
        if len(end):
            assert not row[end[0] + 1:].any()


def test_beam_scores_are_the_teacher_forced_log_probabilities(cap, splits, tiny):
    """Incremental decoding (one word per step, state carried) gives the same numbers as the training model
    reading the whole caption at once: the beam's score is the sum of its words' log-probabilities."""
    vocabulary, model, encoder, step = tiny
    pictures = splits["test"]["images"][:2]
    ids, scores = cap.beam_search(encoder, step, pictures, beam_size=2, max_words=5)
    for n in range(2):
        for b in range(2):
            words = list(ids[n, b][ids[n, b] != 0])
            inputs = np.array([[vocabulary.index("<start>"), *words[:-1]]], np.int32)
            logits = model({"image": pictures[n:n + 1], "words": inputs}, training=False)
            logp = cap.log_softmax(np.asarray(logits)[0])
            assert logp[np.arange(len(words)), words].sum() == pytest.approx(scores[n, b], abs=1e-4)


def test_bleu_matches_nltks_documented_value_and_facts_are_checked(cap):
    # nltk.translate.bleu_score.corpus_bleu's docstring example: 0.5920778868801042
    hyp1 = ("It is a guide to action which ensures that the military always obeys the commands of the party").split()
    ref1a = "It is a guide to action that ensures that the military will forever heed Party commands"
    ref1b = "It is the guiding principle which guarantees the military forces always being under the command of the Party"
    ref1c = "It is the practical guide for the army always to heed the directions of the party"
    hyp2 = "he read the book because he was interested in world history".split()
    ref2a = "he was interested in world history because he read the book"
    score = cap.bleu([[w.lower() for w in hyp1], hyp2], [[ref1a, ref1b, ref1c], [ref2a]])[3]
    assert score == pytest.approx(0.5920778868801042, abs=1e-12)
    assert cap.bleu([["a", "red", "circle"]], [["a red circle"]])[:3] == [1.0, 1.0, 1.0]
    assert cap.bleu([["x", "y"]], [["a red circle"]]) == [0.0, 0.0, 0.0, 0.0]
    red_circle = scenes.Thing("red", "circle", "small", 10, 10, 5)
    blue_square = scenes.Thing("blue", "square", "small", 40, 10, 5)
    objects = [(red_circle, blue_square), (red_circle, red_circle)]
    said = [cap.words("a red circle above a blue square"), cap.words("a red circle")]
    assert cap.fact_accuracy(said, objects) == 0.5  # the second caption misses one circle


def test_nearest_neighbour_takes_the_closest_training_caption(cap):
    train = np.array([[1.0, 0.0], [0.0, 1.0]])
    captions = [["a red circle", "one shape: a red circle"], ["two blue squares"]]
    assert cap.nearest_neighbour_captions(train, captions, np.array([[0.1, 2.0], [3.0, 0.2]])) == [
        ["two", "blue", "squares"], ["a", "red", "circle"]]


def test_smoke_run_saves_a_model_that_reloads_and_captions(run, cap, caption_image, tmp_path, capsys):
    folder, metrics = run
    assert {"bleu1", "bleu2", "bleu3", "bleu4", "nn_bleu4", "fact_accuracy", "compositional_bleu4",
            "train_seconds"} <= set(metrics)
    assert (folder / "attention.png").stat().st_size > 0
    encoder, step, vocab = caption_image.load_model_dir(folder)
    assert vocab["words"][:4] == list(cap.SPECIAL) and vocab["attention"] is True
    # the reloaded models write the same captions as the run's own (seed 42's test scenes)
    test = cap.load_scenes(seed=42, smoke=True)["test"]
    ids, _ = cap.greedy_decode(encoder, step, test["images"], vocab["max_words"])
    beam, _ = cap.beam_search(encoder, step, test["images"], 3, vocab["max_words"])
    hypotheses = [cap.to_words(row[0], vocab["words"]) for row in beam]
    assert cap.bleu(hypotheses, test["captions"])[3] == pytest.approx(metrics["bleu4"], abs=1e-9)
    assert ids.shape == (len(test["images"]), vocab["max_words"])
    # caption_image.py on a PNG of a scene: greedy and the beam's captions, best first
    picture = tmp_path / "scene.png"
    from PIL import Image

    Image.fromarray(test["images"][0]).save(picture)
    result = caption_image.main([str(picture), "--model", str(folder), "--beam-size", "4",
                                 "--log-dir", str(tmp_path / "caption")])
    out = capsys.readouterr().out
    assert "greedy:" in out and "beam 1:" in out and "log-probability" in out
    saved = json.loads((tmp_path / "caption" / "captions.json").read_text())
    assert 1 <= len(saved["beam"]) <= 4 and saved["beam"][0]["caption"] == result["caption"]
    probabilities = [b["log_probability"] for b in saved["beam"]]
    assert probabilities == sorted(probabilities, reverse=True) and probabilities[0] <= 0


@pytest.mark.parametrize("case", ["missing image", "not an image", "no folder", "no vocabulary", "bad vocabulary"])
def test_caption_image_bad_inputs_stop_with_one_line(run, caption_image, tmp_path, case):
    folder, _ = run
    picture = tmp_path / "scene.png"
    from PIL import Image

    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(picture)
    model = tmp_path / "model"
    model.mkdir()
    for name in caption_image.MODEL_FILES:
        (model / name).write_bytes((folder / name).read_bytes())
    if case == "missing image":
        picture, expected = tmp_path / "nope.png", "does not exist"
    elif case == "not an image":
        picture.write_text("not a picture")
        expected = "is not a readable image"
    elif case == "no folder":
        model, expected = tmp_path / "missing", "is not a folder"
    elif case == "no vocabulary":
        (model / "vocabulary.json").unlink()
        expected = "has no vocabulary.json"
    else:
        (model / "vocabulary.json").write_text('{"words": 3}')
        expected = "is not an image_captioning.py vocabulary"
    with pytest.raises(data.DataError, match=expected) as error:
        caption_image.main([str(picture), "--model", str(model), "--log-dir", str(tmp_path / "out")])
    assert "\n" not in str(error.value)


def test_flickr8k_photos_through_a_backbone_with_cached_features(cap, offline_cache, tmp_path):
    photos = fakes.write_flickr8k(tmp_path / "flickr8k", n_train=10, n_val=4, n_test=4)
    argv = ["--smoke", "--dataset", "flickr8k", "--data-dir", str(photos), "--weights", "none", "--backbone",
            "mobilenet_v2", "--image-size", "32", "--units", "16", "--min-count", "1"]
    metrics = cap.main([*argv, "--log-dir", str(tmp_path / "run1")])
    assert {"bleu1", "bleu4", "nn_bleu4"} <= set(metrics) and "fact_accuracy" not in metrics
    stores = list((offline_cache / "caption_features").glob("*.npz"))
    assert len(stores) == 1
    with np.load(stores[0]) as store:
        assert store["features"].shape == (18, 1, 1, 1280)  # 18 photos, MobileNetV2's last map at 32x32 pixels
    vocabulary = json.loads((tmp_path / "run1" / "vocabulary.json").read_text())
    assert vocabulary["dataset"] == "flickr8k" and "dog" in vocabulary["words"]


@pytest.mark.parametrize("argv, message", [
    (["--beam-size", "0"], "--beam-size must be at least 1"),
    (["--val-scenes", "0"], "--val-scenes must be at least 1"),
    (["--image-size", "16"], "too small"),
    (["--data-dir", "photos"], "--data-dir is for --dataset flickr8k"),
])
def test_bad_flags_stop_with_one_line(cap, tmp_path, argv, message):
    with pytest.raises(data.DataError, match=message):
        cap.main([*argv, "--log-dir", str(tmp_path / "run")])
