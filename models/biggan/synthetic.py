"""Randomly initialised BigGAN-deep models, written in the package's layout.

They have every resolution's real layer layout and tensor names. At a small
channel width they let the tests exercise the real loader, the inference module
and every backend in seconds; at the real width (128) they let ``ganterp bench``
time the real amount of computation where no trained weights are at hand
(the pictures are meaningless, the timings are not).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from ganterp.models.biggan.catalog import MODELS


def tiny_config(resolution: int = 128, channel_width: int = 8) -> dict:
    """The published configuration for ``resolution``, with the given channel width."""
    spec = MODELS[f"biggan-deep-{resolution}"]
    return {
        "output_dim": resolution,
        "z_dim": 128,
        "class_embed_dim": 128,
        "channel_width": channel_width,
        "num_classes": 1000,
        "layers": [list(layer) for layer in spec.layers],
        "attention_layer_position": spec.attention_layer_position,
        "eps": 1e-4,
        "n_stats": 51,
    }


def tiny_model(config: dict, seed: int = 0) -> torch.nn.Module:
    """A package ``BigGAN`` with random weights, statistics and settled spectral norms."""
    from pytorch_pretrained_biggan import BigGAN, BigGANConfig

    data = dict(config)
    data["layers"] = [tuple(layer) for layer in config["layers"]]
    torch.manual_seed(seed)
    model = BigGAN(BigGANConfig.from_dict(data))
    with torch.no_grad():
        for name, buf in model.named_buffers():
            if name.endswith("running_means"):
                buf.copy_(0.1 * torch.randn_like(buf))
            elif name.endswith("running_vars"):
                buf.copy_(0.5 + torch.rand_like(buf))
        for name, param in model.named_parameters():
            if name.endswith("gamma"):
                param.fill_(0.5)
            elif name.endswith("bn.weight"):
                param.copy_(1.0 + 0.1 * torch.randn_like(param))
            elif name.endswith("bn.bias"):
                param.copy_(0.1 * torch.randn_like(param))
        # A few power iterations so each spectral norm's u and v are settled, as in real weights.
        model.train()
        y = torch.zeros(1, 1000)
        y[0, 1] = 1.0
        for _ in range(5):
            model(torch.zeros(1, 128), y, 0.5)
    model.eval()
    return model


def write_tiny_model(
    directory: Path,
    resolution: int = 128,
    *,
    channel_width: int = 8,
    seed: int = 0,
    fmt: str = "zip",
    config: dict | None = None,
    state: dict | None = None,
) -> Path:
    """Write a random model directory: ``config.json`` and its weights.

    Parameters
    ----------
    fmt : str
        ``"zip"`` (torch.save's format), ``"legacy"`` (the pre-1.6 format of the
        published files) or ``"safetensors"``.
    config, state : dict, optional
        Write these instead of a fresh tiny model's (to make broken models).
    """
    directory.mkdir(parents=True, exist_ok=True)
    config = config if config is not None else tiny_config(resolution, channel_width)
    if state is None:
        state = tiny_model(config, seed).state_dict()
    (directory / "config.json").write_text(json.dumps(config), encoding="utf-8")
    if fmt == "safetensors":
        from safetensors.torch import save_file

        save_file(
            {k: v.contiguous() for k, v in state.items()}, str(directory / "model.safetensors")
        )
    else:
        torch.save(
            dict(state),
            directory / "pytorch_model.bin",
            _use_new_zipfile_serialization=(fmt == "zip"),
        )
    return directory
