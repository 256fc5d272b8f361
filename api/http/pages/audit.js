// The auditor's view of a district: its history narrowed by days, kind, grid and
// rider; an award's chain as a timeline with its place in the transparency log;
// the signed exports; a print layout. Every read here is recorded as an access.
"use strict";

const A = { steps: [], next: null, grids: [], chosen: null };
const { el, t } = GG;
const d = () => encodeURIComponent(GG.state.district);
const KINDS = ["ClueReported", "ClueMarkedDuplicate", "DuplicateLinked", "ClueAccepted", "ClueRejected", "ClueClosed",
               "TaskPublished", "TaskClaimed", "ClaimReleased", "TaskCompleted", "CompletionVerified",
               "CompletionRejected", "TaskCancelled", "SubsidyAwarded", "SubsidyCapped", "SubsidyReversed",
               "AwardReinstated", "PayoutSettled", "AppealFiled", "AppealAssigned", "AppealNoted", "AppealDecided",
               "RateScheduleIssued"];
// Steps whose subject is a piece of work (a task, and the award for it): they open a chain.
const OF_A_PIECE = /^(Task|Claim|Completion|Subsidy|Award)/;

function value(id) {
  return document.getElementById(id).value.trim();
}

function filters() {
  return { from: value("f-from"), to: value("f-to"), kind: value("f-kind"), grid: value("f-grid"),
           rider: value("f-rider") };
}

async function search(more = false) {
  const page = await GG.get(`/v1/districts/${d()}/history`, { ...filters(), limit: 200,
                                                               after: more ? A.next : null });
  A.steps = more ? [...A.steps, ...page.steps] : page.steps;
  A.next = page.next;
  document.getElementById("more").hidden = !A.next;
  showHistory();
  printHead();
}

function amount(detail) {
  return typeof detail.fen === "number" ? GG.money(detail.fen) : "";
}

function showHistory() {
  GG.table("history", ["col.time", "col.event", "col.actor", "col.detail", "col.amount", "col.actions"],
    A.steps.map(step => el("tr", { dataset: { kind: step.kind, subject: step.subject_id } },
      el("td", {}, GG.time(step.at)), el("td", {}, t(`ev.${step.kind}`)),
      el("td", {}, `${t(`role.${step.actor_role}`)} · ${step.actor_id.slice(0, 12)}`),
      el("td", { class: "muted" }, step.detail.reason || step.detail.text || step.detail.kind || step.subject_id.slice(0, 8)),
      el("td", { class: "n" }, amount(step.detail)),
      el("td", { class: "no-print" }, OF_A_PIECE.test(step.kind)
        ? el("button", { type: "button", onclick: () => openChain(step.subject_id) }, t("a.chain.open")) : ""))));
}

async function openChain(piece) {
  A.chosen = piece;
  let chain;
  try {
    chain = await GG.get(`/v1/awards/${piece}/chain`);
  } catch (e) {
    return GG.say(e.message, true);
  }
  const card = document.getElementById("chain-card");
  card.hidden = false;
  document.getElementById("chain-head").textContent = `${chain.district} · ${piece}` +
    (chain.checkpoint ? ` · ${t("a.checkpoint")} ${chain.checkpoint.size}` : "");
  const item = step => el("li", { dataset: { kind: step.kind } },
    el("strong", {}, t(`ev.${step.kind}`)), " ", el("span", { class: "muted" }, GG.time(step.at)),
    el("div", {}, `${t(`role.${step.actor_role}`)} · ${step.actor_id}`, step.detail && amount(step.detail)
      ? ` · ${amount(step.detail)}` : ""),
    el("div", { class: "muted" }, `${t("a.position")} ${step.position ?? "–"} · ${t("a.leaf")} ${step.leaf_index ?? "–"}`));
  document.getElementById("chain").replaceChildren(...chain.steps.map(item), ...chain.payouts.map(item));
  card.scrollIntoView({ block: "nearest" });
}

// A file the API gives only with a token: fetched, then handed to the browser to save.
async function download(format) {
  const from = value("x-from");
  const to = value("x-to") || from;
  let response;
  try {
    response = await fetch(`/v1/districts/${d()}/audit-export?from=${from}&to=${to}&format=${format}` +
                           `&lang=${GG.state.lang}`, { headers: { Authorization: `Bearer ${GG.state.token}`,
                                                                 "Accept-Language": GG.state.lang === "zh" ? "zh-CN" : "en" } });
  } catch (e) {
    return GG.say(t("result.network"), true);
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({ title: response.statusText, detail: "" }));
    return GG.say(`${t("a.exports")}: ${body.title} ${body.detail}`, true);
  }
  const name = decodeURIComponent((/filename\*=UTF-8''([^;]+)/.exec(response.headers.get("content-disposition")) || [])[1]
                                  || `gridgov-audit.${format === "csv" ? "zip" : "xlsx"}`);
  const link = el("a", { href: URL.createObjectURL(await response.blob()), download: name });
  document.body.append(link);
  link.click();
  link.remove();
  GG.say(`${t("a.exports")}: ${name} · ${t("a.checkpoint")} ${response.headers.get("x-checkpoint-size")}`);
}

function printHead() {
  const f = filters();
  document.getElementById("print-head").textContent = `${t("page.audit")} · ${GG.state.district} · ` +
    `${f.from || "…"} – ${f.to || "…"} ${f.kind ? t(`ev.${f.kind}`) : ""} · ${t("a.printed")} ${GG.time(new Date().toISOString())}`;
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

function kindOptions() {
  const chosen = value("f-kind");
  document.getElementById("f-kind").replaceChildren(el("option", { value: "" }, t("a.allkinds")),
    ...KINDS.map(k => el("option", { value: k, selected: k === chosen }, t(`ev.${k}`))));
  const grid = value("f-grid");
  document.getElementById("f-grid").replaceChildren(el("option", { value: "" }, t("wb.allgrids")),
    ...A.grids.map(g => el("option", { value: g.grid_id, selected: g.grid_id === grid }, `${g.street} · ${g.name}`)));
}

function wire() {
  const month = GG.chinaToday().slice(0, 7);
  document.getElementById("x-from").value = month;
  document.getElementById("x-to").value = month;
  document.getElementById("filter-form").addEventListener("submit", e => {
    e.preventDefault();
    search().catch(error => GG.say(error.message, true));
  });
  document.getElementById("more").addEventListener("click", () => search(true).catch(e => GG.say(e.message, true)));
  document.getElementById("print").addEventListener("click", () => { printHead(); window.print(); });
  document.getElementById("x-xlsx").addEventListener("click", () => download("xlsx"));
  document.getElementById("x-csv").addEventListener("click", () => download("csv"));
}

GG.start({
  roles: ["auditor"],
  async start() {
    wire();
    GG.onLanguage(() => { kindOptions(); showHistory(); if (A.chosen) openChain(A.chosen); });
    try {
      A.grids = await GG.get(`/v1/districts/${d()}/grids`);
      kindOptions();
      await Promise.all([search(), loadPictures()]);
    } catch (e) {
      GG.say(e.message, true);
    }
  },
  // New steps are news, but an auditor's page does not reload under the reader's eyes:
  // only the pictures follow; the list changes when asked.
  event: (() => {
    const later = GG.debounce(() => loadPictures().catch(() => {}), 1000);
    return () => later();
  })(),
});
