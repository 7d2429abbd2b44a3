"""The data layer: valid files, every user-fixable failure, the cache, downloads (faked locally)."""

import gzip
import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from common import data
from tests import fakes, helpers

REPO = Path(__file__).resolve().parents[1]


def file_remote(path, sha256=None):
    """A RemoteFile served from the local disk through a file:// URL (no network)."""
    digest = sha256 or hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return data.RemoteFile(Path(path).name, digest, (Path(path).resolve().as_uri(),))


# --- MNIST IDX files ---------------------------------------------------------------

def test_load_mnist_from_data_dir(tmp_path):
    fakes.write_mnist(tmp_path, n_train=50, n_test=20)
    (x_train, y_train), (x_test, y_test) = data.load_mnist(tmp_path)
    assert x_train.shape == (50, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (50,) and x_test.shape == (20, 28, 28) and y_test.shape == (20,)
    assert y_train.max() <= 9


def test_load_mnist_accepts_gunzipped_files(tmp_path):
    fakes.write_mnist(tmp_path, n_train=30, n_test=10, gz=False)
    (x_train, _), _ = data.load_mnist(tmp_path)
    assert x_train.shape == (30, 28, 28)


def test_inverted_mnist_is_refused(tmp_path):
    fakes.write_mnist(tmp_path, n_train=30, n_test=10)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    header, pixels = 16, bytearray(gzip.decompress(path.read_bytes()))
    pixels[header:] = bytes(255 - b for b in pixels[header:])
    path.write_bytes(gzip.compress(bytes(pixels)))
    with pytest.raises(data.DataError, match=r"train-images-idx3-ubyte.gz has light backgrounds .* inverted"):
        data.load_mnist(tmp_path)


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "truncated or corrupt"),
        (lambda p: p.write_bytes(b"this is not gzip data at all"), "truncated or corrupt"),
        (lambda p: p.write_bytes(gzip.compress(fakes.idx_bytes(np.zeros((5, 28, 28), np.uint8), 2049))), "magic number"),
        (lambda p: p.write_bytes(gzip.compress(gzip.decompress(p.read_bytes())[:-100])), "header promises"),
    ],
    ids=["truncated-gz", "not-gzip", "wrong-magic", "short-payload"],
)
def test_damaged_mnist_file_names_the_file(tmp_path, damage, message):
    fakes.write_mnist(tmp_path, n_train=50, n_test=20)
    bad = tmp_path / "train-images-idx3-ubyte.gz"
    damage(bad)
    with pytest.raises(data.DataError, match=message) as info:
        data.load_mnist(tmp_path)
    assert str(bad) in str(info.value)
    assert "\n" not in str(info.value)


def test_image_label_count_mismatch(tmp_path):
    fakes.write_mnist(tmp_path, n_train=50, n_test=20)
    labels = np.zeros(49, np.uint8)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(fakes.idx_bytes(labels, 2049)))
    with pytest.raises(data.DataError, match="50 images but .* 49 labels"):
        data.load_mnist(tmp_path)


def test_missing_data_dir_and_missing_file(tmp_path):
    with pytest.raises(data.DataError, match="does not exist"):
        data.load_mnist(tmp_path / "nowhere")
    fakes.write_mnist(tmp_path, n_train=10, n_test=10)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(data.DataError, match="lacks t10k-labels-idx1-ubyte.gz"):
        data.load_mnist(tmp_path)


def test_data_error_is_one_line_and_exit_status_1():
    error = data.DataError("x.gz is truncated")
    assert isinstance(error, SystemExit) and error.code == "error: x.gz is truncated"


