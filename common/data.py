"""Datasets: where they download from, their checksums, and parsers that check what they read.

Two ways in, both ending in the same parsers:
- the download cache (`datasets/` in the repository, or $COURSE_DATA_DIR): files are
  fetched once, verified against their SHA-256 (or the MD5 where only that is published,
  as for Flickr8k), and written atomically;
- `--data-dir DIR`: the user's own copy of the files as distributed, checked by
  structure (magic numbers, counts, shapes) since re-compressed copies are common.

Every problem a user can cause raises DataError: a SystemExit whose message is one
line naming the file and what to do, so an uncaught one ends the script with exit
status 1 and no traceback, like argparse's own errors.
Downloaded data is never unpickled (CIFAR-10 comes in its binary version) and
archives are extracted only after every member is checked to stay inside the target.

Importing this module does not import TensorFlow or touch the network.
"""

import dataclasses
import gzip
import hashlib
import os
import re
import shutil
import stat
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE_ENV = "COURSE_DATA_DIR"
IDX_IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
IDX_LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension


class DataError(SystemExit):
    """A data problem the user can fix; the message says which file and what to do."""

    def __init__(self, message):
        super().__init__(f"error: {message}")
        self.message = message

    def __str__(self):
        return self.message


@dataclasses.dataclass(frozen=True)
class RemoteFile:
    filename: str
    sha256: str  # "" when only an MD5 is published
    urls: tuple
    size: int = 0  # bytes, for the progress display; 0 when unknown
    md5: str = ""  # MD5 (only to catch a damaged download) for files whose SHA-256 nobody publishes


@dataclasses.dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    files: tuple
    homepage: str
    data_dir_hint: str  # what `--data-dir DIR` must contain


def _mnist_like(name, title, homepage, mirrors, files):
    remote = tuple(
        RemoteFile(filename, sha256, tuple(m + filename for m in mirrors), size)
        for filename, sha256, size in files
    )
    hint = "the four IDX files " + ", ".join(f for f, _, _ in files)
    return Dataset(name, title, remote, homepage, hint)


