"""Notebook 07's explorers: traverse, interpolate and sample the latent space of the shipped VAEs, and look at
q(z|x) for one digit.

Every factory loads a shipped checkpoint by default (vae_helpers.pretrained.model_or_shipped; pass `model=` to use
another) and encodes the test split once, when it is built. The page then runs the conv VAE's decoder itself
(page_models.js, the layers of widgets/page_models.py): the decoder's weights and the test digits with their codes
go to the page once, shared by the four widgets, and every move of a control is decoded there. Each factory's
`update` is the Python original of what the page computes (the readout; tests/test_page_figures.py compares them)
and draws the figure a viewer without JavaScript sees. The maths (lerp, slerp, traversal codes, encoding and
decoding batches) is in vae_helpers.latent_space, tested without a browser in tests/test_latent_explorers.py.
"""

import math
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.collections import LineCollection
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from vae_helpers import data, diagnostics, parts, seeded
from vae_helpers.distributions import DiagonalGaussian, closed_form_kl
from vae_helpers.latent_space import decode_images, encode_images, interpolation_path, lerp, slerp
from vae_helpers.plotting import tile_images
from vae_helpers.pretrained import model_or_shipped
from vae_helpers.widgets import new_figure
from vae_helpers.widgets.page_figure import PageFigure, checkbox_control, slider_control
from vae_helpers.widgets.page_models import sequential_spec, shared_numbers

CONV_MODEL = "conv_vae_16d"  # the shipped checkpoint the widgets load by default (the 2-D map's is in touch.py)
IMAGE_STYLE = {"cmap": "gray", "vmin": 0.0, "vmax": 1.0, "interpolation": "nearest"}
PADDING = 2  # pixels between the images of a tiled strip or grid (tile_images' default)
SLIDER_STEP = 0.05  # of the traversal's sliders


# ---- shared by the widgets ----------------------------------------------------------------------------------------

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


def _image_axes(ax, shape, title=None):
    """An imshow of a blank image of `shape` on `ax`, axes hidden; returns the AxesImage to set_data later."""
    image = ax.imshow(np.zeros(shape, np.float32), **IMAGE_STYLE)
    ax.set_axis_off()
    if title:
        _title(ax, title)
    return image


def _title(ax, text, fontsize="medium"):
    """A title drawn as plain text above the axes."""
    return ax.text(0.5, 1.02, text, transform=ax.transAxes, ha="center", va="bottom", fontsize=fontsize)


