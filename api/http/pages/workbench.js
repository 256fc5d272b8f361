// The grid officer's and district admin's workbench: triage clues into tasks,
// verify work on the board, decide appeals, see rates, budgets and the pictures.
// Every action is a command with an idempotency key; the page says how it went.
"use strict";

const W = { grids: [], rates: {}, clues: [], chosenClue: null, appeals: [], chosenAppeal: null, budgets: [],
            events: [], admin: false };
const { el, t } = GG;
const d = () => encodeURIComponent(GG.state.district);

function gridName(id) {
  return (W.grids.find(g => g.grid_id === id) || {}).name || id.slice(0, 8);
}

function shownGrids() {
  const chosen = document.getElementById("grid-filter").value;
  return W.grids.filter(g => !g.retired && (!chosen || g.grid_id === chosen));
}

function button(key, onclick, kind = "") {
  return el("button", { type: "button", class: kind, onclick }, t(key));
}

// --- reads ------------------------------------------------------------------------------
async function loadGrids() {
  W.grids = await GG.get(`/v1/districts/${d()}/grids`);
  const filter = document.getElementById("grid-filter");
  const chosen = filter.value;
  filter.replaceChildren(el("option", { value: "" }, t("wb.allgrids")),
                         ...W.grids.map(g => el("option", { value: g.grid_id, selected: g.grid_id === chosen },
                                                 `${g.street} · ${g.name}`)));
  document.getElementById("publish-grid").replaceChildren(
    ...W.grids.filter(g => !g.retired).map(g => el("option", { value: g.grid_id }, `${g.street} · ${g.name}`)));
}

async function loadRates() {
  const schedules = await GG.get(`/v1/districts/${d()}/rate-schedules`);
  const latest = schedules[0];
  W.rates = latest ? latest.rates : {};
  const options = () => Object.keys(W.rates).map(code => el("option", { value: code }, code));
  document.getElementById("accept-rate").replaceChildren(...options());
  document.getElementById("publish-rate").replaceChildren(...options());
  document.getElementById("schedule-line").textContent = latest
    ? `${t("wb.schedule")} ${t("wb.version")} ${latest.version} · ${t("wb.effective")} ${GG.time(latest.effective_from)}` +
      ` · ${t("wb.capday")} ${GG.money(latest.cap_day_fen)} · ${t("wb.capmonth")} ${GG.money(latest.cap_month_fen)}`
    : t("empty");
  if (W.admin && !document.querySelector("#schedule-rates tr[data-rate]")) scheduleForm(latest);
  GG.table("rate-table", ["wb.rate", "col.amount", "col.points"], Object.entries(W.rates).map(([code, rate]) =>
    el("tr", {}, el("td", {}, code), el("td", { class: "n" }, GG.money(rate.fen)), el("td", { class: "n" }, rate.points ?? 0))));
}

// --- a new rate schedule (admins) -----------------------------------------------------
function yuan(fen) {
  return `${Math.trunc(fen / 100)}.${String(fen % 100).padStart(2, "0")}`;
}

function rateRow(code = "", fen = null, points = 0) {
  const input = (key, value, extra = {}) => el("input", { "aria-label": t(key), value, ...extra });
  const row = el("tr", { dataset: { rate: "" } },
    el("td", {}, input("wb.rate", code, { maxlength: 200, required: true, size: 14 })),
    el("td", {}, input("wb.amount", fen === null ? "" : yuan(fen), { inputmode: "decimal", required: true, size: 8 })),
    el("td", {}, input("col.points", points, { inputmode: "numeric", required: true, size: 5 })),
    el("td", {}, button("wb.remove", () => row.remove())));
  return row;
}

function scheduleForm(latest) {
  GG.table("schedule-rates", ["wb.rate", "wb.amount", "col.points", "col.actions"],
           Object.entries(latest ? latest.rates : {}).map(([code, r]) => rateRow(code, r.fen, r.points ?? 0)));
  document.getElementById("cap-day").value = latest ? yuan(latest.cap_day_fen) : "";
  document.getElementById("cap-month").value = latest ? yuan(latest.cap_month_fen) : "";
}

// The schedule as the form holds it, or null (having said why) if an amount is not yuan.
function scheduleOf() {
  const rates = {};
  for (const row of document.querySelectorAll("#schedule-rates tr[data-rate]")) {
    const [code, amount, points] = [...row.querySelectorAll("input")].map(i => i.value.trim());
    const fen = GG.fenOf(amount);
    if (fen === null || !/^\d{1,9}$/.test(points)) return null;
    rates[code] = { fen, points: Number(points) };
  }
  const capDay = GG.fenOf(value("cap-day"));
  const capMonth = GG.fenOf(value("cap-month"));
  if (capDay === null || capMonth === null) return null;
  // The form's time is China's, whatever the browser's zone.
  return { district: GG.state.district, effective_from: `${value("schedule-from")}:00+08:00`, rates,
           cap_day_fen: capDay, cap_month_fen: capMonth };
}

