"""Judges of prompt adherence: does a rendered image show the colour, shape, count and style it was asked for?

Used by bench/model.py on renders of stylemint-tiny. Each judge is checked on held-out procedural
images, where the truth is known, and that accuracy is printed beside what it says about renders:
a judge that cannot read the training pictures says nothing about the model.
- colour: rule-based. The ground is the median of the image's outer ring; the figure is what
  differs from it; the dominant hue among its saturated pixels names the nearest colour word.
- count and position: connected regions of the figure mask (4-neighbour flood fill; scipy's
  `ndimage.label` would do it but scipy is not otherwise a dependency) and their centroid.
- shape and style: a small CNN each, trained here in about a minute on procedural images with
  blur, noise and colour jitter (renders are softer than drawings).
- stylemint-gen's compositions: the palette by a rule (which named palette's four colours explain
  the pixels best), motif and density by one CNN (its label "motif/density"), the styles by the
  style CNN trained on compositions; images larger than 64 px are judged box-downscaled to 64.
  The layout (for the four motifs that have one) by a rule per motif (layout_of).
"""

from __future__ import annotations

import colorsys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from backend.model import compositions, procedural

FIGURE_THRESHOLD = 60  # max channel difference from the ground that counts as figure
MIN_REGION = 24  # pixels; smaller specks are not a shape
HUES = {word: colorsys.rgb_to_hsv(*(c / 255 for c in rgb))[0] for word, rgb in procedural.COLOURS.items()}


def ground_colour(image: np.ndarray) -> np.ndarray:
    ring = np.concatenate([image[:2].reshape(-1, 3), image[-2:].reshape(-1, 3),
                           image[:, :2].reshape(-1, 3), image[:, -2:].reshape(-1, 3)])
    return np.median(ring, axis=0)


def ground_of(image: np.ndarray) -> str:
    """The ground word whose colour is nearest to the image's ground (the median of its outer ring)."""
    ground = ground_colour(image)
    return min(procedural.GROUNDS, key=lambda word: float(np.abs(ground - np.array(procedural.GROUNDS[word])).sum()))


def figure_mask(image: np.ndarray) -> np.ndarray:
    return np.abs(image.astype(np.int16) - ground_colour(image)).max(axis=2) > FIGURE_THRESHOLD


def colour_of(image: np.ndarray) -> str | None:
    """The colour word whose hue is nearest to the figure's dominant hue (None: no coloured figure)."""
    mask = figure_mask(image)
    pixels = image[mask].astype(np.float32) / 255.0
    if len(pixels) < MIN_REGION:
        return None
    hsv = np.array([colorsys.rgb_to_hsv(*p) for p in pixels])
    vivid = hsv[(hsv[:, 1] > 0.35) & (hsv[:, 2] > 0.25)]
    if len(vivid) < MIN_REGION // 2:
        return None
    words = list(HUES)
    centres = np.array([HUES[w] for w in words])
    distance = np.abs(vivid[:, :1] - centres[None, :])
    distance = np.minimum(distance, 1.0 - distance)  # hue is circular
    votes = np.bincount(distance.argmin(axis=1), minlength=len(words))
    return words[int(votes.argmax())]


def regions(mask: np.ndarray) -> list[np.ndarray]:
    """Connected 4-neighbour regions of at least MIN_REGION pixels, each as an array of (y, x)."""
    seen = np.zeros_like(mask, dtype=bool)
    height, width = mask.shape
    found = []
    for y0, x0 in zip(*np.nonzero(mask)):
        if seen[y0, x0]:
            continue
        seen[y0, x0] = True
        queue, points = deque([(y0, x0)]), []
        while queue:
            y, x = queue.popleft()
            points.append((y, x))
            for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                if 0 <= ny < height and 0 <= nx < width and mask[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    queue.append((ny, nx))
        if len(points) >= MIN_REGION:
            found.append(np.array(points))
    return found


def count_of(image: np.ndarray) -> int:
    """Separate figures, after closing one-pixel gaps (a stippled shape is one figure, not 80 dots)."""
    mask = figure_mask(image)
    grown = mask.copy()
    grown[1:] |= mask[:-1]
    grown[:-1] |= mask[1:]
    grown[:, 1:] |= mask[:, :-1]
    grown[:, :-1] |= mask[:, 1:]
    return len(regions(grown))


def position_of(image: np.ndarray) -> str | None:
    """Where the figure's centroid lies: centre, left, right, top or bottom (nearest anchor)."""
    mask = figure_mask(image)
    if mask.sum() < MIN_REGION:
        return None
    ys, xs = np.nonzero(mask)
    cy, cx = ys.mean() / image.shape[0], xs.mean() / image.shape[1]
    return min(procedural.POSITIONS, key=lambda p: (procedural.POSITIONS[p][0] - cx) ** 2 + (procedural.POSITIONS[p][1] - cy) ** 2)


# -- learned judges --------------------------------------------------------------------------


def _network(classes: int, texture: bool = False):
    """Four conv blocks over a 64 px image; `texture`: a 128 px image enters through a stride-2
    convolution that sees every pixel, so a 2 px contour or a 4 px dot screen is not averaged away
    as a box downscale would, at 2.4 times the 64 px judge's training time (a plain 128 px judge
    took 6.8 times and read held-out compositions no better, stop 54)."""
    import torch.nn as nn

    def block(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2))

    stem = [nn.Sequential(nn.Conv2d(3, 24, 4, stride=2, padding=1), nn.BatchNorm2d(24), nn.ReLU()), block(24, 24)] \
        if texture else [block(3, 24)]
    return nn.Sequential(*stem, block(24, 48), block(48, 64), block(64, 64),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, classes))


