"""Check a batch of images once, up front, so a mistake in the data gets a message a learner can act on.

Every model in the series reads float images (N, C, H, W), the shipped digits (N, 1, 28, 28), with the pixel values
its likelihood models (its `support`): "binary" pixels 0 or 1 (Bernoulli: the only ones whose log-likelihood is a
true log-probability in nats), grey levels in [0, 1] ("unit": continuous likelihoods, and what training binarizes),
or whole levels 0-255 ("levels": discrete likelihoods of 8-bit pixels). Without this check a uint8 array, flat rows
or a NaN reach torch internals and fail there with messages such as "Expected p_in >= 0 && p_in <= 1" or
"mat1 and mat2 must have the same dtype".
"""

import torch

from vae_helpers.data import IMAGE_SHAPE

SUPPORTS = ("binary", "unit", "levels")


def check_images(images, name="images", *, shape=IMAGE_SHAPE, support="unit"):
    """Raise TypeError or ValueError unless `images` is a float tensor (N, *shape), finite, with pixels in `support`.

    Args:
        images: what a learner passed in. name: the argument's name, for the message.
        shape: (C, H, W) of one image. support: "unit" (grey levels in [0, 1]), "binary" (every pixel 0 or 1, where
            a true Bernoulli log-likelihood in nats is computed) or "levels" (whole numbers 0-255).
    Returns:
        images, unchanged, so a caller can write `x = check_images(x, "x")`.
    Good images cost one pass over the pixels (about 20 microseconds for a batch of 128 digits).
    """
    if support not in SUPPORTS:
        raise ValueError(f"support must be one of {SUPPORTS}, got {support!r}")
    high_end = 255 if support == "levels" else 1
    if not isinstance(images, torch.Tensor):
        hint = " (convert a NumPy array with torch.from_numpy(array))" if hasattr(images, "__array__") else ""
        raise TypeError(f"{name} must be a torch.Tensor of shape {_shape_text(shape)}, got {type(images).__name__}"
                        f"{hint}")
    if not images.is_floating_point():
        raise TypeError(f"{name} must hold floats with pixels in [0, {high_end}], got dtype {images.dtype}"
                        f"{_integer_hint(images, support)}")
    _check_shape(images, name, tuple(shape))
    low, high = (value.item() for value in torch.aminmax(images))  # one pass; a NaN makes both NaN
    if not (0 <= low and high <= high_end):  # also true for NaN: only bad images pay for the closer look below
        finite = torch.isfinite(images)
        if not finite.all():
            bad_images = (~finite).flatten(1).any(dim=1).nonzero().flatten()
            raise ValueError(
                f"{name} holds {int(torch.isnan(images).sum())} NaN and {int(torch.isinf(images).sum())} infinite "
                f"pixel values, in {len(bad_images)} of its {len(images)} images (the first at index "
                f"{bad_images[0].item()}); every pixel must be a number in [0, {high_end}]: drop or repair those images"
            )
        raise ValueError(f"{name} must have pixels in [0, {high_end}], found values from {low:g} to {high:g}"
                         f"{_range_hint(images, low, high, support)}")
    if support != "unit":
        fractional = torch.count_nonzero(torch.frac(images)).item()  # pixels with a fractional part
        if fractional and support == "binary":
            raise ValueError(
                f"{name} must be binary (every pixel 0 or 1) for a true log-likelihood in nats, found "
                f"{fractional:,} pixels strictly between 0 and 1: binarize them once with "
                f"vh.data.binarize(images, seed=vh.data.TEST_BINARIZATION_SEED), or load them with binarized=True"
            )
        if fractional:
            raise ValueError(f"{name} must hold whole levels 0-255 for a likelihood of 8-bit pixels, found "
                             f"{fractional:,} pixels with a fractional part: grey levels in [0, 1] become levels "
                             f"with (images * 255).round()")
    return images


def _shape_text(shape):
    return "(N, " + ", ".join(map(str, shape)) + ")"


def _check_shape(images, name, shape):
    if images.dim() == 4 and tuple(images.shape[1:]) == shape and len(images) > 0:
        return
    got, sizes = tuple(images.shape), ", ".join(map(str, shape))
    if images.dim() == 4 and len(images) == 0:
        hint = ": it holds no images"
    elif got and got[-1] == shape[0] * shape[1] * shape[2]:
        hint = f": these look like flat rows of pixels, reshape them with images.view(-1, {sizes})"
    elif got == shape:
        hint = ": this is one image, add the batch dimension with images.unsqueeze(0)"
    elif images.dim() == 3 and got[1:] == shape[1:] and shape[0] == 1:
        hint = ": add the channel dimension with images.unsqueeze(1)"
    elif got == shape[1:] and shape[0] == 1:
        hint = f": this is one image without batch and channel dimensions, use images.view(1, {sizes})"
    elif images.dim() == 4 and got[3] == shape[0] and got[1:3] == shape[1:]:
        hint = ": channels come last here, put them first with images.permute(0, 3, 1, 2)"
    else:
        hint = ""
    raise ValueError(f"{name} must have shape {_shape_text(shape)}, got {got}{hint}")


def _integer_hint(images, support):
    if images.dtype == torch.bool or support == "levels":
        return ": convert with images.float()"
    if images.numel() and images.max().item() > 1:
        return (f" with values from {images.min().item()} to {images.max().item()}: divide by 255 to get grey "
                f"levels, images.float() / 255")
    return ": convert with images.float()"


def _range_hint(images, low, high, support):
    if support == "levels":
        return ": 8-bit pixels hold whole levels 0-255"
    if low >= 0 and high <= 255 and torch.equal(images, images.round()):
        return ": these look like 0-255 grey levels, divide them by 255"
    return ": rescale them, e.g. (images - images.min()) / (images.max() - images.min())"
