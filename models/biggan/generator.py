"""BigGAN-deep as a show generator: weights found, loaded strictly, a backend chosen and checked.

:func:`build_biggan` resolves the weights (``--weights DIR``, then the user
cache; never a download), loads them strictly, bakes the model for inference,
then picks a backend and precision:

* asked for by name: that one (a failure to build falls back to a slower path,
  with a warning);
* ``auto`` on CUDA: TensorRT fp16 when torch-tensorrt imports, else
  ``torch.compile`` fp16 with CUDA graphs, else eager;
* ``auto`` on a CPU: the fastest of eager bf16 and eager fp32, timed here.

Every reduced-precision candidate is compared with fp32 eager on fixed inputs;
``auto`` never takes one under :data:`~ganterp.models.biggan.accuracy.MIN_PSNR_DB`.
"""

from __future__ import annotations

import copy
import logging
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ganterp.models.base import CancelCheck, check_cancel
from ganterp.models.biggan.accuracy import MIN_PSNR_DB, Accuracy, compare, probe_inputs
from ganterp.models.biggan.backends import (
    PRECISIONS,
    Runner,
    compile_runner,
    eager_runner,
    tensorrt_runner,
    tensorrt_version,
)
from ganterp.models.biggan.catalog import (
    CONFIG_NAME,
    ModelSpec,
    model_spec,
    models_dir,
    weights_file,
)
from ganterp.models.biggan.engines import EngineCache, weights_fingerprint
from ganterp.models.biggan.inference import InferenceBigGAN
from ganterp.models.biggan.loading import load_biggan
from ganterp.models.classes import load_class_names
from ganterp.models.errors import GeneratorError, WeightsMissingError

log = logging.getLogger("ganterp")

_PROBE_TRUNCATION = 0.4
_PROBE_BATCH = 2


def find_model_dir(
    spec: ModelSpec, weights: Path | None = None, env: Mapping[str, str] | None = None
) -> Path:
    """Where a model's weights are: ``weights`` if given, else the user cache.

    Raises
    ------
    WeightsMissingError
        Saying which command or flag provides them.
    """
    if weights is not None:
        weights = weights.expanduser()
        if not weights.is_dir():
            raise WeightsMissingError(f"--weights {weights}: no such directory")
        return weights
    cached = models_dir(env) / spec.name
    if (cached / CONFIG_NAME).is_file() and weights_file(cached) is not None:
        return cached
    raise WeightsMissingError(
        f"{spec.name} weights are not in {cached.parent}: fetch them with"
        f" `ganterp models fetch {spec.name}`, or pass --weights DIR"
        f" (a directory with {CONFIG_NAME} and pytorch_model.bin)"
    )


@dataclass
class Choice:
    """A backend and precision, and how they fared."""

    backend: str
    precision: str
    runner: Runner
    module: InferenceBigGAN
    accuracy: Accuracy | None = None
    ms: float | None = None


@dataclass
class BigGANGenerator:
    """A BigGAN-deep model behind the :class:`~ganterp.models.base.Generator` call.

    Attributes
    ----------
    name : str
        The model's name, e.g. ``"biggan-deep-256"``.
    backend, precision : str
        What runs it.
    accuracy : Accuracy or None
        Agreement with fp32 eager on the probe inputs (None for fp32 eager itself).
    warnings : list of str
        Fallbacks taken while building (also logged); shown in the HUD.
    build_s : float
        Time spent loading and building, seconds.
    """

    name: str
    module: InferenceBigGAN
    runner: Runner
    device: torch.device
    precision: str
    accuracy: Accuracy | None
    warnings: list[str] = field(default_factory=list)
    build_s: float = 0.0
    weights_dir: Path | None = None

    def __post_init__(self) -> None:
        self.z_dim = self.module.z_dim
        self.num_classes = self.module.num_classes
        self.resolution = self.module.resolution
        self.class_names: tuple[str, ...] = load_class_names()
        self.dtype = self.module.dtype

    @property
    def backend(self) -> str:
        """The backend in use."""
        return self.runner.backend

    @property
    def status(self) -> str:
        """One line for the HUD and logs, e.g. ``"biggan-deep-256 tensorrt fp16 41 dB"``."""
        text = f"{self.name} {self.backend} {self.precision}"
        if self.accuracy is not None:
            text += f" {self.accuracy.psnr_db:.0f} dB"
        return text

    def __call__(
        self,
        z: torch.Tensor,
        y: torch.Tensor,
        truncation: float,
        *,
        cancel: CancelCheck | None = None,
    ) -> torch.Tensor:
        """Generate images; see :meth:`ganterp.models.base.Generator.__call__`.

        Batches of any size are split into the engine's batch size (padded at
        the end when the engine has a fixed one). ``cancel`` is asked between
        layers by the eager engine, before each batch by compiled ones.
        """
        with torch.inference_mode():
            if truncation != self.module.truncation:
                self.module.set_truncation(truncation)
            z = z.to(self.device, self.dtype)
            y = y.to(self.device, self.dtype)
            n = z.shape[0]
            step = self.runner.fixed_batch or n
            outs = []
            for start in range(0, n, step):
                zc, yc = z[start : start + step], y[start : start + step]
                count = zc.shape[0]
                if self.runner.fixed_batch and count < step:
                    pad = step - count
                    zc = torch.cat([zc, zc[-1:].expand(pad, -1)])
                    yc = torch.cat([yc, yc[-1:].expand(pad, -1)])
                if cancel is not None and self.runner.stepwise is not None:
                    outs.append(self.runner.stepwise(zc, yc, cancel)[:count])
                else:
                    check_cancel(cancel)
                    outs.append(self.runner.fn(zc, yc)[:count])
            images = outs[0] if len(outs) == 1 else torch.cat(outs)
            return images.float()


