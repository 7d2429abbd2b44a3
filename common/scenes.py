"""Synthetic scenes for week 4: pictures of coloured shapes, their captions, and questions with one answer.

Every scene is drawn on the fly (NumPy + Pillow) and is the same for the same seed, part and index, so
no download and no files: `generate("train", 8000, seed=42)` gives the same 8,000 scenes on every computer.
A scene holds its picture, its objects (colour, shape, size, centre), a few captions from a small grammar
and every question about it that has exactly one well-defined answer.

- Objects: 1-4 shapes (circle, square, triangle) in six colours and two sizes, placed so their bounding
  boxes do not overlap, on a plain or lightly textured grey background.
- Captions (for image captioning): the objects from left to right, with counts ("a red circle and two
  green triangles"), in a few paraphrases, one of them with a spatial relation ("a red circle above a
  blue square"). `caption_facts` reads the (colour, shape) counts back out of a caption.
- Questions (for visual question answering) of five types: color, shape, count, exists (yes/no) and
  relation ("where is the red circle relative to the blue square?": left / right / above / below). A question
  is asked only when its answer is unique: "what color is the circle?" only if the scene has exactly one
  circle, a relation only between two objects that their colour and shape name uniquely and that are clearly
  apart on one axis, clearly more than on the other.
- Compositional split: the colour-shape pairs in HELD_OUT never occur in "train" and "test" scenes
  (nor in their questions); every "compositional" scene contains at least one of them. Each colour and
  each shape on its own is still seen in training, only these pairings are new.

Plumbing only (data): the models that learn from these scenes live in the week-4 scripts.
Importing this module does not import TensorFlow.
"""

import dataclasses
import re
from collections import Counter

import numpy as np
from PIL import Image, ImageDraw

COLORS = {  # 이름 -> RGB. 밝은 회색 배경 위에서도 서로 잘 구별되는 여섯 색
    "red": (215, 35, 35),
    "green": (35, 160, 55),
    "blue": (40, 75, 215),
    "yellow": (235, 205, 25),
    "purple": (140, 50, 180),
    "orange": (245, 130, 20),
}
SHAPES = ("circle", "square", "triangle")
SIZES = {"small": 0.09, "large": 0.15}  # 반지름(외접 사각형의 반 폭)을 그림 크기에 대한 비율로
MAX_OBJECTS = 4
COUNT_WORDS = ("zero", "one", "two", "three", "four")
RELATIONS = ("left of", "right of", "above", "below")
RELATION_MARGIN = 0.1  # 두 물체의 중심이 그 축으로 그림 크기의 10% 이상 떨어져야 관계를 묻습니다
# 색-모양 조합 여섯 개는 학습 장면에 한 번도 나오지 않습니다: 색마다 하나, 모양마다 둘
HELD_OUT = (("red", "square"), ("green", "triangle"), ("blue", "circle"),
            ("yellow", "square"), ("purple", "triangle"), ("orange", "circle"))
ALL_COMBOS = tuple((c, s) for c in COLORS for s in SHAPES)
TRAIN_COMBOS = tuple(combo for combo in ALL_COMBOS if combo not in HELD_OUT)
PARTS = ("train", "test", "compositional")  # 부분마다 다른 난수 흐름: 테스트 장면은 학습 장면과 다른 그림
QUESTION_TYPES = ("color", "shape", "count", "exists", "relation")
# 위치 질문의 답: 캡션의 관계 말("left of")에서 한 단어로
WHERE = {"left of": "left", "right of": "right", "above": "above", "below": "below"}
ANSWERS = (*COLORS, *SHAPES, *COUNT_WORDS, "yes", "no", *WHERE.values())  # 답이 될 수 있는 모든 단어

# 질문 틀(template): 유형마다 말만 다르고 뜻이 같은 두 가지
QUESTION_TEMPLATES = {
    "color": ("what color is the {shape}?", "what is the color of the {shape}?"),
    "shape": ("what shape is the {color} object?", "what is the shape of the {color} object?"),
    "count_shape": ("how many {shape}s are there?", "what is the number of {shape}s?"),
    "count_color": ("how many {color} objects are there?", "what is the number of {color} objects?"),
    "exists": ("is there {article} {color} {shape}?", "are there any {color} {shape}s?"),
    "relation": ("where is the {color} {shape} relative to the {other_color} {other_shape}?",
                 "where is the {color} {shape} compared to the {other_color} {other_shape}?"),
}


