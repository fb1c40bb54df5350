"""The inference module paints exactly what the package's model paints, with less work a call."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from ganterp.models.biggan.accuracy import compare, probe_inputs
from ganterp.models.biggan.inference import InferenceBigGAN
from ganterp.models.biggan.synthetic import tiny_config, tiny_model
from ganterp.models.errors import GeneratorError


@pytest.fixture(scope="module", params=[128, 256, 512])
def models(request) -> tuple[torch.nn.Module, InferenceBigGAN]:
    reference = tiny_model(tiny_config(request.param), seed=request.param)
    return reference, InferenceBigGAN(copy.deepcopy(reference))


@pytest.mark.parametrize("truncation", [0.02, 0.4, 0.5, 0.77, 1.0])
def test_same_output_as_the_package(models, truncation: float) -> None:
    reference, fast = models
    z, y = probe_inputs(3, 128, 1000)
    with torch.no_grad():
        expected = reference(z, y, truncation)
        fast.set_truncation(truncation)
        got = fast(z, y)
    assert got.shape == expected.shape
    assert float(expected.std(dim=(2, 3)).mean()) > 0.01  # a picture, not a flat colour
    assert float((got - expected).abs().max()) < 1e-5


def test_truncation_changes_the_picture_and_is_checked(models) -> None:
    _, fast = models
    z, y = probe_inputs(1, 128, 1000)
    with torch.no_grad():
        fast.set_truncation(0.3)
        a = fast(z, y)
        fast.set_truncation(0.9)
        b = fast(z, y)
    assert float((a - b).abs().max()) > 1e-3
    for bad in (0.0, 1.5, math.nan):
        with pytest.raises(GeneratorError):
            fast.set_truncation(bad)


def test_spectral_norm_is_gone(models) -> None:
    _, fast = models
    assert not any(hasattr(m, "weight_orig") for m in fast.modules())


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_reduced_precision_keeps_statistics_in_fp32(dtype: torch.dtype) -> None:
    fast = InferenceBigGAN(tiny_model(tiny_config(128)))
    z, y = probe_inputs(2, 128, 1000)
    fast.set_truncation(0.4)
    with torch.no_grad():
        reference = fast(z, y)
        fast.cast_(dtype)
        fast.set_truncation(0.4)
        got = fast(z, y)
    assert fast.dtype == dtype and got.dtype == dtype
    for name in ("mean", "inv_std", "means_table", "cond_weight", "final_scale"):
        assert getattr(fast, name).dtype == torch.float32, name
    assert compare(got, reference).psnr_db > 30.0
