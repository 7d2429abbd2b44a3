"""Inception v3 retraining: a new classifier for your own photos on top of ImageNet features (transfer learning).

요약: ImageNet으로 학습한 Inception v3가 분류층 바로 앞에서 만드는 병목 특징(bottleneck features, 사진마다
2,048개 숫자)을 한 번만 계산해 저장하고, 그 위에 새 분류층만 학습합니다(전이 학습, transfer learning).
원하면 위쪽 Inception 블록까지 작은 학습률로 더 학습합니다(미세 조정, fine-tuning).

Run:    python week2/inception_v3_retrain.py                          (tf_flowers: 5 kinds, 3,670 photos)
        python week2/inception_v3_retrain.py --image-dir my_photos    (one sub-folder of photos per class)
Smoke:  python week2/inception_v3_retrain.py --smoke
Expect: the first run computes one bottleneck per photo, about 12 images/s at 299x299 on a 2-core CPU; training
        the new layer on 210 of them took 1.7 s (results/week2_inception_v3_retrain_throughput.json). Later runs
        reuse the bottlenecks from the cache. Test accuracy on tf_flowers with ImageNet weights: not measured yet.
        The run folder holds model.keras and labels.txt for week2/inception_v3_predict.py, training.png (accuracy
        and loss per epoch) and predictions.png (test photos with predicted labels). week2/README.md explains
        the two stages and the bottleneck cache.
"""

import argparse
import dataclasses
import hashlib
import io
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

MIN_IMAGE_SIZE = 75  # InceptionV3의 가장 작은 입력: 보폭(stride) 2인 단계 다섯 번을 지나도 1x1이 남아야 합니다
UNFREEZE_CHOICES = [f"mixed{i}" for i in range(10)]  # Inception 블록의 출력 층 (mixed10이 마지막 블록)


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


