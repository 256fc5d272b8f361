// The auditor's view of a district: its history narrowed by days, kind, grid and
// rider, each step in words with who by name; an award's chain as a timeline in log
// order with the photos it cites and their hashes, and its place in the transparency
// log; the signed exports; a print layout. Every read here is recorded as an access.
"use strict";

const A = { steps: [], next: null, grids: [], chosen: null, staff: new Map(), rates: {}, riders: new Map(),
            awarded: new Set() };
const { el, t } = GG;
const d = () => encodeURIComponent(GG.state.district);
const KINDS = ["ClueReported", "ClueMarkedDuplicate", "DuplicateLinked", "ClueAccepted", "ClueRejected", "ClueClosed",
               "TaskPublished", "TaskClaimed", "ClaimReleased", "TaskCompleted", "CompletionVerified",
               "CompletionRejected", "TaskCancelled", "SubsidyAwarded", "SubsidyCapped", "SubsidyReversed",
               "AwardReinstated", "PayoutSettled", "AppealFiled", "AppealAssigned", "AppealNoted", "AppealDecided",
               "RateScheduleIssued"];
// The steps that exist only where an award does: their subject (a task, or an appeal's remedy) has a chain.
const OF_AN_AWARD = new Set(["SubsidyAwarded", "SubsidyCapped", "SubsidyReversed", "AwardReinstated"]);
const CODE = /^[a-z0-9_-]+$/;  // a task kind typed as a code says nothing the rate's name does not

function value(id) {
  return document.getElementById(id).value.trim();
}

function filters() {
  const { from, to } = days();
  return { from, to, kind: value("f-kind"), grid: value("f-grid"), rider: value("f-rider") };
}

// The filter's days as typed (2026-12-05 or 2026年12月5日), read as China days: what is wrong with
// them, in words, or null; an empty box leaves that end open.
function days() {
  const [from, to] = ["f-from", "f-to"].map(id => GG.readDay(value(id)));
  const wrong = from === null || to === null ? t("a.badday") : from && to && to < from ? t("a.backwards") : null;
  return { from: from || "", to: to || "", wrong };
}

// The days said back in words as they are typed, so a slip shows before the search.
function showDays() {
  const { from, to, wrong } = days();
  const line = document.getElementById("f-days");
  line.textContent = wrong || (from && to ? `${GG.day(from)} – ${GG.day(to)}`
    : from ? t("a.days.from").replace("{day}", GG.day(from))
    : to ? t("a.days.to").replace("{day}", GG.day(to)) : t("a.days.all"));
  line.classList.toggle("error", Boolean(wrong));
}

// The filter pressed: a wrong day is refused beside it and nothing is asked; else the steps found.
async function applyFilter(button) {
  showDays();
  const { wrong } = days();
  if (wrong) return GG.say(wrong, true, button);
  try {
    await search();
    GG.say(t("a.found").replace("{n}", A.steps.length + (A.next ? "+" : "")), false, button);
  } catch (error) {
    GG.say(error.message, true, button);
  }
}

async function search(more = false) {
  const page = await GG.get(`/v1/districts/${d()}/history`, { ...filters(), limit: 200,
                                                               after: more ? A.next : null });
  A.steps = more ? [...A.steps, ...page.steps] : page.steps;
  A.next = page.next;
  learn(page.steps);
  document.getElementById("more").hidden = !A.next;
  showHistory();
  printHead();
}

// What the steps tell of names (riders as the API names them to an auditor) and of awards.
function learn(steps) {
  for (const step of steps) {
    if (step.actor_role === "rider" && step.actor_name) A.riders.set(step.actor_id, step.actor_name);
    if (OF_AN_AWARD.has(step.kind)) A.awarded.add(step.subject_id);
  }
  riderOptions();
}

// --- words ----------------------------------------------------------------------------------
function amount(detail) {
  if (typeof detail.fen === "number") return GG.money(detail.fen);
  if (typeof detail.withheld_fen === "number") return GG.money(detail.withheld_fen);
  return "";
}

