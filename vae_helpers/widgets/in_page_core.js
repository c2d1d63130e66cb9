// What every widget that runs a small network in the page shares (Python joins it to the widget's own module:
// in_page_vae.js for 05's map and drawing pad, conditional.js for 11's completion and "ask for a digit"): the MLP
// layer loop, the MNIST recipe for a drawing, and the painting helpers.
//
// The 2-D MLP VAE of notebook 05 is small (about 470,000 multiply-adds for an encode plus a decode), so the page
// evaluates it itself: its weights arrive once per page, as one float32 buffer in a NetworkWeights widget that every
// widget of the same model refers to, and every pointer move is answered without a round trip to the kernel. So the
// widgets follow the hand at frame rate, and they also work in a static HTML render of the notebook, where no kernel
// runs. Plain ES module, no build step; it uses only model.get, model.set, model.save_changes, model.on and
// model.widget_manager.get_model, which anywidget 0.9 (Colab's) and later versions all offer.

const SIDE = 28; // MNIST digits are 28 x 28
const BOX = 20; // ... with the digit fitted into a 20 x 20 box, then centred by its centre of mass

// ---- the network ------------------------------------------------------------------------------------------------

function bytesOf(value) {
  // Binary traits arrive as a DataView (ipywidgets 7 and 8) or an ArrayBuffer; copy them so the floats are aligned.
  if (value instanceof DataView) return new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
  return new Uint8Array(value);
}

function floatsOf(value) {
  return new Float32Array(bytesOf(value).buffer);
}

// float16 numbers (widgets/in_page.py sends the networks' weights so: half the bytes) as a Float32Array.
export function halvesOf(value) {
  const bytes = bytesOf(value), halves = new Uint16Array(bytes.buffer, 0, bytes.byteLength / 2);
  const out = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i++) {
    const h = halves[i], sign = h & 0x8000 ? -1 : 1, exponent = (h >> 10) & 0x1f, fraction = h & 0x3ff;
    out[i] = exponent === 0 ? sign * fraction * 2 ** -24 // subnormal
      : exponent === 31 ? (fraction ? NaN : sign * Infinity) : sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  return out;
}

// layers: [{rows, cols, offset, relu}], where weights[offset ...] holds the rows x cols matrix W, stored column by
// column (W transposed), and then its rows biases: y = W x + b, then max(y, 0) if relu. The same loop runs the
// encoder and the decoder. Column by column, a zero input skips a whole column: most pixels of a binary digit and
// about half of the units after a ReLU are 0, so this does a fraction of the multiply-adds.
function forward(layers, weights, input) {
  let x = input;
  for (const { rows, cols, offset, relu } of layers) {
    const y = new Float64Array(weights.subarray(offset + rows * cols, offset + rows * cols + rows));
    for (let c = 0; c < cols; c++) {
      const xc = x[c];
      if (xc === 0) continue;
      const column = offset + c * rows;
      for (let r = 0; r < rows; r++) y[r] += weights[column + r] * xc;
    }
    if (relu) for (let r = 0; r < rows; r++) if (y[r] < 0) y[r] = 0;
    x = y;
  }
  return x;
}

function sigmoid(l) {
  return 1 / (1 + Math.exp(-l));
}

function softplus(l) {
  return l > 0 ? l + Math.log1p(Math.exp(-l)) : Math.log1p(Math.exp(l)); // stable on both sides
}

export class Network {
  // spec: {encoder, decoder, logvar_range} of widgets/in_page.py's network_spec; weights: its float16 buffer;
  // prior: {mu, logvar} of the diagonal Gaussian p(z).
  constructor(spec, weights, prior) {
    this.spec = spec;
    this.weights = halvesOf(weights);
    this.prior = prior;
  }

  // The network a widget refers to (its "network" trait holds "IPY_MODEL_<id>" of a NetworkWeights widget).
  static async of(model) {
    const source = await model.widget_manager.get_model(model.get("network").slice("IPY_MODEL_".length));
    return new Network(source.get("spec"), source.get("weights"), model.get("prior"));
  }

  encode(pixels) {
    const out = forward(this.spec.encoder, this.weights, pixels);
    const d = out.length / 2;
    const [low, high] = this.spec.logvar_range; // the clamp of vae_helpers.parts.DiagonalGaussianPosterior
    const mu = Array.from(out.slice(0, d));
    const logvar = Array.from(out.slice(d), (v) => Math.min(high, Math.max(low, v)));
    return { mu, logvar };
  }

