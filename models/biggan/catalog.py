"""The BigGAN-deep models ganterp knows: their layouts, addresses and cache.

Each model is a directory in pytorch-pretrained-biggan's layout: ``config.json``
plus ``pytorch_model.bin`` (or ``model.safetensors``). The user cache holds one
such directory per model, named after it; its place comes from platformdirs and
can be overridden with the ``GANTERP_MODELS`` environment variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ganterp.models.errors import GeneratorError

CONFIG_NAME = "config.json"
"""Name of a model directory's configuration file."""

WEIGHTS_NAMES = ("model.safetensors", "pytorch_model.bin")
"""Accepted weight file names, in order of preference (safetensors first: no pickle at all)."""

MANIFEST_NAME = "ganterp-manifest.json"
"""Sizes and SHA-256 of a fetched model's files, written by ``ganterp models fetch``."""

MODELS_ENV = "GANTERP_MODELS"
"""Environment variable that overrides the model cache directory."""

_PUBLISHED = "https://s3.amazonaws.com/models.huggingface.co/biggan"

# The layer layouts of the published configurations: (upsample, in, out) channel
# multipliers of the channel width, and the self-attention position.
_LAYERS_128 = (
    (False, 16, 16),
    (True, 16, 16),
    (False, 16, 16),
    (True, 16, 8),
    (False, 8, 8),
    (True, 8, 4),
    (False, 4, 4),
    (True, 4, 2),
    (False, 2, 2),
    (True, 2, 1),
)
_LAYERS_256 = (
    *_LAYERS_128[:5],
    (True, 8, 8),
    (False, 8, 8),
    (True, 8, 4),
    (False, 4, 4),
    (True, 4, 2),
    (False, 2, 2),
    (True, 2, 1),
)
_LAYERS_512 = (*_LAYERS_256, (False, 1, 1), (True, 1, 1))


@dataclass(frozen=True)
class RemoteFile:
    """One file of a model, as published.

    Attributes
    ----------
    name : str
        Its name inside the model directory, e.g. ``"pytorch_model.bin"``.
    url_name : str
        Its name at the published address (and on a mirror).
    size : int or None
        Size in bytes, where known.
    sha256 : str or None
        Lower-case hex SHA-256, where known.
    """

    name: str
    url_name: str
    size: int | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class ModelSpec:
    """A known BigGAN-deep model.

    Attributes
    ----------
    name : str
        E.g. ``"biggan-deep-256"``.
    resolution : int
        Image size in pixels (square).
    layers : tuple of (bool, int, int)
        Layer layout of the published configuration.
    files : tuple of RemoteFile
        What ``ganterp models fetch`` downloads.
    base_url : str
        Where the files are published; ``file.url_name`` is appended.
    """

    name: str
    resolution: int
    layers: tuple[tuple[bool, int, int], ...]
    files: tuple[RemoteFile, ...] = field(default=())
    base_url: str = _PUBLISHED
    attention_layer_position: int = 8

    def url(self, file: RemoteFile, mirror: str | None = None) -> str:
        """Address of ``file``, on the published server or on ``mirror`` (a base URL)."""
        return f"{(mirror or self.base_url).rstrip('/')}/{file.url_name}"


def _spec(resolution: int, layers: tuple[tuple[bool, int, int], ...]) -> ModelSpec:
    name = f"biggan-deep-{resolution}"
    return ModelSpec(
        name=name,
        resolution=resolution,
        layers=layers,
        files=(
            RemoteFile(CONFIG_NAME, f"{name}-config.json"),
            RemoteFile("pytorch_model.bin", f"{name}-pytorch_model.bin"),
        ),
    )


MODELS: Mapping[str, ModelSpec] = {
    spec.name: spec
    for spec in (_spec(128, _LAYERS_128), _spec(256, _LAYERS_256), _spec(512, _LAYERS_512))
}
"""Every known model by name."""


def model_spec(name: str) -> ModelSpec:
    """Look up a known model.

    Raises
    ------
    GeneratorError
        For an unknown name, listing the known ones.
    """
    try:
        return MODELS[name]
    except KeyError:
        raise GeneratorError(f"unknown model '{name}' (known: {', '.join(MODELS)})") from None


def models_dir(env: Mapping[str, str] | None = None) -> Path:
    """The user's model cache directory (not created here).

    Parameters
    ----------
    env : mapping, optional
        Environment to read ``GANTERP_MODELS`` from; ``os.environ`` by default.
    """
    environ = os.environ if env is None else env
    override = environ.get(MODELS_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("ganterp")) / "models"


def weights_file(directory: Path) -> Path | None:
    """The weight file of a model directory, or None when it has none."""
    for name in WEIGHTS_NAMES:
        path = directory / name
        if path.is_file():
            return path
    return None
