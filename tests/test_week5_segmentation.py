"""Week 5, segmentation.py: IoU and Dice, tiled prediction, aligned augmentation, the data sources and bad inputs."""

import json

import numpy as np
import pytest
from PIL import Image

from common import data
from tests import fakes
from tests.helpers import REPO, load_script


@pytest.fixture(scope="module")
def seg():
    return load_script(REPO / "week5" / "segmentation.py")


# --- Metrics: Keras IoU on masks whose overlap is known ----------------------------------------------------------

def test_iou_and_dice_of_a_known_pair_of_masks(seg):
    import keras

    true = np.zeros((1, 4, 4), "int32")
    true[0, 0, :] = 1  # 4 pixels of class 1
    predicted = np.zeros((1, 4, 4), "int32")
    predicted[0, 0, :2] = 1
    predicted[0, 1, :2] = 1  # 4 pixels, 2 of them right: intersection 2, union 6
    metrics = {m.name: m for m in seg.segmentation_metrics(("background", "thing"))}
    for metric in metrics.values():
        metric.update_state(true, keras.ops.one_hot(predicted, 2))
    assert float(metrics["iou_thing"].result()) == pytest.approx(2 / 6)
    assert float(metrics["iou_background"].result()) == pytest.approx(10 / 14)  # 12 true, 12 predicted, 10 shared
    assert float(metrics["mean_iou"].result()) == pytest.approx((2 / 6 + 10 / 14) / 2)
    assert float(metrics["pixel_accuracy"].result()) == pytest.approx(12 / 16)
    # Dice = 2|A∩B| / (|A| + |B|) = 4 / 8
    assert seg.dice_from_iou(2 / 6) == pytest.approx(0.5)


# --- Tiled prediction -------------------------------------------------------------------------------------------

def pointwise_model(channels=1, classes=3):
    """A model whose every output pixel depends on its own input pixel only: tiles cannot change its answer."""
    import keras

    inputs = keras.Input((None, None, channels))
    hidden = keras.layers.Conv2D(8, 1, activation="tanh", kernel_initializer=keras.initializers.RandomNormal(seed=1))(inputs)
    return keras.Model(inputs, keras.layers.Conv2D(classes, 1, kernel_initializer=keras.initializers.RandomNormal(seed=2))(hidden))


@pytest.mark.parametrize("shape", [(100, 70), (20, 24)], ids=["larger than a tile", "smaller than a tile"])
def test_tiled_prediction_equals_whole_prediction(seg, shape):
    import keras

    model = pointwise_model()
    image = np.random.default_rng(0).random((*shape, 1)).astype("float32")
    whole = keras.ops.convert_to_numpy(keras.ops.softmax(model(image[None]), axis=-1))[0]
    tiled = seg.predict_tiled(model, np.stack([image, image[::-1]]), tile=32)
    assert tiled.shape == (2, *shape, 3)
    assert np.allclose(tiled[0], whole, atol=1e-5)
    assert np.allclose(tiled[1], whole[::-1], atol=1e-5)  # each picture of the batch keeps its own answer


def test_flipped_and_rotated_views_are_turned_back(seg):
    # a pixel-by-pixel model answers the same for each pixel in every view, so the average of the 8 views,
    # each turned back, must equal the plain prediction; a view turned back wrongly would scramble the map
    model = pointwise_model()
    image = np.random.default_rng(1).random((1, 40, 24, 1)).astype("float32")
    one = seg.predict_views(model, image, tile=32, views=1)
    assert np.allclose(seg.predict_views(model, image, tile=32, views=8), one, atol=1e-5)
    assert not np.allclose(one, np.rot90(one, 2, axes=(1, 2)), atol=1e-3)  # the map itself is not symmetric


def test_tiles_cover_the_picture_and_overlap(seg):
    assert seg.tile_starts(512, 256, 192) == [0, 192, 256]
    assert seg.tile_starts(256, 256, 192) == [0]


# --- Augmentation: the same transform for the picture and its mask ----------------------------------------------

@pytest.mark.parametrize("rotation", ["right-angles", "any"])
def test_augmentation_moves_image_and_mask_together(seg, rotation):
    rng = np.random.default_rng(0)
    masks = np.kron(rng.integers(0, 3, (4, 4, 4)), np.ones((1, 16, 16))).astype("int32")  # blocks of classes 0-2
    images = (masks[..., None] / 2).astype("float32")  # the picture is the mask: 0, 0.5, 1
    augment = seg.augmenter(3, elastic=1.0, seed=3, rotation=rotation)
    new_images, new_masks = (np.asarray(t) for t in augment(images, masks))
    assert new_images.shape == images.shape and new_masks.shape == masks.shape
    assert (new_masks != masks).mean() > 0.2  # it did move things
    agree = np.round(new_images[..., 0] * 2) == new_masks
    # only pixels on a class border (blurred in the picture) may differ: 0.99 measured; Keras's own
    # {"images", "segmentation_masks"} input, whose elastic step deforms the two differently, scores about 0.6
    assert agree.mean() > 0.97


