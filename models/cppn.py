"""The embedded generator: a class-conditioned compositional pattern-producing network.

A CPPN paints each pixel with a small neural network of that pixel's coordinates.
This one takes BigGAN's call, ``gen(z, y, truncation)``, so the engine drives it
exactly like a GAN, yet it needs no download and runs in real time on one CPU core.

How it works
------------
*Coordinates, once.* At construction every pixel gets a vector of fixed coordinate
features: (cos, sin) pairs of Fourier features in eight *banks* -- plain Cartesian
waves, kaleidoscopes (the plane folded into 3, 4, 5, 6 or 8 mirrored wedges),
spirals and rings -- plus a constant 1. They are stored channels-first, tile by
tile, shape ``(tiles, F + 1, T)`` with ``F = 104``.

*Class and latent, per frame, as small vectors.* The class vector ``y`` gives a
class code ``e = y @ E`` (``E`` is a seeded ``(1000, D)`` table, so mixes
interpolate). A fixed random linear *hypernetwork* turns the code into the weights
of every layer, so each class is its own CPPN, with its own symmetry (a softmax
gate over the banks), spatial scale, shading depth and cosine palette
``a + b cos(2 pi (c t + d))``. The latent ``z`` varies that look: it shifts the
phase of every Fourier pair (the waves flow: kaleidoscopes turn, rings expand,
stripes drift), adds a small bounded code to the class code (the shapes morph)
and turns the palette's hue a little. That is about 0.4 M multiply-adds per frame.

*Pixels, per frame.* Per tile of ``T`` pixels, into preallocated buffers:
``h1 = sin(W1 @ features)``, ``h2 = sin(W2 @ [h1; 1])``, ``h3 = act(W3 @ [h2; 1])``
(half sine, half tanh units), then two fields ``[t; u] = W4 @ [h3; 1]``. The
fields are standardised over the image, ``t`` indexes the palette and ``tanh(u)``
shades it. About 5,500 multiply-adds and 100 sin/tanh/cos per pixel.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import torch

from ganterp.models.base import CancelCheck, check_cancel
from ganterp.models.classes import NUM_CLASSES, load_class_names
from ganterp.models.errors import GeneratorError

Z_DIM = 128
"""Length of a latent vector, as BigGAN's."""

MIN_RESOLUTION = 32
"""Smallest image side, in pixels."""

MAX_RESOLUTION = 1024
"""Largest image side, in pixels."""

_TWO_PI = 2.0 * math.pi

# Tuned by eye on contact sheets (tools/cppn_contact_sheet.py). Gains are the
# standard deviations of the pre-activations, in radians for sine units.
_FIRST_GAIN = 1.2  # first layer: how many folds of the coordinate waves
_HIDDEN_GAIN = 1.0  # hidden layers: how much they fold again
_HIDDEN_BIAS = 0.55  # spread of the hidden biases, relative to the gain
_FIRST_BIAS = 0.6  # spread of the first layer's bias, radians
_SCALE_SPREAD = 0.35  # per-class log-scale of the first layer, +- this
_GATE_SHARPNESS = 2.5  # larger: each class uses fewer coordinate banks
_ACTIVE_FEATURES = 14.0  # features in a typical dominant bank, to normalise the gain
_Z_PHASE_GAIN = 3.0  # radians of wave phase per unit of a z projection
_Z_CODE_GAIN = 0.35  # largest latent offset of the class code (code entries ~ 1)
_Z_CODE_SLOPE = 1.5  # slope of the tanh that bounds the latent offset
_Z_HUE_GAIN = 0.1  # palette turns per unit of a z projection
_EPS_CODE = 1e-3  # softening of the class-code normalisation
_EPS_FIELD = 1e-4  # softening of the field standardisation


