"""Tiny stand-in datasets, written in the exact on-disk formats the real ones use.

The images are learnable on purpose (class k is a bright bar at a place of its own,
plus noise), so a smoke run's loss visibly falls and a test can check that it did.
"""

import gzip
import io
import tarfile
import zipfile

import numpy as np

from common import data


def digit_images(labels, rng, size=28):
    """uint8 images (N, size, size): class k lights up row band k and column band k."""
    images = rng.integers(0, 40, size=(len(labels), size, size), dtype=np.uint8)
    for i, k in enumerate(labels):
        row = 2 + 2 * int(k)
        images[i, row:row + 2, 4:size - 4] = 255
        images[i, 4:size - 4, row:row + 2] = 200
    return images


def idx_bytes(array, magic):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_mnist(folder, n_train=600, n_test=200, seed=0, gz=True):
    """Writes the four MNIST IDX files into folder; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    y_train = rng.integers(0, 10, n_train).astype(np.uint8)
    y_test = rng.integers(0, 10, n_test).astype(np.uint8)
    arrays = {
        "train-images-idx3-ubyte": (digit_images(y_train, rng), data.IDX_IMAGES_MAGIC),
        "train-labels-idx1-ubyte": (y_train, data.IDX_LABELS_MAGIC),
        "t10k-images-idx3-ubyte": (digit_images(y_test, rng), data.IDX_IMAGES_MAGIC),
        "t10k-labels-idx1-ubyte": (y_test, data.IDX_LABELS_MAGIC),
    }
    for name, (array, magic) in arrays.items():
        raw = idx_bytes(array, magic)
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / name).write_bytes(raw)
    return folder


def cifar_records(n, rng):
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = rng.integers(0, 60, size=(n, 32, 32, 3), dtype=np.uint8)
    for i, k in enumerate(labels):
        images[i, 3 * k:3 * k + 3, :, k % 3] = 255  # a coloured bar whose row and colour give the class
    planes = images.transpose(0, 3, 1, 2).reshape(n, -1)  # the binary format stores R, G, B planes
    return np.concatenate([labels[:, None], planes], axis=1).astype(np.uint8)


def write_cifar10(folder, n_per_batch=100, n_test=100, seed=0):
    """Writes cifar-10-batches-bin/ (binary version) under folder; returns that sub-folder."""
    batches = folder / "cifar-10-batches-bin"
    batches.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name in data.CIFAR10_TRAIN_FILES:
        cifar_records(n_per_batch, rng).tofile(batches / name)
    cifar_records(n_test, rng).tofile(batches / data.CIFAR10_TEST_FILE)
    (batches / "batches.meta.txt").write_text("\n".join(data.CIFAR10_CLASSES) + "\n")
    return batches


def tar_gz(path, members):
    """Writes a .tar.gz whose members are {name: bytes}."""
    with tarfile.open(path, "w:gz") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return path


ENGLISH_WORDS = ("the king", "my lord", "a rose", "the night", "good friend", "this crown", "her love", "our war")
ENGLISH_VERBS = ("speaks of", "sees", "loves", "fears", "remembers", "forgets")
KOREAN_SUBJECTS = ("그는", "그녀는", "선생은", "아이들은", "어머니는", "나는", "학생들은")
KOREAN_OBJECTS = ("편지를", "밥을", "책을", "꽃을", "바다를", "하늘을", "노래를")
KOREAN_VERBS = ("보았다", "읽었다", "먹었다", "불렀다", "생각하였다", "기다렸다", "사랑하였다")


def english_text(n_lines=400, seed=0):
    """Play-like English: 'NAME:' lines with simple sentences, about 40 characters a line."""
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(n_lines):
        if i % 4 == 0:
            lines.append(rng.choice(["KING:", "QUEEN:", "ROMEO:", "JULIET:"]))
        lines.append(f"{rng.choice(ENGLISH_WORDS).capitalize()} {rng.choice(ENGLISH_VERBS)} {rng.choice(ENGLISH_WORDS)}.")
    return "\n".join(lines) + "\n"


def korean_text(n_sentences=400, seed=0):
    """Novel-like Korean: subject-object-verb sentences, a blank line between 'novels' every 100."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_sentences):
        out.append(f"{rng.choice(KOREAN_SUBJECTS)} {rng.choice(KOREAN_OBJECTS)} {rng.choice(KOREAN_VERBS)}.")
        out.append("\n\n" if i % 100 == 99 else "\n" if i % 5 == 4 else " ")
    return "".join(out)