def test_right_angle_augmentation_gives_exact_flipped_and_turned_copies(seg):
    rng = np.random.default_rng(1)
    images = rng.random((16, 32, 32, 1)).astype("float32")
    masks = rng.integers(0, 3, (16, 32, 32)).astype("int32")
    augment = seg.augmenter(3, elastic=0.0, seed=5, rotation="right-angles")
    new_images, new_masks = (np.asarray(t) for t in augment(images, masks))
    used = set()
    for image, mask, new_image, new_mask in zip(images, masks, new_images, new_masks):
        views = [np.rot90(m, k) for m in (mask, mask[:, ::-1]) for k in range(4)]
        view = next(v for v, candidate in enumerate(views) if np.array_equal(candidate, new_mask))  # the mask: exact
        k, mirrored = view % 4, view >= 4
        np.testing.assert_array_equal(new_image, np.rot90(image[:, ::-1] if mirrored else image, k))  # no resampling
        used.add(view)
    assert len(used) >= 5  # 16 draws from the 8 views: turns, not only flips


@pytest.mark.parametrize("rotation, elastic", [("right-angles", 0.0), ("any", 0.5)])
def test_the_same_seed_gives_the_same_training_batches(seg, rotation, elastic):
    import keras

    rng = np.random.default_rng(2)
    images = rng.random((6, 64, 64, 1)).astype("float32")
    masks = rng.integers(0, 2, (6, 64, 64)).astype("uint8")

    def batches(seed):
        keras.utils.set_random_seed(seed)  # what the script does with --seed
        ds = seg.training_pipeline(images, masks, 32, 2, seg.augmenter(2, elastic, seed, rotation), seed)
        return np.stack([np.asarray(x) for x, _ in ds.take(12)])

    first = batches(7)
    np.testing.assert_array_equal(batches(7), first)  # parallel maps drew in a different order on every run
    assert not np.array_equal(batches(8), first)


# --- Networks ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("network", ["unet", "fcn8"])
def test_networks_give_a_score_per_pixel_and_class(seg, network):
    model = seg.build_model(network, 3, 1, 4, 1e-3, ("a", "b", "c"), total_steps=10)
    assert model(np.zeros((2, 64, 96, 1), "float32")).shape == (2, 64, 96, 3)


# --- Training runs through main() -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def synthetic_run(seg, tmp_path_factory):
    folder = tmp_path_factory.mktemp("seg") / "run"
    return folder, seg.main(["--dataset", "synthetic", "--smoke", "--epochs", "3", "--log-dir", str(folder)])


def test_synthetic_run_learns_and_writes_what_a_user_opens(synthetic_run):
    from common import tb

    folder, metrics = synthetic_run
    losses = [v for _, v in tb.read_scalars(folder)["train/epoch_loss"]]
    assert losses[-1] < losses[0]
    assert metrics["dataset"] == "synthetic" and 1 <= metrics["best_epoch"] <= 3
    assert 0 < metrics["val_pixel_accuracy"] <= 1
    shares = [metrics[f"train_share_{name}"] for name in ("background", "circle", "square", "triangle")]
    assert min(shares) > 0 and sum(shares) == pytest.approx(1.0)
    assert 0 < metrics["test_mean_iou"] <= metrics["test_pixel_accuracy"] <= 1
    for name in ("predictions.png", "history.png", "model.keras"):
        assert (folder / name).stat().st_size > 0
    info = json.loads((folder / "classes.json").read_text())
    assert info == {"class_names": ["background", "circle", "square", "triangle"], "label_values": [0, 1, 2, 3],
                    "channels": 3, "tile": 64, "views": 1}  # no flips in training, so no flipped views at test
    scalars = tb.read_scalars(folder)
    assert {"validation/epoch_mean_iou", "validation/epoch_iou_circle", "test/mean_iou"} <= set(scalars)