async function loadClues() {
  const pages = await Promise.all(shownGrids().map(g =>
    GG.get(`/v1/grids/${g.grid_id}/clues`, { status: "reported", limit: 200 })));
  W.clues = pages.flatMap(p => p.clues).sort((a, b) => a.reported_at.localeCompare(b.reported_at));
  GG.table("clue-queue", ["col.category", "col.text", "col.grid", "col.reported", "wb.candidates", "col.actions"],
    W.clues.map(clue => el("tr", { class: W.chosenClue === clue.clue_id ? "chosen" : null, dataset: { clue: clue.clue_id } },
      el("td", {}, t(`cat.${clue.category}`)), el("td", {}, clue.text), el("td", {}, gridName(clue.grid_id)),
      el("td", {}, GG.time(clue.reported_at)), el("td", { class: "n" }, clue.candidates.length),
      el("td", {}, button("wb.open", () => chooseClue(clue.clue_id))))));
  if (W.chosenClue && !W.clues.some(c => c.clue_id === W.chosenClue)) {
    W.chosenClue = null;
    document.getElementById("clue-detail").hidden = true;
  }
}

// The clue beside its likely duplicates, in words and on a small map.
async function chooseClue(id) {
  W.chosenClue = id;
  const clue = W.clues.find(c => c.clue_id === id);
  const candidates = (await Promise.all(clue.candidates.map(c => GG.get(`/v1/clues/${c}`).catch(() => null))))
    .filter(Boolean);
  const card = (c, first) => el("div", { dataset: { clue: c.clue_id } },
    el("strong", {}, first ? t("col.text") : t("wb.duplicate.of")), el("p", {}, c.text),
    el("p", { class: "muted" }, `${t(`cat.${c.category}`)} · ${t(`st.${c.status}`)} · ${GG.time(c.reported_at)}`));
  document.getElementById("clue-side").replaceChildren(card(clue, true), ...candidates.map(c => card(c, false)),
    ...(candidates.length ? [] : [el("div", { class: "muted" }, t("wb.nocandidates"))]));
  document.getElementById("duplicate-of").replaceChildren(
    ...candidates.map(c => el("option", { value: c.clue_id }, `${c.text.slice(0, 30)} · ${GG.time(c.reported_at)}`)));
  document.getElementById("duplicate-form").hidden = !candidates.length;
  document.getElementById("accept-kind").value = clue.category;
  document.getElementById("clue-detail").hidden = false;
  const points = [clue, ...candidates].map(c => ({ ...c, lat: c.location.lat, lon: c.location.lon }));
  Charts.clueMap("clue-map", points, W.grids);
  for (const row of document.querySelectorAll("#clue-queue tr[data-clue]")) {
    row.classList.toggle("chosen", row.dataset.clue === id);
  }
}

async function loadBoard() {
  const grids = shownGrids();
  const chosen = document.getElementById("grid-filter").value;
  const board = await GG.get("/v1/board", { district: GG.state.district, grid_id: chosen || null, limit: 300 });
  const mine = new Set(grids.map(g => g.grid_id));
  const tasks = board.tasks.filter(task => mine.has(task.grid_id) && !["verified", "cancelled"].includes(task.status));
  GG.table("tasks", ["col.task", "col.kind", "col.grid", "col.status", "col.claimant", "col.published", "col.actions"],
    tasks.map(task => el("tr", { dataset: { task: task.task_id, status: task.status } },
      el("td", {}, task.task_id.slice(0, 8)), el("td", {}, task.kind), el("td", {}, gridName(task.grid_id)),
      el("td", {}, el("span", { class: "tag" }, t(`st.${task.status}`))), el("td", {}, (task.claimant || "–").slice(0, 8)),
      el("td", {}, GG.time(task.published_at)), el("td", {}, taskActions(task)))));
}

