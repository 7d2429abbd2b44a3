"""Inception v3 retraining: a new classifier for your own photos on top of ImageNet features (transfer learning).

요약: ImageNet으로 학습한 Inception v3가 마지막 층 직전에 만드는 특징(bottleneck, 이미지마다 2048개 숫자)을
한 번만 계산해 디스크에 저장하고, 그 위에 새 분류층(softmax)만 학습합니다(전이 학습, transfer learning).
원하면 위쪽 Inception 블록을 풀어 낮은 학습률로 이미지 전체를 다시 학습합니다(미세 조정, fine-tuning).

Run:    python week2/inception_v3_retrain.py                          (tf_flowers: 5 kinds, 3,670 photos)
        python week2/inception_v3_retrain.py --image-dir my_photos    (one sub-folder of photos per class)
Smoke:  python week2/inception_v3_retrain.py --smoke
Expect: the first run computes one bottleneck per photo, about 13 images/s at 299x299 on a 2-core
        CPU (about 5 minutes for tf_flowers; a GPU is far faster); later runs reuse them from
        the cache (300 photos: 0.2 s) and train the classifier in seconds. Validation accuracy about 0.9 on
        tf_flowers with ImageNet weights (what the original course and TensorFlow's tutorials report;
        not yet measured with this script).
        The run folder holds model.keras and labels.txt for week2/inception_v3_predict.py, training.png
        (accuracy and loss per epoch) and predictions.png (validation photos with predicted labels).

How it works:
- Stage 1 (always): InceptionV3 without its ImageNet classifier (include_top=False), averaged over
  space (pooling="avg"), turns each photo into 2,048 numbers. These bottlenecks are stored in the
  course cache (datasets/bottlenecks/, or --bottleneck-dir) keyed by a hash of each file's bytes, in a
  file named after the image size, the compute precision and a fingerprint of the network's weights,
  so extra epochs, a new learning rate or a few added photos recompute nothing but the new photos. Only the new layer
  (standardise, dropout, Dense softmax) is trained, on the stored numbers: fast even on a CPU.
- Stage 2 (--fine-tune-epochs N): the Inception blocks after --unfreeze-after (default mixed8, i.e.
  the top two blocks mixed9 and mixed10) become trainable and the whole model trains on the photos
  with a learning rate 100 times smaller, so the ImageNet features are adjusted, not destroyed. Every
  photo now goes through the network each epoch: on a CPU this is slow (minutes per epoch for
  hundreds of photos). Batch normalisation layers stay frozen, using their ImageNet statistics.
- The exported model.keras maps raw RGB pixels (0-255) to class probabilities: it contains the
  preprocessing (x / 127.5 - 1, what keras.applications.inception_v3.preprocess_input does), the
  Inception base and the new classifier.
"""

import argparse
import dataclasses
import hashlib
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # lets `import common` work from any folder

import numpy as np

from common import data, flags

# Keras' own InceptionV3 "notop" weights (keras/src/applications/inception_v3.py) and their MD5.
WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/" + WEIGHTS_FILE
WEIGHTS_MD5 = "bcbd6486424b2319ff4ef7d526e38f63"
MIN_IMAGE_SIZE = 75  # InceptionV3's smallest input: five stride-2 steps must leave at least 1x1
SMOKE_IMAGE_SIZE = 75
BOTTLENECK_FORMAT = "v1"  # part of the store's file name: change it if the decoding/resizing changes
CHUNK = 256  # photos decoded and pushed through the network at a time (bounds memory; saved after each)
GRID = 16  # validation photos shown in predictions.png

# TensorFlow takes seconds to import, so main() imports it only after the flags and the
# image folder have been checked: `--help` and a bad folder answer at once.
tf = keras = layers = logs = runtime = None


def fraction(text):
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1")
    return value


def image_size(text):
    value = int(text)
    if value < MIN_IMAGE_SIZE:
        raise argparse.ArgumentTypeError(f"{text} is too small: InceptionV3 needs at least {MIN_IMAGE_SIZE} pixels")
    return value


