"""Visual question answering: CNN image features and an LSTM question encoder, fused and classified over the answers.

요약: 그림은 합성곱 신경망(CNN)이 특징 맵으로, 질문은 단어 임베딩 위의 LSTM이 벡터 하나로 요약하고, 둘을
원소별 곱(element-wise product) 또는 이어 붙이기(concatenation)로 합쳐(fusion) 답 어휘 중 하나를 고릅니다
("Exploring Models and Data for Image Question Answering"). 질문이 가리키는 칸을 보는 주의(attention) 글림프스를
더하고, 질문만 보는 모델(blind)과 비교해 그림을 정말 쓰는지 봅니다.

Run:    python week4/visual_qa.py
        python week4/visual_qa.py --glimpses 0 --fusion concat     (the plain fused model, no attention)
        python week4/visual_qa.py --data-dir DIR                   (COCO-QA questions on COCO photos: week4/README.md)
Smoke:  python week4/visual_qa.py --smoke
Expect: draws the synthetic scenes of common/scenes.py (coloured shapes; five question types: color, shape, count,
        exists, relation), trains the VQA model and then the question-only (blind) model, printing both per epoch;
        prints test accuracy overall and per question type for both, and on the compositional split (colour-
        shape pairs never seen in training). The run folder gets examples.png (test scenes with question, answer,
        both models' answers and where the attention looked), accuracy_by_type.png, model.keras and answers.json.
        Measured with the defaults (README table): test accuracy 0.943 against the question-only model's 0.420;
        colour 1.000, shape 1.000, count 0.987, exists 1.000, relation ("where is A relative to B?", four answers)
        0.579, above chance (0.25) but far from learned (see week4/README.md); compositional split 0.593;
        1,058 s of training on a 2-core CPU.

Why a small CNN trained together with the question encoder, not a pretrained ImageNet network: the scenes are flat
shapes, and the questions ask for colour, shape, number and position, which a 4-layer CNN learns from the answers
alone in minutes on a CPU; an ImageNet backbone (Inception v3, week 2) wants 299x299 photos, costs far more per
image and was trained to tell dog breeds apart, not where a red circle is. For real photos a pretrained backbone
is the right choice; with --data-dir this script still trains its small CNN on the photos (a baseline, not tuned).
Why attention glimpses by default: with one vector for the whole picture the model first learns only the answers'
priors, as the blind model does, and is slow to find "which object is the red circle"; letting the question pick
cells of the 8x8 feature map (Yang et al. 2016, Kazemi & Elqursh 2017) reaches the image much sooner. Each glimpse
also picks the words it listens to, and the second adds what the first one saw (stacked attention), so for "where is
the red circle relative to the blue square?" the two glimpses can look for the two objects instead of the same one.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
PARSER = flags.make_parser(__file__, __doc__, epochs=15, batch_size=64, learning_rate=2e-3, data_dir=False)
PARSER.add_argument("--data-dir", type=Path, default=None,
                    help="a COCO-QA copy with its COCO photos (see week4/README.md) instead of the synthetic scenes")
PARSER.add_argument("--image-size", type=int, default=64,
                    help="scene (or photo) width and height in pixels (default: %(default)s)")
PARSER.add_argument("--train-scenes", type=int, default=8000,
                    help="training scenes, validation included (default: %(default)s)")
PARSER.add_argument("--val-scenes", type=int, default=800,
                    help="scenes carved from the training scenes for validation (default: %(default)s)")
PARSER.add_argument("--test-scenes", type=int, default=1000, help="new scenes for the test set (default: %(default)s)")
PARSER.add_argument("--compositional-scenes", type=int, default=1000,
                    help="test scenes that each hold a held-out colour-shape pair (default: %(default)s)")
PARSER.add_argument("--questions-per-scene", type=int, default=5,
                    help="questions asked about each scene, spread over the types (default: %(default)s)")
PARSER.add_argument("--fusion", choices=("product", "concat"), default="product",
                    help="how the image and question vectors are joined (default: %(default)s)")
PARSER.add_argument("--glimpses", type=int, default=2,
                    help="question-guided attention glimpses added to the fused vector; 0: the plain model "
                    "(default: %(default)s)")
PARSER.add_argument("--coordinates", action=argparse.BooleanOptionalAction, default=False,
                    help="give every grid cell its (x, y) as two more channels (CoordConv), so a glimpse also says "
                    "where its object is; not measured yet (default: off)")
PARSER.add_argument("--rnn", choices=("lstm", "gru"), default="lstm", help="question encoder (default: %(default)s)")
PARSER.add_argument("--units", type=int, default=256,
                    help="size of the image vector, the question vector and the hidden layer (default: %(default)s)")
PARSER.add_argument("--dropout", type=float, default=0.2, help="dropout before the answer layer (default: %(default)s)")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from common import data, runtime, scenes, tb

MAX_WORDS = 12  # 질문을 단어 12개로 자르거나 빈칸(0)으로 채웁니다. 가장 긴 질문이 9단어
EMBEDDING_DIM = 64
CONV_WIDTHS = (16, 32, 64, 64)  # 64x64 -> 32 -> 16 -> 8 (마지막 블록은 풀링 없음): 8x8 격자가 위치를 담습니다
MIN_IMAGE_SIZE = 32
SMOKE_SCENES = {"train": 60, "val": 20, "test": 20, "compositional": 20}
EXAMPLES_PER_TYPE = 2


# 1. 데이터 / Prepare the data: scenes, and questions about them
def ask(scene_list, k, rng):
    """k questions per scene: a dict of arrays over the questions (scene_ids, questions, answers, types)."""
    rows = [(i, q) for i, scene in enumerate(scene_list) for q in scenes.pick_questions(scene.questions, k, rng)]
    return {
        "scene_ids": np.array([i for i, _ in rows], dtype=np.int32),
        "questions": np.array([q.question for _, q in rows]),
        "answers": np.array([q.answer for _, q in rows]),
        "types": np.array([q.type for _, q in rows]),
    }


def make_split(scene_list, k, rng):
    """One split: the scenes' images (N, H, W, 3) uint8 and the questions asked about them."""
    return {"images": np.stack([s.image for s in scene_list]), **ask(scene_list, k, rng)}


