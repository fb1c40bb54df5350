"""Downloading model weights, on purpose only: resumable, verified, moved into place at once.

Used by ``ganterp models fetch``; nothing else in ganterp touches the network.
Files are downloaded into ``<cache>/.incoming/<model>/`` (kept between runs, so
an interrupted fetch resumes with an HTTP range request), checked (size, and
SHA-256 where the catalogue knows it), listed with their sizes and SHA-256 in a
manifest, and the finished directory is moved to ``<cache>/<model>`` in one
rename: the cache never holds half a model.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganterp.models.biggan.catalog import MANIFEST_NAME, ModelSpec
from ganterp.models.errors import GeneratorError

if TYPE_CHECKING:
    import requests

ProgressFn = Callable[[str, int, int | None], None]
"""Called as ``progress(file name, bytes done, total bytes or None)``."""

_HASH_CHUNK = 1 << 20
_BACKOFF_S = 0.1
"""Pause before attempt ``n + 1`` after a failed attempt ``n``: ``n * _BACKOFF_S`` seconds."""


class DownloadError(GeneratorError):
    """A download failed or its result did not check out."""


class _RetryableError(Exception):
    """A failed attempt worth another one: a server error or a body cut short."""


def sha256_of(path: Path) -> str:
    """Lower-case hex SHA-256 of a file's contents."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _size_on_disk(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _content_range(response: requests.Response) -> tuple[int | None, int | None]:
    """Start and total of a ``Content-Range: bytes S-E/T`` (or ``bytes */T``) header."""
    value = response.headers.get("Content-Range", "")
    span, _, total = value.removeprefix("bytes ").partition("/")
    start = span.partition("-")[0]
    return (
        int(start) if start.isdigit() else None,
        int(total) if total.isdigit() else None,
    )


def _check_status(response: requests.Response, url: str) -> None:
    """Raise for an HTTP error: 5xx may pass on retrying, 4xx will not."""
    status = response.status_code
    if status < 400:
        return
    message = f"{url}: HTTP {status} {response.reason or ''}".strip()
    if status >= 500:
        raise _RetryableError(message)
    raise DownloadError(message)


def _require_whole(response: requests.Response, dest: Path, offset: int, size: int | None) -> None:
    """Accept a 416 answer to ``Range: bytes=offset-`` when the file on disk is complete.

    Complete means as long as the server's ``Content-Range: bytes */T`` says
    (or as ``size``, when the server does not say). Otherwise the file on disk
    is not a prefix of the remote one: it is deleted and the next attempt
    starts from 0.
    """
    _, total = _content_range(response)
    if offset == (total if total is not None else size):
        return
    dest.unlink(missing_ok=True)
    raise _RetryableError(f"{dest.name}: {offset} bytes on disk, server has {total}; starting over")


def _attempt(
    session: requests.Session,
    url: str,
    dest: Path,
    *,
    size: int | None,
    progress: ProgressFn | None,
    timeout_s: float,
    chunk_bytes: int,
) -> int | None:
    """One request: continue ``dest`` with what the server sends.

    Returns
    -------
    int or None
        The whole file's size in bytes as the server announced it, if it did.
    """
    import requests

    offset = _size_on_disk(dest)
    # Identity encoding: byte ranges and Content-Length then count the file's own bytes.
    headers = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    with session.get(url, headers=headers, stream=True, timeout=timeout_s) as response:
        if response.status_code == 416 and offset:
            _require_whole(response, dest, offset, size)
            return offset
        _check_status(response, url)
        if response.status_code == 206:
            start, total = _content_range(response)
            if start != offset:
                raise DownloadError(f"{url}: asked for bytes from {offset}, got from {start}")
        else:  # the server ignored the range: start again from 0
            offset = 0
            length = response.headers.get("Content-Length", "")
            total = int(length) if length.isdigit() else None
        try:
            _write_body(response, dest, offset, total, progress, chunk_bytes)
        except requests.RequestException:
            raise  # a network error (these are OSErrors too): worth another attempt
        except OSError as exc:
            raise DownloadError(f"{dest}: cannot write ({exc.strerror or exc})") from None
    return total


def _write_body(
    response: requests.Response,
    dest: Path,
    offset: int,
    total: int | None,
    progress: ProgressFn | None,
    chunk_bytes: int,
) -> None:
    """Write the body at ``offset`` of ``dest`` (truncating there), reporting progress."""
    with dest.open("r+b" if offset else "wb") as f:
        f.seek(offset)
        f.truncate()
        done = offset
        for chunk in response.iter_content(chunk_size=chunk_bytes):
            f.write(chunk)
            done += len(chunk)
            if progress is not None:
                progress(dest.name, done, total)


def _download_with_retries(
    session: requests.Session,
    url: str,
    dest: Path,
    *,
    size: int | None,
    progress: ProgressFn | None,
    retries: int,
    timeout_s: float,
    chunk_bytes: int,
) -> int | None:
    """Attempt until ``dest`` holds as many bytes as the server announced; return that total."""
    import requests

    for attempt in range(1, retries + 2):
        try:
            total = _attempt(
                session,
                url,
                dest,
                size=size,
                progress=progress,
                timeout_s=timeout_s,
                chunk_bytes=chunk_bytes,
            )
            have = _size_on_disk(dest)
            if total is not None and have < total:
                raise _RetryableError(f"{url}: body ended at {have} of {total} bytes")
            return total
        except (requests.RequestException, _RetryableError) as exc:
            if attempt > retries:
                reason = str(exc) if isinstance(exc, _RetryableError) else type(exc).__name__
                raise DownloadError(f"{url}: failed after {attempt} attempts ({reason})") from None
            time.sleep(_BACKOFF_S * attempt)
    raise DownloadError(f"{url}: retries must be 0 or more, not {retries}")