def non_negative(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
# smoke_epochs=5: 저장한 병목 특징 위의 학습은 가벼워서 --smoke에서도 5 에포크를 돕니다.
PARSER = flags.make_parser(__file__, __doc__, epochs=20, batch_size=32, learning_rate=1e-3, smoke_epochs=5)
PARSER.add_argument(
    "--image-dir", type=Path, default=None,
    help="your photos: one sub-folder per class, named after the class (default: tf_flowers; "
    "--data-dir DIR does the same, e.g. with tf_flowers' flower_photos/ extracted by hand)",
)
PARSER.add_argument(
    "--weights", choices=("imagenet", "none"), default=None,
    help="imagenet: download Keras' ImageNet weights once into the cache; none: random weights "
    "(offline tests only: random features classify poorly) (default: imagenet; none with --smoke)",
)
PARSER.add_argument(
    "--image-size", type=image_size, default=None,
    help="photos are resized to this many pixels square (default: 299, Inception v3's own; 75 with --smoke)",
)
PARSER.add_argument(
    "--validation-fraction", type=fraction, default=0.2,
    help="share of each class held out for validation: watch it to choose --epochs (default: %(default)s)",
)
PARSER.add_argument(
    "--test-fraction", type=fraction, default=0.1,
    help="share of each class held out for the test set, evaluated once at the end (default: %(default)s)",
)
PARSER.add_argument("--dropout", type=float, default=0.2, help="dropout before the new layer (default: %(default)s)")
PARSER.add_argument(
    "--fine-tune-epochs", type=non_negative, default=0,
    help="stage 2: epochs of training the top Inception blocks on the photos (default: %(default)s)",
)
PARSER.add_argument(
    "--fine-tune-learning-rate", type=float, default=1e-5,
    help="stage 2 step size, small so that the ImageNet features are only nudged (default: %(default)s)",
)
PARSER.add_argument(
    "--unfreeze-after", choices=UNFREEZE_CHOICES, default="mixed8",
    help="stage 2 trains the Inception layers after this block; mixed8: blocks mixed9 and mixed10 "
    "(default: %(default)s)",
)
PARSER.add_argument(
    "--bottleneck-dir", type=Path, default=None,
    help="where computed bottlenecks are kept (default: bottlenecks/ in the course download cache)",
)
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
import numpy as np
from keras import layers

from common import data, runtime, smoke, tb

# Keras' own InceptionV3 "notop" weights (keras/src/applications/inception_v3.py) and their MD5.
WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/" + WEIGHTS_FILE
WEIGHTS_MD5 = "bcbd6486424b2319ff4ef7d526e38f63"
SMOKE_IMAGE_SIZE = 75
SMOKE_PER_CLASS = 20  # 3 classes x 20: 42 train, 12 validation, 6 test photos
BOTTLENECK_FORMAT = "v1"  # 저장 파일 이름의 일부: 디코딩이나 크기 조절 방법을 바꾸면 이것도 바꿉니다
CHUNK = 256  # 한 번에 디코딩해 망에 넣는 사진 수: 메모리를 묶어 두고, 묶음마다 저장합니다
GRID = 16  # predictions.png에 보여 줄 테스트 사진 수


# 1. 데이터 / Prepare the data: a list of photos and their classes (decoded later, only when needed)
@dataclasses.dataclass
class Photos:
    items: list  # a Path per photo, or its encoded bytes (tf_flowers, --smoke)
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
    """Photos from directory/<class name>/*.jpg; a class folder without a readable image is an error."""
    paths, labels, class_names = data.list_image_folder(directory)
    print(f"Data: {len(paths)} files in {len(class_names)} classes from {directory}: {', '.join(class_names)}")
    return Photos(paths, [str(p) for p in paths], labels, class_names, str(directory))


def load_tf_flowers():
    """tf_flowers via TensorFlow Datasets, downloaded once (218 MB) into the course cache."""
    import tensorflow_datasets as tfds

    tfds_dir = data.cache_dir() / "tfds"
    try:
        # SkipDecoding: 사진마다 JPEG 바이트 그대로 받습니다. 해시를 만들고, 필요할 때만 디코딩합니다.
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
    except Exception as e:  # tfds는 내려받기 실패를 여러 종류의 예외로 알립니다
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


def load_smoke_photos(per_class=SMOKE_PER_CLASS):
    """--smoke: generated coloured shapes (common/smoke.py), as JPEG bytes in memory."""
    payloads, labels, class_names = smoke.shape_jpegs(per_class)
    names = [f"smoke/{class_names[k]}/{i:03d}.jpg" for i, k in enumerate(labels)]
    print(f"Data: {len(payloads)} generated photos in {len(class_names)} classes: {', '.join(class_names)}")
    return Photos(payloads, names, labels, class_names, "the --smoke shapes")


def content_keys(photos):
    """SHA-1 of each photo's bytes: the bottleneck cache key (renaming or moving a photo keeps it)."""
    keys = []
    for item in photos.items:
        try:
            payload = item if isinstance(item, bytes) else Path(item).read_bytes()
        except OSError:
            keys.append(None)  # 읽을 수 없는 파일: load_images가 경고하고 건너뜁니다
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
        images, kept = data.load_images(sources, size)  # 이미지가 아닌 파일은 경고하고 건너뜁니다
    except data.DataError:
        return np.zeros((0, size, size, 3), np.uint8), np.zeros(0, np.int64)
    return images, np.array(indices)[kept]


def decode_all(photos, indices, size):
    """Like decode(), for photos that decoded before: one that fails now has changed on disk."""
    images, kept = decode(photos, indices, size)
    if len(kept) != len(indices):
        raise data.DataError(f"photos in {photos.source} changed while this run used them; run again")
    return images


def split(labels, validation_fraction=0.2, test_fraction=0.1, seed=42):
    """Stratified split into (train, validation, test) indices: the same share of every class, fixed seed.

    A class with 3 photos or more gives at least one to each part; a smaller class stays in training.
    """
    rng = np.random.default_rng(seed)
    train, val, test = [], [], []
    for k in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == k))
        n_val = n_test = 0
        if len(members) >= 3:
            n_val = min(max(round(validation_fraction * len(members)), 1), len(members) - 2)
            n_test = min(max(round(test_fraction * len(members)), 1), len(members) - 1 - n_val)
        val += members[:n_val].tolist()
        test += members[n_val:n_val + n_test].tolist()
        train += members[n_val + n_test:].tolist()
    return tuple(np.sort(np.array(part, dtype=np.int64)) for part in (train, val, test))


# 2. 모델 / Build the feature extractor: pixels -> Inception v3 -> 2,048 numbers
def imagenet_weights():
    """Keras' ImageNet weights for InceptionV3 without its top, downloaded once into the course cache."""
    folder = data.cache_dir() / "keras_weights"
    try:
        return keras.utils.get_file(
            WEIGHTS_FILE, origin=WEIGHTS_URL, file_hash=WEIGHTS_MD5,
            cache_dir=str(data.cache_dir()), cache_subdir="keras_weights",
        )
    except Exception as e:  # get_file: 네트워크 실패는 그냥 Exception, 해시가 틀리면 ValueError
        reason = " ".join(str(e).split())[:300]
        raise data.DataError(
            f"could not download InceptionV3's ImageNet weights into {folder} ({reason}); check your internet "
            f"connection, or copy {WEIGHTS_FILE} into {folder} from another machine; --weights none runs "
            "offline with random weights (for testing only)"
        ) from None


