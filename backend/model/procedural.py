"""The procedural, captioned training set of stylemint-tiny: pictures and their words from one rule.

No image data can be downloaded here, and a model whose words steer its pictures needs captions
that are exactly true. So scenes (shapes, colours, counts, positions, ground) are drawn from a
seed, rendered with Pillow at 4x and box-downscaled (anti-aliased edges), and captioned from the
same scene object. The same scenes drawn with a rendering *treatment* (dots, ink outlines, haze)
train the three artist styles. Everything is a pure function of the seed: `scene(seed)` and
`draw(scene, treatment)` give the same pixels on every machine (Pillow's rasteriser is integer).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

SIZE = 64
SUPERSAMPLE = 4

# Colour words and their RGB; hues are far apart so "the dominant hue" names one word.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (222, 38, 38),
    "amber": (242, 146, 18),
    "yellow": (236, 222, 36),
    "green": (36, 168, 60),
    "blue": (38, 84, 226),
    "violet": (150, 58, 206),
}
SHAPES = ("circle", "square", "triangle", "stripe")
GROUNDS: dict[str, tuple[int, int, int]] = {"dark": (28, 28, 34), "light": (228, 226, 218)}
POSITIONS: dict[str, tuple[float, float]] = {
    "centre": (0.5, 0.5), "left": (0.28, 0.5), "right": (0.72, 0.5), "top": (0.5, 0.28), "bottom": (0.5, 0.72),
}
POSITION_PHRASES = {
    "centre": "in the centre", "left": "on the left", "right": "on the right", "top": "at the top", "bottom": "at the bottom",
}
PLURAL = {shape: shape + "s" for shape in SHAPES}
NUMBERS = {1: "one", 2: "two"}  # "one", not "a"/"an": a prompt template needs no article agreement

# Rendering treatments: "plain" is the base model's look; the others are the three artist styles,
# each named by its trigger word.
TREATMENTS = ("plain", "stipple", "inkline", "haze")
STYLES = TREATMENTS[1:]
# Never in the base model's or the shipped styles' training data: the stand-in for an artist's own
# style (`stylemint style train`), to show that a style the model never saw can be taught and gated.
HELD_OUT = ("crosshatch",)
DRAWABLE = TREATMENTS + HELD_OUT


@dataclass(frozen=True)
class Shape:
    kind: str
    colour: str
    centre: tuple[float, float]  # fractions of the image
    size: float  # fraction of the image
    vertical: bool = False  # stripes only


@dataclass(frozen=True)
class Scene:
    ground: str
    shapes: tuple[Shape, ...]
    caption: str
    count: int = 1
    position: str | None = None
    relation: bool = False
    extra: dict = field(default_factory=dict, compare=False)


def vocabulary() -> list[str]:
    """Every word a caption (or a style prompt) can use: the tokenizer gives each one token."""
    words = {"one", "two", "a", "on", "the", "in", "at", "above", "ground", "style"}
    words |= set(COLOURS) | set(SHAPES) | set(PLURAL.values()) | set(GROUNDS)
    for phrase in POSITION_PHRASES.values():
        words |= set(phrase.split())
    words |= set(STYLES)
    return sorted(words)


def caption(colour: str, shape: str, ground: str, *, count: int = 1, position: str | None = None) -> str:
    noun = shape if count == 1 else PLURAL[shape]
    where = f" {POSITION_PHRASES[position]}" if position else ""
    return f"{NUMBERS[count]} {colour} {noun}{where} on a {ground} ground"


def styled(text: str, style: str | None) -> str:
    """A caption with a style's trigger word (the form the adapters are trained and prompted with)."""
    return f"{text}, {style} style" if style else text


def _jitter(rng: random.Random, value: float, amount: float = 0.04) -> float:
    return value + rng.uniform(-amount, amount)


def scene(seed: int, *, single_only: bool = False) -> Scene:
    """One random scene and its caption: 70 % one shape, 15 % two alike, 15 % one above another."""
    rng = random.Random(seed)
    ground = rng.choice(sorted(GROUNDS))
    roll = 0.0 if single_only else rng.random()
    if roll < 0.70:
        kind, colour = rng.choice(SHAPES), rng.choice(sorted(COLOURS))
        position = rng.choice(sorted(POSITIONS))
        cx, cy = POSITIONS[position]
        shape = Shape(kind, colour, (_jitter(rng, cx), _jitter(rng, cy)), rng.uniform(0.40, 0.54),
                      vertical=kind == "stripe" and position in ("left", "right"))
        said = position if rng.random() < 0.6 else None  # the rest: position not named
        return Scene(ground, (shape,), caption(colour, kind, ground, position=said), 1, position)
    if roll < 0.85:
        kind, colour = rng.choice(SHAPES), rng.choice(sorted(COLOURS))
        vertical = rng.random() < 0.5
        places = [(0.27, 0.5), (0.73, 0.5)] if vertical else [(0.5, 0.27), (0.5, 0.73)]
        size = rng.uniform(0.30, 0.38)
        shapes = tuple(Shape(kind, colour, (_jitter(rng, x), _jitter(rng, y)), size, vertical=vertical) for x, y in places)
        return Scene(ground, shapes, caption(colour, kind, ground, count=2), 2)
    (k1, k2), (c1, c2) = rng.sample(SHAPES, 2), rng.sample(sorted(COLOURS), 2)
    upper = Shape(k1, c1, (_jitter(rng, 0.5), _jitter(rng, 0.27)), rng.uniform(0.30, 0.38))
    lower = Shape(k2, c2, (_jitter(rng, 0.5), _jitter(rng, 0.73)), rng.uniform(0.30, 0.38))
    text = f"one {c1} {k1} above one {c2} {k2} on a {ground} ground"
    return Scene(ground, (upper, lower), text, 2, relation=True)