def _augment(images, generator):
    """Softer, noisier, shifted colours: what a 64-pixel diffusion render looks like next to a drawing."""
    import torch
    import torch.nn.functional as F

    x = images
    sigma = torch.rand(len(x), 1, 1, 1, generator=generator) * 1.2
    kernel = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16
    blurred = F.conv2d(F.pad(x, (2, 2, 0, 0), mode="replicate"), kernel.view(1, 1, 1, 5).repeat(3, 1, 1, 1), groups=3)
    blurred = F.conv2d(F.pad(blurred, (0, 0, 2, 2), mode="replicate"), kernel.view(1, 1, 5, 1).repeat(3, 1, 1, 1), groups=3)
    mix = (sigma / 1.2).clamp(0, 1)
    x = x * (1 - mix) + blurred * mix
    x = x + torch.randn(x.shape, generator=generator) * torch.rand(len(x), 1, 1, 1, generator=generator) * 0.08
    x = x * (1 + (torch.rand(len(x), 3, 1, 1, generator=generator) - 0.5) * 0.2)
    return x


JUDGED_SIZE = 64
# The side at which a texture judge (a style judge of compositions) reads an image. Judged
# box-downscaled to 64 px instead, three style judges read 0.904 of held-out compositions' styles
# as drawn and 0.772 through the decoder; one such judge read seed 11's 0.885 / 0.760, and the
# texture judge of the same seed and data 0.976 / 0.845 (stop 54).
TEXTURE_SIZE = 128


def _tensor(images: np.ndarray, size: int = JUDGED_SIZE):
    """(N, H, W, 3) uint8 as a float batch, box-downscaled to `size` where larger (a motif is read
    from its layout; a texture judge reads TEXTURE_SIZE)."""
    import torch

    side = images.shape[1]
    if side > size and side % size == 0:
        k = side // size
        images = images.reshape(len(images), size, k, size, k, 3).mean(axis=(2, 4))
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0


@dataclass
class Classifier:
    """A trained CNN judge and its accuracy on held-out procedural images."""

    labels: tuple[str, ...]
    network: object
    held_out_accuracy: float
    # On the held-out images as the model's decoder returns them (style_judge's `through_decoder`):
    # the most any render of a perfectly drawn style can score with this judge.
    held_out_accuracy_through_decoder: float | None = None
    judged_size: int = JUDGED_SIZE  # the side it reads images at (TEXTURE_SIZE for a texture judge)

    def predict(self, images: np.ndarray) -> list[str]:
        return [self.labels[i] for i in self.probabilities(images).argmax(axis=1).tolist()]

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """(N, len(labels)): the judge's softmax over its labels for each image."""
        import torch

        with torch.inference_mode():
            return torch.softmax(self.network(_tensor(images, self.judged_size)), dim=1).numpy()


@dataclass
class Ensemble:
    """Judges trained alike from different seeds, read together by their mean probabilities. On
    stylemint-gen's styled renders one judge's reading is unsteady: two style judges trained the
    same way from seeds 11 and 12 read the same Inkline renders as Inkline 0.90 and 0.62 of the
    time (stop 50). An ensemble's reading and its members' spread say how much of a figure is
    the picture and how much the judge. Its accuracies are measured on held-out images that none
    of its members trained or was checked on."""

    members: tuple[Classifier, ...]
    held_out_accuracy: float = 0.0
    held_out_accuracy_through_decoder: float | None = None

    @property
    def labels(self) -> tuple[str, ...]:
        return self.members[0].labels

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        return np.mean([member.probabilities(images) for member in self.members], axis=0)

    def predict(self, images: np.ndarray) -> list[str]:
        return [self.labels[i] for i in self.probabilities(images).argmax(axis=1).tolist()]


