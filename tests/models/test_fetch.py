"""Weight downloads against a real HTTP server on 127.0.0.1 started by the test."""

from __future__ import annotations

import hashlib
import itertools
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ganterp.models.biggan.catalog import MANIFEST_NAME, ModelSpec, RemoteFile
from ganterp.models.biggan.fetch import DownloadError, download_file, fetch_model, verify_manifest

WEIGHTS = bytes(range(256)) * 4096  # 1 MiB
CONFIG = b'{"output_dim": 128}'
WEIGHTS_SHA = hashlib.sha256(WEIGHTS).hexdigest()
NOWHERE = "http://127.0.0.1:9/nothing-listens"


@dataclass
class Files:
    """What the server serves, what it saw, and how it misbehaves."""

    content: dict[str, bytes]
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    cuts: dict[str, list[int]] = field(default_factory=dict)  # per request: body bytes, then close
    errors: dict[str, list[int]] = field(default_factory=dict)  # per request: an error status
    ignore_range: bool = False
    watch: Path | None = None  # a file whose size on disk each request records
    on_disk: list[int | None] = field(default_factory=list)

    def ranges(self, name: str) -> list[str | None]:
        return [rng for seen, rng in self.requests if seen == name]


def _handler(files: Files) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            name = self.path.lstrip("/")
            rng = self.headers.get("Range")
            files.requests.append((name, rng))
            watched = files.watch is not None and files.watch.exists()
            files.on_disk.append(files.watch.stat().st_size if watched else None)
            data = files.content.get(name)
            if data is None:
                self.send_error(404, "Not Found")
                return
            if files.errors.get(name):
                self.send_error(files.errors[name].pop(0))
                return
            start = 0
            if rng and not files.ignore_range:
                start = int(rng.removeprefix("bytes=").split("-")[0])
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if files.cuts.get(name):
                self.wfile.write(body[: files.cuts[name].pop(0)])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(body)

    return Handler


@pytest.fixture
def server() -> Iterator[tuple[str, Files]]:
    files = Files({"m-config.json": CONFIG, "m-weights.bin": WEIGHTS})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(files))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", files
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def _spec(base_url: str, sha256: str | None = None) -> ModelSpec:
    return ModelSpec(
        name="biggan-deep-128",
        resolution=128,
        layers=(),
        files=(
            RemoteFile("config.json", "m-config.json"),
            RemoteFile("pytorch_model.bin", "m-weights.bin", size=len(WEIGHTS), sha256=sha256),
        ),
        base_url=base_url,
    )


def _start(rng: str | None) -> int:
    assert rng is not None and rng.endswith("-")
    return int(rng.removeprefix("bytes=").rstrip("-"))


def test_download_whole_file_with_progress(server, tmp_path: Path) -> None:
    url, files = server
    seen: list[tuple[str, int, int | None]] = []
    digest = download_file(
        f"{url}/m-weights.bin",
        tmp_path / "w.bin",
        progress=lambda *a: seen.append(a),
        chunk_bytes=65536,
    )
    assert (tmp_path / "w.bin").read_bytes() == WEIGHTS
    assert digest == WEIGHTS_SHA
    done = [d for _, d, _ in seen]
    assert len(done) > 2 and all(a < b for a, b in itertools.pairwise(done))
    assert seen[-1] == ("w.bin", len(WEIGHTS), len(WEIGHTS))
    assert files.ranges("m-weights.bin") == [None]


def test_dropped_connection_resumes_where_it_stopped(server, tmp_path: Path) -> None:
    url, files = server
    files.cuts["m-weights.bin"] = [300_000]
    files.watch = tmp_path / "w.bin"
    digest = download_file(f"{url}/m-weights.bin", files.watch, chunk_bytes=4096)
    assert files.watch.read_bytes() == WEIGHTS
    assert digest == WEIGHTS_SHA
    ranges = files.ranges("m-weights.bin")
    assert len(ranges) == 2 and ranges[0] is None
    # Resumed from exactly what reached the disk (at most one read chunk short of the cut).
    assert _start(ranges[1]) == files.on_disk[1]
    assert 300_000 - 4096 < _start(ranges[1]) <= 300_000


def test_dropped_ranged_response_resumes_again(server, tmp_path: Path) -> None:
    url, files = server
    files.cuts["m-weights.bin"] = [100_000, 200_000]
    files.watch = tmp_path / "w.bin"
    download_file(f"{url}/m-weights.bin", files.watch, chunk_bytes=4096)
    assert files.watch.read_bytes() == WEIGHTS
    starts = [_start(r) for r in files.ranges("m-weights.bin")[1:]]
    assert starts == files.on_disk[1:]
    assert 100_000 - 4096 < starts[0] <= 100_000 < starts[1] <= starts[0] + 200_000


