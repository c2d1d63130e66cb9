// A LiveFigure with precompute=True (08's beta ladder, 09's likelihoods): the kernel renders the figure of every
// option once and sends them all; moving the slider swaps them here, with no round trip, so it also works on the
// book site, where no kernel runs. The slider is a range input over the options (arrows, Home, End; the option's
// name is its value text for screen readers).
// Joined after in_page_core.js (element, addHooks, recordLatency). Uses only model.get (anywidget 0.9 and later).

function render({ model, el }) {
  const options = model.get("options"), readouts = model.get("readouts"), offsets = model.get("offsets");
  const bytes = bytesOf(model.get("pngs"));
  const hooks = addHooks(model, el);
  el.classList.add("vae-page-figure", "vae-precomputed");
  const id = `vae-control-${Math.random().toString(36).slice(2)}`;
  const row = element("div", { display: "flex", gap: "10px", alignItems: "center", font: "13px sans-serif" });
  const label = element("label", {}, { for: id });
  label.textContent = model.get("label");
  const input = element("input", { width: `${model.get("slider_width")}px` },
                        { type: "range", id, min: 0, max: options.length - 1, step: 1, value: model.get("index") });
  input.classList.add("vae-control");
  const shown = element("output", {}, { for: id });
  row.append(label, input, shown);
  const canvas = element("canvas", { display: "block", maxWidth: "100%", height: "auto" },
                         { role: "img", "aria-label": model.get("description") });
  const context = canvas.getContext("2d");
  const readout = element("div", { font: "13px monospace", minHeight: "1.4em" }, { "aria-live": "polite" });
  // Every figure decoded once, before the first move: a swap is then one drawImage.
  const images = options.map((_, i) => {
    const image = new Image();
    const png = bytes.subarray(offsets[i], offsets[i + 1]);
    image.src = URL.createObjectURL(new Blob([png], { type: "image/png" }));
    return image;
  });
  const show = (index, event) => {
    const image = images[index];
    const paint = () => {
      if (canvas.width !== image.naturalWidth) { canvas.width = image.naturalWidth; canvas.height = image.naturalHeight; }
      context.drawImage(image, 0, 0);
      if (event) recordLatency(el, event);
    };
    if (image.complete && image.naturalWidth) paint(); else image.decode().then(paint);
    shown.textContent = options[index];
    input.setAttribute("aria-valuetext", `${model.get("label")} ${options[index]}`);
    readout.textContent = readouts[index];
    if (hooks) el.__values = { index, option: options[index] };
  };
  input.addEventListener("input", (event) => show(Number(input.value), event));
  input.addEventListener("keydown", (event) => event.stopPropagation()); // the arrows are the slider's, not Lab's
  el.append(row, canvas, readout);
  show(model.get("index"), null);
}

export default { render };
