"""`ganterp models list|verify` and the show's hint when weights are absent."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from ganterp_cli import run_ganterp

from ganterp.models.biggan.synthetic import tiny_config, tiny_model, write_tiny_model


def _run(*args: str, cache: Path):
    return run_ganterp(*args, env={"GANTERP_MODELS": str(cache)}, timeout=120)


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    return write_tiny_model(tmp_path_factory.mktemp("w") / "biggan-deep-128", 128)


def test_list_shows_absent_then_present(weights, tmp_path) -> None:
    cache = tmp_path / "cache"
    proc = _run("models", "list", cache=cache)
    assert proc.returncode == 0, proc.stderr
    for name in ("biggan-deep-128", "biggan-deep-256", "biggan-deep-512"):
        line = next(row for row in proc.stdout.splitlines() if name in row)
        assert "absent" in line and f"ganterp models fetch {name}" in line
    shutil.copytree(weights, cache / "biggan-deep-128")
    proc = _run("models", "list", cache=cache)
    line = next(row for row in proc.stdout.splitlines() if "biggan-deep-128" in row)
    assert "present" in line and "MiB" in line and str(cache / "biggan-deep-128") in line


def test_verify_a_good_and_a_broken_directory(weights, tmp_path) -> None:
    proc = _run("models", "verify", str(weights), cache=tmp_path)
    assert proc.returncode == 0 and "ok (128 px" in proc.stdout, proc.stderr
    state = tiny_model(tiny_config(128)).state_dict()
    del state["generator.conv_to_rgb.bias"]
    broken = write_tiny_model(tmp_path / "broken", 128, state=state)
    proc = _run("models", "verify", str(broken), cache=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ganterp: error:")
    assert "generator.conv_to_rgb.bias" in lines[0]


def test_verify_finds_a_corrupted_fetched_file(weights, tmp_path) -> None:
    import json

    from ganterp.models.biggan.fetch import sha256_of

    directory = shutil.copytree(weights, tmp_path / "m")
    files = {
        p.name: {"size": p.stat().st_size, "sha256": sha256_of(p), "url": "x"}
        for p in directory.iterdir()
    }
    (directory / "ganterp-manifest.json").write_text(json.dumps({"files": files}))
    assert _run("models", "verify", str(directory), cache=tmp_path).returncode == 0
    state = torch.load(directory / "pytorch_model.bin", weights_only=True)
    state["embeddings.weight"] += 1.0  # same size, other contents
    torch.save(state, directory / "pytorch_model.bin")
    proc = _run("models", "verify", str(directory), cache=tmp_path)
    assert proc.returncode == 2 and "SHA-256 differs" in proc.stderr


def test_the_show_says_how_to_get_missing_weights(tmp_path) -> None:
    proc = _run(
        "live", "--generator", "biggan-deep-256", "--headless", "--seconds", "1", cache=tmp_path
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "ganterp models fetch biggan-deep-256" in lines[0] and "--weights" in lines[0]
    assert not list(tmp_path.glob("*.mp4"))