def write_texts(cache):
    """Tiny stand-ins for the text corpora, where the cache keeps them."""
    (cache / "tiny_shakespeare").mkdir(parents=True, exist_ok=True)
    (cache / "tiny_shakespeare" / "input.txt").write_text(english_text(), encoding="utf-8")
    (cache / "korean_novels").mkdir(parents=True, exist_ok=True)
    (cache / "korean_novels" / "korean_novels.txt").write_text(korean_text(), encoding="utf-8")


FLICKR_COLOURS = {"red": (220, 30, 30), "green": (30, 200, 60), "blue": (30, 60, 220), "yellow": (230, 220, 40)}
FLICKR_THINGS = ("dog", "child", "man", "ball", "bird")
FLICKR_ACTIONS = ("runs on the grass", "sits near the water", "jumps in the park", "plays in the snow")


def write_flickr8k(folder, n_train=12, n_val=4, n_test=4, seed=0):
    """Writes Flicker8k_Dataset/ (32x32 JPEGs) and Flickr8k_text/ (captions, split lists) under folder.

    Each photo is mostly one colour and its five captions name that colour, so a captioner can learn it.
    Returns the folder.
    """
    from PIL import Image

    rng = np.random.default_rng(seed)
    images, text = folder / "Flicker8k_Dataset", folder / "Flickr8k_text"
    images.mkdir(parents=True, exist_ok=True)
    text.mkdir(parents=True, exist_ok=True)
    tokens, splits = [], {}
    counts = {"Flickr_8k.trainImages.txt": n_train, "Flickr_8k.devImages.txt": n_val, "Flickr_8k.testImages.txt": n_test}
    for split_file, n in counts.items():
        splits[split_file] = []
        for _ in range(n):
            name = f"{1000000000 + len(tokens) // 5}_{rng.integers(16 ** 10):010x}.jpg"
            colour = str(rng.choice(list(FLICKR_COLOURS)))
            pixels = np.clip(np.array(FLICKR_COLOURS[colour]) + rng.integers(-20, 21, (32, 32, 3)), 0, 255)
            Image.fromarray(pixels.astype(np.uint8)).save(images / name, quality=90)
            for k in range(5):
                tokens.append(f"{name}#{k}\tA {colour} {rng.choice(FLICKR_THINGS)} {rng.choice(FLICKR_ACTIONS)} .")
            splits[split_file].append(name)
    (text / "Flickr8k.token.txt").write_text("\n".join(tokens) + "\n")
    for split_file, names in splits.items():
        (text / split_file).write_text("\n".join(names) + "\n")
    return folder


def write_cocoqa(folder, n_train=40, n_test=12, missing=1, seed=0):
    """Writes a COCO-QA copy: train/ and test/ (questions, answers, img_ids, types; one line per question) and
    the photos in train2014/ and val2014/ named as COCO names them (32x32 JPEGs, mostly one colour).

    Every photo gets one question of each type; the colour question's answer is the photo's colour, so a
    model can learn it from the picture. The last `missing` training photos are listed but not written.
    Returns the folder.
    """
    from PIL import Image

    rng = np.random.default_rng(seed)
    for split, n, photo_dir, first_id in (("train", n_train, "train2014", 1000), ("test", n_test, "val2014", 500000)):
        (folder / split).mkdir(parents=True, exist_ok=True)
        (folder / photo_dir).mkdir(parents=True, exist_ok=True)
        rows = []
        for k in range(n):
            image_id = first_id + 7 * k
            colour = str(rng.choice(list(FLICKR_COLOURS)))
            if not (split == "train" and k >= n - missing):
                pixels = np.clip(np.array(FLICKR_COLOURS[colour]) + rng.integers(-20, 21, (32, 32, 3)), 0, 255)
                Image.fromarray(pixels.astype(np.uint8)).save(folder / photo_dir / f"COCO_{photo_dir}_{image_id:012d}.jpg")
            thing = str(rng.choice(FLICKR_THINGS))
            rows += [(f"what is the color of the {thing}", colour, image_id, 2),
                     (f"how many {thing}s are in the picture", str(rng.choice(["one", "two"])), image_id, 1),
                     (f"what is standing in the {colour} room", thing, image_id, 0),
                     (f"where is the {thing}", str(rng.choice(["park", "street"])), image_id, 3)]
        for column, filename in enumerate(("questions.txt", "answers.txt", "img_ids.txt", "types.txt")):
            (folder / split / filename).write_text("\n".join(str(r[column]) for r in rows) + "\n")
    return folder