def train_classifier(images: np.ndarray, targets: list[str], labels: tuple[str, ...], held_out: tuple[np.ndarray, list[str]],
                     *, steps: int = 1200, seed: int = 0, texture: bool = False) -> Classifier:
    """`texture`: read images at TEXTURE_SIZE through _network's texture stem (for the styles)."""
    import torch

    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    network = _network(len(labels), texture)
    size = TEXTURE_SIZE if texture else JUDGED_SIZE
    x, y = _tensor(images, size), torch.tensor([labels.index(t) for t in targets])
    optimiser = torch.optim.AdamW(network.parameters(), lr=2e-3, weight_decay=1e-4)
    network.train()
    for step in range(steps):
        index = torch.randint(0, len(x), (64,), generator=generator)
        loss = torch.nn.functional.cross_entropy(network(_augment(x[index], generator)), y[index])
        loss.backward()
        optimiser.step()
        optimiser.zero_grad(set_to_none=True)
    network.eval()
    judge = Classifier(labels, network, 0.0, judged_size=size)
    predicted = judge.predict(held_out[0])
    judge.held_out_accuracy = float(np.mean([p == t for p, t in zip(predicted, held_out[1])]))
    return judge


def shape_judge(seed: int = 7, count: int = 6000, steps: int = 1200) -> Classifier:
    """Which of the four shapes a single-figure image shows (trained on one-shape scenes, all treatments)."""
    def data(base: int, n: int):
        images, scenes = [], []
        for index, treatment in enumerate(procedural.TREATMENTS):
            part, found = procedural.dataset(base + index, n // len(procedural.TREATMENTS), treatment, single_only=True)
            images.append(part)
            scenes += found
        return np.concatenate(images), [s.shapes[0].kind for s in scenes]

    images, targets = data(seed * 100, count)
    return train_classifier(images, targets, procedural.SHAPES, data(seed * 100 + 50, 800), steps=steps, seed=seed)


def style_judge(seed: int = 11, count: int = 6000, steps: int = 1200, subjects: str = "scenes",
                plain_renders: np.ndarray | None = None,
                through_decoder: Callable[[np.ndarray], np.ndarray] | None = None) -> Classifier:
    """Which rendering treatment an image shows: plain (the base model), one of the three styles, or
    the held-out cross-hatching (the bench's stand-in for an artist's own style); `subjects`
    "compositions" for stylemint-gen's pictures.

    `plain_renders`: the base model's own renders (no trigger), added to the plain class. A judge
    that has seen only drawings reads a diffusion render's blur and edges as whichever style they
    resemble (stylemint-gen at stop 47: "inkline" in 0.34 of renders that were the base's bytes);
    shown what the base draws, it tells the styles from the model's own look. The bench takes them
    from seeds it does not measure.

    `through_decoder`: the model's VAE round trip (train.through_decoder). Every drawing is learnt
    twice, as drawn and as the decoder returns it. A judge that has seen the base's renders but
    only crisp drawings of the styles reads any decoder softness as "plain": on stylemint-gen
    (stop 49) it read 0.67 of Inkline drawings and 0.80 of Haze ones as their style once they had
    passed through the decoder alone, so no render could have scored more. Shown both, it learns
    that the decoder's look belongs to no class; its `held_out_accuracy_through_decoder` is the
    ceiling for renders."""
    images, targets = _treatments(subjects, seed * 100, count)
    held_images, held_targets = _treatments(subjects, seed * 100 + 50, 800)
    if through_decoder is not None:
        images, targets = np.concatenate([images, through_decoder(images)]), targets * 2
        decoded_held = through_decoder(held_images)
    if plain_renders is not None and len(plain_renders):
        images = np.concatenate([images, plain_renders])
        targets += ["plain"] * len(plain_renders)
    judge = train_classifier(images, targets, procedural.DRAWABLE, (held_images, held_targets), steps=steps, seed=seed,
                             texture=subjects == "compositions")
    if through_decoder is not None:
        judge.held_out_accuracy_through_decoder = float(np.mean([p == t for p, t in zip(judge.predict(decoded_held), held_targets)]))
    return judge


def _treatments(subjects: str, base: int, n: int) -> tuple[np.ndarray, list[str]]:
    """`n` drawings, an equal share in each treatment, and their treatments; drawing set `base`."""
    drawn = compositions.dataset if subjects == "compositions" else procedural.dataset
    images, targets = [], []
    for index, treatment in enumerate(procedural.DRAWABLE):
        part, _ = drawn(base + index, n // len(procedural.DRAWABLE), treatment)
        images.append(part)
        targets += [treatment] * len(part)
    return np.concatenate(images), targets


# The ensemble's own held-out drawings: a drawing set no style_judge seed below 1,000 trains or checks on.
ENSEMBLE_HELD_OUT = 100_050


def style_judges(seeds: tuple[int, ...] = (11, 12, 13), count: int = 6000, steps: int = 1200, subjects: str = "scenes",
                 plain_renders: np.ndarray | None = None,
                 through_decoder: Callable[[np.ndarray], np.ndarray] | None = None,
                 report: Callable[[str], None] = lambda line: None) -> Ensemble:
    """style_judge trained once per seed (each on its own drawings, the same plain renders), as an
    Ensemble with its accuracies on ENSEMBLE_HELD_OUT (as drawn, and through the decoder if given)."""
    if len(set(seeds)) != len(seeds) or not seeds or max(seeds) >= 1000:
        raise ValueError(f"an ensemble needs distinct seeds below 1,000, not {seeds}")
    members = []
    for seed in seeds:
        report(f"style judge {len(members) + 1} of {len(seeds)} (seed {seed}) ...")
        members.append(style_judge(seed, count, steps, subjects, plain_renders, through_decoder))
    ensemble = Ensemble(tuple(members))
    held_images, held_targets = _treatments(subjects, ENSEMBLE_HELD_OUT, 800)
    ensemble.held_out_accuracy = float(np.mean([p == t for p, t in zip(ensemble.predict(held_images), held_targets)]))
    if through_decoder is not None:
        decoded = through_decoder(held_images)
        ensemble.held_out_accuracy_through_decoder = float(np.mean(
            [p == t for p, t in zip(ensemble.predict(decoded), held_targets)]))
    return ensemble


# -- stylemint-gen's compositions ------------------------------------------------------------

PALETTE_MISS = 60.0  # a pixel further than this from every colour of a palette counts as this far
BRIGHTNESS_WEIGHT = 0.25  # of a pixel's brightness difference, against its full colour difference


def palette_of(image: np.ndarray) -> str:
    """The named palette whose ground and three inks explain the image best: the least mean distance
    from each pixel to the palette's nearest colour, capped at PALETTE_MISS (a blended edge or a
    highlight is one miss, not a verdict). The distance counts a difference in hue and saturation in
    full and one in brightness at a quarter, so Haze's shaded ground still reads as its palette
    (held-out Haze compositions: 0.975 against 0.905 with plain RGB distance; others 1.0)."""
    costs = palette_costs(image)
    return min(costs, key=costs.__getitem__)


def palette_costs(image: np.ndarray) -> dict[str, float]:
    """Each named palette's cost for `palette_of` (lower: its colours explain the image better)."""
    pixels = image.reshape(-1, 3).astype(np.float32)
    costs = {}
    for name, (ground, inks) in compositions.PALETTES.items():
        difference = pixels[:, None, :] - np.array([ground, *inks], dtype=np.float32)[None, :, :]
        brightness = difference.mean(axis=2, keepdims=True)
        distance = np.abs(difference - brightness).sum(axis=2) + BRIGHTNESS_WEIGHT * 3 * np.abs(brightness[..., 0])
        costs[name] = float(np.minimum(distance.min(axis=1), PALETTE_MISS).mean())
    return costs


def palette_rank(image: np.ndarray, palette: str) -> int:
    """Where `palette` stands among the eight by `palette_costs` (1: the judge's reading; 4.5 on
    average by chance): how far a render's colours lean to the palette its prompt named."""
    costs = palette_costs(image)
    return 1 + sum(cost < costs[palette] for cost in costs.values())


BLANK_DISTANCE = 30  # summed RGB difference from the ground above which a pixel is drawn on
BLANK_SHARE = 0.02  # a render with fewer drawn pixels than this shows nothing worth collecting


def is_blank(image: np.ndarray, palette: str) -> bool:
    """Whether a render shows almost nothing on its palette's ground: a dud in a drop, whatever a
    style judge reads in its faint texture (Stipple's flow lines, which the base draws as
    scattered strokes and the dots thin to nothing, stop 52).
    The ground is the palette's, not the image's most common colour, so a picture that fills the
    canvas with ink is never blank."""
    ground = np.array(compositions.PALETTES[palette][0], dtype=np.int32)
    drawn = np.abs(image.astype(np.int32) - ground).sum(axis=2) > BLANK_DISTANCE
    return bool(drawn.mean() < BLANK_SHARE)


# Where each layout puts a single figure's centre (x, as a share of the width), and how far from
# the middle a ring centre may lie and still be "centred" (drawings: centred under 0.1, offset over
# 0.25 of the side).
FIGURE_AT = {"left": 0.27, "centred": 0.5, "right": 0.73}
RINGS_CENTRED_WITHIN = 0.17


def layout_of(image: np.ndarray, motif: str) -> str | None:
    """The layout word a composition's pixels show, for the motifs that have one (None for the others):
    - flow lines and stacked bands: horizontal when colour changes more down the picture than across it;
    - a single figure: the anchor nearest to the centroid of its figure mask (what differs from the
      border's colour: Haze shades the palette's own ground, so that ground would not do);
    - concentric rings: centred when their common centre (ring_centre) lies near the middle.
    A rule, so it needs no training; bench/model.py prints its accuracy on held-out drawings."""
    if motif not in compositions.LAYOUTS:
        return None
    pixels = image.astype(np.float64)
    if motif in ("flow", "bands"):
        down, across = np.abs(np.diff(pixels, axis=0)).sum(), np.abs(np.diff(pixels, axis=1)).sum()
        return "horizontal" if down > across else "vertical"
    if motif == "figure":
        drawn = figure_mask(image)
        if not drawn.any():
            return None
        x = np.nonzero(drawn)[1].mean() / image.shape[1]
        return min(FIGURE_AT, key=lambda word: abs(FIGURE_AT[word] - x))
    centre = ring_centre(image)
    off = float(np.hypot(*(centre / np.array([image.shape[1], image.shape[0]]) - 0.5)))
    return "centred" if off < RINGS_CENTRED_WITHIN else "offset"


def ring_centre(image: np.ndarray) -> np.ndarray:
    """(x, y) of the point every ring edge curves around: least squares over the strongest tenth of
    the edge pixels, each saying the centre lies on the line through it along its gradient. The
    image is box-blurred 5 pixels each way first, so that dots and hatching read as the rings they
    draw (held-out rings, centred or offset, read right 1.0 for every treatment; 0.43 for
    stippled ones without the blur and with a fixed edge threshold)."""
    grey = image.astype(np.float64).mean(axis=2)
    for axis in (0, 1):
        grey = sum(np.roll(grey, shift, axis=axis) for shift in range(-2, 3)) / 5
    grey = grey[3:-3, 3:-3]  # the blur wraps around the border
    gy, gx = np.gradient(grey)
    strength = np.hypot(gx, gy)
    ys, xs = np.nonzero(strength > max(float(np.quantile(strength, 0.9)), 1e-6))
    normals = np.stack([gx[ys, xs], gy[ys, xs]], axis=1) / strength[ys, xs, None]
    tangents = np.stack([-normals[:, 1], normals[:, 0]], axis=1)
    points = np.stack([xs, ys], axis=1).astype(np.float64) + 3
    outer = np.einsum("ni,nj->ij", tangents, tangents)
    return np.linalg.lstsq(outer, np.einsum("ni,nj,nj->i", tangents, tangents, points), rcond=None)[0]


def motif_density(label: str) -> tuple[str, str]:
    """The composition judge's label "flow/dense" as (motif, density)."""
    motif, density = label.split("/")
    return motif, density


def composition_judge(seed: int = 13, count: int = 6000, steps: int = 1200) -> Classifier:
    """Which motif family and density a composition shows, as one label "motif/density": trained on
    compositions drawn with every treatment (a styled render must still be read for its motif),
    from seeds the model's training set did not use, and checked on others."""
    labels = tuple(f"{m}/{d}" for m in sorted(compositions.MOTIFS) for d in compositions.DENSITIES)

    def data(base: int, n: int):
        images, targets = [], []
        for index, treatment in enumerate(procedural.DRAWABLE):
            part, items = compositions.dataset(base + index, n // len(procedural.DRAWABLE), treatment)
            images.append(part)
            targets += [f"{c.motif}/{c.density}" for c in items]
        return np.concatenate(images), targets

    images, targets = data(seed * 100, count)
    return train_classifier(images, targets, labels, data(seed * 100 + 50, 800), steps=steps, seed=seed)