def test_predict_writes_an_overlay_and_a_mask_for_a_users_picture(seg, synthetic_run, tmp_path):
    from common import scenes

    picture, _ = scenes.segmentation_scene(index=999, size=80)  # 80x80: not the 64 of training, so tiles
    Image.fromarray(picture).save(tmp_path / "mine.png")
    metrics = seg.main(["--predict", str(tmp_path / "mine.png"), "--model", str(synthetic_run[0]),
                        "--log-dir", str(tmp_path / "out")])
    overlay = Image.open(tmp_path / "out" / "mine_overlay.png")
    mask = np.asarray(Image.open(tmp_path / "out" / "mine_mask.png"))
    assert overlay.size == (80, 80) and mask.shape == (80, 80)
    assert set(np.unique(mask)) <= {0, 1, 2, 3}
    assert sum(metrics.values()) == pytest.approx(1.0)


def test_final_fit_trains_on_training_and_validation_images_never_test(seg, tmp_path, monkeypatch, capsys):
    membranes = fakes.write_membranes(tmp_path / "em")
    seen = {}
    pipeline = seg.training_pipeline

    def recording(images, masks, *args, **kwargs):
        seen["images"] = images
        return pipeline(images, masks, *args, **kwargs)

    monkeypatch.setattr(seg, "training_pipeline", recording)
    folder = tmp_path / "run"
    metrics = seg.main(["--data-dir", str(membranes), "--smoke", "--final-fit", "--epochs", "2", "--views", "1",
                        "--log-dir", str(folder)])
    loaded = seg.load_data(parsed(seg, "--data-dir", str(membranes), "--smoke"), "membranes")
    trained = {image.tobytes() for image in seen["images"]}
    parts = {part: {image.tobytes() for image in loaded["sets"][part][0]} for part in ("train", "validation", "test")}
    assert trained == parts["train"] | parts["validation"] and not trained & parts["test"]
    assert f"Final fit: training on {len(trained)} images" in capsys.readouterr().out
    assert metrics["val_mean_iou"] is None and metrics["val_pixel_accuracy"] is None and metrics["best_epoch"] is None
    assert metrics["epochs"] == 2
    assert not (folder / "best.weights.h5").exists() and (folder / "history.png").stat().st_size > 0
    test_masks = loaded["sets"]["test"][1]
    assert metrics["test_baseline_pixel_accuracy"] == pytest.approx((test_masks == 1).mean())  # "cell" everywhere


def parsed(seg, *argv):
    return seg.PARSER.parse_args(list(argv))


def test_a_membrane_folder_is_recognised_by_its_files(seg, tmp_path):
    # the default run (tests/test_scripts.py) reads the membranes from the cache; here from --data-dir
    membranes = fakes.write_membranes(tmp_path / "em")
    other = fakes.write_membranes(tmp_path / "other", n=12)
    assert seg.choose_dataset(parsed(seg, "--data-dir", str(membranes))) == "membranes"
    assert seg.choose_dataset(parsed(seg, "--data-dir", str(other))) == "folder"
    assert seg.choose_dataset(parsed(seg)) == "membranes"
    loaded = seg.load_data(parsed(seg, "--data-dir", str(membranes)), "membranes")
    assert loaded["class_names"] == ("membrane", "cell") and loaded["label_values"] == (0, 255)
    assert [len(loaded["sets"][part][0]) for part in ("train", "validation", "test")] == [21, 3, 6]
    assert loaded["sets"]["test"][2] == ["24", "25", "26", "27", "28", "29"]  # held out: the last six sections


def test_membranes_split_in_blocks(seg):
    train, val, test = seg.split_blocks(30)
    assert (list(train), list(val), list(test)) == (list(range(21)), [21, 22, 23], list(range(24, 30)))


def test_own_folder_with_class_values_and_names(seg, tmp_path):
    folder = tmp_path / "brats"
    for kind in ("image", "label"):
        (folder / kind).mkdir(parents=True)
    for i in range(10):
        mask = np.zeros((64, 64), np.uint8)
        mask[10:30, 10:30], mask[35:50, 35:50] = 1, 4  # BraTS-style values: 0, 1, 4 (2 unused here)
        Image.fromarray((mask * 40 + 30).astype(np.uint8)).save(folder / "image" / f"slice_{i}.png")
        Image.fromarray(mask).save(folder / "label" / f"slice_{i}.png")
    args = parsed(seg, "--data-dir", str(folder), "--label-values", "0,1,2,4",
                  "--class-names", "background,necrosis,oedema,enhancing")
    loaded = seg.load_data(args, seg.choose_dataset(args))
    assert loaded["class_names"] == ("background", "necrosis", "oedema", "enhancing")
    masks = loaded["sets"]["train"][1]
    assert set(np.unique(masks)) == {0, 1, 3}  # value 4 is the fourth class (number 3)
    assert loaded["sets"]["test"][2] == ["slice_8", "slice_9"]
    inferred = seg.load_data(parsed(seg, "--data-dir", str(folder)), "folder")
    assert inferred["label_values"] == (0, 1, 4) and inferred["class_names"] == ("value 0", "value 1", "value 4")
    with pytest.raises(data.DataError, match="3 names for 4 classes"):
        seg.load_data(parsed(seg, "--data-dir", str(folder), "--label-values", "0,1,2,4", "--class-names", "a,b,c"),
                      "folder")


