"""Semantic segmentation with a U-Net (or an FCN-8s): a class for every pixel, on electron-microscopy membranes.

요약: 분류(classification)는 그림 한 장에 답 하나를 내지만, 의미 분할(semantic segmentation)은 픽셀마다 답을
냅니다. U-Net은 인코더(encoder)로 그림을 줄여 가며 "무엇"을 보고, 디코더(decoder)로 다시 키우면서 같은 크기의
인코더 특징을 건너뛰기 연결(skip connection)로 붙여 "어디"를 되찾습니다. 기본 데이터는 U-Net 논문의 데이터인
ISBI 2012 전자현미경 사진 30장(세포막 membrane / 세포 안 cell)입니다. 사진 0-20으로 학습, 21-23으로 검증하고,
24-29는 끝에 한 번만 평가합니다. 평가는 픽셀 정확도(pixel accuracy), 클래스별 IoU와 평균 IoU(mean IoU),
세포막의 Dice입니다.

Run:    python week5/segmentation.py                      (ISBI 2012 membranes, downloaded into the cache)
        python week5/segmentation.py --data-dir DIR       (DIR/image/*.png + DIR/label/*.png: the membranes, or your own)
        python week5/segmentation.py --dataset synthetic  (shapes on textures: every pixel is a class; a few minutes)
        python week5/segmentation.py --dataset pets       (Oxford-IIIT Pet trimaps through tensorflow-datasets)
        python week5/segmentation.py --network fcn8       (an FCN-8s instead of the U-Net)
        python week5/segmentation.py --final-fit          (the same epochs on training + validation images; the
                                                          last epoch is kept: settings chosen on validation first)
        python week5/segmentation.py --predict photo.png --model runs/segmentation/<run>   (colour overlay of a picture)
Smoke:  python week5/segmentation.py --smoke
Expect: every epoch prints the loss, pixel accuracy and mean IoU on the training crops and on the validation
        images; TensorBoard adds each class's IoU, the membranes' Dice and one validation prediction per epoch.
        At the end the model chosen on validation predicts each held-out test image whole (overlapping
        tiles) and prints pixel accuracy, mean IoU, IoU per class and Dice. The run folder gets
        predictions.png (image | true mask | prediction | errors in red), history.png, model.keras and classes.json.
        Measured (README table, 2-core CPU): on the membranes test pixel accuracy 0.925, mean IoU 0.795,
        membrane Dice 0.809 after 1,028 s of training (40 epochs, the epoch chosen on validation: 34);
        with --dataset synthetic test pixel accuracy 0.994, mean IoU 0.955 after 200 s of training.

Your own data (BraTS and others): put each picture in DIR/image/ and its mask, a PNG with the same file
name whose pixel values are the classes, in DIR/label/; --label-values lists the values (e.g. 0,1,2,4 for
BraTS: background, necrotic core, oedema, enhancing tumour) and --class-names their names. MRI volumes
(.nii.gz) must first be cut into 2-D slices saved as PNG: see week5/README.md.
"""

import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
PARSER = flags.make_parser(__file__, __doc__, batch_size=None, learning_rate=1e-3)
PARSER.add_argument("--dataset", choices=("auto", "membranes", "synthetic", "pets", "folder"), default="auto",
                    help="auto: the ISBI membranes, or the folder --data-dir names (default: %(default)s)")
PARSER.add_argument("--epochs", type=int, default=None,
                    help="passes of training; an epoch on the membranes is --steps-per-epoch batches of random crops "
                         "(default: 40 membranes and folders, 5 synthetic, 15 pets)")
PARSER.add_argument("--batch-size", type=int, default=None,
                    help="crops or images per gradient step (default: 4 membranes and folders, 16 otherwise)")
PARSER.add_argument("--network", choices=("unet", "fcn8"), default="unet", help="the architecture (default: %(default)s)")
PARSER.add_argument("--base-filters", type=int, default=None,
                    help="filters of the first level; each level down doubles them (default: 16; 32 pets)")
PARSER.add_argument("--crop", type=int, default=256,
                    help="side of the random training crops and of the prediction tiles, a multiple of 32 "
                         "(default: %(default)s; synthetic and pets train on whole images)")
PARSER.add_argument("--steps-per-epoch", type=int, default=50,
                    help="batches of random crops per epoch on the membranes and folders (default: %(default)s)")
PARSER.add_argument("--rotation", choices=("right-angles", "any"), default="right-angles",
                    help="right-angles: turns by 0, 90, 180 or 270 degrees (with the flips: the 8 lossless views); "
                         "any: any angle, which resamples the picture (default: %(default)s)")
PARSER.add_argument("--elastic", type=float, default=0.0,
                    help="strength (0-1) of the elastic deformation of the training crops; 0.5 moves pixels by up "
                         "to about 10 (0 for none) (default: %(default)s)")
PARSER.add_argument("--views", type=int, choices=(1, 8), default=8,
                    help="test-time augmentation: average the prediction over 8 flipped and rotated copies, or 1; "
                         "only where training flipped and rotated too (membranes, folders) (default: %(default)s)")
