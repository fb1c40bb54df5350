"""Weight downloads against a real HTTP server on 127.0.0.1 started by the test."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from models.biggan.catalog import MANIFEST_NAME, ModelSpec, RemoteFile
from models.biggan.fetch import DownloadError, download_file, fetch_model, verify_manifest

WEIGHTS = bytes(range(256)) * 4096  # 1 MiB
CONFIG = b'{"output_dim": 128}'


@dataclass
class Files:
    """What the server serves, what it saw, and how it misbehaves."""

    content: dict[str, bytes]
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    drop_after: dict[str, int] = field(default_factory=dict)  # cut the first response here


def _handler(files: Files) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            name = self.path.lstrip("/")
            rng = self.headers.get("Range")
            files.requests.append((name, rng))
            data = files.content.get(name)
            if data is None:
                self.send_error(404, "Not Found")
                return
            start = 0
            if rng:
                start = int(rng.removeprefix("bytes=").split("-")[0])
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            cut = files.drop_after.pop(name, None)
            if cut is not None:
                self.wfile.write(body[:cut])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.wfile.write(body)

    return Handler


@pytest.fixture
def server() -> Iterator[tuple[str, Files]]:
    files = Files({"m-config.json": CONFIG, "m-weights.bin": WEIGHTS})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(files))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", files
    finally:
        httpd.shutdown()
        httpd.server_close()


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


def test_download_whole_file_with_progress(server, tmp_path: Path) -> None:
    url, _ = server
    seen: list[tuple[str, int, int | None]] = []
    digest = download_file(
        f"{url}/m-weights.bin",
        tmp_path / "w.bin",
        progress=lambda *a: seen.append(a),
        chunk_bytes=65536,
    )
    assert (tmp_path / "w.bin").read_bytes() == WEIGHTS
    assert digest == hashlib.sha256(WEIGHTS).hexdigest()
    done = [d for _, d, _ in seen]
    assert done == sorted(done) and len(done) > 2
    assert seen[-1] == ("w.bin", len(WEIGHTS), len(WEIGHTS))


def test_dropped_connection_resumes_where_it_stopped(server, tmp_path: Path) -> None:
    url, files = server
    files.drop_after["m-weights.bin"] = 300_000
    digest = download_file(f"{url}/m-weights.bin", tmp_path / "w.bin", chunk_bytes=4096)
    assert (tmp_path / "w.bin").read_bytes() == WEIGHTS
    assert digest == hashlib.sha256(WEIGHTS).hexdigest()
    ranges = [r for name, r in files.requests if name == "m-weights.bin"]
    assert ranges[0] is None and len(ranges) == 2
    resumed_at = int(ranges[1].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at <= 300_000


def test_partial_file_from_an_earlier_run_is_continued(server, tmp_path: Path) -> None:
    url, files = server
    (tmp_path / "w.bin").write_bytes(WEIGHTS[:123_456])
    download_file(f"{url}/m-weights.bin", tmp_path / "w.bin", size=len(WEIGHTS))
    assert (tmp_path / "w.bin").read_bytes() == WEIGHTS
    assert files.requests == [("m-weights.bin", "bytes=123456-")]


def test_checksum_mismatch_leaves_nothing(server, tmp_path: Path) -> None:
    url, _ = server
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError, match="SHA-256 mismatch"):
        fetch_model(_spec(url, sha256="0" * 64), cache)
    assert not (cache / "biggan-deep-128").exists()
    assert not (cache / ".incoming" / "biggan-deep-128" / "pytorch_model.bin").exists()


def test_http_error_is_one_line_and_not_retried(server, tmp_path: Path) -> None:
    url, files = server
    with pytest.raises(DownloadError, match="HTTP 404") as err:
        download_file(f"{url}/nothing.bin", tmp_path / "x.bin")
    assert "\n" not in str(err.value)
    assert len(files.requests) == 1


def test_fetch_model_verifies_records_and_moves_into_place(server, tmp_path: Path) -> None:
    url, files = server
    cache = tmp_path / "cache"
    spec = _spec("http://127.0.0.1:9/unused", sha256=hashlib.sha256(WEIGHTS).hexdigest())
    directory = fetch_model(spec, cache, mirror=url)
    assert directory == cache / "biggan-deep-128"
    assert (directory / "pytorch_model.bin").read_bytes() == WEIGHTS
    assert (directory / "config.json").read_bytes() == CONFIG
    assert not (cache / ".incoming" / "biggan-deep-128").exists()
    assert verify_manifest(directory) == []
    # Weights present: no network at all the second time.
    count = len(files.requests)
    assert fetch_model(spec, cache, mirror="http://127.0.0.1:9/nothing-listens") == directory
    assert len(files.requests) == count
    # A flipped byte is found.
    data = bytearray(WEIGHTS)
    data[1000] ^= 0xFF
    (directory / "pytorch_model.bin").write_bytes(bytes(data))
    problems = verify_manifest(directory)
    assert len(problems) == 1 and "SHA-256" in problems[0]
    (directory / MANIFEST_NAME).write_text("{not json")
    assert "unreadable manifest" in verify_manifest(directory)[0]


def test_a_failed_fetch_keeps_the_previous_model(server, tmp_path: Path) -> None:
    url, files = server
    cache = tmp_path / "cache"
    old = cache / "biggan-deep-128"
    old.mkdir(parents=True)
    (old / "config.json").write_text("old")
    del files.content["m-weights.bin"]
    with pytest.raises(DownloadError):
        fetch_model(_spec(url), cache)
    assert (old / "config.json").read_text() == "old"


def test_fetch_command_downloads_a_loadable_model_from_a_mirror(server, tmp_path: Path) -> None:
    from ganterp_cli import run_ganterp

    from models.biggan.synthetic import write_tiny_model

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
