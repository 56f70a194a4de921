"use strict";
const DATA = JSON.parse(document.getElementById("viewer-data").textContent);
const text = document.getElementById("text"), detail = document.getElementById("detail");
let current = null;

function el(tag, cls, ...parts) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  node.append(...parts.flat().filter(p => p !== null && p !== undefined));
  return node;
}
const none = () => el("span", "none", "—");
const val = v => v === null || v === undefined || v === "" ? none() : String(v);
const short = id => id.slice(id.lastIndexOf("-") + 1);
const interval = (a, b) => a === null ? none() : a === b ? a : a + " – " + b;
const names = list => list.length ? list.join("; ") : none();
function code(field, v) {
  if (v === null) return none();
  const node = el("code", null, String(v));
  const definition = (DATA.codes[field] || {})[v];
  if (definition) node.title = definition;
  return node;
}
function jump(id) {  // a button that selects a row of this page
  if (!DATA.rows[id]) return el("span", null, id);
  const b = el("button", "jump", short(id));
  b.type = "button";
  b.dataset.jump = id;
  return b;
}
function linkTo(link) {  // a linked event, on this page or another
  if (DATA.rows[link.id]) return jump(link.id);
  const a = el("a", null, link.id);
  a.href = link.source_id + ".html#" + link.id;
  return a;
}

function eventFields(r, ref) {
  const links = ref.links.map(l => el("li", null,
    l.direction === "out" ? code("link_type", l.type) : ["← ", code("link_type", l.type), " from"],
    " ", linkTo(l), el("span", "muted", " " + l.summary), l.note && el("div", "note", l.note)));
  return [
    ["Type / mode", "event_type", [code("event_type", r.event_type), " / ", code("event_mode", r.event_mode)]],
    ["Status", "status", code("status", r.status)],
    ["Claimed by", "claimed_by", ref.claimed_by || el("span", "none", "— (the article's own voice)")],
    ["Actors", null, names(ref.actor)],
    ["Recipients", null, names(ref.recipient)],
    ["Date of the act", "date_start", el("span", "date", interval(r.date_start, r.date_end))],
    ["Precision", "date_precision",
      [code("date_precision", r.date_precision), " · basis ", code("date_basis", r.date_basis)]],
    ["Time expr.", "time_expression", r.time_expression ? "“" + r.time_expression + "”" : none()],
    ["Report date", "report_date_start", r.report_date_start === null ? none()
      : [el("span", "date", interval(r.report_date_start, r.report_date_end)), " · ",
         code("date_precision", r.report_date_precision), " · basis ", code("date_basis", r.report_date_basis),
         r.report_time_expression ? " · “" + r.report_time_expression + "”" : ""]],
    ["External date", "external_date_start", r.external_date_start === null ? none()
      : [interval(r.external_date_start, r.external_date_end), el("div", "muted", r.external_date_source)]],
    ["Date conflict", "date_conflict",
      r.date_conflict ? el("span", "flag", "yes — text and outside evidence disagree") : "no"],
    ["Date note", "date_note", val(r.date_note)],
    ["Place", "place_id", r.place_id === null ? none()
      : [ref.place || r.place_id, " · ", code("location_precision", r.location_precision)]],
    ["Sharp method", "sharp_method", r.sharp_method === null ? none() : r.sharp_method + " — " + ref.sharp_method],
    ["ACLED", "acled_event_type", r.acled_event_type === null ? none()
      : [r.acled_event_type, " / ", val(r.acled_sub_event_type)]],
    ["Violent", "violent", r.violent ? el("span", "flag", "yes") : "no"],
    ["Killed / injured", "killed", [val(r.killed), " / ", val(r.injured)]],
    ["Linked events", null, links.length ? el("ul", null, links) : none()],
    ["Quotes", null, ref.quotes.length ? ref.quotes.flatMap((q, i) => [i ? ", " : "", jump(q)]) : none()],
    ["Evidence", "evidence", el("div", "verbatim", r.evidence)],
    ["Notes", "notes", val(r.notes)],
  ];
}
function quoteFields(r, ref) {
  return [
    ["Kind", "kind", code("kind", r.kind)],
    ["Speaker", "speaker_id", ref.speaker || none()],
    ["Reporting verb", "reporting_verb", val(r.reporting_verb)],
    ["Channel", "channel", code("channel", r.channel)],
    ["Event", "event_id", r.event_id === null ? none()
      : [jump(r.event_id), el("span", "muted", " " + ref.event_summary)]],
    ["Text", "text", el("div", "verbatim q", r.text)],
    ["Notes", "notes", val(r.notes)],
  ];
}

