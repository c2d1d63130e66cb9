// 07's widgets, which run the conv VAE's decoder in the page (widgets/page_models.py sends its layers and weights,
// and the test digits with their codes, once per page; explorers/latent.py has the Python originals).
// Joined after page_plot.js (Chart, VIEWS, seededNormals) and in_page_core.js (element, paintDigit, SIDE).

// ---- the network ------------------------------------------------------------------------------------------------

// A decoder as generic layers, each a small loop over Float32Arrays. Weights are PyTorch's own layouts: a linear
// layer's (out, in) rows, a convolution's (out, in, k, k). A batch of codes goes through together, its activations
// held channel by channel, the batch's pictures of one channel side by side ([C][B][H][W]), so that a convolution
// makes one pass over the whole batch (convolveBatch).
export class Sequential {
  constructor(layers, weights) {
    this.layers = layers;
    this.weights = weights;
  }

  forward(input) {
    return this.forwardBatch([input])[0];
  }

  // codes: a list of B Float32Arrays; returns B Float32Arrays (each a flat output in PyTorch's (C, H, W) order).
  forwardBatch(codes) {
    const B = codes.length, w = this.weights;
    let h = Float32Array.from(codes.flatMap((code) => Array.from(code))), rows = true; // rows: [B][features]
    let shape = null; // [C, H, W] once the activations are planes
    for (const layer of this.layers) {
      if (layer.kind === "linear") {
        if (!rows) throw new Error("the page runs linear layers before the convolutions only");
        // column by column (the weights transposed once, so a column is contiguous): a code has 16 numbers and
        // the layer 1568 outputs, and long inner loops run about four times as fast as 16-long ones
        const columns = (layer.columns ??= transposed(w, layer.offset, layer.out, layer.in));
        const out = new Float32Array(B * layer.out), bias = layer.offset + layer.out * layer.in;
        for (let b = 0; b < B; b++) {
          const target = b * layer.out;
          for (let o = 0; o < layer.out; o++) out[target + o] = w[bias + o];
          for (let i = 0; i < layer.in; i++) {
            const x = h[b * layer.in + i], column = i * layer.out;
            if (x !== 0) for (let o = 0; o < layer.out; o++) out[target + o] += columns[column + o] * x;
          }
        }
        h = out;
      } else if (layer.kind === "conv") {
        if (rows) { h = toPlanes(h, B, layer.in, layer.height * layer.width); rows = false; }
        h = convolveBatch(h, B, layer, w);
        shape = [layer.out, layer.height, layer.width];
      } else if (layer.kind === "pixel_shuffle") { // channel c r^2 + i r + j -> pixel (r y + i, r x + j)
        if (rows) { h = toPlanes(h, B, layer.channels, layer.height * layer.width); rows = false; }
        const r = layer.factor, C = layer.channels / (r * r), H = layer.height, W = layer.width;
        const out = new Float32Array(h.length), plane = B * H * W;
        for (let c = 0; c < C; c++) for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) {
          const source = ((c * r + i) * r + j) * plane;
          for (let b = 0; b < B; b++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
            out[((c * B + b) * H * r + y * r + i) * W * r + x * r + j] = h[source + (b * H + y) * W + x];
          }
        }
        h = out;
        shape = [C, H * r, W * r];
      } else if (layer.kind === "bias") { // one number per output value (PixelBias)
        const size = layer.size;
        if (rows) { for (let i = 0; i < h.length; i++) h[i] += w[layer.offset + (i % size)]; } else {
          const [C, H, W] = shape, plane = H * W;
          for (let c = 0; c < C; c++) for (let b = 0; b < B; b++) {
            const start = (c * B + b) * plane;
            for (let p = 0; p < plane; p++) h[start + p] += w[layer.offset + c * plane + p];
          }
        }
      } else if (layer.kind === "silu") {
        for (let i = 0; i < h.length; i++) h[i] = h[i] / (1 + Math.exp(-h[i]));
      } else if (layer.kind === "relu") {
        for (let i = 0; i < h.length; i++) h[i] = Math.max(0, h[i]);
      } else {
        throw new Error(`the page cannot run a layer of kind ${layer.kind}`);
      }
    }
    if (!rows) h = fromPlanes(h, B, shape[0], shape[1] * shape[2]);
    const size = h.length / B;
    return Array.from({ length: B }, (_, b) => h.slice(b * size, (b + 1) * size));
  }
}

