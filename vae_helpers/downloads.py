"""Download the full MNIST and Fashion-MNIST IDX files into a cache folder, checked by SHA-256.

Nothing here runs on import: the notebooks work offline from the 5,000 digits shipped in data/, and
only call fetch_split when a reader asks for the full datasets.
"""

import gzip
import hashlib
import http.client
import os
import struct
import tempfile
import urllib.error
import urllib.request
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

_CHUNK = 1 << 16  # 64 KiB: small enough for a smooth progress bar, large enough to be cheap
_OFFLINE_HINT = 'load_digits(name="mnist-5k") uses the 5,000 real digits shipped in data/ and needs no network.'
_IDX_UINT8 = 0x08


@dataclass(frozen=True)
class RemoteFile:
    """One downloadable file and the SHA-256 of its exact bytes."""

    filename: str
    sha256: str


@dataclass(frozen=True)
class RemoteDataset:
    """A dataset's four IDX files, the mirrors that serve them (tried in order) and its licence."""

    name: str
    mirrors: tuple[str, ...]
    files: dict  # "train-images", "train-labels", "test-images", "test-labels" -> RemoteFile
    licence: str


def _idx_files(train_images, train_labels, test_images, test_labels):
    # MNIST and Fashion-MNIST use the same four file names; only the hashes differ.
    return {
        "train-images": RemoteFile("train-images-idx3-ubyte.gz", train_images),
        "train-labels": RemoteFile("train-labels-idx1-ubyte.gz", train_labels),
        "test-images": RemoteFile("t10k-images-idx3-ubyte.gz", test_images),
        "test-labels": RemoteFile("t10k-labels-idx1-ubyte.gz", test_labels),
    }


REMOTE_DATASETS = {
    "mnist": RemoteDataset(
        name="mnist",
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        files=_idx_files(
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        ),
        licence="CC BY-SA 3.0 (Yann LeCun, Corinna Cortes, Christopher J.C. Burges)",
    ),
    "fashion-mnist": RemoteDataset(
        name="fashion-mnist",
        mirrors=(
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ),
        files=_idx_files(
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        ),
        licence="MIT (Zalando Research, Xiao, Rasul and Vollgraf 2017)",
    ),
}


class DownloadError(RuntimeError):
    """Raised when no mirror delivered a file with the expected SHA-256."""


class _MirrorFailure(Exception):
    """One mirror's failure; network=True when the mirror could not be reached at all."""

    def __init__(self, reason, *, network=False):
        super().__init__(reason)
        self.network = network


def _sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _describe(exc):
    # URLError wraps the interesting part (connection refused, name resolution) in .reason.
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        return f"cannot connect: {exc.reason}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _open(url, timeout):
    """Open url, turning every way it can fail into a _MirrorFailure."""
    try:
        return urllib.request.urlopen(url, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()  # the server answered, so the network itself works
        raise _MirrorFailure(f"HTTP {exc.code} {exc.reason}") from exc
    except (OSError, http.client.HTTPException, ValueError) as exc:
        # OSError before any response (refused, unresolvable, timed out) means the mirror is unreachable.
        raise _MirrorFailure(_describe(exc), network=isinstance(exc, OSError)) from exc


def _stream(response, out, filename, progress):
    """Copy response into the open file out, showing progress; return the SHA-256 of the bytes received."""
    length = response.headers.get("Content-Length", "")
    total = int(length) if length.strip().isdigit() else None
    digest, received = hashlib.sha256(), 0
    try:
        bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=filename, disable=not progress)
        with bar:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    except (OSError, http.client.HTTPException) as exc:
        raise _MirrorFailure(f"transfer broke off after {received:,} bytes ({_describe(exc)})") from exc
    # http.client returns b"" instead of raising when the server closes early, so compare with Content-Length.
    if total is not None and received != total:
        raise _MirrorFailure(f"transfer cut short: received {received:,} of {total:,} bytes")
    return digest.hexdigest()


def _fetch_from_mirror(url, remote, dest, *, progress, timeout):
    """Download url to dest via a temporary file beside it; raise _MirrorFailure if anything goes wrong."""
    # A unique temporary name in the same folder: os.replace is then atomic and parallel runs do not collide.
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=remote.filename + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, _open(url, timeout) as response:
            actual = _stream(response, out, remote.filename, progress)
        if actual != remote.sha256:
            raise _MirrorFailure(f"checksum mismatch: expected SHA-256 {remote.sha256}, got {actual}")
        os.replace(tmp_name, dest)
    finally:
        # Whatever happened (failure, Ctrl-C), no partial or unverified file stays in the cache.
        Path(tmp_name).unlink(missing_ok=True)


