"""Synthetic handwritten-looking digits, so the image lessons work with no network at all.

Each digit 0-9 is a few pen strokes (polylines and elliptic arcs) in a "glyph box"
about 0.7 wide and 1 tall, centred on the origin with y pointing down like image rows.
Every sample picks one of the digit's template variants (a 7 with or without a
crossbar, say), bends the strokes with a gentle sine wobble, applies a random affine
jitter (rotation, scale, aspect, slant, shift) and draws the strokes with a random pen
width and ink level, anti-aliased over one pixel; Gaussian pixel noise comes last.
The sizes copy MNIST's conventions: the glyph box maps to about 20 x 20 pixels
centred in a 28 x 28 image, ink is 1 and paper is 0.

All randomness is drawn up front with numpy, so the result depends only on the seed;
the pixel loop is a numba kernel that visits only the pixels near each stroke segment,
which makes 10,000 digits take a fraction of a second.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numba import njit

from playground.datasets.dataset import Dataset, DatasetError, shuffled_split

IMAGE_SIZE = 28
GLYPH_PIXELS = 20.0  # MNIST fits each digit in a 20 x 20 box centred in 28 x 28
DEFAULT_N_SAMPLES = 10_000  # 8,000 train / 2,000 validate
MIN_N_SAMPLES = 20
ARC_STEP_DEGREES = 15.0  # fine enough that a 20-pixel digit shows no corners


def _line(*points: tuple[float, float]) -> np.ndarray:
    return np.array(points, dtype=np.float64)


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float) -> np.ndarray:
    """Points along an ellipse; angles in degrees, clockwise from 3 o'clock (y points down).

    So 90 is the bottom, 180 the left and 270 the top; `end` may be below `start` to
    draw the other way round, or beyond 360 to go past 3 o'clock.
    """
    n_steps = max(2, math.ceil(abs(end - start) / ARC_STEP_DEGREES))
    angles = np.radians(np.linspace(start, end, n_steps + 1))
    return np.column_stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)])


def _stroke(*parts: np.ndarray) -> np.ndarray:
    """Join lines and arcs into one continuous pen stroke."""
    return np.concatenate(parts)


#: Template variants per digit; each variant is a list of strokes (polylines).
DIGIT_TEMPLATES: dict[int, list[list[np.ndarray]]] = {
    0: [
        [_arc(0.0, 0.0, 0.3, 0.48, 0, 360)],
        [_arc(0.0, 0.0, 0.22, 0.48, -80, 290)],  # narrow, slightly overlapping at the top
    ],
    1: [
        [_line((0.0, -0.5), (0.0, 0.5))],
        [_line((-0.17, -0.3), (0.0, -0.5), (0.0, 0.5))],
        [_line((-0.17, -0.3), (0.0, -0.5), (0.0, 0.5)), _line((-0.17, 0.5), (0.17, 0.5))],
    ],
    2: [
        [_stroke(_arc(0.0, -0.22, 0.28, 0.26, 190, 400), _line((-0.3, 0.5), (0.32, 0.5)))],
        [  # curly: the diagonal bows and the base starts with a small loop
            _stroke(
                _arc(0.0, -0.22, 0.27, 0.26, 185, 380),
                _arc(-0.45, -0.2, 0.7, 0.7, 0, 50),
                _arc(-0.15, 0.38, 0.1, 0.1, 90, -180),
                _line((0.32, 0.48)),
            )
        ],
    ],
    3: [
        [_stroke(_arc(0.0, -0.25, 0.25, 0.24, 200, 450), _arc(0.0, 0.24, 0.29, 0.26, 270, 520))],
        [_stroke(_line((-0.25, -0.5), (0.25, -0.5), (-0.05, -0.05)), _arc(0.0, 0.22, 0.28, 0.28, 250, 520))],
    ],
    4: [
        [_line((0.15, -0.5), (-0.3, 0.15), (0.32, 0.15)), _line((0.15, -0.5), (0.15, 0.5))],
        [_line((-0.2, -0.5), (-0.28, 0.12), (0.3, 0.12)), _line((0.15, -0.35), (0.15, 0.5))],
    ],
    5: [
        [_stroke(_line((0.25, -0.5), (-0.18, -0.5)), _arc(0.0, 0.2, 0.28, 0.3, 235, 510))],
        [  # three pen strokes: the stem, the belly, then the flag added last
            _line((-0.18, -0.5), (-0.22, -0.04)),
            _arc(0.0, 0.2, 0.28, 0.3, 235, 510),
            _line((-0.18, -0.5), (0.27, -0.5)),
        ],
    ],
    6: [
        [_stroke(_arc(0.25, 0.2, 0.52, 0.7, 250, 180), _arc(0.0, 0.22, 0.27, 0.27, 180, 540))],
        [_stroke(_line((0.12, -0.5), (-0.24, 0.1)), _arc(0.0, 0.24, 0.25, 0.25, 200, 560))],
    ],
    7: [
        [_line((-0.28, -0.5), (0.3, -0.5), (-0.05, 0.5))],
        [_line((-0.28, -0.5), (0.3, -0.5), (-0.05, 0.5)), _line((-0.05, 0.0), (0.3, 0.0))],
        [_line((-0.28, -0.38), (-0.28, -0.5), (0.3, -0.5), (0.02, 0.5))],
    ],
    8: [
        [_arc(0.0, -0.25, 0.22, 0.24, 0, 360), _arc(0.0, 0.23, 0.28, 0.27, 0, 360)],
        [  # one stroke: an S down, then back up the other way, crossing in the middle
            _stroke(
                _arc(0.0, -0.26, 0.22, 0.23, 0, -270),
                _arc(0.0, 0.23, 0.27, 0.26, 270, 630),
                _arc(0.0, -0.26, 0.22, 0.23, 90, 0),
            )
        ],
    ],
    9: [
        [_arc(0.0, -0.22, 0.26, 0.27, 0, 360), _line((0.26, -0.22), (0.2, 0.5))],
        [_stroke(_arc(0.0, -0.22, 0.26, 0.27, 0, 360), _arc(-0.25, -0.22, 0.51, 0.72, 0, 80))],
    ],
}


def _segment_table(
    templates: dict[int, list[list[np.ndarray]]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flatten the templates into arrays a numba kernel can walk.

    Returns `segments` (each row x0, y0, x1, y1 in glyph units), `variant_starts`
    (variant v owns rows variant_starts[v]:variant_starts[v + 1]) and `variant_digits`.
    """
    segments, starts, digits = [], [0], []
    for digit, variants in templates.items():
        for strokes in variants:
            for stroke in strokes:
                segments.extend(np.hstack([stroke[:-1], stroke[1:]]))
            starts.append(len(segments))
            digits.append(digit)
    return np.array(segments), np.array(starts, dtype=np.int64), np.array(digits, dtype=np.int64)