def parse_args(argv=None):
    parser = flags.make_parser(__file__, __doc__, epochs=20, batch_size=32, learning_rate=1e-3)
    parser.add_argument(
        "--image-dir", type=Path, default=None,
        help="your photos: one sub-folder per class, named after the class (default: tf_flowers; "
        "--data-dir DIR does the same, e.g. with tf_flowers' flower_photos/ extracted by hand)",
    )
    parser.add_argument(
        "--weights", choices=("imagenet", "none"), default=None,
        help="imagenet: download Keras' ImageNet weights once into the cache; none: random weights "
        "(offline tests only: random features classify poorly) (default: imagenet; none with --smoke)",
    )
    parser.add_argument(
        "--image-size", type=image_size, default=None,
        help="photos are resized to this many pixels square (default: 299, Inception v3's own; 75 with --smoke)",
    )
    parser.add_argument(
        "--validation-fraction", type=fraction, default=0.2,
        help="share of each class held out for validation (default: %(default)s)",
    )
    parser.add_argument(
        "--dropout", type=float, default=0.2, help="dropout before the new layer (default: %(default)s)"
    )
    parser.add_argument(
        "--fine-tune-epochs", type=int, default=0,
        help="stage 2: epochs of training the top Inception blocks on the photos (default: %(default)s)",
    )
    parser.add_argument(
        "--fine-tune-learning-rate", type=float, default=1e-5,
        help="stage 2 step size, small so that the ImageNet features are only nudged (default: %(default)s)",
    )
    parser.add_argument(
        "--unfreeze-after", default="mixed8",
        help="stage 2 trains the Inception layers after this one; mixed8: blocks mixed9 and mixed10 "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--bottleneck-dir", type=Path, default=None,
        help="where computed bottlenecks are kept (default: bottlenecks/ in the course download cache)",
    )
    args = flags.parse(parser, argv)
    if args.fine_tune_epochs < 0:
        parser.error("--fine-tune-epochs must be 0 or more")
    # Resolved after parsing, so that --smoke can choose offline, small defaults.
    args.weights = args.weights or ("none" if args.smoke else "imagenet")
    args.image_size = args.image_size or (SMOKE_IMAGE_SIZE if args.smoke else 299)
    args.bottleneck_dir = args.bottleneck_dir or data.cache_dir() / "bottlenecks"
    flags.update_json(
        args.log_dir / "config.json",
        weights=args.weights, image_size=args.image_size, bottleneck_dir=str(args.bottleneck_dir),
    )
    print(f"Using --weights {args.weights} --image-size {args.image_size}; bottlenecks in {args.bottleneck_dir}")
    return args


def import_tensorflow():
    global tf, keras, layers, logs, runtime
    import keras
    import tensorflow as tf
    from keras import layers

    from common import logs, runtime


# 1. 데이터 / Prepare the data: a list of photos and their classes (decoded later, only when needed)
@dataclasses.dataclass
class Photos:
    items: list  # a Path per photo, or its encoded bytes (tf_flowers)
    names: list  # what warnings and figures call each photo
    labels: np.ndarray  # class index per photo
    class_names: tuple
    source: str  # the folder or dataset, for messages


class NamedBytes(io.BytesIO):
    """An encoded image in memory that prints as its name, so load_images' warnings can name it."""

    def __init__(self, payload, name):
        super().__init__(payload)
        self.name = name

    def __str__(self):
        return self.name


def load_image_folder(directory):
    paths, labels, class_names = data.list_image_folder(directory)
    print(f"Data: {len(paths)} files in {len(class_names)} classes from {directory}: {', '.join(class_names)}")
    return Photos(paths, [str(p) for p in paths], labels, class_names, str(directory))


def load_tf_flowers():
    """tf_flowers via TensorFlow Datasets, downloaded once (218 MB) into the course cache."""
    import tensorflow_datasets as tfds

    tfds_dir = data.cache_dir() / "tfds"
    try:
        # SkipDecoding keeps each photo's JPEG bytes: they are hashed, and decoded only when needed.
        ds, info = tfds.load(
            "tf_flowers", split="train", data_dir=str(tfds_dir), with_info=True,
            decoders={"image": tfds.decode.SkipDecoding()},
        )
        examples = list(ds.as_numpy_iterator())
    except ImportError as e:
        raise data.DataError(
            f"could not download tf_flowers: tensorflow-datasets lacks a package ({e}); install it with pip, "
            "or train on your own photos with --image-dir DIR"
        ) from None
    except Exception as e:  # tfds raises many kinds of errors for a failed download
        reason = " ".join(str(e).split())[:300] or type(e).__name__
        raise data.DataError(
            f"could not download tf_flowers into {tfds_dir} ({reason}); check your internet connection, "
            "or train on your own photos with --image-dir DIR (one sub-folder of photos per class)"
        ) from None
    class_names = tuple(info.features["label"].names)
    labels = np.array([int(ex["label"]) for ex in examples], dtype=np.int64)
    names = [f"tf_flowers[{i}]" for i in range(len(examples))]
    print(f"Data: {len(examples)} photos in {len(class_names)} classes from tf_flowers: {', '.join(class_names)}")
    return Photos([ex["image"] for ex in examples], names, labels, class_names, "tf_flowers")