function transposed(w, offset, rows, cols) { // a (rows, cols) matrix stored row by row, as (cols, rows)
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[offset + r * cols + c];
  return out;
}

function toPlanes(h, B, C, plane) { // [B][C][plane] -> [C][B][plane]
  const out = new Float32Array(h.length);
  for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) out.set(h.subarray((b * C + c) * plane, (b * C + c + 1) * plane), (c * B + b) * plane);
  return out;
}

function fromPlanes(h, B, C, plane) { // [C][B][plane] -> [B][C][plane]
  const out = new Float32Array(h.length);
  for (let c = 0; c < C; c++) for (let b = 0; b < B; b++) out.set(h.subarray((c * B + b) * plane, (c * B + b + 1) * plane), (b * C + c) * plane);
  return out;
}

// A square convolution, stride 1, zero padding, over B pictures held [C][B][H][W]. Each output pixel is a dot
// product of the output channel's weights (in, k, k) with the input patch around it, gathered first into a row of
// `patches` (im2col). Four output channels share each pass over a patch, so every input value is loaded once for
// four sums: on this project's 2-core host that halved the time of 07's 36-digit grid against one sum at a time
// (node 18, conv 32 -> 32 on 7 x 7, 11 against 24 ms).
function convolveBatch(h, B, { in: cin, out: cout, size, padding, height: H, width: W, offset }, w) {
  const P = B * H * W, K = cin * size * size, patches = new Float32Array(P * K), out = new Float32Array(cout * P);
  for (let b = 0; b < B; b++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const row = ((b * H + y) * W + x) * K;
    for (let c = 0; c < cin; c++) {
      const plane = (c * B + b) * H * W;
      for (let ky = 0; ky < size; ky++) {
        const yy = y + ky - padding;
        if (yy < 0 || yy >= H) continue; // the patch's zeros stay zero
        for (let kx = 0; kx < size; kx++) {
          const xx = x + kx - padding;
          if (xx >= 0 && xx < W) patches[row + (c * size + ky) * size + kx] = h[plane + yy * W + xx];
        }
      }
    }
  }
  const bias = offset + cout * K;
  let o = 0;
  for (; o + 4 <= cout; o += 4) {
    const w0 = offset + o * K, w1 = w0 + K, w2 = w1 + K, w3 = w2 + K;
    for (let i = 0; i < P; i++) {
      let s0 = w[bias + o], s1 = w[bias + o + 1], s2 = w[bias + o + 2], s3 = w[bias + o + 3];
      const row = i * K;
      for (let k = 0; k < K; k++) {
        const v = patches[row + k];
        s0 += w[w0 + k] * v; s1 += w[w1 + k] * v; s2 += w[w2 + k] * v; s3 += w[w3 + k] * v;
      }
      out[o * P + i] = s0; out[(o + 1) * P + i] = s1; out[(o + 2) * P + i] = s2; out[(o + 3) * P + i] = s3;
    }
  }
  for (; o < cout; o++) { // the channels left over
    const w0 = offset + o * K;
    for (let i = 0; i < P; i++) {
      let sum = w[bias + o];
      for (let k = 0; k < K; k++) sum += w[w0 + k] * patches[i * K + k];
      out[o * P + i] = sum;
    }
  }
  return out;
}

function sigmoidOf(logits) {
  return logits.map((l) => 1 / (1 + Math.exp(-l)));
}

// log p(x | logits) for binary pixels x: sum of x l - softplus(l), as torch's Bernoulli(logits=l).log_prob.
export function bernoulliLogProb(logits, x) {
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const l = logits[i];
    sum += x[i] * l - (Math.max(l, 0) + Math.log1p(Math.exp(-Math.abs(l))));
  }
  return sum;
}

function decoderOf(context) {
  return (context.decoder ??= new Sequential(context.data.layers, context.arrays.decoder));
}

// Decode codes (a list of Float32Arrays) as one batch: their logits and pixel probabilities.
export function decode(context, codes) {
  return decoderOf(context).forwardBatch(codes).map((logits) => ({ logits, pixels: sigmoidOf(logits) }));
}

function digitPixels(arrays, index) { // one test digit, unpacked from its bits (np.packbits: first pixel in the top bit)
  const bytes = arrays.digits.subarray(index * (SIDE * SIDE / 8), (index + 1) * (SIDE * SIDE / 8));
  return Float32Array.from({ length: SIDE * SIDE }, (_, i) => (bytes[i >> 3] >> (7 - (i & 7))) & 1);
}