def test_partial_file_from_an_earlier_run_is_continued(server, tmp_path: Path) -> None:
    url, files = server
    (tmp_path / "w.bin").write_bytes(WEIGHTS[:123_456])
    seen: list[int] = []
    digest = download_file(
        f"{url}/m-weights.bin",
        tmp_path / "w.bin",
        size=len(WEIGHTS),
        progress=lambda _name, done, _total: seen.append(done),
    )
    assert (tmp_path / "w.bin").read_bytes() == WEIGHTS
    assert digest == WEIGHTS_SHA
    assert files.requests == [("m-weights.bin", "bytes=123456-")]
    assert seen[0] > 123_456 and seen[-1] == len(WEIGHTS)


def test_server_ignoring_the_range_restarts_from_zero(server, tmp_path: Path) -> None:
    url, files = server
    files.ignore_range = True
    (tmp_path / "w.bin").write_bytes(WEIGHTS[:5000])
    digest = download_file(f"{url}/m-weights.bin", tmp_path / "w.bin")
    assert (tmp_path / "w.bin").read_bytes() == WEIGHTS  # not appended to the old bytes
    assert digest == WEIGHTS_SHA
    assert files.ranges("m-weights.bin") == ["bytes=5000-"]


def test_complete_file_answered_416_is_accepted(server, tmp_path: Path) -> None:
    url, files = server
    (tmp_path / "w.bin").write_bytes(WEIGHTS)
    digest = download_file(f"{url}/m-weights.bin", tmp_path / "w.bin", sha256=WEIGHTS_SHA)
    assert digest == WEIGHTS_SHA
    assert files.ranges("m-weights.bin") == [f"bytes={len(WEIGHTS)}-"]


def test_file_longer_than_the_remote_one_starts_over(server, tmp_path: Path) -> None:
    url, files = server
    (tmp_path / "w.bin").write_bytes(WEIGHTS + b"junk")
    assert download_file(f"{url}/m-weights.bin", tmp_path / "w.bin") == WEIGHTS_SHA
    assert (tmp_path / "w.bin").read_bytes() == WEIGHTS
    assert files.ranges("m-weights.bin") == [f"bytes={len(WEIGHTS) + 4}-", None]


def test_server_error_is_retried(server, tmp_path: Path) -> None:
    url, files = server
    files.errors["m-weights.bin"] = [503, 500]
    assert download_file(f"{url}/m-weights.bin", tmp_path / "w.bin") == WEIGHTS_SHA
    assert len(files.ranges("m-weights.bin")) == 3


def test_retries_run_out_and_the_partial_file_stays_for_later(server, tmp_path: Path) -> None:
    url, files = server
    files.cuts["m-weights.bin"] = [1000, 1000, 1000]
    dest = tmp_path / "w.bin"
    with pytest.raises(DownloadError, match="failed after 3 attempts") as err:
        download_file(f"{url}/m-weights.bin", dest, retries=2, chunk_bytes=100)
    assert "\n" not in str(err.value)
    assert len(files.requests) == 3
    kept = dest.stat().st_size
    assert 3 * 900 <= kept <= 3000 and dest.read_bytes() == WEIGHTS[:kept]
    download_file(f"{url}/m-weights.bin", dest, sha256=WEIGHTS_SHA)
    assert files.ranges("m-weights.bin")[-1] == f"bytes={kept}-"


def test_http_error_is_one_line_and_not_retried(server, tmp_path: Path) -> None:
    url, files = server
    with pytest.raises(DownloadError, match="HTTP 404") as err:
        download_file(f"{url}/nothing.bin", tmp_path / "x.bin")
    assert f"{url}/nothing.bin" in str(err.value) and "\n" not in str(err.value)
    assert len(files.requests) == 1
    assert not (tmp_path / "x.bin").exists()


def test_checksum_mismatch_deletes_the_download(server, tmp_path: Path) -> None:
    url, _ = server
    with pytest.raises(DownloadError, match="SHA-256 mismatch") as err:
        download_file(f"{url}/m-weights.bin", tmp_path / "w.bin", sha256="0" * 64)
    assert f"got {WEIGHTS_SHA}" in str(err.value)
    assert not (tmp_path / "w.bin").exists()


def test_checksum_mismatch_in_a_fetch_leaves_nothing(server, tmp_path: Path) -> None:
    url, files = server
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError, match="SHA-256 mismatch"):
        fetch_model(_spec(url, sha256="0" * 64), cache)
    assert not (cache / "biggan-deep-128").exists()
    staging = cache / ".incoming" / "biggan-deep-128"
    assert not (staging / "pytorch_model.bin").exists()
    assert (staging / "config.json").read_bytes() == CONFIG  # verified: kept for the next run
    # The next run asks for the rest of the kept file only (416: it is whole).
    files.requests.clear()
    fetch_model(_spec(url, sha256=WEIGHTS_SHA), cache)
    assert files.ranges("m-config.json") == [f"bytes={len(CONFIG)}-"]
    assert files.ranges("m-weights.bin") == [None]


