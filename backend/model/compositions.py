"""Generative compositions: the procedural, captioned training set of the next shipped model.

Collectors of generative art buy compositions (flow fields, Truchet tilings, concentric rings,
circle packings, stacked bands, scattered dots, grids of cells) in considered palettes, with
traits that describe them; stylemint-tiny's single flat figures are not that. No image data can
be downloaded here, so the set is drawn from a seed: `composition(seed)` picks a motif family, a
named palette, a density and (where the motif has one) a layout, and the caption is written from
that same object, so every word in it is true of the picture. `draw()` renders it with Pillow's
integer rasteriser at 4x and box-downscales (anti-aliased edges): the same pixels on every
machine. The traits (motif, palette, density) are the sample project's prompt variables.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np

from backend.model import procedural

SIZE = 128
SUPERSAMPLE = 4

# Named palettes: a ground and three inks, far enough apart that a palette is told by its colours.
PALETTES: dict[str, tuple[tuple[int, int, int], tuple[tuple[int, int, int], ...]]] = {
    "ember": ((24, 18, 16), ((232, 93, 36), (247, 178, 58), (160, 32, 40))),
    "lagoon": ((236, 241, 236), ((18, 110, 130), (64, 180, 170), (20, 52, 92))),
    "moss": ((232, 228, 208), ((58, 94, 48), (128, 150, 64), (190, 170, 90))),
    "dusk": ((30, 26, 54), ((236, 120, 140), (150, 100, 200), (250, 200, 120))),
    "bauhaus": ((240, 234, 222), ((212, 40, 36), (30, 70, 160), (240, 190, 20))),
    "ink": ((244, 242, 236), ((20, 20, 24), (90, 90, 96), (160, 160, 166))),
    "citrus": ((250, 246, 222), ((250, 150, 20), (140, 200, 40), (250, 220, 40))),
    "glacier": ((16, 30, 48), ((170, 220, 240), (90, 150, 210), (236, 246, 250))),
}
# Motif families and the noun phrase a caption names them by.
MOTIFS: dict[str, str] = {
    "flow": "flow lines",
    "truchet": "truchet tiles",
    "rings": "concentric rings",
    "packing": "packed circles",
    "bands": "stacked bands",
    "dots": "scattered dots",
    "cells": "a grid of cells",
    "figure": "a single figure",
}
DENSITIES = ("sparse", "dense")
# Layout words, for the motifs that have one (others are uniform across the canvas).
LAYOUTS: dict[str, tuple[str, ...]] = {
    "flow": ("horizontal", "vertical"),
    "bands": ("horizontal", "vertical"),
    "rings": ("centred", "offset"),
    "figure": ("left", "centred", "right"),
}
FIGURES = ("circle", "square", "triangle")


@dataclass(frozen=True)
class Composition:
    motif: str
    palette: str
    density: str
    layout: str | None
    seed: int
    caption: str

    @property
    def traits(self) -> dict[str, str]:
        return {"motif": self.motif, "palette": self.palette, "density": self.density}


def caption(motif: str, palette: str, density: str, layout: str | None) -> str:
    """"flow lines, dense, horizontal, in ember colours": the motif, its density, its layout (where
    it has one) and the palette, each a word the model can learn from the picture alone."""
    where = f", {layout}" if layout else ""
    return f"{MOTIFS[motif]}, {density}{where}, in {palette} colours"


def vocabulary() -> list[str]:
    """Every word a caption can use (the model's tokenizer gives each one token)."""
    words = {"in", "colours"}
    for phrase in MOTIFS.values():
        words |= set(phrase.split())
    words |= set(PALETTES) | set(DENSITIES) | {w for options in LAYOUTS.values() for w in options}
    return sorted(words)


def composition(seed: int, *, motif: str | None = None, palette: str | None = None,
                density: str | None = None) -> Composition:
    """One composition from `seed` (any of its choices may be fixed, for contact sheets and judges)."""
    rng = random.Random(seed)
    motif = motif or rng.choice(sorted(MOTIFS))
    palette = palette or rng.choice(sorted(PALETTES))
    density = density or rng.choice(DENSITIES)
    layout = rng.choice(LAYOUTS[motif]) if motif in LAYOUTS else None
    return Composition(motif, palette, density, layout, seed, caption(motif, palette, density, layout))


def draw(c: Composition, treatment: str = "plain") -> np.ndarray:
    """The composition as (SIZE, SIZE, 3) uint8 RGB, drawn plain or with one of the artist styles'
    treatments (the same three as stylemint-tiny's, and the held-out crosshatch): the styles are
    trained on these, and the VAE on all of them, so that it can decode what the styles draw."""
    from PIL import Image, ImageDraw

    if treatment not in procedural.DRAWABLE:
        raise ValueError(f"unknown treatment {treatment!r}; one of {procedural.DRAWABLE}")
    scale = SIZE * SUPERSAMPLE
    ground, inks = PALETTES[c.palette]
    image = Image.new("RGB", (scale, scale), ground)
    pen = ImageDraw.Draw(image)
    rng = random.Random(c.seed * 7919 + 1)
    dense = c.density == "dense"
    {"flow": _flow, "truchet": _truchet, "rings": _rings, "packing": _packing, "bands": _bands,
     "dots": _dots, "cells": _cells, "figure": _figure}[c.motif](pen, rng, scale, inks, ground, dense, c.layout)
    if treatment != "plain":
        image = Image.fromarray(_treat(np.asarray(image), np.array(ground, dtype=np.float32), inks, treatment))
    return np.asarray(image.resize((SIZE, SIZE), Image.Resampling.BOX), dtype=np.uint8)


def _treat(canvas: np.ndarray, ground: np.ndarray, inks, treatment: str) -> np.ndarray:
    """A treatment applied to the supersampled plain drawing, through its ink mask (every pixel
    that is not ground): stipple keeps the ink on a grid of round dots; inkline outlines every ink
    region with the palette's darkest colour; haze blurs the inks and lights the ground in a
    vertical gradient; crosshatch keeps the ink on two crossing sets of diagonal lines."""
    from PIL import Image, ImageFilter

    big = canvas.shape[0]
    ink = (canvas != ground.astype(np.uint8)).any(axis=2)
    yy, xx = np.mgrid[0:big, 0:big]
    out = np.empty(canvas.shape, dtype=np.float32)
    out[:] = ground
    if treatment == "stipple":
        period = 4 * SUPERSAMPLE
        keep = ink & ((((xx % period) - period / 2) ** 2 + ((yy % period) - period / 2) ** 2) <= (0.36 * period) ** 2)
    elif treatment == "crosshatch":
        period = 5 * SUPERSAMPLE
        keep = ink & (((xx + yy) % period < 0.3 * period) | ((xx - yy) % period < 0.3 * period))
    elif treatment == "inkline":
        mask = Image.fromarray(ink.astype(np.uint8) * 255)
        grown = np.asarray(mask.filter(ImageFilter.GaussianBlur(SUPERSAMPLE))) > 8
        inside = np.asarray(mask.filter(ImageFilter.GaussianBlur(SUPERSAMPLE / 2))) > 247
        out[grown] = min(inks, key=sum)  # the darkest ink draws the contours
        keep = inside
    else:  # haze
        ramp = np.linspace(-1.0, 1.0, big, dtype=np.float32)[:, None, None]
        out += ramp * (24.0 if ground.sum() < 384 else -24.0)
        layer = Image.fromarray(canvas).filter(ImageFilter.GaussianBlur(2 * SUPERSAMPLE))
        alpha = np.asarray(Image.fromarray(ink.astype(np.uint8) * 255).filter(
            ImageFilter.GaussianBlur(2 * SUPERSAMPLE)), dtype=np.float32)[..., None] / 255.0
        out = out * (1.0 - alpha) + np.asarray(layer, dtype=np.float32) * alpha
        return np.clip(out, 0, 255).round().astype(np.uint8)
    out[keep] = canvas[keep]
    return np.clip(out, 0, 255).round().astype(np.uint8)


def dataset(seed: int, count: int, treatment: str = "plain", workers: int = 1) -> tuple[np.ndarray, list[Composition]]:
    """`count` images (N, SIZE, SIZE, 3) drawn with one treatment and their compositions,
    composition i from (seed, i) by the procedural scenes' rule. `workers` processes draw
    contiguous shares (drawing is Python and Pillow on one core: 2.5 ms an image plain, 25 ms with
    Haze's blur, on this machine; a GPU run would otherwise spend minutes waiting)."""
    items = [composition(seed * 1_000_003 + i) for i in range(count)]
    if workers <= 1 or count < 2 * workers:
        return np.stack([draw(c, treatment) for c in items]), items
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    share = -(-count // workers)
    # Spawned, not forked: the caller is usually a training process whose torch threads are running.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = pool.map(_draw_all, [items[i:i + share] for i in range(0, count, share)], [treatment] * workers)
        return np.concatenate(list(parts)), items


def _draw_all(items: list[Composition], treatment: str) -> np.ndarray:
    return np.stack([draw(c, treatment) for c in items])


# -- the motifs (each draws on the supersampled canvas `pen`, side `s`) ------------------------

def _flow(pen, rng, s, inks, ground, dense, layout):
    """Streamlines of a smooth angle field (a few sines with random phases) around a main direction."""
    base = 0.0 if layout == "horizontal" else math.pi / 2
    waves = [(rng.uniform(1, 3), rng.uniform(1, 3), rng.uniform(0, 2 * math.pi)) for _ in range(3)]
    # At least 3 px wide at 128 px: the 1-2 px lines of the first set fell between the 8 px cells
    # of the latent grid, and stylemint-gen drew them as scattered strokes.
    lines = rng.randint(15, 19) if dense else rng.randint(6, 8)
    width = max(2, s // (40 if dense else 26))
    for i in range(lines):
        t = (i + rng.uniform(0.2, 0.8)) / lines
        x, y = (0.0, t * s) if layout == "horizontal" else (t * s, 0.0)
        points = [(x, y)]
        for _ in range(160):
            angle = base + 0.6 * sum(math.sin(a * x / s * math.pi + b * y / s * math.pi + p) for a, b, p in waves) / 3
            x, y = x + math.cos(angle) * s / 120, y + math.sin(angle) * s / 120
            if not (-s * 0.05 <= x <= s * 1.05 and -s * 0.05 <= y <= s * 1.05):
                break
            points.append((x, y))
        pen.line(points, fill=inks[i % len(inks)], width=width, joint="curve")


def _truchet(pen, rng, s, inks, ground, dense, layout):
    """Quarter-circle Truchet tiles, each turned at random."""
    n = rng.choice((10, 12)) if dense else rng.choice((4, 5))
    cell = s / n
    width = max(2, int(cell / 5))
    for row in range(n):
        for col in range(n):
            x0, y0 = col * cell, row * cell
            ink = inks[(row + col) % len(inks)]
            corners = [(x0, y0), (x0 + cell, y0 + cell)] if rng.random() < 0.5 else [(x0 + cell, y0), (x0, y0 + cell)]
            starts = (0, 180) if corners[0] == (x0, y0) else (90, 270)
            for (cx, cy), start in zip(corners, starts):
                r = cell / 2
                pen.arc([cx - r, cy - r, cx + r, cy + r], start, start + 90, fill=ink, width=width)


def _rings(pen, rng, s, inks, ground, dense, layout):
    """Concentric rings around the centre or a point off it, alternating inks."""
    if layout == "centred":
        cx, cy = s * rng.uniform(0.47, 0.53), s * rng.uniform(0.47, 0.53)
    else:
        cx, cy = s * rng.choice((0.22, 0.78)), s * rng.choice((0.22, 0.78))
    count = rng.randint(14, 18) if dense else rng.randint(4, 6)
    step = s * 0.8 / count
    width = max(2, int(step * 0.45))
    for i in range(count, 0, -1):
        r = i * step
        pen.ellipse([cx - r, cy - r, cx + r, cy + r], outline=inks[i % len(inks)], width=width)


def _packing(pen, rng, s, inks, ground, dense, layout):
    """Circles placed largest first where they fit without touching (bounded attempts)."""
    target = rng.randint(60, 80) if dense else rng.randint(8, 12)
    largest = s * (0.12 if dense else 0.2)
    placed: list[tuple[float, float, float]] = []
    for attempt in range(4000):
        if len(placed) >= target:
            break
        r = largest * (1 - 0.7 * attempt / 4000) * rng.uniform(0.6, 1.0)
        x, y = rng.uniform(r, s - r), rng.uniform(r, s - r)
        if all(math.hypot(x - px, y - py) > r + pr + s * 0.01 for px, py, pr in placed):
            placed.append((x, y, r))
            pen.ellipse([x - r, y - r, x + r, y + r], fill=inks[len(placed) % len(inks)])


def _bands(pen, rng, s, inks, ground, dense, layout):
    """Stacked bands of varying thickness with ground between, across or down the canvas."""
    count = rng.randint(14, 18) if dense else rng.randint(4, 5)
    edges = sorted(rng.uniform(0, 1) for _ in range(count - 1))
    bounds = [0.0, *edges, 1.0]
    for i, (a, b) in enumerate(zip(bounds, bounds[1:])):
        gap = (b - a) * 0.18
        lo, hi = (a + gap) * s, (b - gap) * s
        if hi - lo < 2:
            continue
        box = [0, lo, s, hi] if layout == "horizontal" else [lo, 0, hi, s]
        pen.rectangle(box, fill=inks[i % len(inks)])


def _dots(pen, rng, s, inks, ground, dense, layout):
    """Dots scattered uniformly at random, small and many or larger and few."""
    count = rng.randint(220, 280) if dense else rng.randint(18, 26)
    r = s * (0.012 if dense else 0.03)
    for i in range(count):
        x, y = rng.uniform(r, s - r), rng.uniform(r, s - r)
        pen.ellipse([x - r, y - r, x + r, y + r], fill=inks[i % len(inks)])


def _cells(pen, rng, s, inks, ground, dense, layout):
    """A regular grid of filled cells with a gutter, each cell one ink (a third left as ground)."""
    n = rng.choice((8, 10)) if dense else rng.choice((3, 4))
    cell = s / n
    gutter = cell * 0.12
    for row in range(n):
        for col in range(n):
            if rng.random() < 0.3:
                continue
            x0, y0 = col * cell + gutter, row * cell + gutter
            pen.rectangle([x0, y0, x0 + cell - 2 * gutter, y0 + cell - 2 * gutter], fill=rng.choice(inks))


def _figure(pen, rng, s, inks, ground, dense, layout):
    """One figure (circle, square or triangle) at the left, centre or right; a dense one carries
    a concentric inner figure in a second ink, a sparse one is a single flat shape."""
    cx = s * {"left": 0.27, "centred": 0.5, "right": 0.73}[layout] + rng.uniform(-0.02, 0.02) * s
    cy = s * rng.uniform(0.45, 0.55)
    kind = rng.choice(FIGURES)
    outer = s * rng.uniform(0.18, 0.22)
    first, second = rng.sample(inks, 2)
    for r, ink in ((outer, first), *([(outer * 0.55, second)] if dense else [])):
        if kind == "circle":
            pen.ellipse([cx - r, cy - r, cx + r, cy + r], fill=ink)
        elif kind == "square":
            pen.rectangle([cx - r, cy - r, cx + r, cy + r], fill=ink)
        else:
            pen.polygon([(cx, cy - r), (cx + r * 0.95, cy + r * 0.8), (cx - r * 0.95, cy + r * 0.8)], fill=ink)