def write_shape_images(folder, per_class=6, size=64, seed=0):
    """A tiny image folder for smoke runs and tests: red circles, green squares, blue triangles."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    shapes = (("red_circle", (220, 40, 40)), ("green_square", (40, 170, 60)), ("blue_triangle", (50, 80, 220)))
    for k, (name, colour) in enumerate(shapes):
        (Path(folder) / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            image = Image.fromarray(rng.integers(150, 256, size=(size, size, 3), dtype=np.uint8))
            r = int(rng.integers(size // 5, size // 3))
            cx, cy = (int(v) for v in rng.integers(r, size - r, 2))
            draw = ImageDraw.Draw(image)
            if k == 0:
                draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
            elif k == 1:
                draw.rectangle((cx - r, cy - r, cx + r, cy + r), fill=colour)
            else:
                draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
            image.save(Path(folder) / name / f"{i:03d}.jpg", quality=90)
    return Path(folder)


def content_keys(photos):
    """SHA-1 of each photo's bytes: the bottleneck cache key (renaming or moving a photo keeps it)."""
    keys = []
    for item in photos.items:
        try:
            payload = item if isinstance(item, bytes) else Path(item).read_bytes()
        except OSError:
            keys.append(None)  # unreadable: load_images will skip it with a warning
            continue
        keys.append(hashlib.sha1(payload).hexdigest())
    return keys


def decode(photos, indices, size):
    """uint8 photos (n, size, size, 3) for photos[indices], and the indices that decoded."""
    indices = list(indices)
    sources = []
    for i in indices:
        item = photos.items[i]
        sources.append(NamedBytes(item, photos.names[i]) if isinstance(item, bytes) else item)
    try:
        images, kept = data.load_images(sources, size)  # warns about, and skips, files that are not images
    except data.DataError:
        return np.zeros((0, size, size, 3), np.uint8), np.zeros(0, np.int64)
    return images, np.array(indices)[kept]


def split(labels, validation_fraction, seed):
    """Stratified split: the same share of every class is held out, chosen with a fixed seed."""
    rng = np.random.default_rng(seed)
    val = []
    for k in np.unique(labels):
        members = np.flatnonzero(labels == k)
        rng.shuffle(members)
        n_val = int(round(validation_fraction * len(members)))
        n_val = min(max(n_val, 1), len(members) - 1)  # a class with 2+ photos gives 1+ to each side
        val += members[:n_val].tolist()
    val = np.sort(np.array(val, dtype=np.int64))
    train = np.setdiff1d(np.arange(len(labels)), val)
    return train, val


# 2. 모델 / Build the feature extractor: pixels -> Inception v3 -> 2,048 numbers
def imagenet_weights():
    """Keras' ImageNet weights for InceptionV3 without its top, downloaded once into the course cache."""
    folder = data.cache_dir() / "keras_weights"
    try:
        return keras.utils.get_file(
            WEIGHTS_FILE, origin=WEIGHTS_URL, file_hash=WEIGHTS_MD5,
            cache_dir=str(data.cache_dir()), cache_subdir="keras_weights",
        )
    except Exception as e:  # get_file raises a bare Exception for network failures, ValueError for a bad hash
        reason = " ".join(str(e).split())[:300]
        raise data.DataError(
            f"could not download InceptionV3's ImageNet weights into {folder} ({reason}); check your internet "
            f"connection, or copy {WEIGHTS_FILE} into {folder} from another machine; --weights none runs "
            "offline with random weights (for testing only)"
        ) from None


