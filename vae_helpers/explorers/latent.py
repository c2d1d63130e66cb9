"""Notebook 07's explorers: traverse, interpolate and sample the latent space of the shipped VAEs, and look at
q(z|x) for one digit.

Every factory loads a shipped checkpoint by default (vae_helpers.pretrained.load_pretrained; pass `model=` to use
another), encodes the test split once when it is built, and then decodes only a small batch per move of a control,
so each update stays well under the series' 50 ms budget. The plain functions (lerp, slerp, active_dimensions, ...)
compute what the widgets draw and are tested without a browser in tests/test_latent_explorers.py.
"""

from contextlib import contextmanager

import ipywidgets as widgets
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.collections import LineCollection
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from vae_helpers import data, diagnostics, distributions, pretrained
from vae_helpers.plotting import tile_images
from vae_helpers.widgets import LiveFigure, new_figure, slider

CONV_MODEL, MAP_MODEL = "conv_vae_16d", "mlp_vae_2d"  # the shipped checkpoints the widgets load by default
# (the 2-D map, which runs in the page, is in touch.py)
ACTIVE_THRESHOLD = 0.1  # nats: a latent dimension whose average KL to the prior is below this carries ~no information
IMAGE_STYLE = {"cmap": "gray", "vmin": 0.0, "vmax": 1.0, "interpolation": "nearest"}
PADDING = 2  # pixels between the images of a tiled strip or grid (tile_images' default)
SLIDER_STEP = 0.05  # of the traversal's sliders


# ---- the math the widgets draw ------------------------------------------------------------------------------------

def _positions(t, z):
    """t as a tensor that broadcasts against codes z (..., D): a scalar stays a scalar, (T,) becomes (T, 1, ..., 1)."""
    t = torch.as_tensor(t, dtype=z.dtype, device=z.device)
    return t if t.dim() == 0 else t.reshape(-1, *[1] * z.dim())


def lerp(z_a, z_b, t):
    """Interpolate linearly between two codes: (1 - t) z_a + t z_b (eq. 7.3).

    Args:
        z_a, z_b: (..., D) latent codes (the path's two ends).
        t: a number in [0, 1], or (T,) numbers: the position along the path.
    Returns:
        (..., D) for a number t, (T, ..., D) for T positions.
    Introduced in notebooks/07_exploring_the_latent_space.ipynb.
    """
    t = _positions(t, z_a)
    return (1 - t) * z_a + t * z_b


def slerp(z_a, z_b, t, eps=1e-6):
    """Interpolate along the great circle from z_a to z_b (spherical linear interpolation, eq. 7.4).

    slerp(t) = sin((1 - t) omega) / sin(omega) * z_a + sin(t omega) / sin(omega) * z_b, omega the angle between z_a
    and z_b (Shoemake 1985; White 2016, "Sampling generative networks", for latent spaces). When |z_a| = |z_b| every
    point on the path has that same norm. Where sin(omega) < eps (nearly parallel codes, or opposite ones, for which
    no single great circle exists) or a code is zero, it returns lerp, the formula's limit as omega -> 0.
    Args:
        z_a, z_b: (..., D) latent codes; t: a number in [0, 1], or (T,) numbers.
    Returns:
        (..., D) for a number t, (T, ..., D) for T positions.
    Introduced in notebooks/07_exploring_the_latent_space.ipynb.
    """
    t = _positions(t, z_a)
    unit_a, unit_b = F.normalize(z_a, dim=-1), F.normalize(z_b, dim=-1)
    # The angle as 2 atan2(|a - b|, |a + b|) of the unit vectors is accurate at every angle, unlike arccos(a . b),
    # which loses half its digits near 0 and pi (Kahan 2006, "How futile are mindless assessments of roundoff").
    omega = 2 * torch.atan2((unit_a - unit_b).norm(dim=-1, keepdim=True), (unit_a + unit_b).norm(dim=-1, keepdim=True))
    sin_omega = torch.sin(omega)
    # A zero code has no direction: the angle is undefined, and the straight line is the natural path.
    has_zero = (z_a.norm(dim=-1, keepdim=True) == 0) | (z_b.norm(dim=-1, keepdim=True) == 0)
    straight = (sin_omega < eps) | has_zero
    safe_sin = torch.where(straight, torch.ones_like(sin_omega), sin_omega)  # no 0 / 0, even in the unused branch
    weight_a = torch.where(straight, 1 - t, torch.sin((1 - t) * omega) / safe_sin)
    weight_b = torch.where(straight, t, torch.sin(t * omega) / safe_sin)
    return weight_a * z_a + weight_b * z_b


