"""The figures the page computes (widgets/page_figure.py, page_plot.js) against their Python originals.

Each widget's page code is imported into a blank Chromium page and evaluated on a grid of settings: both ends and
the middle of every slider, every option of every choice. Its readout must be Python's readout, and its curves
Python's curves, to 1e-9 (both are float64: what differs is only the order of the operations). So a change to a
formula on one side that is not made on the other fails here.
"""

import base64
import itertools
import math

import numpy as np
import pytest
import torch

from vae_helpers import data, seeded
from vae_helpers.explorers import all_explorers, kinds
from vae_helpers.latent_space import encode_images
from vae_helpers.widgets import page_figure

from .browser.lab import page_with_module

TOLERANCE = dict(rtol=1e-9, atol=1e-12)
PAGE_FIGURES = {name: factory for name, factory in all_explorers().items()
                if issubclass(kinds()[name], page_figure.PageFigure)}


@pytest.fixture(scope="module")
def page_js(browser):
    """A blank Chromium page with page_plot.js (and in_page_core.js) imported as `window.pf`."""
    page = page_with_module(browser, page_figure.ESM, "pf")
    yield page
    page.close()


def settings_grid(widget, limit=60):
    """Both ends and the middle of each slider, each option of each choice, both states of a checkbox, a button's
    count at 0 and 3: every combination when there are at most `limit`, else one control at a time (the others at
    their first values) and every control at its lowest and at its highest."""
    axes = []
    for control in widget.controls:
        if control["kind"] == "slider":
            low, high, step = control["min"], control["max"], control["step"]
            middle = low + round((high - low) / 2 / step) * step
            axes.append([low, middle, high])
        elif control["kind"] == "checkbox":
            axes.append([False, True])
        else:
            axes.append([value for _, value in control["options"]])
    names = [control["name"] for control in widget.controls] + list(widget.actions.values())
    axes += [[0, 3]] * len(widget.actions)  # a button's count: none yet, three clicks
    if math.prod(map(len, axes)) <= limit:
        return [dict(zip(names, values)) for values in itertools.product(*axes)]
    first = widget.values()
    settings = [{**first, name: value} for name, axis in zip(names, axes) for value in axis]
    return settings + [dict(zip(names, [axis[0] for axis in axes])), dict(zip(names, [axis[-1] for axis in axes]))]


def page_compute(page, widget, settings, keys=()):
    """The page's compute() for each of `settings`: its readout, and the arrays named in `keys`, as lists."""
    state = {"view": widget.view, "data": widget.data, "layout": widget.array_layout,
             "arrays": base64.b64encode(widget.arrays).decode(),
             "shared": [[shared.layout_of, base64.b64encode(shared.values).decode()] for shared in widget.shared]}
    return page.evaluate("""([state, settings, keys]) => {
        const bytesOf = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
        const context = { data: state.data, arrays: pf.decodeArrays(bytesOf(state.arrays), state.layout) };
        for (const [layout, values] of state.shared) Object.assign(context.arrays, pf.decodeShared(layout, bytesOf(values)));
        return settings.map((values) => {
            const result = pf.VIEWS[state.view].compute(values, context);
            const plain = (value) => (value?.length !== undefined && typeof value !== "string"
                ? Array.from(value, (item) => (item?.length !== undefined ? Array.from(item) : item)) : value);
            return { readout: result.readout, ...Object.fromEntries(keys.map((k) => [k, plain(result[k])])) };
        });
    }""", [state, settings, list(keys)])


@pytest.mark.browser
@pytest.mark.parametrize("name", sorted(PAGE_FIGURES))
def test_the_page_shows_the_numbers_python_computes_on_a_grid_of_settings(page_js, name):
    widget = PAGE_FIGURES[name]()
    settings = settings_grid(widget)
    for values, result in zip(settings, page_compute(page_js, widget, settings)):
        expected = widget.readout(**values)
        assert result["readout"].keys() == expected.keys()
        relative, absolute = widget.tolerance
        for key, value in expected.items():
            assert result["readout"][key] == pytest.approx(value, rel=relative, abs=absolute), f"{name} at {values}: {key}"


def compare_curves(page, widget, python_curves, keys):
    """python_curves(**values) -> {page key: tensor}; compared with the page's arrays on the widget's grid."""
    settings = settings_grid(widget, limit=20)
    for values, result in zip(settings, page_compute(page, widget, settings, keys)):
        for key, expected in python_curves(**values).items():
            np.testing.assert_allclose(result[key], np.asarray(expected), err_msg=f"{key} at {values}", **TOLERANCE)


@pytest.mark.browser
def test_the_posterior_curves_are_pythons(page_js):
    from vae_helpers.explorers import posterior

    def curves(x, noise_std, prior_std):
        found = posterior.posterior_curves(x, noise_std, prior_std)
        return {key: found[key] for key in ("prior", "likelihood", "posterior")}

    compare_curves(page_js, posterior.posterior_explorer(), curves, ["prior", "likelihood", "posterior"])