def build_extractor(args):
    weights = imagenet_weights() if args.weights == "imagenet" else None
    size = args.image_size
    base = keras.applications.InceptionV3(
        include_top=False, pooling="avg", weights=weights, input_shape=(size, size, 3)
    )
    extractor = keras.Sequential(
        [
            keras.Input(shape=(size, size, 3)),
            # Pixels 0..255 -> -1..1, exactly keras.applications.inception_v3.preprocess_input, but
            # as a layer, so that the exported model takes raw photos.
            layers.Rescaling(1 / 127.5, offset=-1),
            base,  # (2048,): the average of the last block's 2,048 feature maps
        ],
        name="inception_v3_features",
    )
    return extractor, base


def weights_fingerprint(model):
    """A hash of every weight: bottlenecks are only reused for exactly the same network."""
    digest = hashlib.sha1()
    for weight in model.weights:
        digest.update(np.ascontiguousarray(weight.numpy()).tobytes())
    return digest.hexdigest()[:16]


# 3. 병목 특징 / Bottlenecks: computed once per photo, then read back from disk
def load_bottlenecks(path):
    """{content key: feature vector} from an .npz store ({} if there is none or it is damaged)."""
    if not path.exists():
        return {}
    try:
        with np.load(path, allow_pickle=False) as store:
            return dict(zip(store["keys"].tolist(), store["features"]))
    except (OSError, ValueError, KeyError) as e:
        print(f"warning: ignoring damaged bottleneck file {path} ({e}); its photos will be recomputed",
              file=sys.stderr)
        return {}


def save_bottlenecks(path, store):
    """Writes the store atomically (a temporary file renamed into place), so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.part")
    try:
        with open(tmp, "wb") as f:
            np.savez(f, keys=np.array(list(store), dtype=str), features=np.stack(list(store.values())))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def extract_features(extractor, images, batch_size):
    """The network's forward pass: uint8 photos (n, size, size, 3) -> float32 bottlenecks (n, 2048)."""
    return extractor.predict(images, batch_size=batch_size, verbose=0).astype(np.float32)


def bottlenecks(args, extractor, photos):
    """Bottlenecks for every photo that decodes: reused from the store when present, else computed."""
    timer = logs.Timer()
    keys = content_keys(photos)
    precision = keras.mixed_precision.global_policy().compute_dtype  # float16 features differ from float32 ones
    store_path = args.bottleneck_dir / f"inception_v3-{args.image_size}px-{precision}-{weights_fingerprint(extractor)}-" \
        f"{BOTTLENECK_FORMAT}.npz"
    store = load_bottlenecks(store_path)
    cached = [i for i, key in enumerate(keys) if key in store]
    missing = [i for i, key in enumerate(keys) if key not in store]
    print(f"Bottlenecks: {len(cached)} of {len(keys)} found in {store_path}")
    computed, network_seconds = [], 0.0
    for start in range(0, len(missing), CHUNK):
        images, kept = decode(photos, missing[start:start + CHUNK], args.image_size)
        if not len(kept):
            continue
        started = time.perf_counter()
        features = extract_features(extractor, images, args.batch_size)
        network_seconds += time.perf_counter() - started
        store.update((keys[i], f) for i, f in zip(kept, features))
        save_bottlenecks(store_path, store)  # after every chunk: an interrupted run keeps its work
        computed += kept.tolist()
        print(f"  {len(computed)} of {len(missing)} computed, {len(computed) / network_seconds:.1f} images/s")
    usable = np.array(sorted(cached + computed), dtype=np.int64)
    if not len(usable):
        raise data.DataError(
            f"none of the {len(keys)} files in {photos.source} could be read as an image; "
            "add JPEG or PNG photos (one sub-folder per class)"
        )
    features = np.stack([store[keys[i]] for i in usable])
    speed = len(computed) / network_seconds if computed else None
    print(
        f"Bottlenecks: {len(cached)} reused, {len(computed)} computed"
        + (f" at {speed:.1f} images/s" if speed else "")
        + f", {len(keys) - len(usable)} skipped; {timer.seconds():.1f}s"
    )
    counts = {
        "bottlenecks_computed": len(computed), "bottlenecks_cached": len(cached),
        "skipped_files": len(keys) - len(usable), "images_per_second": None if speed is None else round(speed, 2),
        "bottleneck_seconds": round(timer.seconds(), 2),
    }
    return usable, features, counts


