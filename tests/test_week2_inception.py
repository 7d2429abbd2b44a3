"""Week 2 Inception v3 retraining and prediction, offline: --weights none, 75x75 photos, generated folders.

InceptionV3 has 22M weights even at 75x75, so the module trains once (first_run: stage 1, then one
epoch of fine-tuning) and the other tests reuse that run folder, its bottleneck cache and its model.
"""

import contextlib
import io
import json
import re
from pathlib import Path

import keras
import numpy as np
import pytest

from common import data, smoke, tb
from tests.helpers import load_script, offline_data

REPO = Path(__file__).resolve().parents[1]
CLASSES = ["blue_triangle", "green_square", "red_circle"]  # the class folders, sorted
PER_CLASS = 20
N = len(CLASSES) * PER_CLASS
N_VAL, N_TEST = len(CLASSES) * round(0.2 * PER_CLASS), len(CLASSES) * round(0.1 * PER_CLASS)  # stratified
FAST = ["--weights", "none", "--image-size", "75"]


def load_week2(name):
    return load_script(REPO / "week2" / f"{name}.py")


@pytest.fixture(scope="module")
def retrain():
    return load_week2("inception_v3_retrain")


@pytest.fixture(scope="module")
def predict():
    return load_week2("inception_v3_predict")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A course cache of this module's own (bottlenecks land here); any dataset download fails the test."""
    with offline_data(tmp_path_factory.mktemp("cache")) as folder:
        yield folder


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """3 classes x 20 coloured shapes, plus one file in red_circle/ that is not an image."""
    folder = smoke.write_shape_images(tmp_path_factory.mktemp("photos"), per_class=PER_CLASS)
    (folder / "red_circle" / "broken.jpg").write_bytes(b"this is not a JPEG")
    return folder


