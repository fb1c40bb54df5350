"""Execution backends for :class:`~ganterp.models.biggan.inference.InferenceBigGAN`: one call, three engines.

* ``eager``: the module as it is (any batch size).
* ``compile``: ``torch.compile`` for a fixed batch size; on CUDA captured in
  a CUDA graph. Inductor's own on-disk cache is kept in
  ganterp's cache directory, so a second start skips most of the build.
* ``tensorrt``: torch-tensorrt (an optional extra), CUDA only, built for a fixed
  batch size and precision; engines are saved in an :class:`EngineCache`. The
  batch-norm statistics are inputs of the engine, so a truncation change needs
  no rebuild.

Every builder returns a :class:`Runner` whose ``fn(z, y)`` takes inputs already
on the module's device and dtype.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganterp.models.base import CancelCheck
from ganterp.models.biggan.engines import EngineCache
from ganterp.models.biggan.inference import InferenceBigGAN
from ganterp.models.errors import GeneratorError

BACKENDS = ("eager", "compile", "tensorrt")
"""Backends that can be asked for by name (``auto`` chooses among them)."""

PRECISIONS: Mapping[str, torch.dtype] = {
    "fp32": torch.float32,
    "fp16": torch.float16,
    "bf16": torch.bfloat16,
}
"""Precision names and their dtypes."""


@dataclass
class Runner:
    """A ready-to-call engine.

    Attributes
    ----------
    backend : str
        One of :data:`BACKENDS`.
    fn : callable
        ``fn(z, y) -> images``, inputs of shape (B, z_dim) and (B, num_classes)
        on the module's device and dtype.
    fixed_batch : int or None
        The only batch size ``fn`` accepts, or None for any.
    stepwise : callable or None
        ``stepwise(z, y, cancel) -> images``: the same computation asking
        ``cancel`` between layers (eager only; a compiled engine is one call).
    build_s : float
        Time spent building (and the first call, which compiles), seconds.
    cached : bool
        Whether a saved engine was loaded instead of built.
    """

    backend: str
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    fixed_batch: int | None
    build_s: float = 0.0
    cached: bool = False
    stepwise: Callable[[torch.Tensor, torch.Tensor, CancelCheck], torch.Tensor] | None = None


def tensorrt_version() -> str | None:
    """torch-tensorrt's version, or None when it does not import."""
    try:
        import torch_tensorrt
    except Exception:
        return None
    return str(getattr(torch_tensorrt, "__version__", "unknown"))


def eager_runner(module: InferenceBigGAN) -> Runner:
    """The module as it is."""
    return Runner("eager", module, None, stepwise=module.forward)


def _dummy_inputs(module: InferenceBigGAN, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
    device = module.mean.device
    z = torch.zeros(batch, module.z_dim, device=device, dtype=module.dtype)
    y = torch.zeros(batch, module.num_classes, device=device, dtype=module.dtype)
    y[:, 0] = 1.0
    return z, y


def compile_runner(module: InferenceBigGAN, *, batch: int, cache_dir: Path | None) -> Runner:
    """``torch.compile`` the module for batch size ``batch`` and run it once.

    On CUDA the compiled module is then captured in a CUDA graph by hand (not
    with ``mode="reduce-overhead"``, whose graphs belong to the thread that
    recorded them: the show builds on one thread and paints on another). The
    graph reads fixed input buffers and the module's statistics buffers, so a
    new truncation, copied into those buffers, needs no new capture.

    Raises
    ------
    GeneratorError
        When compilation fails (no C++ compiler on a CPU machine, for instance).
    """
    if cache_dir is not None:
        # Inductor reads its cache location from the environment when it compiles.
        os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(cache_dir / "inductor"))
    cuda = module.mean.device.type == "cuda"
    t0 = time.perf_counter()
    try:
        compiled = torch.compile(
            module,
            mode="max-autotune-no-cudagraphs" if cuda else None,
            dynamic=False,
            fullgraph=True,
        )
        with torch.inference_mode():
            z, y = _dummy_inputs(module, batch)
            compiled(z, y)
            run = _cuda_graph(compiled, z, y) if cuda else compiled
    except Exception as exc:
        raise GeneratorError(f"torch.compile failed: {_first_line(exc)}") from exc
    return Runner("compile", run, batch, time.perf_counter() - t0)