@pytest.mark.parametrize("case", ["truncated", "missing-dir"])
def test_script_reports_bad_data_in_one_line(tmp_path, case):
    """What a user sees: exit status non-zero, one line naming the file, no traceback."""
    fakes.write_mnist(tmp_path, n_train=50, n_test=20)
    bad = tmp_path / "train-images-idx3-ubyte.gz"
    if case == "truncated":
        bad.write_bytes(bad.read_bytes()[:300])
        data_dir, named = tmp_path, str(bad)
    else:
        data_dir = named = str(tmp_path / "no-such-folder")
    result = subprocess.run(
        [sys.executable, str(REPO / "week1/mnist_softmax_regression.py"), "--data-dir", str(data_dir),
         "--log-dir", str(tmp_path / "run")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.strip().splitlines() if not helpers.is_tensorflow_startup_line(line)]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and named in lines[0] and "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()  # a run stopped by a user error leaves no half-made run folder


# --- The cache and downloads ---------------------------------------------------------

def test_cache_hit_does_not_download(offline_cache):
    (x_train, _), _ = data.load_mnist()  # offline_cache fails the test on any download
    assert x_train.shape[1:] == (28, 28)
    assert data.status("mnist")[0] == "cached"


def test_cache_miss_downloads_and_verifies(tmp_path, monkeypatch):
    source = fakes.write_mnist(tmp_path / "server", n_train=40, n_test=10)
    names = [r.filename for r in data.REGISTRY["mnist"].files]
    remotes = tuple(file_remote(source / name) for name in names)
    monkeypatch.setitem(data.REGISTRY, "mnist", data.Dataset("mnist", "fake", remotes, "", "four files"))
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "cache"))
    assert data.status("mnist")[0] == "missing"
    (x_train, _), _ = data.load_mnist()
    assert x_train.shape == (40, 28, 28)
    cached = sorted(p.name for p in (tmp_path / "cache" / "mnist").iterdir())
    assert cached == sorted(r.filename for r in remotes)  # and no *.part leftovers


def test_checksum_mismatch_leaves_no_file(tmp_path):
    source = tmp_path / "file.bin"
    source.write_bytes(b"downloaded bytes")
    dest = tmp_path / "cache" / "file.bin"
    with pytest.raises(data.DataError, match="checksum mismatch"):
        data.download(file_remote(source, sha256="0" * 64), dest, progress=False)
    assert not dest.exists() and list(dest.parent.iterdir()) == []


def test_no_network_and_no_copy(tmp_path):
    remote = data.RemoteFile("x.gz", "0" * 64, ((tmp_path / "unreachable" / "x.gz").as_uri(),))
    with pytest.raises(data.DataError, match="could not download x.gz.*--data-dir"):
        data.download(remote, tmp_path / "cache" / "x.gz", progress=False)
    assert list((tmp_path / "cache").iterdir()) == []


def test_bad_bytes_from_one_mirror_fall_back_to_the_next(tmp_path):
    bad, good = tmp_path / "bad" / "file.bin", tmp_path / "good" / "file.bin"
    for path, payload in ((bad, b"tampered"), (good, b"payload")):
        path.parent.mkdir()
        path.write_bytes(payload)
    remote = data.RemoteFile("file.bin", file_remote(good).sha256, (bad.as_uri(), good.as_uri()))
    dest = data.download(remote, tmp_path / "cache" / "file.bin", progress=False)
    assert dest.read_bytes() == b"payload"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["file.bin"]  # no .part left by the bad mirror


# Files with fewer than two sources, each with the reason; any other registered file must have two mirrors.
SINGLE_SOURCE = {
    "cifar-10-binary.tar.gz": "only the authors' site serves the binary version with this checksum",
    "iris.data": "bundled with the code; the URL records where it came from",
    "Flickr8k_text.zip": "one commonly used mirror",
    "Flickr8k_Dataset.zip": "one commonly used mirror",
    "korean_novels.txt": "no download: the user's own copy",
    "tuebingen_neckarfront.jpg": "Wikimedia Commons only (the MD5 pystiche pins for the paper's photo)",
    "starry_night.jpg": "Wikimedia Commons only (the MD5 pystiche pins for the paper's painting)",
}


def test_every_registered_download_has_two_mirrors():
    files = {remote.filename: remote for dataset in data.REGISTRY.values() for remote in dataset.files}
    assert set(SINGLE_SOURCE) <= set(files)  # a stale exception is an error too
    for name, remote in files.items():
        if name not in SINGLE_SOURCE:
            assert len(set(remote.urls)) >= 2, f"{name} has one mirror; add one or list it in SINGLE_SOURCE"
        else:
            assert len(remote.urls) <= 1, f"{name} has mirrors now: drop it from SINGLE_SOURCE"


def test_download_tries_the_next_mirror(tmp_path):
    source = tmp_path / "file.bin"
    source.write_bytes(b"payload")
    good = file_remote(source)
    remote = data.RemoteFile("file.bin", good.sha256, ((tmp_path / "gone.bin").as_uri(),) + good.urls)
    dest = data.download(remote, tmp_path / "cache" / "file.bin", progress=False)
    assert dest.read_bytes() == b"payload"


# --- CIFAR-10 binary version ---------------------------------------------------------