def _outline(shape: Shape, scale: float) -> tuple[str, list[tuple[float, float]] | tuple[float, float, float, float]]:
    """The shape's geometry in pixels at `scale`: ("ellipse"|"rect", box) or ("polygon", points)."""
    cx, cy = shape.centre[0] * scale, shape.centre[1] * scale
    half = shape.size * scale / 2
    if shape.kind == "circle":
        return "ellipse", (cx - half, cy - half, cx + half, cy + half)
    if shape.kind == "square":
        side = half * 0.86
        return "rect", (cx - side, cy - side, cx + side, cy + side)
    if shape.kind == "triangle":
        h = half * 1.05
        return "polygon", [(cx, cy - h), (cx + h * 1.05, cy + h * 0.8), (cx - h * 1.05, cy + h * 0.8)]
    thick = half * 0.42
    if shape.vertical:
        return "rect", (cx - thick, 0.04 * scale, cx + thick, 0.96 * scale)
    return "rect", (0.04 * scale, cy - thick, 0.96 * scale, cy + thick)


def _mask(shape: Shape, scale: int):
    from PIL import Image, ImageDraw

    mask = Image.new("L", (scale, scale), 0)
    kind, geometry = _outline(shape, scale)
    draw = ImageDraw.Draw(mask)
    {"ellipse": draw.ellipse, "rect": draw.rectangle, "polygon": draw.polygon}[kind](geometry, fill=255)
    return mask


def _paint(canvas: np.ndarray, mask: np.ndarray, colour: np.ndarray) -> None:
    alpha = (mask.astype(np.float32) / 255.0)[..., None]
    canvas *= 1.0 - alpha
    canvas += alpha * colour


def draw(s: Scene, treatment: str = "plain") -> np.ndarray:
    """The scene as a uint8 RGB array (SIZE x SIZE x 3), drawn with one treatment."""
    from PIL import Image, ImageFilter

    if treatment not in DRAWABLE:
        raise ValueError(f"unknown treatment {treatment!r}; one of {DRAWABLE}")
    big = SIZE * SUPERSAMPLE
    ground = np.array(GROUNDS[s.ground], dtype=np.float32)
    canvas = np.empty((big, big, 3), dtype=np.float32)
    canvas[:] = ground
    if treatment == "haze":  # a soft vertical gradient over the ground
        ramp = np.linspace(-1.0, 1.0, big, dtype=np.float32)[:, None, None]
        canvas += ramp * (24.0 if s.ground == "dark" else -24.0)
    ink = np.array((245, 245, 240) if s.ground == "dark" else (16, 16, 20), dtype=np.float32)
    yy, xx = np.mgrid[0:big, 0:big].astype(np.float32)
    for shape in s.shapes:
        mask_image = _mask(shape, big)
        colour = np.array(COLOURS[shape.colour], dtype=np.float32)
        mask = np.asarray(mask_image)
        if treatment == "plain":
            _paint(canvas, mask, colour)
        elif treatment == "stipple":  # the shape as a grid of round dots, ground between them
            period = 4 * SUPERSAMPLE
            dots = (((xx % period) - period / 2) ** 2 + ((yy % period) - period / 2) ** 2) <= (0.36 * period) ** 2
            _paint(canvas, np.where(dots, mask, 0), colour)
        elif treatment == "inkline":  # flat fill inside a thick ink contour
            width = 3 * SUPERSAMPLE
            # Grow and shrink by thresholding a blur (a Gaussian's 3 % / 97 % levels lie about
            # 1.9 sigma out and in): MaxFilter/MinFilter of that size took 0.2 s per image.
            grown = np.asarray(mask_image.filter(ImageFilter.GaussianBlur(width / 2))) > 8
            _paint(canvas, grown * np.uint8(255), ink)
            shrunk = np.asarray(mask_image.filter(ImageFilter.GaussianBlur(width / 4))) > 247
            _paint(canvas, shrunk * np.uint8(255), colour)
        elif treatment == "crosshatch":  # the fill as two crossing sets of diagonal ink lines
            period = 5 * SUPERSAMPLE
            lines = ((xx + yy) % period < 0.3 * period) | ((xx - yy) % period < 0.3 * period)
            _paint(canvas, np.where(lines, mask, 0), colour)
        else:  # haze: blurred edges and a radial light in the fill
            blurred = np.asarray(mask_image.filter(ImageFilter.GaussianBlur(3 * SUPERSAMPLE)))
            cx, cy = shape.centre[0] * big, shape.centre[1] * big
            radius = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / (shape.size * big / 2)
            light = np.clip(1.0 - radius, 0.0, 1.0)[..., None]
            fill = colour + (255.0 - colour) * 0.55 * light
            alpha = (blurred.astype(np.float32) / 255.0)[..., None]
            canvas *= 1.0 - alpha
            canvas += alpha * fill
    small = Image.fromarray(np.clip(canvas, 0, 255).round().astype(np.uint8), "RGB").reduce(SUPERSAMPLE)
    return np.asarray(small, dtype=np.uint8)


def dataset(seed: int, count: int, treatment: str = "plain", *, single_only: bool = False) -> tuple[np.ndarray, list[Scene]]:
    """`count` images (N x 64 x 64 x 3 uint8) and their scenes, scene i from (seed, i)."""
    scenes = [scene(seed * 1_000_003 + i, single_only=single_only) for i in range(count)]
    return np.stack([draw(s, treatment) for s in scenes]), scenes
