"""Image captioning (Show and Tell): a CNN reads the picture, an LSTM writes the caption one word at a time.

요약: 그림을 합성곱 신경망(CNN)이 특징으로 바꾸고, 그 특징을 LSTM의 첫 입력으로 넣은 뒤 LSTM이 단어를 하나씩
씁니다(Show and Tell, Vinyals et al. 2015). 단어마다 그림의 어느 칸을 볼지 고르는 주의(attention)가 기본으로 켜져
있습니다(Show, Attend and Tell). 학습 때는 정답 캡션의 앞 단어를 넣어 다음 단어를 맞히게 하고(teacher forcing),
쓸 때는 자기가 고른 단어를 다음 입력으로 넣습니다: 탐욕(greedy) 디코딩과 빔 서치(beam search). BLEU와 최근접
이웃(nearest-neighbour) 기준선으로 평가합니다.

Run:    python week4/image_captioning.py                     (synthetic scenes of common/scenes.py, no download)
        python week4/image_captioning.py --no-attention      (plain Show and Tell: the image only as the first input)
        python week4/image_captioning.py --dataset flickr8k  (real photos: downloads Flickr8k, about 1 GB, once;
                                                             an ImageNet backbone, features cached; a GPU helps)
Smoke:  python week4/image_captioning.py --smoke
Expect: prints the vocabulary, the training and validation loss per epoch and the validation BLEU-4 of greedy
        captions, then the test set's BLEU-1..4 (beam search) beside the nearest-neighbour baseline's BLEU-4, the
        fact accuracy (colours, shapes and counts of the caption match the scene) and the compositional split's
        BLEU-4. The run folder gets examples.png, attention.png, encoder.keras, decoder_step.keras and
        vocabulary.json: `python week4/caption_image.py PICTURE --model RUN_FOLDER` captions a picture.
        Measured with the defaults (README table): BLEU-4 0.846 on the test scenes (BLEU-1 0.935) against 0.299 for
        the nearest neighbour; fact accuracy 0.952 (nearest neighbour 0.229); compositional split BLEU-4 0.662 and
        fact accuracy 0.320; 985 s of training on a 2-core CPU.

Why, for the synthetic scenes, a small CNN trained together with the LSTM rather than a pretrained ImageNet network:
the captions name colours, shapes, counts and left-to-right order, which a 4-layer CNN learns from the captions in
minutes on a CPU, and its 8x8 grid keeps where each shape is. Real photos need what an ImageNet network already
knows (dogs, grass, bicycles), so with --dataset flickr8k the backbone is pretrained, frozen, and run once per
photo: its features are cached on disk like week 2's bottlenecks.
Why attention by default: plain Show and Tell must keep the whole picture in the LSTM's state from the first input
on, while with attention the model looks at the grid again for every word ("purple" while it looks at the purple
square); the measured default run is the attention model (--no-attention has no record yet). The attention here is Luong-style (scores from the LSTM's output at each word), so training
still runs the LSTM over the whole caption in one call.
"""

import argparse
import hashlib
import os
import re
import sys
import textwrap
import warnings
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
PARSER = flags.make_parser(__file__, __doc__, epochs=14, batch_size=64, learning_rate=3e-3)
PARSER.add_argument("--dataset", choices=("scenes", "flickr8k"), default="scenes",
                    help="scenes: synthetic pictures drawn on the fly; flickr8k: 8,000 photos with 5 captions each "
                    "(--data-dir, or downloaded into the cache) (default: %(default)s)")
PARSER.add_argument("--attention", action=argparse.BooleanOptionalAction, default=True,
                    help="soft attention over the grid of image features at every word; --no-attention: plain "
                    "Show and Tell (default: on)")
PARSER.add_argument("--beam-size", type=int, default=3,
                    help="captions kept at every step of beam search for the test set; 1: greedy (default: %(default)s)")
PARSER.add_argument("--units", type=int, default=256, help="LSTM state size (default: %(default)s)")
PARSER.add_argument("--embedding-dim", type=int, default=128,
                    help="size of the word vectors and of the image vector fed first (default: %(default)s)")
PARSER.add_argument("--dropout", type=float, default=0.2, help="dropout before the word layer (default: %(default)s)")
PARSER.add_argument("--max-words", type=int, default=22,
                    help="longest caption in words, the end token included; longer ones are cut (default: %(default)s)")
PARSER.add_argument("--train-scenes", type=int, default=6000,
                    help="scenes: training scenes, validation included (default: %(default)s)")
PARSER.add_argument("--val-scenes", type=int, default=600,
                    help="scenes: the last training scenes, kept for validation (default: %(default)s)")
PARSER.add_argument("--test-scenes", type=int, default=1000, help="scenes: new scenes for the test (default: %(default)s)")
PARSER.add_argument("--compositional-scenes", type=int, default=500,
                    help="scenes: test scenes that each hold a held-out colour-shape pair (default: %(default)s)")