def pick_device(device: str) -> torch.device:
    """``"auto"``, ``"cpu"`` or ``"cuda"`` (``auto``: CUDA when available).

    Raises
    ------
    GeneratorError
        When CUDA is asked for and not available.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise GeneratorError("generator.device is 'cuda' but no CUDA GPU is available")
    try:
        return torch.device(device)
    except RuntimeError as exc:
        raise GeneratorError(f"generator.device: {exc}") from None


def candidates(backend: str, precision: str, device: torch.device) -> list[tuple[str, str]]:
    """The (backend, precision) pairs to try, best first.

    Parameters
    ----------
    backend : str
        ``auto`` or a backend name.
    precision : str
        ``auto`` or a precision name.
    device : torch.device
        Where the model runs.
    """
    cuda = device.type == "cuda"
    if backend == "auto":
        backends = ["tensorrt", "compile", "eager"] if cuda else ["eager"]
        if cuda and tensorrt_version() is None:
            backends.remove("tensorrt")
    else:
        backends = [backend, *[b for b in ("compile", "eager") if b != backend]]
        if backend == "eager":
            backends = ["eager"]
    if precision == "auto":
        precisions = ["fp16", "bf16", "fp32"] if cuda else ["bf16", "fp32"]
    else:
        precisions = [precision]
    return [(b, p) for p in precisions for b in backends]


def build_biggan(
    name: str,
    *,
    weights: Path | None = None,
    device: str = "auto",
    backend: str = "auto",
    precision: str = "auto",
    batch: int = 1,
    threads: int | None = None,
    cache_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> BigGANGenerator:
    """Load a BigGAN-deep model and make it ready to paint.

    Parameters
    ----------
    name : str
        ``biggan-deep-128``, ``-256`` or ``-512``.
    weights : Path, optional
        A model directory; by default the user cache.
    device : str
        ``auto``, ``cpu`` or ``cuda``.
    backend : str
        ``auto``, ``eager``, ``compile`` or ``tensorrt``.
    precision : str
        ``auto``, ``fp32``, ``fp16`` or ``bf16``.
    batch : int
        Batch size compiled engines are built for.
    threads : int, optional
        CPU threads for torch.
    cache_dir : Path, optional
        Where compiled engines are kept; by default ``<model cache>/engines``.
    env : mapping, optional
        Environment for the cache location.
    warn : callable, optional
        Receives each fallback warning (default: the log).

    Raises
    ------
    WeightsMissingError, WeightsError, GeneratorError
        One line each.
    """
    say = warn or log.warning
    t_start = time.perf_counter()
    spec = model_spec(name)
    if precision != "auto" and precision not in PRECISIONS:
        raise GeneratorError(f"unknown precision '{precision}' (fp32, fp16, bf16 or auto)")
    if batch < 1:
        raise GeneratorError(f"batch must be at least 1, got {batch}")
    directory = find_model_dir(spec, weights, env)
    model = load_biggan(directory, resolution=spec.resolution)
    dev = pick_device(device)
    if threads is not None and dev.type == "cpu":
        torch.set_num_threads(int(threads))
    base = InferenceBigGAN(model).to(dev)
    engines = EngineCache(cache_dir or models_dir(env) / "engines")
    weights_path = weights_file(directory)
    key_base = {
        "model": spec.name,
        "resolution": spec.resolution,
        "weights": weights_fingerprint(weights_path) if weights_path else "",
        "torch": torch.__version__,
        "tensorrt": tensorrt_version(),
        "gpu": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
        "batch": batch,
    }
    z, y = probe_inputs(_PROBE_BATCH, base.z_dim, base.num_classes)
    z, y = z.to(dev), y.to(dev)
    base.set_truncation(_PROBE_TRUNCATION)
    with torch.inference_mode():
        reference = base(z, y).float()

    tried: list[Choice] = []
    for backend_name, precision_name in candidates(backend, precision, dev):
        label = f"{backend_name} {precision_name}"
        try:
            choice = _build_choice(
                base,
                backend_name,
                precision_name,
                batch=batch,
                engines=engines,
                key_fields={**key_base, "precision": precision_name, "backend": backend_name},
                prefix=spec.name,
                warn=say,
            )
        except GeneratorError as exc:
            say(f"{spec.name}: {label} unavailable ({exc}); trying a slower path")
            continue
        choice.accuracy = _measure(choice, z, y, reference)
        accurate = choice.accuracy is None or choice.accuracy.psnr_db >= MIN_PSNR_DB
        if not accurate:
            message = f"{spec.name}: {label} is only {choice.accuracy} from fp32"
            if precision == "auto":
                say(message + "; not used")
                continue
            say(message + " (used as asked)")
        tried.append(choice)
        if dev.type == "cuda" or backend != "auto" or precision != "auto":
            break  # on CUDA the order is already fastest first
    if not tried:
        raise GeneratorError(f"{spec.name}: no backend could be built on {dev.type}")
    if dev.type == "cpu" and backend == "auto" and precision == "auto":
        for choice in tried:
            choice.ms = _time_ms(choice, z[:1], y[:1])
        best = min(tried, key=lambda c: c.ms or 0.0)
    else:
        best = tried[0]
    warnings = []
    if backend not in ("auto", best.backend) or precision not in ("auto", best.precision):
        warnings.append(
            f"{backend} {precision} was asked for; running {best.backend} {best.precision}"
        )
    elif backend == "auto" and dev.type == "cuda" and best.backend != "tensorrt":
        warnings.append(f"running {best.backend} {best.precision}, not TensorRT")
    for text in warnings:
        say(f"{spec.name}: {text}")
    best.module.set_truncation(_PROBE_TRUNCATION)
    return BigGANGenerator(
        name=spec.name,
        module=best.module,
        runner=best.runner,
        device=dev,
        precision=best.precision,
        accuracy=best.accuracy,
        warnings=warnings,
        build_s=time.perf_counter() - t_start,
        weights_dir=directory,
    )


def _build_choice(
    base: InferenceBigGAN,
    backend: str,
    precision: str,
    *,
    batch: int,
    engines: EngineCache,
    key_fields: Mapping[str, object],
    prefix: str,
    warn: Callable[[str], None],
) -> Choice:
    dtype = PRECISIONS[precision]
    module = base if (dtype == torch.float32 and backend == "eager") else copy.deepcopy(base)
    module.cast_(dtype)
    if backend == "eager":
        runner = eager_runner(module)
    elif backend == "compile":
        runner = compile_runner(module, batch=batch, cache_dir=engines.directory)
    elif backend == "tensorrt":
        runner = tensorrt_runner(
            module, batch=batch, cache=engines, key_fields=key_fields, prefix=prefix, warn=warn
        )
    else:
        raise GeneratorError(f"unknown backend '{backend}' (eager, compile, tensorrt or auto)")
    return Choice(backend, precision, runner, module)


def _run(choice: Choice, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    gen = BigGANGenerator(
        name="probe",
        module=choice.module,
        runner=choice.runner,
        device=z.device,
        precision=choice.precision,
        accuracy=None,
    )
    return gen(z, y, _PROBE_TRUNCATION)


def _measure(
    choice: Choice, z: torch.Tensor, y: torch.Tensor, reference: torch.Tensor
) -> Accuracy | None:
    if choice.backend == "eager" and choice.precision == "fp32":
        return None
    return compare(_run(choice, z, y), reference)


def _time_ms(choice: Choice, z: torch.Tensor, y: torch.Tensor, calls: int = 3) -> float:
    _run(choice, z, y)
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        _run(choice, z, y)
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times)