function rateName(code) {
  const rate = A.rates[code];
  const named = rate && (GG.state.lang === "zh" ? rate.name_zh || rate.name_en : rate.name_en || rate.name_zh);
  if (named) return named;
  return GG.CATEGORIES.includes(code) ? t(`cat.${code}`) : t("wb.rate.other");
}

// An account's month (YYYY-MM) in words: 2026年11月 (English: Nov 2026).
function month(period) {
  if (!period) return "";
  const [year, m] = period.split("-").map(Number);
  return GG.state.lang === "zh" ? `${year}年${m}月`
    : `${["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][m - 1]} ${year}`;
}

function gridName(id) {
  const grid = A.grids.find(g => g.grid_id === id);
  return grid ? `${grid.street} · ${grid.name}` : t("a.w.othergrid");
}

function riderName(id) {
  return A.riders.get(id) || t("col.rider");
}

// Who acted: by name (the API's); the whole id, never cut, is kept in data-id and copied by a press
// on the name, for whoever must check it against the log.
function who(step) {
  const named = step.actor_name || A.staff.get(step.actor_id) || (step.actor_role === "rider" ? riderName(step.actor_id)
                                                                                              : t(`role.${step.actor_role}`));
  const name = el("button", { type: "button", class: "who-name", "aria-label": `${named}${GG.colon()}${t("a.copy.id")}`,
                              dataset: { id: step.actor_id }, onclick: () => copyId(name) }, named);
  return el("span", {}, name, ` (${t(`role.${step.actor_role}`)})`);
}

async function copyId(button) {
  try {
    await navigator.clipboard.writeText(button.dataset.id);
    GG.say(t("a.copied"), false, button);
  } catch (e) {
    GG.say(t("a.copy.failed"), true, button);
  }
}

function closing(reason) {
  const [first, ...why] = String(reason).split(": ");
  const words = { "task verified": t("a.closed.verified"), "task cancelled": t("a.closed.cancelled") }[first];
  return words ? [words, ...why].join(GG.colon()) : reason;
}

// A step's own facts in words: no ids, no codes, money in ¥, times in China's.
function describe(step) {
  const x = step.detail || {};
  const parts = [];
  const add = (key, shown) => {
    if (shown !== null && shown !== undefined && shown !== "") parts.push(`${t(key)}${GG.colon()}${shown}`);
  };
  if (x.category) add("col.category", t(`cat.${x.category}`));
  if (step.kind === "TaskPublished" && x.kind && !CODE.test(x.kind)) add("col.task", x.kind);
  if (step.kind === "SubsidyAwarded") add("a.w.award", t(x.kind === "remedy" ? "a.w.remedy.award" : "a.w.piece"));
  if (x.rate_code) add("a.w.rate", rateName(x.rate_code) + (typeof x.rate_fen === "number" ? ` ${GG.money(x.rate_fen)}` : ""));
  if (x.grid_id) add("col.grid", gridName(x.grid_id));
  if (x.location) add("a.w.place", `${Number(x.location.lat).toFixed(5)}, ${Number(x.location.lon).toFixed(5)}`);
  if (x.duplicate_candidates && x.duplicate_candidates.length) add("a.w.candidates", x.duplicate_candidates.length);
  if (x.limit) add("a.w.limit", t(`why.${x.limit}`));
  if (x.outcome) add("a.w.outcome", t(`st.${x.outcome}`));
  if (x.remedy && x.remedy.kind) {
    add("a.w.remedy", t(`remedy.${x.remedy.kind}`) + (x.remedy.fen ? ` ${GG.money(x.remedy.fen)}` : ""));
  }
  if (x.subject && x.subject.kind) {
    add("a.w.subject", t(`subject.${x.subject.kind}`) + (x.subject.kind === "outside" && x.subject.ref
      ? `${GG.colon()}${x.subject.ref}` : ""));
  }
  if (x.assignee_id) add("a.w.assignee", A.staff.get(x.assignee_id) || x.assignee_id);
  if (step.kind === "TaskClaimed" && x.expires_at) add("a.w.until", GG.time(x.expires_at));
  if (x.due) add("a.w.due", GG.time(x.due));
  if (step.kind === "RateScheduleIssued") {
    add("a.w.from", GG.time(x.effective_from));
    add("a.w.rates", Object.entries(x.rates || {}).map(([code, rate]) => `${rateName(code)} ${GG.money(rate.fen)}`)
      .join(GG.state.lang === "zh" ? "、" : ", "));
    if (typeof x.cap_day_fen === "number") add("a.w.capday", GG.money(x.cap_day_fen));
    if (typeof x.cap_month_fen === "number") add("a.w.capmonth", GG.money(x.cap_month_fen));
  }
  if (step.kind === "ClaimReleased" && x.reason) add("wb.reason", t(`a.release.${x.reason}`));
  else if (step.kind === "ClueClosed" && x.reason) add("wb.reason", closing(x.reason));
  else if (x.reason) add("wb.reason", x.reason);
  if (x.text) add("col.text", x.text);
  if (x.note) add("a.w.note", x.note);
  if (x.batch_id) add("a.w.batch", x.batch_id);
  if (x.evidence_hashes && x.evidence_hashes.length) add("a.w.photos", x.evidence_hashes.length);
  return parts.join(GG.state.lang === "zh" ? "；" : "; ");
}

