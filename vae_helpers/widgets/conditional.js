// The in-page widgets of notebook 11 (vae_helpers/explorers/conditional.py): "complete a digit" and "ask for a
// digit". Python (widgets/in_page.py, page_module) joins this file to in_page_core.js, whose layer loop, painting
// helpers and timing hooks it uses. Both run a conditional VAE's decoder only: the code z (drawn from the prior, or
// under the pointer) and the condition (the visible pixels, or a one-hot label) side by side are its input.

// ---- complete a digit ---------------------------------------------------------------------------------------------

const HIDDEN = -1; // a hidden pixel in a condition (vae_helpers.completion.HIDDEN)

// Which of the 28 x 28 pixels a layout shows (vae_helpers.completion.visible_mask, Pyro's layout): 1, the
// bottom-left quadrant; 2, the left half; 3, all but the bottom-right quadrant.
export function visibleMask(numVisible) {
  const half = SIDE / 2, mask = new Uint8Array(SIDE * SIDE);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const bottom = y >= half, left = x < half;
      mask[y * SIDE + x] = numVisible === 1 ? bottom && left : numVisible === 2 ? left : !(bottom && !left);
    }
  }
  return mask;
}

// The completions of condition c (784 numbers, HIDDEN where hidden): for each z in zs, the decoder's pixel
// probabilities where c hides the image and c's own pixels elsewhere (vae_helpers.completion.CompletionVAE.complete).
export function completions(network, c, zs) {
  return zs.map((z) => {
    const probabilities = network.decode([...z, ...c]);
    return probabilities.map((p, i) => (c[i] === HIDDEN ? p : c[i]));
  });
}

// A 28 x 28 digit drawn at `scale` css pixels per pixel, with the border of the hidden part traced in orange.
function paintCompletion(context, values, mask, scale) {
  const small = document.createElement("canvas");
  small.width = small.height = SIDE;
  paintDigit(small.getContext("2d"), values);
  context.imageSmoothingEnabled = false;
  context.drawImage(small, 0, 0, SIDE * scale, SIDE * scale);
  traceHidden(context, mask, scale, "#f90");
}

// Outline the hidden pixels of `mask`: a line wherever a hidden pixel meets a visible one.
function traceHidden(context, mask, scale, colour) {
  context.strokeStyle = colour;
  context.lineWidth = 2;
  context.beginPath();
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      if (mask[y * SIDE + x]) continue;
      if (x > 0 && mask[y * SIDE + x - 1]) { context.moveTo(x * scale, y * scale); context.lineTo(x * scale, (y + 1) * scale); }
      if (y > 0 && mask[(y - 1) * SIDE + x]) { context.moveTo(x * scale, y * scale); context.lineTo((x + 1) * scale, y * scale); }
    }
  }
  context.stroke();
}