def test_load_cifar10_from_data_dir(tmp_path):
    fakes.write_cifar10(tmp_path, n_per_batch=20, n_test=10)
    for folder in (tmp_path, tmp_path / "cifar-10-batches-bin"):  # either the parent or the folder itself
        (x_train, y_train), (x_test, y_test), classes = data.load_cifar10(folder)
        assert x_train.shape == (100, 32, 32, 3) and y_train.shape == (100,)
        assert x_test.shape == (10, 32, 32, 3) and classes[0] == "airplane"
    # The label picks the bar's row and colour channel (see fakes.cifar_records): check the decoding order.
    k = int(y_train[0])
    assert x_train[0, 3 * k, 5, k % 3] == 255


def test_truncated_cifar_batch(tmp_path):
    batches = fakes.write_cifar10(tmp_path, n_per_batch=20, n_test=10)
    bad = batches / "data_batch_3.bin"
    bad.write_bytes(bad.read_bytes()[:-7])
    with pytest.raises(data.DataError, match="data_batch_3.bin .*truncated"):
        data.load_cifar10(tmp_path)


def test_cifar_download_extracts_safely(tmp_path, monkeypatch):
    batches = fakes.write_cifar10(tmp_path / "src", n_per_batch=10, n_test=10)
    members = {f"cifar-10-batches-bin/{p.name}": p.read_bytes() for p in batches.iterdir()}
    archive = fakes.tar_gz(tmp_path / "cifar-10-binary.tar.gz", members)
    monkeypatch.setitem(data.REGISTRY, "cifar10", data.Dataset("cifar10", "fake", (file_remote(archive),), "", ""))
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "cache"))
    (x_train, _), (x_test, _), _ = data.load_cifar10()
    assert x_train.shape == (50, 32, 32, 3) and x_test.shape == (10, 32, 32, 3)


def test_unsafe_archive_is_refused(tmp_path):
    archive = fakes.tar_gz(tmp_path / "evil.tar.gz", {"../escaped.txt": b"x"})
    (tmp_path / "out").mkdir()
    with pytest.raises(data.DataError, match="unsafe entry"):
        data.safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "escaped.txt").exists()


def test_corrupt_archive(tmp_path):
    archive = tmp_path / "broken.tar.gz"
    archive.write_bytes(b"\x1f\x8b\x08 not really")
    (tmp_path / "out").mkdir()
    with pytest.raises(data.DataError, match="broken.tar.gz is truncated or corrupt"):
        data.safe_extract(archive, tmp_path / "out")


# --- Iris and image folders ------------------------------------------------------------

def test_iris_is_bundled_and_complete():
    x, y, classes = data.load_iris()
    assert x.shape == (150, 4) and np.bincount(y).tolist() == [50, 50, 50]
    assert classes == ("Iris-setosa", "Iris-versicolor", "Iris-virginica")


def test_iris_bundled_copy_is_checked(tmp_path, monkeypatch):
    changed = tmp_path / "iris.data"
    changed.write_text((data.BUNDLED_DIR / "iris.data").read_text().replace("5.1,3.5", "9.9,3.5", 1))
    monkeypatch.setattr(data, "BUNDLED_DIR", tmp_path)
    with pytest.raises(data.DataError, match="does not match its checksum.*git checkout"):
        data.load_iris()


def test_iris_bad_line(tmp_path):
    path = tmp_path / "iris.data"
    path.write_text("5.1,3.5,1.4,0.2,Iris-setosa\n5.1,3.5,oops\n")
    with pytest.raises(data.DataError, match="line 2"):
        data.load_iris(path)


def write_png(path, colour):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (20, 12), colour).save(path)


def test_image_folder(tmp_path, capsys):
    write_png(tmp_path / "cats" / "a.png", (255, 0, 0))
    write_png(tmp_path / "dogs" / "b.png", (0, 0, 255))
    (tmp_path / "dogs" / "broken.jpg").write_bytes(b"not an image")
    paths, labels, classes = data.list_image_folder(tmp_path)
    assert classes == ("cats", "dogs") and labels.tolist() == [0, 1, 1]
    images, kept = data.load_images(paths, size=8)
    assert images.shape == (2, 8, 8, 3) and kept.tolist() == [0, 1]
    assert "broken.jpg" in capsys.readouterr().err