PARSER.add_argument("--image-size", type=int, default=None,
                    help="picture width and height: 64 for scenes, the backbone's size for photos (default: those)")
PARSER.add_argument("--backbone", choices=("inception_v3", "mobilenet_v2"), default="inception_v3",
                    help="flickr8k: the pretrained network that reads the photos (default: %(default)s)")
PARSER.add_argument("--weights", choices=("imagenet", "none"), default="imagenet",
                    help="flickr8k: the backbone's weights; none: random, offline, for testing only (default: %(default)s)")
PARSER.add_argument("--min-count", type=int, default=5,
                    help="flickr8k: words seen fewer times in training become <unk> (default: %(default)s)")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
import numpy as np
import tensorflow as tf
from keras import layers
from nltk.translate.bleu_score import corpus_bleu

from common import data, runtime, scenes, tb

PAD, UNK, START, END = "<pad>", "<unk>", "<start>", "<end>"  # 특별한 토큰(special tokens): 번호 0, 1, 2, 3
SPECIAL = (PAD, UNK, START, END)
NEVER_WRITTEN = (SPECIAL.index(PAD), SPECIAL.index(START))  # 디코딩이 고르지 않는 토큰
CONV_WIDTHS = (16, 32, 64, 64)  # 64x64 -> 32 -> 16 -> 8: 8x8 격자의 칸마다 특징 64개 (week4/visual_qa.py와 같은 CNN)
SCENE_SIZE = 64
BACKBONE_SIZES = {"inception_v3": 299, "mobilenet_v2": 224}
SMOKE_SCENES = {"train": 60, "val": 20, "test": 20, "compositional": 20}
FEATURE_FORMAT = 1  # 특징 캐시 파일 형식이 바뀌면 올립니다
BLEU_WEIGHTS = [(1.0,), (0.5, 0.5), (1 / 3, 1 / 3, 1 / 3), (0.25, 0.25, 0.25, 0.25)]  # BLEU-1 ... BLEU-4
EXAMPLES = 8


# 1. 데이터 / Prepare the data: pictures and their captions
def words(text):
    """A caption -> its words: lower case, punctuation dropped ("Two red circles." -> ['two', 'red', 'circles'])."""
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower())


def scene_split(scene_list):
    """Scenes -> {"images" (N, H, W, 3) uint8, "captions": [[caption, ...] per picture], "objects"}."""
    return {
        "images": np.stack([s.image for s in scene_list]),
        "captions": [s.captions for s in scene_list],
        "objects": [s.objects for s in scene_list],
    }


def load_scenes(seed=42, image_size=SCENE_SIZE, train_scenes=6000, val_scenes=600, test_scenes=1000,
                compositional_scenes=500, smoke=False):
    """{"train", "val", "test", "compositional"} splits of synthetic scenes (see scene_split).

    Validation is the last `val_scenes` of the training part: new pictures from the same distribution, where every
    choice is made. "test" is another random stream; "compositional" holds colour-shape pairs never seen in training.
    """
    if smoke:
        train_scenes, val_scenes = SMOKE_SCENES["train"] + SMOKE_SCENES["val"], SMOKE_SCENES["val"]
        test_scenes, compositional_scenes = SMOKE_SCENES["test"], SMOKE_SCENES["compositional"]
    if not 1 <= val_scenes < train_scenes or min(test_scenes, compositional_scenes) < 1:
        raise data.DataError("--val-scenes must be at least 1 and less than --train-scenes, and --test-scenes and "
                             "--compositional-scenes at least 1")
    if image_size < 32:
        raise data.DataError(f"--image-size {image_size} is too small to draw four shapes; use 32 or more")
    timer = tb.Timer()
    train_part = scenes.generate("train", train_scenes, seed, image_size)
    splits = {
        "train": scene_split(train_part[:-val_scenes]),
        "val": scene_split(train_part[-val_scenes:]),
        "test": scene_split(scenes.generate("test", test_scenes, seed, image_size)),
        "compositional": scene_split(scenes.generate("compositional", compositional_scenes, seed, image_size)),
    }
    print(f"Data: {timer.seconds():.1f} s to draw the scenes; "
          + ", ".join(f"{k} {len(s['images'])}" for k, s in splits.items()))
    return splits


def build_vocabulary(caption_lists, min_count=1):
    """The word list: the special tokens, then every training word seen at least min_count times, most common first."""
    counts = Counter(w for captions in caption_lists for caption in captions for w in words(caption))
    kept = sorted((w for w, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w))
    return [*SPECIAL, *kept]


