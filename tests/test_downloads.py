"""Tests for vae_helpers.downloads against a local HTTP server; they never touch the internet."""

import dataclasses
import gzip
import hashlib
import re
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from vae_helpers.downloads import (
    REMOTE_DATASETS,
    DownloadError,
    RemoteDataset,
    RemoteFile,
    download_file,
    fetch_split,
    read_idx,
)

N = 6
IMAGES = np.random.default_rng(0).integers(0, 256, size=(N, 28, 28), dtype=np.uint8)
LABELS = np.arange(N, dtype=np.uint8) % 10
NAMES = {
    "train-images": "train-images-idx3-ubyte.gz",
    "train-labels": "train-labels-idx1-ubyte.gz",
    "test-images": "t10k-images-idx3-ubyte.gz",
    "test-labels": "t10k-labels-idx1-ubyte.gz",
}


def idx_bytes(array, *, gzipped=True):
    """Encode a uint8 array as an IDX file (gzipped with a fixed mtime, so the bytes are deterministic)."""
    raw = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    return gzip.compress(raw, mtime=0) if gzipped else raw


def corrupt(data):
    """Same length, one byte different: the checksum is the only thing that can tell."""
    return data[:-1] + bytes([data[-1] ^ 0xFF])


class Handler(BaseHTTPRequestHandler):
    """Serves server.files under /<mode>/<filename>; mode picks how the server misbehaves."""

    def do_GET(self):
        self.server.requests.append(self.path)
        _, mode, name = self.path.split("/", 2)
        data = self.server.files.get(name)
        if data is None or mode == "missing":
            self.send_error(404)
            return
        body = corrupt(data) if mode == "corrupt" else data
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if mode == "truncated":
            # Promise the whole file, send half, then close the connection.
            body = data[: len(data) // 2]
            self.close_connection = True
        self.wfile.write(body)

    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.files, httpd.requests = {}, []
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def url(server, mode):
    return f"http://127.0.0.1:{server.server_address[1]}/{mode}/"


@pytest.fixture
def dead_url():
    """A base URL on a port where nothing listens (connection refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture
def dataset(server):
    """A tiny RemoteDataset served by `server`; tests swap in their own mirrors with dataclasses.replace."""
    contents = {
        "train-images": idx_bytes(IMAGES),
        "train-labels": idx_bytes(LABELS),
        "test-images": idx_bytes(IMAGES[::-1].copy()),
        "test-labels": idx_bytes(LABELS[::-1].copy()),
    }
    server.files = {NAMES[key]: data for key, data in contents.items()}
    files = {key: RemoteFile(NAMES[key], hashlib.sha256(data).hexdigest()) for key, data in contents.items()}
    return RemoteDataset("test-digits", (url(server, "good"),), files, "test only")


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


def with_mirrors(dataset, *mirrors):
    return dataclasses.replace(dataset, mirrors=tuple(mirrors))


def test_fetch_split_returns_the_served_arrays_then_uses_the_cache(server, dataset, cache):
    images, labels = fetch_split(dataset, "train", cache, progress=False)
    np.testing.assert_array_equal(images, IMAGES)
    np.testing.assert_array_equal(labels, LABELS)
    assert images.dtype == labels.dtype == np.uint8
    assert len(server.requests) == 2
    assert sorted(p.name for p in cache.iterdir()) == sorted([NAMES["train-images"], NAMES["train-labels"]])

    images2, labels2 = fetch_split(dataset, "train", cache, progress=False)
    assert len(server.requests) == 2  # both files came from the cache
    np.testing.assert_array_equal(images2, IMAGES)
    np.testing.assert_array_equal(labels2, LABELS)


def test_test_split_reads_the_t10k_files(server, dataset, cache):
    images, labels = fetch_split(dataset, "test", cache, progress=False)
    np.testing.assert_array_equal(images, IMAGES[::-1])
    np.testing.assert_array_equal(labels, LABELS[::-1])
    assert all("t10k" in path for path in server.requests)


def test_progress_bar_does_not_break_the_download(server, dataset, cache):
    path = download_file(dataset.files["train-labels"], dataset.mirrors, cache, progress=True)
    assert path.read_bytes() == server.files[NAMES["train-labels"]]


def test_dead_mirror_then_good_mirror(server, dataset, cache, dead_url):
    images, labels = fetch_split(with_mirrors(dataset, dead_url, url(server, "good")), "train", cache, progress=False)
    np.testing.assert_array_equal(images, IMAGES)
    np.testing.assert_array_equal(labels, LABELS)


def test_first_good_mirror_wins(server, dataset, cache):
    fetch_split(with_mirrors(dataset, url(server, "good"), url(server, "corrupt")), "train", cache, progress=False)
    assert all(path.startswith("/good/") for path in server.requests)


@pytest.mark.parametrize("bad_mode", ["corrupt", "truncated", "missing"])
def test_bad_mirror_then_good_mirror(server, dataset, cache, bad_mode):
    remote = dataset.files["train-images"]
    path = download_file(remote, [url(server, bad_mode), url(server, "good")], cache, progress=False)
    assert path == cache / remote.filename
    assert path.read_bytes() == server.files[remote.filename]
    assert server.requests == [f"/{bad_mode}/{remote.filename}", f"/good/{remote.filename}"]
    assert list(cache.iterdir()) == [path]  # no .part file left over


def test_only_corrupted_mirror_raises_and_leaves_nothing(server, dataset, cache):
    remote = dataset.files["train-images"]
    actual = hashlib.sha256(corrupt(server.files[remote.filename])).hexdigest()
    with pytest.raises(DownloadError) as info:
        download_file(remote, [url(server, "corrupt")], cache, progress=False)
    message = str(info.value)
    assert remote.filename in message
    assert url(server, "corrupt") + remote.filename in message
    assert remote.sha256 in message and actual in message
    assert "mnist-5k" in message
    assert "unreachable" not in message  # the server answered, so the network is fine
    assert list(cache.iterdir()) == []


def test_transfer_broken_midway_raises_and_leaves_nothing(server, dataset, cache):
    remote = dataset.files["train-images"]
    with pytest.raises(DownloadError, match="cut short") as info:
        download_file(remote, [url(server, "truncated")], cache, progress=False)
    assert "mnist-5k" in str(info.value)
    assert list(cache.iterdir()) == []


def test_http_error_is_reported_with_its_status(server, dataset, cache):
    remote = dataset.files["train-labels"]
    with pytest.raises(DownloadError, match="HTTP 404") as info:
        download_file(remote, [url(server, "missing")], cache, progress=False)
    assert "unreachable" not in str(info.value)
    assert list(cache.iterdir()) == []


def test_all_mirrors_dead_says_the_network_is_unreachable(dataset, cache, dead_url):
    remote = dataset.files["train-images"]
    with pytest.raises(DownloadError) as info:
        download_file(remote, [dead_url, dead_url + "other/"], cache, progress=False)
    message = str(info.value)
    assert "network seems unreachable" in message
    assert "mnist-5k" in message
    assert dead_url + remote.filename in message and dead_url + "other/" + remote.filename in message
    assert list(cache.iterdir()) == []


def test_silent_server_times_out(dataset, cache):
    # A socket that listens but never answers: the kernel accepts the connection, nobody replies.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        base = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        with pytest.raises(DownloadError, match="timed out") as info:
            download_file(dataset.files["train-labels"], [base], cache, progress=False, timeout=0.3)
    assert "mnist-5k" in str(info.value)
    assert list(cache.iterdir()) == []


def test_cached_file_with_wrong_hash_is_replaced(server, dataset, cache):
    remote = dataset.files["train-images"]
    cache.mkdir()
    (cache / remote.filename).write_bytes(b"an old, damaged copy")
    with pytest.warns(UserWarning, match="SHA-256"):
        path = download_file(remote, dataset.mirrors, cache, progress=False)
    assert path.read_bytes() == server.files[remote.filename]
    assert len(server.requests) == 1
    assert list(cache.iterdir()) == [path]


def test_cached_file_with_wrong_hash_and_failed_download(server, dataset, cache):
    remote = dataset.files["train-images"]
    cache.mkdir()
    (cache / remote.filename).write_bytes(b"an old, damaged copy")
    with pytest.warns(UserWarning), pytest.raises(DownloadError, match="cached copy"):
        download_file(remote, [url(server, "corrupt")], cache, progress=False)
    assert list(cache.iterdir()) == []  # the bad copy is not left behind either


def test_download_file_needs_a_mirror(dataset, cache):
    with pytest.raises(ValueError, match="no mirrors"):
        download_file(dataset.files["train-images"], [], cache, progress=False)


def test_read_idx_round_trip(tmp_path):
    for gzipped in (True, False):
        path = tmp_path / f"images-{gzipped}"
        path.write_bytes(idx_bytes(IMAGES, gzipped=gzipped))
        array = read_idx(path)
        np.testing.assert_array_equal(array, IMAGES)
        assert array.dtype == np.uint8 and array.flags.writeable


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"\x00\x01\x08\x01" + struct.pack(">I", 3) + b"abc", "magic"),  # second byte must be zero
        (b"\x00\x00\x0d\x01" + struct.pack(">I", 3) + b"abc", "magic"),  # 0x0d is float32, not uint8
        (b"\x00\x00\x08\x03" + struct.pack(">3I", 2, 28, 28) + bytes(100), "expected 1,568"),  # payload too short
        (b"\x00\x00\x08\x01" + struct.pack(">I", 3) + b"abcd", "expected 3"),  # payload too long
        (b"\x00\x00\x08\x03" + struct.pack(">I", 2), "header cut short"),
        (b"\x00\x00", "magic"),
    ],
)
def test_read_idx_rejects_malformed_files(tmp_path, raw, expected):
    path = tmp_path / "broken-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(raw, mtime=0))
    with pytest.raises(ValueError, match=re.escape(expected)) as info:
        read_idx(path)
    assert path.name in str(info.value)


def test_read_idx_rejects_a_damaged_gzip(tmp_path):
    path = tmp_path / "damaged.gz"
    path.write_bytes(gzip.compress(idx_bytes(LABELS, gzipped=False))[:-6])
    with pytest.raises(ValueError, match=re.escape(path.name)):
        read_idx(path)


def test_fetch_split_rejects_a_bad_split_name(dataset, cache):
    with pytest.raises(ValueError, match=re.escape("split must be 'train' or 'test', got 'tarin'")):
        fetch_split(dataset, "tarin", cache, progress=False)


@pytest.mark.parametrize(
    ("images", "labels", "expected"),
    [
        (IMAGES[:, :27, :27].copy(), LABELS, "(N, 28, 28)"),
        (IMAGES, LABELS[:-1].copy(), "expected 6 labels"),
    ],
)
def test_fetch_split_checks_shapes(server, dataset, cache, images, labels, expected):
    contents = {NAMES["train-images"]: idx_bytes(images), NAMES["train-labels"]: idx_bytes(labels)}
    server.files.update(contents)
    files = dict(dataset.files)
    for key in ("train-images", "train-labels"):
        files[key] = RemoteFile(NAMES[key], hashlib.sha256(contents[NAMES[key]]).hexdigest())
    with pytest.raises(ValueError, match=re.escape(expected)):
        fetch_split(dataclasses.replace(dataset, files=files), "train", cache, progress=False)


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_remote_datasets_are_complete(name):
    dataset = REMOTE_DATASETS[name]
    assert dataset.name == name
    assert set(dataset.files) == set(NAMES)
    for key, remote in dataset.files.items():
        assert remote.filename == NAMES[key]
        assert re.fullmatch(r"[0-9a-f]{64}", remote.sha256)
    assert len({remote.sha256 for remote in dataset.files.values()}) == 4
    assert len(dataset.mirrors) >= 2
    assert all(m.startswith(("http://", "https://")) and m.endswith("/") for m in dataset.mirrors)
    assert dataset.licence and "\n" not in dataset.licence


def test_the_two_datasets_have_different_files():
    mnist, fashion = (REMOTE_DATASETS[name] for name in ("mnist", "fashion-mnist"))
    assert {f.sha256 for f in mnist.files.values()}.isdisjoint(f.sha256 for f in fashion.files.values())
