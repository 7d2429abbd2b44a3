"""Week 5, neural_style_transfer.py: the Gram matrix, the losses, and short offline runs (--weights none)."""

import numpy as np
import pytest
from PIL import Image

from common import data
from tests.helpers import REPO, load_script


@pytest.fixture(scope="module")
def nst():
    return load_script(REPO / "week5" / "neural_style_transfer.py")


def test_gram_matrix_of_a_known_feature_map(nst):
    # 2x2 positions, 2 channels: channel 0 = [1, 2, 3, 4], channel 1 = [0, 1, 0, 1]
    activation = np.array([[[[1, 0], [2, 1]], [[3, 0], [4, 1]]]], "float32")
    # G[0,0] = (1+4+9+16)/4, G[0,1] = (0+2+0+4)/4, G[1,1] = (0+1+0+1)/4
    expected = np.array([[[30 / 4, 6 / 4], [6 / 4, 2 / 4]]], "float32")
    assert np.allclose(nst.gram_matrix(activation), expected)


def test_style_loss_ignores_where_things_are_and_content_loss_does_not(nst):
    rng = np.random.default_rng(0)
    activation = rng.random((1, 4, 4, 3)).astype("float32")
    shuffled = activation[:, ::-1, ::-1]  # the same values, elsewhere
    targets = [nst.gram_matrix(activation)] * len(nst.STYLE_LAYERS)
    assert float(nst.style_loss([shuffled] * len(nst.STYLE_LAYERS), targets)) == pytest.approx(0, abs=1e-6)
    assert float(nst.content_loss(shuffled, activation)) > 0.01
    smooth, noisy = np.full((1, 8, 8, 3), 0.5, "float32"), rng.random((1, 8, 8, 3)).astype("float32")
    assert float(nst.total_variation_loss(smooth)) == 0 < float(nst.total_variation_loss(noisy))


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures")
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)).save(folder / "photo.png")
    stripes = np.zeros((50, 50, 3), np.uint8)
    stripes[::4] = (250, 200, 30)
    Image.fromarray(stripes).save(folder / "painting.png")
    return folder


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_a_few_steps_change_the_picture_and_lower_the_loss(nst, pictures, tmp_path, optimizer):
    run = tmp_path / "run"
    metrics = nst.main(["--content", str(pictures / "photo.png"), "--style", str(pictures / "painting.png"),
                        "--weights", "none", "--size", "48", "--iterations", "8", "--save-every", "4",
                        "--optimizer", optimizer, "--log-dir", str(run)])
    assert metrics["final_loss"] < metrics["first_loss"]
    assert (metrics["height"], metrics["width"]) == (32, 48)  # the photo's 2:3 kept, longer side 48
    result = np.asarray(Image.open(run / "result.png"), "float32")
    photo = np.asarray(Image.open(pictures / "photo.png").resize((48, 32), Image.Resampling.LANCZOS), "float32")
    assert np.abs(result - photo).mean() > 1  # the pixels moved
    assert (run / "progress" / "step_0004.png").exists() and (run / "comparison.png").stat().st_size > 0
    assert metrics["seconds_per_iteration"] > 0


def test_a_missing_picture_stops_with_one_line(nst, pictures, tmp_path):
    with pytest.raises(data.DataError) as error:
        nst.main(["--content", str(tmp_path / "nope.jpg"), "--style", str(pictures / "painting.png"),
                  "--weights", "none", "--log-dir", str(tmp_path / "run")])
    assert "cannot read" in str(error.value) and "\n" not in str(error.value)