def interpolation_path(z_a, z_b, num_steps=9, spherical=False):
    """Codes (num_steps, D) at equally spaced t from 0 (z_a) to 1 (z_b), by slerp if `spherical`, else by lerp.

    Introduced in notebooks/07_exploring_the_latent_space.ipynb.
    """
    steps = torch.linspace(0.0, 1.0, num_steps, dtype=z_a.dtype, device=z_a.device)
    return (slerp if spherical else lerp)(z_a, z_b, steps)


def active_dimensions(mu, logvar, threshold=ACTIVE_THRESHOLD):
    """Find the latent dimensions the encoder uses: those whose KL to the prior, averaged over the data, > threshold.

    Args:
        mu, logvar: (N, D) means and log-variances of q(z|x) for N images (e.g. the test split).
        threshold: nats; a dimension below it has q(z_d|x) ~ p(z_d) for every x, so it tells the decoder nothing.
    Returns:
        (kl_per_dim (D,) in nats, active (A,) int64 indices of the active dimensions, in increasing order).
    Introduced in notebooks/07_exploring_the_latent_space.ipynb.
    """
    kl_per_dim = diagnostics.kl_per_dimension(mu, logvar)
    return kl_per_dim, torch.nonzero(kl_per_dim > threshold).flatten()


def traversal_codes(z_base, dims, values):
    """Codes for a traversal grid: row i sets dimension dims[i] of z_base to each of `values` in turn.

    Args:
        z_base: (D,) the code the traversal starts from (e.g. the posterior mean of a test digit).
        dims: (R,) indices of the dimensions to vary; values: (C,) the values each takes.
    Returns:
        (R, C, D) codes; entry [i, j] equals z_base except at dims[i], which is values[j].
    Introduced in notebooks/07_exploring_the_latent_space.ipynb.
    """
    dims = torch.as_tensor(dims, dtype=torch.long)
    values = torch.as_tensor(values, dtype=z_base.dtype, device=z_base.device)
    codes = z_base.expand(len(dims), len(values), -1).clone()
    codes[torch.arange(len(dims)), :, dims] = values  # row i, every column, dimension dims[i]
    return codes


def posterior_codes(mu, logvar, eps):
    """Samples z = mu + sigma * eps of q(z|x) for fixed noise eps (the reparameterization of notebook 04).

    Args: mu, logvar: (D,) or (B, D) mean and log-variance of q(z|x); eps: (K, D) or (K, B, D) standard normal noise.
    Returns: (K, D) or (K, B, D) codes; with eps fixed they change only when q(z|x) does.
    Introduced in notebooks/07_exploring_the_latent_space.ipynb.
    """
    return mu + torch.exp(0.5 * logvar) * eps


def aggregate_posterior_moments(mu, logvar):
    """Mean and variance of each dimension of the aggregate posterior q(z) = (1/N) sum_n q(z|x_n) (eq. 7.1).

    The mixture's mean is the average of the means; its variance is the average variance plus the variance of the
    means (the law of total variance).
    Args: mu, logvar: (N, D) of q(z|x_n) for N images.
    Returns: (mean (D,), variance (D,)); both near 0 and 1 when the codes cover the prior N(0, I).
    Introduced in notebooks/07_exploring_the_latent_space.ipynb.
    """
    return mu.mean(0), torch.exp(logvar).mean(0) + mu.var(0, unbiased=False)


@torch.no_grad()
def encode_images(model, images, batch_size=500):
    """Encode images (N, 1, 28, 28) in batches, without gradients: (mu, logvar) of q(z|x), each (N, D), on the
    model's device. Images that are not floats in [0, 1] of that shape get a clear TypeError or ValueError."""
    model.check_input(images, "images")
    device = next(model.parameters()).device
    pairs = [model.encode(batch.to(device)) for batch in images.split(batch_size)]
    return torch.cat([mu for mu, _ in pairs]), torch.cat([logvar for _, logvar in pairs])


