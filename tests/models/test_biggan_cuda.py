"""BigGAN on a CUDA GPU: fp16, CUDA graphs and TensorRT against fp32 (skipped without one)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ganterp.models.biggan.accuracy import compare, probe_inputs
from ganterp.models.biggan.backends import tensorrt_version
from ganterp.models.biggan.generator import build_biggan
from ganterp.models.biggan.synthetic import write_tiny_model

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    return write_tiny_model(tmp_path_factory.mktemp("w") / "biggan-deep-256", 256, seed=2)


def _paint(gen, truncation: float = 0.4) -> torch.Tensor:
    z, y = probe_inputs(2, gen.z_dim, gen.num_classes, seed=9)
    return gen(z, y, truncation).cpu()


def _build(weights: Path, backend: str, precision: str, tmp_path: Path):
    return build_biggan(
        "biggan-deep-256",
        weights=weights,
        device="cuda",
        backend=backend,
        precision=precision,
        cache_dir=tmp_path,
    )


@pytest.mark.parametrize("backend", ["eager", "compile"])
def test_fp16_agrees_with_fp32(weights, tmp_path, backend) -> None:
    reference = _paint(_build(weights, "eager", "fp32", tmp_path))
    gen = _build(weights, backend, "fp16", tmp_path)
    assert gen.device.type == "cuda" and gen.backend == backend
    assert compare(_paint(gen), reference).psnr_db >= 30.0
    assert (
        compare(_paint(gen, 0.8), _paint(_build(weights, "eager", "fp32", tmp_path), 0.8)).psnr_db
        >= 30.0
    )


@pytest.mark.skipif(tensorrt_version() is None, reason="needs torch-tensorrt")
def test_tensorrt_builds_caches_and_follows_truncation(weights, tmp_path) -> None:
    eager = _build(weights, "eager", "fp32", tmp_path)
    gen = _build(weights, "tensorrt", "fp16", tmp_path)
    assert gen.backend == "tensorrt" and not gen.runner.cached
    assert compare(_paint(gen), _paint(eager)).psnr_db >= 30.0
    # Truncation is an input of the engine: no rebuild, same answer as eager.
    assert compare(_paint(gen, 0.9), _paint(eager, 0.9)).psnr_db >= 30.0
    again = _build(weights, "tensorrt", "fp16", tmp_path)
    assert again.runner.cached
    assert compare(_paint(again), _paint(eager)).psnr_db >= 30.0


def test_compiled_graph_replays_from_another_thread(weights, tmp_path) -> None:
    """The show builds on its main thread and paints on the generator thread."""
    import threading

    gen = _build(weights, "compile", "fp16", tmp_path)
    here = _paint(gen)
    there: list[torch.Tensor] = []
    worker = threading.Thread(target=lambda: there.append(_paint(gen)))
    worker.start()
    worker.join()
    assert torch.equal(here, there[0])