def test_image_folder_errors(tmp_path):
    write_png(tmp_path / "only" / "a.png", (1, 2, 3))
    with pytest.raises(data.DataError, match="at least two"):
        data.list_image_folder(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(data.DataError, match="empty has no images"):
        data.list_image_folder(tmp_path)
    with pytest.raises(data.DataError, match="does not exist"):
        data.list_image_folder(tmp_path / "missing")
    (tmp_path / "empty" / "x.jpg").write_bytes(b"junk")
    with pytest.raises(data.DataError, match="empty has no images"):  # only unreadable files: same error as empty
        data.list_image_folder(tmp_path)
    with pytest.raises(data.DataError, match="none of the 1 files"):
        data.load_images([tmp_path / "empty" / "x.jpg"], size=8)


def test_make_pipeline_batches_and_reshuffles():
    x = np.arange(10, dtype=np.float32)
    ds = data.make_pipeline(x, x * 2, batch_size=4, shuffle=True, seed=1)
    first = [b[0].numpy().tolist() for b in ds]
    second = [b[0].numpy().tolist() for b in ds]
    assert [len(b) for b in first] == [4, 4, 2]
    assert sorted(sum(first, [])) == list(range(10)) and first != second


# --- A class's shared, read-only cache --------------------------------------------------

def test_complete_read_only_cache_is_only_read(offline_cache, monkeypatch):
    """The instructor filled the cache; students read it and nothing tries to write there."""
    import tempfile

    def no_write(*args, **kwargs):
        raise AssertionError("tried to write into the shared cache")

    monkeypatch.setattr(tempfile, "mkstemp", no_write)
    monkeypatch.setattr(Path, "mkdir", no_write)
    monkeypatch.setattr(data, "safe_extract", no_write)
    monkeypatch.setattr(data.os, "access", lambda path, mode: False)  # as a student sees a folder they cannot write
    (x_train, _), _ = data.load_mnist()
    (c_train, _), _, _ = data.load_cifar10()
    assert x_train.shape[1:] == (28, 28) and c_train.shape[1:] == (32, 32, 3)


def test_read_only_cache_missing_a_file_says_who_can_fetch_it(tmp_path, monkeypatch):
    shared = tmp_path / "class-cache"
    fakes.write_mnist(shared / "mnist", n_train=20, n_test=10)
    (shared / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    monkeypatch.setenv(data.CACHE_ENV, str(shared))
    monkeypatch.setattr(data.os, "access", lambda path, mode: False)
    monkeypatch.setattr(data, "download", lambda *a, **k: pytest.fail("tried to download into a read-only cache"))
    with pytest.raises(data.DataError) as info:
        data.load_mnist()
    message = str(info.value)
    assert f"the data cache {shared} lacks t10k-labels-idx1-ubyte.gz (mnist) and is read-only" in message
    assert f"COURSE_DATA_DIR={shared} python scripts/download_data.py --only mnist" in message
    assert "\n" not in message


# --- Text corpora ----------------------------------------------------------------

def test_text_is_read_as_nfc_without_bom_and_with_unix_newlines(tmp_path):
    import unicodedata

    path = tmp_path / "t.txt"
    path.write_bytes("\ufeff".encode() + unicodedata.normalize("NFD", "한글\r\n둘\r셋").encode("utf-8"))
    text = data.read_text(path)
    assert text == "한글\n둘\n셋" and len(text) == 6  # NFD jamo joined back into syllables


def test_tiny_shakespeare_downloads_once_and_is_verified(tmp_path, monkeypatch):
    source = tmp_path / "server" / "input.txt"
    source.parent.mkdir()
    source.write_text(fakes.english_text(n_lines=20), encoding="utf-8")
    dataset = data.REGISTRY["tiny_shakespeare"]
    monkeypatch.setitem(data.REGISTRY, "tiny_shakespeare", data.Dataset(
        "tiny_shakespeare", "fake", (file_remote(source),), dataset.homepage, dataset.data_dir_hint))
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "cache"))
    text, path = data.load_corpus("tiny_shakespeare")
    assert path == tmp_path / "cache" / "tiny_shakespeare" / "input.txt" and text.startswith(("KING", "QUEEN", "ROMEO", "JULIET"))
    source.unlink()  # the second time it comes from the cache
    assert data.load_corpus("tiny_shakespeare")[0] == text


def test_korean_novels_has_no_download_and_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(data, "download", helpers.no_download)
    with pytest.raises(data.DataError) as err:
        data.load_corpus("korean_novels")
    message = str(err.value)
    assert "has no download" in message and "--data-dir" in message and "--text FILE" in message
    with pytest.raises(data.DataError, match="lacks korean_novels.txt"):
        data.load_corpus("korean_novels", tmp_path)


def test_a_users_copy_that_differs_is_read_with_a_note(tmp_path, capsys):
    (tmp_path / "korean_novels.txt").write_text(fakes.korean_text(n_sentences=20), encoding="utf-8")
    text, _ = data.load_corpus("korean_novels", tmp_path)
    assert text.startswith(tuple(fakes.KOREAN_SUBJECTS)) and "differs from the copy the course measured" in capsys.readouterr().out