@torch.no_grad()
def decode_images(model, z):
    """Decode codes z (B, D) to pixel probabilities sigmoid(f_theta(z)), (B, 1, 28, 28) on the CPU, without gradients.

    The mean of p_theta(x|z); z may live on any device (it is moved to the model's).
    Introduced in notebooks/07_exploring_the_latent_space.ipynb.
    """
    return torch.sigmoid(model.decode(z.to(next(model.parameters()).device))).cpu()


@contextmanager
def one_thread():
    """Run torch on one CPU thread inside the block, then restore the previous count.

    A widget decodes a handful of images per update: more threads only add start-up and waiting, and on a shared
    machine (Binder's CPU quota, a second job running) waiting threads turn a 1 ms decode into 50 ms or more.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# ---- shared by the widgets ----------------------------------------------------------------------------------------

def _model_or_shipped(model, name):
    """`model` if given, else the shipped checkpoint `name` (SHA-256 checked, eval mode)."""
    return model if model is not None else pretrained.load_pretrained(name)[0]


def _image_axes(ax, shape, title=None):
    """An imshow of a blank image of `shape` on `ax`, axes hidden; returns the AxesImage to set_data later."""
    image = ax.imshow(np.zeros(shape, np.float32), **IMAGE_STYLE)
    ax.set_axis_off()
    if title:
        _title(ax, title)
    return image


def _title(ax, text, fontsize="medium"):
    """A title drawn as plain text: Axes.set_title re-measures the tick labels on every redraw, which is slow."""
    return ax.text(0.5, 1.02, text, transform=ax.transAxes, ha="center", va="bottom", fontsize=fontsize)


def _strip_shape(count, ncols):
    rows = -(-count // ncols)
    return rows * (28 + PADDING) - PADDING, ncols * (28 + PADDING) - PADDING


def _live(figure, update, controls, changing, actions=None, columns=1):
    """A LiveFigure that redraws only the `changing` artists (digits, bars, titles) over the rest, drawn once: the
    axes and their labels are most of a full redraw's time, and a full redraw kept the widgets over budget."""
    return LiveFigure(figure, update, controls, actions, columns=columns, changing=changing)


# ---- the five widgets ---------------------------------------------------------------------------------------------

