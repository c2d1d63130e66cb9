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

// The arrays of a SharedNumbers widget (page_models.py): {name: [byte offset, "f4" or "u1", shape]} and the bytes.
export function decodeShared(layout, value) {
  const bytes = bytesOf(value), arrays = {};
  for (const [name, [offset, dtype, shape]] of Object.entries(layout)) {
    const count = shape.reduce((a, b) => a * b, 1);
    arrays[name] = dtype === "f4" ? new Float32Array(bytes.buffer, bytes.byteOffset + offset, count)
      : bytes.subarray(offset, offset + count);
  }
  return arrays;
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
      : this.width - this.box.right - 6 - boxWidth;
    const y = corner === "lower right" ? this.height - this.box.bottom - 12 - 16 * entries.length : this.box.top + 6;
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
function buildControls(specs, values, change, columns = 1) {
  const box = element("div", { display: "grid", gridTemplateColumns: "max-content max-content max-content ".repeat(columns),
                               gap: "4px 10px", alignItems: "center", font: "13px sans-serif" });
  for (const spec of specs) {
    const id = `vae-control-${Math.random().toString(36).slice(2)}`;
    const label = element("label", {}, { for: id });
    label.textContent = spec.label;
    let input, shown = element("output", { minWidth: "3em" }, { for: id });
    if (spec.kind === "slider") {
      input = element("input", { width: columns > 1 ? "140px" : "240px" }, { type: "range", id, min: spec.min, max: spec.max,
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

async function render({ model, el }) {
  const view = VIEWS[model.get("view")];
  const context = { data: model.get("data"), arrays: decodeArrays(model.get("arrays"), model.get("array_layout")) };
  for (const reference of model.get("shared")) { // numbers held once per page (page_models.py SharedNumbers)
    const source = await model.widget_manager.get_model(reference.slice("IPY_MODEL_".length));
    Object.assign(context.arrays, decodeShared(source.get("layout_of"), source.get("values")));
  }
  const values = Object.fromEntries(model.get("controls").map((spec) => [spec.name, spec.value]));
  const counts = Object.fromEntries(Object.values(model.get("actions")).map((name) => [name, 0]));
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
  }, context.data.control_columns ?? 1);
  const buttons = element("div", { display: "flex", gap: "6px" });
  for (const [label, name] of Object.entries(model.get("actions"))) {
    const button = element("button", {}, { type: "button" });
    button.textContent = label;
    button.addEventListener("click", (event) => { counts[name] += 1; show(event); });
    buttons.append(button);
  }
  // Keys pressed on a control are the control's: JupyterLab's notebook would otherwise take the arrows (its
  // shortcuts listen on the document as the event bubbles up) and move to the next cell.
  for (const box of [controls, buttons]) box.addEventListener("keydown", (event) => event.stopPropagation());
  el.append(controls, ...(buttons.children.length ? [buttons] : []), figure, readout);
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

// Two densities on a grid from their log-densities, and the integrands of both KLs: p log(p/q) and q log(q/p).
function densityPair(z, logPOf, logQOf) {
  const n = z.length, p = new Float64Array(n), q = new Float64Array(n);
  const integrandPQ = new Float64Array(n), integrandQP = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const logP = logPOf(z[i]), logQ = logQOf(z[i]);
    p[i] = Math.exp(logP);
    q[i] = Math.exp(logQ);
    integrandPQ[i] = p[i] * (logP - logQ);
    integrandQP[i] = q[i] * (logQ - logP);
  }
  return { p, q, integrandPQ, integrandQP };
}

export function gaussianKLCurves(meanP, stdP, meanQ, stdQ, z) {
  const pair = densityPair(z, (v) => normalLogProb(v, meanP, stdP), (v) => normalLogProb(v, meanQ, stdQ));
  return { ...pair, klPQ: normalKL(meanP, stdP, meanQ, stdQ),
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

// ---- 02: a Gaussian q against a two-peaked p (explorers/kl.py) ---------------------------------------------------

export function mixtureLogProb(z, separation, std) {
  const a = normalLogProb(z, -separation / 2, std), b = normalLogProb(z, separation / 2, std);
  const top = Math.max(a, b);
  return top + Math.log(Math.exp(a - top) + Math.exp(b - top)) - Math.LN2;
}

function trapezoid(values, z) {
  let sum = 0;
  for (let i = 0; i + 1 < z.length; i++) sum += (values[i] + values[i + 1]) / 2 * (z[i + 1] - z[i]);
  return sum;
}

export function mixtureFitCurves(meanQ, stdQ, separation, z, mixtureStd) {
  const { p, q, integrandPQ, integrandQP } = densityPair(z, (v) => mixtureLogProb(v, separation, mixtureStd),
                                                         (v) => normalLogProb(v, meanQ, stdQ));
  return { p, q, klPQ: trapezoid(integrandPQ, z), klQP: trapezoid(integrandQP, z) };
}

// kl.mixture_kl for one (mean, log std): the forward KL in closed form up to p's entropy, the reverse by the
// trapezoid rule on z = mu + sigma t.
function mixtureKL(mean, logStd, separation, direction, landscape) {
  const { mixtureStd, entropyP, tNodes, tWeights } = landscape;
  if (direction === "forward") {
    const varianceP = mixtureStd ** 2 + separation ** 2 / 4;
    return -entropyP + 0.5 * LOG_2PI + logStd + (varianceP + mean ** 2) / (2 * Math.exp(2 * logStd));
  }
  const sigma = Math.exp(logStd);
  let expected = 0;
  for (let k = 0; k < tNodes.length; k++) expected += mixtureLogProb(mean + sigma * tNodes[k], separation, mixtureStd) * tWeights[k];
  return -(0.5 * Math.log(2 * Math.PI * Math.E) + logStd) - expected;
}

// kl.mixture_kl_maps, kl.local_minima and kl.kl_minima, for one separation.
export function mixtureLandscape(separation, data) {
  const means = linspace(...data.map_means), logStds = linspace(...data.map_log_stds), z = linspace(...data.z_grid);
  const tNodes = linspace(...data.t_nodes), dt = tNodes[1] - tNodes[0];
  const tWeights = tNodes.map((t) => Math.exp(normalLogProb(t, 0, 1)) * dt);
  const entropyTerms = z.map((value) => { const logP = mixtureLogProb(value, separation, data.mixture_std); return Math.exp(logP) * logP; });
  const landscape = { mixtureStd: data.mixture_std, entropyP: -trapezoid(entropyTerms, z), tNodes, tWeights };
  const rows = logStds.length, cols = means.length, maps = {}, minima = {};
  for (const direction of ["forward", "reverse"]) {
    const values = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) values[r * cols + c] = mixtureKL(means[c], logStds[r], separation, direction, landscape);
    }
    maps[direction] = values;
    minima[direction] = klMinima(values, rows, cols, means, logStds, (m, s) => mixtureKL(m, s, separation, direction, landscape));
  }
  return { maps, minima, rows, cols };
}

function klMinima(values, rows, cols, means, logStds, kl, tolerance = 4e-3) {
  const candidates = [];
  for (let r = 1; r < rows - 1; r++) {
    for (let c = 1; c < cols - 1; c++) {
      let lowest = true;
      for (let dr = -1; dr <= 1; dr++) for (let dc = -1; dc <= 1; dc++) {
        if ((dr || dc) && !(values[r * cols + c] < values[(r + dr) * cols + c + dc])) lowest = false;
      }
      if (lowest) candidates.push([means[c], logStds[r]]);
    }
  }
  const found = [];
  for (let [mean, logStd] of candidates) { // compass search, from half a grid cell down to the tolerance
    let step = (means[1] - means[0]) / 2;
    while (step > tolerance) {
      let best = 4, bestValue = Infinity, k = 0;
      for (const a of [-1, 0, 1]) for (const b of [-1, 0, 1]) {
        const value = kl(mean + step * a, logStd + step * b);
        if (value < bestValue) { best = k; bestValue = value; }
        k++;
      }
      if (best === 4) step /= 2;
      else { mean += step * (Math.floor(best / 3) - 1); logStd += step * ((best % 3) - 1); }
    }
    if (found.every(([m, std]) => Math.abs(mean - m) > 10 * tolerance || Math.abs(Math.log(std) - logStd) > 10 * tolerance)) {
      found.push([mean, Math.exp(logStd), kl(mean, logStd)]);
    }
  }
  return found.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

VIEWS.mixture_fit = {
  compute({ mean_q, std_q, separation }, context) {
    const { data } = context, z = linspace(...data.z_grid);
    const cache = (context.landscapes ??= new Map()); // a slider often comes back to a separation
    if (!cache.has(separation)) cache.set(separation, mixtureLandscape(separation, data));
    const landscape = cache.get(separation), curves = mixtureFitCurves(mean_q, std_q, separation, z, data.mixture_std);
    return { ...curves, z, landscape, readout: { "KL(p||q)": curves.klPQ, "KL(q||p)": curves.klQP,
                                                  "minima of KL(p||q)": landscape.minima.forward.length,
                                                  "minima of KL(q||p)": landscape.minima.reverse.length } };
  },
  build(root, { data }) {
    const shown = shownPart(linspace(...data.z_grid), data.z_shown, 2);
    const means = data.map_means, logStds = data.map_log_stds;
    const density = new Chart({ width: 300, height: 264, xlim: data.z_shown, xlabel: "z", ylabel: "density",
                                label: "the two-peaked p and q" });
    const maps = ["forward", "reverse"].map((direction) => new Chart({
      width: 250, height: 264, xlim: [means[0], means[1]], ylim: [logStds[0], logStds[1]], xlabel: "mean μ of q",
      ylabel: "log σ of q", label: `${direction} KL over q's mean and log width` }));
    const colourBar = new Chart({ width: 64, height: 264, xlim: [0, 1], ylim: data.colour_range, yscale: "log",
                                  xticks: [], yticks: [[0.01, "0.01"], [0.1, "0.1"], [1, "1"], [10, "10"]],
                                  label: "colour scale, nats", margin: { left: 34, right: 8 }, ylabel: "" });
    root.append(density.node, ...maps.map((chart) => chart.node), colourBar.node);
    const [low, high] = data.colour_range.map(Math.log), palette = data.palette; // viridis, reversed: low KL is yellow
    const colour = (value) => {
      const t = (Math.log(Math.max(value, data.colour_range[0])) - low) / (high - low); // values below the range: its end
      const index = Math.min(palette.length - 1, Math.max(0, Math.floor((1 - t) * palette.length)));
      return palette[index];
    };
    const bar = new Float64Array(100).map((_, i) => Math.exp(low + (high - low) * i / 99));
    const p = { color: COLOURS.blue }, q = { color: COLOURS.orange, dash: "--" };
    return (result, { mean_q, std_q }) => {
      const zs = pick(result.z, shown), ps = pick(result.p, shown);
      density.ylim = [0, niceLimit(1.1 * Math.max(maxOf(result.p), maxOf(result.q)), [1, 2, 5])];
      density.begin(`forward ${result.klPQ.toFixed(3)}, reverse ${result.klQP.toFixed(3)} nats`);
      density.fill(zs, ps, { ...p, alpha: 0.3 });
      density.line(zs, ps, p);
      density.line(zs, pick(result.q, shown), q);
      density.legend([["p (two peaks)", { ...p, width: 8, alpha: 0.3 }], ["q = N(μ, σ²)", q]]);
      density.end();
      const { landscape } = result;
      ["forward", "reverse"].forEach((direction, k) => {
        const chart = maps[k];
        chart.begin(direction === "forward" ? "forward KL(p||q)" : "reverse KL(q||p)");
        chart.heatmap(landscape.maps[direction], landscape.rows, landscape.cols, colour, [...means.slice(0, 2), ...logStds.slice(0, 2)]);
        for (const [m, std] of landscape.minima[direction]) chart.marker(m, Math.log(std), "x", { color: "#fff" });
        chart.dots([mean_q], [Math.log(std_q)], { color: COLOURS.orange, radius: 5, edge: "#000" });
        chart.end();
      });
      colourBar.begin();
      for (let i = 0; i + 1 < bar.length; i++) {
        colourBar.context.fillStyle = `rgb(${colour(bar[i]).slice(0, 3).join(",")})`;
        const top = colourBar.sy(bar[i + 1]), bottom = colourBar.sy(bar[i]);
        colourBar.context.fillRect(colourBar.sx(0), top, colourBar.sx(1) - colourBar.sx(0), bottom - top + 1);
      }
      colourBar.end();
      colourBar.text("nats", 0.5, data.colour_range[1], { baseline: "bottom" });
    };
  },
};

// ---- 04: score-function and pathwise gradient estimates (explorers/gradients.py) ---------------------------------

const TEST_FUNCTIONS = { // gradients.TEST_FUNCTIONS: [f, f']
  square: [(z) => z * z, (z) => 2 * z],
  sin: [Math.sin, Math.cos],
  sin5: [(z) => Math.sin(5 * z), (z) => 5 * Math.cos(5 * z)],
  exp: [(z) => Math.exp(z / 2), (z) => Math.exp(z / 2) / 2],
  step: [(z) => (z > 0 ? 1 : 0), () => 0],
};

export function exactGradient(name, mu, sigma) { // gradients.exact_gradient
  if (name === "square") return [2 * mu, 2 * sigma];
  if (name === "sin" || name === "sin5") {
    const w = name === "sin" ? 1 : 5, damping = Math.exp(-((w * sigma) ** 2) / 2);
    return [w * Math.cos(w * mu) * damping, -(w ** 2) * sigma * Math.sin(w * mu) * damping];
  }
  if (name === "exp") {
    const mean = Math.exp(mu / 2 + sigma ** 2 / 8);
    return [mean / 2, sigma * mean / 4];
  }
  const density = Math.exp(normalLogProb(mu / sigma, 0, 1));
  return [density / sigma, -mu * density / sigma ** 2];
}

// gradients.gradient_draws for the column `wrt` (0: d/dmu, 1: d/dsigma), eps (repeats x samples) row by row.
export function gradientDraws(name, mu, sigma, eps, repeats, samples, baseline, wrt) {
  const [f, slope] = TEST_FUNCTIONS[name], b = baseline ? f(mu) : 0;
  const score = new Float64Array(repeats), pathwise = new Float64Array(repeats);
  for (let r = 0; r < repeats; r++) {
    let s = 0, p = 0;
    for (let k = 0; k < samples; k++) {
      const e = eps[r * samples + k], z = mu + sigma * e;
      s += (f(z) - b) * (wrt === 0 ? e : e * e - 1);
      p += slope(z) * (wrt === 0 ? 1 : e);
    }
    score[r] = s / samples / sigma;
    pathwise[r] = p / samples;
  }
  return { score, pathwise };
}

function quantile(sorted, q) { // torch.quantile's linear interpolation
  const position = q * (sorted.length - 1), below = Math.floor(position), above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
}

export function histogramCounts(first, second, exact, bins) { // gradients.histogram_counts
  const both = Float64Array.from([...first, ...second]).sort();
  let low = Math.min(quantile(both, 0.005), exact), high = Math.max(quantile(both, 0.995), exact);
  const pad = high > low ? 0.05 * (high - low) : 0.5;
  low -= pad;
  high += pad;
  const step = niceLimit((high - low) / 4, [1, 2, 5]);
  low = Math.floor(low / step) * step;
  high = Math.ceil(high / step) * step;
  const count = (draws) => {
    const counts = new Float64Array(bins);
    for (const d of draws) {
      if (d >= low && d <= high) counts[Math.min(bins - 1, Math.floor((d - low) / (high - low) * bins))] += 1;
    }
    return counts;
  };
  return { edges: linspace(low, high, bins + 1), firstCounts: count(first), secondCounts: count(second) };
}

function meanAndStd(values) { // torch's std: the unbiased one
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
  return [mean, Math.sqrt(variance)];
}

VIEWS.gradients = {
  compute({ name, mu, sigma, num_samples: samples, baseline, wrt }, context) {
    const { repeats, bins, seed } = context.data;
    const cache = (context.noise ??= new Map()); // the same noise for the same K, as in Python
    if (!cache.has(samples)) cache.set(samples, seededNormals(seed, repeats * samples));
    const draws = gradientDraws(name, mu, sigma, cache.get(samples), repeats, samples, baseline, wrt);
    const exact = exactGradient(name, mu, sigma)[wrt];
    const histogram = histogramCounts(draws.score, draws.pathwise, exact, bins);
    const [scoreMean, scoreStd] = meanAndStd(draws.score), [pathMean, pathStd] = meanAndStd(draws.pathwise);
    return { ...draws, ...histogram, exact, readout: { exact, "score mean": scoreMean, "score std": scoreStd,
                                                       "pathwise mean": pathMean, "pathwise std": pathStd } };
  },
  build(root, { data }) {
    const chart = new Chart({ width: 560, height: 256, xlim: [0, 1], ylabel: `count of ${data.repeats} estimates`,
                              label: "histograms of the score-function and the pathwise estimates" });
    root.append(chart.node);
    return (result, { name, num_samples: samples, baseline, wrt }) => {
      chart.xlim = [result.edges[0], result.edges[result.edges.length - 1]];
      chart.ylim = [0, niceLimit(1.3 * Math.max(maxOf(result.firstCounts), maxOf(result.secondCounts)))];
      chart.xlabel = `estimates of ∂/∂${wrt === 0 ? "μ" : "σ"} E_q[f(z)], ${data.labels[name]}, K = ${samples}`;
      chart.begin();
      chart.steps(result.edges, result.firstCounts, { color: COLOURS.orange, alpha: 0.45 });
      chart.steps(result.edges, result.secondCounts, { color: COLOURS.blue, alpha: 0.6 });
      chart.vline(result.exact, { color: "#000", width: 1.5, dash: "--" });
      chart.words([[`score function${baseline ? " with baseline f(μ)" : ""}`, COLOURS.orange],
                   ["pathwise", COLOURS.blue], ["dashed: exact gradient", "#000"]]);
      chart.end();
    };
  },
};

// ---- 01: naive Monte Carlo estimates of log p(x) (explorers/evidence.py, linear_gaussian.py) ---------------------

function cholesky(matrix, n) { // lower-triangular L with L L^T = matrix (n x n, row-major)
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = matrix[i * n + j];
      for (let k = 0; k < j; k++) sum -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = i === j ? Math.sqrt(sum) : sum / L[j * n + j];
    }
  }
  return L;
}

function choleskySolve(L, n, b) { // solve L L^T x = b
  const y = new Float64Array(n), x = new Float64Array(n);
  for (let i = 0; i < n; i++) { let s = b[i]; for (let k = 0; k < i; k++) s -= L[i * n + k] * y[k]; y[i] = s / L[i * n + i]; }
  for (let i = n - 1; i >= 0; i--) { let s = y[i]; for (let k = i + 1; k < n; k++) s -= L[k * n + i] * x[k]; x[i] = s / L[i * n + i]; }
  return { x, y };
}

// Everything explorers.evidence.naive_monte_carlo returns, for the linear decoder with D = latentDim and noise s.
export function naiveMonteCarlo(latentDim, noiseStd, seed, data, arrays, draws = null) {
  const N = data.data_dim, D = latentDim, K = data.num_samples, R = data.num_runs, s2 = noiseStd ** 2;
  const W = (i, j) => arrays.W[i * data.max_latent_dim + j];
  const zTrue = arrays.z_true.subarray((D - 1) * data.max_latent_dim), noise = arrays.noise.subarray((D - 1) * N);
  const x = new Float64Array(N);
  for (let i = 0; i < N; i++) { let v = 0; for (let j = 0; j < D; j++) v += W(i, j) * zTrue[j]; x[i] = v + noiseStd * noise[i]; }
  // exact log p(x) = log N(x; 0, W W^T + s^2 I)   (1.5)
  const covariance = new Float64Array(N * N);
  for (let i = 0; i < N; i++) for (let k = 0; k < N; k++) {
    let v = i === k ? s2 : 0;
    for (let j = 0; j < D; j++) v += W(i, j) * W(k, j);
    covariance[i * N + k] = v;
  }
  const Lc = cholesky(covariance, N), { y } = choleskySolve(Lc, N, x);
  let logDet = 0, quad = 0;
  for (let i = 0; i < N; i++) { logDet += 2 * Math.log(Lc[i * N + i]); quad += y[i] * y[i]; }
  const logEvidence = -0.5 * (N * LOG_2PI + logDet + quad);
  // exact posterior: precision I + W^T W / s^2, mean solving precision m = W^T x / s^2   (1.7)
  const precision = new Float64Array(D * D), rhs = new Float64Array(D);
  for (let a = 0; a < D; a++) {
    for (let b = 0; b < D; b++) {
      let v = a === b ? 1 : 0;
      for (let i = 0; i < N; i++) v += W(i, a) * W(i, b) / s2;
      precision[a * D + b] = v;
    }
    for (let i = 0; i < N; i++) rhs[a] += W(i, a) * x[i] / s2;
  }
  const Lp = cholesky(precision, D), mean = choleskySolve(Lp, D, rhs).x;
  // prior samples and their log-likelihoods; running estimates log((1/k) sum_{j<=k} p(x|z_j))   (1.6)
  const z = draws ?? seededNormals(data.seed_base + seed, R * K * D);
  const running = new Float64Array(R * K), logLikelihood = new Float64Array(R * K);
  const constant = -0.5 * N * LOG_2PI - N * Math.log(noiseStd);
  for (let n = 0; n < R * K; n++) {
    let sum = 0;
    for (let i = 0; i < N; i++) {
      let decoded = 0;
      for (let j = 0; j < D; j++) decoded += W(i, j) * z[n * D + j];
      sum += (x[i] - decoded) ** 2;
    }
    logLikelihood[n] = constant - 0.5 * sum / s2;
  }
  for (let r = 0; r < R; r++) {
    let top = -Infinity, total = 0;
    for (let k = 0; k < K; k++) {
      const l = logLikelihood[r * K + k];
      if (l > top) { total = total * Math.exp(top - l) + 1; top = l; } else total += Math.exp(l - top);
      running[r * K + k] = top + Math.log(total) - Math.log(k + 1);
    }
  }
  // which of the first run's samples lie in the posterior's 95% region; the edge of its (z0, z1) marginal
  const threshold = data.chi2_95[D], inside = new Uint8Array(K);
  for (let k = 0; k < K; k++) {
    let distance = 0;
    for (let a = 0; a < D; a++) for (let b = 0; b < D; b++) {
      distance += (z[k * D + a] - mean[a]) * precision[a * D + b] * (z[k * D + b] - mean[b]);
    }
    inside[k] = distance <= threshold ? 1 : 0;
  }
  const column = (index) => choleskySolve(Lp, D, Float64Array.from({ length: D }, (_, a) => (a === index ? 1 : 0))).x;
  const [c0, c1] = [column(0), column(1)], L2 = cholesky([c0[0], c0[1], c1[0], c1[1]], 2);
  const radius = Math.sqrt(data.chi2_95[2]), angles = linspace(0, 2 * Math.PI, 100);
  const ellipse = Array.from(angles, (t) => {
    const u = Math.cos(t) * radius, v = Math.sin(t) * radius;
    return [mean[0] + L2[0] * u, mean[1] + L2[2] * u + L2[3] * v];
  });
  const first = logLikelihood.subarray(0, K), logTotal = logSumExp(first);
  return { z, running, logEvidence, inside, ellipse, largestWeight: Math.exp(maxOf(first) - logTotal) };
}

VIEWS.naive_monte_carlo = {
  compute({ noise_std, latent_dim, seed }, { data, arrays }) {
    const result = naiveMonteCarlo(latent_dim, noise_std, seed, data, arrays);
    const K = data.num_samples, error = result.running[K - 1] - result.logEvidence;
    const share = result.inside.reduce((a, b) => a + b, 0) / K;
    return { ...result, error, share, readout: { "exact log p(x)": result.logEvidence,
                                                 [`estimate (K = ${K})`]: result.logEvidence + error, error,
                                                 "largest weight": result.largestWeight, "share inside": share } };
  },
  build(root, { data }) {
    const K = data.num_samples, R = data.num_runs, counts = Float64Array.from({ length: K }, (_, k) => k + 1);
    const plane = new Chart({ width: 300, height: 300, xlim: data.view, ylim: data.view, xlabel: "z₀", ylabel: "z₁",
                              label: "prior samples in the plane of z0 and z1, and the posterior's 95% region" });
    const runs = new Chart({ width: 460, height: 300, xlim: [1, K], ylim: data.error_range, xscale: "log",
                             yscale: "symlog", xlabel: "samples k", ylabel: "estimate − exact log p(x) (nats)",
                             xticks: [1, 10, 100, 1000].map((t) => [t, String(t)]),
                             yticks: data.error_ticks.map((t) => [t, String(t).replace("-", "−")]),
                             label: "the error of the running estimates against the number of samples" });
    root.append(plane.node, runs.node);
    const blue = { color: COLOURS.blue }, green = { color: COLOURS.green, width: 1.5 };
    return (result, { noise_std, latent_dim }) => {
      const D = latent_dim, xs = [[], []], ys = [[], []];
      for (let k = 0; k < K; k++) {
        xs[result.inside[k]].push(result.z[k * D]);
        ys[result.inside[k]].push(result.z[k * D + 1]);
      }
      plane.begin(`D = ${D}, s = ${noise_std.toFixed(2)}: ${(100 * result.share).toFixed(1)}% inside`);
      plane.dots(xs[0], ys[0], { color: "#000", radius: 1 });
      plane.dots(xs[1], ys[1], { color: COLOURS.orange, radius: 2 });
      plane.line(result.ellipse.map((p) => p[0]), result.ellipse.map((p) => p[1]), { color: COLOURS.darkgreen });
      plane.legend([["prior sample", { color: "#000", dot: 1.5 }], ["inside the posterior's 95%", { color: COLOURS.orange, dot: 3 }],
                    ["95% of its (z₀, z₁) marginal", { color: COLOURS.darkgreen }]]);
      plane.end();
      runs.begin(`K = ${K}: error ${result.error >= 0 ? "+" : ""}${formatG(result.error, 3)} nats, largest weight ${result.largestWeight.toFixed(2)}`);
      runs.hline(0, green);
      for (let r = R - 1; r >= 0; r--) {
        const errors = Array.from(result.running.subarray(r * K, (r + 1) * K), (v) => v - result.logEvidence);
        runs.line(counts, errors, r === 0 ? blue : { ...blue, width: 0.8, alpha: 0.5 });
      }
      runs.legend([["error of the estimate from the first k samples", blue],
                   [`${R - 1} more independent estimates`, { ...blue, width: 0.8, alpha: 0.5 }],
                   ["no error: the exact log p(x) of (1.5)", green]], { corner: "lower right" });
      runs.end();
    };
  },
};
