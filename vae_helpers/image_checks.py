"""Check a batch of images once, up front, so a mistake in the data gets a message a learner can act on.

Every model in the series reads float images (N, 1, 28, 28) with pixels in [0, 1]: grey levels, which training
binarizes, or binary pixels, the only ones whose Bernoulli log-likelihood is a true log-probability in nats.
Without this check a uint8 array, flat rows or a NaN reach torch internals and fail there with messages such as
"Expected p_in >= 0 && p_in <= 1" or "bernoulli_tensor_cpu_p_ not implemented for 'Byte'".
"""

import torch

from vae_helpers.data import IMAGE_SHAPE

_SHAPE_TEXT = "(N, " + ", ".join(map(str, IMAGE_SHAPE)) + ")"


def check_images(images, name="images", *, binary=False):
    """Raise TypeError or ValueError unless `images` is a float tensor (N, 1, 28, 28), finite, with pixels in [0, 1].

    Args:
        images: what a learner passed in. name: the argument's name, for the message.
        binary: also require every pixel to be 0 or 1 (where a true log-likelihood in nats is computed).
    Returns:
        images, unchanged, so a caller can write `x = check_images(x, "x")`.
    Good images cost one pass over the pixels (about 20 microseconds for a batch of 128 digits).
    """
    if not isinstance(images, torch.Tensor):
        hint = " (convert a NumPy array with torch.from_numpy(array))" if hasattr(images, "__array__") else ""
        raise TypeError(f"{name} must be a torch.Tensor of shape {_SHAPE_TEXT}, got {type(images).__name__}{hint}")
    if not images.is_floating_point():
        raise TypeError(f"{name} must hold floats with pixels in [0, 1], got dtype {images.dtype}"
                        f"{_integer_hint(images)}")
    _check_shape(images, name)
    low, high = (value.item() for value in torch.aminmax(images))  # one pass; a NaN makes both NaN
    if not (0 <= low and high <= 1):  # also true for NaN: only bad images pay for the closer look below
        finite = torch.isfinite(images)
        if not finite.all():
            bad_images = (~finite).flatten(1).any(dim=1).nonzero().flatten()
            raise ValueError(
                f"{name} holds {int(torch.isnan(images).sum())} NaN and {int(torch.isinf(images).sum())} infinite "
                f"pixel values, in {len(bad_images)} of its {len(images)} images (the first at index "
                f"{bad_images[0].item()}); every pixel must be a number in [0, 1]: drop or repair those images"
            )
        raise ValueError(f"{name} must have pixels in [0, 1], found values from {low:g} to {high:g}"
                         f"{_range_hint(images, low, high)}")
    if binary:
        grey = torch.count_nonzero(torch.frac(images)).item()  # pixels in [0, 1] with a fractional part
        if grey:
            raise ValueError(
                f"{name} must be binary (every pixel 0 or 1) for a true log-likelihood in nats, found {grey:,} "
                f"pixels strictly between 0 and 1: binarize them once with "
                f"vh.data.binarize(images, seed=vh.data.TEST_BINARIZATION_SEED), or load them with binarized=True"
            )
    return images


def _check_shape(images, name):
    if images.dim() == 4 and tuple(images.shape[1:]) == IMAGE_SHAPE and len(images) > 0:
        return
    shape = tuple(images.shape)
    if images.dim() == 4 and len(images) == 0:
        hint = ": it holds no images"
    elif shape and shape[-1] == IMAGE_SHAPE[1] * IMAGE_SHAPE[2]:
        hint = f": these look like flat rows of pixels, reshape them with images.view(-1, {', '.join(map(str, IMAGE_SHAPE))})"
    elif shape == IMAGE_SHAPE:
        hint = ": this is one image, add the batch dimension with images.unsqueeze(0)"
    elif images.dim() == 3 and shape[1:] == IMAGE_SHAPE[1:]:
        hint = ": add the channel dimension with images.unsqueeze(1)"
    elif shape == IMAGE_SHAPE[1:]:
        hint = f": this is one image without batch and channel dimensions, use images.view(1, {', '.join(map(str, IMAGE_SHAPE))})"
    else:
        hint = ""
    raise ValueError(f"{name} must have shape {_SHAPE_TEXT}, got {shape}{hint}")


def _integer_hint(images):
    if images.dtype == torch.bool:
        return ": convert with images.float()"
    if images.numel() and images.max().item() > 1:
        return (f" with values from {images.min().item()} to {images.max().item()}: divide by 255 to get grey "
                f"levels, images.float() / 255")
    return ": convert with images.float()"


def _range_hint(images, low, high):
    if low >= 0 and high <= 255 and torch.equal(images, images.round()):
        return ": these look like 0-255 grey levels, divide them by 255"
    return ": rescale them, e.g. (images - images.min()) / (images.max() - images.min())"