def test_fetch_model_verifies_records_and_moves_into_place(server, tmp_path: Path) -> None:
    url, _ = server
    cache = tmp_path / "cache"
    spec = _spec(NOWHERE, sha256=WEIGHTS_SHA)
    directory = fetch_model(spec, cache, mirror=url)
    assert directory == cache / "biggan-deep-128"
    assert (directory / "pytorch_model.bin").read_bytes() == WEIGHTS
    assert (directory / "config.json").read_bytes() == CONFIG
    assert not (cache / ".incoming" / "biggan-deep-128").exists()
    manifest = json.loads((directory / MANIFEST_NAME).read_text())
    assert manifest == {
        "model": "biggan-deep-128",
        "files": {
            "config.json": {
                "size": len(CONFIG),
                "sha256": hashlib.sha256(CONFIG).hexdigest(),
                "url": f"{url}/m-config.json",
            },
            "pytorch_model.bin": {
                "size": len(WEIGHTS),
                "sha256": WEIGHTS_SHA,
                "url": f"{url}/m-weights.bin",
            },
        },
    }
    assert verify_manifest(directory) == []
    # A flipped byte is found.
    data = bytearray(WEIGHTS)
    data[1000] ^= 0xFF
    (directory / "pytorch_model.bin").write_bytes(bytes(data))
    problems = verify_manifest(directory)
    assert len(problems) == 1 and "SHA-256" in problems[0] and "pytorch_model.bin" in problems[0]
    (directory / "config.json").unlink()
    assert any("config.json: missing" in p for p in verify_manifest(directory))
    (directory / MANIFEST_NAME).write_text("{not json")
    assert "unreadable manifest" in verify_manifest(directory)[0]
    (directory / MANIFEST_NAME).unlink()
    assert verify_manifest(directory) == []  # nothing to check against


def test_a_present_model_needs_no_network(server, tmp_path: Path) -> None:
    url, files = server
    cache = tmp_path / "cache"
    spec = _spec(url, sha256=WEIGHTS_SHA)
    directory = fetch_model(spec, cache)
    count = len(files.requests)
    assert fetch_model(spec, cache, mirror=NOWHERE, retries=0) == directory
    assert len(files.requests) == count


def _old_model(cache: Path, file: str) -> Path:
    """A model directory from before, holding one file that says ``old``."""
    old = cache / "biggan-deep-128"
    old.mkdir(parents=True)
    (old / file).write_text("old")
    return old


def test_an_outdated_model_is_replaced_whole(server, tmp_path: Path) -> None:
    url, _ = server
    cache = tmp_path / "cache"
    _old_model(cache, "stale.txt")
    directory = fetch_model(_spec(url), cache)
    assert sorted(p.name for p in directory.iterdir()) == [
        "config.json",
        MANIFEST_NAME,
        "pytorch_model.bin",
    ]
    assert sorted(p.name for p in cache.iterdir()) == [".incoming", "biggan-deep-128"]


def test_a_failed_fetch_keeps_the_previous_model(server, tmp_path: Path) -> None:
    url, files = server
    cache = tmp_path / "cache"
    old = _old_model(cache, "config.json")
    del files.content["m-weights.bin"]
    with pytest.raises(DownloadError, match="HTTP 404"):
        fetch_model(_spec(url), cache)
    assert [p.name for p in old.iterdir()] == ["config.json"]
    assert (old / "config.json").read_text() == "old"


@pytest.mark.slow  # three ganterp processes, each importing torch
def test_fetch_command_downloads_a_loadable_model_from_a_mirror(server, tmp_path: Path) -> None:
    from ganterp_cli import run_ganterp

    from ganterp.models.biggan.synthetic import write_tiny_model

    url, files = server
    model = write_tiny_model(tmp_path / "src", 128)
    files.content["biggan-deep-128-config.json"] = (model / "config.json").read_bytes()
    files.content["biggan-deep-128-pytorch_model.bin"] = (model / "pytorch_model.bin").read_bytes()

    def ganterp(*args: str):
        return run_ganterp(*args, env={"GANTERP_MODELS": str(tmp_path / "cache")}, timeout=120)

    proc = ganterp("models", "fetch", "biggan-deep-128", "--url", url)
    assert proc.returncode == 0, proc.stderr
    directory = tmp_path / "cache" / "biggan-deep-128"
    assert f"is in {directory}" in proc.stdout
    assert "pytorch_model.bin" in proc.stdout  # the progress bar names the file
    assert "present" in ganterp("models", "list").stdout
    verified = ganterp("models", "verify", "biggan-deep-128")
    assert verified.returncode == 0 and "checksums match" in verified.stdout