@dataclass(frozen=True)
class _Bank:
    """One family of coordinate features.

    Attributes
    ----------
    kind : str
        ``"cartesian"``, ``"kaleido"``, ``"spiral"`` or ``"rings"``.
    pairs : int
        Number of (cos, sin) feature pairs.
    fold : int
        Number of mirrored wedges for ``"kaleido"``; 0 otherwise.
    """

    kind: str
    pairs: int
    fold: int = 0


_BANKS: tuple[_Bank, ...] = (
    _Bank("cartesian", 8),
    _Bank("kaleido", 6, 3),
    _Bank("kaleido", 6, 4),
    _Bank("kaleido", 6, 5),
    _Bank("kaleido", 6, 6),
    _Bank("kaleido", 6, 8),
    _Bank("spiral", 8),
    _Bank("rings", 6),
)


@dataclass(frozen=True)
class _Frame:
    """The weights of one frame, derived from one (z, y, truncation).

    Attributes
    ----------
    first : torch.Tensor, shape (width, F + 1)
        First layer; the last column multiplies the constant feature (the bias).
    hidden : tuple of torch.Tensor, each shape (width, width + 1)
        Hidden layers; the last column is the bias.
    out : torch.Tensor, shape (2, width + 1)
        Output layer giving the palette field ``t`` and the shading field ``u``.
    palette : torch.Tensor, shape (4, 3, 1)
        ``a``, ``b``, ``2 pi c`` and ``2 pi d`` of the cosine palette, per channel.
    shade : tuple of float
        ``(base, depth)``: the shading factor is ``base + depth * tanh(u)``.
    """

    first: torch.Tensor
    hidden: tuple[torch.Tensor, torch.Tensor]
    out: torch.Tensor
    palette: torch.Tensor
    shade: tuple[float, float]


