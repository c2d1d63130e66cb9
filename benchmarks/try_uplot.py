"""uPlot against the series' plain canvas code (widgets/page_plot.js) on one widget, for the choice between them.

    .venv/bin/python benchmarks/try_uplot.py      # needs npm (it installs uPlot 1.6.32 into build/uplot) and chromium

01's posterior explorer drawn both ways in one headless Chromium page: three curves of 601 points, the observed x as
a vertical line, a legend and a title that changes. Both draw the numbers of page_plot.js's posteriorCurves, so only
the drawing differs. A step = compute + draw, timed until the draw's microtasks have run (uPlot commits its redraw in
a microtask); the median of 300 steps along the x slider, three times over. Prints the medians and the bytes each
adds to the page. A one-off measurement for the choice (README, "Widgets"), not part of `make bench`.
"""

import base64
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.lab import find_chromium  # noqa: E402
from vae_helpers.widgets import page_figure  # noqa: E402

VERSION = "1.6.32"
FOLDER = ROOT / "build" / "uplot"


def main():
    dist = FOLDER / "node_modules" / "uplot" / "dist"
    if not (dist / "uPlot.iife.min.js").exists():
        FOLDER.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(FOLDER), f"uplot@{VERSION}", "--silent"], check=True)
    UPLOT, CSS = (dist / "uPlot.iife.min.js").read_text(), (dist / "uPlot.min.css").read_text()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium())
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_content(f"<html><head><style>{CSS}</style></head><body><div id=a></div><div id=b></div></body></html>")
        page.add_script_tag(content=UPLOT)
        src = base64.b64encode(page_figure.ESM.encode()).decode()
        page.evaluate("async s => { window.pf = await import(s); }", f"data:text/javascript;base64,{src}")
        result = page.evaluate("""async () => {
          const data = { z_grid: [-15, 15, 1501], z_shown: [-6, 6] };
          const z = pf.linspace(...data.z_grid);
          const shown = []; z.forEach((v, i) => { if (v >= -6 && v <= 6) shown.push(i); });
          const xs = shown.map((i) => z[i]);
          const xsteps = Array.from({ length: 81 }, (_, k) => -4 + k * 0.1);
          // (a) the series' canvas code
          const root = document.getElementById('a');
          const draw = pf.VIEWS.posterior.build(root, { data });
          // (b) uPlot: the same three curves, the observed x by a draw hook, the title as the chart's title
          let observed = 1.5;
          const opts = { width: 560, height: 240, title: ' ', legend: { show: true },
            scales: { x: { time: false, range: [-6, 6] }, y: { range: (u, lo, hi) => [0, pf.niceLimit(1.1 * hi)] } },
            axes: [{ label: 'z' }, { label: 'density' }],
            series: [{}, { label: 'prior p(z)', stroke: '#1f77b4', dash: [6, 4], width: 2, points: { show: false } },
                     { label: 'likelihood p(x|z)', stroke: '#ff7f0e', dash: [2, 3], width: 2, points: { show: false } },
                     { label: 'posterior p(z|x)', stroke: '#2ca02c', width: 2, points: { show: false } }],
            hooks: { draw: [(u) => { const c = u.ctx, x = u.valToPos(observed, 'x', true); c.save(); c.strokeStyle = '#7f7f7f';
                     c.lineWidth = 1; c.beginPath(); c.moveTo(x, u.bbox.top); c.lineTo(x, u.bbox.top + u.bbox.height); c.stroke(); c.restore(); }] } };
          const first = pf.VIEWS.posterior.compute({ x: 1.5, noise_std: 0.8, prior_std: 1 }, { data });
          const u = new uPlot(opts, [xs, shown.map((i) => first.prior[i]), shown.map((i) => first.likelihood[i]),
                                     shown.map((i) => first.posterior[i])], document.getElementById('b'));
          const titleNode = document.querySelector('#b .u-title');
          const time = async (step) => { const times = [];
            for (let k = 0; k < 300; k++) { const t0 = performance.now(); await step(xsteps[k % 81]); await Promise.resolve(); await Promise.resolve(); times.push(performance.now() - t0); }
            times.sort((a, b) => a - b); return times[150]; };
          const mine = async (x) => { const r = pf.VIEWS.posterior.compute({ x, noise_std: 0.8, prior_std: 1 }, { data }); draw(r, { x }); };
          const theirs = async (x) => { const r = pf.VIEWS.posterior.compute({ x, noise_std: 0.8, prior_std: 1 }, { data });
            observed = x; titleNode.textContent = `p(x) = ${pf.formatG(r.evidence)}   posterior N(${r.mean.toFixed(2)}, ${r.std.toFixed(2)}²)`;
            u.setData([xs, shown.map((i) => r.prior[i]), shown.map((i) => r.likelihood[i]), shown.map((i) => r.posterior[i])]); };
          const computeOnly = async (x) => { pf.VIEWS.posterior.compute({ x, noise_std: 0.8, prior_std: 1 }, { data }); };
          const out = { canvas: [], uplot: [], compute: [] };
          for (let r = 0; r < 3; r++) { out.canvas.push(await time(mine)); out.uplot.push(await time(theirs)); out.compute.push(await time(computeOnly)); }
          return out; }""")
        page.screenshot(path=str(FOLDER / "both.png"))
        browser.close()
    print(json.dumps(result))
    print(f"bytes: uPlot {len(UPLOT) + len(CSS):,} (minified JS and CSS); the series' drawing and control code is part "
          f"of page_plot.js ({len(page_figure.ESM):,} bytes with every widget's formulas)")


if __name__ == "__main__":
    main()
