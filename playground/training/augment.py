"""Data augmentation: fabricate new training images from the ones we have.

A digit shifted by two pixels, turned by ten degrees, drawn a little larger or with a
shakier hand is still the same digit.  Training on such variants, freshly drawn every
epoch, teaches the network that these changes do not matter, and it can no longer
memorise the exact pixels of each training image: the gap between training and
validation accuracy narrows.  Simard, Steinkraus and Platt (2003) showed that elastic
distortions help most on MNIST.

Each transformation has its own strength and its own seed (``AugmentationSettings``, the
``augmentation`` entry of a network file's ``training`` section), so a learner can switch
one on, change it, and compare runs that differ in that alone.  Augmentation applies to
training examples only: validation and test images are never changed.

All transformations but the noise are combined into one resampling per image: each output
pixel p reads the input at

    q = c + R(−θ)·(p − c − t) / s + d(p)

with c the image centre, t the shift, θ the rotation, s the scale and d the elastic
displacement field, interpolated bilinearly (zero outside the image).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..engine.numeric import FAST_MATH
from ..model.settings import AugmentationSettings


# --- kernels -------------------------------------------------------------------------------
@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def warp_images(images, out, matrices, fields, use_fields):
    """Resample every image: out[n, :, y, x] = images[n, :, q] at the source point
    q = A_n·(x, y, 1) (+ (fields[y, x, 2n], fields[y, x, 2n + 1]) if ``use_fields``), bilinear,
    zero outside."""
    count, channels, height, width = images.shape
    for n in range(count):
        a, b, tx = matrices[n, 0], matrices[n, 1], matrices[n, 2]
        c, d, ty = matrices[n, 3], matrices[n, 4], matrices[n, 5]
        for y in range(height):
            for x in range(width):
                sx = a * x + b * y + tx
                sy = c * x + d * y + ty
                if use_fields:
                    sx += fields[y, x, 2 * n]
                    sy += fields[y, x, 2 * n + 1]
                if not (-1.0 < sx < width and -1.0 < sy < height):
                    for ch in range(channels):
                        out[n, ch, y, x] = 0.0
                    continue
                fx0 = np.floor(sx)
                fy0 = np.floor(sy)
                ix, iy = int(fx0), int(fy0)
                fx, fy = np.float32(sx - fx0), np.float32(sy - fy0)
                w00, w01 = (1 - fx) * (1 - fy), fx * (1 - fy)
                w10, w11 = (1 - fx) * fy, fx * fy
                if 0 <= ix and ix + 1 < width and 0 <= iy and iy + 1 < height:
                    for ch in range(channels):
                        out[n, ch, y, x] = (
                            w00 * images[n, ch, iy, ix]
                            + w01 * images[n, ch, iy, ix + 1]
                            + w10 * images[n, ch, iy + 1, ix]
                            + w11 * images[n, ch, iy + 1, ix + 1]
                        )
                    continue
                for ch in range(channels):  # at the border: the pixels outside count as 0
                    total = np.float32(0.0)
                    if 0 <= iy:
                        if 0 <= ix:
                            total += w00 * images[n, ch, iy, ix]
                        if ix + 1 < width:
                            total += w01 * images[n, ch, iy, ix + 1]
                    if iy + 1 < height:
                        if 0 <= ix:
                            total += w10 * images[n, ch, iy + 1, ix]
                        if ix + 1 < width:
                            total += w11 * images[n, ch, iy + 1, ix + 1]
                    out[n, ch, y, x] = total


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def _blur_along(source, target, weights, axis):
    """target = ``source`` (H, W, planes) blurred along ``axis`` (0: down the columns, 1: along
    the rows) with the kernel ``weights`` of odd length, centred; zero outside the image."""
    radius = (weights.size - 1) // 2
    height, width, planes = source.shape
    step_y, step_x = (1, 0) if axis == 0 else (0, 1)
    length = height if axis == 0 else width
    for y in range(height):
        for x in range(width):
            for p in range(planes):
                target[y, x, p] = 0.0
            at = y if axis == 0 else x
            for k in range(max(-radius, -at), min(radius, length - 1 - at) + 1):
                w = weights[k + radius]
                for p in range(planes):
                    target[y, x, p] += w * source[y + k * step_y, x + k * step_x, p]


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def smooth_fields(fields, weights, scratch):
    """Blur the (H, W) planes of ``fields`` (H, W, planes) in place with the separable kernel
    ``weights`` (zero outside the image): along rows into ``scratch``, then along columns back.

    The planes are the innermost axis so every loop runs over all of them at once and
    vectorises; one plane at a time (rows of 28) took 148 ms for 8,000 images' fields.
    """
    _blur_along(fields, scratch, weights, 1)
    _blur_along(scratch, fields, weights, 0)


def gaussian_weights(sigma: float) -> np.ndarray:
    radius = max(1, int(math.ceil(3 * sigma)))
    k = np.arange(-radius, radius + 1, dtype=np.float64)
    weights = np.exp(-0.5 * (k / sigma) ** 2)
    return (weights / weights.sum()).astype(np.float32)


#: images whose elastic fields are drawn and smoothed together (their fields fit in the cache)
ELASTIC_CHUNK = 64


# --- the augmenter -------------------------------------------------------------------------
class Augmenter:
    """Draws fresh transformations on every call, each from its own seeded stream, so the
    sequence of augmented epochs is the same on every run with the same seeds."""

    def __init__(self, parameters: AugmentationSettings, image_shape: tuple[int, ...]):
        self.parameters = parameters
        if len(image_shape) == 2:
            image_shape = (1,) + tuple(image_shape)
        if len(image_shape) != 3:
            raise ValueError(
                f"augmentation needs images [channels, height, width], not examples of shape {list(image_shape)}"
            )
        self.image_shape = tuple(int(v) for v in image_shape)
        p = self.parameters
        self.streams = {
            name: np.random.default_rng(seed)
            for name, seed in (
                ("shift", p.shift_seed),
                ("rotation", p.rotation_seed),
                ("scale", p.scale_seed),
                ("elastic", p.elastic_seed),
                ("noise", p.noise_seed),
            )
        }
        self._weights = gaussian_weights(p.elastic_sigma) if p.elastic else None
        self._buffers: dict[str, np.ndarray] = {}

    def _matrices(self, count: int) -> np.ndarray:
        """Per image, the map from output pixel to source point, as rows [a, b, tx, c, d, ty]."""
        p = self.parameters
        shifts = self.streams["shift"].integers(-p.shift, p.shift + 1, (count, 2)) if p.shift else np.zeros((count, 2))
        angles = (
            np.radians(self.streams["rotation"].uniform(-p.rotation, p.rotation, count))
            if p.rotation
            else np.zeros(count)
        )
        scales = self.streams["scale"].uniform(1 - p.scale, 1 + p.scale, count) if p.scale else np.ones(count)
        _, height, width = self.image_shape
        cy, cx = (height - 1) / 2, (width - 1) / 2
        cos, sin = np.cos(angles) / scales, np.sin(angles) / scales
        # q = c + R(−θ)/s · (p − c − t):  R(−θ) = [[cos, sin], [−sin, cos]]
        px, py = cx + shifts[:, 0], cy + shifts[:, 1]
        matrices = np.empty((count, 6), np.float64)
        matrices[:, 0], matrices[:, 1] = cos, sin
        matrices[:, 2] = cx - cos * px - sin * py
        matrices[:, 3], matrices[:, 4] = -sin, cos
        matrices[:, 5] = cy + sin * px - cos * py
        return matrices

    def _buffer(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Scratch arrays kept between calls: a fresh 25 MB array every epoch costs page faults."""
        buffer = self._buffers.get(name)
        if buffer is None or buffer.shape != shape:
            buffer = self._buffers[name] = np.empty(shape, np.float32)
        return buffer

    def apply(self, images: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Augmented copies of ``images`` (N, C, H, W) or flat (N, C·H·W), in the same shape;
        written into ``out`` when given (e.g. a buffer reused every epoch), else a new float32 array."""
        count = images.shape[0]
        full_shape = (count,) + self.image_shape
        x = np.ascontiguousarray(images, dtype=np.float32).reshape(full_shape)
        if out is None:
            out = np.empty(images.shape, np.float32)
        direct = out.dtype == np.float32 and out.flags.c_contiguous
        target = out.reshape(full_shape) if direct else self._buffer("result", full_shape)
        p = self.parameters
        if p.shift or p.rotation or p.scale or p.elastic:
            matrices = self._matrices(count)
            if not p.elastic:
                warp_images(x, target, matrices, np.zeros((1, 1, 1), np.float32), False)
            for start in range(0, count if p.elastic else 0, ELASTIC_CHUNK):
                # fields for a chunk of images at a time, so they stay in the cache
                stop = min(count, start + ELASTIC_CHUNK)
                fields = self._buffer("fields", self.image_shape[1:] + (2 * (stop - start),))
                scratch = self._buffer("scratch", fields.shape)
                self.streams["elastic"].random(out=fields, dtype=np.float32)
                fields *= np.float32(2 * p.elastic)
                fields -= np.float32(p.elastic)  # α · uniform in [−1, 1), then smoothed
                smooth_fields(fields, self._weights, scratch)
                warp_images(x[start:stop], target[start:stop], matrices[start:stop], fields, True)
        else:
            target[...] = x
        if p.noise:
            noise = self._buffer("noise", full_shape)
            self.streams["noise"].standard_normal(out=noise, dtype=np.float32)
            noise *= np.float32(p.noise)
            target += noise
        if not direct:
            out[...] = target.reshape(out.shape)
        return out


def augmentation_grid(
    images: np.ndarray,
    parameters: AugmentationSettings,
    variants: int = 7,
    gap: int = 1,
    image_shape: tuple[int, ...] | None = None,
) -> np.ndarray:
    """A preview mosaic: one row per image of ``images``, the original first and then
    ``variants`` augmented versions, separated by ``gap`` pixels of NaN (drawn as background).

    Returns (rows·(H+gap) − gap, (variants+1)·(W+gap) − gap) for one channel, or with a
    leading channel axis for several.
    """
    images = np.asarray(images, dtype=np.float32)
    shape = tuple(image_shape or images.shape[1:])
    augmenter = Augmenter(parameters, shape)
    channels, height, width = augmenter.image_shape
    originals = images.reshape((len(images),) + augmenter.image_shape)
    rows, columns = len(originals), variants + 1
    grid = np.full((channels, rows * (height + gap) - gap, columns * (width + gap) - gap), np.nan, np.float32)
    repeated = np.repeat(originals, variants, axis=0)
    augmented = augmenter.apply(repeated).reshape((rows, variants) + augmenter.image_shape)
    for r in range(rows):
        for c in range(columns):
            tile = originals[r] if c == 0 else augmented[r, c - 1]
            grid[:, r * (height + gap) : r * (height + gap) + height, c * (width + gap) : c * (width + gap) + width] = (
                tile
            )
    return grid[0] if channels == 1 else grid