  decodeLogits(z) {
    return forward(this.spec.decoder, this.weights, z);
  }

  decode(z) {
    return Array.from(this.decodeLogits(z), sigmoid);
  }

  // log p(z) of the diagonal Gaussian prior, nats.
  logPrior(z) {
    const { mu, logvar } = this.prior;
    return -0.5 * z.reduce((s, v, i) => s + Math.log(2 * Math.PI) + logvar[i] + (v - mu[i]) ** 2 * Math.exp(-logvar[i]), 0);
  }

  // ELBO of binary pixels x: E_q[log p(x|z)] with the given standard-normal draws eps (z = mu + sigma eps, the
  // reparameterization of 04), minus the closed-form KL(q || p(z)) of two diagonal Gaussians (02, 2.3). Nats.
  elbo(x, mu, logvar, eps) {
    let reconstruction = 0;
    for (const e of eps) {
      const z = mu.map((m, i) => m + Math.exp(0.5 * logvar[i]) * e[i]);
      const logits = this.decodeLogits(z);
      for (let i = 0; i < logits.length; i++) reconstruction += x[i] * logits[i] - softplus(logits[i]);
    }
    reconstruction /= eps.length;
    const p = this.prior;
    const kl = 0.5 * mu.reduce((s, m, i) => s + p.logvar[i] - logvar[i] + Math.exp(logvar[i] - p.logvar[i])
                                            + (m - p.mu[i]) ** 2 * Math.exp(-p.logvar[i]) - 1, 0);
    return { elbo: reconstruction - kl, reconstruction, kl };
  }
}

// ---- MNIST-style preprocessing ----------------------------------------------------------------------------------

// Average `source` (width x height) over the cells of a target grid of width tw x th laid over the rectangle
// [x0, x0 + w) x [y0, y0 + h): each target pixel is the mean of the source area it covers (a box filter, so thin
// strokes keep their ink instead of being skipped, as nearest-neighbour sampling would).
function areaResample(source, width, x0, y0, w, h, tw, th) {
  const out = new Float64Array(tw * th);
  const sx = w / tw, sy = h / th;
  for (let ty = 0; ty < th; ty++) {
    const top = y0 + ty * sy, bottom = top + sy;
    for (let tx = 0; tx < tw; tx++) {
      const left = x0 + tx * sx, right = left + sx;
      let sum = 0;
      for (let y = Math.floor(top); y < Math.ceil(bottom); y++) {
        const wy = Math.min(bottom, y + 1) - Math.max(top, y);
        for (let x = Math.floor(left); x < Math.ceil(right); x++) {
          const wx = Math.min(right, x + 1) - Math.max(left, x);
          sum += wx * wy * source[y * width + x];
        }
      }
      out[ty * tw + tx] = sum / (sx * sy);
    }
  }
  return out;
}

// How the MNIST digits were prepared (LeCun et al.): the digit's bounding box is scaled, keeping its aspect ratio,
// so that its longer side is 20 pixels, and the result is placed in a 28 x 28 image with its centre of mass at the
// centre. `ink` holds width x height values in [0, 1]. Returns 784 grey levels, or null when there is no ink.
export function mnistStyle(ink, width, height) {
  let left = width, right = -1, top = height, bottom = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x] > 0) {
        left = Math.min(left, x); right = Math.max(right, x);
        top = Math.min(top, y); bottom = Math.max(bottom, y);
      }
    }
  }
  if (right < 0) return null;
  const w = right - left + 1, h = bottom - top + 1;
  const scale = BOX / Math.max(w, h);
  const tw = Math.max(1, Math.round(w * scale)), th = Math.max(1, Math.round(h * scale));
  const small = areaResample(ink, width, left, top, w, h, tw, th);
  let mass = 0, mx = 0, my = 0;
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const v = small[y * tw + x];
      mass += v; mx += v * (x + 0.5); my += v * (y + 0.5);
    }
  }
  // Whole-pixel shift that brings the centre of mass to (14, 14), kept inside the image.
  const clampShift = (value, size) => Math.min(SIDE - size, Math.max(0, Math.round(value)));
  const dx = clampShift(SIDE / 2 - mx / mass, tw), dy = clampShift(SIDE / 2 - my / mass, th);
  const pixels = new Float64Array(SIDE * SIDE);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) pixels[(y + dy) * SIDE + x + dx] = Math.min(1, small[y * tw + x]);
  }
  return pixels;
}