def run(module, argv):
    """main(argv) with stdout and stderr captured; returns (metrics, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        metrics = module.main(argv)
    return metrics, out.getvalue(), err.getvalue()


def record_predict_calls(mp):
    """Records (model name, number of inputs) for every keras.Model.predict call."""
    calls = []
    original = keras.Model.predict

    def recording(self, x, *args, **kwargs):
        calls.append((self.name, len(x)))
        return original(self, x, *args, **kwargs)

    mp.setattr(keras.Model, "predict", recording)
    return calls


@pytest.fixture(scope="module")
def first_run(retrain, cache, photos, tmp_path_factory):
    """Stage 1 for 3 epochs, then 1 epoch of fine-tuning the top block (mixed10), on an empty bottleneck cache.

    Records every weight of the model just before and just after fine-tuning, and the predict calls.
    """
    run_dir = tmp_path_factory.mktemp("run1")
    weights = {}

    def recording_fine_tune(model, *args, **kwargs):
        weights["model"] = model
        weights["trainable"] = {id(w) for w in model.trainable_weights}
        weights["before"] = [w.numpy().copy() for w in model.weights]
        history = fine_tune(model, *args, **kwargs)
        weights["after"] = [w.numpy().copy() for w in model.weights]
        return history

    fine_tune = retrain.fine_tune
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(retrain, "fine_tune", recording_fine_tune)
        predict_calls = record_predict_calls(mp)
        metrics, out, err = run(retrain, ["--image-dir", str(photos), *FAST, "--epochs", "3", "--fine-tune-epochs", "1",
                                          "--unfreeze-after", "mixed9", "--log-dir", str(run_dir)])
    return {"dir": run_dir, "metrics": metrics, "out": out, "err": err, "weights": weights,
            "predict_calls": predict_calls}


def test_retrain_exports_model_labels_and_logs(first_run):
    run_dir, metrics, out = first_run["dir"], first_run["metrics"], first_run["out"]
    assert (run_dir / "model.keras").stat().st_size > 1_000_000  # the Inception base travels with it
    assert (run_dir / "labels.txt").read_text().splitlines() == CLASSES
    assert json.loads((run_dir / "metrics.json").read_text()) == metrics
    assert metrics["bottlenecks_computed"] == N and metrics["bottlenecks_cached"] == 0
    assert metrics["num_images"] == N and metrics["skipped_files"] == 1
    assert (metrics["num_val"], metrics["num_test"]) == (N_VAL, N_TEST)
    assert metrics["num_train"] + N_VAL + N_TEST == N
    # random-weight features still tell the colours apart; chance is 1/3
    assert metrics["stage1_val_accuracy"] >= 0.6 and metrics["val_accuracy"] >= 0.6, metrics
    assert metrics["test_accuracy"] >= 0.5, metrics
    assert metrics["images_per_second"] > 0
    assert f"0 reused, {N} computed" in out
    scalars = tb.read_scalars(run_dir)
    for tag in ("train/epoch_accuracy", "validation/epoch_accuracy"):
        assert [step for step, _ in scalars[tag]] == [0, 1, 2, 3], tag  # 3 epochs of stage 1, 1 of stage 2
    values = [v for _, v in scalars["train/epoch_loss"]]
    assert values[-1] < values[0], values
    for name in ("training.png", "predictions.png"):
        assert (run_dir / name).stat().st_size > 0


def test_test_set_is_predicted_once_at_the_end(first_run):
    metrics = first_run["metrics"]
    calls = [call for call in first_run["predict_calls"] if call[0] != "inception_v3_features"]
    assert calls == [("inception_v3_retrained", metrics["num_test"])]  # after fine-tuning: the full model, once


def test_fine_tuning_keeps_batch_norm_statistics_and_frozen_layers(first_run):
    weights = first_run["weights"]
    model, before, after = weights["model"], weights["before"], weights["after"]
    base = model.get_layer("inception_v3_features").get_layer("inception_v3")
    names = [layer.name for layer in base.layers]
    unfrozen = base.layers[names.index("mixed9") + 1:]
    index = {id(w): i for i, w in enumerate(model.weights)}
    bn_stats = [index[id(w)] for layer in unfrozen if isinstance(layer, keras.layers.BatchNormalization)
                for w in (layer.moving_mean, layer.moving_variance)]
    assert bn_stats, "no batch normalization in the unfrozen block"
    for i in bn_stats:
        np.testing.assert_array_equal(after[i], before[i], err_msg=model.weights[i].path)
    trainable = [i for i, w in enumerate(model.weights) if id(w) in weights["trainable"]]
    kernels = [index[id(layer.kernel)] for layer in unfrozen if isinstance(layer, keras.layers.Conv2D)]
    assert kernels and set(kernels) <= set(trainable)  # the top block's convolutions train
    for i, w in enumerate(model.weights):
        if i not in trainable:
            np.testing.assert_array_equal(after[i], before[i], err_msg=w.path)
    changed = [i for i in trainable if not np.array_equal(after[i], before[i])]
    assert set(kernels) <= set(changed)  # ...and fine-tuning did move them


def test_corrupt_file_is_skipped_with_a_warning_naming_it(first_run):
    assert re.search(r"warning: skipping \S*red_circle/broken\.jpg: not a readable image", first_run["err"]), \
        first_run["err"][-2000:]


def test_second_run_reuses_every_bottleneck(first_run, retrain, photos, tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the second run ran the feature extractor")

    monkeypatch.setattr(retrain, "extract_features", no_network)
    calls = record_predict_calls(monkeypatch)
    metrics, out, err = run(retrain, ["--image-dir", str(photos), *FAST, "--epochs", "2",
                                      "--log-dir", str(tmp_path / "run2")])
    assert metrics["bottlenecks_computed"] == 0 and metrics["bottlenecks_cached"] == N
    assert metrics["images_per_second"] is None
    assert f"{N} reused, 0 computed" in out
    assert "broken.jpg" in err  # still not an image, still named
    assert calls == [("classifier", N_TEST)]  # without fine-tuning: the new layer on the test bottlenecks, once
    assert (tmp_path / "run2" / "model.keras").exists()


def test_bad_image_folders_give_one_line_errors(retrain, cache, tmp_path):
    empty = smoke.write_shape_images(tmp_path / "empty_class", per_class=2)
    for image in (empty / "green_square").iterdir():
        image.unlink()
    with pytest.raises(data.DataError, match=r"class folder \S*green_square has no images"):
        retrain.main(["--image-dir", str(empty), *FAST, "--log-dir", str(tmp_path / "r1")])
    assert not (tmp_path / "r1").exists()  # stopped before the run folder was made

    one = tmp_path / "one_class"
    (one / "cats").mkdir(parents=True)
    (one / "cats" / "a.jpg").write_bytes(b"")
    with pytest.raises(data.DataError, match="has 1 class sub-folder.*at least two"):
        retrain.main(["--image-dir", str(one), *FAST, "--log-dir", str(tmp_path / "r2")])

    with pytest.raises(data.DataError, match="does not exist"):
        retrain.main(["--image-dir", str(tmp_path / "nowhere"), *FAST, "--log-dir", str(tmp_path / "r3")])


def test_class_folder_of_unreadable_files_stops_like_an_empty_one(retrain, cache, tmp_path, capsys):
    folder = smoke.write_shape_images(tmp_path / "photos", per_class=2)
    for image in (folder / "green_square").iterdir():
        image.unlink()
    (folder / "green_square" / "empty.jpg").write_bytes(b"")
    (folder / "green_square" / "report.jpg").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n")
    with pytest.raises(data.DataError) as unreadable:
        retrain.main(["--image-dir", str(folder), *FAST, "--log-dir", str(tmp_path / "run")])
    assert not (tmp_path / "run").exists()  # no model.keras with a class it never saw
    err = capsys.readouterr().err
    assert "green_square/empty.jpg: not a readable image" in err and "green_square/report.jpg" in err

    for image in (folder / "green_square").iterdir():
        image.unlink()
    with pytest.raises(data.DataError) as empty:
        retrain.main(["--image-dir", str(folder), *FAST, "--log-dir", str(tmp_path / "run")])
    assert str(unreadable.value) == str(empty.value)
    assert re.search(r"class folder \S*green_square has no images", str(empty.value))


def test_flag_errors_stop_before_any_work(retrain, tmp_path, capsys):
    for argv, message in (
        (["--image-size", "64"], "at least 75"),
        (["--unfreeze-after", "conv2d"], "invalid choice"),
        (["--fine-tune-epochs", "-1"], "is negative"),
        (["--validation-fraction", "0.6", "--test-fraction", "0.5"], "leave some photos for training"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            retrain.main([*argv, "--log-dir", str(tmp_path / "r")])
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err
        assert not (tmp_path / "r").exists()


def test_split_is_stratified_and_disjoint(retrain):
    labels = np.repeat([0, 1, 2], [20, 10, 2])
    train, val, test = retrain.split(labels, validation_fraction=0.2, test_fraction=0.1, seed=0)
    assert sorted([*train, *val, *test]) == list(range(len(labels)))
    assert [int(np.sum(labels[val] == k)) for k in range(3)] == [4, 2, 0]
    assert [int(np.sum(labels[test] == k)) for k in range(3)] == [2, 1, 0]  # class 2: too few, all in training
    again = retrain.split(labels, validation_fraction=0.2, test_fraction=0.1, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(again, (train, val, test)))


def test_predict_prints_top_k_labels_with_probabilities(first_run, predict, photos, tmp_path):
    images = [photos / "red_circle" / "000.jpg", photos / "blue_triangle" / "001.jpg"]
    metrics, out, _ = run(predict, [*map(str, images), "--model", str(first_run["dir"] / "model.keras"),
                                    "--top-k", "2", "--log-dir", str(tmp_path / "p")])
    lines = out.splitlines()
    for image in images:
        i = lines.index(str(image))
        rows = [re.fullmatch(r"  (\d\.\d{3})  (\S+)", line) for line in lines[i + 1:i + 3]]
        assert all(rows), lines[i:i + 3]
        probs = [float(r[1]) for r in rows]
        assert probs == sorted(probs, reverse=True) and sum(probs) <= 1.001
        assert {r[2] for r in rows} <= set(CLASSES)
    assert metrics["num_images"] == 2 and metrics["top_k"] == 2
    assert (tmp_path / "p" / "predictions.png").stat().st_size > 0


def test_predict_has_no_training_flags(predict):
    help_text = predict.PARSER.format_help()
    for flag in ("--epochs", "--batch-size", "--learning-rate"):
        assert flag not in help_text
    assert "--top-k" in help_text and "--model" in help_text


def test_predict_errors_name_the_file(first_run, predict, photos, tmp_path):
    model = str(first_run["dir"] / "model.keras")
    image = str(photos / "green_square" / "000.jpg")
    cases = [
        ([str(tmp_path / "missing.jpg"), "--model", model], r"missing\.jpg does not exist"),
        ([str(photos / "red_circle" / "broken.jpg"), "--model", model], r"broken\.jpg is not a readable image"),
        ([image, "--model", str(tmp_path / "no_model.keras")], r"no_model\.keras does not exist"),
        ([image, "--model", str(first_run["dir"] / "labels.txt")], r"labels\.txt is not a Keras model file"),
    ]
    for argv, message in cases:
        with pytest.raises(data.DataError, match=message):
            predict.main([*argv, "--log-dir", str(tmp_path / "p")])
        assert not (tmp_path / "p").exists()


def test_default_dataset_is_tf_flowers(retrain, cache, tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=15):  # random photos, no download
        metrics, out, _ = run(retrain, [*FAST, "--epochs", "1", "--log-dir", str(tmp_path / "flowers")])
    assert (tmp_path / "flowers" / "labels.txt").read_text().split() == [
        "dandelion", "daisy", "tulips", "sunflowers", "roses"]
    assert metrics["num_images"] == 15 and metrics["num_classes"] == 5
    assert metrics["bottlenecks_computed"] == 15 and metrics["bottlenecks_cached"] == 0  # new photos: all computed
    assert metrics["num_train"] + metrics["num_val"] + metrics["num_test"] == 15
    assert "from tf_flowers" in out


def test_tf_flowers_download_failure_suggests_image_dir(retrain, cache, tmp_path, monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")

    def offline(*args, **kwargs):
        raise ConnectionError("Failed to establish a new connection")

    monkeypatch.setattr(tfds, "load", offline)
    with pytest.raises(data.DataError, match=r"could not download tf_flowers .*--image-dir DIR"):
        retrain.main([*FAST, "--log-dir", str(tmp_path / "r")])
