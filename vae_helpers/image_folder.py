"""Your own images: a folder of PNG or JPEG files in the series' format (notebook 09).

vh.data.load_image_folder(path, size=28, channels=1) returns float images (N, C, size, size) whose pixels are 8-bit
grey levels k/255, as the shipped digits are, and the file names. It refuses, before anything trains, a folder that
is missing or holds no images, a file it cannot read, images of different sizes, and images that are not square (a
resize would stretch them).
"""

from pathlib import Path

import torch

SUFFIXES = (".png", ".jpg", ".jpeg")
MODES = {1: "L", 3: "RGB"}  # channels -> the PIL mode every image is converted to
# PIL modes of 8 bits per channel (or fewer); converting a 16-bit or float image to "L" clips it instead of scaling
EIGHT_BIT_MODES = {"1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"}


def load_image_folder(path, size=28, channels=1):
    """Load every PNG and JPEG file in `path` (not its subfolders), sorted by name.

    Args:
        path: a folder. size: the side every image is resized to (a multiple of 4 for vh.models.ConvVAE).
        channels: 1 (grey: colour images are converted) or 3 (colour: grey images are repeated).
    Returns: (images, names): a float32 tensor (N, channels, size, size) of levels k/255, and the file names.
    Raises: ValueError (or FileNotFoundError) saying which file and what would be right.
    """
    from PIL import Image, UnidentifiedImageError

    if channels not in MODES:
        raise ValueError(f"channels must be 1 (grey) or 3 (colour), got {channels!r}")
    if not (isinstance(size, int) and size > 0):
        raise ValueError(f"size must be a positive whole number of pixels, got {size!r}")
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder; give the folder that holds your PNG or JPEG files")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not files:
        others = sorted(p.name for p in folder.iterdir())[:5]
        raise ValueError(f"{folder} holds no .png, .jpg or .jpeg files (found: {others or 'nothing'}); put the "
                         f"images directly in it, not in subfolders")
    pictures, first = [], None
    for file in files:
        try:
            with Image.open(file) as picture:
                picture.load()
                mode = "16-bit" if _png_bit_depth(file) == 16 else picture.mode  # PIL reads 16-bit colour as RGB
                transparent = _has_transparent_pixels(picture)
                picture = picture.convert(MODES[channels]) if mode in EIGHT_BIT_MODES else None
        except (UnidentifiedImageError, OSError) as error:
            raise ValueError(f"{file.name} in {folder} could not be read as an image ({error}); remove it or "
                             f"replace it with a valid PNG or JPEG file") from None
        if transparent:
            raise ValueError(f"{file.name} in {folder} has transparent pixels, whose colour converting to grey would "
                             f"guess; flatten it onto a black or white background first (light strokes on black, "
                             f"like the digits)")
        if picture is None:
            raise ValueError(f"{file.name} in {folder} has {mode!r} pixels (16-bit or floating point), not 8-bit "
                             f"levels; save it as an 8-bit PNG or JPEG first")
        if first is None:
            first = (file.name, picture.size)
        elif picture.size != first[1]:
            raise ValueError(f"the images differ in size: {first[0]} is {first[1][0]}x{first[1][1]} pixels, "
                             f"{file.name} is {picture.size[0]}x{picture.size[1]}; crop or resize them to one size "
                             f"first")
        if picture.size[0] != picture.size[1]:
            raise ValueError(f"{file.name} is {picture.size[0]}x{picture.size[1]} pixels, not square: a resize to "
                             f"{size}x{size} would stretch it; crop the images square first")
        if picture.size != (size, size):
            picture = picture.resize((size, size), Image.Resampling.LANCZOS)
        pictures.append(torch.frombuffer(bytearray(picture.tobytes()), dtype=torch.uint8).view(size, size, channels))
    images = torch.stack(pictures).permute(0, 3, 1, 2).float() / 255
    return images, [file.name for file in files]


def _has_transparent_pixels(picture):
    """True if an open PIL image has an alpha channel or a transparent palette entry that any pixel uses."""
    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        alpha = picture.convert("RGBA").getchannel("A")
        return alpha.getextrema()[0] < 255
    return False


def _png_bit_depth(file):
    """The bit depth a PNG file's header declares (its IHDR chunk), or None for a file that is not a PNG."""
    with open(file, "rb") as stream:
        header = stream.read(26)
    return header[24] if header[:8] == b"\x89PNG\r\n\x1a\n" and len(header) == 26 else None
