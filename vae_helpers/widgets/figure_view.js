// The image of a widgets.LiveFigure (the explorers of 01-04, 07 and 08), painted on a canvas.
//
// The kernel sends each new figure as PNG bytes. They are loaded as a data: URL and drawn with drawImage, which
// decodes them at once, so the new figure is on the canvas before the next frame. An <img> with a blob: URL (what
// ipywidgets.Image does) settles its load and its decode each in a later task, and createImageBitmap's decode
// waits behind the page's other work. Measured in JupyterLab in headless Chromium on one 2-core machine (key
// presses timed as benchmarks/bench_browser.py times them), 01's posterior explorer showed a slider step in 61 ms
// (median of 25) with an <img>, 59 ms with createImageBitmap and 47 ms with this canvas, nothing else changed.
// Uses only model.get and model.on (anywidget 0.9, Colab's, and later versions).

function dataUrlOf(value) {
  // Binary traits arrive as a DataView (ipywidgets 7 and 8) or an ArrayBuffer.
  const bytes = value instanceof DataView ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
    : new Uint8Array(value);
  let binary = "";
  for (let start = 0; start < bytes.length; start += 8192) { // in chunks: one call per byte would be slow
    binary += String.fromCharCode.apply(null, bytes.subarray(start, start + 8192));
  }
  return "data:image/png;base64," + btoa(binary);
}

function render({ model, el }) {
  const canvas = document.createElement("canvas");
  canvas.setAttribute("role", "img");
  canvas.style.cssText = "display: block; width: 100%; height: auto;";
  el.classList.add("vae-figure");
  el.appendChild(canvas);
  const context = canvas.getContext("2d");
  const image = new Image();

  image.onload = () => {
    if (canvas.width !== image.naturalWidth || canvas.height !== image.naturalHeight) {
      canvas.width = image.naturalWidth; // also clears it
      canvas.height = image.naturalHeight;
    }
    context.drawImage(image, 0, 0);
    canvas.setAttribute("aria-label", model.get("description"));
    el.dispatchEvent(new CustomEvent("vae-figure-painted")); // for benchmarks/bench_browser.py and the tests
  };
  // A new src replaces one still loading, so a figure that arrives late is never drawn over a newer one.
  const show = () => { image.src = dataUrlOf(model.get("png")); };
  model.on("change:png", show);
  show();
}

export default { render };