def traversal_explorer(model=None, digit_index=0, threshold=ACTIVE_THRESHOLD):
    """One slider per active latent dimension of the conv VAE, starting at a test digit's posterior mean.

    The decoded digit and the bar chart of z update as you drag; inactive dimensions (average KL below `threshold`)
    stay at the digit's posterior mean. LiveFigure stacks the controls vertically, one slider per row.
    """
    model = _model_or_shipped(model, CONV_MODEL)
    test = data.load_digits(split="test", binarized=True)
    mu, logvar = encode_images(model, test.images)  # once, at build time
    kl_per_dim, active = active_dimensions(mu, logvar, threshold)
    z_base = mu[digit_index].cpu()
    # The sliders start on their grid, as the browser shows them (0.15, not 0.1500000059): the browser rounds a
    # value that is off the grid and sends it back, which would redraw once per slider and count every dimension
    # as moved.
    start = {d: round(round(min(max(z_base[d].item(), -3.0), 3.0) / SLIDER_STEP) * SLIDER_STEP, 2)
             for d in active.tolist()}
    z_start = z_base.clone()
    z_start[active] = torch.tensor(list(start.values()), dtype=z_base.dtype)
    dims = np.arange(model.latent_dim)

    figure = new_figure(6, 2.6)
    ax_image, ax_code = figure.subplots(1, 2, width_ratios=[1, 1.8])
    image = _image_axes(ax_image, (28, 28), "decoded z (the sliders)")
    # No legend (text is most of a redraw's time): the title says what is what.
    ax_code.axhspan(-2, 2, color="0.93", zorder=0)  # where the prior N(0, 1) puts 95% of each coordinate
    colors = ["tab:blue" if d in set(active.tolist()) else "lightgrey" for d in dims]
    bars = ax_code.bar(dims, z_base.numpy(), color=colors, width=0.7)
    ticks = ax_code.plot(dims, z_base.numpy(), linestyle="none", marker="_", markersize=11, color="black")[0]
    ax_code.set(xlim=(-0.7, model.latent_dim - 0.3), ylim=(-3.4, 3.4), xlabel="latent dimension d", ylabel="z[d]",
                yticks=[-2, 0, 2])
    ax_code.xaxis.set_major_locator(MaxNLocator(5, integer=True))
    _title(ax_code, f"bars: z; ticks: q(z|x)'s mean for test digit {digit_index};\n"
                    f"grey band: prior ±2σ; {len(active)} of {model.latent_dim} dims active")

    def update(**values):
        z = z_start.clone()
        z[active] = torch.tensor([values[f"z{d}"] for d in active.tolist()], dtype=z.dtype)
        with torch.inference_mode(), one_thread():
            image.set_data(decode_images(model, z[None])[0, 0].numpy())
        for bar, height in zip(bars, z.tolist()):
            bar.set_height(height)
        return {"|z|": z.norm().item(), "log p(z)": distributions.standard_normal_log_prob(z).item(),
                "dims moved": int((z - z_start).abs().gt(1e-6).sum())}

    controls = {f"z{d}": slider(f"z[{d}] (KL {kl_per_dim[d].item():.2f})", -3.0, 3.0, value, SLIDER_STEP)
                for d, value in start.items()}
    for control in controls.values():
        control.style.description_width = "110px"  # one width for all, so the 16 tracks line up
        control.layout.width = "330px"  # two columns of sliders keep the image above the fold
    return _live(figure, update, controls, [image, *bars, ticks], columns=2)  # ticks over the bars