// --- the log's witnesses ---------------------------------------------------------------------------
// The newest signed checkpoints, who outside the operator cosigned each, and whether the
// newest one has the cosignatures the log's policy asks (k of the n witnesses it names).
function ago(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 120) return t("a.wit.s").replace("{n}", seconds);
  if (seconds < 7200) return t("a.wit.min").replace("{n}", Math.floor(seconds / 60));
  return t("a.wit.h").replace("{n}", Math.floor(seconds / 3600));
}

function names(list) {
  return list.length ? list.join(GG.state.lang === "zh" ? "、" : ", ") : t("a.wit.none");
}

function showWitnesses() {
  const page = A.witnesses;
  if (!page) return;
  const [newest] = page.checkpoints;
  const { named, policy } = page.witnesses;
  document.getElementById("wit-newest").textContent = newest
    ? t("a.wit.newest").replace("{n}", newest.size.toLocaleString()).replace("{time}", GG.time(newest.made_at))
        .replace("{ago}", ago(newest.made_at))
    : t("a.wit.nocheckpoint");
  // Each of the auditor's reads is itself an event, so the newest checkpoint is often seconds
  // from its witnesses: then the newest one they have witnessed is what an auditor can rely on.
  const witnessed = page.checkpoints.find(c => c.witnessed);
  const verdict = document.getElementById("wit-verdict");
  const words = !named.length ? "a.wit.unnamed" : newest && newest.witnessed ? "a.wit.met"
    : witnessed ? "a.wit.pending" : "a.wit.unmet";
  verdict.className = ["a.wit.met", "a.wit.pending"].includes(words) ? "good" : "why";
  const shown = words === "a.wit.pending" ? witnessed : newest;
  verdict.textContent = t(words).replace("{k}", policy).replace("{n}", named.length)
    .replace("{got}", newest ? newest.cosigners.length : 0).replace("{names}", names(shown ? shown.cosigners : []))
    .replace("{m}", shown ? shown.size.toLocaleString() : "").replace("{ago}", shown ? ago(shown.made_at) : "");
  GG.table("wit-list", ["a.checkpoint", "col.time", "a.wit.cosigners", "a.wit.witnessed"],
    page.checkpoints.map(c => el("tr", { dataset: { size: c.size } },
      el("td", { class: "n" }, c.size.toLocaleString()), el("td", {}, GG.time(c.made_at)),
      el("td", {}, names(c.cosigners)), el("td", {}, t(c.witnessed ? "a.wit.yes" : "a.wit.no")))));
}

// A checkpoint is cosigned within seconds of its signing: while the newest awaits its
// witnesses, look again a few times (each look is an access, so not forever).
async function loadWitnesses(again = 3) {
  A.witnesses = await GG.get("/v1/audit/checkpoints", { limit: 10 });
  showWitnesses();
  const [newest] = A.witnesses.checkpoints;
  clearTimeout(A.witnessTimer);
  if (again > 0 && newest && !newest.witnessed && A.witnesses.witnesses.named.length) {
    A.witnessTimer = setTimeout(() => loadWitnesses(again - 1).catch(() => {}), 3000);
  }
}

