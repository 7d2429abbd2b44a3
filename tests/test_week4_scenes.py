"""Week 4, common/scenes.py: the synthetic scenes are reproducible, and their captions and answers tell the truth."""

import re
from collections import Counter

import numpy as np
import pytest

from common import scenes

SIZE = 64


@pytest.fixture(scope="module")
def train_scenes():
    return scenes.generate("train", 300, seed=7, size=SIZE)


@pytest.fixture(scope="module")
def compositional_scenes():
    return scenes.generate("compositional", 200, seed=7, size=SIZE)


def test_same_seed_same_scene_and_other_seeds_or_parts_differ():
    a, b = scenes.make_scene("train", 5, seed=3), scenes.make_scene("train", 5, seed=3)
    assert np.array_equal(a.image, b.image) and a.objects == b.objects
    assert a.captions == b.captions and a.questions == b.questions
    assert not np.array_equal(a.image, scenes.make_scene("train", 5, seed=4).image)
    assert not np.array_equal(a.image, scenes.make_scene("test", 5, seed=3).image)  # test pictures are new
    assert not np.array_equal(a.image, scenes.make_scene("train", 6, seed=3).image)


def test_image_size_follows_the_argument():
    for size in (32, 96):
        scene = scenes.make_scene("train", 0, seed=1, size=size)
        assert scene.image.shape == (size, size, 3) and scene.image.dtype == np.uint8
        assert all(0 <= o.x - o.r and o.x + o.r < size and 0 <= o.y - o.r and o.y + o.r < size for o in scene.objects)