def encode_captions(caption_lists, vocabulary, max_words):
    """Every (picture, caption) pair as numbers, for teacher forcing.

    Returns picture indices (P,), inputs (P, max_words) = <start> w1 ... wn and targets (P, max_words) =
    w1 ... wn <end>, both padded with 0 (<pad>) after the end: the word to predict is always one step ahead.
    """
    index = {w: i for i, w in enumerate(vocabulary)}
    unk = index[UNK]
    picture_ids, inputs, targets = [], [], []
    for i, captions in enumerate(caption_lists):
        for caption in captions:
            ids = [index.get(w, unk) for w in words(caption)][: max_words - 1]
            row_in, row_out = np.zeros(max_words, np.int32), np.zeros(max_words, np.int32)
            row_in[: len(ids) + 1] = [index[START], *ids]
            row_out[: len(ids) + 1] = [*ids, index[END]]
            picture_ids.append(i)
            inputs.append(row_in)
            targets.append(row_out)
    return np.array(picture_ids, np.int32), np.stack(inputs), np.stack(targets)


def make_dataset(pictures, picture_ids, inputs, targets, *, batch_size, shuffle=False, seed=None):
    """A tf.data pipeline of ({"image", "words"}, next words, weights) batches; weight 0 on <pad> targets.

    Each picture (or its feature map) is stored once and fetched by number for each of its captions.
    """
    pictures = tf.constant(pictures)
    weights = (targets != 0).astype(np.float32)  # <pad> 자리는 손실에 넣지 않습니다
    ds = tf.data.Dataset.from_tensor_slices((picture_ids, inputs, targets, weights))
    if shuffle:
        ds = ds.shuffle(len(inputs), seed=seed, reshuffle_each_iteration=True)

    def to_inputs(picture_ids, words_in, words_out, weights):
        # 묶음(batch)에서 가장 긴 캡션 길이까지만: 뒤쪽의 <pad>만 있는 칸은 LSTM이 돌 필요가 없습니다
        length = tf.reduce_max(tf.math.count_nonzero(words_out, axis=1, dtype=tf.int32))
        picked = tf.gather(pictures, picture_ids)
        return {"image": picked, "words": words_in[:, :length]}, words_out[:, :length], weights[:, :length]

    return ds.batch(batch_size).map(to_inputs, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


# 1b. 실제 사진 / Real photos: Flickr8k through a frozen ImageNet backbone, features cached once per photo
def build_backbone(name, weights, image_size):
    """Photos (0-255) -> the backbone's last feature map (rows, cols, channels), e.g. 8x8x2048 for Inception v3."""
    application, preprocess = {
        "inception_v3": (keras.applications.InceptionV3, keras.applications.inception_v3.preprocess_input),
        "mobilenet_v2": (keras.applications.MobileNetV2, keras.applications.mobilenet_v2.preprocess_input),
    }[name]
    try:
        base = application(include_top=False, weights="imagenet" if weights == "imagenet" else None,
                           input_shape=(image_size, image_size, 3))
    except Exception as e:  # 내려받기 실패: 네트워크 오류나 해시 불일치
        raise data.DataError(f"could not load {name}'s ImageNet weights ({' '.join(str(e).split())[:200]}); check "
                             "your internet connection, or use --weights none to test offline") from None
    photos = keras.Input(shape=(image_size, image_size, 3))
    return keras.Model(photos, base(preprocess(photos)), name=f"{name}_features")


def photo_features(backbone, paths, image_size, store_dir, batch_size=32):
    """The backbone's feature map of every photo that decodes, computed once and kept in store_dir.

    Returns (feature maps (n, rows, cols, channels) float16, indices of the paths used). The cache key is the
    photo's bytes (SHA-1) and the file name names the backbone, size and weights, so nothing stale is reused.
    """
    fingerprint = hashlib.sha1(b"".join(np.asarray(w).tobytes() for w in backbone.weights[:4])).hexdigest()[:12]
    store_path = Path(store_dir) / f"{backbone.name}-{image_size}px-{fingerprint}-v{FEATURE_FORMAT}.npz"
    store = {}
    if store_path.exists():
        with np.load(store_path, allow_pickle=False) as f:
            store = dict(zip(f["keys"].tolist(), f["features"]))
    keys = [hashlib.sha1(Path(p).read_bytes()).hexdigest() for p in paths]
    missing = [i for i, k in enumerate(keys) if k not in store]
    print(f"Features: {len(paths) - len(missing)} of {len(paths)} photos found in {store_path}")
    for start in range(0, len(missing), 500):
        chunk = missing[start:start + 500]
        try:
            images, kept = data.load_images([paths[i] for i in chunk], image_size)  # 읽을 수 없는 파일은 건너뜁니다
        except data.DataError:
            continue
        maps = backbone.predict(images, batch_size=batch_size, verbose=0).astype(np.float16)
        store.update((keys[chunk[k]], m) for k, m in zip(kept, maps))
        store_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = store_path.with_name(f"{store_path.name}.{os.getpid()}.part")
        with open(tmp, "wb") as f:  # 임시 파일에 쓰고 이름을 바꿔 넣습니다: 중간에 멈춰도 반쪽 파일이 남지 않습니다
            np.savez(f, keys=np.array(list(store)), features=np.stack(list(store.values())))
        os.replace(tmp, store_path)
        print(f"  {min(start + 500, len(missing))} of {len(missing)} photos computed")
    used = [i for i, k in enumerate(keys) if k in store]
    if not used:
        raise data.DataError(f"none of the {len(paths)} photos could be read as an image")
    return np.stack([store[keys[i]] for i in used]), np.array(used, np.int64)


def load_photos(data_dir, backbone_name, weights, image_size, smoke=False):
    """Flickr8k's train / dev / test photos as feature maps with their captions (splits like load_scenes')."""
    listing = data.load_flickr8k(data_dir)  # {"train": [(path, [captions])], "val": ..., "test": ...}
    if smoke:
        listing = {name: items[: SMOKE_SCENES[name]] for name, items in listing.items()}
    backbone = build_backbone(backbone_name, weights, image_size)
    splits = {}
    for name, items in listing.items():
        maps, used = photo_features(backbone, [p for p, _ in items], image_size, data.cache_dir() / "caption_features")
        splits[name] = {"images": maps, "captions": [items[i][1] for i in used], "paths": [items[i][0] for i in used]}
    print("Data: " + ", ".join(f"{k} {len(s['captions'])} photos" for k, s in splits.items()))
    return splits


# 2. 모델 / Build the model: encoder, then a decoder that writes one word per step
def scene_encoder(image):
    """Scene pictures (batch, 64, 64, 3) uint8 -> a feature map (batch, 8, 8, 64): where which colours and edges are."""
    x = layers.Rescaling(1 / 255)(image)
    for i, width in enumerate(CONV_WIDTHS):
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv{i + 1}")(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.ReLU()(x)
        if i < len(CONV_WIDTHS) - 1:
            x = layers.MaxPooling2D(2)(x)
    return x


def build_captioner(vocab_size, input_shape, from_pixels=True, units=256, embedding_dim=128, attention=False,
                    dropout=0.2, learning_rate=3e-3, total_steps=1000):
    """Three models that share their layers: (training model, encoder, decoder step).

    - encoder: picture -> the LSTM's state after reading the image vector as its first input (Show and Tell),
      the image vector itself (for the nearest-neighbour baseline) and, with attention, the grid cells ("keys").
    - decoder step: one word and the state -> scores for the next word (logits) and the new state: decoding calls
      it once per word, carrying the state, never re-reading the caption so far.
    - training model: encoder, then the LSTM over the whole caption at once (teacher forcing).
    """
    picture = keras.Input(shape=input_shape, dtype="uint8" if from_pixels else "float32", name="image")
    feature_map = scene_encoder(picture) if from_pixels else picture
    rows, cols, channels = feature_map.shape[1:]
    # 그림 벡터(image vector): 장면은 펼쳐서(flatten) 어느 칸에 무엇이 있는지 남기고(캡션은 왼쪽부터 말합니다),
    # 사진은 칸의 평균(global average pooling)으로 (Show and Tell처럼)
    pooled = layers.Flatten()(feature_map) if from_pixels else layers.GlobalAveragePooling2D()(feature_map)
    image_vector = layers.Dense(embedding_dim, name="image_vector")(layers.Dropout(dropout)(pooled))

    lstm = layers.LSTM(units, return_sequences=True, return_state=True, name="lstm")
    # Show and Tell: 그림 벡터가 LSTM의 첫 입력입니다. 그 뒤의 상태(state)에서 <start>와 단어들이 이어집니다.
    _, h, c = lstm(layers.Reshape((1, embedding_dim))(image_vector))
    encoder_outputs = {"h": h, "c": c, "image_vector": image_vector}
    if attention:  # 칸마다 LSTM 상태와 비교할 열쇠(key): 특징을 LSTM 크기로 옮깁니다
        cells = layers.Reshape((rows * cols, channels))(feature_map)
        encoder_outputs["keys"] = layers.Dense(units, name="attention_keys")(cells)
    encoder = keras.Model(picture, encoder_outputs, name="encoder")

    embed = layers.Embedding(vocab_size, embedding_dim, name="word_embedding")
    attend = layers.AdditiveAttention(name="attention") if attention else None  # Bahdanau 식 점수
    # 주의(attention)가 있으면 LSTM 출력과 맥락(context)을 한 층에서 합칩니다(Luong의 attentional hidden state)
    combine = layers.Dense(units, activation="tanh", name="attentional_hidden") if attention else None
    drop = layers.Dropout(dropout)
    next_word = layers.Dense(vocab_size, dtype="float32", name="next_word")  # 로짓(logits): 혼합 정밀도에서도 float32

    def decoder(word_ids, h, c, keys):
        """Words (batch, steps) from state (h, c) -> (logits (batch, steps, vocab), h, c, attention weights)."""
        outputs, h, c = lstm(embed(word_ids), initial_state=[h, c])
        weights = None
        if attention:
            # 단어마다: LSTM 출력(query)이 칸들(keys)에 점수를 매기고 softmax, 칸들의 가중 평균(context)을 더합니다.
            # (출력 뒤에 보는 Luong 방식: 학습 때 LSTM을 한 번에 돌릴 수 있습니다)
            context, weights = attend([outputs, keys], return_attention_scores=True)
            outputs = combine(layers.Concatenate()([outputs, context]))
        return next_word(drop(outputs)), h, c, weights

    # 학습 모델: 정답 캡션 전체를 한 번에 (teacher forcing)
    caption_in = keras.Input(shape=(None,), dtype="int32", name="words")
    state = encoder(picture)
    logits, _, _, _ = decoder(caption_in, state["h"], state["c"], state.get("keys"))
    model = keras.Model({"image": picture, "words": caption_in}, logits, name="captioner")

    # 한 단어씩: 단어 하나와 상태를 받아 다음 단어의 점수와 새 상태를 돌려줍니다
    step_inputs = {"word": keras.Input(shape=(1,), dtype="int32", name="word"),
                   "h": keras.Input(shape=(units,), name="h"), "c": keras.Input(shape=(units,), name="c")}
    if attention:
        step_inputs["keys"] = keras.Input(shape=(rows * cols, units), name="keys")
    logits, h, c, weights = decoder(step_inputs["word"], step_inputs["h"], step_inputs["c"], step_inputs.get("keys"))
    step_outputs = {"logits": layers.Reshape((vocab_size,))(logits), "h": h, "c": c}
    if attention:
        step_outputs["attention"] = layers.Reshape((rows * cols,))(weights)
    step = keras.Model(step_inputs, step_outputs, name="decoder_step")

    warmup = max(1, total_steps // 20)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=max(1, total_steps - warmup), warmup_target=learning_rate, warmup_steps=warmup
    )
    model.compile(
        keras.optimizers.Adam(schedule, global_clipnorm=5.0),
        # 손실은 진짜 단어마다의 평균: <pad> 자리(가중치 0)는 분모에도 넣지 않습니다
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight"),
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model, encoder, step


# 3. 쓰기 / Decode: greedy and beam search, one word per step
def log_softmax(logits):
    """Scores -> log-probabilities, computed stably (the largest score is subtracted first)."""
    logits = np.asarray(logits, np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def run_encoder(encoder, pictures, batch_size=256):
    """The encoder's outputs for many pictures, as NumPy arrays."""
    parts = [encoder(pictures[i:i + batch_size], training=False) for i in range(0, len(pictures), batch_size)]
    return {k: np.concatenate([np.asarray(p[k], np.float32) for p in parts]) for k in parts[0]}


def greedy_decode(encoder, step, pictures, max_words=22):
    """The most likely next word at every step, for a batch of pictures.

    Returns (word ids (n, max_words) with 0 after <end>, attention weights (n, max_words, cells) or None).
    """
    state = run_encoder(encoder, pictures)
    n = len(pictures)
    word = np.full((n, 1), SPECIAL.index(START), np.int32)
    h, c = state["h"], state["c"]
    out = np.zeros((n, max_words), np.int32)
    done = np.zeros(n, bool)
    maps = []
    for t in range(max_words):
        inputs = {"word": word, "h": h, "c": c, **({"keys": state["keys"]} if "keys" in state else {})}
        result = step(inputs, training=False)
        h, c = np.asarray(result["h"]), np.asarray(result["c"])
        logits = np.array(result["logits"])
        logits[:, NEVER_WRITTEN] = -np.inf  # <pad>와 <start>는 캡션에 쓰지 않습니다
        best = logits.argmax(axis=-1)  # 가장 점수가 높은 단어 하나
        out[:, t] = np.where(done, 0, best)
        if "attention" in result:
            maps.append(np.asarray(result["attention"]))
        done |= best == SPECIAL.index(END)
        word = best[:, None].astype(np.int32)
        if done.all():
            break
    return out, (np.stack(maps, axis=1) if maps else None)


def beam_search(encoder, step, pictures, beam_size=3, max_words=22):
    """Beam search for a batch of pictures: keep the beam_size best unfinished captions at every step.

    Every step extends each kept caption by every word, adds the word's log-probability to the caption's, and
    ranks all beam_size x vocab candidates. A candidate among the best beam_size that ends with <end> is finished:
    it is set aside with its score, and the beam is refilled with the next best unfinished ones, so a finished
    caption is never pushed out by longer ones that end up less likely. The search stops when every picture has
    beam_size finished captions at least as likely as its best unfinished one (adding a word only lowers a
    score). With beam_size 1 this is exactly greedy decoding.
    Returns (word ids (n, beam_size, max_words), log-probabilities (n, beam_size)), best caption first.
    """
    state = run_encoder(encoder, pictures)
    n, k = len(pictures), beam_size
    end = SPECIAL.index(END)
    repeat = lambda a: np.repeat(a, k, axis=0)  # noqa: E731  그림마다 빔 k개: (n*k, ...)
    h, c = repeat(state["h"]), repeat(state["c"])
    keys = repeat(state["keys"]) if "keys" in state else None
    scores = np.full((n, k), -np.inf)
    scores[:, 0] = 0.0  # 처음에는 <start> 하나뿐: 같은 후보가 k번 나오지 않도록 빔 하나만 살려 둡니다
    tokens = np.zeros((n, k, 0), np.int32)
    done = [[] for _ in range(n)]  # 그림마다 끝난 캡션: (점수, 단어 번호들)
    word = np.full((n * k, 1), SPECIAL.index(START), np.int32)
    for _ in range(max_words):
        inputs = {"word": word, "h": h, "c": c, **({"keys": keys} if keys is not None else {})}
        result = step(inputs, training=False)
        logp = log_softmax(result["logits"]).reshape(n, k, -1)
        vocab = logp.shape[-1]
        candidates = (scores[..., None] + logp).reshape(n, k * vocab)
        for never in NEVER_WRITTEN:
            candidates[:, never::vocab] = -np.inf
        top = np.argsort(-candidates, axis=1, kind="stable")[:, :k]
        for i, j in zip(*np.nonzero(top % vocab == end)):  # 상위 k개 안에서 <end>로 끝난 후보는 따로 둡니다
            score = candidates[i, top[i, j]]
            if np.isfinite(score):
                done[i].append((score, [*tokens[i, top[i, j] // vocab], end]))
        candidates[:, end::vocab] = -np.inf  # 빔에는 끝나지 않은 후보만
        best = np.argsort(-candidates, axis=1, kind="stable")[:, :k]
        beam, new_word = best // vocab, (best % vocab).astype(np.int32)
        scores = np.take_along_axis(candidates, best, axis=1)
        tokens = np.concatenate([np.take_along_axis(tokens, beam[..., None], axis=1), new_word[..., None]], axis=2)
        rows = (np.arange(n)[:, None] * k + beam).reshape(-1)  # 살아남은 후보가 이어받을 상태
        h, c = np.asarray(result["h"])[rows], np.asarray(result["c"])[rows]
        word = new_word.reshape(-1, 1)
        kth_done = np.array([sorted(s for s, _ in d)[-k] if len(d) >= k else -np.inf for d in done])
        if (kth_done >= scores.max(axis=1)).all():
            break
    else:  # max_words에 닿음: 끝나지 않은 캡션도 후보로
        for i in range(n):
            done[i] += [(scores[i, b], list(tokens[i, b])) for b in range(k) if np.isfinite(scores[i, b])]
    out_tokens = np.zeros((n, k, max_words), np.int32)
    out_scores = np.full((n, k), -np.inf)
    for i in range(n):
        ranked = sorted(done[i], key=lambda pair: -pair[0])[:k]
        for b, (score, ids) in enumerate(ranked):
            out_tokens[i, b, : len(ids)] = ids
            out_scores[i, b] = score
    return out_tokens, out_scores


def to_words(ids, vocabulary):
    """Word ids -> the caption's words, stopping at <end> (or <pad>)."""
    out = []
    for i in ids:
        if i in (0, SPECIAL.index(END)):
            break
        out.append(vocabulary[i])
    return out


# 4. 평가 / Evaluate: BLEU against every reference caption, facts, and the nearest-neighbour baseline
def bleu(hypotheses, caption_lists):
    """Corpus BLEU-1..4 (0-1) of word lists against all reference captions of each picture (nltk's corpus_bleu)."""
    references = [[words(c) for c in captions] for captions in caption_lists]
    with warnings.catch_warnings():  # n-그램이 하나도 맞지 않으면 nltk가 경고하고 0 대신 아주 작은 수를 줍니다
        warnings.simplefilter("ignore", UserWarning)
        scores = corpus_bleu(references, hypotheses, weights=BLEU_WEIGHTS)
    return [float(b) if b > 1e-9 else 0.0 for b in scores]


def fact_accuracy(hypotheses, object_lists):
    """Share of captions whose (colour, shape) counts are exactly the scene's: every object named, nothing extra."""
    right = [scenes.caption_facts(" ".join(h)) == scenes.scene_facts(o) for h, o in zip(hypotheses, object_lists)]
    return float(np.mean(right))


def nearest_neighbour_captions(train_vectors, train_captions, vectors):
    """The baseline: for each picture, the first caption of the training picture whose image vector is closest
    (cosine similarity). It writes nothing new: every caption it gives was written for another picture."""
    a = train_vectors / (np.linalg.norm(train_vectors, axis=1, keepdims=True) + 1e-8)
    b = vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-8)
    nearest = (b @ a.T).argmax(axis=1)
    return [words(train_captions[i][0]) for i in nearest]


class ValidationBleu(keras.callbacks.Callback):
    """After each epoch: greedy captions for the validation pictures, their BLEU-4 printed and logged."""

    def __init__(self, encoder, step, split, vocabulary, max_words, log_dir):
        super().__init__()
        self.encoder, self.step, self.split = encoder, step, split
        self.vocabulary, self.max_words, self.log_dir = vocabulary, max_words, log_dir
        self.history = []

    def on_epoch_end(self, epoch, logs=None):
        ids, _ = greedy_decode(self.encoder, self.step, self.split["images"], self.max_words)
        hypotheses = [to_words(row, self.vocabulary) for row in ids]
        score = bleu(hypotheses, self.split["captions"])[3]
        self.history.append(score)
        print(f"  validation BLEU-4 (greedy) {score:.4f}; e.g. \"{' '.join(hypotheses[0])}\"")
        with tb.writer(self.log_dir, "validation").as_default():
            tf.summary.scalar("bleu4_greedy", score, step=epoch)
            tf.summary.text("captions", "\n\n".join(
                f"{' '.join(h)}  \n(reference: {refs[0]})" for h, refs in zip(hypotheses[:4], self.split["captions"])
            ), step=epoch)


# 5. 그림 / Figures: captioned test pictures, attention per word
def show(picture):
    """A picture to draw: a scene as it is; a photo's feature map cannot be drawn (None)."""
    return picture if picture.dtype == np.uint8 else None


def save_examples(split, hypotheses, nn_hypotheses, path, log_dir, photos=None):
    """Test pictures with the model's caption, the nearest neighbour's and one reference."""
    plt = tb.pyplot()
    n = min(EXAMPLES, len(hypotheses))
    fig, axes = plt.subplots(2, -(-n // 2), figsize=(4.2 * -(-n // 2), 9), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, ax in zip(range(n), axes.flat):
        image = photos[i] if photos is not None else show(split["images"][i])
        if image is not None:
            ax.imshow(image)
        lines = [f"모델 / model: {' '.join(hypotheses[i])}", f"이웃 / NN: {' '.join(nn_hypotheses[i])}",
                 f"정답 / reference: {split['captions'][i][0]}"]
        ax.set_title("\n".join(textwrap.fill(line, 48) for line in lines), fontsize=7, loc="left")
    fig.suptitle("테스트 그림과 캡션 (빔 서치) / test pictures: beam-search caption, nearest-neighbour caption, a reference")
    tb.save_figure(fig, path, log_dir=log_dir)


def save_attention(picture, caption, maps, path, log_dir):
    """One picture per word of a greedy caption, darkened where the attention weight was small."""
    plt = tb.pyplot()
    steps = min(len(caption), len(maps))
    side = int(round(np.sqrt(maps.shape[-1])))
    size = picture.shape[0]
    cols = min(steps, 6)
    fig, axes = plt.subplots(-(-steps // cols), cols, figsize=(2.2 * cols, 2.4 * -(-steps // cols)), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for t, ax in zip(range(steps), axes.flat):
        weight = maps[t].reshape(side, side)
        shade = np.zeros((side, side, 4))
        shade[..., 3] = 0.7 * (1 - weight / weight.max())
        ax.imshow(picture)
        ax.imshow(shade, extent=(0, size, size, 0), interpolation="nearest")
        ax.set_title(caption[t], fontsize=9)
    fig.suptitle("단어마다 주의(attention)가 간 곳 (밝은 칸) / where the model looked for each word")
    tb.save_figure(fig, path, log_dir=log_dir)


def save_model_folder(folder, encoder, step, vocabulary, config):
    """encoder.keras, decoder_step.keras and vocabulary.json: what week4/caption_image.py reads."""
    encoder.save(folder / "encoder.keras")
    step.save(folder / "decoder_step.keras")
    flags.save_json(folder / "vocabulary.json", {"script": "image_captioning", "words": vocabulary, **config})


def main(argv=None):
    args = flags.parse(PARSER, argv)
    if args.beam_size < 1 or args.max_words < 2:
        raise data.DataError("--beam-size must be at least 1 and --max-words at least 2")
    scenes_data = args.dataset == "scenes"
    if scenes_data and args.data_dir is not None:
        raise data.DataError("--data-dir is for --dataset flickr8k; the synthetic scenes are drawn, not read")
    image_size = args.image_size or (SCENE_SIZE if scenes_data else BACKBONE_SIZES[args.backbone])
    if scenes_data:
        splits = load_scenes(args.seed, image_size, args.train_scenes, args.val_scenes, args.test_scenes,
                             args.compositional_scenes, args.smoke)
    strategy = runtime.setup(args)
    if not scenes_data:
        splits = load_photos(args.data_dir, args.backbone, args.weights, image_size, args.smoke)

    # 어휘(vocabulary): 학습 캡션의 단어만. 검증·테스트에만 있는 단어는 <unk>가 됩니다
    vocabulary = build_vocabulary(splits["train"]["captions"], 1 if scenes_data else args.min_count)
    train_ids, train_in, train_out = encode_captions(splits["train"]["captions"], vocabulary, args.max_words)
    val_ids, val_in, val_out = encode_captions(splits["val"]["captions"], vocabulary, args.max_words)
    print(f"Vocabulary: {len(vocabulary)} words; {len(train_in)} training captions of "
          f"{len(splits['train']['images'])} pictures, {len(val_in)} validation captions")
    steps = args.epochs * -(-len(train_in) // args.batch_size)
    with strategy.scope():
        model, encoder, step = build_captioner(
            len(vocabulary), splits["train"]["images"].shape[1:], scenes_data, args.units, args.embedding_dim,
            args.attention, args.dropout, args.learning_rate, steps,
        )
    model.summary()

    # 학습 / Train with teacher forcing, watching the validation loss and the validation BLEU-4 of greedy captions
    train_ds = make_dataset(splits["train"]["images"], train_ids, train_in, train_out, batch_size=args.batch_size,
                            shuffle=True, seed=args.seed)
    val_ds = make_dataset(splits["val"]["images"], val_ids, val_in, val_out, batch_size=256)
    val_bleu = ValidationBleu(encoder, step, splits["val"], vocabulary, args.max_words, args.log_dir)
    timer = tb.Timer()
    history = model.fit(train_ds, validation_data=val_ds, epochs=args.epochs, verbose=2,
                        callbacks=[tb.tensorboard_callback(args.log_dir), tb.StopOnNaN(args.log_dir), val_bleu])
    train_seconds = timer.seconds()

    # 평가 / Evaluate on the test pictures, once: beam search, BLEU, facts, and the nearest-neighbour baseline
    results = {}
    train_vectors = run_encoder(encoder, splits["train"]["images"])["image_vector"]
    for name in ("test", "compositional") if scenes_data else ("test",):
        split = splits[name]
        ids, _ = beam_search(encoder, step, split["images"], args.beam_size, args.max_words)
        hypotheses = [to_words(row[0], vocabulary) for row in ids]
        nn = nearest_neighbour_captions(train_vectors, splits["train"]["captions"],
                                        run_encoder(encoder, split["images"])["image_vector"])
        results[name] = {"hypotheses": hypotheses, "nn": nn, "bleu": bleu(hypotheses, split["captions"]),
                         "nn_bleu": bleu(nn, split["captions"])}
        if scenes_data:
            results[name]["facts"] = fact_accuracy(hypotheses, split["objects"])
            results[name]["nn_facts"] = fact_accuracy(nn, split["objects"])
    test = results["test"]
    print(f"Test BLEU-1..4 (beam {args.beam_size}): " + " ".join(f"{b:.4f}" for b in test["bleu"])
          + f"; nearest neighbour BLEU-4 {test['nn_bleu'][3]:.4f}")
    if scenes_data:
        comp = results["compositional"]
        print(f"Fact accuracy {test['facts']:.4f} (nearest neighbour {test['nn_facts']:.4f}); compositional split: "
              f"BLEU-4 {comp['bleu'][3]:.4f}, fact accuracy {comp['facts']:.4f}")
    with tb.writer(args.log_dir, "test").as_default():
        for n, value in enumerate(test["bleu"], start=1):
            tf.summary.scalar(f"bleu{n}", value, step=0)
        tf.summary.scalar("nn_bleu4", test["nn_bleu"][3], step=0)

    # 그림과 저장 / Figures and the model folder
    photos = None
    if not scenes_data:
        photos = data.load_images(splits["test"]["paths"][:EXAMPLES], 256)[0]
    save_examples(splits["test"], test["hypotheses"], test["nn"], args.log_dir / "examples.png", args.log_dir, photos)
    if args.attention and scenes_data:
        ids, maps = greedy_decode(encoder, step, splits["test"]["images"][:1], args.max_words)
        caption = to_words(ids[0], vocabulary)
        save_attention(splits["test"]["images"][0], caption + [END], maps[0], args.log_dir / "attention.png", args.log_dir)
    config = {"dataset": args.dataset, "image_size": image_size, "max_words": args.max_words,
              "attention": args.attention, "backbone": None if scenes_data else args.backbone,
              "weights": None if scenes_data else args.weights}
    save_model_folder(args.log_dir, encoder, step, vocabulary, config)

    metrics = {f"bleu{n}": value for n, value in enumerate(test["bleu"], start=1)}
    metrics["nn_bleu4"] = test["nn_bleu"][3]
    if scenes_data:
        metrics.update(fact_accuracy=test["facts"], nn_fact_accuracy=test["nn_facts"],
                       compositional_bleu4=results["compositional"]["bleu"][3],
                       compositional_fact_accuracy=results["compositional"]["facts"])
    return tb.write_metrics(
        args.log_dir, **metrics, val_bleu4=val_bleu.history[-1], val_loss=history.history["val_loss"][-1],
        train_seconds=round(train_seconds, 2), beam_size=args.beam_size, vocab_size=len(vocabulary),
        train_captions=len(train_in), epochs=args.epochs, attention=args.attention, dataset=args.dataset,
    )


if __name__ == "__main__":
    main()
