"""Flickr8k: the loader on a user's copy and on the cache, MD5-pinned downloads, and safe zip extraction."""

import hashlib
import shutil
import stat
import zipfile

import pytest

from common import data
from tests import fakes, helpers


def md5_remote(path, md5=None):
    """A RemoteFile pinned by MD5 only (as Flickr8k's are), served from the local disk (no network)."""
    digest = md5 or hashlib.md5(path.read_bytes()).hexdigest()
    return data.RemoteFile(path.name, "", (path.resolve().as_uri(),), md5=digest)


def test_registry_pins_both_zips_by_md5():
    files = {r.filename: r for r in data.REGISTRY["flickr8k"].files}
    assert files["Flickr8k_text.zip"].md5 == "bf6c1abcb8e4a833b7f922104de18627"
    assert files["Flickr8k_Dataset.zip"].md5 == "f18a1e2920de5bd84dae7cf08ec78978"
    assert all(r.urls and not r.sha256 for r in files.values())


def test_load_from_data_dir(tmp_path, capsys):
    fakes.write_flickr8k(tmp_path, n_train=12, n_val=4, n_test=4)
    splits = data.load_flickr8k(tmp_path)
    assert {k: len(v) for k, v in splits.items()} == {"train": 12, "val": 4, "test": 4}
    listed = (tmp_path / "Flickr8k_text" / "Flickr_8k.devImages.txt").read_text().split()
    assert [path.name for path, _ in splits["val"]] == listed  # the order of the split file
    for path, captions in sum(splits.values(), []):
        assert path.is_file() and path.parent == tmp_path / "Flicker8k_Dataset"
        assert len(captions) == 5 and all(c == c.strip() and c.startswith("A ") for c in captions)
    first_line = (tmp_path / "Flickr8k_text" / "Flickr8k.token.txt").read_text().splitlines()[0]
    name, caption = first_line.split("#0\t")
    assert splits["train"][0][0].name == name and splits["train"][0][1][0] == caption
    assert capsys.readouterr().err == ""  # nothing skipped, nothing to warn about


def test_other_layout_crlf_and_blank_lines(tmp_path):
    """Flickr8k_Dataset/ spelled right, the text files in the folder itself, Windows line ends."""
    fakes.write_flickr8k(tmp_path / "src")
    (tmp_path / "src" / "Flicker8k_Dataset").rename(tmp_path / "Flickr8k_Dataset")
    for file in (tmp_path / "src" / "Flickr8k_text").iterdir():
        (tmp_path / file.name).write_bytes(file.read_bytes().replace(b"\n", b"  \r\n\r\n"))
    splits = data.load_flickr8k(tmp_path)
    assert len(splits["train"]) == 12 and splits["train"][0][0].parent.name == "Flickr8k_Dataset"
    assert all(len(c) == 5 and not c[0].endswith(" ") for _, c in splits["train"])


def test_missing_photos_and_captions_are_skipped_with_one_warning(tmp_path, capsys):
    fakes.write_flickr8k(tmp_path)
    text = tmp_path / "Flickr8k_text"
    train = (text / "Flickr_8k.trainImages.txt").read_text().split()
    val = (text / "Flickr_8k.devImages.txt").read_text().split()
    (tmp_path / "Flicker8k_Dataset" / train[3]).unlink()
    (tmp_path / "Flicker8k_Dataset" / train[5]).unlink()
    tokens = text / "Flickr8k.token.txt"
    tokens.write_text("".join(line for line in tokens.read_text().splitlines(True) if not line.startswith(val[0])))
    splits = data.load_flickr8k(tmp_path)
    assert len(splits["train"]) == 10 and len(splits["val"]) == 3 and len(splits["test"]) == 4
    assert train[3] not in {p.name for p, _ in splits["train"]} and val[0] not in {p.name for p, _ in splits["val"]}
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: flickr8k:")
    assert err[0].endswith("train 2 of 12, val 1 of 4")


def test_a_split_with_no_usable_photo_stops(tmp_path):
    fakes.write_flickr8k(tmp_path)
    for name in (tmp_path / "Flickr8k_text" / "Flickr_8k.testImages.txt").read_text().split():
        (tmp_path / "Flicker8k_Dataset" / name).unlink()
    with pytest.raises(data.DataError) as info:
        data.load_flickr8k(tmp_path)
    message = str(info.value)
    assert "none of the 4 photos listed in" in message and "Flickr_8k.testImages.txt" in message
    assert f"(4 not in {tmp_path / 'Flicker8k_Dataset'}, 0 without a caption" in message
    assert "replace it with a complete copy" in message and "\n" not in message


def test_malformed_caption_line_names_the_line(tmp_path):
    fakes.write_flickr8k(tmp_path)
    tokens = tmp_path / "Flickr8k_text" / "Flickr8k.token.txt"
    lines = tokens.read_text().splitlines()
    lines[2] = lines[2].replace("\t", " ")  # a tab turned into a space by an editor
    tokens.write_text("\n".join(lines))
    with pytest.raises(data.DataError, match=r"Flickr8k.token.txt line 3: expected 'PHOTO.jpg#N<tab>caption'"):
        data.load_flickr8k(tmp_path)


