// The prior explorer of vae_helpers/explorers/priors.py: one button per prior of a 2-D VAE; the map shows that
// prior's density (shaded over its top nats), the test digits' codes and a set of prior draws (black crosses),
// and beside it the digits those draws decode to. Everything was computed once in the kernel and arrives with the
// widget, so switching is answered here, with no kernel: it also works on the book site. Plain ES module, no build
// step; it uses only model.get, model.set, model.save_changes and model.on (anywidget 0.9 and later).

const SIDE = 28;
const MAP = 270; // CSS pixels of the map's side

function bytesOf(value) {
  // Binary traits arrive as a DataView (ipywidgets 7 and 8) or an ArrayBuffer; copy them so the floats are aligned.
  if (value instanceof DataView) return new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
  return new Uint8Array(value);
}

function element(tag, style = {}, attributes = {}) {
  const node = document.createElement(tag);
  Object.assign(node.style, style);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

function render({ model, el }) {
  const names = model.get("names");
  const { grid, sets, draws: perSet, shade_nats: shadeNats } = model.get("sizes");
  const extents = model.get("extents");
  const logDensity = new Float32Array(bytesOf(model.get("log_density")).buffer);
  const codes = new Float32Array(bytesOf(model.get("codes")).buffer);
  const labels = bytesOf(model.get("labels"));
  const draws = new Float32Array(bytesOf(model.get("draws")).buffer);
  const decoded = bytesOf(model.get("decoded"));
  const shares = model.get("shares");
  const palette = model.get("palette");
  const numCodes = labels.length;

  el.classList.add("vae-prior-switch");
  // benchmarks/bench_browser.py's hooks ("hooks" trait): the time from each input event to the animation frame after
  // the redraw (which runs inside the handler: the change of "selected" repaints at once), the last 1000 kept.
  if (model.get("hooks")) el.__latencies = [];
  const timed = (event) => {
    if (!el.__latencies) return;
    const start = event.timeStamp;
    requestAnimationFrame(() => { el.__latencies.push(performance.now() - start); if (el.__latencies.length > 1000) el.__latencies.shift(); });
  };
  const buttons = element("div", { display: "flex", gap: "6px", flexWrap: "wrap" },
                          { role: "radiogroup", "aria-label": "prior" });
  const radios = names.map((name, index) => {
    const button = element("button", { font: "13px sans-serif", padding: "3px 10px" },
                           { role: "radio", type: "button", "aria-label": `prior: ${name}` });
    button.textContent = name;
    button.addEventListener("click", (event) => { select(index, true); timed(event); });
    button.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
      if (step === undefined) return;
      event.preventDefault();
      event.stopPropagation(); // the arrows are the radio group's, not JupyterLab's
      select((model.get("selected") + step + names.length) % names.length, true);
      timed(event);
    });
    buttons.append(button);
    return button;
  });
  const again = element("button", { font: "13px sans-serif", padding: "3px 10px" }, { type: "button" });
  again.textContent = "Other draws";
  again.addEventListener("click", () => {
    model.set("draw_set", (model.get("draw_set") + 1) % sets);
    model.save_changes();
  });

  const scale = window.devicePixelRatio || 1;
  const map = element("canvas", { width: `${MAP}px`, height: `${MAP}px`, border: "1px solid #999" },
                      { "aria-label": "prior density, test codes and prior draws" });
  map.width = map.height = Math.round(MAP * scale);
  const digits = element("canvas", { width: `${4 * 2 * SIDE + 6}px`, height: `${4 * 2 * SIDE + 6}px`,
                                     imageRendering: "pixelated", border: "1px solid #999" },
                         { "aria-label": "decoded prior draws" });
  digits.width = digits.height = 4 * SIDE + 3;
  const readout = element("div", { font: "13px sans-serif", minHeight: "1.4em" }, { "aria-live": "polite" });
  const panels = element("div", { display: "flex", gap: "16px", alignItems: "flex-start", flexWrap: "wrap" });
  const right = element("div", { display: "flex", flexDirection: "column", gap: "6px", font: "13px sans-serif" });
  right.append(document.createTextNode("the prior draws, decoded"), digits, again);
  panels.append(map, right);
  el.append(buttons, panels, readout);

  function paintMap(p) {
    const extent = extents[p];
    const toPixel = (z0, z1) => [(z0 + extent) / (2 * extent) * map.width, (extent - z1) / (2 * extent) * map.height];
    const context = map.getContext("2d");
    const offset = p * grid * grid;
    let top = -Infinity;
    for (let i = 0; i < grid * grid; i++) top = Math.max(top, logDensity[offset + i]);
    const shade = new OffscreenCanvas(grid, grid);
    const image = shade.getContext("2d").createImageData(grid, grid);
    for (let i = 0; i < grid * grid; i++) { // white where log p(z) is shadeNats below its top, deep blue at the top
      const t = Math.max(0, 1 + (logDensity[offset + i] - top) / shadeNats);
      image.data.set([Math.round(255 - 200 * t), Math.round(255 - 140 * t), 255, 255], 4 * i);
    }
    shade.getContext("2d").putImageData(image, 0, 0);
    context.imageSmoothingEnabled = false;
    context.drawImage(shade, 0, 0, map.width, map.height);
    const dot = 1.6 * scale;
    for (let n = 0; n < numCodes; n++) {
      const [x, y] = toPixel(codes[2 * (p * numCodes + n)], codes[2 * (p * numCodes + n) + 1]);
      context.fillStyle = palette[labels[n]];
      context.fillRect(x - dot / 2, y - dot / 2, dot, dot);
    }
    context.strokeStyle = "black";
    context.lineWidth = 2 * scale;
    const set = model.get("draw_set");
    for (let k = 0; k < perSet; k++) {
      const index = 2 * ((p * sets + set) * perSet + k);
      const [x, y] = toPixel(draws[index], draws[index + 1]);
      const arm = 5 * scale;
      context.beginPath();
      context.moveTo(x - arm, y); context.lineTo(x + arm, y);
      context.moveTo(x, y - arm); context.lineTo(x, y + arm);
      context.stroke();
    }
  }

  function paintDigits(p) {
    const context = digits.getContext("2d");
    context.fillStyle = "#888";
    context.fillRect(0, 0, digits.width, digits.height);
    const set = model.get("draw_set");
    for (let k = 0; k < perSet; k++) {
      const image = context.createImageData(SIDE, SIDE);
      const start = ((p * sets + set) * perSet + k) * SIDE * SIDE;
      for (let i = 0; i < SIDE * SIDE; i++) {
        const grey = decoded[start + i];
        image.data.set([grey, grey, grey, 255], 4 * i);
      }
      context.putImageData(image, (k % 4) * (SIDE + 1), Math.floor(k / 4) * (SIDE + 1));
    }
  }

  function show() {
    const p = model.get("selected");
    radios.forEach((button, index) => {
      button.setAttribute("aria-checked", String(index === p));
      button.tabIndex = index === p ? 0 : -1; // one tab stop for the group; the arrow keys move within it
      button.style.fontWeight = index === p ? "bold" : "normal";
    });
    paintMap(p);
    paintDigits(p);
    readout.textContent = `${names[p]}: ${(100 * shares[p]).toFixed(1)}% of prior draws land in a hole of q(z); ` +
      `the map shows [\u2212${extents[p]}, ${extents[p]}]\u00b2`;
    el.dataset.selected = String(p);
    el.dataset.drawSet = String(model.get("draw_set"));
  }

  function select(index, focus) {
    model.set("selected", index);
    model.save_changes();
    if (focus) radios[index].focus();
  }

  model.on("change:selected", show);
  model.on("change:draw_set", show);
  show();
}

export default { render };