@dataclasses.dataclass(frozen=True)
class Thing:
    """One shape in a scene: colour and shape names, size name, centre (x, y) and half-width r in pixels."""

    color: str
    shape: str
    size: str
    x: int
    y: int
    r: int


@dataclasses.dataclass(frozen=True)
class Question:
    type: str  # one of QUESTION_TYPES
    question: str
    answer: str  # one of ANSWERS


@dataclasses.dataclass
class Scene:
    image: np.ndarray  # (size, size, 3) uint8
    objects: tuple  # Things, left to right
    background: str  # "plain" or "textured"
    captions: list  # paraphrases of one description
    questions: list  # every well-defined Question about the scene


# --- drawing ---------------------------------------------------------------------

def place_objects(rng, size, combos, n, first=None, tries=200):
    """Up to n Things whose bounding boxes keep a 2-pixel gap, sorted left to right.

    combos: the (colour, shape) pairs to draw from; `first` (optional) is used for the first object.
    An object that finds no free place in `tries` attempts is left out (rare: 4 objects fill a fifth).
    """
    placed = []
    for i in range(n):
        color, shape = first if (i == 0 and first is not None) else combos[rng.integers(len(combos))]
        size_name = ("small", "large")[rng.integers(2)]
        r = max(3, round(SIZES[size_name] * size))
        for _ in range(tries):
            x, y = (int(v) for v in rng.integers(r + 1, size - r - 1, size=2))
            if all(abs(x - o.x) >= r + o.r + 2 or abs(y - o.y) >= r + o.r + 2 for o in placed):
                placed.append(Thing(color, shape, size_name, x, y, r))
                break
    return tuple(sorted(placed, key=lambda o: (o.x, o.y)))


def draw_scene(objects, rng, size, textured):
    """The picture: a grey background (textured: light noise), shapes drawn at 2x and shrunk (smooth edges)."""
    scale = 2
    grey = int(rng.integers(150, 226))
    tint = rng.integers(-8, 9, size=3)
    base = tuple(int(v) for v in np.clip(grey + tint, 0, 255))
    canvas = Image.new("RGB", (size * scale, size * scale), base)
    draw = ImageDraw.Draw(canvas)
    for o in objects:
        # 색을 조금씩 흔듭니다(±12): 모델이 정확한 RGB 값 하나가 아니라 색의 범위를 배우도록
        fill = tuple(int(v) for v in np.clip(np.array(COLORS[o.color]) + rng.integers(-12, 13, size=3), 0, 255))
        x, y, r = o.x * scale, o.y * scale, o.r * scale
        if o.shape == "circle":
            draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
        elif o.shape == "square":
            draw.rectangle((x - r, y - r, x + r, y + r), fill=fill)
        else:  # 위를 가리키는 이등변삼각형
            draw.polygon([(x, y - r), (x - r, y + r), (x + r, y + r)], fill=fill)
    image = np.asarray(canvas.resize((size, size), Image.Resampling.BOX), dtype=np.int16)
    if textured:
        image = image + rng.normal(0, 6, size=image.shape).round().astype(np.int16)
    return np.clip(image, 0, 255).astype(np.uint8)