SEGMENTS, VARIANT_STARTS, VARIANT_DIGITS = _segment_table(DIGIT_TEMPLATES)


@njit(nogil=True, cache=True, no_cfunc_wrapper=True)
def _to_pixels(u, v, transform, wobble):
    """Map a glyph point to pixel coordinates (column, row) for one sample.

    The wobble displaces x by a sine of y and y by a sine of x, a smooth bend that
    moves neighbouring segment ends together, so strokes stay connected.
    transform = (a, b, c, d, tx, ty) with pixel = [[a, b], [c, d]] @ glyph + (tx, ty);
    wobble = (amplitude x, amplitude y, frequency x, frequency y, phase x, phase y).
    """
    bent_u = u + wobble[0] * math.sin(2.0 * math.pi * wobble[2] * v + wobble[4])
    bent_v = v + wobble[1] * math.sin(2.0 * math.pi * wobble[3] * u + wobble[5])
    column = transform[0] * bent_u + transform[1] * bent_v + transform[4]
    row = transform[2] * bent_u + transform[3] * bent_v + transform[5]
    return column, row


@njit(nogil=True, cache=True, no_cfunc_wrapper=True)
def _render(segments, variant_starts, variants, transforms, wobbles, half_widths, inks, images):
    """Draw sample i's variant into images[i] (zeros on entry) as anti-aliased thick strokes.

    For each pixel we keep the distance to the nearest stroke segment; ink falls from
    full to nothing over one pixel around the pen's edge at `half_widths[i]`. Each
    segment only visits the pixels of its bounding box grown by the pen width.
    """
    n_images, size = images.shape[0], images.shape[1]
    distance = np.empty((size, size))
    for i in range(n_images):
        distance[:] = np.inf
        reach = half_widths[i] + 1.0
        for s in range(variant_starts[variants[i]], variant_starts[variants[i] + 1]):
            x0, y0 = _to_pixels(segments[s, 0], segments[s, 1], transforms[i], wobbles[i])
            x1, y1 = _to_pixels(segments[s, 2], segments[s, 3], transforms[i], wobbles[i])
            dx, dy = x1 - x0, y1 - y0
            length_squared = max(dx * dx + dy * dy, 1e-12)
            first_row = max(0, int(math.floor(min(y0, y1) - reach)))
            last_row = min(size - 1, int(math.ceil(max(y0, y1) + reach)))
            first_column = max(0, int(math.floor(min(x0, x1) - reach)))
            last_column = min(size - 1, int(math.ceil(max(x0, x1) + reach)))
            for row in range(first_row, last_row + 1):
                for column in range(first_column, last_column + 1):
                    along = ((column - x0) * dx + (row - y0) * dy) / length_squared
                    along = min(1.0, max(0.0, along))
                    off_x = x0 + along * dx - column
                    off_y = y0 + along * dy - row
                    gap = math.sqrt(off_x * off_x + off_y * off_y)
                    if gap < distance[row, column]:
                        distance[row, column] = gap
        for row in range(size):
            for column in range(size):
                coverage = min(1.0, max(0.0, half_widths[i] + 0.5 - distance[row, column]))
                images[i, row, column] = inks[i] * coverage