@pytest.mark.parametrize("missing", ["Flickr8k.token.txt", "Flickr_8k.devImages.txt", "Flicker8k_Dataset"])
def test_missing_file_or_folder_names_it_and_the_layout(tmp_path, missing):
    fakes.write_flickr8k(tmp_path)
    target = tmp_path / "Flickr8k_text" / missing
    if missing == "Flicker8k_Dataset":
        target = tmp_path / missing
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    with pytest.raises(data.DataError) as info:
        data.load_flickr8k(tmp_path)
    assert "lacks" in str(info.value) and missing in str(info.value)
    assert "it should hold the two folders of Flickr8k_Dataset.zip and Flickr8k_text.zip" in str(info.value)
    with pytest.raises(data.DataError, match="does not exist"):
        data.load_flickr8k(tmp_path / "nowhere")


# --- The cache: MD5-pinned downloads, extracted once ---------------------------------

def test_cache_downloads_verifies_and_extracts_once(tmp_path, monkeypatch):
    text_zip, photo_zip = fakes.write_flickr8k_zips(tmp_path / "src", tmp_path / "server", n_train=6, n_val=2, n_test=3)
    dataset = data.REGISTRY["flickr8k"]
    monkeypatch.setitem(data.REGISTRY, "flickr8k", data.Dataset(
        "flickr8k", "fake", (md5_remote(text_zip), md5_remote(photo_zip)), dataset.homepage, dataset.data_dir_hint))
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "cache"))
    splits = data.load_flickr8k()
    cache = tmp_path / "cache" / "flickr8k"
    assert {k: len(v) for k, v in splits.items()} == {"train": 6, "val": 2, "test": 3}
    assert all(path.parent == cache / "Flicker8k_Dataset" and path.is_file() for path, _ in splits["test"])
    assert (cache / "Flickr8k.token.txt").is_file()  # the text zip holds its files at the top
    assert not (cache / "__MACOSX").exists()
    assert not [p for p in cache.iterdir() if p.name.endswith(".part") or p.name.startswith("tmp")]

    # The second time: no download, no extraction.
    monkeypatch.setattr(data, "download", helpers.no_download)
    monkeypatch.setattr(data, "safe_extract", lambda *a: pytest.fail("extracted the zips again"))
    assert data.load_flickr8k() == splits


def test_offline_cache_has_flickr8k(offline_cache):
    splits = data.load_flickr8k()
    assert {k: len(v) for k, v in splits.items()} == {"train": 12, "val": 4, "test": 4}


def test_md5_pinned_download(tmp_path):
    source = tmp_path / "Flickr8k_text.zip"
    source.write_bytes(b"captions")
    dest = data.download(md5_remote(source), tmp_path / "cache" / source.name, progress=False)
    assert dest.read_bytes() == b"captions"
    with pytest.raises(data.DataError, match="checksum mismatch: expected md5 0{32}, got "):
        data.download(md5_remote(source, md5="0" * 32), tmp_path / "other" / source.name, progress=False)
    assert list((tmp_path / "other").iterdir()) == []


# --- Safe zip extraction --------------------------------------------------------

def evil_zip(path, name, mode=None):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("fine.txt", b"ok")
        info = zipfile.ZipInfo(name)
        if mode is not None:
            info.external_attr = mode << 16
        zf.writestr(info, b"/etc/passwd")
    return path


@pytest.mark.parametrize("name, mode", [("../evil.txt", None), ("/tmp/evil.txt", None),
                                        ("link", stat.S_IFLNK | 0o777)], ids=["dotdot", "absolute", "symlink"])
def test_unsafe_zip_is_refused(tmp_path, name, mode):
    archive = evil_zip(tmp_path / "evil.zip", name, mode)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(data.DataError, match=f"evil.zip contains an unsafe entry {name!r}"):
        data.safe_extract(archive, out)
    assert list(out.iterdir()) == [] and not (tmp_path / "evil.txt").exists()


@pytest.mark.parametrize("damage", ["truncated", "flipped-byte"])
def test_corrupt_zip_leaves_nothing(tmp_path, damage):
    _, archive = fakes.write_flickr8k_zips(tmp_path / "src", tmp_path / "server")
    raw = bytearray(archive.read_bytes())
    if damage == "truncated":
        raw = raw[: len(raw) // 2]
    else:
        raw[200] ^= 0xFF  # inside the first photo's compressed bytes
    archive.write_bytes(bytes(raw))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(data.DataError, match="Flickr8k_Dataset.zip is truncated or corrupt .*delete it and run again"):
        data.safe_extract(archive, out)
    assert list(out.iterdir()) == []