def download_file(
    url: str,
    dest: Path,
    *,
    size: int | None = None,
    sha256: str | None = None,
    progress: ProgressFn | None = None,
    session: requests.Session | None = None,
    retries: int = 5,
    timeout_s: float = 30.0,
    chunk_bytes: int = 1 << 20,
) -> str:
    """Download ``url`` to ``dest``, resuming what is already there.

    An existing ``dest`` is continued with ``Range: bytes=N-``; a 200 answer
    restarts from 0, and a 416 answer accepts the file when its size is the
    server's (or ``size``). Dropped connections, bodies cut short and 5xx
    answers are retried, resuming from what is on disk (a drop can lose the
    last partly read chunk, which is then asked for again).

    Parameters
    ----------
    url : str
        HTTP(S) address.
    dest : Path
        Target file; its directory is created.
    size : int, optional
        Expected size in bytes.
    sha256 : str, optional
        Expected hex SHA-256.
    progress : callable, optional
        See :data:`ProgressFn`; called with ``dest.name``.
    session : requests.Session, optional
        HTTP session (a new one by default).
    retries : int
        Further attempts after a failed one; the n-th waits ``0.1 * n`` s.
    timeout_s : float
        Connect and read timeout, seconds.
    chunk_bytes : int
        Read size, bytes.

    Returns
    -------
    str
        The whole file's lower-case hex SHA-256 (hashed from disk).

    Raises
    ------
    DownloadError
        An HTTP 4xx answer (not retried), failures on every attempt, a local
        write error, or a size or SHA-256 mismatch (``dest`` is then deleted).
    """
    import requests

    dest.parent.mkdir(parents=True, exist_ok=True)
    owned = requests.Session() if session is None else contextlib.nullcontext(session)
    with owned as http:
        total = _download_with_retries(
            http,
            url,
            dest,
            size=size,
            progress=progress,
            retries=retries,
            timeout_s=timeout_s,
            chunk_bytes=chunk_bytes,
        )
    return _verify_download(url, dest, size if size is not None else total, sha256)


def _verify_download(url: str, dest: Path, size: int | None, sha256: str | None) -> str:
    """Check a finished download's size and SHA-256, deleting it on a mismatch."""
    have = _size_on_disk(dest)
    if size is not None and have != size:
        dest.unlink(missing_ok=True)
        raise DownloadError(f"{url}: size mismatch: expected {size} bytes, got {have}")
    digest = sha256_of(dest)
    if sha256 is not None and digest != sha256.lower():
        dest.unlink(missing_ok=True)
        raise DownloadError(f"{url}: SHA-256 mismatch: expected {sha256.lower()}, got {digest}")
    return digest


def _manifest_complete(directory: Path, spec: ModelSpec) -> bool:
    """Whether ``directory`` holds every file of ``spec`` with its manifest's size."""
    try:
        manifest = json.loads((directory / MANIFEST_NAME).read_text(encoding="utf-8"))
        files = manifest["files"]
        if not {file.name for file in spec.files} <= set(files):
            return False
        return all(
            (directory / name).is_file() and (directory / name).stat().st_size == entry["size"]
            for name, entry in files.items()
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _move_into_place(staging: Path, final: Path) -> None:
    """Replace ``final`` by ``staging``; on failure ``final`` is as it was."""
    old = final.with_name(f".old-{final.name}-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    try:
        if final.exists():
            os.replace(final, old)
        try:
            os.replace(staging, final)
        except OSError:
            if old.exists():
                os.replace(old, final)
            raise
    except OSError as exc:
        raise DownloadError(f"cannot move {staging} to {final}: {exc.strerror or exc}") from None
    shutil.rmtree(old, ignore_errors=True)


def fetch_model(
    spec: ModelSpec,
    cache_dir: Path,
    *,
    mirror: str | None = None,
    progress: ProgressFn | None = None,
    session: requests.Session | None = None,
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
        Further attempts per file after a failed one.

    Returns
    -------
    Path
        The model directory. When it already holds every file with the size its
        manifest records, it is returned without any network access.

    Raises
    ------
    DownloadError
        With the final directory untouched; verified files stay in
        ``cache_dir / ".incoming" / spec.name`` for the next attempt.
    """
    final = cache_dir / spec.name
    if _manifest_complete(final, spec):
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
    _move_into_place(staging, final)
    return final


def verify_manifest(directory: Path) -> list[str]:
    """Check a directory's files against its manifest, re-hashing each one.

    Parameters
    ----------
    directory : Path
        A model directory.

    Returns
    -------
    list of str
        One line per problem (missing file, wrong size, wrong SHA-256, an
        unreadable manifest). Empty when all match, and also when there is no
        manifest at all (a directory not made by :func:`fetch_model`): callers
        tell that case apart by the manifest file's absence and report that the
        checksums were not verified.
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
        elif sha256_of(file) != digest.lower():
            problems.append(f"{file}: SHA-256 differs from the manifest (corrupt file)")
    return problems