def zip_folder(folder, path, prefix=""):
    """Writes a .zip of every file under folder, named prefix + their path inside it; returns path."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                zf.write(file, prefix + file.relative_to(folder).as_posix())
    return path


def write_flickr8k_zips(folder, out, **sizes):
    """The two Flickr8k zips of a fake layout, made as the real ones are: returns (text zip, photo zip)."""
    write_flickr8k(folder, **sizes)
    out.mkdir(parents=True, exist_ok=True)
    text_zip = zip_folder(folder / "Flickr8k_text", out / "Flickr8k_text.zip")  # the files at the top
    photo_zip = zip_folder(folder / "Flicker8k_Dataset", out / "Flickr8k_Dataset.zip", "Flicker8k_Dataset/")
    with zipfile.ZipFile(photo_zip, "a") as zf:  # the real one carries macOS metadata too
        zf.writestr("__MACOSX/Flicker8k_Dataset/._1000000000_x.jpg", b"\0\5\26\7")
    return text_zip, photo_zip


def membrane_pair(rng, size=64):
    """A fake EM section and its mask: dark membrane lines (mask 0) between bright cells (mask 255)."""
    mask = np.full((size, size), 255, dtype=np.uint8)
    for _ in range(4):
        if rng.integers(2):
            mask[:, int(rng.integers(size))] = 0
        else:
            mask[int(rng.integers(size)), :] = 0
    image = np.where(mask == 0, 60, 190) + rng.normal(0, 15, size=mask.shape)
    return np.clip(image, 0, 255).astype(np.uint8), mask


def write_membranes(folder, n=30, size=64, seed=0, names=None):
    """image/N.png and label/N.png as the ISBI membrane set has them (grey PNGs), tiny."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for kind in ("image", "label"):
        (folder / kind).mkdir(parents=True, exist_ok=True)
    for name in names or [str(i) for i in range(n)]:
        image, mask = membrane_pair(rng, size)
        Image.fromarray(image).save(folder / "image" / f"{name}.png")
        Image.fromarray(mask).save(folder / "label" / f"{name}.png")
    return folder


def write_style_images(folder, seed=0):
    """A small "photo" (sky over houses) and a "painting" (swirls), as JPEGs with the cache's file names."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:48, 0:64] / 48
    photo = np.where(yy[..., None] < 0.5, (120, 170, 230), (150, 110, 80)) + rng.normal(0, 10, (48, 64, 3))
    swirl = 127 + 127 * np.sin(12 * np.hypot(xx - 0.6, yy - 0.5))[..., None] * np.array([0.3, 0.5, 1.0])
    Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)).save(folder / "tuebingen_neckarfront.jpg")
    Image.fromarray(np.clip(swirl, 0, 255).astype(np.uint8)).save(folder / "starry_night.jpg")
    return folder


def write_cache(cache):
    """A download cache holding every registered dataset in tiny form (no network needed)."""
    write_texts(cache)
    write_mnist(cache / "mnist", seed=0)
    write_cifar10(cache / "cifar10")
    (cache / "cifar10" / "cifar-10-binary.tar.gz").write_bytes(b"")  # present, so fetch() skips it
    write_flickr8k(cache / "flickr8k")
    write_membranes(cache / "isbi_membranes")
    write_style_images(cache / "style_images")
    for remote in data.REGISTRY["flickr8k"].files:
        (cache / "flickr8k" / remote.filename).write_bytes(b"")  # present, so fetch() skips them
    return cache
