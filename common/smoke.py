"""Stand-ins for --smoke runs and tests: generated pictures and tiny models, no download, no trained model.

Plumbing only: nothing here is part of a lesson. A script's --smoke path calls these so that it runs
in seconds offline; the tests use the same pictures.
"""

import io
from pathlib import Path

import keras
import numpy as np
from keras import layers
from PIL import Image, ImageDraw

from common import data, tb

# 클래스마다 색과 모양이 다른 그림: 무작위 가중치의 특징으로도 구별할 수 있을 만큼 쉽습니다.
SHAPES = (("red_circle", (220, 40, 40)), ("green_square", (40, 170, 60)), ("blue_triangle", (50, 80, 220)))


def shape_image(kind, rng, size=64):
    """A PIL image: the shape SHAPES[kind] in its colour, at a random place and size, on light noise."""
    image = Image.fromarray(rng.integers(150, 256, size=(size, size, 3), dtype=np.uint8))
    r = int(rng.integers(size // 5, size // 3))
    cx, cy = (int(v) for v in rng.integers(r, size - r, 2))
    box, colour = (cx - r, cy - r, cx + r, cy + r), SHAPES[kind][1]
    draw = ImageDraw.Draw(image)
    if kind == 0:
        draw.ellipse(box, fill=colour)
    elif kind == 1:
        draw.rectangle(box, fill=colour)
    else:
        draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
    return image


def shape_jpegs(per_class=6, size=64, seed=0):
    """Returns (JPEG bytes per picture, labels, class names): per_class pictures of each shape, in memory."""
    rng = np.random.default_rng(seed)
    payloads, labels = [], []
    for kind in range(len(SHAPES)):
        for _ in range(per_class):
            buffer = io.BytesIO()
            shape_image(kind, rng, size).save(buffer, format="JPEG", quality=90)
            payloads.append(buffer.getvalue())
            labels.append(kind)
    return payloads, np.array(labels, dtype=np.int64), tuple(name for name, _ in SHAPES)


def write_shape_images(folder, per_class=6, size=64, seed=0):
    """Writes folder/<shape>/000.jpg ... (one sub-folder per class, like a user's photos); returns the folder."""
    payloads, labels, class_names = shape_jpegs(per_class, size, seed)
    for i, (payload, label) in enumerate(zip(payloads, labels)):
        path = Path(folder) / class_names[label] / f"{i % per_class:03d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload)
    return Path(folder)


def train_shape_classifier(folder, size=32, epochs=20, batch_size=16, learning_rate=1e-2, seed=0):
    """Trains a tiny CNN on 90 shapes and saves folder/model.keras and folder/labels.txt; returns the model path.

    It has the interface of inception_v3_retrain.py's exported model (raw RGB pixels 0-255 in, class
    probabilities out), so inception_v3_predict.py --smoke runs without a retrained Inception model.
    Its TensorBoard curves go to folder/train/.
    """
    rng = np.random.default_rng(seed)
    y = np.arange(90) % len(SHAPES)
    x = np.stack([np.asarray(shape_image(k, rng, size)) for k in y])
    model = keras.Sequential(
        [
            keras.Input(shape=(size, size, 3)),
            layers.Rescaling(1 / 127.5, offset=-1),
            layers.Conv2D(8, 3, activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(len(SHAPES)),
            layers.Activation("softmax", dtype="float32"),
        ],
        name="smoke_stand_in",
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    ds = data.make_pipeline(x, y, batch_size=batch_size, shuffle=True, seed=seed)
    model.fit(ds, epochs=epochs, verbose=0, callbacks=[tb.tensorboard_callback(folder), tb.StopOnNaN(folder)])
    model.save(Path(folder) / "model.keras")
    (Path(folder) / "labels.txt").write_text("\n".join(name for name, _ in SHAPES) + "\n", encoding="utf-8")
    return Path(folder) / "model.keras"


def draw_seven(path):
    """A handwritten-style 7, dark ink on off-white paper, 200x200 PNG (predict_digit.py's input when none is given)."""
    image = Image.new("RGB", (200, 200), (236, 233, 222))
    draw = ImageDraw.Draw(image)
    draw.line([(52, 52), (138, 44), (146, 50), (112, 108), (90, 162)], fill=(35, 35, 70), width=13, joint="curve")
    draw.line([(88, 104), (134, 100)], fill=(35, 35, 70), width=10)  # the crossbar some people write
    image.save(path)
    return Path(path)


def untrained_digit_classifier(path):
    """Saves a tiny untrained CNN with an MNIST classifier's interface, (28, 28, 1) in [0, 1] -> 10 probabilities.

    predict_digit.py --smoke loads it like a trained model.keras, so the smoke run goes through the same
    loading, preprocessing and plotting code without an earlier training run; its answers mean nothing.
    """
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(4, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ],
        name="untrained_stand_in",
    )
    model.save(path)
    return Path(path)