// ---- painting -----------------------------------------------------------------------------------------------------

function element(tag, style = {}, attributes = {}) {
  const node = document.createElement(tag);
  Object.assign(node.style, style);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

function canvas(width, height, cssWidth, cssHeight, label) {
  const node = element("canvas", { width: `${cssWidth}px`, height: `${cssHeight}px`, border: "1px solid #999",
                                   imageRendering: "pixelated", touchAction: "none" }, { "aria-label": label });
  node.width = width;
  node.height = height;
  return node;
}

// Probabilities (784 numbers in [0, 1]) as a white-on-black 28 x 28 digit, the way the series shows digits.
function paintDigit(context, values) {
  const image = context.createImageData(SIDE, SIDE);
  for (let i = 0; i < SIDE * SIDE; i++) {
    const grey = Math.round(255 * values[i]);
    image.data.set([grey, grey, grey, 255], 4 * i);
  }
  context.putImageData(image, 0, 0);
}

// The latent map: axes [-extent, extent]^2, the encoded test digits coloured by label, and each class's label at
// the median of its codes. Drawn once into an offscreen canvas; every move copies it and draws the markers on top.
class LatentMap {
  constructor(model, size) {
    this.size = size;
    this.extent = model.get("extent");
    this.node = canvas(size, size, size, size, "latent map: z[0] across, z[1] up");
    this.context = this.node.getContext("2d");
    this.background = document.createElement("canvas");
    this.background.width = this.background.height = size;
    const context = this.background.getContext("2d");
    context.fillStyle = "white";
    context.fillRect(0, 0, size, size);
    context.strokeStyle = "#ddd";
    for (let v = -Math.floor(this.extent); v <= this.extent; v++) { // grid lines at whole numbers
      const [x, y] = this.toPixels([v, v]);
      context.beginPath(); context.moveTo(x, 0); context.lineTo(x, size); context.moveTo(0, y); context.lineTo(size, y);
      context.stroke();
    }
    const codes = floatsOf(model.get("codes")), labels = bytesOf(model.get("labels"));
    const palette = model.get("palette");
    context.globalAlpha = 0.7;
    for (let i = 0; i < labels.length; i++) {
      const [x, y] = this.toPixels([codes[2 * i], codes[2 * i + 1]]);
      context.fillStyle = palette[labels[i]];
      context.fillRect(x - 1.5, y - 1.5, 3, 3);
    }
    context.globalAlpha = 1;
    context.fillStyle = "#777"; // every other grid line numbered, along the bottom and the left edge
    context.font = "10px sans-serif";
    for (let v = -2 * Math.floor(this.extent / 2); v <= this.extent; v += 2) {
      const [x, y] = this.toPixels([v, v]);
      context.textAlign = "center"; context.textBaseline = "bottom";
      context.fillText(String(v).replace("-", "\u2212"), x, size - 2);
      if (v !== -2 * Math.floor(this.extent / 2)) { // the corner already has the bottom row's number
        context.textAlign = "left"; context.textBaseline = "middle";
        context.fillText(String(v).replace("-", "\u2212"), 3, y);
      }
    }
    context.font = "bold 15px sans-serif";
    context.textAlign = "center";
    context.textBaseline = "middle";
    model.get("centres").forEach((centre, digit) => {
      const [x, y] = this.toPixels(centre);
      context.fillStyle = "rgba(255, 255, 255, 0.75)";
      context.fillRect(x - 8, y - 9, 16, 18);
      context.fillStyle = "black";
      context.fillText(String(digit), x, y);
    });
  }

  toPixels([z0, z1]) {
    const scale = this.size / (2 * this.extent);
    return [(z0 + this.extent) * scale, (this.extent - z1) * scale];
  }

  toLatent(event) {
    const box = this.node.getBoundingClientRect();
    const scale = (2 * this.extent) / box.width;
    return [(event.clientX - box.left) * scale - this.extent, this.extent - (event.clientY - box.top) * scale];
  }

  // markers: [{z, shape: "cross" | "dot", colour}], ellipses: [{mu, sigma, radius}] (axis-aligned, since q is a
  // diagonal Gaussian: the points at Mahalanobis distance `radius` from mu).
  draw(markers, ellipses = []) {
    const context = this.context, scale = this.size / (2 * this.extent);
    context.drawImage(this.background, 0, 0);
    context.lineWidth = 2;
    for (const { mu, sigma, radius } of ellipses) {
      const [x, y] = this.toPixels(mu);
      context.strokeStyle = "black";
      context.beginPath();
      context.ellipse(x, y, Math.max(0.5, radius * sigma[0] * scale), Math.max(0.5, radius * sigma[1] * scale), 0, 0,
                      2 * Math.PI);
      context.stroke();
    }
    for (const { z, shape, colour } of markers) {
      const [x, y] = this.toPixels(z);
      context.strokeStyle = colour;
      context.fillStyle = colour;
      if (shape === "cross") {
        context.lineWidth = 3;
        context.beginPath();
        context.moveTo(x - 7, y - 7); context.lineTo(x + 7, y + 7); context.moveTo(x - 7, y + 7); context.lineTo(x + 7, y - 7);
        context.stroke();
      } else {
        context.beginPath(); context.arc(x, y, 4, 0, 2 * Math.PI); context.fill();
      }
    }
  }
}

function digitPanel(title, cssSize) {
  const box = element("div", { display: "flex", flexDirection: "column", alignItems: "center", gap: "4px" });
  const caption = element("div", { font: "13px sans-serif" });
  caption.textContent = title;
  const node = canvas(SIDE, SIDE, cssSize, cssSize, title);
  box.append(caption, node);
  return { box, context: node.getContext("2d"), node };
}

function captioned(node, text) {
  const box = element("div", { display: "flex", flexDirection: "column", gap: "4px", font: "13px sans-serif" });
  box.append(document.createTextNode(text), node);
  return box;
}

function format(value) {
  return (Math.abs(value) < 1e-9 ? 0 : value).toFixed(2).replace("-", "\u2212");
}

// The tests' and the benchmark's hooks (a widget's "hooks" trait, widgets/in_page.py's HOOKS_VARIABLE): with them
// the page writes what it computed onto the widget's element (data-decoded, data-mu, ...) and times every input.
function addHooks(model, el) {
  if (model.get("hooks")) el.__latencies = [];
  return model.get("hooks");
}

// Frame-exact timing for benchmarks/bench_browser.py: from the input event's own timestamp to the animation frame
// after its pixels were drawn, kept on the widget's element (at most the last 1000).
function recordLatency(el, event) {
  if (!el.__latencies) return;
  const start = event.timeStamp;
  requestAnimationFrame(() => {
    const times = el.__latencies;
    times.push(performance.now() - start);
    if (times.length > 1000) times.shift();
  });
}


// Wire a latent map to show(z, hovering): the pointer hovers over it; a press, or the arrow keys (by "key_step",
// inside the map), move the pinned point, the model's "z", which the kernel hears. otherKey(event) may take other
// keys first, returning true when it did (11's plane reads a digit 0-9 as the label to ask for).
function pinOnMap(map, model, root, show, otherKey = () => false) {
  map.node.tabIndex = 0;
  // For a screen reader: what the map is and where the pinned point went, said after each press or arrow key.
  map.node.setAttribute("aria-roledescription", "2-D map: arrow keys move the point");
  const said = element("div", { position: "absolute", width: "1px", height: "1px", overflow: "hidden",
                                clipPath: "inset(50%)" }, { "aria-live": "polite" });
  root.append(said);
  const say = () => { const [z0, z1] = model.get("z"); said.textContent = `z = (${format(z0)}, ${format(z1)})`; };
  map.node.addEventListener("pointermove", (event) => { show(map.toLatent(event), true); recordLatency(root, event); });
  map.node.addEventListener("pointerleave", () => show(model.get("z"), false));
  map.node.addEventListener("pointerdown", (event) => {
    model.set("z", map.toLatent(event));
    model.save_changes();
    show(model.get("z"), false);
    say();
    recordLatency(root, event);
  });
  map.node.addEventListener("keydown", (event) => {
    if (!otherKey(event)) {
      const steps = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] }[event.key];
      if (!steps) return;
      const step = model.get("key_step"), [z0, z1] = model.get("z"), limit = map.extent;
      const clamp = (v) => Math.min(limit, Math.max(-limit, v));
      model.set("z", [clamp(z0 + steps[0] * step), clamp(z1 + steps[1] * step)]);
    }
    event.preventDefault();
    model.save_changes();
    show(model.get("z"), false);
    say();
    recordLatency(root, event);
  });
  model.on("change:z", () => show(model.get("z"), false)); // a point set from Python
}