function codeOf(arrays, name, index, dim) {
  return arrays[name].subarray(index * dim, (index + 1) * dim);
}

const norm = (z) => Math.sqrt(z.reduce((a, v) => a + v * v, 0));

// ---- drawing digits -------------------------------------------------------------------------------------------------

// One canvas holding `count` digits in rows of `ncols`, 2 white pixels between them (plotting.tile_images).
function digitTiles(count, ncols, scale, label) {
  const rows = Math.ceil(count / ncols), width = ncols * (SIDE + 2) - 2, height = rows * (SIDE + 2) - 2;
  const node = element("canvas", { width: `${width * scale}px`, height: `${height * scale}px`, imageRendering: "pixelated",
                                   display: "block" }, { role: "img", "aria-label": label });
  node.width = width;
  node.height = height;
  const context = node.getContext("2d"), image = context.createImageData(width, height);
  return {
    node, context,
    paint(images) { // one image for the whole grid, written in place: white, then each digit's greys
      const data = image.data;
      data.fill(255);
      images.forEach((pixels, k) => {
        const left = (k % ncols) * (SIDE + 2), top = Math.floor(k / ncols) * (SIDE + 2);
        for (let y = 0; y < SIDE; y++) {
          for (let x = 0; x < SIDE; x++) {
            const grey = Math.round(255 * pixels[y * SIDE + x]), at = 4 * ((top + y) * width + left + x);
            data[at] = data[at + 1] = data[at + 2] = grey;
          }
        }
      });
      context.putImageData(image, 0, 0);
    },
  };
}

function titled(node, text, font = "13px sans-serif") {
  const box = element("div", { display: "flex", flexDirection: "column", alignItems: "center", gap: "4px", font });
  const caption = element("div");
  caption.textContent = text;
  box.append(caption, node);
  return { box, caption };
}

// ---- 07: traversal ----------------------------------------------------------------------------------------------

VIEWS.traversal = {
  compute(values, context) {
    const { z_start: start, active } = context.data, z = Float32Array.from(start);
    for (const d of active) z[d] = values[`z${d}`];
    const [{ pixels }] = decode(context, [z]);
    let logPrior = 0, moved = 0;
    z.forEach((v, d) => { logPrior += -0.5 * v * v - 0.5 * LOG_2PI; if (Math.abs(v - start[d]) > 1e-6) moved += 1; });
    return { z, pixels, readout: { "|z|": norm(z), "log p(z)": logPrior, "dims moved": moved } };
  },
  build(root, { data }) {
    const digit = digitTiles(1, 1, 5, "decoded z (the sliders)");
    const { box } = titled(digit.node, "decoded z (the sliders)");
    const D = data.latent_dim, active = new Set(data.active);
    const code = new Chart({ width: 330, height: 208, xlim: [-0.7, D - 0.3], ylim: [-3.4, 3.4], xlabel: "latent dimension d",
                             ylabel: "z[d]", yticks: [-2, 0, 2], label: "the code z as bars, q(z|x)'s mean as ticks",
                             margin: { top: 40 } });
    root.append(box, code.node);
    return (result) => {
      digit.paint([result.pixels]);
      code.begin(data.title);
      code.context.fillStyle = "#ededed";
      code.context.fillRect(code.sx(-0.7), code.sy(2), code.sx(D - 0.3) - code.sx(-0.7), code.sy(-2) - code.sy(2));
      result.z.forEach((v, d) => code.bar(d, 0, v, 0.35, { color: active.has(d) ? COLOURS.blue : "#d3d3d3" }));
      data.z_mean.forEach((v, d) => code.line([d - 0.3, d + 0.3], [v, v], { color: "#000", width: 2 }));
      code.end();
    };
  },
};

// ---- 07: interpolation --------------------------------------------------------------------------------------------

export function lerp(a, b, t) {
  return Float32Array.from(a, (v, i) => (1 - t) * v + t * b[i]);
}

// The angle between two codes as 2 atan2(|a - b|, |a + b|) of their unit vectors: accurate at every angle.
function angleBetween(a, b) {
  const na = norm(a), nb = norm(b);
  const ua = Array.from(a, (v) => v / Math.max(na, 1e-12)), ub = Array.from(b, (v) => v / Math.max(nb, 1e-12));
  return 2 * Math.atan2(norm(ua.map((v, i) => v - ub[i])), norm(ua.map((v, i) => v + ub[i])));
}