REGISTRY = {
    "mnist": _mnist_like(
        "mnist", "MNIST handwritten digits (60,000 train / 10,000 test, 28x28 grey)",
        "http://yann.lecun.com/exdb/mnist/",
        (
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "https://ossci-datasets.s3.amazonaws.com/mnist/",  # PyTorch's mirror of the same files
        ),
        (
            ("train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
            ("train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
            ("t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
            ("t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
        ),
    ),
    "cifar10": Dataset(
        "cifar10", "CIFAR-10 (50,000 train / 10,000 test, 32x32 colour), binary version",
        (
            RemoteFile(
                "cifar-10-binary.tar.gz",
                "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
                ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",),
                170052171,
            ),
        ),
        "https://www.cs.toronto.edu/~kriz/cifar.html",
        "the folder cifar-10-batches-bin/ (data_batch_1.bin ... data_batch_5.bin, test_batch.bin)",
    ),
    "iris": Dataset(
        "iris", "Fisher's Iris flowers (150 examples, 4 measurements, 3 species); bundled, no download",
        (
            RemoteFile(
                "iris.data",
                "6f608b71a7317216319b4d27b4d9bc84e6abd734eda7872b71a458569e2656c0",
                ("https://archive.ics.uci.edu/ml/machine-learning-databases/iris/iris.data",),
                4551,
            ),
        ),
        "https://archive.ics.uci.edu/dataset/53/iris",
        "the file iris.data (UCI layout: 4 numbers and a species name per line)",
    ),
    "tiny_shakespeare": Dataset(
        "tiny_shakespeare", "tiny Shakespeare: 40,000 lines of Shakespeare's plays (1,115,394 characters), the char-rnn corpus",
        (
            RemoteFile(
                "input.txt",
                "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
                (
                    "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
                    "https://storage.googleapis.com/download.tensorflow.org/data/shakespeare.txt",
                ),
                1115394,
            ),
        ),
        "https://github.com/karpathy/char-rnn",
        "the file input.txt (UTF-8 text)",
    ),
    "flickr8k": Dataset(
        "flickr8k", "Flickr8k: 8,091 photos with 5 English captions each (Hodosh, Young & Hockenmaier 2013), "
        "official splits 6,000 train / 1,000 dev / 1,000 test",
        tuple(
            RemoteFile(filename, "", (f"https://github.com/jbrownlee/Datasets/releases/download/Flickr8k/{filename}",),
                       size, md5=md5)  # MD5s as pinned by the mlverse torchdatasets package
            for filename, md5, size in (
                ("Flickr8k_text.zip", "bf6c1abcb8e4a833b7f922104de18627", 2340801),
                ("Flickr8k_Dataset.zip", "f18a1e2920de5bd84dae7cf08ec78978", 1115419746),
            )
        ),
        "https://hockenmaier.cs.illinois.edu/8k-pictures.html",
        "the two folders of Flickr8k_Dataset.zip and Flickr8k_text.zip as unzipped: Flicker8k_Dataset/ "
        "(the .jpg photos; Flickr8k_Dataset/ also accepted) and Flickr8k_text/ (Flickr8k.token.txt, "
        "Flickr_8k.trainImages.txt, Flickr_8k.devImages.txt, Flickr_8k.testImages.txt; these files may also "
        "lie in the folder itself)",
    ),
    "korean_novels": Dataset(
        "korean_novels",
        "50 Korean short novels of the 1920s-30s (public domain, spelling modernised by the KoCoNovel project, "
        "CC BY-SA 4.0), 707,018 characters; no single-file download: a user's copy",
        (
            RemoteFile(
                "korean_novels.txt",
                "b506f57be0b225f0bed6beb637cc00ac4e685db5f86007196dd7c5cb9bf3cab7",
                (),  # 한 파일로 내려받을 곳이 없습니다: 사용자(강사)가 가진 사본을 씁니다
                1695102,
            ),
        ),
        "https://github.com/storidient/KoCoNovel",
        "the file korean_novels.txt (UTF-8 text, novels separated by a blank line)",
    ),
}


def _isbi_membranes():
    """The ISBI 2012 membrane set as the U-Net authors' repository serves it: 30 images and 30 masks, one PNG each."""
    mirrors = ("https://raw.githubusercontent.com/zhixuhao/unet/master/data/membrane/train/",
               "https://cdn.jsdelivr.net/gh/zhixuhao/unet@master/data/membrane/train/")  # 같은 저장소의 CDN 사본
    manifest = Path(__file__).resolve().parent / "isbi_membranes.sha256"  # "sha256  image/0.png" per line
    files = tuple(
        RemoteFile(filename, sha256, tuple(m + filename for m in mirrors))
        for sha256, filename in (line.split() for line in manifest.read_text().splitlines() if line.strip())
    )
    return Dataset(
        "isbi_membranes", "ISBI 2012 EM membranes: 30 electron-microscopy sections of a fly nerve cord, 512x512 grey, "
        "with membrane masks (Cardona et al. 2010; the U-Net paper's data)",
        files, "https://imagej.net/events/isbi-2012-segmentation-challenge",
        "the folders image/ and label/ with 0.png ... 29.png each (512x512 grey; masks 0 = membrane, 255 = cell)",
    )


REGISTRY["isbi_membranes"] = _isbi_membranes()

# 스타일 전이와 DeepDream의 기본 그림: Gatys et al. (2015)의 그림 2에 나오는 사진과 그림. MD5는 pystiche가 고정한 값
REGISTRY["style_images"] = Dataset(
    "style_images", "the photo and the painting of Gatys et al. 2015, Fig. 2: Tübingen's Neckarfront "
    "(photo by Andreas Praefcke, CC BY 3.0) and van Gogh's The Starry Night (1889, public domain)",
    (
        RemoteFile("tuebingen_neckarfront.jpg", "",
                   ("https://upload.wikimedia.org/wikipedia/commons/0/00/Tuebingen_Neckarfront.jpg",),
                   md5="dc9ad203263f34352e18bc29b03e1066"),
        RemoteFile("starry_night.jpg", "",
                   ("https://upload.wikimedia.org/wikipedia/commons/thumb/e/ea/"
                    "Van_Gogh_-_Starry_Night_-_Google_Art_Project.jpg/1280px-Van_Gogh_-_Starry_Night_-_Google_Art_Project.jpg",),
                   md5="372e5bc438e3e8d0eb52cc6f7ef44760"),
    ),
    "https://commons.wikimedia.org/wiki/File:Tuebingen_Neckarfront.jpg",
    "the files tuebingen_neckarfront.jpg and starry_night.jpg (or give your own with --content and --style)",
)

TEXT_CORPORA = ("tiny_shakespeare", "korean_novels")  # --corpus 로 고르는 말뭉치

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
IRIS_CLASSES = ("Iris-setosa", "Iris-versicolor", "Iris-virginica")
BUNDLED_DIR = Path(__file__).resolve().parent  # iris.data ships with the code


# --- The download cache ---------------------------------------------------------

def cache_dir():
    """The download cache: $COURSE_DATA_DIR if set, else `datasets/` in the repository."""
    return Path(os.environ.get(CACHE_ENV) or REPO_ROOT / "datasets")


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(remote, dest, progress=True):
    """Downloads `remote` (a RemoteFile) to `dest`, trying each mirror in turn.

    The bytes go to a temporary file beside `dest` and are renamed into place only
    after the SHA-256 (or, where only that is pinned, the MD5) matches, so an
    interrupted download never looks complete.
    """
    algorithm, expected = ("sha256", remote.sha256) if remote.sha256 else ("md5", remote.md5)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in remote.urls:
        fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                digest = _fetch(url, out, remote.size, progress, algorithm)
            if digest != expected:
                failures.append(f"{url} (checksum mismatch: expected {algorithm} {expected}, got {digest})")
                continue
            os.chmod(tmp, 0o644)  # mkstemp makes files private (0600); cached data is for everyone
            os.replace(tmp, dest)
            return dest
        except (urllib.error.URLError, OSError, ValueError) as e:
            failures.append(f"{url} ({getattr(e, 'reason', None) or e})")
        finally:
            tmp.unlink(missing_ok=True)
    raise DataError(
        f"could not download {dest.name}: tried {'; '.join(failures)}. Check your internet "
        "connection or proxy (a checksum mismatch means a corrupted or changed download: run again), "
        "or download the files on another machine and pass --data-dir DIR (see datasets/README.md)"
    )


def _fetch(url, out, size, progress, algorithm="sha256"):
    """Streams url into the open file `out`; returns the hex digest (SHA-256 or MD5) of the bytes."""
    digest = hashlib.new(algorithm, usedforsecurity=False)
    done, shown = 0, -1
    with urllib.request.urlopen(url, timeout=60) as response:
        total = int(response.headers.get("Content-Length") or 0) or size
        if progress:
            print(f"Downloading {url}", file=sys.stderr)
        for block in iter(lambda: response.read(1 << 16), b""):
            out.write(block)
            digest.update(block)
            done += len(block)
            percent = int(100 * done / total) if total else -1
            if progress and total and percent // 10 != shown // 10:
                print(f"\r  {percent:3d}%  {done / 1e6:.1f} / {total / 1e6:.1f} MB", end="", file=sys.stderr)
                shown = percent
    if progress and total:
        print(file=sys.stderr)
    return digest.hexdigest()


def fetch(name, progress=True):
    """Makes sure every file of dataset `name` is in the cache; returns its folder.

    A file already in the cache is trusted (it was verified when it was downloaded);
    the parsers still check its structure, and their errors say to delete it. A complete
    cache is only read, so a class can share one read-only copy.
    """
    dataset = REGISTRY[name]
    folder = cache_dir() / name
    missing = [remote for remote in dataset.files if not (folder / remote.filename).exists()]
    if missing and not writable(folder):
        raise read_only_cache_error(name, ", ".join(remote.filename for remote in missing))
    for remote in missing:
        download(remote, folder / remote.filename, progress=progress)
    return folder


def writable(path):
    """True when `path`, or the nearest folder above it that exists, may be written by this user."""
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    return os.access(path, os.W_OK)


def read_only_cache_error(name, what):
    cache = cache_dir()
    return DataError(
        f"the data cache {cache} lacks {what} ({name}) and is read-only for you; ask whoever fills it "
        f"(the instructor: `{CACHE_ENV}={cache} python scripts/download_data.py --only {name}`), "
        f"or set {CACHE_ENV} to a folder of your own"
    )


def status(name):
    """('cached', folder) when every file is in the cache, else ('missing', [file names])."""
    dataset = REGISTRY[name]
    folder = cache_dir() / name
    missing = [r.filename for r in dataset.files if not (folder / r.filename).exists()]
    return ("missing", missing) if missing else ("cached", folder)


def _user_dir(data_dir, dataset):
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(
            f"--data-dir {data_dir} does not exist or is not a folder; it should hold "
            f"{REGISTRY[dataset].data_dir_hint}"
        )
    return data_dir


# --- Text: UTF-8 files and the registered corpora --------------------------------

KOREAN_LEGACY_ENCODINGS = ("cp949", "euc-kr")  # 한국어 Windows의 옛 인코딩


def read_text(path):
    """Reads a UTF-8 text file: returns str with Unix newlines, NFC-normalised, without a byte-order mark.

    NFC joins Hangul typed as separate jamo (macOS file names and some editors) back into syllables,
    so '한' is one character, not three. A file that is not UTF-8 stops with the byte offset and,
    when it reads as CP949/EUC-KR, the `iconv` command that converts it.
    """
    import unicodedata

    path = Path(path)
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise DataError(f"{path} is a folder; give a UTF-8 text file") from None
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror or e}") from None
    if not raw.strip():
        raise DataError(f"{path} is empty; give a UTF-8 text file with some text in it")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        hint = "convert it to UTF-8 first (e.g. with iconv) or give another file"
        for encoding in KOREAN_LEGACY_ENCODINGS:
            try:
                raw.decode(encoding)
            except UnicodeDecodeError:
                continue
            hint = (f"it reads as {encoding.upper()} (Korean Windows text): convert it with "
                    f"`iconv -f {encoding.upper()} -t UTF-8 {path} > {path.with_suffix('.utf8' + path.suffix)}`")
            break
        raise DataError(f"{path} is not UTF-8 text: byte {e.start} (0x{raw[e.start]:02x}) cannot be decoded; {hint}") from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def load_corpus(name, data_dir=None):
    """Returns (text, path) of a registered corpus (TEXT_CORPORA).

    `data_dir` holds the user's copy; otherwise the download cache (tiny_shakespeare downloads
    on first use; korean_novels has no single-file download, so it must already be there).
    A user's copy whose checksum differs from the measured one is read anyway, with a note.
    """
    dataset = REGISTRY[name]
    remote = dataset.files[0]
    if data_dir is not None:
        path = _user_dir(data_dir, name) / remote.filename
        if not path.exists():
            raise DataError(f"{data_dir} lacks {remote.filename}; it should hold {dataset.data_dir_hint}")
    elif not remote.urls:
        path = cache_dir() / name / remote.filename
        if not path.exists():
            raise DataError(
                f"{name} has no download: put {dataset.data_dir_hint} in a folder and pass "
                f"--data-dir FOLDER, or copy it to {path}; the texts come from {dataset.homepage}. "
                "Any UTF-8 file works with --text FILE"
            )
    else:
        path = fetch(name) / remote.filename
    text = read_text(path)
    if sha256_of(path) != remote.sha256:
        print(f"note: {path} differs from the copy the course measured (sha256 {remote.sha256[:12]}…); "
              "numbers will differ from the README's")
    return text, path


# --- MNIST and Fashion-MNIST: IDX files -----------------------------------------

def read_idx(path, expected_magic, fix="replace it with a complete copy"):
    """Reads an IDX file (optionally .gz) into a uint8 array, checking magic number and size."""
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path} is truncated or corrupt ({e}); {fix}") from None
    if len(raw) < 8:
        raise DataError(f"{path} is too short to be an IDX file ({len(raw)} bytes); {fix}")
    magic = int.from_bytes(raw[:4], "big")
    if magic != expected_magic:
        kind = "images" if expected_magic == IDX_IMAGES_MAGIC else "labels"
        raise DataError(
            f"{path} has magic number {magic:#010x}, expected {expected_magic:#010x} for IDX {kind}; "
            f"is it the right file? {fix}"
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        raise DataError(
            f"{path} holds {len(raw)} bytes but its header promises {expected} (shape {dims}); "
            f"the file is truncated or damaged: {fix}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def load_mnist(data_dir=None):
    """Returns (x_train, y_train), (x_test, y_test) as uint8 arrays, images (N, 28, 28).

    The images keep MNIST's convention (background 0, ink 255); a copy with a light
    background (some re-rendered copies store 255 - pixel) is refused with a message.
    """
    name = "mnist"
    dataset = REGISTRY[name]
    if data_dir is not None:
        folder = _user_dir(data_dir, name)
        fix = "replace it with a complete copy"
    else:
        folder = fetch(name)
        fix = "delete it so that the next run downloads it again"
    arrays = []
    for remote in dataset.files:
        path = folder / remote.filename
        if not path.exists() and (folder / remote.filename[:-3]).exists():
            path = folder / remote.filename[:-3]  # already gunzipped by the user
        if not path.exists():
            raise DataError(f"--data-dir {folder} lacks {remote.filename}; it should hold {dataset.data_dir_hint}")
        magic = IDX_IMAGES_MAGIC if "images" in remote.filename else IDX_LABELS_MAGIC
        arrays.append((path, read_idx(path, magic, fix)))
    (p_xtr, x_train), (p_ytr, y_train), (p_xte, x_test), (p_yte, y_test) = arrays
    for (p_x, x), (p_y, y) in (((p_xtr, x_train), (p_ytr, y_train)), ((p_xte, x_test), (p_yte, y_test))):
        if x.ndim != 3 or x.shape[1:] != (28, 28):
            raise DataError(f"{p_x} holds images of shape {x.shape[1:]}, expected (28, 28); {fix}")
        if len(x) != len(y):
            raise DataError(f"{p_x} has {len(x)} images but {p_y} has {len(y)} labels; {fix}")
        if y.size and y.max() > 9:
            raise DataError(f"{p_y} has label {y.max()}, expected 0..9; {fix}")
        border = np.concatenate([x[:, 0, :], x[:, -1, :], x[:, :, 0], x[:, :, -1]], axis=1)
        if x.size and border.mean() > 127:
            raise DataError(
                f"{p_x} has light backgrounds (mean border pixel {border.mean():.0f} of 255), but MNIST's "
                f"files have black backgrounds (0) and white ink (255): it is an inverted or re-rendered copy; {fix}"
            )
    return (x_train, y_train), (x_test, y_test)


# --- CIFAR-10: binary version ---------------------------------------------------

CIFAR10_RECORD = 1 + 32 * 32 * 3  # one label byte, then 1024 red, 1024 green, 1024 blue
CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR10_TEST_FILE = "test_batch.bin"


def read_cifar10_batch(path, fix="replace it with a complete copy"):
    """Reads one binary CIFAR-10 batch: returns images (N, 32, 32, 3) uint8 and labels (N,)."""
    path = Path(path)
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % CIFAR10_RECORD:
        raise DataError(
            f"{path} holds {raw.size} bytes, not a whole number of {CIFAR10_RECORD}-byte records; "
            f"the file is truncated or is not a CIFAR-10 binary batch: {fix}"
        )
    records = raw.reshape(-1, CIFAR10_RECORD)
    labels = records[:, 0].copy()
    if labels.max() > 9:
        raise DataError(f"{path} has label {labels.max()}, expected 0..9; is it a CIFAR-10 binary batch? {fix}")
    images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def load_cifar10(data_dir=None):
    """Returns (x_train, y_train), (x_test, y_test), class_names; images (N, 32, 32, 3) uint8."""
    if data_dir is not None:
        folder = _user_dir(data_dir, "cifar10")
        if (folder / "cifar-10-batches-bin").is_dir():
            folder = folder / "cifar-10-batches-bin"
        fix = "replace it with a complete copy"
    else:
        cache = fetch("cifar10")
        folder = cache / "cifar-10-batches-bin"
        if not folder.is_dir():
            if not writable(cache):
                raise read_only_cache_error("cifar10", "the extracted folder cifar-10-batches-bin/")
            safe_extract(cache / "cifar-10-binary.tar.gz", cache)
        fix = "delete the folder cifar-10-batches-bin/ in the cache so that the next run extracts it again"
    for filename in CIFAR10_TRAIN_FILES + (CIFAR10_TEST_FILE,):
        if not (folder / filename).exists():
            raise DataError(f"{folder} lacks {filename}; it should be {REGISTRY['cifar10'].data_dir_hint}")
    train = [read_cifar10_batch(folder / f, fix) for f in CIFAR10_TRAIN_FILES]
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    x_test, y_test = read_cifar10_batch(folder / CIFAR10_TEST_FILE, fix)
    class_names = CIFAR10_CLASSES
    meta = folder / "batches.meta.txt"
    if meta.exists():
        names = tuple(line.strip() for line in meta.read_text().splitlines() if line.strip())
        if len(names) == 10:
            class_names = names
    return (x_train, y_train), (x_test, y_test), class_names


def safe_extract(archive, dest):
    """Extracts a tar or .zip archive into dest, refusing members that would land outside it.

    Links, devices, absolute paths and '..' are refused before anything is written; the members
    go to a temporary folder inside dest first and are moved into place only when all of them
    came out, so a truncated or corrupt archive leaves nothing half-done. The macOS metadata
    folder __MACOSX/ that some zips carry is skipped.
    """
    archive, dest = Path(archive), Path(dest)
    root = dest.resolve()

    def check(name, plain):
        if not plain or not (root / name).resolve().is_relative_to(root):
            raise DataError(
                f"{archive} contains an unsafe entry {name!r} (a link, a device, or a "
                "path outside the target folder); delete the archive and download it again"
            )

    try:
        # 임시 폴더(temporary folder)에 먼저 풀고 모두 나온 뒤에 옮깁니다
        with tempfile.TemporaryDirectory(dir=dest) as tmp:
            if archive.suffix == ".zip":
                with zipfile.ZipFile(archive) as zf:
                    members = [m for m in zf.infolist() if not m.filename.startswith("__MACOSX/")]
                    for member in members:
                        kind = stat.S_IFMT(member.external_attr >> 16)  # 0 when the zip records no Unix mode
                        check(member.filename, kind in (0, stat.S_IFREG, stat.S_IFDIR))
                    zf.extractall(tmp, members=members)
            else:
                with tarfile.open(archive) as tar:
                    members = tar.getmembers()
                    for member in members:
                        check(member.name, member.isfile() or member.isdir())
                    if hasattr(tarfile, "data_filter"):
                        tar.extractall(tmp, members=members, filter="data")
                    else:
                        tar.extractall(tmp, members=members)
            for entry in Path(tmp).iterdir():
                if not (dest / entry.name).exists():
                    shutil.move(str(entry), dest / entry.name)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, OSError) as e:
        raise DataError(f"{archive} is truncated or corrupt ({e}); delete it and run again to download it anew") from None


# --- Flickr8k: photos and their captions ----------------------------------------

FLICKR8K_CAPTIONS = "Flickr8k.token.txt"  # 'NAME.jpg#0<tab>caption', five lines per photo
FLICKR8K_SPLITS = {"train": "Flickr_8k.trainImages.txt", "val": "Flickr_8k.devImages.txt",
                   "test": "Flickr_8k.testImages.txt"}
FLICKR8K_IMAGE_DIRS = ("Flicker8k_Dataset", "Flickr8k_Dataset")  # the zip spells it "Flicker8k"


def _flickr8k_layout(folder):
    """(text folder, image folder) found under folder; None for one that is not there."""
    text = next((d for d in (folder / "Flickr8k_text", folder) if (d / FLICKR8K_CAPTIONS).is_file()), None)
    images = next((folder / d for d in FLICKR8K_IMAGE_DIRS if (folder / d).is_dir()), None)
    return text, images


def load_flickr8k(data_dir=None):
    """Returns {"train": [(path, [caption, ...]), ...], "val": [...], "test": [...]}, the official splits.

    The splits are the ones distributed with the captions (6,000 / 1,000 / 1,000 photos; "val" is the
    "dev" list), in the order of their files. Images are checked to exist, not decoded (load_images
    decodes them). Listed photos that are missing, or have no caption, are skipped with one warning line.
    Without data_dir the two zips are downloaded into the cache and extracted there once.
    """
    name = "flickr8k"
    hint = REGISTRY[name].data_dir_hint
    if data_dir is not None:
        folder = _user_dir(data_dir, name)
        fix = "replace it with a complete copy"
        text_dir, image_dir = _flickr8k_layout(folder)
    else:
        folder = fetch(name)
        fix = f"delete the folder {folder} so that the next run downloads and extracts it again"
        text_dir, image_dir = _flickr8k_layout(folder)
        for archive, found in (("Flickr8k_text.zip", text_dir), ("Flickr8k_Dataset.zip", image_dir)):
            if found is None:
                if not writable(folder):
                    raise read_only_cache_error(name, f"the contents of {archive}, extracted")
                safe_extract(folder / archive, folder)
        text_dir, image_dir = _flickr8k_layout(folder)
    if text_dir is None:
        raise DataError(f"{folder} lacks {FLICKR8K_CAPTIONS}; it should hold {hint}")
    if image_dir is None:
        raise DataError(f"{folder} lacks the photo folder {FLICKR8K_IMAGE_DIRS[0]}/; it should hold {hint}")

    tokens = text_dir / FLICKR8K_CAPTIONS
    captions = {}  # 사진 이름 -> 설명문(caption) 목록
    for number, line in enumerate(read_text(tokens).splitlines(), start=1):
        if not line.strip():
            continue
        key, tab, caption = line.strip().partition("\t")
        image, hash_sign, _ = key.partition("#")
        if not (tab and hash_sign and image and caption.strip()):
            raise DataError(f"{tokens} line {number}: expected 'PHOTO.jpg#N<tab>caption', got {line[:80]!r}; {fix}")
        captions.setdefault(image, []).append(caption.strip())

    present = set(os.listdir(image_dir))
    splits, skipped = {}, []
    for split, filename in FLICKR8K_SPLITS.items():
        path = text_dir / filename
        if not path.is_file():
            raise DataError(f"{text_dir} lacks {filename}; it should hold {hint}")
        names = [n.strip() for n in read_text(path).splitlines() if n.strip()]
        absent = sum(n not in present for n in names)
        uncaptioned = sum(n in present and n not in captions for n in names)
        splits[split] = [(image_dir / n, captions[n]) for n in names if n in present and n in captions]
        if not splits[split]:
            raise DataError(
                f"none of the {len(names)} photos listed in {path} can be used ({absent} not in {image_dir}, "
                f"{uncaptioned} without a caption in {tokens}); {fix}"
            )
        if absent or uncaptioned:
            skipped.append(f"{split} {absent + uncaptioned} of {len(names)}")
    if skipped:
        print(f"warning: flickr8k: skipping photos missing from {image_dir} or without a caption: "
              f"{', '.join(skipped)}", file=sys.stderr)
    return splits


# --- COCO-QA: questions about COCO photos (a user's copy) -------------------------

COCOQA_FILES = ("questions.txt", "answers.txt", "img_ids.txt", "types.txt")  # one line per question, in step
COCOQA_TYPES = ("object", "number", "color", "location")  # types.txt holds 0-3
COCOQA_IMAGE_DIRS = ("images", "train2014", "val2014")  # COCO-QA train uses train2014 photos, test val2014
COCOQA_HINT = ("train/ and test/ (each with questions.txt, answers.txt, img_ids.txt, types.txt, as in the COCO-QA "
               "zip) and the COCO photos in images/ (or train2014/ and val2014/), named COCO_train2014_<id>.jpg, "
               "<id>.jpg or anything ending in the image id")
COCO_IMAGE_ID = re.compile(r"(\d+)\.(?:jpe?g|png)$", re.IGNORECASE)


def load_cocoqa(data_dir, image_size):
    """Returns {"train": split, "test": split} from a COCO-QA copy (Ren et al. 2015) and the COCO photos.

    A split is a dict: "images" (pictures, P x size x size x 3 uint8, each photo decoded once), "scene_ids"
    (for every question, the index of its picture), "questions", "answers", "types" (COCOQA_TYPES names).
    Questions whose photo is missing or unreadable are skipped with one warning line; if none remain, one
    line says so. The photos are not downloaded (COCO is 19 GB): pass the folder with --data-dir.
    """
    folder = Path(data_dir)
    if not folder.is_dir():
        raise DataError(f"--data-dir {folder} does not exist or is not a folder; it should hold {COCOQA_HINT}")
    photos = {}  # COCO 번호 -> 사진 파일
    for name in COCOQA_IMAGE_DIRS:
        if (folder / name).is_dir():
            for entry in os.scandir(folder / name):
                if match := COCO_IMAGE_ID.search(entry.name):
                    photos.setdefault(int(match.group(1)), Path(entry.path))
    if not photos:
        raise DataError(f"{folder} has no photos in {', '.join(d + '/' for d in COCOQA_IMAGE_DIRS)}; it should hold "
                        f"{COCOQA_HINT}")
    splits = {}
    for split in ("train", "test"):
        columns = []
        for filename in COCOQA_FILES:
            path = folder / split / filename
            if not path.is_file():
                raise DataError(f"{folder} lacks {split}/{filename}; it should hold {COCOQA_HINT}")
            columns.append([line.strip() for line in read_text(path).splitlines() if line.strip()])
        if len({len(c) for c in columns}) != 1:
            counts = ", ".join(f"{f} {len(c)}" for f, c in zip(COCOQA_FILES, columns))
            raise DataError(f"{folder / split}: the four files must have one line per question, but have {counts}; "
                            "replace them with a complete copy")
        questions, answers, ids, types = columns
        for number, (image_id, kind) in enumerate(zip(ids, types), start=1):
            if not image_id.isdigit() or kind not in ("0", "1", "2", "3"):
                raise DataError(f"{folder / split} line {number}: expected an image number in img_ids.txt and 0-3 in "
                                f"types.txt, got {image_id!r} and {kind!r}; replace them with a complete copy")
        wanted = sorted({int(i) for i in ids} & photos.keys())
        images, kept = load_images([photos[i] for i in wanted], image_size) if wanted else (None, [])
        place = {wanted[k]: n for n, k in enumerate(kept)}  # 읽힌 사진만 번호를 받습니다
        rows = [r for r, image_id in enumerate(ids) if int(image_id) in place]
        if not rows:
            raise DataError(f"none of the {len(ids)} {split} questions has its photo in {folder} "
                            f"({', '.join(d + '/' for d in COCOQA_IMAGE_DIRS)}); it should hold {COCOQA_HINT}")
        if len(rows) < len(ids):
            print(f"warning: cocoqa: skipping {len(ids) - len(rows)} of {len(ids)} {split} questions whose photo is "
                  "missing or unreadable", file=sys.stderr)
        splits[split] = {
            "images": images,
            "scene_ids": np.array([place[int(ids[r])] for r in rows], dtype=np.int32),
            "questions": np.array([questions[r] for r in rows]),
            "answers": np.array([answers[r] for r in rows]),
            "types": np.array([COCOQA_TYPES[int(types[r])] for r in rows]),
        }
    return splits


# --- Iris: a bundled CSV ----------------------------------------------------------

def load_iris(path=None):
    """Returns features (150, 4) float32, labels (150,) int64 and the class names.

    The file ships with the code (Iris is tiny and public domain), so this works offline.
    """
    remote = REGISTRY["iris"].files[0]
    path = Path(path) if path is not None else BUNDLED_DIR / remote.filename
    if not path.exists():
        raise DataError(f"{path} does not exist; it should be {REGISTRY['iris'].data_dir_hint}")
    if path.parent == BUNDLED_DIR and sha256_of(path) != remote.sha256:
        raise DataError(f"{path} does not match its checksum; restore it with `git checkout -- {path.name}`")
    features, labels = [], []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split(",")
        if len(fields) != 5 or fields[4] not in IRIS_CLASSES:
            raise DataError(f"{path} line {number}: expected 4 numbers and a species name, got {line!r}")
        features.append([float(v) for v in fields[:4]])
        labels.append(IRIS_CLASSES.index(fields[4]))
    return np.array(features, dtype=np.float32), np.array(labels, dtype=np.int64), IRIS_CLASSES


# --- Image folders: one sub-folder per class ------------------------------------

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")


def list_image_folder(directory):
    """Returns (paths, labels, class_names) for a folder with one sub-folder per class.

    Every class folder must hold at least one file that decodes as an image. One that is empty, or
    whose files are all unreadable (a zero-byte .jpg, a PDF renamed .jpg), stops here with the same
    error: otherwise a model would be trained, and exported, with a class it has never seen. Single
    unreadable files among good ones are listed; load_images skips them with a warning.
    """
    from PIL import Image, UnidentifiedImageError

    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"image folder {directory} does not exist; it should hold one sub-folder of images per class")
    class_dirs = sorted(d for d in directory.iterdir() if d.is_dir() and not d.name.startswith("."))
    if len(class_dirs) < 2:
        raise DataError(
            f"image folder {directory} has {len(class_dirs)} class sub-folder(s); a classifier needs "
            "at least two (one sub-folder of images per class)"
        )
    paths, labels = [], []
    for label, class_dir in enumerate(class_dirs):
        files = sorted(p for p in class_dir.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        problems = []
        for path in files:  # stops at the first file that decodes (usually the first one)
            try:
                with Image.open(path) as image:
                    image.load()
                break
            except (UnidentifiedImageError, OSError, ValueError) as e:
                problems.append(f"warning: skipping {path}: not a readable image ({e})")
        else:  # no file decoded, or there were none
            for problem in problems:
                print(problem, file=sys.stderr)
            raise DataError(
                f"class folder {class_dir} has no images ({', '.join(IMAGE_SUFFIXES)}); add some or remove the folder"
            )
        paths += files
        labels += [label] * len(files)
    return paths, np.array(labels, dtype=np.int64), tuple(d.name for d in class_dirs)


def load_images(paths, size):
    """Decodes images to uint8 arrays of shape (size, size, 3), skipping unreadable files.

    Returns (images, kept) where `kept` indexes the paths that decoded. A file that is
    not an image is skipped with a warning naming it.
    """
    from PIL import Image, UnidentifiedImageError

    images, kept = [], []
    for i, path in enumerate(paths):
        try:
            with Image.open(path) as image:
                image = image.convert("RGB").resize((size, size), Image.BILINEAR)
                images.append(np.asarray(image, dtype=np.uint8))
            kept.append(i)
        except (UnidentifiedImageError, OSError, ValueError) as e:
            print(f"warning: skipping {path}: not a readable image ({e})", file=sys.stderr)
    if not images:
        raise DataError(f"none of the {len(paths)} files could be read as an image")
    return np.stack(images), np.array(kept, dtype=np.int64)


# --- Segmentation: image/ + label/ folders of pairs ----------------------------

SEGMENTATION_IMAGE_DIRS = ("image", "images")
SEGMENTATION_LABEL_DIRS = ("label", "labels", "mask", "masks")
MAX_LABEL_VALUES = 32  # more distinct mask values than this: the masks are not class maps (JPEG noise, photos)


@dataclasses.dataclass
class SegmentationSet:
    names: list  # file stems, in natural order (2 before 10)
    images: np.ndarray  # (n, height, width, channels) uint8, channels 1 (grey) or 3 (colour)
    masks: np.ndarray  # (n, height, width) uint8 class numbers 0..len(label_values)-1
    label_values: tuple  # the mask pixel value of each class


def natural_key(path):
    """Sort key that puts "2.png" before "10.png"."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", Path(path).name)]


def _first_dir(folder, names):
    return next((folder / n for n in names if (folder / n).is_dir()), None)


def _open_image(path, what):
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            return image.copy()
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise DataError(f"cannot read {path} as an image ({e}); replace the {what} or remove the pair") from None


def _mask_array(image, path):
    """A mask image -> 2-D array of its pixel values (grey level, or palette index for palette PNGs)."""
    if image.mode in ("RGB", "RGBA"):
        rgb = np.asarray(image.convert("RGB"))
        if not (np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2])):
            raise DataError(
                f"mask {path} is a colour picture; save masks with one channel (grey or palette PNG) whose "
                "values are the classes, e.g. 0 = background, 1 = tumour"
            )
        return rgb[..., 0]
    if image.mode == "1":
        image = image.convert("L")
    return np.asarray(image)


def load_segmentation_folder(folder, label_values=None):
    """Reads a folder with image/ and label/ (the masks, same file names) into a SegmentationSet.

    label_values: the mask pixel value of each class, in class order (e.g. (0, 255) for the membranes, or
    (0, 1, 2, 4) for BraTS). A mask pixel with another value is an error. None: the values found in the
    masks, sorted (at most MAX_LABEL_VALUES of them). Every problem is one line naming the file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"--data-dir {folder} does not exist or is not a folder; it should hold image/ and label/ "
                        "(masks with the same file names as the images)")
    image_dir = _first_dir(folder, SEGMENTATION_IMAGE_DIRS)
    if image_dir is None:
        raise DataError(f"{folder} has no image/ folder; put the pictures in {folder / 'image'} and their masks, "
                        f"with the same file names, in {folder / 'label'}")
    paths = sorted((p for p in image_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=natural_key)
    if not paths:
        raise DataError(f"{image_dir} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    label_dir = _first_dir(folder, SEGMENTATION_LABEL_DIRS)
    if label_dir is None:
        raise DataError(f"{folder} has images but no label/ folder with their masks; put each mask in "
                        f"{folder / 'label'} under its image's file name (e.g. label/{paths[0].stem}.png)")
    masks_by_stem = {p.stem: p for p in label_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
    images, masks = [], []
    for path in paths:
        mask_path = masks_by_stem.get(path.stem)
        if mask_path is None:
            raise DataError(f"{path} has no mask: expected {label_dir / (path.stem + '.png')} (same file name)")
        image, mask = _open_image(path, "image"), _open_image(mask_path, "mask")
        if image.size != mask.size:
            raise DataError(f"{path} is {image.size[0]}x{image.size[1]} but its mask {mask_path} is "
                            f"{mask.size[0]}x{mask.size[1]}; an image and its mask must have the same size")
        if images and image.size != images[0].size:
            raise DataError(f"{path} is {image.size[0]}x{image.size[1]} but {paths[0]} is "
                            f"{images[0].size[0]}x{images[0].size[1]}; give every image the same size")
        images.append(image)
        masks.append(_mask_array(mask, mask_path))
    colour = any(image.mode not in ("L", "1", "I", "I;16", "F") for image in images)
    pixels = np.stack([np.asarray(image.convert("RGB" if colour else "L")) for image in images])
    if not colour:
        pixels = pixels[..., None]
    values = np.stack(masks)
    found = np.unique(values)
    if label_values is None:
        if len(found) > MAX_LABEL_VALUES:
            raise DataError(
                f"the masks in {label_dir} hold {len(found)} different values; a mask holds one value per class "
                "(JPEG masks blur them: save masks as PNG), or list the classes' values with --label-values"
            )
        label_values = tuple(int(v) for v in found)
    label_values = tuple(int(v) for v in label_values)
    unknown = np.setdiff1d(found, label_values)
    if len(unknown):
        index = int(np.flatnonzero(np.isin(values, unknown).any(axis=(1, 2)))[0])
        raise DataError(
            f"mask {masks_by_stem[paths[index].stem]} has value {int(np.setdiff1d(np.unique(values[index]), label_values)[0])}, "
            f"which is not in the class list {','.join(map(str, label_values))}; give every value the masks use "
            "with --label-values (e.g. --label-values 0,1,2,4)"
        )
    if len(label_values) < 2:
        raise DataError(f"every mask in {label_dir} holds only the value {label_values[0]}: nothing to tell apart; "
                        "a segmentation needs at least two classes")
    classes = np.searchsorted(np.array(label_values), values).astype(np.uint8)  # 값 -> 클래스 번호 0, 1, ...
    return SegmentationSet([p.stem for p in paths], pixels.astype(np.uint8), classes, label_values)


# --- tf.data pipeline -----------------------------------------------------------

def make_pipeline(x, y=None, *, batch_size, shuffle=False, seed=None, augment=None, cache=True, drop_remainder=False):
    """A tf.data pipeline over in-memory arrays: cache, shuffle, batch, augment, prefetch.

    `augment` (optional) maps a batch (x, y) to (x, y) and runs after batching, where
    vectorised ops are fastest. Shuffling reshuffles every epoch.
    """
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if augment is not None:
        ds = ds.map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
