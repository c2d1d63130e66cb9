"""The figures the page computes (widgets/page_figure.py, page_plot.js) against their Python originals.

Each widget's page code is imported into a blank Chromium page and evaluated on a grid of settings: both ends and
the middle of every slider, every option of every choice. Its readout must be Python's readout, and its curves
Python's curves, to 1e-9 (both are float64: what differs is only the order of the operations). So a change to a
formula on one side that is not made on the other fails here.
"""

import base64
import itertools

import numpy as np
import pytest
import torch

from vae_helpers.explorers import all_explorers
from vae_helpers.widgets import page_figure

TOLERANCE = dict(rtol=1e-9, atol=1e-12)
PAGE_FIGURES = {name: factory for name, factory in all_explorers().items()
                if isinstance(factory(), page_figure.PageFigure)}


@pytest.fixture(scope="module")
def page_js(browser):
    """A blank Chromium page with page_plot.js (and in_page_core.js) imported as `window.pf`."""
    page = browser.new_page()
    source = base64.b64encode(page_figure.ESM.encode()).decode()
    page.evaluate("async source => { window.pf = await import(source); }", f"data:text/javascript;base64,{source}")
    yield page
    page.close()


def settings_grid(widget, limit=60):
    """Both ends and the middle of each slider, each option of each choice; at most `limit` combinations, spread
    evenly over the full product."""
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
    combinations = list(itertools.product(*axes))
    chosen = combinations[::max(1, len(combinations) // limit)]
    return [dict(zip([control["name"] for control in widget.controls], values)) for values in chosen]


def page_compute(page, widget, settings, keys=()):
    """The page's compute() for each of `settings`: its readout, and the arrays named in `keys`, as lists."""
    state = {"view": widget.view, "data": widget.data, "layout": widget.array_layout,
             "arrays": base64.b64encode(widget.arrays).decode()}
    return page.evaluate("""([state, settings, keys]) => {
        const bytes = Uint8Array.from(atob(state.arrays), (c) => c.charCodeAt(0));
        const context = { data: state.data, arrays: pf.decodeArrays(bytes, state.layout) };
        return settings.map((values) => {
            const result = pf.VIEWS[state.view].compute(values, context);
            return { readout: result.readout, ...Object.fromEntries(keys.map((k) => [k, Array.from(result[k])])) };
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
        for key, value in expected.items():
            assert result["readout"][key] == pytest.approx(value, rel=1e-9, abs=1e-12), f"{name} at {values}: {key}"


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
    for separation in (0.0, 2.0, 2.6, 4.0, 6.0):
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
            # the same compass search from the same cells: a near-tie may step differently in the last digit
            np.testing.assert_allclose(page["minima"][direction], expected, atol=1e-6)
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
    settings = [{"noise_std": s, "latent_dim": d, "New samples": seed}
                for s, d, seed in [(0.1, 2, 0), (2.0, 2, 3), (3.0, 16, 0), (0.55, 9, 1)]]
    results = page_compute(page_js, widget, settings, ["running", "inside", "ellipse", "z"])
    for values, result in zip(settings, results):
        expected = evidence.naive_monte_carlo(values["latent_dim"], values["noise_std"], seed=values["New samples"])
        message = f"at {values}"
        np.testing.assert_allclose(result["z"], expected["z"].flatten().numpy(), err_msg=message, **TOLERANCE)
        np.testing.assert_allclose(result["running"], expected["running"].flatten().numpy(), err_msg=message,
                                   rtol=1e-9, atol=1e-9)
        assert result["inside"] == expected["inside"].int().tolist(), message
        np.testing.assert_allclose(result["ellipse"], expected["ellipse"].numpy(), err_msg=message, **TOLERANCE)
        readout = widget.readout(**{"noise_std": values["noise_std"], "latent_dim": values["latent_dim"],
                                    "seed": values["New samples"]})
        assert result["readout"] == pytest.approx(readout, rel=1e-9, abs=1e-12)