# 4. 학습 / Stage 1: train the new layer on the bottlenecks; stage 2: fine-tune the top blocks
def build_classifier(args, f_train, num_classes):
    # Each of the 2,048 numbers is standardised (mean 0, variance 1 over the training photos), so one
    # learning rate suits any network: ImageNet features are of order 1, random-weight ones about 1e-4.
    normalize = layers.Normalization(name="standardize")
    normalize.adapt(f_train)
    classifier = keras.Sequential(
        [
            keras.Input(shape=(f_train.shape[1],)),
            normalize,
            layers.Dropout(args.dropout),
            layers.Dense(num_classes),
            layers.Activation("softmax", dtype="float32"),  # float32 even under mixed precision
        ],
        name="classifier",
    )
    classifier.compile(
        optimizer=keras.optimizers.Adam(args.learning_rate), loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return classifier


def build_full_model(args, extractor, classifier):
    """Raw photo -> probabilities: the model that is exported and fine-tuned."""
    inputs = keras.Input(shape=(args.image_size, args.image_size, 3), name="image")
    outputs = classifier(extractor(inputs))
    return keras.Model(inputs, outputs, name="inception_v3_retrained")


def train_classifier(args, classifier, f_train, y_train, f_val, y_val):
    train_ds = data.make_pipeline(f_train, y_train, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    val_ds = data.make_pipeline(f_val, y_val, batch_size=args.batch_size)
    history = classifier.fit(
        train_ds, validation_data=val_ds, epochs=args.epochs, verbose=2,
        callbacks=[logs.tensorboard_callback(args.log_dir)],
    )
    return history.history


def first_trainable_layer(args, base):
    """Index of the first Inception layer that stage 2 trains (checked before any work is done)."""
    names = [layer.name for layer in base.layers]
    if args.unfreeze_after not in names:
        raise SystemExit(f"error: --unfreeze-after {args.unfreeze_after} is not a layer of InceptionV3; "
                         f"try one of {', '.join(n for n in names if n.startswith('mixed'))}")
    return names.index(args.unfreeze_after) + 1


def fine_tune(args, strategy, model, base, x_train, y_train, x_val, y_val):
    first_trainable = first_trainable_layer(args, base)
    with strategy.scope():
        # Batch normalisation stays frozen: a frozen BatchNormalization layer normalises with the
        # statistics it learned on ImageNet, not with those of a small batch of your photos. (In Keras 3,
        # `extractor(x, training=False)` inside a model does not do this: fit() passes training=True.)
        base.trainable = True
        for i, layer in enumerate(base.layers):
            layer.trainable = i >= first_trainable and not isinstance(layer, layers.BatchNormalization)
        model.compile(  # compile again: which weights train is fixed when the train step is built
            optimizer=keras.optimizers.Adam(args.fine_tune_learning_rate),
            loss="sparse_categorical_crossentropy", metrics=["accuracy"],
        )
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    print(f"Fine-tuning the Inception layers after {args.unfreeze_after} and the new layer ({trainable:,} trainable "
          f"weights; batch normalisation frozen) for {args.fine_tune_epochs} epochs")
    train_ds = data.make_pipeline(
        x_train, y_train, batch_size=args.batch_size, shuffle=True, seed=args.seed, cache=False
    )
    val_ds = data.make_pipeline(x_val, y_val, batch_size=args.batch_size, cache=False)
    history = model.fit(
        train_ds, validation_data=val_ds, initial_epoch=args.epochs, epochs=args.epochs + args.fine_tune_epochs,
        verbose=2, callbacks=[logs.tensorboard_callback(args.log_dir)],  # the curves go on where stage 1 ended
    )
    return history.history


# 5. 평가와 그림 / Evaluate, draw, export
def save_curves(history, fine_tune_start, path):
    plt = logs.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    epochs = np.arange(1, len(history["loss"]) + 1)
    for ax, metric, title in ((axes[0], "accuracy", "정확도 / accuracy"), (axes[1], "loss", "손실 / loss")):
        ax.plot(epochs, history[metric], "o-", label="train")
        ax.plot(epochs, history["val_" + metric], "o-", label="validation")
        if fine_tune_start is not None:
            ax.axvline(fine_tune_start + 0.5, color="gray", linestyle="--", label="fine-tuning starts")
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.legend()
    fig.suptitle("새 분류층 학습(1단계)과 미세 조정(2단계) / retraining curves")
    logs.save_figure(fig, path)


def save_predictions(images, y_true, probabilities, class_names, log_dir):
    plt = logs.pyplot()
    cols = min(4, len(images))
    rows = -(-len(images) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 2.6, rows * 2.9), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, true, probs in zip(axes.flat, images, y_true, probabilities):
        guess = int(probs.argmax())
        ax.imshow(image)
        ax.set_title(f"{class_names[guess]} {probs[guess]:.2f}\n(true: {class_names[true]})", fontsize=8,
                     color="green" if guess == true else "red")
    fig.suptitle("검증 사진과 예측 / validation photos: predicted label, probability (true label)")
    logs.save_figure(fig, Path(log_dir) / "predictions.png")
    logs.log_image(log_dir, "validation", "predictions", logs.image_grid(images / 255, ncols=cols))


def export(model, class_names, log_dir):
    model.save(Path(log_dir) / "model.keras")
    (Path(log_dir) / "labels.txt").write_text("\n".join(class_names) + "\n", encoding="utf-8")
    print(f"Exported {Path(log_dir) / 'model.keras'} and labels.txt ({len(class_names)} classes)")


def main(argv=None):
    args = parse_args(argv)
    image_dir = args.image_dir or args.data_dir  # --data-dir: tf_flowers' flower_photos/, extracted
    if image_dir is None and args.smoke:
        image_dir = write_shape_images(args.log_dir / "smoke_images")
    photos = load_image_folder(image_dir) if image_dir is not None else None
    import_tensorflow()
    strategy = runtime.setup(args)
    if photos is None:
        photos = load_tf_flowers()  # after setup(): tf.data must not start TensorFlow before the device is chosen
    with strategy.scope():
        extractor, base = build_extractor(args)
    if args.fine_tune_epochs:
        first_trainable_layer(args, base)  # a wrong layer name fails now, not after the bottlenecks
    usable, features, counts = bottlenecks(args, extractor, photos)
    labels = photos.labels[usable]
    train_idx, val_idx = split(labels, args.validation_fraction, args.seed)
    if not len(val_idx):
        raise data.DataError(f"{photos.source}: every class has a single usable photo; a validation split "
                             "needs at least two photos in some class (aim for dozens per class)")
    print(f"Split: {len(train_idx)} train, {len(val_idx)} validation photos (stratified, seed {args.seed})")

    with strategy.scope():
        classifier = build_classifier(args, features[train_idx], len(photos.class_names))
    timer = logs.Timer()
    history = train_classifier(args, classifier, features[train_idx], labels[train_idx],
                               features[val_idx], labels[val_idx])
    train_seconds = timer.seconds()
    stage1_val_accuracy = history["val_accuracy"][-1]
    with strategy.scope():
        model = build_full_model(args, extractor, classifier)
    grid = val_idx[:GRID]
    if args.fine_tune_epochs:
        images, kept = decode(photos, usable, args.image_size)
        if len(kept) != len(usable):
            raise data.DataError(f"photos in {photos.source} changed while this run used them; run again")
        timer = logs.Timer()
        history2 = fine_tune(args, strategy, model, base, images[train_idx], labels[train_idx],
                             images[val_idx], labels[val_idx])
        train_seconds += timer.seconds()
        history = {k: history[k] + history2[k] for k in history}
        grid_images = images[grid]
        grid_probs = model.predict(grid_images, batch_size=args.batch_size, verbose=0)
    else:
        grid_images, _ = decode(photos, usable[grid], args.image_size)
        grid_probs = classifier.predict(features[grid], verbose=0)  # the same numbers the full model gives
    val_accuracy = history["val_accuracy"][-1]
    print(f"Validation accuracy: {val_accuracy:.4f} ({len(val_idx)} photos); training took {train_seconds:.1f}s")

    save_curves(history, args.epochs if args.fine_tune_epochs else None, args.log_dir / "training.png")
    save_predictions(grid_images, labels[grid], grid_probs, photos.class_names, args.log_dir)
    export(model, photos.class_names, args.log_dir)
    return logs.write_metrics(
        args.log_dir, val_accuracy=val_accuracy, train_accuracy=history["accuracy"][-1],
        stage1_val_accuracy=stage1_val_accuracy, train_seconds=round(train_seconds, 2), **counts,
        num_images=len(usable), num_train=len(train_idx), num_val=len(val_idx),
        num_classes=len(photos.class_names), epochs=args.epochs, fine_tune_epochs=args.fine_tune_epochs,
        image_size=args.image_size, weights=args.weights,
    )


if __name__ == "__main__":
    main()
