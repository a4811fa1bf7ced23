/**
 * The exported model's offline page: one self-contained HTML file (tfjs, the model and the latent
 * function inlined) that makes the same image for a seed as the studio, from file:// with no
 * network. Nothing here touches the file system; export-model.ts writes the result.
 */

import { SEED_MAX } from '@shared/config'

export interface PageInput {
  title: string
  runId: string
  step: number
  resolution: number
  latentDim: number
  /** Source of a self-contained `function latentForSeed(seed, dim)`. */
  latentSource: string
  /** tf.min.js, inlined. */
  tfjsSource: string
  modelTopology: object
  weightSpecs: object[]
  weights: Uint8Array
  appVersion: string
}

/** JSON that is safe inside a <script> element (no `</script>`, no `<!--`). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')
}

/** Source text that is safe inside a <script> element. */
function scriptSource(source: string): string {
  return source.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--')
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

const STYLE = `
:root { color-scheme: light dark; --bg: #f7f7f8; --fg: #18181b; --muted: #52525b; --card: #ffffff; --line: #d4d4d8; --accent: #4f46e5; --accent-fg: #ffffff; }
@media (prefers-color-scheme: dark) { :root { --bg: #18181b; --fg: #f4f4f5; --muted: #a1a1aa; --card: #27272a; --line: #3f3f46; --accent: #818cf8; --accent-fg: #18181b; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--fg); }
main { max-width: 640px; margin: 0 auto; padding: 24px 16px 48px; }
h1 { font-size: 1.35rem; margin: 0 0 4px; }
.sub { color: var(--muted); margin: 0 0 20px; }
.buttons { display: flex; gap: 8px; }
form { display: flex; flex-wrap: wrap; gap: 12px 16px; align-items: end; background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px; }
label { display: flex; flex-direction: column; gap: 4px; font-weight: 600; font-size: 0.9rem; }
input { font: inherit; padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); width: 9.5rem; }
input[type=number]#truncation { width: 6rem; }
button { font: inherit; font-weight: 600; padding: 7px 16px; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-fg); cursor: pointer; }
button.secondary { background: transparent; color: var(--fg); border-color: var(--line); }
button:disabled { opacity: 0.55; cursor: progress; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
figure { margin: 20px 0 0; display: flex; flex-direction: column; align-items: center; gap: 10px; }
#image { width: min(512px, 90vw, 70vh); height: auto; aspect-ratio: 1; background: var(--card); border: 1px solid var(--line); border-radius: 8px; image-rendering: pixelated; }
#image.smooth { image-rendering: auto; }
#status { color: var(--muted); min-height: 1.5em; margin: 0; }
a { color: var(--accent); }
footer { margin-top: 28px; color: var(--muted); font-size: 0.85rem; }
code { font-size: 0.9em; }
`

const SCRIPT = `
var __name = function (fn) { return fn; }; // a no-op stand-in for a bundler's function-naming helper
LATENT_FOR_SEED
(function () {
  'use strict';
  var meta = JSON.parse(document.getElementById('gan-meta').textContent);
  var form = document.getElementById('controls');
  var seedInput = document.getElementById('seed');
  var psiInput = document.getElementById('truncation');
  var button = document.getElementById('generate');
  var randomButton = document.getElementById('random');
  var img = document.getElementById('image');
  var status = document.getElementById('status');
  var download = document.getElementById('download');
  var canvas = document.createElement('canvas');
  canvas.width = meta.resolution;
  canvas.height = meta.resolution;
  if (meta.resolution >= 128) img.classList.add('smooth');
  var model = null;
  var busy = false;

  function say(text) { status.textContent = text; }
  function pad(n) { var s = String(n); while (s.length < 6) s = '0' + s; return s; }

  function decodeWeights(b64) {
    var bin = atob(b64);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes.buffer;
  }

  async function load() {
    var backend = new URLSearchParams(location.search).get('backend');
    if (backend) await tf.setBackend(backend);
    await tf.ready();
    var data = JSON.parse(document.getElementById('gan-model').textContent);
    model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: data.modelTopology, weightSpecs: data.weightSpecs, weightData: decodeWeights(data.weights) }));
    document.getElementById('gan-model').textContent = '';
  }

  async function generate() {
    if (!model || busy) return;
    var seed = Number(seedInput.value);
    var psi = Number(psiInput.value);
    if (!Number.isInteger(seed) || seed < 0 || seed > ${SEED_MAX}) { say('The seed must be a whole number from 0 to ${SEED_MAX}.'); seedInput.focus(); return; }
    if (!Number.isFinite(psi) || psi < 0 || psi > 2) { say('Truncation must be between 0 and 2.'); psiInput.focus(); return; }
    busy = true;
    button.disabled = true;
    img.setAttribute('aria-busy', 'true');
    say('Generating seed ' + seed + '…');
    try {
      // One seed, one latent: the same numbers as GAN Studio. Truncation: z' = psi * z.
      var z = latentForSeed(seed, meta.latentDim);
      for (var i = 0; i < z.length; i++) z[i] = z[i] * psi;
      var input = tf.tensor2d(z, [1, meta.latentDim]);
      var output = model.predict(input);
      var values = await output.data();
      input.dispose();
      output.dispose();
      var size = meta.resolution;
      var ctx = canvas.getContext('2d');
      var pixels = ctx.createImageData(size, size);
      for (var p = 0; p < size * size; p++) {
        for (var c = 0; c < 3; c++) {
          var v = Math.round((values[p * 3 + c] + 1) * 127.5);
          pixels.data[p * 4 + c] = v < 0 ? 0 : v > 255 ? 255 : v;
        }
        pixels.data[p * 4 + 3] = 255;
      }
      ctx.putImageData(pixels, 0, 0);
      var url = canvas.toDataURL('image/png');
      await new Promise(function (resolve) { img.onload = resolve; img.onerror = resolve; img.src = url; });
      img.dataset.seed = String(seed);
      img.dataset.truncation = String(psi);
      download.href = url;
      download.download = 'seed-' + pad(seed) + '.png';
      download.hidden = false;
      say('Seed ' + seed + (psi !== 1 ? ', truncation ' + psi : '') + ' (' + tf.getBackend() + ')');
    } catch (err) {
      say('Could not generate: ' + (err && err.message ? err.message : String(err)));
    } finally {
      busy = false;
      button.disabled = false;
      img.removeAttribute('aria-busy');
    }
  }

  form.addEventListener('submit', function (event) { event.preventDefault(); generate(); });
  randomButton.addEventListener('click', function () {
    seedInput.value = String(Math.floor(Math.random() * 2147483648));
    generate();
  });

  say('Loading the model…');
  load().then(function () {
    button.disabled = false;
    randomButton.disabled = false;
    document.body.dataset.ready = 'true';
    return generate();
  }).catch(function (err) {
    say('Could not load the model: ' + (err && err.message ? err.message : String(err)));
  });
})();
`

export function modelPageHtml(p: PageInput): string {
  const meta = { runId: p.runId, step: p.step, resolution: p.resolution, latentDim: p.latentDim }
  const model = { modelTopology: p.modelTopology, weightSpecs: p.weightSpecs, weights: Buffer.from(p.weights.buffer, p.weights.byteOffset, p.weights.byteLength).toString('base64') }
  const title = escapeHtml(p.title)
  const script = SCRIPT.replace('LATENT_FOR_SEED', () => p.latentSource)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:; connect-src data: blob:">
<meta name="generator" content="GAN Studio ${escapeHtml(p.appVersion)}">
<title>${title} — generator</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${title}</h1>
<p class="sub">A GAN generator exported from GAN Studio (step ${p.step}, ${p.resolution}×${p.resolution} pixels). Works offline: everything it needs is in this file.</p>
<form id="controls" aria-label="Generator controls">
  <label for="seed">Seed<input id="seed" name="seed" type="number" min="0" max="${SEED_MAX}" step="1" value="0" inputmode="numeric" required></label>
  <label for="truncation">Truncation ψ<input id="truncation" name="truncation" type="number" min="0" max="2" step="0.05" value="1"></label>
  <div class="buttons">
    <button id="generate" type="submit" disabled>Generate</button>
    <button id="random" class="secondary" type="button" disabled>Random seed</button>
  </div>
</form>
<figure>
  <img id="image" alt="Generated image" aria-label="Generated image" width="${p.resolution}" height="${p.resolution}">
  <p id="status" role="status" aria-live="polite"></p>
  <a id="download" hidden>Download PNG</a>
</figure>
<footer>
  <p>The same seed gives the same image here, in GAN Studio and in its command line (<code>gan-studio generate</code>).
  Truncation ψ scales the latent vector (z′ = ψ·z): 1 is the image as trained, lower values are more typical and less varied, 0 gives one image for every seed.</p>
  <p>Run ${escapeHtml(p.runId)}. The model is a TensorFlow.js layers model; <code>model.json</code> and <code>weights.bin</code> beside this page hold the same weights.</p>
</footer>
</main>
<script type="application/json" id="gan-meta">${scriptJson(meta)}</script>
<script type="application/json" id="gan-model">${scriptJson(model)}</script>
<script>${scriptSource(p.tfjsSource)}</script>
<script>${scriptSource(script)}</script>
</body>
</html>
`
}