def interpolation_explorer(model=None, index_a=3, index_b=4, t=0.5, spherical=False, num_steps=9):
    """Two test digits (by index), the decoded path between their posterior means, and a slider t to walk along it.

    Top: num_steps decodings along the path, the one nearest t boxed. Bottom: digit A, the decoding at t, digit B,
    and the norm |z(t)| along the straight (lerp) and the spherical (slerp) path.
    """
    model = _model_or_shipped(model, CONV_MODEL)
    test = data.load_digits(split="test", binarized=True)
    mu = encode_images(model, test.images)[0].cpu()  # once, at build time
    num_digits = len(test.images)
    t_grid = torch.linspace(0.0, 1.0, 41)
    cell = 28 + PADDING

    figure = new_figure(6.4, 3.4)
    grid = figure.add_gridspec(2, 4, height_ratios=[1, 1.7])
    ax_strip = figure.add_subplot(grid[0, :])
    ax_a, ax_t, ax_b, ax_norm = (figure.add_subplot(grid[1, k]) for k in range(4))
    strip = _image_axes(ax_strip, _strip_shape(num_steps, num_steps))
    strip_title = _title(ax_strip, " ")
    box = ax_strip.add_patch(Rectangle((-1.5, -1.5), 30, 30, fill=False, edgecolor="tab:red", linewidth=2))
    # Static titles (the slider readouts give the numbers): changing text is most of a redraw's time.
    image_a, image_t, image_b = (_image_axes(ax, (28, 28), title)
                                 for ax, title in ((ax_a, "A"), (ax_t, "decoded z(t)"), (ax_b, "B")))
    line_lerp = ax_norm.plot(t_grid.numpy(), t_grid.numpy(), color="tab:grey", linestyle="--")[0]
    line_slerp = ax_norm.plot(t_grid.numpy(), t_grid.numpy(), color="tab:blue")[0]
    current = ax_norm.plot([t], [0.0], marker="o", color="tab:red", linestyle="none")[0]
    root_d = model.latent_dim**0.5  # where the prior's samples concentrate
    ax_norm.axhline(root_d, color="black", linestyle=":", linewidth=1)
    ax_norm.set(xlim=(0, 1), ylim=(0, 1.6 * root_d), xticks=[0, 0.5, 1], yticks=[0, round(root_d, 1)],
                yticklabels=["0", "√D"], xlabel="t")
    _title(ax_norm, "|z(t)|: lerp --, slerp —", fontsize="small")

    def update(index_a, index_b, t, spherical):
        z_a, z_b = mu[index_a], mu[index_b]
        interpolate = slerp if spherical else lerp
        codes = torch.cat([interpolation_path(z_a, z_b, num_steps, spherical), interpolate(z_a, z_b, t)[None]])
        with torch.inference_mode(), one_thread():
            logits = model.decode(codes.to(next(model.parameters()).device)).cpu()
        images = torch.sigmoid(logits)
        strip.set_data(tile_images(images[:num_steps], ncols=num_steps))
        box.set_x(round(t * (num_steps - 1)) * cell - 1.5)
        strip_title.set_text(f"decoded along the {'spherical (slerp)' if spherical else 'straight (lerp)'} path, "
                             f"A → B, {num_steps} steps")
        image_a.set_data(test.images[index_a, 0].numpy())
        image_b.set_data(test.images[index_b, 0].numpy())
        image_t.set_data(images[-1, 0].numpy())
        line_lerp.set_ydata(lerp(z_a, z_b, t_grid).norm(dim=-1).numpy())
        line_slerp.set_ydata(slerp(z_a, z_b, t_grid).norm(dim=-1).numpy())
        z_t = codes[-1]
        current.set_data([t], [z_t.norm().item()])
        x_pair = test.images[[index_a, index_b]]
        log_likelihoods = distributions.bernoulli_log_prob(x_pair, logits[-1:].expand(2, -1, -1, -1))
        angle = torch.rad2deg(torch.arccos(F.cosine_similarity(z_a, z_b, dim=0).clamp(-1, 1))).item()
        return {"t": t, "|z(t)|": z_t.norm().item(), "log p(x_A|z(t))": log_likelihoods[0].item(),
                "log p(x_B|z(t))": log_likelihoods[1].item(), "angle A–B (degrees)": angle}

    int_style = {"style": {"description_width": "initial"}, "continuous_update": True,
                 "layout": widgets.Layout(width="420px")}
    controls = {"index_a": widgets.IntSlider(index_a, 0, num_digits - 1, description="digit A (test index)",
                                             **int_style),
                "index_b": widgets.IntSlider(index_b, 0, num_digits - 1, description="digit B (test index)",
                                             **int_style),
                "t": slider("t (0 = A, 1 = B)", 0.0, 1.0, t, 0.01),
                "spherical": widgets.Checkbox(spherical, description="spherical path (slerp)")}
    changing = [strip, strip_title, box, image_a, image_t, image_b, line_lerp, line_slerp, current]
    return _live(figure, update, controls, changing)


def generation_explorer(model=None, temperature=1.0, num_per_side=6, seed=0):
    """A grid of new digits decoded from z ~ N(0, T^2 I): a temperature slider and a "New digits" button.

    The noise eps ~ N(0, I) is drawn by the button (from a generator kept here, so the sequence of draws is
    reproducible) and z = T * eps, so moving the slider rescales the same codes and a click draws new ones.
    """
    model = _model_or_shipped(model, CONV_MODEL)
    generator = torch.Generator().manual_seed(seed)
    num_samples = num_per_side**2
    state = {"eps": torch.randn(num_samples, model.latent_dim, generator=generator), "draw": 1}

    def new_digits():
        state["eps"] = torch.randn(num_samples, model.latent_dim, generator=generator)
        state["draw"] += 1

    figure = new_figure(3.4, 3.6)
    ax = figure.add_subplot()
    image = _image_axes(ax, _strip_shape(num_samples, num_per_side))
    title = _title(ax, " ")

    def update(temperature):
        z = temperature * state["eps"]  # z ~ N(0, T^2 I), eq. 7.2
        with torch.inference_mode(), one_thread():
            images = decode_images(model, z)
        image.set_data(tile_images(images, ncols=num_per_side))
        title.set_text(f"decoded z ~ N(0, {temperature:.2f}² I), draw {state['draw']}")
        return {"T": temperature, "mean |z|": z.norm(dim=1).mean().item(),
                "mean pixel probability": images.mean().item(), "draw": state["draw"]}

    controls = {"temperature": slider("temperature T", 0.1, 1.5, temperature, 0.05)}
    return _live(figure, update, controls, [image, title], actions={"New digits": new_digits})