// --- the history --------------------------------------------------------------------------------
function showHistory() {
  GG.table("history", ["col.time", "col.event", "col.actor", "col.detail", "col.amount", "col.actions"],
    A.steps.map(step => el("tr", { dataset: { kind: step.kind, subject: step.subject_id } },
      el("td", {}, GG.time(step.at)), el("td", {}, t(`ev.${step.kind}`)), el("td", {}, who(step)),
      el("td", { class: "muted" }, describe(step)),
      el("td", { class: "n" }, amount(step.detail)),
      el("td", { class: "no-print" }, A.awarded.has(step.subject_id)
        ? el("button", { type: "button", onclick: () => openChain(step.subject_id) }, t("a.chain.open")) : ""))));
}

// --- an award's chain ------------------------------------------------------------------------------
async function openChain(piece) {
  A.chosen = piece;
  let chain;
  try {
    chain = await GG.get(`/v1/awards/${piece}/chain`);
  } catch (e) {
    return GG.say(e.message, true);
  }
  learn(chain.steps);
  const card = document.getElementById("chain-card");
  card.hidden = false;
  const award = chain.steps.find(s => s.kind === "SubsidyAwarded" && s.subject_id === piece);
  const head = award ? [riderName(award.detail.rider_id), award.detail.rate_code ? rateName(award.detail.rate_code) : "",
                        GG.money(award.detail.fen), month(award.detail.period)] : [];
  document.getElementById("chain-head").textContent = [...head.filter(Boolean),
    ...(chain.checkpoint ? [`${t("a.checkpoint")} ${chain.checkpoint.size}`] : [])].join(" · ");
  document.getElementById("chain").replaceChildren(...chain.steps.map(item), ...chain.payouts.map(item));
  card.scrollIntoView({ block: "nearest" });
}

function item(step) {
  const words = describe(step);
  const money = amount(step.detail);
  const hashes = (step.detail && step.detail.evidence_hashes) || [];
  return el("li", { dataset: { kind: step.kind, position: step.position ?? "" } },
    el("strong", {}, t(`ev.${step.kind}`)), " ", el("span", { class: "muted" }, GG.time(step.at)),
    el("div", {}, who(step), money ? ` · ${money}` : ""),
    words ? el("div", {}, words) : null,
    hashes.length ? el("div", { class: "photos evidence-list" }, hashes.map(evidence)) : null,
    el("div", { class: "muted" }, `${t("a.position")} ${step.position ?? "–"} · ${t("a.leaf")} ${step.leaf_index ?? "–"}`));
}

// A photo the step cites, with the hash the log holds of it: the photo is proven like the step.
function evidence(sha256) {
  return el("figure", { class: "evidence" }, GG.photoImg(sha256, { thumb: true }),
            el("figcaption", {}, `SHA-256 ${sha256}`));
}

// --- exports ------------------------------------------------------------------------------------
// A file the API gives only to the auditor's session: fetched, then handed to the browser to save.
async function download(format, where) {
  const from = value("x-from");
  const to = value("x-to") || from;
  let response;
  try {
    response = await fetch(`/v1/districts/${d()}/audit-export?from=${from}&to=${to}&format=${format}` +
                           `&lang=${GG.state.lang}`, { headers: GG.headers() });
  } catch (e) {
    return GG.say(t("result.network"), true, where);
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({ title: response.statusText, detail: "" }));
    return GG.say(`${t("a.exports")}${GG.colon()}${body.title} ${body.detail}`, true, where);
  }
  const name = decodeURIComponent((/filename\*=UTF-8''([^;]+)/.exec(response.headers.get("content-disposition")) || [])[1]
                                  || `gridgov-audit.${format === "csv" ? "zip" : "xlsx"}`);
  const link = el("a", { href: URL.createObjectURL(await response.blob()), download: name });
  document.body.append(link);
  link.click();
  link.remove();
  GG.say(`${t("a.exports")}${GG.colon()}${name} · ${t("a.checkpoint")} ${response.headers.get("x-checkpoint-size")}`,
         false, where);
}

