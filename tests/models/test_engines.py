"""The compiled-engine cache: keyed by everything that matters, corrupt entries rebuilt."""

from __future__ import annotations

import pickle
from pathlib import Path

from ganterp.models.biggan.engines import EngineCache, engine_key

FIELDS = {"model": "biggan-deep-256", "precision": "fp16", "batch": 1, "gpu": "H100"}


def _cache(tmp_path: Path):
    built: list[int] = []

    def build() -> dict:
        built.append(1)
        return {"engine": len(built)}

    def save(engine: dict, path: Path) -> None:
        path.write_bytes(pickle.dumps(engine))

    def load(path: Path) -> dict:
        return pickle.loads(path.read_bytes())

    return EngineCache(tmp_path / "engines"), built, build, save, load


def test_built_once_then_loaded(tmp_path: Path) -> None:
    cache, built, build, save, load = _cache(tmp_path)
    path = cache.path("biggan-deep-256", FIELDS, ".ep")
    engine, cached = cache.get_or_build(path, build=build, save=save, load=load)
    assert (engine, cached, len(built)) == ({"engine": 1}, False, 1)
    engine, cached = cache.get_or_build(path, build=build, save=save, load=load)
    assert (engine, cached, len(built)) == ({"engine": 1}, True, 1)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary files


def test_corrupt_entry_is_rebuilt_with_a_warning(tmp_path: Path) -> None:
    cache, built, build, save, load = _cache(tmp_path)
    path = cache.path("m", FIELDS, ".ep")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x00garbage")
    warnings: list[str] = []
    engine, cached = cache.get_or_build(
        path, build=build, save=save, load=load, warn=warnings.append
    )
    assert not cached and len(built) == 1
    assert len(warnings) == 1 and "unreadable" in warnings[0] and "rebuilding" in warnings[0]
    assert load(path) == engine


def test_failed_save_warns_and_still_returns_the_engine(tmp_path: Path) -> None:
    cache, _, build, _, load = _cache(tmp_path)

    def broken_save(engine: dict, path: Path) -> None:
        raise OSError("disk full")

    warnings: list[str] = []
    path = cache.path("m", FIELDS, ".ep")
    engine, _ = cache.get_or_build(
        path, build=build, save=broken_save, load=load, warn=warnings.append
    )
    assert engine == {"engine": 1} and "disk full" in warnings[0]
    assert not path.exists() and list(path.parent.iterdir()) == []


def test_key_covers_every_field_and_ignores_order() -> None:
    key = engine_key(FIELDS)
    assert engine_key(dict(reversed(list(FIELDS.items())))) == key
    for field, other in (("precision", "fp32"), ("batch", 4), ("gpu", "H200"), ("model", "x")):
        assert engine_key({**FIELDS, field: other}) != key
    assert engine_key({**FIELDS, "tensorrt": "10.1"}) != key