@pytest.mark.browser
def test_the_kl_integrands_are_pythons(page_js):
    from vae_helpers.explorers import kl

    def curves(mean_p, std_p, mean_q, std_q):
        found = kl.gaussian_kl_curves(mean_p, std_p, mean_q, std_q)
        return {"p": found["p"], "q": found["q"], "integrandPQ": found["integrand_pq"],
                "integrandQP": found["integrand_qp"]}

    compare_curves(page_js, kl.gaussian_kl_explorer(), curves, ["p", "q", "integrandPQ", "integrandQP"])


@pytest.mark.browser
def test_the_elbo_waterfall_and_densities_are_pythons(page_js):
    from vae_helpers.explorers import elbo

    widget = elbo.elbo_explorer()
    model = {key: widget.data[key] for key in ("x", "noise_std", "prior_std")}

    def curves(q_mean, q_std):
        starts, ends, _ = elbo.elbo_waterfall(q_mean=q_mean, q_std=q_std, **model)
        densities = elbo.elbo_densities(q_mean=q_mean, q_std=q_std, **model)
        return {"starts": starts, "ends": ends, **densities}

    compare_curves(page_js, widget, curves, ["starts", "ends", "prior", "posterior", "q"])


def test_every_page_figure_keeps_its_numbers_finite_at_every_setting_of_the_grid():
    for name, factory in PAGE_FIGURES.items():
        widget = factory()
        for values in settings_grid(widget):
            assert widget.all_finite(**values), f"{name} at {values}: {widget.readout(**values)}"


def test_a_page_figure_refuses_a_control_it_cannot_draw():
    with pytest.raises(ValueError, match="kind must be one of"):
        page_figure.PageFigure("posterior", [{"name": "x", "kind": "knob", "value": 0}], dict, None)


def test_the_arrays_reach_the_page_as_float64_in_their_layout():
    widget = page_figure.PageFigure("posterior", [], dict, None,
                                    arrays={"a": np.arange(6.0).reshape(2, 3), "b": torch.tensor([0.1, 0.2], dtype=torch.float64)})
    assert widget.array_layout == {"a": [0, [2, 3]], "b": [6, [2]]}
    assert np.frombuffer(widget.arrays, "<f8").tolist() == [0, 1, 2, 3, 4, 5, 0.1, 0.2]


