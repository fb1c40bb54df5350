"""Downloading model weights, on purpose only: resumable, verified, moved into place at once.

Used by ``ganterp models fetch``; nothing else in ganterp touches the network.
Files are downloaded into ``<cache>/.incoming/<model>/`` (kept between runs, so
an interrupted fetch resumes with an HTTP range request), checked (size, and
SHA-256 where the catalogue knows it), listed with their sizes and SHA-256 in a
manifest, and the finished directory is moved to ``<cache>/<model>`` in one
rename: the cache never holds half a model.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from models.biggan.catalog import MANIFEST_NAME, ModelSpec
from models.errors import GeneratorError

ProgressFn = Callable[[str, int, int | None], None]
"""Called as ``progress(file name, bytes done, total bytes or None)``."""

_HASH_CHUNK = 1 << 20


class DownloadError(GeneratorError):
    """A download failed or its result did not check out."""


def sha256_of(path: Path) -> str:
    """Lower-case hex SHA-256 of a file's contents."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _total_from(response: Any, offset: int) -> int | None:
    if response.status_code == 206:
        content_range = response.headers.get("Content-Range", "")
        total = content_range.rpartition("/")[2]
        return int(total) if total.isdigit() else None
    length = response.headers.get("Content-Length")
    return int(length) + offset if length and length.isdigit() else None


def _attempt(
    session: Any,
    url: str,
    dest: Path,
    *,
    name: str,
    progress: ProgressFn | None,
    timeout_s: float,
    chunk_bytes: int,
) -> int | None:
    """One request: append what the server sends to ``dest``; return the expected total."""
    offset = dest.stat().st_size if dest.exists() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    with session.get(url, headers=headers, stream=True, timeout=timeout_s) as response:
        if response.status_code == 416 and offset:
            return offset  # nothing more to send: the file is already whole
        if response.status_code >= 400:
            raise DownloadError(
                f"{url}: HTTP {response.status_code} {response.reason or ''}".strip()
            )
        if response.status_code != 206:
            offset = 0  # the server ignored the range: start again
        total = _total_from(response, offset)
        with dest.open("r+b" if offset else "wb") as f:
            f.seek(offset)
            f.truncate()
            done = offset
            for chunk in response.iter_content(chunk_size=chunk_bytes):
                f.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(name, done, total)
    return total


def download_file(
    url: str,
    dest: Path,
    *,
    size: int | None = None,
    sha256: str | None = None,
    progress: ProgressFn | None = None,
    session: Any = None,
    retries: int = 5,
    timeout_s: float = 30.0,
    chunk_bytes: int = 1 << 20,
) -> str:
    """Download ``url`` to ``dest``, resuming what is already there.

    Parameters
    ----------
    url : str
        HTTP(S) address.
    dest : Path
        Target file; an existing partial file is continued with a range request.
    size : int, optional
        Expected size in bytes.
    sha256 : str, optional
        Expected lower-case hex SHA-256.
    progress : callable, optional
        See :data:`ProgressFn`.
    session : requests.Session, optional
        HTTP session (a new one by default).
    retries : int
        Further attempts after a dropped connection or a short body.
    timeout_s : float
        Connect and read timeout, seconds.
    chunk_bytes : int
        Read size, bytes.

    Returns
    -------
    str
        The file's SHA-256.

    Raises
    ------
    DownloadError
        HTTP errors (4xx are not retried), repeated connection failures, or a
        size or SHA-256 mismatch (the file is then deleted).
    """
    import requests

    http = session or requests.Session()
    name = dest.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    total: int | None = None
    for attempt in range(retries + 1):
        try:
            total = _attempt(
                http,
                url,
                dest,
                name=name,
                progress=progress,
                timeout_s=timeout_s,
                chunk_bytes=chunk_bytes,
            )
        except DownloadError:
            raise
        except (requests.RequestException, OSError) as exc:
            if attempt == retries:
                raise DownloadError(
                    f"{url}: download failed after {retries + 1} attempts ({type(exc).__name__})"
                ) from None
            time.sleep(0.1 * (attempt + 1))
            continue
        have = dest.stat().st_size
        if total is None or have >= total:
            break
        if attempt == retries:  # the body ended early every time
            raise DownloadError(f"{url}: got {have} of {total} bytes after {retries + 1} attempts")
        time.sleep(0.1 * (attempt + 1))
    have = dest.stat().st_size
    expected_size = size if size is not None else total
    if expected_size is not None and have != expected_size:
        dest.unlink(missing_ok=True)
        raise DownloadError(f"{url}: size mismatch: expected {expected_size} bytes, got {have}")
    digest = sha256_of(dest)
    if sha256 is not None and digest != sha256.lower():
        dest.unlink(missing_ok=True)
        raise DownloadError(f"{url}: SHA-256 mismatch: expected {sha256.lower()}, got {digest}")
    return digest


def _manifest_complete(directory: Path) -> bool:
    try:
        manifest = json.loads((directory / MANIFEST_NAME).read_text(encoding="utf-8"))
        files = manifest["files"]
        return all(
            (directory / name).is_file() and (directory / name).stat().st_size == entry["size"]
            for name, entry in files.items()
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def fetch_model(
    spec: ModelSpec,
    cache_dir: Path,
    *,
    mirror: str | None = None,
    progress: ProgressFn | None = None,
    session: Any = None,
    retries: int = 5,
) -> Path:
    """Download a model into ``cache_dir / spec.name``, unless it is already complete there.

    Parameters
    ----------
    spec : ModelSpec
        What to fetch.
    cache_dir : Path
        The model cache.
    mirror : str, optional
        Base URL holding the published file names, instead of the published server.
    progress : callable, optional
        See :data:`ProgressFn`.
    session : requests.Session, optional
        HTTP session.
    retries : int
        Further attempts per file after a dropped connection.

    Returns
    -------
    Path
        The model directory.

    Raises
    ------
    DownloadError
        With the final directory untouched.
    """
    final = cache_dir / spec.name
    if _manifest_complete(final):
        return final
    staging = cache_dir / ".incoming" / spec.name
    staging.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict[str, Any]] = {}
    for file in spec.files:
        url = spec.url(file, mirror)
        digest = download_file(
            url,
            staging / file.name,
            size=file.size,
            sha256=file.sha256,
            progress=progress,
            session=session,
            retries=retries,
        )
        files[file.name] = {
            "size": (staging / file.name).stat().st_size,
            "sha256": digest,
            "url": url,
        }
    manifest = {"model": spec.name, "files": files}
    (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    old = cache_dir / f".old-{spec.name}-{os.getpid()}"
    if final.exists():
        os.replace(final, old)
    os.replace(staging, final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def verify_manifest(directory: Path) -> list[str]:
    """Check a directory's files against its manifest.

    Returns
    -------
    list of str
        One line per problem (missing file, wrong size, wrong SHA-256, an
        unreadable manifest); empty when all match or when there is no
        manifest (a directory not made by :func:`fetch_model`; its tensors are
        still checked when loaded).
    """
    path = directory / MANIFEST_NAME
    if not path.is_file():
        return []
    try:
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
        entries = [(str(n), int(e["size"]), str(e["sha256"])) for n, e in files.items()]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return [f"{path}: unreadable manifest ({type(exc).__name__})"]
    problems = []
    for name, size, digest in entries:
        file = directory / name
        if not file.is_file():
            problems.append(f"{file}: missing")
        elif file.stat().st_size != size:
            problems.append(f"{file}: {file.stat().st_size} bytes, expected {size}")
        elif sha256_of(file) != digest:
            problems.append(f"{file}: SHA-256 differs from the manifest (corrupt file)")
    return problems
