// The page map webview's document: a strict Content-Security-Policy (nothing
// remote, no inline script or style without the nonce), one inline script and
// one inline style sheet. The extension posts the SVG in a message; the script
// draws it and posts back what was clicked. Free of `vscode` imports so that
// tests can load it in a plain browser.
//
// Messages, extension → webview:
//   { type: 'map', svg, uri, version, note }   draw this map
//   { type: 'message', text }                  show a line of text instead
// webview → extension:
//   { type: 'ready' }                          the script runs (again, after the panel was hidden)
//   { type: 'rendered', uri, version, items }  the map of that version is on screen
//   { type: 'reveal', start, end, id }         an item was clicked: select that statement

import { randomBytes } from 'crypto';

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[+/=]/g, '');
}

/** The Content-Security-Policy of the page map webview. */
export function pageMapCsp(nonce: string): string {
  return `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; base-uri 'none'; form-action 'none'`;
}

const STYLE = `
  body { margin: 0; padding: 8px 12px; font-family: var(--vscode-font-family, sans-serif); font-size: var(--vscode-font-size, 13px);
         color: var(--vscode-foreground, #333); background: var(--vscode-editor-background, #fff); }
  #note { margin: 0 0 8px; opacity: 0.8; }
  #map svg { display: block; width: 100%; min-width: 600px; max-width: 900px; height: auto; }
  #map .item { cursor: pointer; }
  #map .item:hover, #map .item:focus { opacity: 0.75; outline: none; }
  #map .item.selected { stroke: #000; stroke-width: 3px; stroke-dasharray: 4 2; }
`;

/** The script: draws posted maps with DOMParser (never innerHTML) and reports clicks. */
const SCRIPT = `
(function () {
  const vscode = acquireVsCodeApi();
  const map = document.getElementById('map');
  const note = document.getElementById('note');
  let selectedId = null;
  function message(text) {
    map.replaceChildren();
    note.textContent = text;
  }
  function draw(m) {
    const parsed = new DOMParser().parseFromString(String(m.svg), 'image/svg+xml');
    const root = parsed.documentElement;
    if (!root || root.localName !== 'svg' || parsed.getElementsByTagName('parsererror').length > 0) {
      message('The page map could not be drawn.');
      return;
    }
    const svg = document.importNode(root, true);
    svg.setAttribute('role', 'img');
    const items = svg.querySelectorAll('.item');
    for (const it of items) {
      it.setAttribute('tabindex', '0');
      it.setAttribute('role', 'button');
      const t = it.querySelector('title');
      if (t) it.setAttribute('aria-label', t.textContent || '');
      if (selectedId !== null && it.getAttribute('data-id') === selectedId) it.classList.add('selected');
    }
    map.replaceChildren(svg);
    note.textContent = String(m.note || '');
    vscode.postMessage({ type: 'rendered', uri: m.uri, version: m.version, items: items.length });
  }
  function reveal(el) {
    const start = Number(el.getAttribute('data-start'));
    const end = Number(el.getAttribute('data-end'));
    if (!Number.isFinite(start) || !Number.isFinite(end)) return;
    selectedId = el.getAttribute('data-id');
    for (const s of map.querySelectorAll('.item.selected')) s.classList.remove('selected');
    el.classList.add('selected');
    vscode.postMessage({ type: 'reveal', start: start, end: end, id: selectedId });
  }
  map.addEventListener('click', function (e) {
    const el = e.target instanceof Element ? e.target.closest('.item') : null;
    if (el) reveal(el);
  });
  map.addEventListener('keydown', function (e) {
    const el = e.target instanceof Element ? e.target.closest('.item') : null;
    if (el && (e.key === 'Enter' || e.key === ' ')) {
      e.preventDefault();
      reveal(el);
    }
  });
  window.addEventListener('message', function (e) {
    const m = e.data;
    if (!m || typeof m !== 'object') return;
    if (m.type === 'map') draw(m);
    else if (m.type === 'message') message(String(m.text || ''));
  });
  vscode.postMessage({ type: 'ready' });
})();
`;

export function pageMapHtml(nonce: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${pageMapCsp(nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>bartopo page map</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<p id="note">Drawing the page map…</p>
<div id="map"></div>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>
`;
}