function renderComplete(model, el, network) {
  const size = 280, cell = size / SIDE, strokeWidth = model.get("stroke_width");
  const pad = canvas(size, size, size, size, "drawing canvas: draw in the white part; the grey part is hidden");
  const pen = pad.getContext("2d", { willReadFrequently: true });
  const zs = model.get("eps"), scale = 3;
  const shown = zs.map((_, k) => canvas(SIDE * scale, SIDE * scale, SIDE * scale, SIDE * scale, `completion ${k + 1}`));
  const layoutButtons = [1, 2, 3].map((n) => {
    const button = element("button", {}, { class: "jupyter-button", "aria-pressed": "false" });
    button.textContent = `${n} visible`;
    button.addEventListener("click", () => setLayout(n, true));
    return button;
  });
  const clear = element("button", {}, { class: "jupyter-button" });
  clear.textContent = "Clear";
  const useTest = element("button", {}, { class: "jupyter-button" });
  useTest.textContent = "Use a test digit";
  const readout = element("div", { font: "13px sans-serif", maxWidth: "420px" });
  const testDigits = bytesOf(model.get("test_digits"));
  const numTest = testDigits.length / (SIDE * SIDE);
  let nextTest = 0, mask = visibleMask(model.get("num_visible"));

  const grid = element("div", { display: "grid", gridTemplateColumns: `repeat(4, ${SIDE * scale}px)`, gap: "6px" });
  grid.append(...shown);
  const buttons = element("div", { display: "flex", gap: "6px", flexWrap: "wrap" });
  buttons.append(...layoutButtons, clear, useTest);
  const left = element("div", { display: "flex", flexDirection: "column", gap: "6px" });
  left.append(pad, buttons);
  const right = element("div", { display: "flex", flexDirection: "column", gap: "6px" });
  right.append(captioned(grid, `${zs.length} completions: z drawn from the prior; inside the orange line, the ` +
                               "hidden pixels' probabilities given z and the visible part"), readout);
  const row = element("div", { display: "flex", gap: "16px", alignItems: "flex-start", flexWrap: "wrap" });
  row.append(left, right);
  el.append(row);
  const root = el, hooks = addHooks(model, el);

  // The pad: the visible part white with the learner's ink, the hidden part grey. Ink lives on `ink`, a canvas of
  // its own, so that changing the layout hides or shows it without losing it.
  const inkCanvas = document.createElement("canvas");
  inkCanvas.width = inkCanvas.height = size;
  const ink = inkCanvas.getContext("2d", { willReadFrequently: true });
  ink.fillStyle = "white";
  ink.fillRect(0, 0, size, size);

  function condition() {
    // Each pixel of the condition is the mean ink over its 10 x 10 cell of the pad (the area average of
    // in_page_core.js), or HIDDEN; ink is 1 - brightness, as MNIST stores white on black.
    const rgba = ink.getImageData(0, 0, size, size).data, c = new Array(SIDE * SIDE).fill(HIDDEN);
    for (let i = 0; i < SIDE * SIDE; i++) {
      if (!mask[i]) continue;
      const x0 = (i % SIDE) * cell, y0 = Math.floor(i / SIDE) * cell;
      let sum = 0;
      for (let y = y0; y < y0 + cell; y++) for (let x = x0; x < x0 + cell; x++) sum += 1 - rgba[4 * (y * size + x)] / 255;
      c[i] = sum / (cell * cell);
    }
    return c;
  }

  function update(send) {
    pen.drawImage(inkCanvas, 0, 0);
    pen.fillStyle = "rgb(150, 150, 150)"; // opaque: what is hidden stays hidden, the test digit's rest included
    for (let i = 0; i < SIDE * SIDE; i++) if (!mask[i]) pen.fillRect((i % SIDE) * cell, Math.floor(i / SIDE) * cell, cell, cell);
    traceHidden(pen, mask, cell, "#f90");
    const c = condition(), drawn = c.some((v) => v > 0);
    const results = completions(network, c, zs);
    results.forEach((values, k) => paintCompletion(shown[k].getContext("2d"), values, mask, scale));
    readout.textContent = drawn
      ? "Each completion is one draw of z: compare them where the visible part leaves the digit open."
      : "The visible part has no ink: the completions are what the model draws for that (draw, or use a test digit).";
    if (hooks) Object.assign(root.dataset, { condition: JSON.stringify(c), completions: JSON.stringify(results) });
    if (send) { model.set("condition", c); model.save_changes(); }
  }

  function setLayout(n, send) {
    mask = visibleMask(n);
    layoutButtons.forEach((button, index) => button.setAttribute("aria-pressed", String(index + 1 === n)));
    if (send) { model.set("num_visible", n); model.save_changes(); }
    update(send);
  }

  let drawing = false, last = null;
  function point(event) {
    const box = pad.getBoundingClientRect();
    return [(event.clientX - box.left) * (size / box.width), (event.clientY - box.top) * (size / box.height)];
  }
  function stroke(from, to) {
    Object.assign(ink, { strokeStyle: "black", fillStyle: "black", lineWidth: strokeWidth, lineCap: "round" });
    ink.beginPath();
    if (from) { ink.moveTo(...from); ink.lineTo(...to); ink.stroke(); } else { ink.arc(to[0], to[1], strokeWidth / 2, 0, 2 * Math.PI); ink.fill(); }
  }
  pad.addEventListener("pointerdown", (event) => {
    drawing = true;
    last = point(event);
    pad.setPointerCapture?.(event.pointerId);
    stroke(null, last);
    update(false);
    recordLatency(root, event);
  });
  pad.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const next = point(event);
    stroke(last, next);
    last = next;
    update(false);
    recordLatency(root, event);
  });
  const finish = () => { if (drawing) { drawing = false; update(true); } }; // the kernel hears once per stroke
  pad.addEventListener("pointerup", finish);
  pad.addEventListener("pointercancel", finish);
  clear.addEventListener("click", () => { ink.fillStyle = "white"; ink.fillRect(0, 0, size, size); update(true); });
  function loadTestDigit(send) {
    const start = (nextTest++ % numTest) * SIDE * SIDE;
    const image = ink.createImageData(SIDE, SIDE);
    testDigits.subarray(start, start + SIDE * SIDE).forEach((v, i) => image.data.set([255 - v, 255 - v, 255 - v, 255], 4 * i));
    const small = document.createElement("canvas");
    small.width = small.height = SIDE;
    small.getContext("2d").putImageData(image, 0, 0);
    ink.imageSmoothingEnabled = false;
    ink.drawImage(small, 0, 0, size, size);
    update(send);
  }
  useTest.addEventListener("click", () => loadTestDigit(true));
  model.on("change:num_visible", () => setLayout(model.get("num_visible"), false)); // a layout set from Python
  setLayout(model.get("num_visible"), false);
  loadTestDigit(false); // start from a real digit's visible part
}