def uncertainty_explorer(model=None, index=0, num_samples=8, seed=0):
    """For one test digit: q(z|x)'s mean ± 2 sigma per dimension, and decodings of samples z = mu + sigma * eps.

    The noise eps is drawn once, so the samples change only when the digit does.
    """
    model = _model_or_shipped(model, CONV_MODEL)
    test = data.load_digits(split="test", binarized=True)
    mu_all, logvar_all = (values.cpu() for values in encode_images(model, test.images))  # once, at build time
    eps = torch.randn(num_samples, model.latent_dim, generator=torch.Generator().manual_seed(seed))
    dims = torch.arange(model.latent_dim, dtype=torch.float32)
    ncols = num_samples // 2 if num_samples % 2 == 0 else num_samples

    figure = new_figure(7, 2.8)
    ax_input, ax_samples, ax_code = figure.subplots(1, 3, width_ratios=[1, 1.9, 2.6])
    image_input = _image_axes(ax_input, (28, 28), "the test digit x")
    image_samples = _image_axes(ax_samples, _strip_shape(num_samples, ncols), f"{num_samples} decoded z ~ q(z|x)")
    ax_code.axhspan(-2, 2, color="0.93", zorder=0)  # the prior's ±2 sigma, for comparison
    bars = ax_code.add_collection(LineCollection([], colors="tab:blue", linewidths=3, alpha=0.5))
    dots = ax_code.plot([], [], linestyle="none", marker=".", markersize=3, color="tab:orange")[0]
    means = ax_code.plot(dims.numpy(), dims.numpy(), linestyle="none", marker="_", markersize=9, color="black")[0]
    ax_code.set(xlim=(-0.7, model.latent_dim - 0.3), ylim=(-4, 4), xlabel="latent dimension d", ylabel="z[d]",
                yticks=[-2, 0, 2])
    ax_code.xaxis.set_major_locator(MaxNLocator(5, integer=True))
    _title(ax_code, "q(z|x): mean (black) ± 2σ (blue), the draws (orange);\ngrey band: the prior's ±2σ")
    sample_x = (dims + torch.linspace(-0.25, 0.25, num_samples)[:, None]).flatten()  # spread a column's draws

    def update(index):
        mu, logvar = mu_all[index], logvar_all[index]
        sigma = torch.exp(0.5 * logvar)
        z = posterior_codes(mu, logvar, eps)  # (num_samples, D)
        with torch.inference_mode(), one_thread():
            logits = model.decode(torch.cat([z, mu[None]]).to(next(model.parameters()).device)).cpu()
        images = torch.sigmoid(logits[:num_samples])
        log_likelihood = distributions.bernoulli_log_prob(test.images[index:index + 1], logits[-1:]).item()
        image_input.set_data(test.images[index, 0].numpy())
        image_samples.set_data(tile_images(images, ncols=ncols))
        bars.set_segments(torch.stack([torch.stack([dims, mu - 2 * sigma], 1),
                                       torch.stack([dims, mu + 2 * sigma], 1)], 1).numpy())  # (D, 2 ends, 2)
        means.set_ydata(mu.numpy())
        dots.set_data(sample_x.numpy(), z.flatten().numpy())
        return {"label": test.labels[index].item(), "mean σ": sigma.mean().item(),
                "KL(q‖p(z)) nats": distributions.gaussian_kl(mu, logvar).item(), "log p(x|z=μ)": log_likelihood}

    controls = {"index": widgets.IntSlider(index, 0, len(test.images) - 1, description="test digit",
                                           continuous_update=True, style={"description_width": "initial"},
                                           layout=widgets.Layout(width="420px"))}
    return _live(figure, update, controls, [image_input, image_samples, bars, dots, means])


EXPLORERS = {"traversal": traversal_explorer, "interpolation": interpolation_explorer, "generation": generation_explorer,
             "uncertainty": uncertainty_explorer}
