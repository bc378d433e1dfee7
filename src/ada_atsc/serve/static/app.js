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
  // a triplet tagger's opinion words are underlined beside the aspects they explain
  const spans = sorted.map((a) => ({from: a.from, to: a.to, aspect: a}));
  for (const a of sorted) for (const o of a.opinions || []) spans.push({from: o.from, to: o.to, opinion: a.label});
  spans.sort((a, b) => a.from - b.from);
  let html = "", at = 0;
  for (const s of spans) {
    if (s.from < at) continue;  // overlapping spans: keep the first
    html += escapeHtml(text.slice(at, s.from));
    html += s.aspect
      ? `<mark class="${s.aspect.label}" tabindex="0" title="${escapeHtml(describe(s.aspect))}" ` +
        `data-label="${s.aspect.label}">${escapeHtml(text.slice(s.from, s.to))}</mark>`
      : `<span class="opinion" data-opinion="${s.opinion}">${escapeHtml(text.slice(s.from, s.to))}</span>`;
    at = s.to;
  }
  $("result").innerHTML = html + escapeHtml(text.slice(at));
  $("aspects").innerHTML = sorted.map((a) => {
    const why = (a.opinions || []).map((o) => escapeHtml(text.slice(o.from, o.to))).join(", ");
    return `<li><span class="${a.label}">${escapeHtml(text.slice(a.from, a.to))}</span>: ${escapeHtml(describe(a))}` +
           (why ? ` <span class="why">because: ${why}</span>` : "") + "</li>";
  }).join("") || "<li>No aspect found.</li>";
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

// ---- many reviews: POST /v1/report, then poll GET /v1/report/{id} and redraw the summary as it grows
let limits = {};

function reviewsFromText(text, isJsonl) {
  const lines = text.split(/\r?\n/).filter((line) => line.trim());
  if (!isJsonl) return lines;
  return lines.map((line, i) => {
    let record;
    try { record = JSON.parse(line); } catch (e) { throw new Error(`line ${i + 1}: not valid JSON`); }
    if (!record || typeof record.text !== "string") throw new Error(`line ${i + 1}: no 'text' string`);
    return record.text;
  });
}

function pct(share) { return share ? `${share.value.toFixed(0)}%` : ""; }

function bar(part) {
  return `<div class="bar" role="img" aria-label="${escapeHtml(
    `${pct(part.shares.positive)} positive, ${pct(part.shares.negative)} negative, ${pct(part.shares.neutral)} neutral`)}">` +
    ["positive", "neutral", "negative"].map((label) =>
      `<span class="bar-${label}" style="width:${part.shares[label].value}%"></span>`).join("") + "</div>";
}

function partRows(parts, withVariants) {
  return parts.slice(0, 25).map((part) => {
    const variants = withVariants && part.variants
      ? `<div class="variants">${escapeHtml(part.variants.map((v) => Array.isArray(v) ? v[0] : v.term).join(", "))}</div>` : "";
    const warn = part.too_few ? '<div class="warn">too few mentions to read</div>' : "";
    const signs = {positive: "+", negative: "−", neutral: "·", conflict: "±"};
    const why = part.opinions && part.opinions.length
      ? `<div class="why">why: ${part.opinions.slice(0, 6).map((o) =>
          `<span class="${o.label}">${escapeHtml(o.term)}</span> ${o.count} ${signs[o.label] || ""}`).join(", ")}</div>` : "";
    return `<tr><td>${escapeHtml(part.name)}${variants}${why}${warn}</td><td>${part.count}</td><td>${bar(part)}</td>` +
           `<td>${part.net === null ? "" : (part.net > 0 ? "+" : "") + part.net}</td></tr>`;
  }).join("");
}

function renderSummary(summary) {
  if (!summary) return;
  const t = summary.totals, o = summary.overall;
  let html = `<p>${t.mentions} aspect mentions in ${t.reviews_analysed} reviews; overall ` +
    `${pct(o.shares.positive)} positive, ${pct(o.shares.negative)} negative, net ${o.net === null ? "–" : o.net}.</p>`;
  const head = "<tr><th>Aspect group</th><th>Mentions</th><th>positive · neutral · negative</th><th>Net</th></tr>";
  html += `<table class="groups" id="report-groups">${head}${partRows(summary.groups, true)}</table>`;
  if (summary.categories && summary.categories.length) {
    html += `<h3>Categories</h3><table class="groups" id="report-categories">${head.replace("Aspect group", "Category")}` +
            `${partRows(summary.categories, false)}</table>`;
  }
  $("report-summary").innerHTML = html;
}

async function poll(id) {
  const response = await fetch(`/v1/report/${id}`);
  const state = await response.json();
  if (!response.ok) { showReportError(state.error); return; }
  renderSummary(state.summary);
  $("report-progress").textContent = state.done
    ? `Done: ${state.processed} of ${state.total} reviews${state.errors ? `, ${state.errors} could not be analysed` : ""}.`
    : `Analysed ${state.processed} of ${state.total} reviews…`;
  if (state.error) showReportError(state.error);
  if (state.done) { document.body.dataset.reportDone = "true"; return; }
  setTimeout(() => poll(id), 600);
}

function showReportError(message) {
  $("report-error").textContent = message;
  $("report-error").hidden = false;
}

async function summarise(event) {
  event.preventDefault();
  $("report-error").hidden = true;
  delete document.body.dataset.reportDone;
  let reviews;
  try {
    const file = $("file").files[0];
    if (file) {
      if (file.size > limits.max_body_bytes) {
        throw new Error(`${file.name}: ${file.size} bytes, more than this server takes (${limits.max_body_bytes})`);
      }
      reviews = reviewsFromText(await file.text(), /\.(jsonl|ndjson)$/i.test(file.name));
    } else {
      reviews = reviewsFromText($("reviews").value, false);
    }
    if (!reviews.length) throw new Error("no reviews: paste some, one per line, or choose a file");
    if (reviews.length > limits.max_report_texts) {
      throw new Error(`${reviews.length} reviews; this server takes at most ${limits.max_report_texts} at once`);
    }
  } catch (error) {
    showReportError(error.message);
    return;
  }
  const response = await fetch("/v1/report", {method: "POST", headers: {"content-type": "application/json"},
                                              body: JSON.stringify({texts: reviews})});
  const body = await response.json();
  if (!response.ok) {
    showReportError(`${body.error}${body.field ? " (" + body.field + ")" : ""}`);
    return;
  }
  $("report-progress").textContent = `Analysing ${body.total} reviews…`;
  poll(body.id);
}

async function start() {
  const info = await (await fetch("/v1/model")).json();
  hasExtractor = Boolean(info.extractor);
  limits = info.limits;
  $("many").hidden = !hasExtractor;
  $("report-form").addEventListener("submit", summarise);
  $("aspect-row").hidden = hasExtractor;
  $("mode").textContent = hasExtractor
    ? "Every aspect of the review is found and judged (extractor + classifier)."
    : "No extractor loaded: type the aspect to judge.";
  $("form").addEventListener("submit", analyse);
  $("review").addEventListener("keydown", (e) => { if (e.key === "Enter" && e.ctrlKey) analyse(e); });
  document.body.dataset.ready = "true";
}
start();