def make_scene(part="train", index=0, seed=0, size=64):
    """Scene number `index` of a part ("train", "test" or "compositional"); the same arguments give the same scene."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, not {part!r}")
    rng = np.random.default_rng([seed, PARTS.index(part), index])
    compositional = part == "compositional"
    combos = ALL_COMBOS if compositional else TRAIN_COMBOS
    first = HELD_OUT[rng.integers(len(HELD_OUT))] if compositional else None
    objects = place_objects(rng, size, combos, int(rng.integers(1, MAX_OBJECTS + 1)), first=first)
    textured = bool(rng.integers(2))
    image = draw_scene(objects, rng, size, textured)
    return Scene(
        image=image, objects=objects, background="textured" if textured else "plain",
        captions=captions(objects, size), questions=all_questions(objects, size, combos),
    )


def generate(part, n, seed=0, size=64):
    """n scenes of one part: a list of Scene, index 0..n-1."""
    return [make_scene(part, i, seed, size) for i in range(n)]


# --- captions: a small grammar ---------------------------------------------------

def article(word):
    return "an" if word[0] in "aeiou" else "a"


def noun_phrase(count, color, shape):
    """'a red circle', 'an orange square', 'two green triangles'."""
    if count == 1:
        return f"{article(color)} {color} {shape}"
    return f"{COUNT_WORDS[count]} {color} {shape}s"


def join_phrases(phrases):
    """'A', 'A and B', 'A, B and C'."""
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def groups(objects):
    """[(count, colour, shape)], objects of the same colour and shape together, ordered by their leftmost member."""
    counts = Counter((o.color, o.shape) for o in objects)
    order = list(dict.fromkeys((o.color, o.shape) for o in objects))  # objects are sorted left to right
    return [(counts[combo], *combo) for combo in order]


def relation(a, b, size):
    """The relation of Thing a to Thing b ('left of', 'above', ...) along the axis where they are farther apart;
    None when the centres are less than RELATION_MARGIN * size apart on that axis."""
    dx, dy = b.x - a.x, b.y - a.y
    d = dx if abs(dx) >= abs(dy) else dy
    if abs(d) < RELATION_MARGIN * size:
        return None
    if d is dx:
        return "left of" if d > 0 else "right of"
    return "above" if d > 0 else "below"  # 그림 좌표: y는 아래로 갈수록 커집니다


def clearly_apart(a, b, size):
    """Is one axis clearly the one that separates a and b: at least RELATION_MARGIN * size apart on it, and by
    that much more than on the other axis? Then "where is a relative to b?" has one answer."""
    dx, dy = sorted((abs(b.x - a.x), abs(b.y - a.y)))[::-1]
    return dx >= RELATION_MARGIN * size and dx - dy >= RELATION_MARGIN * size


def captions(objects, size):
    """A few paraphrases of the scene: the object list, 'there is/are ...', 'N shapes: ...' and, when two
    objects are the only ones of their kind and clearly apart, 'A <relation> B[, with the rest]'."""
    found = groups(objects)
    listing = join_phrases([noun_phrase(*g) for g in found])
    n = len(objects)
    texts = [
        listing,
        f"there {'is' if found[0][0] == 1 else 'are'} {listing}",
        f"{COUNT_WORDS[n]} shape{'s' * (n > 1)}: {listing}",
    ]
    singles = [o for o in objects if Counter((p.color, p.shape) for p in objects)[(o.color, o.shape)] == 1]
    for i, a in enumerate(singles):
        b = next((b for b in singles[i + 1:] if relation(a, b, size)), None)
        if b is not None:
            rest = [noun_phrase(*g) for g in found if g[1:] not in ((a.color, a.shape), (b.color, b.shape))]
            text = f"{noun_phrase(1, a.color, a.shape)} {relation(a, b, size)} {noun_phrase(1, b.color, b.shape)}"
            texts.append(text + (f", with {join_phrases(rest)}" if rest else ""))
            break
    return texts


FACT = re.compile(
    r"\b(a|an|" + "|".join(COUNT_WORDS[1:]) + r") (" + "|".join(COLORS) + r") (" + "|".join(SHAPES) + r")s?\b"
)


def caption_facts(caption):
    """Counter {(colour, shape): count} of the noun phrases in a caption ('two green triangles' -> 2)."""
    facts = Counter()
    for number, color, shape in FACT.findall(caption.lower()):
        facts[(color, shape)] += 1 if number in ("a", "an") else COUNT_WORDS.index(number)
    return facts


def scene_facts(objects):
    """Counter {(colour, shape): count} of a scene's objects: what a correct full caption states."""
    return Counter((o.color, o.shape) for o in objects)


# --- questions with one answer ---------------------------------------------------

def all_questions(objects, size, combos=TRAIN_COMBOS):
    """Every question about the objects whose answer is unique and well defined, in every template.

    combos: the (colour, shape) pairs a question may name without the scene showing them ("is there a red
    square?" with the answer no); training scenes pass TRAIN_COMBOS so held-out pairs never appear.
    """
    out = []
    shape_count = Counter(o.shape for o in objects)
    color_count = Counter(o.color for o in objects)
    combo_count = Counter((o.color, o.shape) for o in objects)
    t = QUESTION_TEMPLATES
    for o in objects:
        if shape_count[o.shape] == 1:  # "the circle" names one object
            out += [Question("color", q.format(shape=o.shape), o.color) for q in t["color"]]
        if color_count[o.color] == 1:
            out += [Question("shape", q.format(color=o.color), o.shape) for q in t["shape"]]
    for shape in SHAPES:
        out += [Question("count", q.format(shape=shape), COUNT_WORDS[shape_count[shape]]) for q in t["count_shape"]]
    for color in COLORS:
        out += [Question("count", q.format(color=color), COUNT_WORDS[color_count[color]]) for q in t["count_color"]]
    for color, shape in sorted(set(combos) | set(combo_count)):
        answer = "yes" if combo_count[(color, shape)] else "no"
        out += [Question("exists", q.format(article=article(color), color=color, shape=shape), answer)
                for q in t["exists"]]
    named = [o for o in objects if combo_count[(o.color, o.shape)] == 1]  # "the red circle" names one object
    for a in named:
        for b in named:
            if a is b or not clearly_apart(a, b, size):
                continue  # 대각선에 가까우면 왼쪽인지 위인지 애매하니 묻지 않습니다
            answer = WHERE[relation(a, b, size)]
            out += [Question("relation", q.format(color=a.color, shape=a.shape, other_color=b.color,
                                                  other_shape=b.shape), answer) for q in t["relation"]]
    return out