def _cuda_graph(
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], z: torch.Tensor, y: torch.Tensor
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Capture ``fn`` on fixed inputs ``z, y``; return a thread-agnostic replaying call."""
    static_z, static_y = z.clone(), y.clone()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):  # warm up on a side stream before capture, as CUDA graphs require
            fn(static_z, static_y)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        static_out = fn(static_z, static_y)
    torch.cuda.synchronize()

    def replay(zb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        static_z.copy_(zb)
        static_y.copy_(yb)
        graph.replay()
        return static_out.clone()  # the next replay overwrites it

    return replay


class _StatsAsInputs(nn.Module):
    """The module with its batch-norm statistics as explicit inputs (for export)."""

    def __init__(self, module: InferenceBigGAN) -> None:
        super().__init__()
        self.module = module

    def forward(
        self,
        z: torch.Tensor,
        y: torch.Tensor,
        mean: torch.Tensor,
        inv_std: torch.Tensor,
        final_scale: torch.Tensor,
        final_shift: torch.Tensor,
    ) -> torch.Tensor:
        return self.module.generate(z, y, mean, inv_std, final_scale, final_shift)


def tensorrt_runner(
    module: InferenceBigGAN,
    *,
    batch: int,
    cache: EngineCache | None,
    key_fields: Mapping[str, object],
    prefix: str,
    warn: Callable[[str], None] | None = None,
) -> Runner:
    """Build (or load) a TensorRT engine for the module at batch size ``batch``.

    Raises
    ------
    GeneratorError
        When torch-tensorrt is missing, the module is not on CUDA, or the build fails.
    """
    if module.mean.device.type != "cuda":
        raise GeneratorError("tensorrt needs a CUDA device")
    try:
        import torch_tensorrt
    except Exception as exc:
        raise GeneratorError(
            f"torch-tensorrt is not installed or does not import ({_first_line(exc)});"
            " install the 'tensorrt' extra"
        ) from None
    wrapper = _StatsAsInputs(module).eval()
    z, y = _dummy_inputs(module, batch)
    stats = (module.mean, module.inv_std, module.final_scale, module.final_shift)
    inputs = [z, y, *stats]

    def build() -> Any:
        with torch.inference_mode():
            exported = torch.export.export(wrapper, tuple(inputs))
        options: dict[str, Any] = {"inputs": inputs, "min_block_size": 1}
        try:  # precision as the graph states it: fp32 statistics and softmax stay fp32
            return torch_tensorrt.dynamo.compile(exported, use_explicit_typing=True, **options)
        except TypeError:
            return torch_tensorrt.dynamo.compile(
                exported, enabled_precisions={module.dtype}, **options
            )

    def save(engine: Any, path: Path) -> None:
        torch_tensorrt.save(engine, str(path), output_format="exported_program", inputs=inputs)

    def load(path: Path) -> Any:
        return torch_tensorrt.load(str(path)).module()

    t0 = time.perf_counter()
    try:
        if cache is None:
            engine, cached = build(), False
        else:
            path = cache.path(prefix, key_fields, ".ep")
            engine, cached = cache.get_or_build(path, build=build, save=save, load=load, warn=warn)
        with torch.inference_mode():
            engine(*inputs)
        torch.cuda.synchronize()
    except GeneratorError:
        raise
    except Exception as exc:
        raise GeneratorError(f"TensorRT build failed: {_first_line(exc)}") from exc

    def run(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = engine(z, y, *stats)
        return out[0] if isinstance(out, list | tuple) else out

    return Runner("tensorrt", run, batch, time.perf_counter() - t0, cached)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line if len(line) <= 160 else line[:159] + "…"