def test_objects_do_not_overlap_and_the_picture_shows_them(train_scenes):
    counts = Counter(len(s.objects) for s in train_scenes)
    assert set(counts) == {1, 2, 3, 4}
    for scene in train_scenes:
        objects = scene.objects
        assert [o.x for o in objects] == sorted(o.x for o in objects)  # left to right
        for i, a in enumerate(objects):
            for b in objects[i + 1:]:
                assert abs(a.x - b.x) >= a.r + b.r or abs(a.y - b.y) >= a.r + b.r, (a, b)
        for o in objects:  # the centre pixel has the object's colour (within the jitter), not the grey background
            pixel = scene.image[o.y + o.r // 2 if o.shape == "triangle" else o.y, o.x].astype(int)
            assert np.abs(pixel - scenes.COLORS[o.color]).max() <= 40, (o, pixel)


def test_caption_facts_reads_counts_colours_and_shapes():
    facts = scenes.caption_facts("A red circle, two green triangles and an orange square")
    assert facts == Counter({("red", "circle"): 1, ("green", "triangle"): 2, ("orange", "square"): 1})
    assert scenes.caption_facts("three shapes: four blue circles") == Counter({("blue", "circle"): 4})


def test_captions_state_exactly_the_objects(train_scenes):
    for scene in train_scenes:
        truth = scenes.scene_facts(scene.objects)
        full, there, counted, *relation = scene.captions
        for caption in (full, there, counted):
            assert scenes.caption_facts(caption) == truth, (caption, scene.objects)
        assert counted.startswith(scenes.COUNT_WORDS[len(scene.objects)] + " shape")
        for caption in scene.captions:  # every colour a caption names is in the picture
            named = {w for w in re.findall(r"\w+", caption) if w in scenes.COLORS}
            assert named <= {o.color for o in scene.objects}
        for caption in relation:  # "a red circle above a blue square[, with ...]": true of the two objects
            m = re.match(r"an? (\w+) (\w+) (left of|right of|above|below) an? (\w+) (\w+)", caption)
            a = next(o for o in scene.objects if (o.color, o.shape) == m.group(1, 2))
            b = next(o for o in scene.objects if (o.color, o.shape) == m.group(4, 5))
            assert holds(a, b, m.group(3)), (caption, scene.objects)
            assert scenes.caption_facts(caption) == truth
    assert sum(len(s.captions) == 4 for s in train_scenes) > 100  # most scenes with two objects get a relation


def holds(a, b, relation):
    """Is `a <relation> b` true, with the margin that makes it clear?"""
    margin = scenes.RELATION_MARGIN * SIZE
    return {"left of": b.x - a.x >= margin, "right of": a.x - b.x >= margin,
            "above": b.y - a.y >= margin, "below": a.y - b.y >= margin}[relation]


def check_answer(question, objects):
    """Answers a question again from the objects, by reading its words; asserts it has exactly one answer."""
    text = question.question
    if m := re.fullmatch(r"what (?:color is|is the color of) the (\w+)\?", text):
        matching = [o for o in objects if o.shape == m.group(1)]
        assert len(matching) == 1
        return matching[0].color
    if m := re.fullmatch(r"what (?:shape is|is the shape of) the (\w+) object\?", text):
        matching = [o for o in objects if o.color == m.group(1)]
        assert len(matching) == 1
        return matching[0].shape
    if m := re.fullmatch(r"(?:how many|what is the number of) (\w+?)s(?: are there)?\?", text):
        return scenes.COUNT_WORDS[sum(o.shape == m.group(1) for o in objects)]
    if m := re.fullmatch(r"(?:how many|what is the number of) (\w+) objects(?: are there)?\?", text):
        return scenes.COUNT_WORDS[sum(o.color == m.group(1) for o in objects)]
    if m := re.fullmatch(r"(?:is there an? (\w+) (\w+)|are there any (\w+) (\w+)s)\?", text):
        color, shape = (g for g in m.groups() if g)
        return "yes" if any((o.color, o.shape) == (color, shape) for o in objects) else "no"
    m = re.fullmatch(r"where is the (\w+) (\w+) (?:relative|compared) to the (\w+) (\w+)\?", text)
    assert m, f"unknown question form: {text}"
    a = [o for o in objects if (o.color, o.shape) == m.group(1, 2)]
    b = [o for o in objects if (o.color, o.shape) == m.group(3, 4)]
    assert len(a) == 1 and len(b) == 1 and a != b
    dx, dy = b[0].x - a[0].x, b[0].y - a[0].y
    gaps = {"left": dx, "right": -dx, "above": dy, "below": -dy}  # how far a is to the left of b, ...
    answer = max(gaps, key=gaps.get)
    across = abs(dy) if answer in ("left", "right") else abs(dx)
    margin = scenes.RELATION_MARGIN * SIZE
    assert gaps[answer] >= margin and gaps[answer] - across >= margin, "too close or too diagonal to ask"
    return answer


def test_every_question_has_the_answer_the_objects_give(train_scenes, compositional_scenes):
    kinds = Counter()
    for scene in train_scenes + compositional_scenes:
        for question in scene.questions:
            assert question.answer == check_answer(question, scene.objects), (question, scene.objects)
            assert question.answer in scenes.ANSWERS
            kinds[question.type] += 1
    assert set(kinds) == set(scenes.QUESTION_TYPES)


def test_questions_are_asked_only_when_the_answer_is_unique():
    two_circles = (scenes.Thing("red", "circle", "small", 10, 10, 5), scenes.Thing("blue", "circle", "small", 40, 40, 5))
    texts = [q.question for q in scenes.all_questions(two_circles, SIZE)]
    assert "what color is the circle?" not in texts  # two circles: "the circle" names neither
    assert "how many circles are there?" in texts and "what shape is the red object?" in texts
    below = (scenes.Thing("red", "circle", "small", 10, 10, 5), scenes.Thing("blue", "square", "small", 13, 40, 5))
    relations = {q.question: q.answer for q in scenes.all_questions(below, SIZE) if q.type == "relation"}
    assert relations["where is the red circle relative to the blue square?"] == "above"
    assert relations["where is the blue square compared to the red circle?"] == "below"
    diagonal = (scenes.Thing("red", "circle", "small", 10, 10, 5), scenes.Thing("blue", "square", "small", 38, 40, 5))
    assert not any(q.type == "relation" for q in scenes.all_questions(diagonal, SIZE))  # left or above? not asked


def test_held_out_pairs_never_appear_in_training_scenes(train_scenes, compositional_scenes):
    held_out = set(scenes.HELD_OUT)
    pattern = re.compile("|".join(rf"\b{c} {s}" for c, s in held_out))
    test_part = scenes.generate("test", 100, seed=7, size=SIZE)
    for scene in train_scenes + test_part:
        assert not {(o.color, o.shape) for o in scene.objects} & held_out
        assert not any(pattern.search(q.question) for q in scene.questions)
        assert not any(pattern.search(c) for c in scene.captions)
    seen = {(o.color, o.shape) for s in train_scenes for o in s.objects}
    assert seen == set(scenes.TRAIN_COMBOS)  # every colour and every shape is still seen, in other pairs
    for scene in compositional_scenes:
        assert {(o.color, o.shape) for o in scene.objects} & held_out
    asked = [q for s in compositional_scenes for q in s.questions if pattern.search(q.question)]
    assert len(asked) > 200  # and the compositional questions do name the new pairs


def test_pick_questions_spreads_types_and_balances_yes_and_no(train_scenes):
    rng = np.random.default_rng(0)
    picked = [scenes.pick_questions(s.questions, 5, rng) for s in train_scenes]
    assert all(len(p) == 5 and len(set(p)) == 5 for p in picked)
    for scene, questions in zip(train_scenes, picked):
        available = {q.type for q in scene.questions}
        assert {q.type for q in questions} == available  # 5 questions, at most 5 types: each available one
    flat = [q for p in picked for q in p]
    exists = [q.answer for q in flat if q.type == "exists"]
    assert 0.4 < exists.count("yes") / len(exists) < 0.6
    counts = Counter(q.answer for q in flat if q.type == "count")
    assert counts.most_common(1)[0][1] / sum(counts.values()) < 0.5
    first = scenes.pick_questions(train_scenes[0].questions, 5, np.random.default_rng(1))
    assert first == scenes.pick_questions(train_scenes[0].questions, 5, np.random.default_rng(1))  # same seed, same picks


def test_bad_part_is_refused():
    with pytest.raises(ValueError, match="part must be one of"):
        scenes.make_scene("validation", 0)
