"""Strict, safe loading of BigGAN-deep weights in pytorch-pretrained-biggan's layout.

The package's own loader calls ``load_state_dict(strict=False)`` on an
unrestricted ``torch.load``: a missing or misshapen tensor goes unnoticed and a
weight file can run code. Here every tensor must be present, none unexpected,
every shape right; weights load with ``weights_only=True`` (or from
safetensors, which holds no code at all); and each failure is one line that
names the file and the offending tensors.
"""

from __future__ import annotations

import json
import math
import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ganterp.models.biggan.catalog import CONFIG_NAME, WEIGHTS_NAMES, weights_file
from ganterp.models.errors import GeneratorError, WeightsError

#: Fields a configuration must hold, with their types.
_CONFIG_FIELDS: dict[str, type | tuple[type, ...]] = {
    "output_dim": int,
    "z_dim": int,
    "class_embed_dim": int,
    "channel_width": int,
    "num_classes": int,
    "layers": list,
    "attention_layer_position": int,
    "eps": (float, int),
    "n_stats": int,
}

_SHOW_AT_MOST = 4


def _names(items: list[str]) -> str:
    shown = ", ".join(items[:_SHOW_AT_MOST])
    more = len(items) - _SHOW_AT_MOST
    return f"{shown} and {more} more" if more > 0 else shown