def build_extractor(weights="imagenet", image_size=299):
    """Returns (extractor, base): raw photos (0-255) -> (2048,) features, and the InceptionV3 inside it."""
    base = keras.applications.InceptionV3(
        include_top=False, pooling="avg", weights=imagenet_weights() if weights == "imagenet" else None,
        input_shape=(image_size, image_size, 3),
    )
    extractor = keras.Sequential(
        [
            keras.Input(shape=(image_size, image_size, 3)),
            # 화소 0..255 -> -1..1: keras.applications.inception_v3.preprocess_input과 같은 계산을 층으로 넣어
            # 내보낸 모델이 사진을 그대로 받게 합니다.
            layers.Rescaling(1 / 127.5, offset=-1),
            base,  # (2048,): 마지막 블록이 만든 특징 맵(feature map) 2,048개 각각의 평균
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


def bottlenecks(extractor, photos, image_size, bottleneck_dir, batch_size=32):
    """Bottlenecks for every photo that decodes: reused from the store when present, else computed.

    Returns (usable photo indices, features (n, 2048), counts for metrics.json).
    """
    timer = tb.Timer()
    keys = content_keys(photos)
    precision = keras.mixed_precision.global_policy().compute_dtype  # float16 특징은 float32 특징과 다릅니다
    store_path = Path(bottleneck_dir) / (
        f"inception_v3-{image_size}px-{precision}-{weights_fingerprint(extractor)}-{BOTTLENECK_FORMAT}.npz"
    )
    store = load_bottlenecks(store_path)
    cached = [i for i, key in enumerate(keys) if key in store]
    missing = [i for i, key in enumerate(keys) if key not in store]
    print(f"Bottlenecks: {len(cached)} of {len(keys)} found in {store_path}")
    computed, network_seconds = [], 0.0
    for start in range(0, len(missing), CHUNK):
        images, kept = decode(photos, missing[start:start + CHUNK], image_size)
        if not len(kept):
            continue
        started = time.perf_counter()
        features = extract_features(extractor, images, batch_size)
        network_seconds += time.perf_counter() - started
        store.update((keys[i], f) for i, f in zip(kept, features))
        save_bottlenecks(store_path, store)  # 묶음마다 저장: 중간에 멈춘 실행도 계산한 것은 남깁니다
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
def build_classifier(f_train, num_classes, learning_rate=1e-3, dropout=0.2):
    """The new layer: standardise the 2,048 numbers, dropout, Dense softmax; compiled with Adam."""
    # 2,048개 숫자를 학습 세트 기준 평균 0, 분산 1로 맞춥니다: 같은 학습률이 ImageNet 특징에도, 훨씬 작은
    # 무작위 가중치의 특징(--smoke 사진에서 평균 절댓값 1.3e-4)에도 맞도록.
    normalize = layers.Normalization(name="standardize")
    normalize.adapt(f_train)
    classifier = keras.Sequential(
        [
            keras.Input(shape=(f_train.shape[1],)),
            normalize,
            layers.Dropout(dropout),
            layers.Dense(num_classes),
            layers.Activation("softmax", dtype="float32"),  # 혼합 정밀도(mixed precision)에서도 확률은 float32로
        ],
        name="classifier",
    )
    classifier.compile(
        optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return classifier


def build_full_model(extractor, classifier, image_size=299):
    """Raw photo -> probabilities: the model that is exported and fine-tuned."""
    inputs = keras.Input(shape=(image_size, image_size, 3), name="image")
    return keras.Model(inputs, classifier(extractor(inputs)), name="inception_v3_retrained")


def train_classifier(classifier, f_train, y_train, f_val, y_val, epochs, batch_size, log_dir, seed=42):
    """Stage 1 on the stored bottlenecks; returns the Keras history dict."""
    train_ds = data.make_pipeline(f_train, y_train, batch_size=batch_size, shuffle=True, seed=seed)
    val_ds = data.make_pipeline(f_val, y_val, batch_size=batch_size)
    history = classifier.fit(
        train_ds, validation_data=val_ds, epochs=epochs, verbose=2,
        callbacks=[tb.tensorboard_callback(log_dir), tb.StopOnNaN(log_dir)],
    )
    return history.history


def unfreeze(model, base, unfreeze_after="mixed8", learning_rate=1e-5):
    """Makes the Inception layers after `unfreeze_after` trainable, except batch normalization; compiles again."""
    first = [layer.name for layer in base.layers].index(unfreeze_after) + 1
    # 배치 정규화(batch normalization) 층은 얼려 둡니다: 얼린 층은 ImageNet에서 배운 통계로 정규화하고,
    # 작은 배치의 통계로 바뀌지 않습니다. (Keras 3에서는 모델 안에서 `extractor(x, training=False)`로 부르는 것만으로는
    # 부족합니다: fit()이 그 층의 이동 평균을 계속 갱신합니다. Keras 3.15에서 확인.)
    base.trainable = True
    for i, layer in enumerate(base.layers):
        layer.trainable = i >= first and not isinstance(layer, layers.BatchNormalization)
    model.compile(  # 다시 컴파일: 어떤 가중치를 학습할지는 학습 스텝을 만들 때 정해집니다
        optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    print(f"Fine-tuning the Inception layers after {unfreeze_after} and the new layer ({trainable:,} trainable "
          "weights; batch normalization frozen)")


def fine_tune(model, x_train, y_train, x_val, y_val, initial_epoch, epochs, batch_size, log_dir, seed=42):
    """Stage 2 on the photos themselves; epochs count on from stage 1, so TensorBoard's curves go on."""
    train_ds = data.make_pipeline(x_train, y_train, batch_size=batch_size, shuffle=True, seed=seed, cache=False)
    val_ds = data.make_pipeline(x_val, y_val, batch_size=batch_size, cache=False)
    history = model.fit(
        train_ds, validation_data=val_ds, initial_epoch=initial_epoch, epochs=epochs, verbose=2,
        callbacks=[tb.tensorboard_callback(log_dir), tb.StopOnNaN(log_dir)],
    )
    return history.history


# 5. 그림과 내보내기 / Draw and export
def save_curves(history, fine_tune_start, path):
    plt = tb.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    epochs = np.arange(1, len(history["loss"]) + 1)
    for ax, metric, title in ((axes[0], "accuracy", "정확도 / accuracy"), (axes[1], "loss", "손실 / loss")):
        ax.plot(epochs, history[metric], "o-", label="학습 / train")
        ax.plot(epochs, history["val_" + metric], "o-", label="검증 / validation")
        if fine_tune_start is not None:
            ax.axvline(fine_tune_start + 0.5, color="gray", linestyle="--", label="미세 조정 시작 / fine-tuning")
        ax.set_xlabel("에포크 / epoch")
        ax.set_title(title)
        ax.legend()
    if fine_tune_start is None:
        fig.suptitle("새 분류층 학습 / training the new layer")
    else:
        fig.suptitle("새 분류층 학습(1단계)과 미세 조정(2단계) / new layer, then fine-tuning")
    tb.save_figure(fig, path)


def save_predictions(images, y_true, probabilities, class_names, log_dir):
    plt = tb.pyplot()
    cols = min(4, len(images))
    rows = math.ceil(len(images) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 2.6, rows * 2.9), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, true, probs in zip(axes.flat, images, y_true, probabilities):
        guess = int(probs.argmax())
        ax.imshow(image)
        ax.set_title(f"{class_names[guess]} {probs[guess]:.2f}\n(true: {class_names[true]})", fontsize=8,
                     color="green" if guess == true else "red")
    fig.suptitle("테스트 사진과 예측 / test photos: predicted label, probability (true label)")
    tb.save_figure(fig, Path(log_dir) / "predictions.png")
    tb.log_image(log_dir, "test", "predictions", tb.image_grid(images / 255, ncols=cols))


def export(model, class_names, log_dir):
    model.save(Path(log_dir) / "model.keras")
    (Path(log_dir) / "labels.txt").write_text("\n".join(class_names) + "\n", encoding="utf-8")
    print(f"Exported {Path(log_dir) / 'model.keras'} and labels.txt ({len(class_names)} classes)")


def main(argv=None):
    args = flags.parse(PARSER, argv)
    if args.validation_fraction + args.test_fraction >= 1:
        PARSER.error("--validation-fraction plus --test-fraction must leave some photos for training")
    # --smoke의 기본값: 내려받기 없이(무작위 가중치) 작은 사진으로. config.json에는 정해진 값이 들어갑니다.
    args.weights = args.weights or ("none" if args.smoke else "imagenet")
    args.image_size = args.image_size or (SMOKE_IMAGE_SIZE if args.smoke else 299)
    args.bottleneck_dir = args.bottleneck_dir or data.cache_dir() / "bottlenecks"
    image_dir = args.image_dir or args.data_dir  # --data-dir: tf_flowers의 flower_photos/를 직접 푼 폴더
    photos = None
    if image_dir is not None:
        photos = load_image_folder(image_dir)  # 잘못된 폴더는 실행 폴더를 만들기 전에 멈춥니다
    elif args.smoke:
        photos = load_smoke_photos()
    strategy = runtime.setup(args)
    if photos is None:
        photos = load_tf_flowers()  # setup() 뒤에: tfds가 TensorFlow의 장치를 시작하기 때문입니다
    print(f"Using --weights {args.weights} --image-size {args.image_size}; bottlenecks in {args.bottleneck_dir}")
    with strategy.scope():
        extractor, base = build_extractor(args.weights, args.image_size)
    usable, features, counts = bottlenecks(extractor, photos, args.image_size, args.bottleneck_dir, args.batch_size)
    labels = photos.labels[usable]
    train_idx, val_idx, test_idx = split(labels, args.validation_fraction, args.test_fraction, args.seed)
    if not len(val_idx):
        raise data.DataError(f"{photos.source}: every class has fewer than 3 usable photos; validation and test "
                             "sets need at least 3 photos in some class (aim for dozens per class)")
    print(f"Split: {len(train_idx)} train, {len(val_idx)} validation, {len(test_idx)} test photos "
          f"(stratified, seed {args.seed})")

    with strategy.scope():
        classifier = build_classifier(features[train_idx], len(photos.class_names), args.learning_rate, args.dropout)
    timer = tb.Timer()
    history = train_classifier(classifier, features[train_idx], labels[train_idx], features[val_idx], labels[val_idx],
                               args.epochs, args.batch_size, args.log_dir, args.seed)
    train_seconds = timer.seconds()
    stage1_val_accuracy = history["val_accuracy"][-1]
    with strategy.scope():
        model = build_full_model(extractor, classifier, args.image_size)
    if args.fine_tune_epochs:
        images = decode_all(photos, usable, args.image_size)
        with strategy.scope():
            unfreeze(model, base, args.unfreeze_after, args.fine_tune_learning_rate)
        timer = tb.Timer()
        history2 = fine_tune(model, images[train_idx], labels[train_idx], images[val_idx], labels[val_idx],
                             args.epochs, args.epochs + args.fine_tune_epochs, args.batch_size, args.log_dir, args.seed)
        train_seconds += timer.seconds()
        history = {k: history[k] + history2[k] for k in history}
    val_accuracy = history["val_accuracy"][-1]
    print(f"Validation accuracy: {val_accuracy:.4f} ({len(val_idx)} photos); training took {train_seconds:.1f}s")

    # 6. 평가 / Evaluate on the test set, once
    if args.fine_tune_epochs:
        probabilities = model.predict(images[test_idx], batch_size=args.batch_size, verbose=0)
    else:  # 분류층만 바뀌었으니 저장해 둔 병목 특징에 분류층만 돌리면 전체 모델과 같은 답이 나옵니다
        probabilities = classifier.predict(features[test_idx], batch_size=args.batch_size, verbose=0)
    test_accuracy = float(np.mean(probabilities.argmax(axis=1) == labels[test_idx]))
    print(f"Test accuracy: {test_accuracy:.4f} ({len(test_idx)} photos)")

    grid = test_idx[:GRID]
    grid_images = images[grid] if args.fine_tune_epochs else decode_all(photos, usable[grid], args.image_size)
    save_curves(history, args.epochs if args.fine_tune_epochs else None, args.log_dir / "training.png")
    save_predictions(grid_images, labels[grid], probabilities[:GRID], photos.class_names, args.log_dir)
    export(model, photos.class_names, args.log_dir)
    return tb.write_metrics(
        args.log_dir, test_accuracy=test_accuracy, val_accuracy=val_accuracy, train_accuracy=history["accuracy"][-1],
        stage1_val_accuracy=stage1_val_accuracy, train_seconds=round(train_seconds, 2), **counts,
        num_images=len(usable), num_train=len(train_idx), num_val=len(val_idx), num_test=len(test_idx),
        num_classes=len(photos.class_names), epochs=args.epochs, fine_tune_epochs=args.fine_tune_epochs,
        image_size=args.image_size, weights=args.weights,
    )


if __name__ == "__main__":
    main()
