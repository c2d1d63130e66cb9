// Figures computed and drawn in the page (widgets/page_figure.py): the explorers of 01-04.
//
// The kernel sends each widget its controls and the numbers its formulas need, once; every move of a control is
// answered here, by the widget's `compute` (a mirror of the Python function the notebook teaches, compared with it
// on a grid of settings by tests/test_page_figures.py) and its `draw`, on plain canvases. Plain canvas code rather
// than a charting library: the figures need log and symlog axes, heat maps, waterfall bars and filled curves in
// one consistent look, which uPlot (the small library the issue names) covers only in part, and the few drawing
// helpers below are about as long as the glue a library would need.
// Joined after in_page_core.js (element, addHooks, recordLatency).

const COLOURS = { blue: "#1f77b4", orange: "#ff7f0e", green: "#2ca02c", red: "#d62728", grey: "#7f7f7f",
                  navy: "#000080", darkgreen: "#006400", black: "#000000" }; // matplotlib's names, as in the stills
const FONT = "12px sans-serif";
const LOG_2PI = Math.log(2 * Math.PI);

// ---- numbers ------------------------------------------------------------------------------------------------------

export function linspace(start, stop, count) {
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) values[i] = start + (stop - start) * i / (count - 1);
  return values;
}

export function normalLogProb(x, mean, std) {
  const t = (x - mean) / std;
  return -0.5 * LOG_2PI - Math.log(std) - 0.5 * t * t;
}

// KL(N(mean_q, std_q^2) || N(mean_p, std_p^2)), as distributions.normal_kl.
export function normalKL(meanQ, stdQ, meanP, stdP) {
  const ratio = (stdQ / stdP) ** 2;
  return 0.5 * (-Math.log(ratio) + ratio + ((meanQ - meanP) / stdP) ** 2 - 1);
}

export function logSumExp(values) {
  let top = -Infinity;
  for (const v of values) if (v > top) top = v;
  if (top === -Infinity) return top;
  let sum = 0;
  for (const v of values) sum += Math.exp(v - top);
  return top + Math.log(sum);
}

export function maxOf(values) {
  let top = -Infinity;
  for (const v of values) if (v > top) top = v;
  return top;
}

// live_figure.nice_limit: the smallest of `steps` times a power of ten that is at least `value` (> 0).
export function niceLimit(value, steps = [1, 1.5, 2, 3, 4, 5, 6, 8]) {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [...steps, 10]) if (step * power >= value * (1 - 1e-12)) return step * power;
  return 10 * power;
}