function show(id, here) {
  const item = DATA.rows[id], r = item.row, isEvent = item.table === "events";
  const dl = el("dl");
  for (const [label, column, value] of (isEvent ? eventFields : quoteFields)(r, item.ref)) {
    const dt = el("dt", null, label);
    if (column && DATA.labels[column]) dt.title = DATA.labels[column];
    dl.append(dt, el("dd", null, value));
  }
  const parts = [el("h2", null, (isEvent ? "Event " : "Quote ") + id)];
  if (isEvent) parts.push(el("p", "summary", r.summary));
  if (here && here.length > 1) {
    const buttons = here.map(h => jump(h));
    buttons[here.indexOf(id)].classList.add("current");
    parts.push(el("p", "here", "Spans here (click the text again to cycle): ",
      buttons.flatMap((b, i) => [i ? " · " : "", b])));
  }
  detail.replaceChildren(...parts, dl);
  detail.dataset.id = id;
  delete detail.dataset.pick;
  detail.scrollTop = 0;
}

function select(id, scroll, here) {
  if (!DATA.rows[id]) return;
  current = id;
  document.querySelectorAll("#text mark.sel, .item.active").forEach(n => n.classList.remove("sel", "active"));
  const marks = text.querySelectorAll('mark[data-ids~="' + id + '"]');
  marks.forEach(m => m.classList.add("sel"));
  const entry = document.querySelector('.item[data-id="' + id + '"]');
  if (entry) { entry.classList.add("active"); entry.scrollIntoView({block: "nearest"}); }
  if (scroll && marks.length) marks[0].scrollIntoView({block: "center"});
  show(id, here);
  try { history.replaceState(null, "", "#" + id); } catch (e) { /* some file:// setups refuse */ }
}

// Span picking: select words in the text and the panel offers them as ready YAML.
function picked() {  // the selected words in the text: [words, start] in UTF-16 units, trimmed
  const sel = window.getSelection();
  if (!sel.rangeCount || sel.isCollapsed) return null;
  const range = sel.getRangeAt(0);
  if (!text.contains(range.startContainer) || !text.contains(range.endContainer)) return null;
  const before = document.createRange();
  before.setStart(text, 0);
  before.setEnd(range.startContainer, range.startOffset);
  const all = text.textContent, raw = range.toString();
  const start = before.toString().length + (raw.length - raw.trimStart().length), words = raw.trim();
  return words ? [words, start, all] : null;
}
function occurrences(all, words, start) {  // how often the words occur (overlapping, as the build counts), which one
  let n = 0, nth = 0;
  for (let i = all.indexOf(words); i >= 0; i = all.indexOf(words, i + 1)) {
    n += 1;
    if (i === start) nth = n;
  }
  return [n, nth];
}
const yamlText = v => JSON.stringify(v);  // a double-quoted YAML scalar: every character as in the text
function copyButton(source) {
  const b = el("button", "copy", "Copy");
  b.type = "button";
  b.addEventListener("click", () => {
    const done = ok => { b.textContent = ok ? "Copied" : "Select and press Ctrl+C"; };
    const fallback = () => {
      const range = document.createRange();
      range.selectNodeContents(source);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      let ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      done(ok);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.textContent).then(() => done(true), fallback);
    } else fallback();
  });
  return b;
}
function offerPick() {
  const p = picked();
  if (!p) return;
  const [words, start, all] = p, [n, nth] = occurrences(all, words, start);
  const extra = n > 1 ? "\noccurrence: " + nth : "";
  const blocks = [["As an event's evidence", "evidence: " + yamlText(words) + extra],
                  ["As a quote's text (without the quotation marks)", "text: " + yamlText(words) + extra]];
  const parts = [el("h2", null, "Selected words"),
    el("p", "here", n > 1 ? "They occur " + n + " times; this is occurrence " + nth +
      " (selecting a few more words that occur once is sturdier)." : "They occur once.")];
  for (const [label, yaml] of blocks) {
    const pre = el("pre", "yaml", yaml);
    parts.push(el("div", "pick", el("div", "pick-head", el("span", null, label), copyButton(pre)), pre));
  }
  detail.replaceChildren(...parts);
  detail.dataset.id = "";
  detail.dataset.pick = words;
}
text.addEventListener("mouseup", () => setTimeout(offerPick, 0));
text.addEventListener("keyup", e => { if (e.shiftKey) offerPick(); });

text.addEventListener("click", e => {
  const mark = e.target.closest("mark");
  if (!mark || !window.getSelection().isCollapsed) return;
  const ids = mark.dataset.ids.split(" ");
  const next = ids.includes(current) ? ids[(ids.indexOf(current) + 1) % ids.length] : ids[0];
  select(next, false, ids);
});
document.getElementById("list").addEventListener("click", e => {
  const entry = e.target.closest(".item");
  if (entry) select(entry.dataset.id, true);
});
detail.addEventListener("click", e => {
  const b = e.target.closest("[data-jump]");
  if (b) select(b.dataset.jump, true);
});
window.addEventListener("hashchange", () => select(decodeURIComponent(location.hash.slice(1)), true));
if (location.hash) select(decodeURIComponent(location.hash.slice(1)), true);