PARSER.add_argument("--final-fit", action="store_true",
                    help="train on the training and validation images together with settings (--epochs ...) already "
                         "chosen on validation by an earlier run, and keep the last epoch (no validation, no choosing)")
PARSER.add_argument("--label-values", default=None,
                    help="comma-separated mask pixel value of each class, e.g. 0,255 or 0,1,2,4 "
                         "(default: the membranes' 0,255; for a folder, the values its masks hold)")
PARSER.add_argument("--class-names", default=None, help="comma-separated names of the classes, in --label-values order")
PARSER.add_argument("--size", type=int, default=128, help="pets: the side the photos are resized to (default: %(default)s)")
PARSER.add_argument("--synthetic-images", type=int, default=4000,
                    help="synthetic: training scenes (validation and test get a quarter each) (default: %(default)s)")
PARSER.add_argument("--predict", type=Path, default=None, metavar="IMAGE",
                    help="segment this picture with the model in --model and write a colour overlay; no training")
PARSER.add_argument("--model", type=Path, default=None, metavar="DIR",
                    help="a run folder of this script (model.keras, classes.json), for --predict")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from common import data, runtime, scenes, tb

MEMBRANE_NAMES = ("membrane", "cell")  # 마스크 값 0 = 세포막, 255 = 세포 안
MEMBRANE_VALUES = (0, 255)
MEMBRANE_FILES = {f"{i}" for i in range(30)}
PET_NAMES = ("pet", "outline", "background")  # tfds 트라이맵(trimap) 1, 2, 3 -> 0, 1, 2
TEST_SHARE, VALIDATION_SHARE = 0.2, 0.1  # 폴더: 마지막 20%는 테스트, 그 앞 10%는 검증 (막: 24-29, 21-23)
DEFAULTS = {  # 데이터마다의 기본값: (에포크, 배치 크기, 첫 단계의 필터 수)
    "membranes": (40, 4, 16), "folder": (40, 4, 16), "synthetic": (5, 16, 16), "pets": (15, 16, 32),
}
SMOKE_FILTERS, SMOKE_CROP, SMOKE_STEPS, SMOKE_SYNTHETIC, SMOKE_PETS = 8, 64, 3, 64, 32
OVERLAP = 4  # 타일의 1/4을 이웃 타일과 겹칩니다
# 클래스 색: 0번은 검정(배경, 세포막), 빨강은 틀린 픽셀 표시에만 씁니다
PALETTE = np.array([(25, 25, 25), (60, 130, 230), (250, 200, 40), (70, 180, 80), (170, 80, 200), (240, 130, 40),
                    (40, 190, 190), (230, 110, 180), (140, 140, 140), (150, 100, 50)], dtype=np.uint8)


# 1. 데이터 / Prepare the data: images in [0, 1] (n, h, w, c), masks of class numbers (n, h, w)
def split_blocks(n):
    """(train, validation, test) index ranges as contiguous blocks in file order: the sections of a volume
    next to each other look alike, so a held-out block tests on tissue the model has not seen."""
    n_test = max(1, round(n * TEST_SHARE))
    n_val = max(1, round(n * VALIDATION_SHARE))
    if n - n_test - n_val < 1:
        raise data.DataError(f"{n} image(s) is too few: training, validation and test each need at least one")
    return range(0, n - n_test - n_val), range(n - n_test - n_val, n - n_test), range(n - n_test, n)


def parse_values(text, what, kind=int):
    try:
        return tuple(kind(v.strip()) for v in text.split(",") if v.strip())
    except ValueError:
        raise data.DataError(f"--{what} must be comma-separated numbers like 0,255, not {text!r}") from None


def load_folder(folder, label_values, class_names, membranes, smoke):
    """A folder of image/ + label/ pairs, split into contiguous blocks; returns the dict load_data returns."""
    if membranes and label_values is None:
        label_values = MEMBRANE_VALUES
    pairs = data.load_segmentation_folder(folder, label_values)
    names = class_names or (MEMBRANE_NAMES if membranes and pairs.label_values == MEMBRANE_VALUES
                            else tuple(f"value {v}" for v in pairs.label_values))
    if len(names) != len(pairs.label_values):
        raise data.DataError(f"--class-names gives {len(names)} names for {len(pairs.label_values)} classes "
                             f"(mask values {','.join(map(str, pairs.label_values))})")
    images = pairs.images.astype("float32") / 255
    train, val, test = split_blocks(len(images))
    sets = {part: (images[r], pairs.masks[r], [pairs.names[i] for i in r])
            for part, r in (("train", train), ("validation", val), ("test", test))}
    if smoke:  # 작은 자르기로 몇 걸음만: 검증과 테스트는 한 장씩
        sets = {part: tuple(v[:1] for v in value) if part != "train" else value for part, value in sets.items()}
    return {"sets": sets, "class_names": tuple(names), "label_values": pairs.label_values, "crops": True}


