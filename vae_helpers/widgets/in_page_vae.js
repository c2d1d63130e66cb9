// The in-page latent widgets of vae_helpers/explorers/touch.py: "drag through the map" and "draw a digit". Python
// (widgets/in_page.py) joins this file to in_page_core.js, whose network, preprocessing and painting it uses.

// ---- drag through the map -----------------------------------------------------------------------------------------

function renderMap(model, el, network) {
  const map = new LatentMap(model, 320);
  const digit = digitPanel("decoded at the pointer", 168);
  const readout = element("div", { font: "13px monospace", minHeight: "2.6em", whiteSpace: "pre" });
  const help = element("div", { font: "12px sans-serif", color: "#555" });
  help.textContent = "Move the pointer over the map: the digit is decoded where it points. Click to pin a point " +
                     "(or focus the map and use the arrow keys). The cross marks the pinned point.";
  const row = element("div", { display: "flex", gap: "16px", alignItems: "center", flexWrap: "wrap" });
  row.append(captioned(map.node, "test digits' posterior means, by label (z[0] across, z[1] up)"), element("div"));
  row.lastChild.append(digit.box, readout);
  el.append(row, help);
  const root = el, hooks = addHooks(model, el);

  function show(z, hovering) {
    const probabilities = network.decode(z);
    paintDigit(digit.context, probabilities);
    const pinned = model.get("z");
    const markers = [{ z: pinned, shape: "cross", colour: "black" }];
    if (hovering) markers.push({ z, shape: "dot", colour: "crimson" });
    map.draw(markers);
    readout.textContent = `z = (${format(z[0])}, ${format(z[1])})\nlog p(z) = ${format(network.logPrior(z))} nats`;
    if (hooks) Object.assign(root.dataset, { z: JSON.stringify(z), decoded: JSON.stringify(probabilities) });
  }

  pinOnMap(map, model, root, show);
  show(model.get("z"), false);
}

// ---- draw a digit ---------------------------------------------------------------------------------------------------