// ---- ask for a digit --------------------------------------------------------------------------------------------

function oneHot(label) {
  return Array.from({ length: 10 }, (_, i) => (i === label ? 1 : 0));
}

// The digit of every label decoded at one z (the label's one-hot vector beside it): ten arrays of 784 probabilities.
export function allLabels(network, z) {
  return Array.from({ length: 10 }, (_, label) => network.decode([...z, ...oneHot(label)]));
}

function renderAsk(model, el, network) {
  const map = new LatentMap(model, 280);
  const asked = digitPanel("asked for", 140);
  const row10 = Array.from({ length: 10 }, (_, label) => {
    const button = element("button", { padding: "2px", border: "2px solid transparent", background: "none" },
                           { "aria-label": `ask for a ${label}`, "aria-pressed": "false" });
    const node = canvas(SIDE, SIDE, 48, 48, `the ${label} in this style`);
    button.append(node);
    button.addEventListener("click", () => { model.set("label", label); model.save_changes(); show(model.get("z"), false); });
    return { button, context: node.getContext("2d") };
  });
  const strip = element("div", { display: "flex", gap: "2px", flexWrap: "wrap" });
  strip.append(...row10.map(({ button }) => button));
  const readout = element("div", { font: "13px monospace", whiteSpace: "pre" });
  const help = element("div", { font: "12px sans-serif", color: "#555", maxWidth: "640px" });
  help.textContent = "Move over the plane: z is the style, and the row writes it as every digit. Click (or focus the " +
                     "plane and use the arrow keys) to pin a style; click a digit of the row (or type 0-9) to ask for it.";
  const right = element("div", { display: "flex", flexDirection: "column", gap: "8px" });
  right.append(asked.box, readout);
  const top = element("div", { display: "flex", gap: "16px", alignItems: "center", flexWrap: "wrap" });
  top.append(captioned(map.node, "test digits' q(z|x, y) means, by label: the classes overlap"), right);
  el.append(top, captioned(strip, "one style, all ten labels"), help);
  const root = el, hooks = addHooks(model, el);

  function show(z, hovering) {
    const digits = allLabels(network, z), label = model.get("label");
    digits.forEach((values, i) => {
      paintDigit(row10[i].context, values);
      row10[i].button.style.borderColor = i === label ? "crimson" : "transparent";
      row10[i].button.setAttribute("aria-pressed", String(i === label));
    });
    paintDigit(asked.context, digits[label]);
    const markers = [{ z: model.get("z"), shape: "cross", colour: "black" }];
    if (hovering) markers.push({ z, shape: "dot", colour: "crimson" });
    map.draw(markers);
    readout.textContent = `label y = ${label}\nz = (${format(z[0])}, ${format(z[1])})`;
    if (hooks) Object.assign(root.dataset, { z: JSON.stringify(z), decoded: JSON.stringify(digits) });
  }

  pinOnMap(map, model, root, show, (event) => {
    if (!/^[0-9]$/.test(event.key)) return false;
    model.set("label", Number(event.key));
    return true;
  });
  model.on("change:label", () => show(model.get("z"), false));
  show(model.get("z"), false);
}

async function render({ model, el }) {
  el.classList.add("vae-touch", `vae-touch-${model.get("view")}`); // for the page's style and the browser tests
  const network = await Network.of(model);
  (model.get("view") === "complete" ? renderComplete : renderAsk)(model, el, network);
}

export default { render };