def _strip_shape(count, ncols):
    rows = -(-count // ncols)
    return rows * (28 + PADDING) - PADDING, ncols * (28 + PADDING) - PADDING


# A float32 network run in another order: the page's numbers agree with torch's to about 1e-6 relative.
MODEL_TOLERANCE = (1e-4, 1e-4)


def _decoder_numbers(model):
    """The SharedNumbers of `model`'s decoder (its layers in the data, its weights as one array): the page runs it.
    Raises ValueError for a model the page cannot decode: a prior other than N(0, I), pixels other than Bernoulli,
    a layer the page's loop does not run."""
    if type(model.parts["prior"]) is not parts.StandardNormalPrior or (
            type(model.parts["likelihood"]) is not parts.BernoulliLikelihood):
        raise ValueError("07's widgets run a VAE with the prior N(0, I) and Bernoulli pixels in the page, like the "
                         f"shipped '{CONV_MODEL}'")
    layers, weights = sequential_spec(model.decoder, (model.latent_dim,))
    return layers, shared_numbers({"decoder": weights})


def _digit_numbers(test, mu, logvar):
    """The SharedNumbers of the test digits (one bit per pixel), their labels and codes: sent to the page once."""
    bits = np.packbits(test.images.reshape(len(test.images), -1).numpy().astype(np.uint8), axis=1)
    return shared_numbers({"digits": bits, "labels": test.labels.numpy().astype(np.uint8),
                           "mu": mu.numpy().astype("<f4"), "logvar": logvar.numpy().astype("<f4")})


def _page(view, model, figure, update, controls, numbers, description, shared=(), actions=None):
    """A PageFigure of `view` whose Python original is `update` (the readout; it also draws the still)."""
    layers, decoder = _decoder_numbers(model)

    def still(**values):
        update(**values)
        return figure

    return PageFigure(view, controls, update, still, data={**numbers, "layers": layers, "latent_dim": model.latent_dim},
                      shared=[decoder, *shared], actions=actions, description=description,
                      tolerance=MODEL_TOLERANCE)


def _digit_slider(name, label, value, count):
    return slider_control(name, label, 0, count - 1, value, 1)


# ---- the four widgets ---------------------------------------------------------------------------------------------

def traversal_explorer(model=None, digit_index=0, threshold=diagnostics.ACTIVE_KL_NATS):
    """One slider per active latent dimension of the conv VAE, starting at a test digit's posterior mean.

    The decoded digit and the bar chart of z update as you drag; inactive dimensions (average KL below `threshold`
    nats, diagnostics.dimensions_with_kl_above) stay at the digit's posterior mean. The readout's log p(z) is under
    the model's prior.
    """
    model = model_or_shipped(model, CONV_MODEL)
    test = data.load_digits(split="test", binarized=True)
    mu, logvar = encode_images(model, test.images)  # once, at build time
    prior = model.prior()
    kl_per_dim = diagnostics.kl_per_dimension(DiagonalGaussian(mu, logvar), prior).cpu()
    active = diagnostics.dimensions_with_kl_above(kl_per_dim, threshold)
    z_base = mu[digit_index].cpu()
    # The sliders start on their grid (0.15, not 0.1500000059), so that "dims moved" counts only what was moved.
    start = {d: round(round(min(max(z_base[d].item(), -3.0), 3.0) / SLIDER_STEP) * SLIDER_STEP, 2)
             for d in active.tolist()}
    z_start = z_base.clone()
    z_start[active] = torch.tensor(list(start.values()), dtype=z_base.dtype)
    dims = np.arange(model.latent_dim)

    figure = new_figure(6, 2.6)
    ax_image, ax_code = figure.subplots(1, 2, width_ratios=[1, 1.8])
    image = _image_axes(ax_image, (28, 28), "decoded z (the sliders)")
    ax_code.axhspan(-2, 2, color="0.93", zorder=0)  # where the prior N(0, 1) puts 95% of each coordinate
    colors = ["tab:blue" if d in set(active.tolist()) else "lightgrey" for d in dims]
    bars = ax_code.bar(dims, z_base.numpy(), color=colors, width=0.7)
    ax_code.plot(dims, z_base.numpy(), linestyle="none", marker="_", markersize=11, color="black")
    ax_code.set(xlim=(-0.7, model.latent_dim - 0.3), ylim=(-3.4, 3.4), xlabel="latent dimension d", ylabel="z[d]",
                yticks=[-2, 0, 2])
    ax_code.xaxis.set_major_locator(MaxNLocator(5, integer=True))
    title = (f"bars: z; ticks: q(z|x)'s mean for test digit {digit_index};\n"
             f"grey band: prior ±2σ; {len(active)} of {model.latent_dim} dims active")
    _title(ax_code, title)

    def update(**values):
        z = z_start.clone()
        z[active] = torch.tensor([values[f"z{d}"] for d in active.tolist()], dtype=z.dtype)
        with torch.inference_mode(), one_thread():
            image.set_data(decode_images(model, z[None])[0, 0].numpy())
        for bar, height in zip(bars, z.tolist()):
            bar.set_height(height)
        return {"|z|": z.norm().item(), "log p(z)": prior.log_prob(z.to(prior.mean.device)).item(),
                "dims moved": int((z - z_start).abs().gt(1e-6).sum())}

    controls = [slider_control(f"z{d}", f"z[{d}] (KL {kl_per_dim[d].item():.2f})", -3.0, 3.0, value, SLIDER_STEP)
                for d, value in start.items()]
    numbers = {"z_start": z_start.tolist(), "z_mean": z_base.tolist(), "active": active.tolist(), "title": title,
               "control_columns": 2}  # two columns of sliders keep the digit above the fold
    return _page("traversal", model, figure, update, controls, numbers,
                 "the digit decoded from the sliders' code, and the code as bars")


def interpolation_explorer(model=None, index_a=3, index_b=4, t=0.5, spherical=False, num_steps=9):
    """Two test digits (by index), the decoded path between their posterior means, and a slider t to walk along it.

    Top: num_steps decodings along the path, the one nearest t boxed. Bottom: digit A, the decoding at t, digit B,
    and the norm |z(t)| along the straight (lerp) and the spherical (slerp) path.
    """
    model = model_or_shipped(model, CONV_MODEL)
    test = data.load_digits(split="test", binarized=True)
    mu, logvar = (values.cpu() for values in encode_images(model, test.images))  # once, at build time
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
        index_a, index_b = int(index_a), int(index_b)
        z_a, z_b = mu[index_a], mu[index_b]
        interpolate = slerp if spherical else lerp
        codes = torch.cat([interpolation_path(z_a, z_b, num_steps, spherical), interpolate(z_a, z_b, t)[None]])
        x_pair = test.images[[index_a, index_b]]
        with torch.inference_mode(), one_thread():
            output = model.decode(codes.to(next(model.parameters()).device))
            images = model.parts["likelihood"](output).mean.cpu()
            at_t = model.parts["likelihood"](output[-1:].expand(2, *output.shape[1:]))  # p(x|z(t)), twice
            log_likelihoods = at_t.log_prob(x_pair.to(output.device)).cpu()  # log p(x_A|z(t)), log p(x_B|z(t))
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
        # 2 atan2(|a - b|, |a + b|) of the unit codes, in float64: arccos of a float32 cosine puts 0.03° between a
        # code and itself
        unit_a, unit_b = (F.normalize(z.double(), dim=0) for z in (z_a, z_b))
        angle = math.degrees(2 * math.atan2((unit_a - unit_b).norm().item(), (unit_a + unit_b).norm().item()))
        return {"t": t, "|z(t)|": z_t.norm().item(), "log p(x_A|z(t))": log_likelihoods[0].item(),
                "log p(x_B|z(t))": log_likelihoods[1].item(), "angle A–B (degrees)": angle}

    controls = [_digit_slider("index_a", "digit A (test index)", index_a, num_digits),
                _digit_slider("index_b", "digit B (test index)", index_b, num_digits),
                slider_control("t", "t (0 = A, 1 = B)", 0.0, 1.0, t, 0.01),
                checkbox_control("spherical", "spherical path (slerp)", spherical)]
    return _page("interpolation", model, figure, update, controls, {"num_steps": num_steps},
                 "the decoded path from digit A to digit B, the decoding at t, and the norm of z along the path",
                 shared=[_digit_numbers(test, mu, logvar)])


def generation_explorer(model=None, temperature=1.0, num_per_side=4, seed=0):
    """A grid of new digits decoded from z = T * eps, eps drawn from N(0, I): a temperature slider and a "New digits"
    button.

    eps is drawn by vae_helpers.seeded (the page draws the same numbers): draw k uses seed `seed` + k, so moving the
    slider rescales the same codes and a click draws new ones. Four by four: the page decodes the whole grid at every
    step, and on this project's 2-core machine a step took 30 ms (median) for 36 digits and 21 ms for 25, over the
    20 ms budget (benchmarks/bench_browser.py).
    """
    model = model_or_shipped(model, CONV_MODEL)
    num_samples = num_per_side**2

    figure = new_figure(3.4, 3.6)
    ax = figure.add_subplot()
    image = _image_axes(ax, _strip_shape(num_samples, num_per_side))
    title = _title(ax, " ")

    def update(temperature, draw):
        eps = seeded.standard_normal(seed + draw, (num_samples, model.latent_dim)).float()
        z = temperature * eps  # z ~ N(0, T^2 I), eq. 7.2
        with torch.inference_mode(), one_thread():
            images = decode_images(model, z)
        image.set_data(tile_images(images, ncols=num_per_side))
        title.set_text(f"decoded z ~ N(0, {temperature:.2f}² I), draw {draw + 1}")
        return {"T": temperature, "mean |z|": z.norm(dim=1).mean().item(),
                "mean pixel probability": images.mean().item(), "draw": draw + 1}

    controls = [slider_control("temperature", "temperature T", 0.1, 1.5, temperature, 0.05)]
    return _page("generation", model, figure, update, controls, {"num_per_side": num_per_side, "seed": seed},
                 "a grid of digits decoded from codes drawn from N(0, T² I)", actions={"New digits": "draw"})


def uncertainty_explorer(model=None, index=0, num_samples=8, seed=0):
    """For one test digit: q(z|x)'s mean ± 2 sigma per dimension, and decodings of samples z = mu + sigma * eps.

    The noise eps is drawn once (vae_helpers.seeded, which the page draws too), so the samples change only when the
    digit does.
    """
    model = model_or_shipped(model, CONV_MODEL)
    test = data.load_digits(split="test", binarized=True)
    mu_all, logvar_all = encode_images(model, test.images)  # once, at build time
    kl_all = closed_form_kl(DiagonalGaussian(mu_all, logvar_all), model.prior()).cpu()  # (1000,) nats
    mu_all, logvar_all = mu_all.cpu(), logvar_all.cpu()
    eps = seeded.standard_normal(seed, (num_samples, model.latent_dim)).float()
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
        index = int(index)
        mu, logvar = mu_all[index], logvar_all[index]
        sigma = torch.exp(0.5 * logvar)
        z = DiagonalGaussian(mu, logvar).reparameterize(eps)  # (num_samples, D)
        with torch.inference_mode(), one_thread():
            output = model.decode(torch.cat([z, mu[None]]).to(next(model.parameters()).device))
            images = model.parts["likelihood"](output[:num_samples]).mean.cpu()
            at_mean = model.parts["likelihood"](output[-1:])  # p(x|z = mu)
            log_likelihood = at_mean.log_prob(test.images[index:index + 1].to(output.device)).item()
        image_input.set_data(test.images[index, 0].numpy())
        image_samples.set_data(tile_images(images, ncols=ncols))
        bars.set_segments(torch.stack([torch.stack([dims, mu - 2 * sigma], 1),
                                       torch.stack([dims, mu + 2 * sigma], 1)], 1).numpy())  # (D, 2 ends, 2)
        means.set_ydata(mu.numpy())
        dots.set_data(sample_x.numpy(), z.flatten().numpy())
        return {"label": test.labels[index].item(), "mean σ": sigma.mean().item(),
                "KL(q‖p(z)) nats": kl_all[index].item(), "log p(x|z=μ)": log_likelihood}

    controls = [_digit_slider("index", "test digit", index, len(test.images))]
    return _page("uncertainty", model, figure, update, controls,
                 {"num_samples": num_samples, "seed": seed, "ncols": ncols},
                 "a test digit, decodings of codes drawn from q(z|x), and q's mean and spread per dimension",
                 shared=[_digit_numbers(test, mu_all, logvar_all)])


EXPLORERS = {"traversal": traversal_explorer, "interpolation": interpolation_explorer, "generation": generation_explorer,
             "uncertainty": uncertainty_explorer}