def pick_questions(questions, k, rng):
    """k different questions for one scene, spread over the question types and, within a type, over answers.

    Types are visited in a random order (again and again when k > the types available); within a type an
    answer is drawn uniformly first, then a question with that answer. So "is there ...?" is yes half the
    time and a question-only model cannot win by always answering the most common word.
    """
    left = list(questions)
    picked = []
    types = [t for t in QUESTION_TYPES if any(q.type == t for q in left)]
    rng.shuffle(types)
    while len(picked) < k and types:
        for t in list(types):
            of_type = [q for q in left if q.type == t]
            if not of_type:
                types.remove(t)
                continue
            answers = sorted({q.answer for q in of_type})
            answer = answers[rng.integers(len(answers))]
            choices = [q for q in of_type if q.answer == answer]
            question = choices[rng.integers(len(choices))]
            picked.append(question)
            left.remove(question)
            if len(picked) == k:
                break
    return picked


# --- Segmentation scenes (week 5): every pixel labelled with the shape it belongs to --------------

SEGMENTATION_CLASSES = ("background", *SHAPES)  # 픽셀마다의 정답: 0 배경, 1 원, 2 정사각형, 3 삼각형


def textured_background(rng, size):
    """A colour background with a random texture: a few sine waves (stripes, ripples) plus pixel noise."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    texture = np.zeros((size, size))
    for _ in range(3):
        fx, fy = rng.uniform(-8, 8, size=2)
        texture += rng.uniform(10, 30) * np.sin(2 * np.pi * (fx * xx + fy * yy) + rng.uniform(0, 2 * np.pi))
    base = rng.integers(40, 216, size=3)
    image = base + texture[..., None] + rng.normal(0, 8, size=(size, size, 3))
    return np.clip(image, 0, 255)


def segmentation_scene(index=0, seed=0, size=64):
    """(image (size, size, 3) uint8, mask (size, size) uint8): 1-4 shapes of random colours, sizes and places
    (they may overlap; the one drawn last is on top, in the mask too) on a textured background.

    The colour says nothing about the class, so a model must learn the shapes. Edges are drawn without
    smoothing, so every pixel's label is exact. The same (index, seed, size) gives the same scene.
    """
    rng = np.random.default_rng([seed, 7, index])
    pixels = textured_background(rng, size)
    background = pixels.mean(axis=(0, 1))
    image = Image.fromarray(pixels.astype(np.uint8))
    mask = Image.new("L", (size, size), 0)
    for _ in range(int(rng.integers(1, MAX_OBJECTS + 1))):
        shape = int(rng.integers(len(SHAPES)))
        r = int(rng.integers(max(3, size // 12), max(4, size // 5) + 1))
        x, y = (int(v) for v in rng.integers(0, size, size=2))
        fill = rng.integers(0, 256, size=3)
        while np.abs(fill - background).sum() < 150:  # 배경과 너무 비슷한 색은 다시 뽑습니다(보이지 않는 도형 방지)
            fill = rng.integers(0, 256, size=3)
        fill = tuple(int(v) for v in fill)
        for canvas, value in ((ImageDraw.Draw(image), fill), (ImageDraw.Draw(mask), shape + 1)):
            if SHAPES[shape] == "circle":
                canvas.ellipse((x - r, y - r, x + r, y + r), fill=value)
            elif SHAPES[shape] == "square":
                canvas.rectangle((x - r, y - r, x + r, y + r), fill=value)
            else:
                canvas.polygon([(x, y - r), (x - r, y + r), (x + r, y + r)], fill=value)
    return np.asarray(image, dtype=np.uint8), np.asarray(mask, dtype=np.uint8)


def segmentation_scenes(n, seed=0, size=64, start=0):
    """n segmentation scenes (numbers start ... start + n - 1) as (images (n, size, size, 3), masks (n, size, size))."""
    pairs = [segmentation_scene(start + i, seed, size) for i in range(n)]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])