def _random_transforms(rng: np.random.Generator, n: int) -> np.ndarray:
    """Per-sample affine maps from glyph units to pixels: rotate, slant, stretch, shift.

    Ranges follow what MNIST writers do: tilts of about 10 degrees, a slant that
    mostly leans forward (negative shear moves the top to the right), heights from
    15 to 20 pixels and off-centre by a pixel or so.
    """
    angle = np.radians(np.clip(rng.normal(0.0, 10.0, n), -25.0, 25.0))
    shear = rng.uniform(-0.45, 0.1, n)
    scale = GLYPH_PIXELS * rng.uniform(0.75, 1.0, n)
    aspect = rng.uniform(0.8, 1.25, n)
    shift = np.clip(rng.normal(0.0, 0.8, (n, 2)), -2.0, 2.0)
    cos, sin = np.cos(angle), np.sin(angle)
    # [[cos, -sin], [sin, cos]] @ [[1, shear], [0, 1]] @ [[aspect, 0], [0, 1]], times scale
    transforms = np.empty((n, 6))
    transforms[:, 0] = scale * cos * aspect
    transforms[:, 1] = scale * (cos * shear - sin)
    transforms[:, 2] = scale * sin * aspect
    transforms[:, 3] = scale * (sin * shear + cos)
    transforms[:, 4:] = (IMAGE_SIZE - 1) / 2 + shift
    return transforms


def _random_wobbles(rng: np.random.Generator, n: int) -> np.ndarray:
    """Per-sample smooth bends of up to 0.05 glyph units (one pixel) with about one wave per glyph."""
    return np.column_stack(
        [
            rng.uniform(0.0, 0.05, (n, 2)),
            rng.uniform(0.5, 1.5, (n, 2)),
            rng.uniform(0.0, 2 * np.pi, (n, 2)),
        ]
    )


def render_digits(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw one random 28 x 28 image per label, float32 in [0, 1], shape (n, 28, 28)."""
    n = len(labels)
    variants = np.empty(n, dtype=np.int64)
    for digit in range(10):
        is_digit = labels == digit
        variants[is_digit] = rng.choice(np.flatnonzero(VARIANT_DIGITS == digit), is_digit.sum())
    half_widths = rng.uniform(0.7, 1.6, n)
    inks = rng.uniform(0.8, 1.0, n)
    images = np.zeros((n, IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    _render(
        SEGMENTS,
        VARIANT_STARTS,
        variants,
        _random_transforms(rng, n),
        _random_wobbles(rng, n),
        half_widths,
        inks,
        images,
    )
    noise_levels = rng.uniform(0.0, 0.06, (n, 1, 1)).astype(np.float32)
    images += noise_levels * rng.standard_normal(images.shape, dtype=np.float32)
    return np.clip(images, 0.0, 1.0, out=images)


@functools.lru_cache(maxsize=2)
def _rendered(seed: int, n: int) -> np.ndarray:
    """The ``n`` images of ``seed``, (n, 1, 28, 28), read-only, kept for the next call: an experiment's
    runs each ask for the same set, and drawing it takes 0.5 s that holds the GIL, so runs side by side
    on threads would otherwise queue for it.  ``shuffled_split`` hands every caller copies."""
    images = render_digits(np.arange(n, dtype=np.int64) % 10, np.random.default_rng(seed))[:, None]
    images.flags.writeable = False
    return images


def make_digits(*, seed: int = 0, n_samples: int | None = None) -> Dataset:
    """The offline stand-in for MNIST: equal numbers of each digit, shuffled, split 80/20."""
    n = DEFAULT_N_SAMPLES if n_samples is None else n_samples
    if n < MIN_N_SAMPLES:
        raise DatasetError(f"n_samples must be at least {MIN_N_SAMPLES}, not {n}")
    labels = np.arange(n, dtype=np.int64) % 10
    x_train, y_train, x_val, y_val = shuffled_split(_rendered(seed, n), labels, seed)
    return Dataset(
        name="digits",
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        input_shape=(1, IMAGE_SIZE, IMAGE_SIZE),
        n_outputs=10,
        task="classification",
        source=f"digits: {n:,} synthetic 28x28 digits drawn from stroke templates (seed {seed}), "
        f"shuffled: {len(x_train):,} train, {len(x_val):,} validate",
        class_names=[str(digit) for digit in range(10)],
    )