class CppnGenerator:
    """A class-conditioned CPPN with BigGAN's call, fast on a CPU.

    Parameters
    ----------
    resolution : int, optional
        Side of the square images, in pixels, 32 to 1024. Default 256.
    seed : int, optional
        Seed of every weight and coordinate frequency (a private
        ``torch.Generator``; the global RNG is never touched). Default 0.
    threads : int or None, optional
        If given, calls ``torch.set_num_threads(threads)`` (a process-wide
        setting) so the generator uses that many CPU threads. Default None
        leaves the setting alone.
    width : int, optional
        Hidden units per layer, 4 to 128. Default 32.
    embed_dim : int, optional
        Length ``D`` of a class code, 4 to 512. Default 64.
    tile : int, optional
        Pixels processed at once, for cache locality, 256 or more. Default 4096.

    Attributes
    ----------
    name : str
        ``"cppn"``.
    z_dim : int
        128.
    num_classes : int
        1000.
    resolution : int
        Side of the images, in pixels.
    class_names : tuple of str
        The 1000 ImageNet class names (full lines, all synonyms).
    device : torch.device
        ``cpu``.
    dtype : torch.dtype
        ``torch.float32``.
    status : str
        ``"cppn"``.
    warnings : list of str
        Always empty: the CPPN runs as asked everywhere.

    Notes
    -----
    The same seed and inputs give bit-identical output, and a batch gives the
    same images as one call per item. The picture does not depend on the
    resolution beyond its sampling.

    Each call returns a new tensor; the internal scratch buffers are reused, so
    concurrent calls are serialised by a lock.

    The coordinate features take ``4 * 105 * resolution**2`` bytes: 28 MB at
    256 px, 110 MB at 512 px, 440 MB at 1024 px.

    On a 2-core Xeon (AVX-512) with one thread a 256 px frame takes about
    11 ms, a 512 px frame about 44 ms.
    """

    name: str = "cppn"
    z_dim: int = Z_DIM
    num_classes: int = NUM_CLASSES

    @property
    def status(self) -> str:
        """The generator's name: the CPPN has one engine and one precision."""
        return self.name

    def __init__(
        self,
        resolution: int = 256,
        seed: int = 0,
        threads: int | None = None,
        width: int = 32,
        embed_dim: int = 64,
        tile: int = 4096,
    ) -> None:
        _check_int("resolution", resolution, MIN_RESOLUTION, MAX_RESOLUTION)
        _check_int("seed", seed, 0, 2**63 - 1)
        _check_int("width", width, 4, 128)
        _check_int("embed_dim", embed_dim, 4, 512)
        _check_int("tile", tile, 256, 2**24)
        if threads is not None:
            _check_int("threads", threads, 1, 1024)
            torch.set_num_threads(threads)

        self.resolution: int = resolution
        self.class_names: tuple[str, ...] = load_class_names()
        self.device: torch.device = torch.device("cpu")
        self.dtype: torch.dtype = torch.float32
        self.seed: int = seed
        self.width: int = width
        self.embed_dim: int = embed_dim
        self.warnings: list[str] = []

        rng = torch.Generator(device="cpu")
        rng.manual_seed(seed)
        self._build_weights(rng)
        self._build_features(rng, tile)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"CppnGenerator(resolution={self.resolution}, seed={self.seed}, "
            f"width={self.width}, embed_dim={self.embed_dim})"
        )

    # ------------------------------------------------------------------ set-up

    def _build_weights(self, rng: torch.Generator) -> None:
        """Draw the class table, the hypernetwork and the latent projections."""
        d, h = self.embed_dim, self.width
        n_pairs = sum(bank.pairs for bank in _BANKS)
        n_feat = 2 * n_pairs

        def normal(*shape: int, std: float) -> torch.Tensor:
            return torch.randn(*shape, generator=rng, dtype=torch.float32) * std

        # Class codes, each of norm sqrt(D): a one-hot y gives unit-variance entries.
        table = normal(NUM_CLASSES, d, std=1.0)
        self._classes = table * (math.sqrt(d) / table.norm(dim=1, keepdim=True))

        # Hypernetwork: code (D,) -> weights. With M ~ N(0, 1/D) the entries of
        # code @ M have unit variance; the layer gains are applied per frame.
        inv = 1.0 / math.sqrt(d)
        self._hyper_first = normal(d, h * n_feat, std=inv)
        self._hyper_first_bias = normal(d, h, std=inv)
        self._hyper_hidden = (
            normal(d, h * (h + 1), std=inv),
            normal(d, h * (h + 1), std=inv),
        )
        self._hyper_out = normal(d, 2 * (h + 1), std=inv)
        self._class_gate = normal(d, len(_BANKS), std=inv)
        self._class_scale = normal(d, 1, std=inv)
        self._class_palette = normal(d, 15, std=inv)

        # Latent projections. z ~ truncation * truncnorm(-2, 2), so with
        # Q ~ N(0, 1/128) the entries of z @ Q spread like one entry of z.
        zinv = 1.0 / math.sqrt(Z_DIM)
        self._z_phase = normal(Z_DIM, n_pairs, std=zinv)
        self._z_code = normal(Z_DIM, d, std=zinv)
        self._z_hue = normal(Z_DIM, 1, std=zinv)
        self._n_feat = n_feat

    def _build_features(self, rng: torch.Generator, tile: int) -> None:
        """Compute the coordinate features of every pixel, and the scratch buffers."""
        res = self.resolution
        axis = (torch.arange(res, dtype=torch.float64) + 0.5) / res * 2.0 - 1.0
        yy, xx = torch.meshgrid(axis, axis, indexing="ij")
        x, y = xx.reshape(-1), yy.reshape(-1)
        r = torch.sqrt(x * x + y * y)
        theta = torch.atan2(y, x)

        pixels = res * res
        self._pixels = pixels
        self._tile = min(tile, pixels)
        n_tiles = math.ceil(pixels / self._tile)
        n_rows = self._n_feat + 1
        # Tile-major (tiles, F + 1, T): each tile's features are one contiguous block.
        self._features = torch.zeros(n_tiles, n_rows, self._tile, dtype=torch.float32)
        self._features[:, n_rows - 1, :] = 1.0
        flat = torch.zeros(n_tiles * self._tile, dtype=torch.float32)

        def store(row: int, values: torch.Tensor) -> None:
            flat[:pixels] = values
            self._features[:, row, :] = flat.view(n_tiles, self._tile)

        row = 0
        bank_of_pair: list[int] = []
        for index, bank in enumerate(_BANKS):
            u = torch.rand(bank.pairs, 2, generator=rng, dtype=torch.float64)
            envelope = None
            px, py = x, y
            if bank.kind == "spiral":
                # Fade to 0 at the centre, where the angle is undefined.
                envelope = torch.tanh((r / 0.35) ** 2)
            elif bank.kind == "kaleido":
                wedge = 2.0 * math.pi / bank.fold
                folded = torch.abs(torch.remainder(theta, wedge) - wedge / 2.0)
                px, py = r * torch.cos(folded), r * torch.sin(folded)
            for j in range(bank.pairs):
                u0, u1 = float(u[j, 0]), float(u[j, 1])
                if bank.kind == "spiral":
                    # cos(k theta + twist r): arms that turn as the phase moves.
                    k = math.floor(1.0 + 5.0 * u0)
                    phase = k * theta + (u1 * 2.0 - 1.0) * 5.0 * r
                elif bank.kind == "rings":
                    phase = (3.0 + 11.0 * u1) * r
                else:
                    # A plane wave, 1.5 to 7 radians per unit; the image spans 2 units.
                    angle, freq = u0 * 2.0 * math.pi, 1.5 + 5.5 * u1
                    phase = freq * math.cos(angle) * px + freq * math.sin(angle) * py
                cos, sin = torch.cos(phase), torch.sin(phase)
                if envelope is not None:
                    cos, sin = cos * envelope, sin * envelope
                # Row 2j is the cos of pair j, row 2j + 1 its sin.
                store(row, cos)
                store(row + 1, sin)
                row += 2
            bank_of_pair += [index] * bank.pairs
        self._bank_of_feature = torch.tensor(bank_of_pair).repeat_interleave(2)

        # Scratch: ping-pong hidden buffers whose last row stays 1 (the bias input),
        # and the two output fields of the whole image.
        h = self.width
        self._hidden_a = torch.ones(h + 1, self._tile, dtype=torch.float32)
        self._hidden_b = torch.ones(h + 1, self._tile, dtype=torch.float32)
        self._fields = torch.empty(2, n_tiles * self._tile, dtype=torch.float32)

    # ------------------------------------------------------------------ call

    def __call__(
        self,
        z: torch.Tensor,
        y: torch.Tensor,
        truncation: float,
        *,
        cancel: CancelCheck | None = None,
    ) -> torch.Tensor:
        """Generate a batch of images.

        Parameters
        ----------
        z : torch.Tensor, shape (B, 128), float
            Latent vectors, already scaled by the truncation (BigGAN's convention).
            NaN becomes 0 and values are clipped to [-8, 8].
        y : torch.Tensor, shape (B, 1000), float
            Class vectors: one-hot or a convex mix. NaN becomes 0 and values are
            clipped to [-8, 8].
        truncation : float
            Truncation in (0, 1]; smaller is slightly calmer.
        cancel : callable, optional
            Asked before every tile of pixels (4,096 by default); True stops
            the call.

        Returns
        -------
        torch.Tensor, shape (B, 3, resolution, resolution), float32
            Images with values in [-1, 1]; a new tensor on every call.

        Raises
        ------
        GeneratorError
            If a type, shape or dtype, or the truncation, is invalid.
        Cancelled
            When ``cancel`` returned True.
        """
        z, y, truncation = self._validate(z, y, truncation)
        batch, res = z.shape[0], self.resolution
        out = torch.empty(batch, 3, res, res, dtype=torch.float32)
        with self._lock, torch.inference_mode():
            for i in range(batch):
                self._render(self._frame(z[i], y[i], truncation), out[i].view(3, -1), cancel)
        return out

    def _validate(
        self, z: torch.Tensor, y: torch.Tensor, truncation: float
    ) -> tuple[torch.Tensor, torch.Tensor, float]:
        """Check the inputs; return them as finite float32 CPU tensors and a float."""
        for label, tensor, length in (("z", z, Z_DIM), ("y", y, NUM_CLASSES)):
            if not isinstance(tensor, torch.Tensor):
                raise GeneratorError(f"{label} must be a torch.Tensor, got {type(tensor).__name__}")
            if tensor.dim() != 2 or tensor.shape[0] < 1 or tensor.shape[1] != length:
                raise GeneratorError(
                    f"{label} must have shape (B, {length}) with B >= 1, got {tuple(tensor.shape)}"
                )
            if not tensor.is_floating_point():
                raise GeneratorError(f"{label} must be a floating-point tensor, got {tensor.dtype}")
        if z.shape[0] != y.shape[0]:
            raise GeneratorError(
                f"z and y must have the same batch size, got {z.shape[0]} and {y.shape[0]}"
            )
        if isinstance(truncation, bool) or not isinstance(truncation, (int, float)):
            raise GeneratorError(f"truncation must be a number, got {type(truncation).__name__}")
        truncation = float(truncation)
        if not (math.isfinite(truncation) and 0.0 < truncation <= 1.0):
            raise GeneratorError(f"truncation must be in (0, 1], got {truncation}")
        clean = []
        for tensor in (z, y):
            tensor = tensor.detach().to(device="cpu", dtype=torch.float32)
            clean.append(torch.nan_to_num(tensor, nan=0.0, posinf=8.0, neginf=-8.0).clamp(-8, 8))
        return clean[0], clean[1], truncation

    def _frame(self, z: torch.Tensor, y: torch.Tensor, truncation: float) -> _Frame:
        """Turn one latent and one class vector into the weights of one frame.

        Parameters
        ----------
        z : torch.Tensor, shape (128,)
            Latent vector, finite.
        y : torch.Tensor, shape (1000,)
            Class vector, finite.
        truncation : float
            Truncation in (0, 1].

        Returns
        -------
        _Frame
            The frame's layer weights, palette and shading.
        """
        h, n_feat, d = self.width, self._n_feat, self.embed_dim
        calm = 0.85 + 0.15 * truncation

        # Class code, softly renormalised so that mixes keep a class-like strength.
        e = y @ self._classes
        e = e * (math.sqrt(d) / torch.sqrt(e.dot(e) + _EPS_CODE * d))
        # The latent varies the look: a bounded offset of the class code.
        code = e + torch.tanh((z @ self._z_code) * _Z_CODE_SLOPE) * (_Z_CODE_GAIN * calm)

        # First layer: the class gates the coordinate banks (unit total power) and
        # sets the scale; the latent shifts the phase of every (cos, sin) pair,
        # which is a rotation of that pair's two weights.
        gate = torch.softmax((e @ self._class_gate) * _GATE_SHARPNESS, dim=0)
        gate = gate / torch.sqrt(gate.dot(gate))
        scale = torch.exp(_SCALE_SPREAD * torch.tanh(e @ self._class_scale))
        gain = (
            scale
            * gate[self._bank_of_feature]
            * (_FIRST_GAIN * calm / math.sqrt(0.5 * _ACTIVE_FEATURES))
        )
        w = (code @ self._hyper_first).view(h, n_feat) * gain
        phase = (z @ self._z_phase) * _Z_PHASE_GAIN
        cos, sin = torch.cos(phase), torch.sin(phase)
        w_cos, w_sin = w[:, 0::2], w[:, 1::2]
        first = torch.empty(h, n_feat + 1)
        first[:, 0:n_feat:2] = w_cos * cos + w_sin * sin
        first[:, 1:n_feat:2] = w_sin * cos - w_cos * sin
        first[:, n_feat] = (code @ self._hyper_first_bias) * _FIRST_BIAS

        # Hidden layers: inputs are sin/tanh values of variance about 1/2.
        hidden_gain = _HIDDEN_GAIN * calm
        hidden = []
        for matrix in self._hyper_hidden:
            wh = (code @ matrix).view(h, h + 1)
            wh[:, :h] *= hidden_gain / math.sqrt(0.5 * h)
            wh[:, h] *= hidden_gain * _HIDDEN_BIAS
            hidden.append(wh)
        # The output layer follows the class only; its fields are standardised anyway.
        out = (e @ self._hyper_out).view(2, h + 1) / math.sqrt(0.5 * h)

        # Cosine palette a + b cos(2 pi (c t + d)) per channel, from the class; the
        # latent turns all three channels together (a hue shift along the palette).
        p = e @ self._class_palette
        a = 0.5 + 0.1 * torch.tanh(p[0:3])
        b = (0.4 + 0.1 * torch.sigmoid(p[3:6])).minimum(torch.minimum(a, 1.0 - a))
        c = (0.3 + 0.5 * torch.sigmoid(1.5 * p[6])) * (1.0 + 0.1 * torch.tanh(p[7:10]))
        hue = 0.6 * p[10] + 0.3 * p[11:14] + _Z_HUE_GAIN * (z @ self._z_hue)
        depth = float(0.25 + 0.6 * torch.sigmoid(1.5 * p[14]))
        palette = torch.stack((a, b, _TWO_PI * c, _TWO_PI * hue)).unsqueeze(-1)
        return _Frame(
            first=first,
            hidden=(hidden[0], hidden[1]),
            out=out,
            palette=palette,
            shade=(1.0 - 0.5 * depth, 0.5 * depth),
        )

    def _render(
        self, frame: _Frame, image: torch.Tensor, cancel: CancelCheck | None = None
    ) -> None:
        """Paint one image.

        Parameters
        ----------
        frame : _Frame
            The frame's weights, from :meth:`_frame`.
        image : torch.Tensor, shape (3, P), float32
            Output pixels, ``P = resolution**2``, written in place with values
            in [-1, 1].
        cancel : callable, optional
            Asked before each tile; True raises :class:`~ganterp.models.base.Cancelled`.
        """
        h, half, size = self.width, self.width // 2, self._tile
        a, b = self._hidden_a, self._hidden_b
        w2, w3 = frame.hidden
        for index in range(self._features.shape[0]):
            check_cancel(cancel)
            torch.mm(frame.first, self._features[index], out=a[:h])
            a[:h].sin_()
            torch.mm(w2, a, out=b[:h])
            b[:h].sin_()
            torch.mm(w3, b, out=a[:h])
            a[:half].sin_()
            a[half:h].tanh_()
            torch.mm(frame.out, a, out=self._fields[:, index * size : (index + 1) * size])

        # Standardise both fields so every frame spans the same part of its palette.
        fields = self._fields[:, : self._pixels]
        var, mean = torch.var_mean(fields, dim=1, keepdim=True)
        fields.sub_(mean).mul_(torch.rsqrt(var + _EPS_FIELD))
        t, u = fields[0:1], fields[1:2]

        # colour = a + b cos(2 pi (c t + d)), shaded by u, then [0, 1] -> [-1, 1].
        pa, pb, pc, pd = frame.palette
        torch.addmm(pd, pc, t, out=image)
        image.cos_().mul_(pb).add_(pa)
        base, depth = frame.shade
        image.mul_(torch.tanh(u).mul_(depth).add_(base))
        image.mul_(2.0).sub_(1.0).clamp_(-1.0, 1.0)


def _check_int(label: str, value: object, low: int, high: int) -> None:
    """Raise GeneratorError unless ``value`` is an int in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise GeneratorError(f"{label} must be an integer, got {type(value).__name__}")
    if not low <= value <= high:
        raise GeneratorError(f"{label} must be in {low}..{high}, got {value}")
