// The labelling page: one sentence at a time, the model's guesses pre-filled, keys to correct them.
// Nothing here is HTML from the data: every text goes into the page as text (textContent), never as markup.
"use strict";
const params = new URLSearchParams(location.search);
const token = params.get("token");
const client = sessionStorage.getItem("ada-client") || Math.random().toString(36).slice(2, 10);
sessionStorage.setItem("ada-client", client);
const headers = {"Content-Type": "application/json", ...(token ? {"Authorization": "Bearer " + token} : {})};
const LABELS = {"1": "positive", "p": "positive", "2": "negative", "n": "negative", "3": "neutral", "u": "neutral"};
let item = null, aspects = [], chosen = -1, shownAt = 0, history = [], revising = false;

const $ = (id) => document.getElementById(id);

function showError(text) { const e = $("error"); e.textContent = text; e.hidden = !text; }

function render() {
  const box = $("sentence"), list = $("aspects");
  box.textContent = ""; list.textContent = "";
  if (!item) return;
  const text = item.text, spans = aspects.map((a, i) => ({...a, i})).sort((a, b) => a.from - b.from);
  let at = 0;
  for (const a of spans) {
    if (a.from < at) continue;  // overlapping spans are refused on save; show the first
    box.append(document.createTextNode(text.slice(at, a.from)));
    const mark = document.createElement("mark");
    mark.className = a.polarity + (a.i === chosen ? " chosen" : "");
    mark.textContent = text.slice(a.from, a.to);
    mark.dataset.index = a.i;
    box.append(mark);
    at = a.to;
  }
  box.append(document.createTextNode(text.slice(at)));
  aspects.forEach((a, i) => {
    const li = document.createElement("li");
    li.textContent = `${a.term} — ${a.polarity}` + (a.score !== undefined ? ` (model ${a.score.toFixed(2)})` : "");
    li.className = a.polarity + (i === chosen ? " chosen" : "");
    list.append(li);
  });
  if (!aspects.length) {
    const li = document.createElement("li");
    li.textContent = "no aspect (Enter saves that; select words to add one)";
    list.append(li);
  }
}

function showProgress(p) {
  const mean = p.mean_seconds === null ? "" : `, ${p.mean_seconds} s a sentence`;
  $("progress").textContent = `${p.answered} of ${p.total} answered${mean}` + (revising ? " — revising" : "");
  document.body.dataset.answered = p.answered;
}

function take(next) {
  item = next; revising = false;
  aspects = next.predictions.map((g) => ({term: g.term, from: g.from, to: g.to, polarity: g.label, score: g.score}));
  chosen = aspects.length ? 0 : -1; shownAt = performance.now();
  document.body.dataset.item = next.id;
  showProgress(next.progress); render();
}

async function loadNext() {
  const answer = await fetch(`/api/next?client=${client}`, {headers});
  const body = await answer.json();
  if (!answer.ok) { showError(body.error || "cannot load the next sentence"); return; }
  if (body.done) {
    item = null; render(); showProgress(body.progress); $("done").hidden = false;
    document.body.dataset.item = "done";
  } else { $("done").hidden = true; take(body); }
  document.body.dataset.ready = "1";
}

async function save(kind) {
  if (!item) return;
  const shown = aspects.map((a) => ({...a}));  // what undo brings back (a skipped sentence: its guesses)
  const payload = {client, id: item.id, answer: kind, revises: revising,
                   seconds: (performance.now() - shownAt) / 1000,
                   aspects: kind === "labelled" ? aspects.map(({term, from, to, polarity}) => ({term, from, to, polarity})) : []};
  const answer = await fetch("/api/answer", {method: "POST", headers, body: JSON.stringify(payload)});
  const body = await answer.json();
  if (!answer.ok) { showError(body.error || `not saved (${answer.status})`); return; }
  showError("");
  history.push({item, aspects: shown});
  await loadNext();
}

function undo() {
  const last = history.pop();
  if (!last) return;
  item = last.item; revising = true; shownAt = performance.now();
  aspects = last.aspects.map((a) => ({...a})); chosen = aspects.length ? 0 : -1;
  document.body.dataset.item = item.id;
  $("progress").textContent += " — revising"; render();
}

function addSelection() {
  const selection = window.getSelection(), box = $("sentence");
  if (!item || !selection.rangeCount || selection.isCollapsed) return;
  const range = selection.getRangeAt(0);
  if (!box.contains(range.startContainer) || !box.contains(range.endContainer)) return;
  const before = document.createRange();
  before.setStart(box, 0); before.setEnd(range.startContainer, range.startOffset);
  let from = before.toString().length, to = from + range.toString().length;
  const text = item.text;
  while (from < to && /\s/.test(text[from])) from++;
  while (to > from && /[\s.,!?;:]/.test(text[to - 1])) to--;
  selection.removeAllRanges();
  if (to <= from) return;
  const overlapping = aspects.findIndex((a) => a.from < to && from < a.to);
  if (overlapping >= 0) aspects.splice(overlapping, 1);
  aspects.push({term: text.slice(from, to), from, to, polarity: "neutral"});
  chosen = aspects.length - 1; render();
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const key = event.key;
  if (key === "Enter") { event.preventDefault(); save(aspects.length ? "labelled" : "none"); }
  else if (key in LABELS && chosen >= 0) { aspects[chosen].polarity = LABELS[key]; render(); }
  else if (key === "Tab" || key === "ArrowDown") {
    event.preventDefault(); if (aspects.length) chosen = (chosen + 1) % aspects.length; render();
  } else if (key === "ArrowUp") { if (aspects.length) chosen = (chosen - 1 + aspects.length) % aspects.length; render(); }
  else if ((key === "Delete" || key === "d") && chosen >= 0) {
    aspects.splice(chosen, 1); chosen = Math.min(chosen, aspects.length - 1); render();
  } else if (key === "0" || key === "x") { aspects = []; chosen = -1; save("none"); }
  else if (key === "s") save("skip");
  else if (key === "z") undo();
});
$("sentence").addEventListener("mouseup", addSelection);
$("sentence").addEventListener("click", (event) => {
  const index = event.target.dataset && event.target.dataset.index;
  if (index !== undefined && window.getSelection().isCollapsed) { chosen = Number(index); render(); }
});
loadNext().catch((error) => showError(String(error)));