// Python's f"{value:.{digits}g}", so the page's readout reads as the notebook's.
export function formatG(value, digits = 4) {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? "nan" : (value > 0 ? "inf" : "-inf");
  if (value === 0) return "0";
  const [mantissa, exponentText] = value.toExponential(digits - 1).split("e");
  const exponent = Number(exponentText);
  const strip = (text) => (text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text);
  if (exponent < -4 || exponent >= digits) {
    return `${strip(mantissa)}e${exponent < 0 ? "-" : "+"}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  return strip(value.toFixed(digits - 1 - exponent));
}

export function formatReadout(values) {
  return Object.entries(values).map(([name, value]) => `${name} = ${formatG(value)}`).join(" · ");
}

// Seeded standard normal draws, the same numbers as vae_helpers.seeded.standard_normal: a counter-based hash
// (lowbias32) gives two uniforms per draw, Box-Muller turns them into a normal. The page can draw new samples with
// no kernel, and Python can check them.
function hash32(x) {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

export function seededNormals(seed, count) {
  const key = hash32((seed ^ 0x9e3779b9) >>> 0), values = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const u1 = (hash32((hash32(2 * i) ^ key) >>> 0) + 0.5) / 4294967296;
    const u2 = (hash32((hash32(2 * i + 1) ^ key) >>> 0) + 0.5) / 4294967296;
    values[i] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
  return values;
}

// The arrays a PageFigure sends (page_figure.py): one float64 buffer and {name: [offset, shape]}.
export function decodeArrays(buffer, layout) {
  const bytes = buffer instanceof Uint8Array ? buffer : bytesOf(buffer);
  const all = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
  const arrays = {};
  for (const [name, [offset, shape]] of Object.entries(layout)) {
    arrays[name] = all.subarray(offset, offset + shape.reduce((a, b) => a * b, 1));
  }
  return arrays;
}

// ---- drawing ------------------------------------------------------------------------------------------------------

function transform(value, scale) {
  if (scale === "log") return Math.log10(value);
  if (scale === "symlog") { // matplotlib's symlog with linthresh 1, base 10, linscale 1
    const size = Math.abs(value), linear = 1 / (1 - 1 / 10);
    return Math.sign(value) * (size <= 1 ? size * linear : linear + Math.log10(size));
  }
  return value;
}

function niceTicks(low, high, count = 5) {
  const raw = (high - low) / count, power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((s) => s * power).find((s) => s >= raw);
  const ticks = [];
  for (let t = Math.ceil(low / step - 1e-9) * step; t <= high + 1e-9 * step; t += step) {
    ticks.push(Math.abs(t) < 1e-12 * step ? 0 : t);
  }
  return ticks;
}

function tickText(value) {
  return formatG(Number(value.toPrecision(6)), 6).replace("-", "\u2212");
}

// One panel: a canvas with axes, in CSS pixels (sharp on high-density screens).
export class Chart {
  constructor({ width, height, xlim, ylim = [0, 1], xlabel = "", ylabel = "", xscale = "linear", yscale = "linear",
                xticks = null, yticks = null, label = "", margin = {}, tickFont = FONT }) {
    this.node = element("canvas", { width: `${width}px`, height: `${height}px`, display: "block", flex: "none" },
                        { role: "img", "aria-label": label });
    const ratio = window.devicePixelRatio || 1;
    this.node.width = Math.round(width * ratio);
    this.node.height = Math.round(height * ratio);
    this.context = this.node.getContext("2d");
    this.context.scale(ratio, ratio);
    Object.assign(this, { width, height, xlim, ylim, xlabel, ylabel, xscale, yscale, xticks, yticks, tickFont });
    this.box = { left: 54, right: 12, top: 30, bottom: 40, ...margin };
  }

  sx(x) {
    const [a, b] = this.xlim.map((v) => transform(v, this.xscale)), { left, right } = this.box;
    return left + (transform(x, this.xscale) - a) / (b - a) * (this.width - left - right);
  }

  sy(y) {
    const [a, b] = this.ylim.map((v) => transform(v, this.yscale)), { top, bottom } = this.box;
    return this.height - bottom - (transform(y, this.yscale) - a) / (b - a) * (this.height - top - bottom);
  }

  // Clear, then draw the ticks and labels; the curves follow, clipped to the axes; then the frame, by end().
  begin(title = "") {
    const c = this.context, { left, right, top, bottom } = this.box;
    c.setTransform(c.getTransform().a, 0, 0, c.getTransform().d, 0, 0);
    c.fillStyle = "#fff";
    c.fillRect(0, 0, this.width, this.height);
    c.font = FONT;
    c.fillStyle = "#000";
    c.strokeStyle = "#000";
    c.lineWidth = 1;
    const xticks = this.xticks ?? niceTicks(...this.xlim), yticks = this.yticks ?? niceTicks(...this.ylim);
    c.font = this.tickFont;
    c.textAlign = "center";
    c.textBaseline = "top";
    for (const t of xticks) {
      const x = this.sx(Array.isArray(t) ? t[0] : t);
      c.fillRect(x - 0.5, this.height - bottom, 1, 4);
      c.fillText(Array.isArray(t) ? t[1] : tickText(t), x, this.height - bottom + 6);
    }
    c.textAlign = "right";
    c.textBaseline = "middle";
    for (const t of yticks) {
      const y = this.sy(Array.isArray(t) ? t[0] : t);
      c.fillRect(left - 4, y - 0.5, 4, 1);
      c.fillText(Array.isArray(t) ? t[1] : tickText(t), left - 6, y);
    }
    c.font = FONT;
    c.textAlign = "center";
    c.textBaseline = "bottom";
    c.fillText(this.xlabel, (left + this.width - right) / 2, this.height - 4);
    c.save();
    c.translate(12, (top + this.height - bottom) / 2);
    c.rotate(-Math.PI / 2);
    c.textBaseline = "middle";
    c.fillText(this.ylabel, 0, 0);
    c.restore();
    this.title(title);
    c.save();
    c.beginPath();
    c.rect(left, top, this.width - left - right, this.height - top - bottom);
    c.clip();
  }

  end() {
    const c = this.context, { left, right, top, bottom } = this.box;
    c.restore();
    c.strokeStyle = "#000";
    c.lineWidth = 1;
    c.setLineDash([]);
    c.strokeRect(left + 0.5, top + 0.5, this.width - left - right - 1, this.height - top - bottom - 1);
  }

  title(text) {
    if (!text) return;
    const c = this.context, lines = text.split("\n");
    c.font = "13px sans-serif";
    c.textAlign = "center";
    c.textBaseline = "bottom";
    lines.forEach((line, i) => c.fillText(line, (this.box.left + this.width - this.box.right) / 2,
                                          this.box.top - 4 - 15 * (lines.length - 1 - i)));
    c.font = FONT;
  }

  style({ color = "#000", width = 2, dash = "-", alpha = 1 }) {
    const c = this.context;
    c.strokeStyle = color;
    c.fillStyle = color;
    c.lineWidth = width;
    c.globalAlpha = alpha;
    c.setLineDash({ "-": [], "--": [6, 4], ":": [2, 3] }[dash]);
  }

  line(xs, ys, style = {}) {
    const c = this.context;
    this.style(style);
    c.beginPath();
    let drawing = false;
    for (let i = 0; i < xs.length; i++) {
      if (!Number.isFinite(ys[i])) { drawing = false; continue; }
      const x = this.sx(xs[i]), y = Math.max(-1e4, Math.min(1e4, this.sy(ys[i])));
      if (drawing) c.lineTo(x, y); else c.moveTo(x, y);
      drawing = true;
    }
    c.stroke();
    c.globalAlpha = 1;
  }

  fill(xs, ys, style = {}) { // the area between the curve and 0
    const c = this.context;
    this.style(style);
    c.beginPath();
    c.moveTo(this.sx(xs[0]), this.sy(0));
    for (let i = 0; i < xs.length; i++) c.lineTo(this.sx(xs[i]), this.sy(ys[i]));
    c.lineTo(this.sx(xs[xs.length - 1]), this.sy(0));
    c.fill();
    c.globalAlpha = 1;
  }

  vline(x, style = {}) { this.line([x, x], [this.ylim[0], this.ylim[1]], style); }

  hline(y, style = {}) { this.line([this.xlim[0], this.xlim[1]], [y, y], style); }

  dots(xs, ys, { color = "#000", radius = 1.5, edge = null }) {
    const c = this.context;
    c.fillStyle = color;
    for (let i = 0; i < xs.length; i++) {
      c.beginPath();
      c.arc(this.sx(xs[i]), this.sy(ys[i]), radius, 0, 2 * Math.PI);
      c.fill();
      if (edge) { c.strokeStyle = edge; c.lineWidth = 1; c.setLineDash([]); c.stroke(); }
    }
  }

  marker(x, y, kind, { color = "#fff", size = 6 } = {}) {
    const c = this.context, px = this.sx(x), py = this.sy(y);
    c.setLineDash([]);
    if (kind === "x") {
      c.strokeStyle = color;
      c.lineWidth = 2.5;
      c.beginPath();
      c.moveTo(px - size, py - size); c.lineTo(px + size, py + size);
      c.moveTo(px - size, py + size); c.lineTo(px + size, py - size);
      c.stroke();
    } else { // a star
      c.fillStyle = color;
      c.beginPath();
      for (let k = 0; k < 10; k++) {
        const r = k % 2 ? size * 0.45 : size, angle = -Math.PI / 2 + k * Math.PI / 5;
        c.lineTo(px + r * Math.cos(angle), py + r * Math.sin(angle));
      }
      c.fill();
    }
  }

  steps(edges, counts, style) { // a histogram's filled steps
    const c = this.context;
    this.style(style);
    c.beginPath();
    c.moveTo(this.sx(edges[0]), this.sy(0));
    for (let i = 0; i < counts.length; i++) {
      c.lineTo(this.sx(edges[i]), this.sy(counts[i]));
      c.lineTo(this.sx(edges[i + 1]), this.sy(counts[i]));
    }
    c.lineTo(this.sx(edges[edges.length - 1]), this.sy(0));
    c.fill();
    c.globalAlpha = 1;
  }

  bar(x, low, high, halfWidth, { color, hatch = false }) {
    const c = this.context, left = this.sx(x - halfWidth), right = this.sx(x + halfWidth);
    const top = this.sy(Math.max(low, high)), bottom = this.sy(Math.min(low, high));
    c.fillStyle = color;
    c.fillRect(left, top, right - left, bottom - top);
    if (hatch) {
      c.save();
      c.beginPath();
      c.rect(left, top, right - left, bottom - top);
      c.clip();
      c.strokeStyle = "#000";
      c.lineWidth = 1;
      c.setLineDash([]);
      c.beginPath();
      for (let k = left - (bottom - top); k < right; k += 8) { c.moveTo(k, bottom); c.lineTo(k + (bottom - top), top); }
      c.stroke();
      c.restore();
    }
  }

  // Values (rows x cols, row 0 at the bottom) as colours, stretched over the data box [x0, x1] x [y0, y1].
  heatmap(values, rows, cols, colour, [x0, x1, y0, y1]) {
    if (!this.tile || this.tile.width !== cols || this.tile.height !== rows) {
      this.tile = element("canvas");
      this.tile.width = cols;
      this.tile.height = rows;
    }
    const tileContext = this.tile.getContext("2d"), image = tileContext.createImageData(cols, rows);
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < cols; k++) image.data.set(colour(values[r * cols + k]), 4 * ((rows - 1 - r) * cols + k));
    }
    tileContext.putImageData(image, 0, 0);
    const c = this.context;
    c.imageSmoothingEnabled = true; // bilinear, as the still's imshow
    // Pixel centres sit at the grid's points: the tile's half-cell border is cut off by the axes' clip.
    const dx = (x1 - x0) / (cols - 1), dy = (y1 - y0) / (rows - 1);
    const left = this.sx(x0 - dx / 2), right = this.sx(x1 + dx / 2), top = this.sy(y1 + dy / 2), bottom = this.sy(y0 - dy / 2);
    c.drawImage(this.tile, left, top, right - left, bottom - top);
  }

  // Words in colour instead of a legend box: [[text, colour]], from the top right corner down.
  words(entries, { align = "right", bold = true } = {}) {
    const c = this.context;
    c.font = `${bold ? "bold " : ""}${FONT}`;
    c.textAlign = align;
    c.textBaseline = "top";
    entries.forEach(([text, colour], row) => {
      c.fillStyle = colour;
      const x = align === "right" ? this.width - this.box.right - 6 : this.box.left + 6;
      c.fillText(text, x, this.box.top + 6 + 16 * row);
    });
    c.font = FONT;
  }

  // A legend: [[text, style]] with a short line of each style, in the top left corner.
  legend(entries, { corner = "left" } = {}) {
    const c = this.context, widths = entries.map(([text]) => c.measureText(text).width);
    const boxWidth = 40 + Math.max(...widths), x = corner === "left" ? this.box.left + 6
      : this.width - this.box.right - 6 - boxWidth, y = this.box.top + 6;
    c.globalAlpha = 0.85;
    c.fillStyle = "#fff";
    c.fillRect(x, y, boxWidth, 16 * entries.length + 6);
    c.globalAlpha = 1;
    entries.forEach(([text, style], row) => {
      const yy = y + 11 + 16 * row;
      this.style({ width: 2, ...style });
      c.beginPath();
      if (style.dot) {
        c.arc(x + 16, yy, style.dot, 0, 2 * Math.PI);
        c.fill();
      } else {
        c.moveTo(x + 4, yy); c.lineTo(x + 28, yy); c.stroke();
      }
      c.globalAlpha = 1;
      c.fillStyle = "#000";
      c.textAlign = "left";
      c.textBaseline = "middle";
      c.fillText(text, x + 34, yy);
    });
  }

  text(text, x, y, { align = "center", baseline = "middle", colour = "#000", box = false } = {}) {
    const c = this.context, px = this.sx(x), py = this.sy(y);
    c.font = FONT;
    c.textAlign = align;
    c.textBaseline = baseline;
    if (box) {
      const w = c.measureText(text).width;
      c.fillStyle = "rgba(255, 255, 255, 0.8)";
      c.fillRect(px - (align === "center" ? w / 2 : 0) - 2, py - 14, w + 4, 16);
    }
    c.fillStyle = colour;
    c.fillText(text, px, py);
  }
}

// ---- controls -----------------------------------------------------------------------------------------------------

function decimals(step) {
  const text = String(step);
  return text.includes(".") ? text.split(".")[1].length : 0;
}

// The controls of a widget as labelled HTML inputs: a range input per slider (arrows, Page Up/Down, Home and End
// move it), a group of pressed/unpressed buttons per toggle, a <select>, a checkbox. change(name, value, event)
// follows every change.
function buildControls(specs, values, change) {
  const box = element("div", { display: "grid", gridTemplateColumns: "max-content max-content max-content",
                               gap: "4px 10px", alignItems: "center", font: "13px sans-serif" });
  for (const spec of specs) {
    const id = `vae-control-${Math.random().toString(36).slice(2)}`;
    const label = element("label", {}, { for: id });
    label.textContent = spec.label;
    let input, shown = element("output", { minWidth: "3em" }, { for: id });
    if (spec.kind === "slider") {
      input = element("input", { width: "240px" }, { type: "range", id, min: spec.min, max: spec.max,
                                                     step: spec.step, value: spec.value });
      const digits = decimals(spec.step);
      shown.textContent = Number(spec.value).toFixed(digits);
      input.addEventListener("input", (event) => {
        const value = Number(input.value);
        shown.textContent = value.toFixed(digits);
        input.setAttribute("aria-valuetext", `${spec.label} ${value.toFixed(digits)}`);
        change(spec.name, value, event);
      });
    } else if (spec.kind === "select") {
      input = element("select", {}, { id });
      spec.options.forEach(([text, value], i) => {
        const option = element("option", {}, { value: i });
        option.textContent = text;
        option.selected = value === spec.value;
        input.append(option);
      });
      input.addEventListener("change", (event) => change(spec.name, spec.options[Number(input.value)][1], event));
    } else if (spec.kind === "checkbox") {
      input = element("input", {}, { type: "checkbox", id });
      input.checked = spec.value;
      input.addEventListener("change", (event) => change(spec.name, input.checked, event));
    } else { // toggle: a row of buttons, one pressed
      input = element("div", { display: "flex", gap: "2px" }, { role: "group", id, "aria-label": spec.label });
      const buttons = spec.options.map(([text, value]) => {
        const button = element("button", { padding: "2px 10px" }, { type: "button", "aria-pressed": value === spec.value });
        button.textContent = text;
        button.addEventListener("click", (event) => {
          buttons.forEach((other) => other.setAttribute("aria-pressed", other === button));
          buttons.forEach((other) => { other.style.fontWeight = other === button ? "bold" : "normal"; });
          change(spec.name, value, event);
        });
        button.style.fontWeight = value === spec.value ? "bold" : "normal";
        return button;
      });
      input.append(...buttons);
    }
    input.classList.add("vae-control");
    input.dataset.name = spec.name;
    box.append(label, input, shown);
  }
  return box;
}

// ---- the widget ---------------------------------------------------------------------------------------------------

export const VIEWS = {}; // name: { compute(values, context) -> {readout, ...}, build(root, context) -> draw(result, values) }

function render({ model, el }) {
  const view = VIEWS[model.get("view")];
  const context = { data: model.get("data"), arrays: decodeArrays(model.get("arrays"), model.get("array_layout")) };
  const values = Object.fromEntries(model.get("controls").map((spec) => [spec.name, spec.value]));
  const counts = Object.fromEntries(model.get("actions").map((label) => [label, 0]));
  const hooks = addHooks(model, el);
  el.classList.add("vae-page-figure", `vae-page-${model.get("view")}`);
  const figure = element("div", { display: "flex", flexWrap: "wrap", gap: "6px", margin: "6px 0" },
                         { role: "group", "aria-label": model.get("description") });
  const readout = element("div", { font: "13px monospace", minHeight: "1.4em" }, { "aria-live": "polite" });
  const draw = view.build(figure, context);
  const show = (event) => {
    const result = view.compute({ ...values, ...counts }, context);
    draw(result, { ...values, ...counts });
    readout.textContent = formatReadout(result.readout);
    if (hooks) { el.__readout = result.readout; el.__values = { ...values, ...counts }; }
    if (event) recordLatency(el, event);
  };
  const controls = buildControls(model.get("controls"), values, (name, value, event) => {
    values[name] = value;
    show(event);
  });
  const buttons = element("div", { display: "flex", gap: "6px" });
  for (const label of model.get("actions")) {
    const button = element("button", {}, { type: "button" });
    button.textContent = label;
    button.addEventListener("click", (event) => { counts[label] += 1; show(event); });
    buttons.append(button);
  }
  el.append(controls, buttons, figure, readout);
  show(null);
}

export default { render };

// ---- 01: prior, likelihood and posterior (explorers/posterior.py) ---------------------------------------------------

export function posteriorCurves(x, noiseStd, priorStd, z) {
  const n = z.length, logJoint = new Float64Array(n), weighted = new Float64Array(n);
  const prior = new Float64Array(n), likelihood = new Float64Array(n), posterior = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const logPrior = normalLogProb(z[i], 0, priorStd), logLikelihood = normalLogProb(x, z[i], noiseStd);
    prior[i] = Math.exp(logPrior);
    likelihood[i] = Math.exp(logLikelihood);
    logJoint[i] = logPrior + logLikelihood;
    // the trapezoid rule's weights (posterior.trapezoid_log_weights)
    const weight = ((i > 0 ? z[i] - z[i - 1] : 0) + (i < n - 1 ? z[i + 1] - z[i] : 0)) / 2;
    weighted[i] = logJoint[i] + Math.log(weight);
  }
  const logEvidence = logSumExp(weighted);
  for (let i = 0; i < n; i++) posterior[i] = Math.exp(logJoint[i] - logEvidence);
  return { prior, likelihood, posterior, evidence: Math.exp(logEvidence), logEvidence };
}

export function conjugatePosterior(x, priorStd, noiseStd) { // conjugate.posterior
  const variance = 1 / (1 / priorStd ** 2 + 1 / noiseStd ** 2);
  return [variance * x / noiseStd ** 2, Math.sqrt(variance)];
}

function shownPart(z, [low, high], every = 1) {
  const indices = [];
  for (let i = 0; i < z.length; i++) if (z[i] >= low && z[i] <= high) indices.push(i);
  return indices.filter((_, k) => k % every === 0);
}

const pick = (values, indices) => indices.map((i) => values[i]);

VIEWS.posterior = {
  compute({ x, noise_std, prior_std }, { data }) {
    const z = linspace(...data.z_grid);
    const curves = posteriorCurves(x, noise_std, prior_std, z);
    const [mean, std] = conjugatePosterior(x, prior_std, noise_std);
    return { ...curves, z, mean, std, readout: { "p(x)": curves.evidence, "log p(x)": curves.logEvidence,
                                                 "posterior mean": mean, "posterior std": std } };
  },
  build(root, { data }) {
    const chart = new Chart({ width: 560, height: 240, xlim: data.z_shown, xlabel: "z", ylabel: "density",
                              label: "prior, likelihood and posterior over z" });
    root.append(chart.node);
    const shown = shownPart(linspace(...data.z_grid), data.z_shown);
    const styles = { prior: ["prior p(z)", { color: COLOURS.blue, dash: "--" }],
                     likelihood: ["likelihood p(x|z)", { color: COLOURS.orange, dash: ":" }],
                     posterior: ["posterior p(z|x)", { color: COLOURS.green }] };
    return (result, { x }) => {
      chart.ylim = [0, niceLimit(1.1 * Math.max(...Object.keys(styles).map((key) => maxOf(result[key]))))];
      chart.begin(`p(x) = ${formatG(result.evidence)}   posterior N(${result.mean.toFixed(2)}, ${result.std.toFixed(2)}²)`);
      const zs = pick(result.z, shown);
      for (const [key, [, style]] of Object.entries(styles)) chart.line(zs, pick(result[key], shown), style);
      chart.vline(x, { color: COLOURS.grey, width: 1 });
      chart.legend([...Object.values(styles), ["observed x", { color: COLOURS.grey, width: 1 }]]);
      chart.end();
    };
  },
};

// ---- 02: KL in both directions between two Gaussians (explorers/kl.py) -------------------------------------------

export function gaussianKLCurves(meanP, stdP, meanQ, stdQ, z) {
  const n = z.length, p = new Float64Array(n), q = new Float64Array(n);
  const integrandPQ = new Float64Array(n), integrandQP = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const logP = normalLogProb(z[i], meanP, stdP), logQ = normalLogProb(z[i], meanQ, stdQ);
    p[i] = Math.exp(logP);
    q[i] = Math.exp(logQ);
    integrandPQ[i] = p[i] * (logP - logQ);
    integrandQP[i] = q[i] * (logQ - logP);
  }
  return { p, q, integrandPQ, integrandQP, klPQ: normalKL(meanP, stdP, meanQ, stdQ),
           klQP: normalKL(meanQ, stdQ, meanP, stdP) };
}

VIEWS.gaussian_kl = {
  compute({ mean_p, std_p, mean_q, std_q }, { data }) {
    const z = linspace(...data.z_grid);
    const curves = gaussianKLCurves(mean_p, std_p, mean_q, std_q, z);
    return { ...curves, z, readout: { "KL(p||q)": curves.klPQ, "KL(q||p)": curves.klQP } };
  },
  build(root, { data }) {
    const shown = shownPart(linspace(...data.z_grid), data.z_shown, 2);
    const densities = new Chart({ width: 320, height: 256, xlim: data.z_shown, xlabel: "z", ylabel: "density",
                                  label: "the densities of p and q" });
    const integrands = new Chart({ width: 320, height: 256, xlim: data.z_shown, xlabel: "z",
                                   ylabel: "p log(p/q)  and  q log(q/p)", label: "the integrands of both KLs",
                                   margin: { top: 44 } });
    root.append(densities.node, integrands.node);
    const blue = { color: COLOURS.blue }, orange = { color: COLOURS.orange, dash: "--" };
    return (result) => {
      const zs = pick(result.z, shown);
      densities.ylim = [0, niceLimit(1.35 * Math.max(maxOf(result.p), maxOf(result.q)))]; // head room for the legend
      densities.begin();
      densities.line(zs, pick(result.p, shown), blue);
      densities.line(zs, pick(result.q, shown), orange);
      densities.legend([["p", blue], ["q", orange]]);
      densities.end();
      // As the still: the lower limit at least a tenth of the upper one, in round steps.
      const pq = pick(result.integrandPQ, shown), qp = pick(result.integrandQP, shown);
      const low = Math.min(Math.min(...pq, ...qp), 0), high = Math.max(Math.max(...pq, ...qp), 0.1);
      const top = niceLimit(high + 0.1 * (high - low), [1, 2, 5]);
      integrands.ylim = [-niceLimit(Math.max(-low + 0.05 * (high - low), 0.1 * top)), top];
      integrands.begin(`area under blue p log(p/q): KL(p||q) = ${formatG(result.klPQ, 3)}\n`
                       + `area under orange q log(q/p): KL(q||p) = ${formatG(result.klQP, 3)}`);
      integrands.hline(0, { color: COLOURS.grey, width: 0.5 });
      integrands.line(zs, pq, blue);
      integrands.line(zs, qp, orange);
      integrands.end();
    };
  },
};

// ---- 03: the ELBO and the gap add up to log p(x) (explorers/elbo.py) ---------------------------------------------

export function elboTerms(x, qMean, qStd, priorStd, noiseStd) { // conjugate.elbo_terms
  const reconstruction = -0.5 * (LOG_2PI + 2 * Math.log(noiseStd) + ((x - qMean) ** 2 + qStd ** 2) / noiseStd ** 2);
  const klToPrior = normalKL(qMean, qStd, 0, priorStd);
  const [postMean, postStd] = conjugatePosterior(x, priorStd, noiseStd);
  return { log_evidence: normalLogProb(x, 0, Math.sqrt(priorStd ** 2 + noiseStd ** 2)),
           elbo: reconstruction - klToPrior, kl_to_posterior: normalKL(qMean, qStd, postMean, postStd),
           reconstruction, kl_to_prior: klToPrior };
}

export function elboWaterfall(terms) { // elbo.elbo_waterfall: bar k spans starts[k] to ends[k]
  const { reconstruction, elbo } = terms;
  return { starts: [0, reconstruction, 0, elbo, 0],
           ends: [reconstruction, reconstruction - terms.kl_to_prior, elbo, elbo + terms.kl_to_posterior,
                  terms.log_evidence] };
}

VIEWS.elbo = {
  compute({ q_mean, q_std }, { data }) {
    const { x, noise_std, prior_std } = data, z = linspace(...data.z_grid);
    const [postMean, postStd] = conjugatePosterior(x, prior_std, noise_std);
    const density = (mean, std) => z.map((value) => Math.exp(normalLogProb(value, mean, std)));
    const terms = elboTerms(x, q_mean, q_std, prior_std, noise_std);
    return { z, prior: density(0, prior_std), posterior: density(postMean, postStd), q: density(q_mean, q_std),
             terms, ...elboWaterfall(terms),
             readout: { ELBO: terms.elbo, "KL(q||p(z|x))": terms.kl_to_posterior, "log p(x)": terms.log_evidence,
                        "E_q[log p(x|z)]": terms.reconstruction, "KL(q||p(z))": terms.kl_to_prior } };
  },
  build(root, { data }) {
    const { x, floor, bar_labels: labels, bar_colours: colours } = data, z = linspace(...data.z_grid);
    const densities = new Chart({ width: 300, height: 272, xlim: [z[0], z[z.length - 1]], xlabel: "z",
                                  ylabel: "density", xticks: [-4, -2, 0, 2, 4], yticks: [],
                                  label: "q(z), the prior and the exact posterior", margin: { left: 28 } });
    const bars = new Chart({ width: 420, height: 272, tickFont: "11px sans-serif", xlim: [-0.6, 4.6], ylim: [floor, 0.6], ylabel: "nats",
                             xticks: labels.map((text, k) => [k, text]), yticks: niceTicks(floor, 0, 4),
                             label: "the waterfall: reconstruction minus KL to the prior is the ELBO; plus the gap is log p(x)",
                             margin: { bottom: 44 } });
    const map = new Chart({ width: 300, height: 272, xlim: data.map_x, ylim: data.map_y, xlabel: "mean μ of q",
                            ylabel: "log σ of q", label: "ELBO contours over q's mean and log width" });
    root.append(densities.node, bars.node, map.node);
    const styles = { prior: ["prior p(z)", { color: COLOURS.grey, dash: "--" }],
                     posterior: ["posterior p(z|x)", { color: COLOURS.green }], q: ["q(z)", { color: COLOURS.blue }] };
    return (result, { q_mean, q_std }) => {
      densities.ylim = [0, niceLimit(1.4 * Math.max(maxOf(result.prior), maxOf(result.posterior), maxOf(result.q)))];
      densities.begin(`x = ${formatG(x)}: q(z) against the exact posterior`);
      for (const [key, [, style]] of Object.entries(styles)) densities.line(result.z, result[key], style);
      densities.words(Object.values(styles).map(([text, style]) => [text, style.color]));
      densities.end();

      bars.begin(`(3.4) then (3.3); dashed: log p(x) = ${result.terms.log_evidence.toFixed(3)}`);
      result.starts.forEach((start, k) => {
        const end = result.ends[k];
        bars.bar(k, start, end, 0.35, { color: colours[k], hatch: k === 3 });
      });
      bars.hline(result.terms.log_evidence, { color: "#000", width: 1, dash: "--" });
      bars.hline(0, { color: "#000", width: 0.8 });
      result.starts.forEach((start, k) => { // steps show their signed size, subtotals their level
        const end = result.ends[k], low = Math.min(start, end);
        let text = [1, 3].includes(k) ? `${end - start >= 0 ? "+" : "−"}${Math.abs(end - start).toFixed(2)}`
          : end.toFixed(2).replace("-", "−");
        if (low > floor + 0.8) bars.text(text, k, low - 0.1, { baseline: "top" });
        else bars.text(`↓ ${text}`, k, floor + 0.1, { baseline: "bottom", box: true });
      });
      bars.end();

      map.begin("ELBO contours, by gap (nats)");
      for (const [gap, lines] of data.contours) {
        for (const points of lines) map.line(points.map((p) => p[0]), points.map((p) => p[1]), { color: "#8c8c8c", width: 1 });
        const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), []);
        if (longest.length) {
          const [px, py] = longest[Math.floor(longest.length / 2)];
          map.text(gap, px, py, { box: true, colour: "#555" });
        }
      }
      map.marker(data.posterior[0], Math.log(data.posterior[1]), "star", { color: COLOURS.green, size: 9 });
      map.dots([q_mean], [Math.log(q_std)], { color: COLOURS.blue, radius: 5, edge: "#000" });
      map.end();
    };
  },
};