@pytest.mark.browser
def test_the_page_draws_the_seeded_normals_python_draws(page_js):
    from vae_helpers import seeded

    for seed in (0, 1, 1001, 2**32 - 1):
        page = page_js.evaluate("([seed, n]) => Array.from(pf.seededNormals(seed, n))", [seed, 5000])
        np.testing.assert_allclose(page, seeded.standard_normal(seed, 5000).numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.browser
def test_the_mixture_maps_and_their_minima_are_pythons(page_js):
    from vae_helpers.explorers import kl

    widget = kl.mixture_fit_explorer()
    # where minima appear and vanish (2.8, 2.9) and the best fit switches (3.4), and either side
    for separation in (0.0, 2.0, 2.6, 2.8, 2.9, 3.4, 4.0, 6.0):
        page = page_js.evaluate("""([separation, data]) => {
            const found = pf.mixtureLandscape(separation, data);
            return { forward: Array.from(found.maps.forward), reverse: Array.from(found.maps.reverse),
                     minima: found.minima };
        }""", [separation, widget.data])
        maps = kl.mixture_kl_maps(separation)
        for direction in ("forward", "reverse"):
            np.testing.assert_allclose(page[direction], maps[direction].flatten().numpy(), **TOLERANCE)
            expected = kl.kl_minima(separation, direction, maps[direction])
            assert len(page["minima"][direction]) == len(expected), f"{direction} at {separation}"
            # the same compass search from the same cells; where two moves tie to rounding, the page and Python may
            # take different ones, and each search then stops within its final step (4e-3) of the minimum: 2 steps
            np.testing.assert_allclose(page["minima"][direction], expected, atol=8e-3)
    compare_curves(page_js, widget, lambda mean_q, std_q, separation: {
        key: value for key, value in kl.mixture_fit_curves(mean_q, std_q, separation).items() if key in ("p", "q")},
        ["p", "q"])


@pytest.mark.browser
def test_the_gradient_estimates_and_histograms_are_pythons(page_js):
    from vae_helpers.explorers import gradients

    def curves(name, mu, sigma, num_samples, baseline, wrt):
        score, pathwise, exact = gradients.gradient_estimates(name, mu, sigma, num_samples, baseline, wrt)
        edges, score_counts, path_counts = gradients.histogram_counts(score, pathwise, exact)
        return {"score": score, "pathwise": pathwise, "edges": edges, "firstCounts": score_counts,
                "secondCounts": path_counts}

    compare_curves(page_js, gradients.gradient_explorer(), curves,
                   ["score", "pathwise", "edges", "firstCounts", "secondCounts"])


@pytest.mark.browser
def test_the_naive_monte_carlo_runs_region_and_ellipse_are_pythons(page_js):
    from vae_helpers.explorers import evidence

    widget = evidence.naive_monte_carlo_explorer()
    settings = [{"noise_std": s, "latent_dim": d, "seed": seed}
                for s, d, seed in [(0.1, 2, 0), (2.0, 2, 3), (3.0, 16, 0), (0.55, 9, 1)]]
    results = page_compute(page_js, widget, settings, ["running", "inside", "ellipse", "z"])
    for values, result in zip(settings, results):
        expected = evidence.naive_monte_carlo(values["latent_dim"], values["noise_std"], seed=values["seed"])
        message = f"at {values}"
        np.testing.assert_allclose(result["z"], expected["z"].flatten().numpy(), err_msg=message, **TOLERANCE)
        np.testing.assert_allclose(result["running"], expected["running"].flatten().numpy(), err_msg=message,
                                   rtol=1e-9, atol=1e-9)
        assert result["inside"] == expected["inside"].int().tolist(), message
        np.testing.assert_allclose(result["ellipse"], expected["ellipse"].numpy(), err_msg=message, **TOLERANCE)
        readout = widget.readout(**values)
        assert result["readout"] == pytest.approx(readout, rel=1e-9, abs=1e-12)


# ---- 07: the conv VAE's decoder in the page ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def conv_model():
    from vae_helpers.pretrained import load_pretrained

    return load_pretrained("conv_vae_16d")[0]


@pytest.mark.browser
def test_the_page_decodes_as_torch_does(page_js, conv_model):
    from vae_helpers.widgets.page_models import sequential_spec

    layers, weights = sequential_spec(conv_model.decoder, (conv_model.latent_dim,))
    assert [layer["kind"] for layer in layers] == ["linear", "silu", "conv", "pixel_shuffle", "silu", "conv",
                                                   "pixel_shuffle", "bias"]
    z = seeded.standard_normal(5, (6, conv_model.latent_dim)).float() * 1.5
    logits = page_js.evaluate("""([layers, weights, codes]) => {
        const bytes = Uint8Array.from(atob(weights), (c) => c.charCodeAt(0));
        const network = new pf.Sequential(layers, new Float32Array(bytes.buffer));
        return codes.map((z) => Array.from(network.forward(Float32Array.from(z))));
    }""", [layers, base64.b64encode(weights.tobytes()).decode(), z.tolist()])
    with torch.no_grad():
        expected = conv_model.decode(z).reshape(len(z), -1)
    np.testing.assert_allclose(logits, expected.numpy(), atol=2e-5, rtol=1e-5)


@pytest.mark.browser
def test_the_latent_widgets_decode_the_digits_python_decodes(page_js, conv_model):
    from vae_helpers.explorers import latent
    from vae_helpers.latent_space import decode_images, interpolation_path, slerp

    widget = latent.interpolation_explorer(model=conv_model)
    settings = [{"index_a": 3, "index_b": 4, "t": 0.3, "spherical": True},
                {"index_a": 999, "index_b": 0, "t": 1.0, "spherical": False}]
    test = data.load_digits(split="test", binarized=True)
    mu = encode_images(conv_model, test.images)[0]
    for values, result in zip(settings, page_compute(page_js, widget, settings, ["images", "xA"])):
        z_a, z_b = mu[values["index_a"]], mu[values["index_b"]]
        path = interpolation_path(z_a, z_b, 9, values["spherical"])
        at_t = (slerp if values["spherical"] else latent.lerp)(z_a, z_b, values["t"])
        expected = decode_images(conv_model, torch.cat([path, at_t[None]])).reshape(10, -1)
        np.testing.assert_allclose(result["images"], expected.numpy(), atol=1e-5)
        assert result["xA"] == test.images[values["index_a"]].flatten().tolist()  # the digit's bits, unpacked


def test_a_decoder_the_page_cannot_run_is_refused():
    from torch import nn

    from vae_helpers.widgets.page_models import sequential_spec

    with pytest.raises(ValueError, match="stride 1 and zero padding"):
        sequential_spec(nn.Sequential(nn.Conv2d(1, 2, 3, stride=2)), (1, 8, 8))
    with pytest.raises(ValueError, match="not ConvTranspose2d"):
        sequential_spec(nn.Sequential(nn.ConvTranspose2d(1, 2, 3)), (1, 8, 8))


def test_the_latent_widgets_refuse_a_model_the_page_cannot_decode(conv_model):
    import copy

    from vae_helpers import parts
    from vae_helpers.explorers import latent

    model = copy.deepcopy(conv_model)
    model.parts["likelihood"] = parts.ContinuousBernoulliLikelihood() if hasattr(parts, "ContinuousBernoulliLikelihood") \
        else torch.nn.Identity()
    with pytest.raises(ValueError, match="prior N\\(0, I\\) and Bernoulli pixels"):
        latent.generation_explorer(model=model)