export function slerp(a, b, t, eps = 1e-6) { // latent_space.slerp
  const na = norm(a), nb = norm(b), omega = angleBetween(a, b), sin = Math.sin(omega);
  if (sin < eps || na === 0 || nb === 0) return lerp(a, b, t);
  const wa = Math.sin((1 - t) * omega) / sin, wb = Math.sin(t * omega) / sin;
  return Float32Array.from(a, (v, i) => wa * v + wb * b[i]);
}

VIEWS.interpolation = {
  compute({ index_a, index_b, t, spherical }, context) {
    const { data, arrays } = context, D = data.latent_dim, steps = data.num_steps;
    const a = codeOf(arrays, "mu", index_a, D), b = codeOf(arrays, "mu", index_b, D);
    const interpolate = spherical ? slerp : lerp;
    const codes = [...Array.from({ length: steps }, (_, k) => interpolate(a, b, k / (steps - 1))), interpolate(a, b, t)];
    const decoded = decode(context, codes), atT = decoded[steps];
    const xA = digitPixels(arrays, index_a), xB = digitPixels(arrays, index_b);
    const grid = linspace(0, 1, 41);
    return { images: decoded.map((d) => d.pixels), xA, xB,
             lerpNorms: Array.from(grid, (s) => norm(lerp(a, b, s))), slerpNorms: Array.from(grid, (s) => norm(slerp(a, b, s))),
             readout: { t, "|z(t)|": norm(codes[steps]), "log p(x_A|z(t))": bernoulliLogProb(atT.logits, xA),
                        "log p(x_B|z(t))": bernoulliLogProb(atT.logits, xB),
                        "angle A–B (degrees)": angleBetween(a, b) * 180 / Math.PI } };
  },
  build(root, { data }) {
    const steps = data.num_steps, rootD = Math.sqrt(data.latent_dim);
    const strip = digitTiles(steps, steps, 2, "decoded along the path, A to B");
    const stripBox = titled(strip.node, "");
    const [a, at, b] = ["A", "decoded z(t)", "B"].map((text) => { const tile = digitTiles(1, 1, 3, text); return { tile, ...titled(tile.node, text) }; });
    const norms = new Chart({ width: 200, height: 150, xlim: [0, 1], ylim: [0, 1.6 * rootD], xlabel: "t",
                              xticks: [0, 0.5, 1], yticks: [[0, "0"], [rootD, "√D"]], label: "the norm of z along both paths",
                              margin: { left: 34, top: 24 } });
    const bottom = element("div", { display: "flex", gap: "12px", alignItems: "flex-end" });
    bottom.append(a.box, at.box, b.box, norms.node);
    const column = element("div", { display: "flex", flexDirection: "column", gap: "8px" });
    column.append(stripBox.box, bottom);
    root.append(column);
    const grid = linspace(0, 1, 41);
    return (result, { t, spherical }) => {
      strip.paint(result.images.slice(0, steps));
      const k = Math.round(t * (steps - 1)), c = strip.context; // the step nearest t, boxed in red
      c.strokeStyle = COLOURS.red;
      c.lineWidth = 1;
      c.strokeRect(k * (SIDE + 2) + 0.5, 0.5, SIDE - 1, SIDE - 1);
      stripBox.caption.textContent = `decoded along the ${spherical ? "spherical (slerp)" : "straight (lerp)"} path, A → B, ${steps} steps`;
      a.tile.paint([result.xA]);
      at.tile.paint([result.images[steps]]);
      b.tile.paint([result.xB]);
      norms.begin("|z(t)|: lerp --, slerp —");
      norms.hline(rootD, { color: "#000", width: 1, dash: ":" });
      norms.line(grid, result.lerpNorms, { color: COLOURS.grey, width: 1.5, dash: "--" });
      norms.line(grid, result.slerpNorms, { color: COLOURS.blue, width: 1.5 });
      norms.dots([t], [result.readout["|z(t)|"]], { color: COLOURS.red, radius: 4 });
      norms.end();
    };
  },
};

// ---- 07: generation -----------------------------------------------------------------------------------------------