def load_synthetic(n_train, smoke, seed):
    """Generated scenes (common.scenes): 64x64 pictures of shapes; train, validation and test are different scenes."""
    n = SMOKE_SYNTHETIC if smoke else n_train
    size = 64
    parts = {"train": (0, n), "validation": (n, n // 4), "test": (n + n // 4, n // 4)}
    sets = {}
    for part, (start, count) in parts.items():
        images, masks = scenes.segmentation_scenes(count, seed=seed, size=size, start=start)
        sets[part] = (images.astype("float32") / 255, masks, [f"scene {start + i}" for i in range(count)])
    return {"sets": sets, "class_names": scenes.SEGMENTATION_CLASSES,
            "label_values": tuple(range(len(scenes.SEGMENTATION_CLASSES))), "crops": False}


def load_pets(size, smoke):
    """Oxford-IIIT Pet through tensorflow-datasets (downloaded into the cache on first use, about 800 MB):
    the last 10% of its train split for validation, its test split for the test."""
    import tensorflow_datasets as tfds

    tfds_dir = data.cache_dir() / "tfds"
    try:
        parts = tfds.load("oxford_iiit_pet", split=["train[:90%]", "train[90%:]", "test"], data_dir=str(tfds_dir))
    except Exception as e:  # tfds는 내려받기 실패를 여러 종류의 예외로 알립니다
        raise data.DataError(
            f"could not load oxford_iiit_pet into {tfds_dir} ({type(e).__name__}: {str(e).splitlines()[0][:200]}); "
            "check your internet connection, or use --dataset synthetic / --data-dir DIR") from None
    sets = {}
    for part, ds in zip(("train", "validation", "test"), parts):
        if smoke:
            ds = ds.take(SMOKE_PETS)
        images, masks = [], []
        for example in ds.as_numpy_iterator():
            images.append(tf.image.resize(example["image"], (size, size)).numpy() / 255)
            mask = tf.image.resize(example["segmentation_mask"], (size, size), method="nearest").numpy()[..., 0]
            if not np.isin(mask, (1, 2, 3)).all():
                raise data.DataError(f"oxford_iiit_pet's {part} mask {len(masks)} holds values other than the trimap's "
                                     f"1, 2, 3; delete {tfds_dir / 'oxford_iiit_pet'} and run again to download it anew")
            masks.append(mask.astype("uint8") - 1)  # 트라이맵 1, 2, 3 -> 클래스 0, 1, 2
        if not images:
            raise data.DataError(f"oxford_iiit_pet's {part} split is empty in {tfds_dir}; delete that folder and rerun")
        sets[part] = (np.stack(images).astype("float32"), np.stack(masks), [f"pet {i}" for i in range(len(images))])
    return {"sets": sets, "class_names": PET_NAMES, "label_values": (1, 2, 3), "crops": False}


def choose_dataset(args):
    """The --dataset to use: auto means the membranes, unless --data-dir names a folder of other pairs."""
    if args.dataset != "auto":
        return args.dataset
    if args.data_dir is None:
        return "membranes"
    image_dir = next((Path(args.data_dir) / d for d in data.SEGMENTATION_IMAGE_DIRS
                      if (Path(args.data_dir) / d).is_dir()), None)
    stems = {p.stem for p in image_dir.iterdir()} if image_dir else set()
    return "membranes" if stems == MEMBRANE_FILES else "folder"


def load_data(args, dataset):
    label_values = parse_values(args.label_values, "label-values") if args.label_values else None
    class_names = tuple(n.strip() for n in args.class_names.split(",")) if args.class_names else None
    if dataset == "synthetic":
        loaded = load_synthetic(args.synthetic_images, args.smoke, args.seed)
    elif dataset == "pets":
        loaded = load_pets(args.size, args.smoke)
    else:
        if dataset == "folder" and args.data_dir is None:
            raise data.DataError("--dataset folder needs --data-dir DIR (a folder with image/ and label/)")
        folder = args.data_dir if args.data_dir is not None else data.fetch("isbi_membranes")
        loaded = load_folder(folder, label_values, class_names, dataset == "membranes", args.smoke)
    for part, (images, masks, _) in loaded["sets"].items():
        print(f"Data ({dataset}): {part} {len(images)} images of {images.shape[1]}x{images.shape[2]}x{images.shape[3]}")
    shares = np.bincount(loaded["sets"]["train"][1].ravel(), minlength=len(loaded["class_names"]))
    shares = shares / shares.sum()
    print("Classes (share of training pixels): " + ", ".join(
        f"{name} {share:.1%}" for name, share in zip(loaded["class_names"], shares)))
    return loaded


# 2. 증강 / Augmentation applied identically to a picture and its mask
def augmenter(num_classes, elastic, seed, rotation="right-angles"):
    """Flips, rotations (by any angle, or by right angles only) and optionally an elastic deformation as in the
    U-Net paper.

    그림과 마스크가 똑같이 변형되어야 합니다. 마스크를 원-핫(one-hot)으로 바꿔 그림의 채널 뒤에 붙이면 한 번의
    변환이 둘 다에 적용되고, 보간(interpolation)된 원-핫에서 argmax로 클래스를 되찾습니다. (Keras의 dict 입력
    {"images", "segmentation_masks"}는 RandomElasticTransform에서 둘에 서로 다른 변형을 뽑으므로 쓰지 않습니다.)
    """
    # dtype="float32": 혼합 정밀도(mixed precision)에서도 증강은 float32로 (데이터 준비는 모델 밖의 일)
    steps = []
    if rotation == "any":  # +-180도, 임의의 각도: 픽셀을 보간(interpolation)하므로 그림이 조금 흐려집니다
        steps.append(layers.RandomRotation(0.5, fill_mode="reflect", seed=seed, dtype="float32"))
    if elastic > 0:
        steps.append(layers.RandomElasticTransform(factor=1.0, scale=elastic, fill_mode="reflect",
                                                   value_range=(0, 1), seed=seed, dtype="float32"))
    pipeline = keras.Sequential(steps) if steps else None

    def augment(images, masks):
        channels = images.shape[-1]
        stacked = tf.concat([images, tf.one_hot(tf.cast(masks, tf.int32), num_classes)], axis=-1)
        # 위아래, 좌우 뒤집기를 따로따로 (Keras의 RandomFlip("horizontal_and_vertical")은 둘을 함께 뒤집어, 180도
        # 회전만 됩니다). right-angles면 대각선 뒤집기(transpose)도 더해 90도 단위 회전까지 8가지, 보간은 없습니다.
        flips = [lambda t: t[:, ::-1], lambda t: t[:, :, ::-1]]
        if rotation == "right-angles":
            flips.append(lambda t: tf.transpose(t, (0, 2, 1, 3)))
        for i, flip in enumerate(flips):
            chosen = tf.random.uniform((tf.shape(stacked)[0], 1, 1, 1), seed=seed + i) < 0.5
            stacked = tf.where(chosen, flip(stacked), stacked)
        if pipeline is not None:
            stacked = pipeline(stacked, training=True)
        return stacked[..., :channels], tf.argmax(stacked[..., channels:], axis=-1, output_type=tf.int32)

    return augment


def training_pipeline(images, masks, crop, batch_size, augment, seed):
    """Endless batches of random crops (crop x crop) from the training images, augmented.

    무작위 자르기와 증강의 map은 하나씩 차례로(num_parallel_calls 없이) 돌립니다: 여러 개를 동시에 돌리면 난수를
    뽑는 순서가 매번 달라져 같은 --seed로도 다른 조각과 뒤집기가 나옵니다. 한 배치를 만드는 일은 학습 한 걸음보다
    훨씬 가볍고, prefetch가 학습과 겹쳐 준비하므로 느려지지 않습니다.
    """
    channels = images.shape[-1]
    pairs = np.concatenate([images, masks[..., None].astype("float32")], axis=-1)
    ds = tf.data.Dataset.from_tensor_slices(pairs).repeat().shuffle(len(pairs), seed=seed)
    ds = ds.map(lambda p: tf.image.random_crop(p, (crop, crop, channels + 1)))  # 시드는 --seed(전역 시드)에서
    ds = ds.batch(batch_size).map(lambda p: (p[..., :channels], p[..., channels]))
    if augment is not None:
        ds = ds.map(augment)
    return ds.prefetch(tf.data.AUTOTUNE)


# 3. 모델 / Build the model: U-Net or FCN-8s, logits for every pixel and class
def conv_block(x, filters):
    """Two 3x3 convolutions, each with batch normalisation and ReLU (the U-Net's unit, with BN added)."""
    for _ in range(2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        # momentum 0.9: 추론(inference)에 쓰는 이동 평균이 빨리 따라와, 에포크마다의 검증이 덜 흔들립니다
        x = layers.ReLU()(layers.BatchNormalization(momentum=0.9)(x))
    return x


def build_unet(num_classes, channels, base=16, depth=4):
    """U-Net (Ronneberger et al. 2015) with "same" padding: any input side that is a multiple of 2**depth.

    인코더: 단계마다 conv_block 뒤 2x2 최대 풀링으로 크기를 반으로, 필터를 두 배로.
    디코더: 2x2 전치 합성곱(transposed convolution)으로 두 배로 키우고, 같은 크기의 인코더 특징을 이어 붙입니다.
    """
    inputs = keras.Input(shape=(None, None, channels), name="image")
    x, skips = inputs, []
    for level in range(depth):
        x = conv_block(x, base * 2 ** level)
        skips.append(x)  # 건너뛰기 연결(skip connection)로 디코더에 넘길 특징: 세밀한 위치 정보
        x = layers.MaxPooling2D()(x)
    x = conv_block(x, base * 2 ** depth)  # 가장 작은 크기(1/16): 가장 넓은 맥락
    for level in reversed(range(depth)):
        x = layers.Conv2DTranspose(base * 2 ** level, 2, strides=2, padding="same")(x)
        x = conv_block(layers.Concatenate()([x, skips[level]]), base * 2 ** level)
    logits = layers.Conv2D(num_classes, 1, name="logits", dtype="float32")(x)  # 픽셀마다 클래스 점수
    return keras.Model(inputs, logits, name="unet")


def build_fcn8(num_classes, channels, base=16):
    """FCN-8s (Long et al. 2015), small: five pooling stages; class scores from 1/32, 1/16 and 1/8 of the
    picture are upsampled and added (the 1/16 and 1/8 scores are the skips), then upsampled 8x to full size."""
    inputs = keras.Input(shape=(None, None, channels), name="image")
    x, pools = inputs, []
    for level in range(5):
        x = layers.MaxPooling2D()(conv_block(x, base * 2 ** min(level, 3)))
        pools.append(x)  # 1/2, 1/4, 1/8, 1/16, 1/32
    score = layers.Conv2D(num_classes, 1)(conv_block(pools[4], base * 8))  # 1/32: "무엇"
    for skip in (pools[3], pools[2]):  # 1/16, 1/8: "어디"를 더합니다
        score = layers.Conv2DTranspose(num_classes, 4, strides=2, padding="same")(score)
        score = layers.Add()([score, layers.Conv2D(num_classes, 1)(skip)])
    logits = layers.Conv2DTranspose(num_classes, 16, strides=8, padding="same", name="logits", dtype="float32")(score)
    return keras.Model(inputs, logits, name="fcn8s")


def segmentation_metrics(class_names):
    """Keras metrics on logits: pixel accuracy, mean IoU and every class's IoU (names like iou_membrane)."""
    n = len(class_names)
    return [keras.metrics.SparseCategoricalAccuracy(name="pixel_accuracy"),
            keras.metrics.MeanIoU(n, sparse_y_pred=False, name="mean_iou"),
            *(keras.metrics.IoU(n, [c], sparse_y_pred=False, name=f"iou_{metric_name(name)}")
              for c, name in enumerate(class_names))]


def metric_name(class_name):
    return "".join(ch if ch.isalnum() else "_" for ch in class_name.lower())


def build_model(network, num_classes, channels, base, learning_rate, class_names, total_steps):
    model = (build_unet if network == "unet" else build_fcn8)(num_classes, channels, base)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=total_steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=segmentation_metrics(class_names))
    return model


# 4. 학습 / Train, watching validation every epoch
def dice_from_iou(iou):
    """Dice = 2|A∩B| / (|A| + |B|) = 2 IoU / (1 + IoU): the same overlap, counted differently."""
    return 2 * iou / (1 + iou)


class DiceAndPreview(keras.callbacks.Callback):
    """Adds the Dice of one class to the epoch's logs (before TensorBoard writes them) and logs a
    validation prediction as an image, so TensorBoard shows the masks getting sharper."""

    def __init__(self, dice_class, image, mask, tile, log_dir):
        super().__init__()
        self.dice_class, self.image, self.mask, self.tile, self.log_dir = dice_class, image, mask, tile, log_dir

    def on_epoch_end(self, epoch, logs=None):
        if self.dice_class is not None and logs is not None:
            for prefix in ("", "val_"):
                if f"{prefix}iou_{self.dice_class}" in logs:
                    logs[f"{prefix}dice_{self.dice_class}"] = dice_from_iou(logs[f"{prefix}iou_{self.dice_class}"])
        if self.image is None:
            return
        predicted = predict_tiled(self.model, self.image[None], self.tile)[0].argmax(-1)
        row = np.concatenate([as_rgb(self.image), colour(self.mask), colour(predicted), errors(self.image, self.mask, predicted)], 1)
        tb.log_image(self.log_dir, "predictions", "validation", row / 255, step=epoch,
                     description="그림 | 정답 | 예측 | 틀린 픽셀(빨강) / image | true | predicted | errors in red")


# 5. 예측 / Predict a whole picture with overlapping tiles
def tile_starts(length, tile, step):
    starts = list(range(0, max(length - tile, 0) + 1, step))
    if starts[-1] + tile < length:
        starts.append(length - tile)  # 마지막 타일은 끝에 맞춥니다
    return starts


def predict_tiled(model, images, tile, batch_size=16):
    """Class probabilities (n, h, w, classes) for pictures (n, h, w, c) of any size, predicted in tile x tile
    pieces that overlap by a quarter; each piece's border (where "same" padding saw zeros) counts less.

    학습은 잘라 낸 조각(crop)으로 했으므로, 큰 그림도 같은 크기의 조각으로 나눠 예측하고 겹치는 곳은 가중 평균합니다.
    메모리도 조각 크기만큼만 씁니다.
    """
    n, h, w = images.shape[:3]
    pad_h, pad_w = max(tile - h, 0), max(tile - w, 0)
    padded = np.pad(images, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="reflect") if pad_h or pad_w else images
    step = tile - tile // OVERLAP
    ramp = np.minimum(1.0, (np.minimum(np.arange(tile), np.arange(tile)[::-1]) + 1) / (tile // OVERLAP))
    weight = np.outer(ramp, ramp)[..., None]  # 가장자리는 작게, 가운데는 1
    corners = [(y, x) for y in tile_starts(padded.shape[1], tile, step) for x in tile_starts(padded.shape[2], tile, step)]
    pieces = np.concatenate([padded[:, y:y + tile, x:x + tile] for y, x in corners])  # 조각 순서: 자리마다 n장
    logits = model.predict(pieces, batch_size=batch_size, verbose=0)
    probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(logits, axis=-1)).reshape(len(corners), n, tile, tile, -1)
    total = np.zeros(padded.shape[:3] + (probabilities.shape[-1],))
    weights = np.zeros(padded.shape[1:3] + (1,))
    for (y, x), p in zip(corners, probabilities):
        total[:, y:y + tile, x:x + tile] += p * weight
        weights[y:y + tile, x:x + tile] += weight
    return (total / weights)[:, :h, :w]


def predict_views(model, images, tile, views=8):
    """predict_tiled averaged over `views` flipped and rotated copies of the pictures (test-time augmentation):
    each copy's answer is turned back before averaging. 1: the pictures only; 8: all four rotations, each also
    mirrored. Membranes and cells have no up or left, so every copy is an equally good question."""
    total = 0
    for view in range(views):
        k, mirrored = view % 4, view >= 4
        copy = np.rot90(images[:, :, ::-1] if mirrored else images, k, axes=(1, 2))
        answer = np.rot90(predict_tiled(model, np.ascontiguousarray(copy), tile), -k, axes=(1, 2))
        total = total + (answer[:, :, ::-1] if mirrored else answer)
    return total / views


# 6. 그림 / Figures
def as_rgb(image):
    """An image in [0, 1] (h, w, 1 or 3) as uint8 RGB."""
    image = np.clip(image * 255, 0, 255).astype(np.uint8)
    return np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image


def colour(mask):
    """Class numbers (h, w) -> RGB (h, w, 3) with the course palette."""
    return PALETTE[np.asarray(mask) % len(PALETTE)]


def errors(image, mask, predicted):
    """The picture in grey, with the wrongly classified pixels in red."""
    grey = as_rgb(image).mean(axis=-1, keepdims=True).repeat(3, axis=-1).astype(np.uint8)
    grey[np.asarray(mask) != predicted] = (255, 0, 0)
    return grey


def overlay(image, predicted, alpha=0.45):
    """The picture with each pixel tinted by its predicted class."""
    return (as_rgb(image) * (1 - alpha) + colour(predicted) * alpha).astype(np.uint8)


def save_predictions(images, masks, predictions, names, class_names, path, log_dir):
    """One row per test image: image | true mask | prediction | errors (red)."""
    plt = tb.pyplot()
    rows = len(images)
    fig, axes = plt.subplots(rows, 4, figsize=(12, 3.1 * rows), squeeze=False)
    titles = ("그림 / image", "정답 / true mask", "예측 / predicted", "틀린 픽셀 / errors (red)")
    for i in range(rows):
        accuracy = float((predictions[i] == masks[i]).mean())
        panels = (as_rgb(images[i]), colour(masks[i]), colour(predictions[i]), errors(images[i], masks[i], predictions[i]))
        for j, panel in enumerate(panels):
            axes[i, j].imshow(panel)
            axes[i, j].axis("off")
            axes[i, j].set_title(titles[j] + (f"\n{names[i]}" if j == 0 else f"\n{accuracy:.3f}" if j == 3 else ""))
    patches = [plt.Rectangle((0, 0), 1, 1, color=PALETTE[c % len(PALETTE)] / 255, label=name)
               for c, name in enumerate(class_names)]
    fig.legend(handles=patches, loc="lower center", ncol=len(patches))
    fig.suptitle("테스트 예측 (오른쪽 위 숫자: 픽셀 정확도) / test predictions (top right: pixel accuracy)")
    tb.save_figure(fig, path, log_dir=log_dir)


def save_history(history, path, log_dir):
    plt = tb.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key in zip(axes, ("loss", "mean_iou")):
        ax.plot(history.history[key], label="학습 / train")
        if f"val_{key}" in history.history:  # --final-fit에는 검증이 없습니다
            ax.plot(history.history[f"val_{key}"], label="검증 / validation")
        ax.set(xlabel="에포크 / epoch", title={"loss": "손실 / loss", "mean_iou": "평균 IoU / mean IoU"}[key])
        ax.legend()
    tb.save_figure(fig, path, log_dir=log_dir)


# 7. 사용자 그림 예측 / --predict IMAGE --model DIR
def predict_picture(args):
    """Segments one picture with a trained run's model; writes <name>_overlay.png and <name>_mask.png."""
    from PIL import Image, UnidentifiedImageError

    if args.model is None or not (args.model / "model.keras").is_file() or not (args.model / "classes.json").is_file():
        raise data.DataError(f"--predict needs --model DIR, a run folder of this script with model.keras and "
                             f"classes.json (got {args.model})")
    info = json.loads((args.model / "classes.json").read_text(encoding="utf-8"))
    try:
        with Image.open(args.predict) as picture:
            picture = picture.convert("L" if info["channels"] == 1 else "RGB")
            image = np.asarray(picture, dtype="float32") / 255
    except (FileNotFoundError, UnidentifiedImageError, OSError) as e:
        raise data.DataError(f"cannot read {args.predict} as an image ({e})") from None
    if image.ndim == 2:
        image = image[..., None]
    flags.start_run(args)
    model = keras.models.load_model(args.model / "model.keras")
    predicted = predict_views(model, image[None], info["tile"], min(args.views, info.get("views", 1)))[0].argmax(-1)
    stem = Path(args.predict).stem
    Image.fromarray(overlay(image, predicted)).save(args.log_dir / f"{stem}_overlay.png")
    values = np.array(info["label_values"])
    Image.fromarray(values[predicted].astype(np.uint8 if values.max() < 256 else np.uint16)).save(args.log_dir / f"{stem}_mask.png")
    shares = np.bincount(predicted.ravel(), minlength=len(info["class_names"])) / predicted.size
    print(f"Wrote {args.log_dir / (stem + '_overlay.png')} and {stem}_mask.png (mask values {info['label_values']}); "
          + ", ".join(f"{name} {share:.1%}" for name, share in zip(info["class_names"], shares)))
    return tb.write_metrics(args.log_dir, **{f"share_{metric_name(n)}": float(s) for n, s in zip(info["class_names"], shares)})


def main(argv=None):
    args = flags.parse(PARSER, argv)
    if args.predict is not None:
        return predict_picture(args)
    if args.crop % 32 or args.crop < 32 or (args.base_filters is not None and args.base_filters < 1) or args.steps_per_epoch < 1 or not 0 <= args.elastic <= 1:
        raise data.DataError("--crop must be a multiple of 32 (at least 32); --base-filters and --steps-per-epoch "
                             "at least 1; --elastic between 0 and 1")
    dataset = choose_dataset(args)
    epochs, batch_size, base = DEFAULTS[dataset]
    args.epochs = args.epochs or (2 if args.smoke else epochs)
    args.batch_size = args.batch_size or batch_size
    base = args.base_filters or (SMOKE_FILTERS if args.smoke else base)
    loaded = load_data(args, dataset)
    sets, class_names = loaded["sets"], loaded["class_names"]
    x_train, y_train, _ = sets["train"]
    x_val, y_val, _ = sets["validation"]
    if args.final_fit:
        # 최종 학습(final fit): 에포크 수는 앞선 실행에서 검증 세트로 이미 골랐으니, 검증 그림까지 학습에 씁니다.
        # 테스트 그림은 여전히 한 번도 보지 않습니다.
        x_train, y_train = np.concatenate([x_train, x_val]), np.concatenate([y_train, y_val])
        print(f"Final fit: training on {len(x_train)} images (validation included), no validation; "
              f"the last of {args.epochs} epochs is kept")
    num_classes, channels = len(class_names), x_train.shape[-1]
    crop = min(SMOKE_CROP if args.smoke else args.crop, x_train.shape[1] // 32 * 32, x_train.shape[2] // 32 * 32)
    tile = crop if loaded["crops"] else x_train.shape[1]
    dice_class = metric_name(class_names[0]) if dataset == "membranes" else None  # 막의 Dice: 찾으려는 것이 막입니다

    strategy = runtime.setup(args)  # 장치, 시드, 실행 폴더와 config.json
    if loaded["crops"]:
        steps = SMOKE_STEPS if args.smoke else args.steps_per_epoch
        augment = augmenter(num_classes, args.elastic, args.seed, args.rotation)
        train_ds = training_pipeline(x_train, y_train, crop, args.batch_size, augment, args.seed)
    else:  # 생성한 장면과 애완동물 사진: 그림 전체로, 증강 없이 (장면은 얼마든지 새로 그릴 수 있습니다)
        steps = math.ceil(len(x_train) / args.batch_size)
        train_ds = data.make_pipeline(x_train, y_train.astype("int32"), batch_size=args.batch_size, shuffle=True,
                                      seed=args.seed).repeat()
    val_ds = None if args.final_fit else data.make_pipeline(x_val, y_val.astype("int32"),
                                                            batch_size=1 if loaded["crops"] else 64)
    with strategy.scope():
        model = build_model(args.network, num_classes, channels, base, args.learning_rate, class_names,
                            total_steps=args.epochs * steps)
    model.summary()

    best = args.log_dir / "best.weights.h5"
    preview = (None, None) if args.final_fit else (x_val[0], y_val[0])  # 최종 학습에는 검증 그림이 없습니다
    callbacks = [
        DiceAndPreview(dice_class, *preview, tile, args.log_dir),  # TensorBoard보다 먼저: logs에 Dice를 더합니다
        tb.tensorboard_callback(args.log_dir), tb.StopOnNaN(args.log_dir),
    ]
    if not args.final_fit:
        # 검증 평균 IoU가 가장 좋았던 에포크의 가중치를 고릅니다(테스트 세트가 아니라 검증 세트로)
        callbacks.append(keras.callbacks.ModelCheckpoint(best, monitor="val_mean_iou", mode="max",
                                                         save_best_only=True, save_weights_only=True))
    timer = tb.Timer()
    history = model.fit(train_ds, steps_per_epoch=steps, validation_data=val_ds, epochs=args.epochs, verbose=2,
                        callbacks=callbacks)
    seconds = timer.seconds()
    if args.final_fit:
        best_epoch, best_val_iou, best_val_accuracy = None, None, None  # 고른 에포크가 없습니다
        print(f"Kept the last epoch ({args.epochs}); training took {seconds:.0f} s")
    else:
        model.load_weights(best)
        val_iou = history.history["val_mean_iou"]
        best_epoch = int(np.argmax(val_iou))
        best_val_iou = val_iou[best_epoch]
        best_val_accuracy = history.history["val_pixel_accuracy"][best_epoch]
        print(f"Chose epoch {best_epoch + 1} of {len(val_iou)} on validation (mean IoU {best_val_iou:.4f}); "
              f"training took {seconds:.0f} s")

    # 평가 / Evaluate on the test images, once, each predicted whole
    x_test, y_test, test_names = sets["test"]
    # 뒤집고 돌린 사본은 학습 때 뒤집고 돌려 본 모델에게만 같은 질문입니다: 위를 가리키는 삼각형만 본 모델에게
    # 거꾸로 된 삼각형은 처음 보는 모양입니다 (합성 장면에서 8방향으로 예측하면 삼각형을 다른 도형으로 읽습니다)
    views = args.views if loaded["crops"] else 1
    predictions = predict_views(model, x_test, tile, views).argmax(-1)
    test_metrics = segmentation_metrics(class_names)
    for metric in test_metrics:
        metric.update_state(y_test, keras.ops.one_hot(predictions, num_classes))  # 확률 대신 원-핫: argmax는 같습니다
    results = {m.name: float(m.result()) for m in test_metrics}
    per_class = ", ".join(f"{name} {results['iou_' + metric_name(name)]:.4f}" for name in class_names)
    print(f"Test ({len(x_test)} images, whole, {views} view{'s' * (views > 1)}): pixel accuracy {results['pixel_accuracy']:.4f}, "
          f"mean IoU {results['mean_iou']:.4f} (IoU {per_class})")
    # 기준선(baseline): 모든 픽셀을 학습 데이터에 가장 흔한 클래스라고 답해도 이만큼은 맞습니다
    counts = np.bincount(y_train.ravel(), minlength=num_classes)
    commonest = int(np.argmax(counts))
    extra = {"test_baseline_pixel_accuracy": float((y_test == commonest).mean()),
             **{f"train_share_{metric_name(n)}": float(c / counts.sum()) for n, c in zip(class_names, counts)}}
    print(f"Baseline: calling every pixel {class_names[commonest]!r} (the commonest class in training) scores "
          f"pixel accuracy {extra['test_baseline_pixel_accuracy']:.4f}")
    if dice_class is not None:
        extra["test_dice"] = dice_from_iou(results[f"iou_{dice_class}"])
        print(f"Test Dice of the {class_names[0]} class: {extra['test_dice']:.4f}")
    with tb.writer(args.log_dir, "test").as_default():
        for name, value in {**results, **extra}.items():
            tf.summary.scalar(name, value, step=0)

    shown = min(3, len(x_test))
    save_predictions(x_test[:shown], y_test[:shown], predictions[:shown], test_names[:shown], class_names,
                     args.log_dir / "predictions.png", args.log_dir)
    save_history(history, args.log_dir / "history.png", args.log_dir)
    model.save(args.log_dir / "model.keras")
    flags.save_json(args.log_dir / "classes.json", {"class_names": list(class_names), "label_values":
                    list(loaded["label_values"]), "channels": channels, "tile": tile, "views": views})
    return tb.write_metrics(
        args.log_dir, test_pixel_accuracy=results["pixel_accuracy"], test_mean_iou=results["mean_iou"],
        **{f"test_iou_{metric_name(n)}": results[f"iou_{metric_name(n)}"] for n in class_names}, **extra,
        val_mean_iou=best_val_iou, val_pixel_accuracy=best_val_accuracy,
        best_epoch=None if best_epoch is None else best_epoch + 1, train_seconds=round(seconds, 2),
        epochs=args.epochs, base_filters=base, views=views, dataset=dataset, network=args.network,
    )


if __name__ == "__main__":
    main()