# --- Pets through tensorflow-datasets (mocked) -------------------------------------------------------------------

def mock_pets(mask_values=(1, 2, 3)):
    import tensorflow as tf
    import tensorflow_datasets as tfds

    def as_dataset(self, *args, **kwargs):
        rng = np.random.default_rng(0)

        def examples():
            for i in range(6):
                h, w = 40 + i, 50 - i
                mask = rng.choice(np.array(mask_values, np.uint8), size=(h, w, 1))
                yield {"image": rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "segmentation_mask": mask,
                       "label": i % 37, "species": i % 2, "file_name": f"pet_{i}.jpg",
                       "head_bbox": np.zeros(4, np.float32)}

        return tf.data.Dataset.from_generator(examples, output_signature=self.info.features.get_tensor_spec())

    return tfds.testing.mock_data(as_dataset_fn=as_dataset)


def test_pets_are_resized_and_trimaps_become_classes(seg, offline_cache):
    with mock_pets():
        loaded = seg.load_pets(size=32, smoke=False)
    images, masks, _ = loaded["sets"]["train"]
    assert images.shape == (6, 32, 32, 3) and masks.shape == (6, 32, 32) and 0 <= images.min() <= images.max() <= 1
    assert set(np.unique(masks)) == {0, 1, 2} and loaded["class_names"] == ("pet", "outline", "background")


def test_pets_with_a_bad_mask_stop_with_one_line(seg, offline_cache):
    with mock_pets(mask_values=(0, 7)), pytest.raises(data.DataError) as error:
        seg.load_pets(size=32, smoke=True)
    assert "trimap" in str(error.value) and "\n" not in str(error.value)


# --- Bad inputs: one clear line, exit status 1 ------------------------------------------------------------------

def bad_folder(tmp_path, case):
    folder = fakes.write_membranes(tmp_path / case, names=["a", "b", "c", "d"])
    if case == "no masks":
        for path in (folder / "label").iterdir():
            path.unlink()
        (folder / "label").rmdir()
    elif case == "a mask missing":
        (folder / "label" / "c.png").unlink()
    elif case == "unreadable image":
        (folder / "image" / "b.png").write_bytes(b"not a png")
    elif case == "sizes differ":
        Image.fromarray(np.zeros((32, 64), np.uint8)).save(folder / "label" / "b.png")
    elif case == "value outside the list":
        Image.fromarray(np.full((64, 64), 128, np.uint8)).save(folder / "label" / "d.png")
    elif case == "colour mask":
        Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(folder / "label" / "a.png")
    elif case == "images of different sizes":
        Image.fromarray(np.zeros((48, 48), np.uint8)).save(folder / "image" / "d.png")
        Image.fromarray(np.zeros((48, 48), np.uint8)).save(folder / "label" / "d.png")
    elif case == "no images":
        for path in (folder / "image").iterdir():
            path.unlink()
    return folder


@pytest.mark.parametrize("case, words", [
    ("missing folder", "does not exist"),
    ("no masks", "no label/ folder"),
    ("a mask missing", "c.png has no mask"),
    ("unreadable image", "cannot read"),
    ("sizes differ", "same size"),
    ("value outside the list", "not in the class list 0,255"),
    ("colour mask", "colour picture"),
    ("images of different sizes", "same size"),
    ("no images", "holds no images"),
])
def test_bad_inputs_stop_with_one_line(seg, tmp_path, case, words):
    folder = tmp_path / "nowhere" if case == "missing folder" else bad_folder(tmp_path, case)
    with pytest.raises(SystemExit) as error:
        seg.main(["--data-dir", str(folder), "--label-values", "0,255", "--log-dir", str(tmp_path / "run")])
    message = str(error.value)
    assert words in message and "\n" not in message, message
    assert isinstance(error.value, data.DataError)
    assert not (tmp_path / "run").exists()  # stopped before any training or run folder


def test_predict_without_a_model_folder_stops_with_one_line(seg, tmp_path):
    with pytest.raises(data.DataError, match="--predict needs --model DIR"):
        seg.main(["--predict", str(tmp_path / "x.png"), "--model", str(tmp_path), "--log-dir", str(tmp_path / "run")])
