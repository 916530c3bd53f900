"""The procedural training set: deterministic, captioned truthfully, and read right by the judges."""

import numpy as np
import pytest

from backend.model import judges, procedural, tiny


def test_the_set_is_a_pure_function_of_its_seed():
    a_images, a_scenes = procedural.dataset(5, 24, "plain")
    b_images, b_scenes = procedural.dataset(5, 24, "plain")
    assert a_images.tobytes() == b_images.tobytes() and [s.caption for s in a_scenes] == [s.caption for s in b_scenes]
    c_images, _ = procedural.dataset(6, 24, "plain")
    assert a_images.tobytes() != c_images.tobytes()
    assert a_images.shape == (24, procedural.SIZE, procedural.SIZE, 3) and a_images.dtype == np.uint8


def test_captions_say_what_is_drawn():
    _, scenes = procedural.dataset(9, 300, "plain")
    for scene in scenes:
        words = scene.caption.split()
        assert f"{scene.ground}" in words and words[-1] == "ground"
        for shape in scene.shapes:
            assert shape.colour in words
            assert shape.kind in words or procedural.PLURAL[shape.kind] in words
        assert words[0] == {1: "one", 2: "two"}[scene.count] or scene.relation
        if scene.count == 2 and not scene.relation:
            assert len({(s.kind, s.colour) for s in scene.shapes}) == 1
    kinds = {(s.count, s.relation) for s in scenes}
    assert kinds == {(1, False), (2, False), (2, True)}  # all three compositions occur


def test_treatments_differ_and_unknown_ones_are_refused():
    scene = procedural.scene(3)
    drawn = {t: procedural.draw(scene, t) for t in procedural.TREATMENTS}
    assert len({image.tobytes() for image in drawn.values()}) == len(procedural.TREATMENTS)
    with pytest.raises(ValueError, match="unknown treatment"):
        procedural.draw(scene, "watercolour")


def test_every_caption_word_is_one_token_and_other_text_still_tokenizes():
    tok = tiny.tokenizer()
    for word in procedural.vocabulary():
        assert len(tok(word, add_special_tokens=False)["input_ids"]) == 1, word
    caption = "one amber triangle on the left on a dark ground, stipple style"
    assert len(tok(caption)["input_ids"]) <= tiny.MAX_TOKENS
    ids = tok("zqx", add_special_tokens=False)["input_ids"]
    assert len(ids) == 3 and tok.unk_token_id not in ids  # unknown words fall back to bytes


def test_the_rule_judges_read_drawings_right():
    for treatment in procedural.TREATMENTS:
        images, scenes = procedural.dataset(77, 120, treatment)
        single = [(im, s) for im, s in zip(images, scenes) if s.count == 1]
        assert np.mean([judges.colour_of(im) == s.shapes[0].colour for im, s in single]) == 1.0, treatment
        assert np.mean([judges.position_of(im) == s.position for im, s in single]) >= 0.95, treatment
        assert np.mean([judges.count_of(im) == s.count for im, s in zip(images, scenes)]) >= 0.9, treatment
    assert judges.colour_of(np.full((64, 64, 3), 30, dtype=np.uint8)) is None  # an empty ground names no colour