def read_config(directory: Path, *, resolution: int | None = None) -> Any:
    """Read and check a model directory's ``config.json``.

    Parameters
    ----------
    directory : Path
        A model directory.
    resolution : int, optional
        The image size the caller needs, in pixels; a configuration for another
        size is an error.

    Returns
    -------
    pytorch_pretrained_biggan.BigGANConfig

    Raises
    ------
    WeightsError
        Missing directory or file, unreadable JSON, missing or mistyped fields,
        an inconsistent layer layout, or another resolution.
    """
    from pytorch_pretrained_biggan import BigGANConfig

    if not directory.is_dir():
        raise WeightsError(f"{directory}: not a directory")
    path = directory / CONFIG_NAME
    if not path.is_file():
        raise WeightsError(f"{directory}: no {CONFIG_NAME} (not a BigGAN model directory)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WeightsError(f"{path}: unreadable ({exc})") from None
    if not isinstance(data, dict):
        raise WeightsError(f"{path}: expected a JSON object")
    for key, kind in _CONFIG_FIELDS.items():
        value = data.get(key)
        if value is None or isinstance(value, bool) or not isinstance(value, kind):
            raise WeightsError(f"{path}: field '{key}' is missing or not a {_kind_name(kind)}")
    layers = data["layers"]
    if not layers or not all(
        isinstance(layer, list | tuple)
        and len(layer) == 3
        and isinstance(layer[0], bool)
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in layer[1:])
        for layer in layers
    ):
        raise WeightsError(f"{path}: 'layers' must be a list of [upsample, in, out] entries")
    upsamples = sum(1 for layer in layers if layer[0])
    if 4 * 2**upsamples != data["output_dim"]:
        raise WeightsError(
            f"{path}: its layers make {4 * 2**upsamples} px images but output_dim says"
            f" {data['output_dim']}"
        )
    if resolution is not None and data["output_dim"] != resolution:
        raise WeightsError(
            f"{path}: this model makes {data['output_dim']} px images; {resolution} px are needed"
            f" (wrong directory for biggan-deep-{resolution}?)"
        )
    if data["num_classes"] != 1000:
        raise WeightsError(f"{path}: num_classes is {data['num_classes']}; ImageNet's 1000 needed")
    if not 0 <= data["attention_layer_position"] < len(layers):
        raise WeightsError(f"{path}: attention_layer_position is outside the layers")
    if data["n_stats"] < 2 or data["channel_width"] < 1 or data["z_dim"] < 1:
        raise WeightsError(f"{path}: n_stats, channel_width or z_dim out of range")
    data["layers"] = [tuple(layer) for layer in layers]
    return BigGANConfig.from_dict(data)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    if isinstance(kind, tuple):
        return "number"
    return {int: "integer", list: "list"}.get(kind, kind.__name__)


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Read a weight file without running any code from it.

    Parameters
    ----------
    path : Path
        A ``.safetensors`` file, or a PyTorch file (zip or legacy format),
        which is read with ``weights_only=True``.

    Returns
    -------
    dict of str to torch.Tensor
        The tensors, on the CPU.

    Raises
    ------
    WeightsError
        Truncated or corrupt files, files holding code or other objects.
    """
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device="cpu")
        except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
            raise WeightsError(f"{path}: corrupt or truncated safetensors file ({exc})") from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=_is_zip(path))
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "weights only" in str(exc).lower() or "unsupported" in str(exc).lower():
            raise WeightsError(
                f"{path}: refused: the file holds pickled objects or code, not only tensors"
                f" ({_shorten(first)})"
            ) from None
        raise WeightsError(f"{path}: corrupt or truncated ({_shorten(first)})") from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WeightsError(f"{path}: corrupt or truncated ({_shorten(first)})") from None
    if not isinstance(state, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise WeightsError(f"{path}: expected a mapping of tensor names to tensors")
    return dict(state)


def _is_zip(path: Path) -> bool:
    try:
        return zipfile.is_zipfile(path)
    except OSError:
        return False


def _shorten(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_state_dict(
    expected: Mapping[str, torch.Tensor], state: Mapping[str, torch.Tensor], *, source: Path
) -> None:
    """Check that ``state`` holds exactly the tensors ``expected`` names, shaped alike.

    Parameters
    ----------
    expected : mapping of str to torch.Tensor
        The model's own state (names and shapes are what matter).
    state : mapping of str to torch.Tensor
        What the file holds.
    source : Path
        The file, for the message.

    Raises
    ------
    WeightsError
        Naming the missing, unexpected or misshapen tensors (a few of each) and
        any tensor holding NaN or infinity.
    """
    missing = [name for name in expected if name not in state]
    unexpected = [name for name in state if name not in expected]
    wrong = [
        f"{name} {tuple(state[name].shape)} (expected {tuple(shape.shape)})"
        for name, shape in expected.items()
        if name in state and tuple(state[name].shape) != tuple(shape.shape)
    ]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing tensor(s): {_names(missing)}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected tensor(s): {_names(unexpected)}")
    if wrong:
        problems.append(f"{len(wrong)} wrong shape(s): {_names(wrong)}")
    if problems:
        raise WeightsError(f"{source}: " + "; ".join(problems))
    bad = [
        name
        for name, tensor in state.items()
        if not tensor.is_floating_point() or not bool(torch.isfinite(tensor).all())
    ]
    if bad:
        raise WeightsError(f"{source}: non-finite or non-float values in {_names(bad)}")


def load_biggan(directory: Path, *, resolution: int | None = None) -> torch.nn.Module:
    """Build a pytorch-pretrained-biggan ``BigGAN`` from a model directory, strictly.

    Parameters
    ----------
    directory : Path
        Holds ``config.json`` and ``model.safetensors`` or ``pytorch_model.bin``.
    resolution : int, optional
        Required image size in pixels.

    Returns
    -------
    pytorch_pretrained_biggan.BigGAN
        In eval mode, on the CPU, fp32, with its spectral normalisation intact
        (exactly the package's model).

    Raises
    ------
    WeightsError
        With one line naming the file and what is wrong.
    """
    config = read_config(directory, resolution=resolution)
    path = weights_file(directory)
    if path is None:
        raise WeightsError(f"{directory}: no weight file ({' or '.join(WEIGHTS_NAMES)})")
    if path.stat().st_size == 0:
        raise WeightsError(f"{path}: empty file")
    state = read_state_dict(path)
    model = _empty_model(config)
    check_state_dict(model.state_dict(), state, source=path)
    model.load_state_dict(
        {k: v.to(torch.float32) for k, v in state.items()}, strict=True, assign=True
    )
    model.eval()
    model.requires_grad_(False)
    return model


def _empty_model(config: Any) -> torch.nn.Module:
    """The package's model with placeholder (meta) tensors: no time spent on random init."""
    from pytorch_pretrained_biggan import BigGAN

    with torch.device("meta"):
        return BigGAN(config)


def stats_step(n_stats: int) -> float:
    """Spacing of the precomputed batch-norm statistics in truncation units."""
    return 1.0 / (n_stats - 1)


def truncation_blend(truncation: float, n_stats: int) -> tuple[int, float]:
    """Index and weight the package uses to pick statistics for a truncation.

    Returns ``(start, coef)``: the statistics are ``T[start] * coef +
    T[start + 1] * (1 - coef)``, or ``T[start]`` when ``coef == 0`` — the
    package's own rule, kept as it is so outputs match it.
    """
    if not 0.0 < truncation <= 1.0 or math.isnan(truncation):
        raise GeneratorError(f"truncation must be in (0, 1], got {truncation}")
    coef, start = math.modf(truncation / stats_step(n_stats))
    return int(start), coef
