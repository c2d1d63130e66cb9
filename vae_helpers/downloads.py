"""Download the full MNIST and Fashion-MNIST IDX files into a cache folder, checked by SHA-256.

pooch (the downloader of SciPy's and scikit-image's datasets; Colab preinstalls it) fetches each file: it streams
to a temporary file beside the cache, with a progress bar, checks the SHA-256 and only then moves the file into
place, so a failed or corrupted download leaves nothing behind, and it re-downloads a cached copy whose hash is
wrong. This module adds what pooch does not: several mirrors tried in order, one message that says what went
wrong at each, and reading the IDX format.

Nothing here runs on import: the notebooks work offline from the 5,000 digits shipped in data/, and
only call fetch_split when a reader asks for the full datasets.
"""

import gzip
import logging
import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pooch
import requests

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


def _describe(error):
    """What went wrong at one mirror, in words, and whether the mirror could not be reached at all."""
    if isinstance(error, requests.HTTPError):
        return f"HTTP {error.response.status_code} {error.response.reason}", False
    if isinstance(error, requests.Timeout):
        return f"timed out ({error})", True
    if isinstance(error, requests.ConnectionError):
        return f"cannot connect ({error})", True
    if isinstance(error, requests.exceptions.ChunkedEncodingError):  # the server closed before Content-Length
        return f"transfer cut short ({error})", False
    if isinstance(error, ValueError):  # pooch's hash check
        return f"checksum mismatch: {error}", False
    return f"{type(error).__name__}: {error}", False


def _failure_message(remote, attempts, stale_note):
    lines = [f"Could not download {remote.filename} from any mirror:"]
    lines += [f"  - {url}: {reason}" for url, (reason, _) in attempts]
    if stale_note:
        lines.append(stale_note)
    if all(unreachable for _, (_, unreachable) in attempts):
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
    dest = cache_dir / remote.filename
    stale_note = None
    if dest.exists() and (actual := pooch.file_hash(str(dest))) != remote.sha256:
        # pooch would replace it without a word: say so, and remove it so that a failed download cannot keep it.
        stale_note = f"The cached copy {dest} had SHA-256 {actual} instead of {remote.sha256}; it was removed."
        warnings.warn(f"{stale_note} Downloading it again.", stacklevel=2)
        dest.unlink()
    attempts = []
    logger, level = pooch.get_logger(), pooch.get_logger().level
    logger.setLevel(logging.WARNING)  # the progress bar says what is downloaded; pooch would also log each URL
    try:
        for base in mirrors:
            url = (base if base.endswith("/") else base + "/") + remote.filename
            downloader = pooch.HTTPDownloader(progressbar=progress, timeout=timeout)
            try:
                return Path(pooch.retrieve(url, known_hash=f"sha256:{remote.sha256}", fname=remote.filename,
                                           path=cache_dir, downloader=downloader))
            except (requests.RequestException, ValueError) as error:
                attempts.append((url, _describe(error)))
    finally:
        logger.setLevel(level)
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
