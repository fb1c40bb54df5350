"""BigGAN as a show generator: weights found, a backend chosen, checked, and falling back loudly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from ganterp.models.base import Cancelled
from ganterp.models.biggan.accuracy import compare, probe_inputs
from ganterp.models.biggan.catalog import MODELS
from ganterp.models.biggan.generator import build_biggan, candidates, find_model_dir
from ganterp.models.biggan.synthetic import write_tiny_model
from ganterp.models.errors import WeightsMissingError
from ganterp.models.registry import make_generator


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    return write_tiny_model(tmp_path_factory.mktemp("w") / "biggan-deep-128", 128, seed=3)


def _paint(gen, n: int = 3, truncation: float = 0.4) -> torch.Tensor:
    z, y = probe_inputs(n, gen.z_dim, gen.num_classes, seed=7)
    return gen(z, y, truncation)


@pytest.fixture(scope="module")
def reference(weights: Path) -> torch.Tensor:
    gen = build_biggan("biggan-deep-128", weights=weights, backend="eager", precision="fp32")
    return _paint(gen)


@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16", "auto"])
def test_eager_precisions_agree_with_fp32(weights, reference, tmp_path, precision) -> None:
    warnings: list[str] = []
    gen = build_biggan(
        "biggan-deep-128",
        weights=weights,
        backend="eager",
        precision=precision,
        cache_dir=tmp_path,
        warn=warnings.append,
    )
    out = _paint(gen)
    assert out.shape == (3, 3, 128, 128) and out.dtype == torch.float32
    assert float(out.abs().max()) <= 1.0
    assert compare(out, reference).psnr_db >= 30.0
    assert gen.name == "biggan-deep-128" and gen.resolution == 128 and len(gen.class_names) == 1000
    assert gen.status.startswith("biggan-deep-128 eager")
    assert warnings == [] and gen.warnings == []
    if precision != "fp32" and gen.precision != "fp32":
        assert gen.accuracy is not None and gen.accuracy.psnr_db >= 30.0


def test_auto_on_a_cpu_picks_a_measured_path(weights, reference, tmp_path) -> None:
    gen = build_biggan("biggan-deep-128", weights=weights, cache_dir=tmp_path)
    assert gen.backend == "eager" and gen.precision in ("bf16", "fp32")
    assert compare(_paint(gen), reference).psnr_db >= 30.0


def test_tensorrt_without_a_gpu_falls_back_loudly(weights, reference, tmp_path) -> None:
    warnings: list[str] = []
    gen = build_biggan(
        "biggan-deep-128",
        weights=weights,
        backend="tensorrt",
        precision="fp32",
        cache_dir=tmp_path,
        warn=warnings.append,
    )
    assert gen.backend != "tensorrt"
    assert any("tensorrt" in w and "unavailable" in w for w in warnings)
    assert gen.warnings and "tensorrt fp32 was asked for" in gen.warnings[0]
    assert compare(_paint(gen), reference).psnr_db >= 30.0


@pytest.mark.slow
def test_compiled_engine_agrees_and_pads_odd_batches(weights, reference, tmp_path) -> None:
    gen = build_biggan(
        "biggan-deep-128",
        weights=weights,
        backend="compile",
        precision="fp32",
        batch=2,
        cache_dir=tmp_path,
    )
    assert gen.backend == "compile" and gen.runner.fixed_batch == 2
    out = _paint(gen, n=3)  # one full batch of 2, one padded
    assert compare(out, reference).psnr_db >= 60.0
    # A new truncation reuses the same graph: the buffers it reads are updated in place.
    eager = build_biggan("biggan-deep-128", weights=weights, backend="eager", precision="fp32")
    assert compare(_paint(gen, truncation=0.8), _paint(eager, truncation=0.8)).psnr_db >= 60.0
    # A compiled engine is one call: cancel is asked before each batch only.
    asked: list[int] = []
    z, y = probe_inputs(3, gen.z_dim, gen.num_classes, seed=7)
    gen(z, y, 0.4, cancel=lambda: bool(asked.append(1)))
    assert len(asked) == 2
    with pytest.raises(Cancelled):
        gen(z, y, 0.4, cancel=lambda: True)


def test_eager_asks_cancel_between_layers(weights, reference) -> None:
    gen = build_biggan("biggan-deep-128", weights=weights, backend="eager", precision="fp32")
    z, y = probe_inputs(3, gen.z_dim, gen.num_classes, seed=7)
    asked: list[int] = []

    def never() -> bool:
        asked.append(1)
        return False

    assert compare(gen(z, y, 0.4, cancel=never), reference).psnr_db >= 100.0
    layers = len(gen.module.layers)
    assert len(asked) == layers

    def on_second() -> bool:
        asked.append(1)
        return len(asked) == 2

    asked.clear()
    with pytest.raises(Cancelled):
        gen(z, y, 0.4, cancel=on_second)
    assert len(asked) == 2  # it stopped at once
    assert compare(_paint(gen), reference).psnr_db >= 100.0  # and can paint again


def test_truncation_change_between_calls(weights) -> None:
    gen = build_biggan("biggan-deep-128", weights=weights, backend="eager", precision="fp32")
    a, b, a2 = _paint(gen, 1, 0.3), _paint(gen, 1, 0.9), _paint(gen, 1, 0.3)
    assert float((a - b).abs().max()) > 1e-3
    assert torch.equal(a, a2)


def test_weights_are_found_in_the_cache_or_a_hint_says_how(weights, tmp_path) -> None:
    env = {"GANTERP_MODELS": str(tmp_path / "cache")}
    spec = MODELS["biggan-deep-128"]
    with pytest.raises(WeightsMissingError) as err:
        find_model_dir(spec, env=env)
    message = str(err.value)
    assert "ganterp models fetch biggan-deep-128" in message and "--weights" in message
    with pytest.raises(WeightsMissingError, match="no such directory"):
        find_model_dir(spec, tmp_path / "nowhere", env=env)
    shutil.copytree(weights, tmp_path / "cache" / "biggan-deep-128")
    assert find_model_dir(spec, env=env) == tmp_path / "cache" / "biggan-deep-128"
    gen = make_generator("biggan-deep-128", env=env, backend="eager", precision="fp32")
    assert gen.resolution == 128


def test_registry_wraps_biggan_with_a_fallback(weights, tmp_path) -> None:
    gen = make_generator(
        "biggan-deep-128",
        weights=weights,
        backend="eager",
        precision="fp32",
        fallback=True,
        env={"GANTERP_MODELS": str(tmp_path)},
    )
    assert gen.name == "biggan-deep-128" and "eager fp32" in gen.status
    assert gen.current.__class__.__name__ == "BigGANGenerator"
    assert _paint(gen, 1).shape == (1, 3, 128, 128)


def test_candidates() -> None:
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert candidates("auto", "auto", cpu) == [("eager", "bf16"), ("eager", "fp32")]
    assert candidates("eager", "fp16", cpu) == [("eager", "fp16")]
    assert candidates("compile", "fp32", cpu) == [("compile", "fp32"), ("eager", "fp32")]
    assert candidates("tensorrt", "fp16", cuda)[0] == ("tensorrt", "fp16")
    auto = candidates("auto", "auto", cuda)
    assert auto[0][1] == "fp16" and auto[-1] == ("eager", "fp32")
