"""Strict, safe loading of BigGAN-deep weights in the package's layout."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch

from ganterp.models.biggan.catalog import MODELS
from ganterp.models.biggan.loading import load_biggan
from ganterp.models.biggan.synthetic import tiny_config, tiny_model, write_tiny_model
from ganterp.models.errors import WeightsError


@pytest.fixture(scope="module")
def state() -> dict[str, torch.Tensor]:
    return tiny_model(tiny_config(128)).state_dict()


def _write(tmp_path: Path, state: dict, **kw) -> Path:
    return write_tiny_model(tmp_path / "m", 128, state=dict(state), **kw)


@pytest.mark.parametrize("resolution", [128, 256, 512])
@pytest.mark.parametrize("fmt", ["zip", "legacy", "safetensors"])
def test_every_layout_and_format_loads(tmp_path: Path, resolution: int, fmt: str) -> None:
    directory = write_tiny_model(tmp_path / "m", resolution, fmt=fmt)
    model = load_biggan(directory, resolution=resolution)
    blocks = [layer for layer in model.generator.layers if hasattr(layer, "bn_0")]
    assert len(blocks) == len(MODELS[f"biggan-deep-{resolution}"].layers)
    assert not hasattr(model.generator.layers[8], "bn_0")  # self-attention at position 8
    assert not model.training
    with torch.no_grad():
        out = model(torch.zeros(1, 128), torch.eye(1000)[:1], 0.4)
    assert out.shape == (1, 3, resolution, resolution)


def _error(directory: Path, resolution: int | None = 128) -> str:
    with pytest.raises(WeightsError) as err:
        load_biggan(directory, resolution=resolution)
    message = str(err.value)
    assert "\n" not in message
    return message


def test_missing_tensor_is_named(tmp_path: Path, state: dict) -> None:
    broken = dict(state)
    del broken["generator.layers.3.conv_1.weight_orig"]
    message = _error(_write(tmp_path, broken))
    assert "1 missing tensor(s): generator.layers.3.conv_1.weight_orig" in message


def test_unexpected_tensor_is_named(tmp_path: Path, state: dict) -> None:
    message = _error(_write(tmp_path, {**state, "generator.extra.weight": torch.zeros(3)}))
    assert "unexpected tensor(s): generator.extra.weight" in message


def test_wrong_shape_names_both_shapes(tmp_path: Path, state: dict) -> None:
    message = _error(_write(tmp_path, {**state, "embeddings.weight": torch.zeros(128, 999)}))
    assert "embeddings.weight (128, 999) (expected (128, 1000))" in message


def test_non_finite_values_are_refused(tmp_path: Path, state: dict) -> None:
    bad = state["generator.gen_z.bias"].clone()
    bad[0] = float("nan")
    message = _error(_write(tmp_path, {**state, "generator.gen_z.bias": bad}))
    assert "generator.gen_z.bias" in message and "non-finite" in message


@pytest.mark.parametrize("fmt", ["zip", "legacy", "safetensors"])
def test_truncated_file(tmp_path: Path, state: dict, fmt: str) -> None:
    directory = _write(tmp_path, state, fmt=fmt)
    path = next(p for p in directory.iterdir() if p.name != "config.json")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert "corrupt or truncated" in _error(directory)


def test_empty_weight_file(tmp_path: Path, state: dict) -> None:
    directory = _write(tmp_path, state)
    (directory / "pytorch_model.bin").write_bytes(b"")
    assert "empty file" in _error(directory)


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_pickle_that_would_run_code_is_refused(tmp_path: Path, state: dict) -> None:
    directory = _write(tmp_path, state)
    marker = tmp_path / "code-ran"
    # A torch file whose pickle calls a function when loaded without weights_only.
    torch.save({"embeddings.weight": _RunsCode(marker)}, directory / "pytorch_model.bin")
    assert "refused" in _error(directory)
    assert not marker.exists()
    # A plain pickle, not a torch file at all.
    with (directory / "pytorch_model.bin").open("wb") as f:
        pickle.dump(_RunsCode(marker), f)
    _error(directory)
    assert not marker.exists()


def test_directory_problems(tmp_path: Path, state: dict) -> None:
    assert "not a directory" in _error(tmp_path / "nowhere")
    directory = _write(tmp_path, state)
    (directory / "config.json").unlink()
    assert "no config.json" in _error(directory)
    (directory / "config.json").write_text("{oops")
    assert "unreadable" in _error(directory)
    config = tiny_config(128)
    del config["n_stats"]
    (directory / "config.json").write_text(json.dumps(config))
    assert "'n_stats' is missing" in _error(directory)
    (directory / "config.json").write_text(json.dumps(tiny_config(128)))
    (directory / "pytorch_model.bin").unlink()
    assert "no weight file" in _error(directory)


def test_config_for_another_resolution(tmp_path: Path, state: dict) -> None:
    message = _error(_write(tmp_path, state), resolution=256)
    assert "128 px" in message and "256 px" in message


def test_inconsistent_layers(tmp_path: Path, state: dict) -> None:
    config = tiny_config(128)
    config["output_dim"] = 256
    assert "its layers make 128 px" in _error(_write(tmp_path, state, config=config), None)