VIEWS.generation = {
  compute({ temperature, draw }, context) {
    const { data } = context, D = data.latent_dim, count = data.num_per_side ** 2;
    const cache = (context.draws ??= new Map()); // draw k: the page's and Python's seed + k
    if (!cache.has(draw)) cache.set(draw, Float32Array.from(seededNormals(data.seed + draw, count * D)));
    const eps = cache.get(draw);
    const codes = Array.from({ length: count }, (_, k) => eps.subarray(k * D, (k + 1) * D).map((v) => temperature * v));
    const images = decode(context, codes).map((d) => d.pixels);
    const meanPixel = images.reduce((s, p) => s + p.reduce((a, v) => a + v, 0), 0) / (count * SIDE * SIDE);
    return { images, readout: { T: temperature, "mean |z|": codes.reduce((s, z) => s + norm(z), 0) / count,
                                "mean pixel probability": meanPixel, draw: draw + 1 } };
  },
  build(root, { data }) {
    const n = data.num_per_side, grid = digitTiles(n * n, n, 1.5, "digits decoded from codes drawn from N(0, T² I)");
    const { box, caption } = titled(grid.node, "");
    root.append(box);
    return (result, { temperature, draw }) => {
      grid.paint(result.images);
      caption.textContent = `decoded z ~ N(0, ${temperature.toFixed(2)}² I), draw ${draw + 1}`;
    };
  },
};

// ---- 07: uncertainty ----------------------------------------------------------------------------------------------

VIEWS.uncertainty = {
  compute({ index }, context) {
    const { data, arrays } = context, D = data.latent_dim, K = data.num_samples;
    const eps = (context.eps ??= Float32Array.from(seededNormals(data.seed, K * D))); // drawn once
    const mu = codeOf(arrays, "mu", index, D), logvar = codeOf(arrays, "logvar", index, D);
    const sigma = Float32Array.from(logvar, (v) => Math.exp(0.5 * v));
    const z = Array.from({ length: K }, (_, k) => Float32Array.from(mu, (m, d) => m + sigma[d] * eps[k * D + d]));
    const decoded = decode(context, [...z, mu]), x = digitPixels(arrays, index);
    let kl = 0;
    for (let d = 0; d < D; d++) kl += 0.5 * (mu[d] ** 2 + Math.exp(logvar[d]) - 1 - logvar[d]);
    return { x, z, mu, sigma, images: decoded.slice(0, K).map((d) => d.pixels),
             readout: { label: arrays.labels[index], "mean σ": sigma.reduce((a, v) => a + v, 0) / D,
                        "KL(q‖p(z)) nats": kl, "log p(x|z=μ)": bernoulliLogProb(decoded[K].logits, x) } };
  },
  build(root, { data }) {
    const D = data.latent_dim, K = data.num_samples;
    const input = digitTiles(1, 1, 4, "the test digit x"), samples = digitTiles(K, data.ncols, 2, `${K} decoded z ~ q(z|x)`);
    const code = new Chart({ width: 400, height: 208, xlim: [-0.7, D - 0.3], ylim: [-4, 4], xlabel: "latent dimension d",
                             ylabel: "z[d]", yticks: [-2, 0, 2], label: "q(z|x)'s mean and two standard deviations per dimension",
                             margin: { top: 40 } });
    root.append(titled(input.node, "the test digit x").box, titled(samples.node, `${K} decoded z ~ q(z|x)`).box, code.node);
    const offsets = linspace(-0.25, 0.25, K);
    return (result) => {
      input.paint([result.x]);
      samples.paint(result.images);
      code.begin("q(z|x): mean (black) ± 2σ (blue), the draws (orange);\ngrey band: the prior's ±2σ");
      code.context.fillStyle = "#ededed";
      code.context.fillRect(code.sx(-0.7), code.sy(2), code.sx(D - 0.3) - code.sx(-0.7), code.sy(-2) - code.sy(2));
      for (let d = 0; d < D; d++) {
        const m = result.mu[d], s = result.sigma[d];
        code.line([d, d], [m - 2 * s, m + 2 * s], { color: COLOURS.blue, width: 3, alpha: 0.5 });
        code.dots(offsets.map((o) => d + o), result.z.map((z) => z[d]), { color: COLOURS.orange, radius: 1.5 });
        code.line([d - 0.3, d + 0.3], [m, m], { color: "#000", width: 2 });
      }
      code.end();
    };
  },
};
