// The page of `ada-atsc serve`: no build step, no CDN. With an extractor loaded it calls /v1/absa (every
// aspect of the review); without one it calls /v1/atsc for the aspect typed in the box.
"use strict";
const $ = (id) => document.getElementById(id);
let hasExtractor = false;

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}

function describe(aspect) {
  const probs = Object.entries(aspect.probabilities).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ");
  return `${aspect.label} (${probs})`;
}

function render(text, aspects) {
  const sorted = aspects.filter((a) => !a.error).sort((a, b) => a.from - b.from);
  let html = "", at = 0;
  for (const a of sorted) {
    if (a.from < at) continue;  // overlapping spans: keep the first
    html += escapeHtml(text.slice(at, a.from));
    html += `<mark class="${a.label}" tabindex="0" title="${escapeHtml(describe(a))}" data-label="${a.label}">` +
            `${escapeHtml(text.slice(a.from, a.to))}</mark>`;
    at = a.to;
  }
  $("result").innerHTML = html + escapeHtml(text.slice(at));
  $("aspects").innerHTML = sorted.map((a) =>
    `<li><span class="${a.label}">${escapeHtml(text.slice(a.from, a.to))}</span>: ${escapeHtml(describe(a))}</li>`
  ).join("") || "<li>No aspect found.</li>";
}

async function analyse(event) {
  if (event) event.preventDefault();
  const text = $("review").value;
  $("error").hidden = true;
  let response;
  if (hasExtractor) {
    response = await fetch("/v1/absa", {method: "POST", headers: {"content-type": "application/json"},
                                         body: JSON.stringify({texts: [text]})});
  } else {
    response = await fetch("/v1/atsc", {method: "POST", headers: {"content-type": "application/json"},
                                         body: JSON.stringify({items: [{text: text, aspect: $("aspect").value}]})});
  }
  const body = await response.json();
  if (!response.ok) {
    $("error").textContent = `${body.error}${body.field ? " (" + body.field + ")" : ""}`;
    $("error").hidden = false;
    return;
  }
  const result = body.results[0];
  if (result.error) {
    $("error").textContent = result.error;
    $("error").hidden = false;
    return;
  }
  render(text, hasExtractor ? result.aspects : [result]);
}

async function start() {
  const info = await (await fetch("/v1/model")).json();
  hasExtractor = Boolean(info.extractor);
  $("aspect-row").hidden = hasExtractor;
  $("mode").textContent = hasExtractor
    ? "Every aspect of the review is found and judged (extractor + classifier)."
    : "No extractor loaded: type the aspect to judge.";
  $("form").addEventListener("submit", analyse);
  $("review").addEventListener("keydown", (e) => { if (e.key === "Enter" && e.ctrlKey) analyse(e); });
  document.body.dataset.ready = "true";
}
start();