function printHead() {
  const f = filters();
  document.getElementById("print-head").textContent = `${t("page.audit")} · ${GG.state.district} · ` +
    `${f.from ? GG.day(f.from) : "…"} – ${f.to ? GG.day(f.to) : "…"} ${f.kind ? t(`ev.${f.kind}`) : ""} · ${t("a.printed")} ${GG.time(new Date().toISOString())}`;
}

async function loadPictures() {
  const [month, map, places] = await Promise.all([GG.get(`/v1/districts/${d()}/subsidy-per-day`),
                                                  GG.get(`/v1/districts/${d()}/clue-map`, { days: 30 }),
                                                  GG.get(`/v1/districts/${d()}/places`)]);
  Charts.subsidyPerDay("subsidy", month);
  if (!A.exportMonthSet) {  // the export's months start at the month the picture shows
    A.exportMonthSet = true;
    document.getElementById("x-from").value = document.getElementById("x-to").value = month.period;
  }
  Charts.clueMap("map", map.points, A.grids, places);
}

// Names the page reads once: the district's staff and its rates' words (both optional to the page).
async function loadNames() {
  const [staff, schedules] = await Promise.all([
    GG.get(`/v1/districts/${d()}/staff`).catch(() => ({ staff: [] })),
    GG.get(`/v1/districts/${d()}/rate-schedules`).catch(() => [])]);
  A.staff = new Map((staff.staff || []).map(s => [s.staff_id, s.display_name]));
  A.rates = {};
  for (const schedule of [...schedules].reverse()) Object.assign(A.rates, schedule.rates);  // newest wins
}

function riderOptions() {
  GG.options(document.getElementById("f-rider"), [["", t("a.allriders")],
    ...[...A.riders].sort((a, b) => a[1].localeCompare(b[1])).map(([id, name]) => [id, name])]);
}

function kindOptions() {
  const chosen = value("f-kind");
  document.getElementById("f-kind").replaceChildren(el("option", { value: "" }, t("a.allkinds")),
    ...KINDS.map(k => el("option", { value: k, selected: k === chosen }, t(`ev.${k}`))));
  const grid = value("f-grid");
  document.getElementById("f-grid").replaceChildren(el("option", { value: "" }, t("wb.allgrids")),
    ...A.grids.map(g => el("option", { value: g.grid_id, selected: g.grid_id === grid }, `${g.street} · ${g.name}`)));
  document.getElementById("f-rider").dataset.options = "";  // its "all riders" in the new language
  riderOptions();
}

function wire() {
  const month = GG.chinaToday().slice(0, 7);
  document.getElementById("x-from").value = month;
  document.getElementById("x-to").value = month;
  const form = document.getElementById("filter-form");
  form.addEventListener("submit", e => {
    e.preventDefault();
    applyFilter(form.querySelector("button.primary"));
  });
  for (const id of ["f-from", "f-to"]) {
    for (const type of ["input", "change"]) document.getElementById(id).addEventListener(type, showDays);
  }
  showDays();
  document.getElementById("more").addEventListener("click", () => search(true).catch(e => GG.say(e.message, true)));
  document.getElementById("print").addEventListener("click", () => { printHead(); window.print(); });
  for (const [id, format] of [["x-xlsx", "xlsx"], ["x-csv", "csv"]]) {
    const target = document.getElementById(id);
    target.addEventListener("click", () => download(format, target));
  }
}

GG.start({
  roles: ["auditor"],
  async start() {
    wire();
    riderOptions();
    GG.onLanguage(() => { kindOptions(); showHistory(); showDays(); showWitnesses(); if (A.chosen) openChain(A.chosen); });
    try {
      [A.grids] = await Promise.all([GG.get(`/v1/districts/${d()}/grids`), loadNames()]);
      kindOptions();
      await Promise.all([search(), loadPictures(), loadWitnesses()]);
    } catch (e) {
      GG.say(e.message, true);
    }
  },
  // New steps are news, but an auditor's page does not reload under the reader's eyes:
  // only the pictures follow; the list changes when asked.
  event: (() => {
    const later = GG.debounce(() => Promise.all([loadPictures(), loadWitnesses()]).catch(() => {}), 1000);
    return () => later();
  })(),
});