function taskActions(task) {
  const reason = el("input", { "aria-label": t("wb.reason"), placeholder: t("wb.reason"), maxlength: 2000, size: 10 });
  const withReason = (name, label) => async () => {
    if (!reason.value.trim()) return reason.focus();
    if (await GG.command(name, { task_id: task.task_id, reason: reason.value.trim() }, label)) refresh();
  };
  if (task.status === "awaiting_verification") {
    return el("span", { class: "row" },
      button("wb.verify", async () => {
        if (await GG.command("verify-completion", { task_id: task.task_id }, t("wb.verify"))) refresh();
      }, "primary"),
      reason, button("wb.rejectcompletion", withReason("reject-completion", t("wb.rejectcompletion")), "danger"));
  }
  return el("span", { class: "row" }, reason, button("wb.cancel", withReason("cancel-task", t("wb.cancel")), "danger"));
}

async function loadAppeals() {
  if (!W.admin) return;
  const page = await GG.get(`/v1/districts/${d()}/appeals`, { limit: 300 });
  const order = { filed: 0, assigned: 1, decided: 2 };
  W.appeals = page.appeals.sort((a, b) => order[a.status] - order[b.status] || a.filed_at.localeCompare(b.filed_at));
  GG.table("appeal-queue", ["col.filed", "wb.subject", "col.text", "col.status", "wb.assignee", "col.actions"],
    W.appeals.map(a => el("tr", { class: W.chosenAppeal === a.appeal_id ? "chosen" : null, dataset: { appeal: a.appeal_id } },
      el("td", {}, GG.time(a.filed_at)), el("td", {}, t(`subject.${a.subject.kind}`)), el("td", {}, a.text),
      el("td", {}, el("span", { class: "tag" }, t(`st.${a.status}`)), a.outcome ? ` ${t(`st.${a.outcome}`)}` : ""),
      el("td", {}, a.assignee || "–"), el("td", {}, button("wb.decide", () => chooseAppeal(a.appeal_id))))));
  if (W.chosenAppeal) chooseAppeal(W.chosenAppeal);
}

function chooseAppeal(id) {
  W.chosenAppeal = id;
  const a = W.appeals.find(x => x.appeal_id === id);
  if (!a) return;
  document.getElementById("appeal-detail").hidden = false;
  document.getElementById("appeal-title").textContent =
    `${t(`subject.${a.subject.kind}`)} · ${a.subject.ref} · ${t(`st.${a.status}`)}`;
  document.getElementById("appeal-text").textContent = a.text;
  document.getElementById("appeal-notes").replaceChildren(
    el("li", {}, `${t("wb.note")}: ${a.notes}`),
    ...(a.reason ? [el("li", {}, `${t("wb.reason")}: ${a.reason}`)] : []),
    ...(a.remedy ? [el("li", {}, `${t("wb.remedy")}: ${t(`remedy.${a.remedy.kind}`)} ${a.remedy.fen ? GG.money(a.remedy.fen) : ""}`)] : []));
  const decided = a.status === "decided";
  for (const form of ["assign-form", "note-form", "decide-form"]) document.getElementById(form).hidden = decided;
  showRemedyBudget();
  for (const row of document.querySelectorAll("#appeal-queue tr[data-appeal]")) {
    row.classList.toggle("chosen", row.dataset.appeal === id);
  }
}

function thisMonth() {
  return GG.chinaToday().slice(0, 7);
}

// A remedy in money is paid from this month's district budget: say how much is left.
function showRemedyBudget() {
  const budget = W.budgets.find(b => b.period === thisMonth());
  const kind = document.getElementById("remedy-kind").value;
  document.getElementById("remedy-budget").textContent = kind === "none" ? "" :
    `${t("wb.budget.draws")} ${budget ? GG.money(budget.remaining) : GG.money(0)} (${thisMonth()})`;
}

async function loadBudgets() {
  W.budgets = await GG.get(`/v1/districts/${d()}/budgets`);
  GG.table("budgets", ["wb.period", "wb.allocated", "wb.committed", "wb.remaining"],
    W.budgets.map(b => el("tr", { dataset: { period: b.period } }, el("td", {}, b.period),
      el("td", { class: "n" }, GG.money(b.allocated)), el("td", { class: "n" }, GG.money(b.committed)),
      el("td", { class: "n" }, GG.money(b.remaining)))));
  showRemedyBudget();
}

async function loadPictures() {
  const [map, stats] = await Promise.all([GG.get(`/v1/districts/${d()}/clue-map`, { days: 30 }),
                                          GG.get("/v1/stats", { district: GG.state.district })]);
  Charts.clueMap("map", map.points, W.grids);
  Charts.cluesPerDay("per-day", stats.clues_per_day);
  if (W.admin) Charts.subsidyPerDay("subsidy", await GG.get(`/v1/districts/${d()}/subsidy-per-day`));
}