def _failure_message(remote, attempts, stale_note):
    lines = [f"Could not download {remote.filename} from any mirror:"]
    lines += [f"  - {url}: {failure}" for url, failure in attempts]
    if stale_note:
        lines.append(stale_note)
    if all(failure.network for _, failure in attempts):
        lines.append("The network seems unreachable: no mirror could be contacted. Check your connection or proxy.")
        lines.append(f"To work offline, {_OFFLINE_HINT}")
    else:
        lines.append(f"Try again later, or work offline: {_OFFLINE_HINT}")
    return "\n".join(lines)


def download_file(remote, mirrors, cache_dir, *, progress=True, timeout=30.0):
    """Return the path of remote's file in cache_dir, downloading it first if needed.

    Args:
        remote: the RemoteFile to fetch; a cached copy is used only if its SHA-256 matches.
        mirrors: base URLs (ending in "/"), tried in order until one delivers the right bytes.
        cache_dir: folder for the downloaded files; created if missing.
        progress: show a tqdm progress bar while downloading.
        timeout: seconds to wait on each connection or read before giving up on a mirror.

    Returns:
        Path to cache_dir/remote.filename, whose SHA-256 equals remote.sha256.

    Raises:
        DownloadError: no mirror delivered the file; the message lists what went wrong at each mirror.
    """
    mirrors = (mirrors,) if isinstance(mirrors, str) else tuple(mirrors)
    if not mirrors:
        raise ValueError(f"no mirrors given for {remote.filename}")
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    dest = cache_dir / remote.filename
    stale_note = None
    if dest.exists():
        actual = _sha256_of(dest)
        if actual == remote.sha256:
            return dest
        # A stale or damaged copy: remove it so that a failed re-download cannot leave it behind.
        stale_note = f"The cached copy {dest} had SHA-256 {actual} instead of {remote.sha256}; it was removed."
        warnings.warn(f"{stale_note} Downloading it again.", stacklevel=2)
        dest.unlink()
    attempts = []
    for base in mirrors:
        url = (base if base.endswith("/") else base + "/") + remote.filename
        try:
            _fetch_from_mirror(url, remote, dest, progress=progress, timeout=timeout)
            return dest
        except _MirrorFailure as failure:
            attempts.append((url, failure))
    raise DownloadError(_failure_message(remote, attempts, stale_note))


def read_idx(path):
    """Read an IDX file of unsigned bytes (gzipped or plain) and return it as a uint8 array.

    Args:
        path: the file, e.g. "train-images-idx3-ubyte.gz".

    Returns:
        uint8 array with the shape given by the file's header, e.g. (60000, 28, 28).

    Raises:
        ValueError: the file is not a valid uint8 IDX file, or its payload does not match the header.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":  # gzip's own magic number
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{path}: not a readable gzip file ({exc})") from exc
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] != _IDX_UINT8 or raw[3] == 0:
        raise ValueError(
            f"{path}: bad IDX magic number {raw[:4].hex()!r}; expected 0000 08 followed by a dimension count >= 1"
        )
    ndim = raw[3]
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise ValueError(f"{path}: header cut short; expected {ndim} dimension sizes ({header_len} bytes)")
    shape = struct.unpack(f">{ndim}I", raw[4:header_len])
    expected = int(np.prod(shape, dtype=np.int64))
    payload = len(raw) - header_len
    if payload != expected:
        raise ValueError(f"{path}: payload is {payload:,} bytes; expected {expected:,} for shape {shape}")
    # Copy so the caller gets a writable array rather than a view of immutable bytes.
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(shape).copy()


def fetch_split(dataset, split, cache_dir, *, progress=True):
    """Download (if needed) and read the images and labels of one split of a dataset.

    Args:
        dataset: a RemoteDataset, e.g. REMOTE_DATASETS["mnist"].
        split: "train" or "test".
        cache_dir: folder for the downloaded files.
        progress: show a progress bar while downloading.

    Returns:
        (images, labels): uint8 arrays of shape (N, 28, 28) and (N,).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    image_file = download_file(dataset.files[f"{split}-images"], dataset.mirrors, cache_dir, progress=progress)
    label_file = download_file(dataset.files[f"{split}-labels"], dataset.mirrors, cache_dir, progress=progress)
    images, labels = read_idx(image_file), read_idx(label_file)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"{image_file}: expected images of shape (N, 28, 28), got {images.shape}")
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"{label_file}: expected {len(images)} labels of shape ({len(images)},), got {labels.shape}")
    return images, labels
