"""Week 2 Inception v3 retraining and prediction, offline: --weights none, 75x75 photos, generated folders.

InceptionV3 has 22M weights even at 75x75, so the module trains once (first_run) and the other
tests reuse that run folder, its bottleneck cache and its exported model.
"""

import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from common import data, logs
from tests.helpers import load_script, offline_data

REPO = Path(__file__).resolve().parents[1]
CLASSES = ["blue_triangle", "green_square", "red_circle"]  # write_shape_images' class folders, sorted
PER_CLASS = 6
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
def photos(retrain, tmp_path_factory):
    """3 classes x 6 coloured shapes, plus one file in red_circle/ that is not an image."""
    folder = retrain.write_shape_images(tmp_path_factory.mktemp("photos"), per_class=PER_CLASS)
    (folder / "red_circle" / "broken.jpg").write_bytes(b"this is not a JPEG")
    return folder


def run(module, argv):
    """main(argv) with stdout and stderr captured; returns (metrics, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        metrics = module.main(argv)
    return metrics, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def first_run(retrain, cache, photos, tmp_path_factory):
    """Stage 1 for 3 epochs, then 1 epoch of fine-tuning the top block (mixed10), on an empty bottleneck cache."""
    run_dir = tmp_path_factory.mktemp("run1")
    metrics, out, err = run(retrain, ["--image-dir", str(photos), *FAST, "--epochs", "3", "--fine-tune-epochs", "1",
                                      "--unfreeze-after", "mixed9", "--log-dir", str(run_dir)])
    return run_dir, metrics, out, err


def test_retrain_exports_model_labels_and_logs(first_run):
    run_dir, metrics, out, _ = first_run
    assert (run_dir / "model.keras").stat().st_size > 1_000_000  # the Inception base travels with it
    assert (run_dir / "labels.txt").read_text().splitlines() == CLASSES
    assert json.loads((run_dir / "metrics.json").read_text()) == metrics
    n = len(CLASSES) * PER_CLASS
    assert metrics["bottlenecks_computed"] == n and metrics["bottlenecks_cached"] == 0
    assert metrics["num_images"] == n and metrics["skipped_files"] == 1
    assert metrics["num_val"] == len(CLASSES) * round(0.2 * PER_CLASS)  # stratified: 1 per class
    assert metrics["images_per_second"] > 0 and 0 <= metrics["val_accuracy"] <= 1
    assert f"0 reused, {n} computed" in out
    scalars = logs.read_scalars(run_dir)
    for tag in ("train/epoch_accuracy", "validation/epoch_accuracy"):
        assert [step for step, _ in scalars[tag]] == [0, 1, 2, 3], tag  # 3 epochs of stage 1, 1 of stage 2
    values = [v for _, v in scalars["train/epoch_loss"]]
    assert values[-1] < values[0], values
    for name in ("training.png", "predictions.png"):
        assert (run_dir / name).stat().st_size > 0


def test_corrupt_file_is_skipped_with_a_warning_naming_it(first_run, photos):
    _, _, _, err = first_run
    assert re.search(r"warning: skipping \S*red_circle/broken\.jpg: not a readable image", err), err[-2000:]


def test_second_run_reuses_every_bottleneck(first_run, retrain, photos, tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the second run ran the feature extractor")

    monkeypatch.setattr(retrain, "extract_features", no_network)
    metrics, out, err = run(retrain, ["--image-dir", str(photos), *FAST, "--epochs", "2",
                                      "--log-dir", str(tmp_path / "run2")])
    n = len(CLASSES) * PER_CLASS
    assert metrics["bottlenecks_computed"] == 0 and metrics["bottlenecks_cached"] == n
    assert metrics["images_per_second"] is None
    assert f"{n} reused, 0 computed" in out
    assert "broken.jpg" in err  # still not an image, still named
    assert (tmp_path / "run2" / "model.keras").exists()


def test_bad_image_folders_give_one_line_errors(retrain, cache, tmp_path):
    empty = tmp_path / "empty_class"
    retrain.write_shape_images(empty, per_class=2)
    for image in (empty / "green_square").iterdir():
        image.unlink()
    with pytest.raises(data.DataError, match=r"class folder \S*green_square has no images"):
        retrain.main(["--image-dir", str(empty), *FAST, "--log-dir", str(tmp_path / "r1")])

    one = tmp_path / "one_class"
    (one / "cats").mkdir(parents=True)
    (one / "cats" / "a.jpg").write_bytes(b"")
    with pytest.raises(data.DataError, match="has 1 class sub-folder.*at least two"):
        retrain.main(["--image-dir", str(one), *FAST, "--log-dir", str(tmp_path / "r2")])

    with pytest.raises(data.DataError, match="does not exist"):
        retrain.main(["--image-dir", str(tmp_path / "nowhere"), *FAST, "--log-dir", str(tmp_path / "r3")])


def test_image_size_below_inception_minimum_is_a_flag_error(retrain, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        retrain.main(["--image-size", "64", "--log-dir", str(tmp_path / "r")])
    assert exit_info.value.code == 2
    assert "at least 75" in capsys.readouterr().err


def test_predict_prints_top_k_labels_with_probabilities(first_run, predict, photos, tmp_path):
    run_dir = first_run[0]
    images = [photos / "red_circle" / "000.jpg", photos / "blue_triangle" / "001.jpg"]
    metrics, out, _ = run(predict, [*map(str, images), "--model", str(run_dir / "model.keras"), "--top-k", "2",
                                    "--log-dir", str(tmp_path / "p")])
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


def test_predict_errors_name_the_file(first_run, predict, photos, tmp_path):
    model = str(first_run[0] / "model.keras")
    image = str(photos / "green_square" / "000.jpg")
    cases = [
        ([str(tmp_path / "missing.jpg"), "--model", model], r"missing\.jpg does not exist"),
        ([str(photos / "red_circle" / "broken.jpg"), "--model", model], r"broken\.jpg is not a readable image"),
        ([image, "--model", str(tmp_path / "no_model.keras")], r"no_model\.keras does not exist"),
        ([image, "--model", str(first_run[0] / "labels.txt")], r"labels\.txt is not a Keras model file"),
    ]
    for argv, message in cases:
        with pytest.raises(data.DataError, match=message):
            predict.main([*argv, "--log-dir", str(tmp_path / "p")])


def test_default_dataset_is_tf_flowers(retrain, cache, tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=15):  # random photos, no download
        metrics, out, _ = run(retrain, [*FAST, "--epochs", "1", "--log-dir", str(tmp_path / "flowers")])
    assert (tmp_path / "flowers" / "labels.txt").read_text().split() == [
        "dandelion", "daisy", "tulips", "sunflowers", "roses"]
    assert metrics["num_images"] == 15 and metrics["num_classes"] == 5
    assert metrics["bottlenecks_computed"] + metrics["bottlenecks_cached"] == 15
    assert "from tf_flowers" in out


def test_tf_flowers_download_failure_suggests_image_dir(retrain, cache, tmp_path, monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")

    def offline(*args, **kwargs):
        raise ConnectionError("Failed to establish a new connection")

    monkeypatch.setattr(tfds, "load", offline)
    with pytest.raises(data.DataError, match=r"could not download tf_flowers .*--image-dir DIR"):
        retrain.main([*FAST, "--log-dir", str(tmp_path / "r")])