function showEvents() {
  GG.table("events", ["col.time", "col.event"], W.events.map(e =>
    el("tr", { dataset: { type: e.type } }, el("td", {}, GG.time(e.time)), el("td", {}, t(`ev.${e.type}`)))));
}

// --- actions ----------------------------------------------------------------------------
function on(formId, run) {
  document.getElementById(formId).addEventListener("submit", async e => {
    e.preventDefault();
    const button = e.target.querySelector("button");
    button.disabled = true;
    try {
      if (await run()) await refresh();
    } finally {
      button.disabled = false;
    }
  });
}

function value(id) {
  return document.getElementById(id).value.trim();
}

function wire() {
  on("accept-form", () => GG.command("accept-clue", { clue_id: W.chosenClue, kind: value("accept-kind"),
                                                      rate_code: value("accept-rate") }, t("wb.accept")));
  on("reject-form", () => GG.command("reject-clue", { clue_id: W.chosenClue, reason: value("reject-reason") },
                                     t("wb.reject")));
  on("duplicate-form", () => GG.command("mark-duplicate", { clue_id: W.chosenClue, of_clue_id: value("duplicate-of") },
                                        t("wb.duplicate")));
  on("publish-form", () => GG.command("publish-task", { grid_id: value("publish-grid"), kind: value("publish-kind"),
                                                        rate_code: value("publish-rate") }, t("wb.publish")));
  on("assign-form", () => GG.command("assign-appeal", { appeal_id: W.chosenAppeal, assignee_id: value("assignee") },
                                     t("wb.assign")));
  on("note-form", () => GG.command("note-appeal", { appeal_id: W.chosenAppeal, text: value("note-text") },
                                   t("wb.addnote")));
  on("decide-form", async () => {
    const kind = value("remedy-kind");
    const fen = kind === "award_fen" ? GG.fenOf(value("remedy-yuan")) : 0;
    if (fen === null) return GG.say(`${t("wb.remedy.fen")}: ${t("result.failed")}`, true);
    return GG.command("decide-appeal", { appeal_id: W.chosenAppeal, outcome: value("outcome"),
                                         remedy: { kind, fen }, reason: value("decide-reason") }, t("wb.decide"));
  });
  on("schedule-form", async () => {
    const schedule = scheduleOf();
    if (!schedule) return GG.say(`${t("wb.newschedule")}: ${t("wb.badamount")}`, true);
    const done = await GG.command("issue-rate-schedule", schedule, t("wb.newschedule"));
    if (done) await loadRates();
    return done;
  });
  document.getElementById("add-rate").addEventListener("click", () => {
    document.querySelector("#schedule-rates td.empty")?.closest("tr").remove();
    document.querySelector("#schedule-rates tbody").append(rateRow());
  });
  document.getElementById("schedule-from").value = `${GG.chinaToday()}T00:00`;
  on("allocate-form", async () => {
    const fen = GG.fenOf(value("allocate-yuan"));
    if (!fen) return GG.say(`${t("wb.amount")}: ${t("result.failed")}`, true);
    return GG.command("allocate-budget", { district: GG.state.district, period: value("allocate-period"), fen },
                      t("wb.allocate"));
  });
  document.getElementById("remedy-kind").addEventListener("change", showRemedyBudget);
  document.getElementById("grid-filter").addEventListener("change", () => refresh());
  document.getElementById("allocate-period").value = thisMonth();
}

async function refresh() {
  try {
    await Promise.all([loadClues(), loadBoard(), loadAppeals(), loadBudgets(), loadPictures()]);
  } catch (e) {
    GG.say(e.message, true);
  }
}

GG.start({
  roles: ["grid_officer", "district_admin", "service"],
  async start(claims) {
    W.admin = claims.role === "district_admin";
    for (const node of document.querySelectorAll("[data-admin]")) node.hidden = !W.admin;
    wire();
    showEvents();
    GG.onLanguage(() => { loadGrids().then(refresh).catch(() => {}); loadRates().catch(() => {}); showEvents(); });
    // The lists need the grids (an officer's queue is per grid); the rates load beside them.
    const rates = loadRates().catch(e => GG.say(e.message, true));
    try {
      await loadGrids();
    } catch (e) {
      GG.say(e.message, true);
    }
    await Promise.all([rates, refresh()]);
  },
  event: (() => {
    const later = GG.debounce(refresh, 300);
    return (type, event) => {
      W.events.unshift({ type, time: event.time });
      W.events.length = Math.min(W.events.length, 20);
      showEvents();
      if (type.startsWith("Grid") || type === "RateScheduleIssued") {
        loadGrids().then(loadRates).catch(() => {});
      }
      later();
    };
  })(),
});