function renderDraw(model, el, network) {
  const map = new LatentMap(model, 280);
  const size = 280, strokeWidth = model.get("stroke_width");
  const pad = canvas(size, size, size, size, "drawing canvas: draw a digit with the mouse");
  const pen = pad.getContext("2d", { willReadFrequently: true });
  const input = digitPanel("what the encoder sees", 112);
  const output = digitPanel("reconstruction", 112);
  const readout = element("div", { font: "13px monospace", whiteSpace: "pre", minHeight: "4em" });
  const clear = element("button", {}, { class: "jupyter-button" });
  clear.textContent = "Clear";
  const useTest = element("button", {}, { class: "jupyter-button" });
  useTest.textContent = "Use a test digit";
  const testDigits = bytesOf(model.get("test_digits"));
  const numTest = testDigits.length / (SIDE * SIDE);
  let nextTest = 0, state = null; // state: the 784 grey levels the encoder last saw, or null while empty

  const digits = element("div", { display: "flex", flexDirection: "column", gap: "8px" });
  digits.append(input.box, output.box);
  const buttons = element("div", { display: "flex", gap: "8px" });
  buttons.append(clear, useTest);
  const left = element("div", { display: "flex", flexDirection: "column", gap: "6px" });
  left.append(pad, buttons);
  const row = element("div", { display: "flex", gap: "14px", alignItems: "flex-start", flexWrap: "wrap" });
  row.append(left, digits, captioned(map.node, "q(z|x): its mean, and the 1- and 2-sigma ellipses"));
  el.append(row, readout);
  const root = el, hooks = addHooks(model, el);

  function blank() {
    pen.fillStyle = "white";
    pen.fillRect(0, 0, size, size);
  }

  function ink() {
    // The learner draws black on white; MNIST stores ink as white on black: ink = 1 - brightness.
    const rgba = pen.getImageData(0, 0, size, size).data;
    const values = new Float64Array(size * size);
    for (let i = 0; i < values.length; i++) values[i] = 1 - rgba[4 * i] / 255;
    return values;
  }

  function analyse(pixels, send) {
    if (pixels === null) {
      state = null;
      paintDigit(input.context, new Float64Array(SIDE * SIDE));
      paintDigit(output.context, new Float64Array(SIDE * SIDE));
      map.draw([]);
      readout.textContent = "The canvas is empty: draw a digit in the white box (or use a test digit).";
      root.dataset.state = "empty";
      if (send) { model.set("drawing", []); model.set("mu", []); model.set("logvar", []); model.set("elbo", null); model.save_changes(); }
      return;
    }
    state = pixels;
    const binary = Array.from(pixels, (v) => (v > 0.5 ? 1 : 0)); // the decoder models binary pixels
    const { mu, logvar } = network.encode(binary);
    const sigma = logvar.map((v) => Math.exp(0.5 * v));
    const terms = network.elbo(binary, mu, logvar, model.get("eps"));
    paintDigit(input.context, binary);
    paintDigit(output.context, network.decode(mu));
    map.draw([{ z: mu, shape: "dot", colour: "black" }],
             [{ mu, sigma, radius: 1 }, { mu, sigma, radius: 2 }]);
    const typical = model.get("test_elbo_range");
    readout.textContent =
      `q(z|x): mean (${format(mu[0])}, ${format(mu[1])}), sigma (${sigma.map((s) => s.toFixed(3)).join(", ")})\n` +
      `ELBO of the drawing = ${format(terms.elbo)} nats ` +
      `(reconstruction ${format(terms.reconstruction)}, KL ${format(terms.kl)}; ${model.get("eps").length} draws of z)\n` +
      `test digits: 90% of their ELBOs lie in [${format(typical[0])}, ${format(typical[1])}] nats\n` +
      "a high ELBO does not make a digit: drawings with little ink score high too (05 measures it)";
    root.dataset.state = "drawn";
    if (hooks) Object.assign(root.dataset, { pixels: JSON.stringify(binary), mu: JSON.stringify(mu),
                                             logvar: JSON.stringify(logvar), elbo: String(terms.elbo) });
    if (send) { // once per stroke, not per move: the kernel learns what was drawn without slowing the pen
      model.set("drawing", Array.from(pixels));
      model.set("mu", mu);
      model.set("logvar", logvar);
      model.set("elbo", terms.elbo);
      model.save_changes();
    }
  }

  let drawing = false, last = null;
  function point(event) {
    const box = pad.getBoundingClientRect();
    return [(event.clientX - box.left) * (size / box.width), (event.clientY - box.top) * (size / box.height)];
  }
  pad.addEventListener("pointerdown", (event) => {
    drawing = true;
    last = point(event);
    pad.setPointerCapture?.(event.pointerId);
    pen.fillStyle = "black";
    pen.beginPath(); pen.arc(last[0], last[1], strokeWidth / 2, 0, 2 * Math.PI); pen.fill();
    analyse(mnistStyle(ink(), size, size), false);
    recordLatency(root, event);
  });
  pad.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const next = point(event);
    Object.assign(pen, { strokeStyle: "black", lineWidth: strokeWidth, lineCap: "round" });
    pen.beginPath(); pen.moveTo(...last); pen.lineTo(...next); pen.stroke();
    last = next;
    analyse(mnistStyle(ink(), size, size), false);
    recordLatency(root, event);
  });
  const finish = () => {
    if (!drawing) return;
    drawing = false;
    analyse(mnistStyle(ink(), size, size), true);
  };
  pad.addEventListener("pointerup", finish);
  pad.addEventListener("pointercancel", finish);
  clear.addEventListener("click", () => { blank(); analyse(null, true); });
  function loadTestDigit(send) {
    // The test digit itself goes to the encoder; enlarged on the canvas, so that strokes can be added to it.
    const start = (nextTest++ % numTest) * SIDE * SIDE;
    const pixels = Array.from(testDigits.subarray(start, start + SIDE * SIDE), (v) => v / 255);
    const small = document.createElement("canvas");
    small.width = small.height = SIDE;
    const image = small.getContext("2d").createImageData(SIDE, SIDE);
    pixels.forEach((v, i) => image.data.set([255 * (1 - v), 255 * (1 - v), 255 * (1 - v), 255], 4 * i));
    small.getContext("2d").putImageData(image, 0, 0);
    pen.imageSmoothingEnabled = false;
    pen.drawImage(small, 0, 0, size, size);
    analyse(pixels, send);
  }
  useTest.addEventListener("click", () => loadTestDigit(true));
  loadTestDigit(false); // start from a real digit, so the first view already shows q(z|x)
}

async function render({ model, el }) {
  el.classList.add("vae-touch", `vae-touch-${model.get("view")}`); // for the page's style and the browser tests
  const network = await Network.of(model);
  (model.get("view") === "map" ? renderMap : renderDraw)(model, el, network);
}

export default { render };
