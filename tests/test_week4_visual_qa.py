"""Week 4, visual_qa.py: splits, datasets, the two models, evaluation per type, save/reload, bad inputs."""

import json

import keras
import numpy as np
import pytest

from common import scenes
from tests.helpers import REPO, load_script


@pytest.fixture(scope="module")
def vqa():
    return load_script(REPO / "week4" / "visual_qa.py")


@pytest.fixture(scope="module")
def splits(vqa):
    return vqa.load_data(seed=3, smoke=True)


EVALUATIONS = []  # the run fixture's evaluate() calls: (model name, split, blind)


@pytest.fixture(scope="module")
def run(vqa, tmp_path_factory):
    """A --smoke run through main(), as a user runs it: a few training steps of both models on tiny data.
    Records every evaluate() call as (model name, split, blind) in EVALUATIONS."""
    folder = tmp_path_factory.mktemp("visual_qa") / "run"
    real = vqa.evaluate
    EVALUATIONS.clear()

    def counted(model, split, *args, **kwargs):
        EVALUATIONS.append((model.name, id(split), kwargs.get("blind", False)))
        return real(model, split, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(vqa, "evaluate", counted)
        metrics = vqa.main(["--smoke", "--units", "32", "--log-dir", str(folder)])
    return folder, metrics


def test_splits_have_the_asked_sizes_and_new_validation_scenes(vqa, splits):
    sizes = vqa.SMOKE_SCENES
    for name in ("train", "val", "test", "compositional"):
        split = splits[name]
        assert len(split["images"]) == sizes[name] and split["images"].shape[1:] == (64, 64, 3)
        assert len(split["questions"]) == 5 * sizes[name]  # --questions-per-scene 5
        assert np.array_equal(np.bincount(split["scene_ids"]), np.full(sizes[name], 5))
    train_images = {s.tobytes() for s in splits["train"]["images"]}
    assert not any(s.tobytes() in train_images for s in splits["val"]["images"])
    held_out = [f"{c} {s}" for c, s in scenes.HELD_OUT]
    assert not any(h in q for q in splits["train"]["questions"] for h in held_out)


def test_dataset_pairs_each_question_with_its_scene(vqa, splits):
    split = splits["test"]
    labels = vqa.answer_labels(split["answers"], list(scenes.ANSWERS))
    assert [scenes.ANSWERS[i] for i in labels] == list(split["answers"])
    inputs, batch_labels = next(iter(vqa.make_dataset(split, labels, batch_size=7)))
    assert inputs["image"].shape == (7, 64, 64, 3) and inputs["question"].shape == (7,)
    for i in range(7):
        assert np.array_equal(inputs["image"][i].numpy(), split["images"][split["scene_ids"][i]])
        assert inputs["question"][i].numpy().decode() == split["questions"][i]
    blind_inputs, _ = next(iter(vqa.make_dataset(split, labels, batch_size=7, blind=True)))
    assert set(blind_inputs) == {"question"}  # the question-only model never receives the picture


def test_unknown_words_get_the_unknown_token_and_an_answer(vqa, splits):
    vectorizer = vqa.make_vectorizer(splits["train"]["questions"])
    vocabulary = vectorizer.get_vocabulary()
    assert vocabulary[:2] == ["", "[UNK]"] and "circle" in vocabulary
    ids = vectorizer(["What color is the zebra?"]).numpy()[0]
    assert list(ids[:5]) == [vocabulary.index(w) for w in ("what", "color", "is", "the")] + [1]
    assert not ids[5:].any()  # padded with 0
    model = vqa.build_model(vectorizer, 64, len(scenes.ANSWERS), units=16)
    blind = vqa.build_blind_model(vectorizer, len(scenes.ANSWERS), units=16)
    image = splits["test"]["images"][0]
    assert vqa.answer(model, scenes.ANSWERS, "what color is the zebra?", image) in scenes.ANSWERS
    assert vqa.answer(blind, scenes.ANSWERS, "how many unicorns are there?") in scenes.ANSWERS


def test_blind_model_gets_only_the_question(vqa, splits):
    vectorizer = vqa.make_vectorizer(splits["train"]["questions"])
    blind = vqa.build_blind_model(vectorizer, len(scenes.ANSWERS), units=16)
    assert [t.name for t in blind.inputs] == ["question"]
    assert not [layer for layer in blind.layers if isinstance(layer, keras.layers.Conv2D)]
    model = vqa.build_model(vectorizer, 64, len(scenes.ANSWERS), units=16, fusion="concat")
    assert sorted(t.name for t in model.inputs) == ["image", "question"]
    assert model.get_layer("fusion").output.shape == (None, 32)  # concatenation: 16 + 16


def test_attention_weights_are_a_distribution_over_the_grid(vqa, splits):
    vectorizer = vqa.make_vectorizer(splits["train"]["questions"])
    model = vqa.build_model(vectorizer, 64, len(scenes.ANSWERS), units=16, glimpses=2)
    maps = vqa.attention_maps(model, splits["test"], [0, 3, 7])
    assert maps.shape == (3, 2, 8, 8)  # 64x64 scenes -> an 8x8 grid, two glimpses
    np.testing.assert_allclose(maps.sum(axis=(2, 3)), 1.0, rtol=1e-5)
    # each glimpse listens to the question's real words only: weights over the words sum to 1, none on padding
    probe = keras.Model(model.inputs, [model.get_layer(f"attention{i}_words").output for i in (1, 2)])
    question = "is the red circle left of the blue square?"
    inputs = {"image": splits["test"]["images"][:1], "question": np.array([question])}
    for weights in probe(inputs):
        weights = np.asarray(weights)[0, :, 0]
        n = len(question.split())
        np.testing.assert_allclose(weights[:n].sum(), 1.0, rtol=1e-5)
        assert not weights[n:].any() and (weights[:n] > 0).all()
    plain = vqa.build_model(vectorizer, 64, len(scenes.ANSWERS), units=16, glimpses=0)
    assert vqa.attention_maps(plain, splits["test"], [0]) is None  # --glimpses 0: the plain fused model


def test_coordinates_give_each_cell_its_position_and_survive_saving(vqa, splits, tmp_path):
    cells = np.zeros((2, 8, 8, 3), "float32")
    out = np.asarray(vqa.AddCoordinates()(cells))
    assert out.shape == (2, 8, 8, 5) and not out[..., :3].any()
    assert out[0, 0, 0, 3:].tolist() == [-1, -1] and out[1, 7, 0, 3:].tolist() == [-1, 1]  # (x, y) of the cell
    assert out[0, 2, 7, 3] == 1 and out[0, 7, 2, 4] == 1
    vectorizer = vqa.make_vectorizer(splits["train"]["questions"])
    model = vqa.build_model(vectorizer, 64, len(scenes.ANSWERS), units=16, coordinates=True)
    assert model.get_layer("attention1_gate").output.shape == (None, 66)  # 64 features + x + y
    labels = vqa.answer_labels(splits["train"]["answers"], list(scenes.ANSWERS))
    model.fit(vqa.make_dataset(splits["train"], labels, batch_size=32), epochs=1, verbose=0)
    model.save(tmp_path / "model.keras")
    reloaded = keras.models.load_model(tmp_path / "model.keras")
    import tensorflow as tf

    inputs = {"image": splits["test"]["images"][:2], "question": tf.constant(["what color is the circle?"] * 2)}
    np.testing.assert_allclose(reloaded.predict(inputs, verbose=0), model.predict(inputs, verbose=0), atol=1e-6)


class FixedAnswers:
    """A stand-in model whose predict() returns given probabilities."""

    def __init__(self, probabilities):
        self.probabilities = probabilities

    def predict(self, dataset, verbose=0):
        return self.probabilities


def test_evaluate_scores_each_question_type(vqa):
    split = {
        "images": np.zeros((2, 64, 64, 3), np.uint8), "scene_ids": np.array([0, 0, 1, 1], np.int32),
        "questions": np.array(["how many circles are there?", "is there a red circle?", "what color is the circle?",
                               "is there a blue square?"]),
        "answers": np.array(["two", "yes", "red", "no"]), "types": np.array(["count", "exists", "color", "exists"]),
    }
    said = ["two", "no", "red", "no"]
    probabilities = np.eye(len(scenes.ANSWERS))[[scenes.ANSWERS.index(a) for a in said]]
    predicted, accuracy = vqa.evaluate(FixedAnswers(probabilities), split, scenes.ANSWERS)
    assert list(predicted) == said
    assert accuracy["accuracy"] == 0.75 and accuracy["accuracy_exists"] == 0.5
    assert accuracy["accuracy_count"] == accuracy["accuracy_color"] == 1.0
    assert np.isnan(accuracy["accuracy_relation"])  # no relation questions: not a number, not 0


def test_smoke_run_trains_and_saves_a_model_that_reloads(run, vqa):
    folder, metrics = run
    from common import tb

    scalars = tb.read_scalars(folder)
    for tag in ("train/epoch_loss", "blind/train/epoch_loss", "validation/epoch_accuracy", "test/accuracy",
                "blind/test/accuracy", "test/compositional_accuracy"):
        assert tag in scalars, sorted(scalars)
    for tag in ("train/epoch_loss", "blind/train/epoch_loss"):
        losses = [v for _, v in scalars[tag]]
        assert losses[-1] < losses[0]
    answers = json.loads((folder / "answers.json").read_text())["answers"]
    assert answers == list(scenes.ANSWERS)
    # the reloaded model answers the run's test questions (seed 42, the same scenes) exactly as the trained one did
    reloaded = keras.models.load_model(folder / "model.keras")
    test_split = vqa.load_data(seed=42, smoke=True)["test"]
    _, accuracy = vqa.evaluate(reloaded, test_split, answers)
    assert accuracy["accuracy"] == pytest.approx(metrics["test_accuracy"])
    assert vqa.answer(reloaded, answers, "what color is the zebra?", test_split["images"][0]) in scenes.ANSWERS
    assert (folder / "examples.png").stat().st_size > 0 and (folder / "accuracy_by_type.png").stat().st_size > 0
    assert {f"test_accuracy_{t}" for t in scenes.QUESTION_TYPES} <= set(metrics)


@pytest.mark.parametrize("flags_, message", [
    (["--val-scenes", "100", "--train-scenes", "100"], "--val-scenes must be"),
    (["--image-size", "16"], "too small"),
    (["--questions-per-scene", "0"], "at least 1"),
    (["--glimpses", "-1"], "--glimpses must be"),
])
def test_bad_sizes_stop_before_the_run_starts(vqa, tmp_path, flags_, message):
    from common import data

    with pytest.raises(data.DataError, match=message):
        vqa.main([*flags_, "--log-dir", str(tmp_path / "run")])
    assert not (tmp_path / "run").exists()  # no half-made run folder


def test_each_model_evaluates_each_test_split_once(run):
    """The course's rule: choose on validation, touch each test set once per model, at the end."""
    calls = EVALUATIONS
    assert len(calls) == 4 and len(set(calls)) == 4  # (VQA, blind) x (test, compositional), no repeats
    assert sorted(blind for _, _, blind in calls) == [False, False, True, True]


# --- COCO-QA (--data-dir): the real-photo layout, on a tiny fake -------------------------------------------------

def test_cocoqa_loader_reads_the_layout_and_skips_missing_photos(tmp_path, capsys):
    from common import data
    from tests import fakes

    folder = fakes.write_cocoqa(tmp_path / "cocoqa", n_train=10, n_test=4, missing=2)
    splits = data.load_cocoqa(folder, 32)
    train, test = splits["train"], splits["test"]
    assert train["images"].shape == (8, 32, 32, 3) and test["images"].shape == (4, 32, 32, 3)
    assert len(train["questions"]) == 8 * 4 and len(test["questions"]) == 4 * 4  # 4 types per photo
    assert "skipping 8 of 40 train questions" in capsys.readouterr().err
    assert set(train["types"]) == set(data.COCOQA_TYPES)
    colour = train["answers"][train["types"] == "color"]  # each colour question about the photo of that colour
    photos = train["images"][train["scene_ids"][train["types"] == "color"]].reshape(len(colour), -1, 3).mean(axis=1)
    for answer, mean in zip(colour, photos):
        assert np.abs(mean - fakes.FLICKR_COLOURS[answer]).max() < 25


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f / "test" / "types.txt").unlink(), "lacks test/types.txt"),
    (lambda f: (f / "train" / "answers.txt").write_text("red\n"), "one line per question"),
    (lambda f: (f / "train" / "types.txt").write_text("7\n" * 40), "0-3 in types.txt"),
    (lambda f: [p.unlink() for p in (f / "val2014").iterdir()], "none of the 16 test questions"),
    (lambda f: [p.unlink() for d in ("train2014", "val2014") for p in (f / d).iterdir()], "has no photos"),
])
def test_cocoqa_bad_copies_stop_with_one_line(vqa, tmp_path, damage, message):
    from common import data
    from tests import fakes

    folder = fakes.write_cocoqa(tmp_path / "cocoqa", n_train=10, n_test=4)
    damage(folder)
    with pytest.raises(data.DataError, match=message) as stop:
        vqa.main(["--data-dir", str(folder), "--smoke", "--log-dir", str(tmp_path / "run")])
    assert "\n" not in str(stop.value)
    assert not (tmp_path / "run").exists()


def test_cocoqa_smoke_run_uses_the_photos_and_its_question_types(vqa, tmp_path):
    from common import data
    from tests import fakes

    folder = fakes.write_cocoqa(tmp_path / "cocoqa", n_train=40, n_test=12)
    metrics = vqa.main(["--data-dir", str(folder), "--smoke", "--units", "16", "--epochs", "3",
                        "--log-dir", str(tmp_path / "run")])
    # 39 photos (one missing), 80 smoke pictures asked for: all 39, a tenth (3) for validation
    assert metrics["train_questions"] == 36 * 4 and metrics["test_questions"] == 12 * 4
    assert {f"test_accuracy_{t}" for t in data.COCOQA_TYPES} <= set(metrics)
    assert "compositional_test_accuracy" not in metrics
    answers = json.loads((tmp_path / "run" / "answers.json").read_text())
    assert answers["dataset"] == "cocoqa" and "red" in answers["answers"] and "park" in answers["answers"]
    assert (tmp_path / "run" / "accuracy_by_type.png").stat().st_size > 0