def load_data(seed=42, image_size=64, train_scenes=8000, val_scenes=800, test_scenes=1000, compositional_scenes=1000,
              questions_per_scene=5, smoke=False, data_dir=None):
    """Returns {"train", "val", "test", "compositional"} splits, each a dict (see make_split).

    Validation scenes are the last `val_scenes` of the training part: new pictures, but from the same
    distribution, so every choice is made on them. The test part is drawn from another random stream
    (new pictures); the compositional part holds the held-out colour-shape pairs.
    With data_dir: COCO-QA's train and test questions (data.load_cocoqa), the last tenth of the training photos
    (with their questions) for validation, and no compositional split.
    """
    if data_dir is not None:
        check_sizes(image_size, 2, 1, 1, 1, 1)
        timer = tb.Timer()
        loaded = data.load_cocoqa(data_dir, image_size)
        if smoke:  # 몇 초 안에 끝나도록 사진 몇 장의 질문만
            loaded = {name: first_pictures(split, SMOKE_SCENES[name] + SMOKE_SCENES["val"] * (name == "train"))
                      for name, split in loaded.items()}
        pictures = len(loaded["train"]["images"])
        if pictures < 2:
            raise data.DataError(f"COCO-QA in {data_dir}: {pictures} training photo found; validation needs at least 2")
        keep = pictures - max(1, pictures // 10)
        splits = {"train": first_pictures(loaded["train"], keep), "val": last_pictures(loaded["train"], keep),
                  "test": loaded["test"]}
        print(f"Data: {timer.seconds():.1f} s to read COCO-QA; " + ", ".join(
            f"{name} {len(s['images'])} photos / {len(s['questions'])} questions" for name, s in splits.items()))
        return splits
    if smoke:
        train_scenes, val_scenes = SMOKE_SCENES["train"] + SMOKE_SCENES["val"], SMOKE_SCENES["val"]
        test_scenes, compositional_scenes = SMOKE_SCENES["test"], SMOKE_SCENES["compositional"]
    check_sizes(image_size, train_scenes, val_scenes, test_scenes, compositional_scenes, questions_per_scene)
    timer = tb.Timer()
    train_part = scenes.generate("train", train_scenes, seed, image_size)
    parts = {
        "train": train_part[:-val_scenes],
        "val": train_part[-val_scenes:],
        "test": scenes.generate("test", test_scenes, seed, image_size),
        "compositional": scenes.generate("compositional", compositional_scenes, seed, image_size),
    }
    rng = np.random.default_rng(seed)
    splits = {name: make_split(scene_list, questions_per_scene, rng) for name, scene_list in parts.items()}
    print(f"Data: {timer.seconds():.1f} s to draw the scenes; " + ", ".join(
        f"{name} {len(s['images'])} scenes / {len(s['questions'])} questions" for name, s in splits.items()))
    return splits


def first_pictures(split, n):
    """The split cut to its first n pictures and the questions about them."""
    rows = split["scene_ids"] < n
    return {"images": split["images"][:n], **{k: v[rows] for k, v in split.items() if k != "images"}}


def last_pictures(split, start):
    """The split's pictures from number `start` on, and their questions (picture numbers start again at 0)."""
    rows = split["scene_ids"] >= start
    cut = {k: v[rows] for k, v in split.items() if k != "images"}
    return {"images": split["images"][start:], **cut, "scene_ids": cut["scene_ids"] - start}


def check_sizes(image_size, train_scenes, val_scenes, test_scenes, compositional_scenes, questions_per_scene):
    """Stops with one line when the sizes asked for cannot make the splits."""
    if image_size < MIN_IMAGE_SIZE:
        raise data.DataError(f"--image-size {image_size} is too small to draw four shapes; use {MIN_IMAGE_SIZE} or more")
    if not 1 <= val_scenes < train_scenes:
        raise data.DataError(f"--val-scenes must be at least 1 and less than --train-scenes ({train_scenes}), "
                             f"not {val_scenes}")
    if min(test_scenes, compositional_scenes, questions_per_scene) < 1:
        raise data.DataError("--test-scenes, --compositional-scenes and --questions-per-scene must be at least 1")


def answer_labels(answers, answer_words):
    """Answer strings -> class numbers (their places in answer_words)."""
    index = {word: i for i, word in enumerate(answer_words)}
    return np.array([index[a] for a in answers], dtype=np.int32)


def make_dataset(split, labels=None, *, batch_size, shuffle=False, seed=None, blind=False):
    """A tf.data pipeline of ({"image", "question"}, label) batches; blind: the question only.

    Each scene's picture is stored once and fetched by scene number for each of its questions.
    """
    images = tf.constant(split["images"])
    columns = (split["scene_ids"], split["questions"])
    ds = tf.data.Dataset.from_tensor_slices(columns if labels is None else (*columns, labels))
    if shuffle:
        ds = ds.shuffle(len(split["questions"]), seed=seed, reshuffle_each_iteration=True)

    def to_inputs(scene_ids, questions, *label):
        inputs = {"question": questions} if blind else {"image": tf.gather(images, scene_ids), "question": questions}
        return (inputs, *label)

    return ds.batch(batch_size).map(to_inputs, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


# 2. 모델 / Build the models
def make_vectorizer(questions, max_words=MAX_WORDS):
    """Words -> ids, learned from the training questions: 0 pads, 1 is [UNK] (a word never seen in training)."""
    vectorizer = layers.TextVectorization(output_sequence_length=max_words, name="words")
    vectorizer.adapt(questions)  # 소문자로 바꾸고 문장부호(?)를 지운 뒤 빈칸으로 단어를 나눕니다
    return vectorizer


def encode_question(question, vectorizer, units, rnn="lstm"):
    """Question strings (batch,) -> (one vector (batch, units): the RNN's state after the last word,
    the RNN's output after every word (batch, MAX_WORDS, units), the word ids (batch, MAX_WORDS))."""
    word_ids = vectorizer(question)  # (batch, MAX_WORDS)
    # mask_zero: 빈칸(0)은 RNN이 건너뜁니다. 그래서 마지막 상태는 마지막 진짜 단어 뒤의 상태입니다.
    x = layers.Embedding(vectorizer.vocabulary_size(), EMBEDDING_DIM, mask_zero=True, name="word_embedding")(word_ids)
    recurrent = layers.LSTM if rnn == "lstm" else layers.GRU
    words, last, *_ = recurrent(units, return_sequences=True, return_state=True, name=f"question_{rnn}")(x)
    return last, words, word_ids


def listen(words, word_ids, name):
    """Which words of the question one glimpse listens to: a softmax over the real words (padding left out)
    and their weighted average. For "where is the red circle relative to the blue square?" one glimpse can
    take "red circle" and the other "blue square", so they look for different objects."""
    scores = layers.Dense(1, name=f"{name}_word_scores")(words)  # (batch, MAX_WORDS, 1)
    real = keras.ops.expand_dims(keras.ops.not_equal(word_ids, 0), -1)  # 빈칸(0)이 아닌 단어만
    weights = layers.Softmax(axis=1, name=f"{name}_words")(scores, mask=real)
    return layers.Reshape((words.shape[-1],))(layers.Dot(axes=1)([weights, words]))  # (batch, units)


def encode_image(image):
    """Pictures (batch, H, W, 3) uint8 -> a feature map (batch, H/8, W/8, 64) from a small CNN.

    Conv-BN-ReLU blocks halve the size three times: for 64x64 scenes an 8x8 grid of cells, each a 64-number
    description of an 8x8-pixel patch and its surroundings (which colours and edges are there).
    """
    x = layers.Rescaling(1 / 255)(image)
    for i, width in enumerate(CONV_WIDTHS):
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv{i + 1}")(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.ReLU()(x)
        if i < len(CONV_WIDTHS) - 1:
            x = layers.MaxPooling2D(2)(x)
    return x


@keras.saving.register_keras_serializable(package="week4")
class AddCoordinates(layers.Layer):
    """(batch, rows, cols, channels) -> (batch, rows, cols, channels + 2): each cell's x and y, from -1 to 1
    (CoordConv, Liu et al. 2018). A glimpse, the weighted average of the cells, then carries where it looked."""

    def call(self, feature_map):
        rows, cols = feature_map.shape[1], feature_map.shape[2]
        ys, xs = np.meshgrid(np.linspace(-1, 1, rows), np.linspace(-1, 1, cols), indexing="ij")
        grid = keras.ops.convert_to_tensor(np.stack([xs, ys], axis=-1)[None], dtype=feature_map.dtype)
        grid = keras.ops.broadcast_to(grid, (keras.ops.shape(feature_map)[0], rows, cols, 2))
        return keras.ops.concatenate([feature_map, grid], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 2)


def attend(feature_map, question_vector, name):
    """Question-guided soft attention over the grid cells; returns (weights over the cells, glimpse).

    question_vector: the question (first glimpse) or the question plus what the glimpse before saw. It gates
    every cell's features (element-wise product), a 1x1 convolution scores each cell, and a softmax over the
    cells turns the scores into weights that sum to 1: where to look. The glimpse is the weighted average of
    the cells' features: what is there. For "what color is the circle?" the weight
    should go to the circle's cells; the weights themselves say where it is (for left of / above).
    """
    _, rows, cols, channels = feature_map.shape
    gate = layers.Reshape((1, 1, channels))(layers.Dense(channels, name=f"{name}_gate")(question_vector))
    gated = layers.Multiply()([feature_map, gate])  # (batch, rows, cols, channels): 모든 칸에 같은 게이트
    hidden = layers.Conv2D(channels, 1, activation="relu", name=f"{name}_hidden")(gated)
    scores = layers.Reshape((rows * cols,))(layers.Conv2D(1, 1, name=f"{name}_score")(hidden))
    weights = layers.Softmax(name=f"{name}_weights")(scores)  # (batch, rows*cols), 합이 1
    cells = layers.Reshape((rows * cols, channels))(feature_map)
    glimpse = layers.Dot(axes=1, name=f"{name}_glimpse")([weights, cells])  # (batch, channels): 가중 평균
    return weights, glimpse


def answer_layers(x, num_answers, units, dropout):
    """A hidden layer and a softmax over the answer vocabulary."""
    x = layers.Dense(units, activation="relu", name="hidden")(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(num_answers, name="answer_logits")(x)
    return layers.Activation("softmax", dtype="float32", name="answer")(x)  # 혼합 정밀도에서도 확률은 float32로


def compile_model(model, learning_rate, total_steps):
    """Adam with a warm-up and a cosine learning-rate schedule; cross-entropy over the answers."""
    warmup = max(1, total_steps // 20)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=max(1, total_steps - warmup), warmup_target=learning_rate, warmup_steps=warmup
    )
    model.compile(keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_model(vectorizer, image_size, num_answers, units=256, fusion="product", glimpses=2, rnn="lstm",
                dropout=0.2, learning_rate=2e-3, total_steps=1000, coordinates=False):
    """The VQA model: (picture, question) -> a probability for every answer.

    The course's model: the CNN's feature map flattened into one image vector, the question vector, the two
    fused (product or concatenation). With glimpses > 0 the answer layers also get `glimpses` attention
    glimpses (what is where the question points) and their weights (where that is) and the question itself.
    coordinates: the cells the glimpses look at also hold their (x, y) (AddCoordinates).
    """
    image = keras.Input(shape=(image_size, image_size, 3), dtype="uint8", name="image")
    question = keras.Input(shape=(), dtype="string", name="question")
    feature_map = encode_image(image)  # (batch, 8, 8, 64)
    question_vector, words, word_ids = encode_question(question, vectorizer, units, rnn)  # (batch, units), -1..1
    # 그림 전체를 벡터 하나로: 평균이 아니라 펼쳐서(flatten) 어느 칸에 무엇이 있는지 남깁니다
    image_vector = layers.Dense(units, activation="tanh", name="image_vector")(layers.Flatten()(feature_map))
    if fusion == "product":
        # 원소별 곱: 질문이 그림 특징 가운데 무엇을 볼지 고릅니다(게이트처럼)
        fused = layers.Multiply(name="fusion")([image_vector, question_vector])
    else:
        fused = layers.Concatenate(name="fusion")([image_vector, question_vector])
    parts, seen = [fused], []
    cells = AddCoordinates(name="coordinates")(feature_map) if coordinates else feature_map  # 글림프스가 보는 칸
    for i in range(glimpses):
        # 글림프스마다 질의(query): 질문 전체 + 이 글림프스가 골라 들은 단어들 (+ 앞 글림프스가 본 것: stacked
        # attention, Yang et al. 2016). 그래서 두 글림프스가 "빨간 원"과 "파란 사각형"을 따로 찾을 수 있습니다.
        query = layers.Add(name=f"query{i + 1}")([question_vector, listen(words, word_ids, f"attention{i + 1}"), *seen])
        weights, glimpse = attend(cells, query, f"attention{i + 1}")
        parts += [glimpse, weights]
        if i + 1 < glimpses:
            seen = [layers.Dense(units, activation="tanh", name=f"attention{i + 1}_seen")(glimpse)]
    x = layers.Concatenate(name="fused_and_glimpses")([*parts, question_vector]) if glimpses else fused
    outputs = answer_layers(x, num_answers, units, dropout)
    model = keras.Model({"image": image, "question": question}, outputs, name=f"vqa_{fusion}")
    return compile_model(model, learning_rate, total_steps)


def build_blind_model(vectorizer, num_answers, units=256, rnn="lstm", dropout=0.2, learning_rate=2e-3,
                      total_steps=1000):
    """The question-only baseline: the same question encoder and answer layers, no picture.

    What it gets right comes from the questions alone ("is there ...?" is yes or no, "how many" is often
    zero or one); what the VQA model gets right beyond it, it read from the picture.
    """
    question = keras.Input(shape=(), dtype="string", name="question")
    outputs = answer_layers(encode_question(question, vectorizer, units, rnn)[0], num_answers, units, dropout)
    model = keras.Model({"question": question}, outputs, name="blind")
    return compile_model(model, learning_rate, total_steps)


# 3. 학습 / Train, watching the validation set
def train(model, train_ds, val_ds, epochs, log_dir):
    """Fits the model; returns (history, seconds of training). TensorBoard: log_dir/train, log_dir/validation."""
    timer = tb.Timer()
    history = model.fit(
        train_ds, validation_data=val_ds, epochs=epochs, verbose=2,
        callbacks=[tb.tensorboard_callback(log_dir), tb.StopOnNaN(log_dir)],
    )
    return history, timer.seconds()


# 4. 평가 / Evaluate: accuracy overall and per question type
def evaluate(model, split, answer_words, kinds=scenes.QUESTION_TYPES, batch_size=500, blind=False):
    """Predicted answer for every question of a split, and {"accuracy", "accuracy_<type>": ...}."""
    probabilities = model.predict(make_dataset(split, batch_size=batch_size, blind=blind), verbose=0)
    predicted = np.array(answer_words)[probabilities.argmax(axis=1)]
    correct = predicted == split["answers"]
    accuracy = {"accuracy": float(correct.mean())}
    for kind in kinds:
        of_kind = split["types"] == kind
        accuracy[f"accuracy_{kind}"] = float(correct[of_kind].mean()) if of_kind.any() else float("nan")
    return predicted, accuracy


def answer(model, answer_words, question, image=None):
    """The model's answer to one question (about one picture (H, W, 3) uint8; none for the blind model)."""
    inputs = {"question": tf.constant([question])}
    if image is not None:
        inputs["image"] = np.asarray(image, dtype=np.uint8)[None]
    return answer_words[int(model.predict(inputs, verbose=0)[0].argmax())]


def log_test_scalars(log_dir, name, accuracy, compositional_accuracy=None):
    """Test accuracies as TensorBoard scalars under log_dir/name (step 0: they are measured once)."""
    with tb.writer(log_dir, name).as_default():
        for key, value in accuracy.items():
            if np.isfinite(value):
                tf.summary.scalar(key, value, step=0)
        if compositional_accuracy is not None:
            tf.summary.scalar("compositional_accuracy", compositional_accuracy, step=0)


# 5. 그림 / Figures: answered examples, accuracy by type
def pick_examples(split, kinds=scenes.QUESTION_TYPES, per_type=EXAMPLES_PER_TYPE):
    """Question indices: the first `per_type` questions of each type, each on a different scene."""
    chosen, used = [], set()
    for kind in kinds:
        found = 0
        for i in np.flatnonzero(split["types"] == kind):
            if found < per_type and split["scene_ids"][i] not in used:
                chosen.append(int(i))
                used.add(split["scene_ids"][i])
                found += 1
    return chosen


def attention_maps(model, split, indices):
    """The attention weights of each glimpse for some questions: (len(indices), glimpses, rows, cols), or None."""
    names = [layer.name for layer in model.layers if layer.name.endswith("_weights")]
    if not names:
        return None
    probe = keras.Model(model.inputs, [model.get_layer(name).output for name in names])
    inputs = {"image": tf.constant(split["images"][split["scene_ids"][indices]]),
              "question": tf.constant(split["questions"][indices])}
    maps = np.stack([np.asarray(m) for m in probe(inputs)], axis=1)  # (n, glimpses, rows*cols)
    side = int(round(np.sqrt(maps.shape[-1])))
    return maps.reshape(len(indices), len(names), side, side)


def save_examples(split, predicted, blind_predicted, maps, path, log_dir, kinds=scenes.QUESTION_TYPES):
    """Test scenes with a question each: the answer, the VQA model's and the blind model's answers, and
    (with attention) where the glimpses looked, as a bright overlay."""
    chosen = pick_examples(split, kinds)
    plt = tb.pyplot()
    cols = 5
    rows = max(1, -(-len(chosen) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 3.3, rows * 3.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    size = split["images"].shape[1]
    for k, (ax, i) in enumerate(zip(axes.flat, chosen)):
        ax.imshow(split["images"][split["scene_ids"][i]])
        if maps is not None:  # 두 글림프스의 주의 가중치를 합해, 가중치가 작은 칸일수록 어둡게 덮습니다
            weight = maps[k].sum(axis=0)
            shade = np.zeros((*weight.shape, 4))
            shade[..., 3] = 0.65 * (1 - weight / weight.max())
            ax.imshow(shade, extent=(0, size, size, 0), interpolation="nearest")
        mark = "O" if predicted[i] == split["answers"][i] else "X"
        blind_mark = "O" if blind_predicted[i] == split["answers"][i] else "X"
        ax.set_title(f"{split['questions'][i]}\n정답 {split['answers'][i]} | VQA {predicted[i]} {mark}\n"
                     f"blind {blind_predicted[i]} {blind_mark}", fontsize=7)
    fig.suptitle("테스트 장면의 질문과 답 (밝은 칸: 주의(attention)가 간 곳) / test questions: answer, VQA model, "
                 "question-only (blind) model")
    tb.save_figure(fig, path, log_dir=log_dir)


def save_accuracy_by_type(accuracy, blind_accuracy, compositional, blind_compositional, path, log_dir,
                          kinds=scenes.QUESTION_TYPES):
    """Bars: test accuracy of both models, overall, per question type and on the compositional split (if any)."""
    keys = ["accuracy", *(f"accuracy_{k}" for k in kinds)]
    names = ["전체\nall", *kinds] + ["조합\ncompositional"] * (compositional is not None)
    vqa = [accuracy[k] for k in keys] + [compositional] * (compositional is not None)
    blind = [blind_accuracy[k] for k in keys] + [blind_compositional] * (compositional is not None)
    plt = tb.pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.5))
    x = np.arange(len(names))
    ax.bar(x - 0.2, vqa, 0.4, label="VQA (그림 + 질문)")
    ax.bar(x + 0.2, blind, 0.4, label="blind (질문만)")
    ax.set(xticks=x, xticklabels=names, ylim=(0, 1), ylabel="테스트 정확도 / test accuracy")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 1.16), ncols=2, frameon=False)
    tb.save_figure(fig, path, log_dir=log_dir)


def main(argv=None):
    args = flags.parse(PARSER, argv)
    if args.glimpses < 0:
        raise data.DataError(f"--glimpses must be 0 (no attention) or more, not {args.glimpses}")
    splits = load_data(args.seed, args.image_size, args.train_scenes, args.val_scenes, args.test_scenes,
                       args.compositional_scenes, args.questions_per_scene, args.smoke, args.data_dir)
    strategy = runtime.setup(args)
    if args.data_dir is None:
        kinds = scenes.QUESTION_TYPES
        answer_words = list(scenes.ANSWERS)  # 답 어휘(answer vocabulary): 색 6, 모양 3, 개수 5, yes/no, 위치 4
    else:  # COCO-QA: 학습 질문에 나온 답 낱말 전부. 테스트에만 나오는 답은 맞힐 수 없으니 그 수를 알려 줍니다
        kinds = data.COCOQA_TYPES
        answer_words = sorted(set(splits["train"]["answers"]) | set(splits["val"]["answers"]))
        unseen = int(np.isin(splits["test"]["answers"], answer_words, invert=True).sum())
        print(f"COCO-QA: {len(answer_words)} answers; {unseen} of {len(splits['test']['answers'])} test answers "
              "never occur in training (always counted wrong)")
    train_labels, val_labels = (answer_labels(splits[s]["answers"], answer_words) for s in ("train", "val"))
    steps = args.epochs * -(-len(train_labels) // args.batch_size)
    with strategy.scope():
        vectorizer = make_vectorizer(splits["train"]["questions"])
        model = build_model(vectorizer, args.image_size, len(answer_words), args.units, args.fusion, args.glimpses,
                            args.rnn, args.dropout, args.learning_rate, steps, args.coordinates)
        blind_model = build_blind_model(vectorizer, len(answer_words), args.units, args.rnn, args.dropout,
                                        args.learning_rate, steps)
    print(f"Vocabulary: {vectorizer.vocabulary_size()} question words, {len(answer_words)} answers")
    model.summary()

    results = {}
    for name, net, blind, log_dir in (("VQA", model, False, args.log_dir), ("blind", blind_model, True, args.log_dir / "blind")):
        print(f"Training the {name} model")
        train_ds = make_dataset(splits["train"], train_labels, batch_size=args.batch_size, shuffle=True, seed=args.seed,
                                blind=blind)
        val_ds = make_dataset(splits["val"], val_labels, batch_size=500, blind=blind)
        results[name] = train(net, train_ds, val_ds, args.epochs, log_dir)

    # 평가 / Evaluate on the test splits, once for each model
    predicted, accuracy = evaluate(model, splits["test"], answer_words, kinds)
    blind_predicted, blind_accuracy = evaluate(blind_model, splits["test"], answer_words, kinds, blind=True)
    compositional = blind_compositional = None  # 합성 장면에만 있는 부분
    if "compositional" in splits:
        compositional = evaluate(model, splits["compositional"], answer_words, kinds)[1]["accuracy"]
        blind_compositional = evaluate(blind_model, splits["compositional"], answer_words, kinds, blind=True)[1]["accuracy"]
    for name, acc, comp in (("VQA", accuracy, compositional), ("blind", blind_accuracy, blind_compositional)):
        per_type = ", ".join(f"{k} {acc['accuracy_' + k]:.3f}" for k in kinds)
        print(f"{name:5s} test accuracy {acc['accuracy']:.4f} ({per_type})"
              + (f"; compositional {comp:.4f}" if comp is not None else ""))
    log_test_scalars(args.log_dir, "test", accuracy, compositional)
    log_test_scalars(args.log_dir, "blind/test", blind_accuracy, blind_compositional)
    maps = attention_maps(model, splits["test"], pick_examples(splits["test"], kinds))
    save_examples(splits["test"], predicted, blind_predicted, maps, args.log_dir / "examples.png", args.log_dir, kinds)
    save_accuracy_by_type(accuracy, blind_accuracy, compositional, blind_compositional,
                          args.log_dir / "accuracy_by_type.png", args.log_dir, kinds)

    # 저장 / Save: the model holds its question vocabulary (the TextVectorization layer); answers.json the answers
    model.save(args.log_dir / "model.keras")
    flags.save_json(args.log_dir / "answers.json", {"script": "visual_qa", "answers": answer_words,
                                                    "image_size": args.image_size,
                                                    "dataset": "synthetic" if args.data_dir is None else "cocoqa"})
    (history, seconds), (blind_history, blind_seconds) = results["VQA"], results["blind"]
    return tb.write_metrics(
        args.log_dir,
        test_accuracy=accuracy["accuracy"],
        **{f"test_{k}": v for k, v in accuracy.items() if k != "accuracy"},
        blind_test_accuracy=blind_accuracy["accuracy"],
        **{f"blind_test_{k}": v for k, v in blind_accuracy.items() if k != "accuracy"},
        **({} if compositional is None else {"compositional_test_accuracy": compositional,
                                             "blind_compositional_test_accuracy": blind_compositional}),
        val_accuracy=history.history["val_accuracy"][-1], blind_val_accuracy=blind_history.history["val_accuracy"][-1],
        train_seconds=round(seconds, 2), blind_train_seconds=round(blind_seconds, 2),
        train_questions=len(train_labels), test_questions=len(splits["test"]["answers"]),
        num_answers=len(answer_words), vocab_size=vectorizer.vocabulary_size(), epochs=args.epochs,
    )


if __name__ == "__main__":
    main()
