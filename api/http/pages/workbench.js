// The grid officer's and district admin's workbench: triage clues into tasks,
// verify work on the board, decide appeals, see rates, budgets and the pictures;
// an admin also keeps the rewards (stations, partners, the catalogue, points
// expiry, what partners handed out). Every action is a command with an idempotency
// key; the page says how it went.
"use strict";

const W = { grids: [], rates: {}, clues: [], chosenClue: null, appeals: [], chosenAppeal: null, budgets: [],
            events: [], admin: false, stations: [], partners: [], policy: null };
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
// A remedy is owed whole: one larger than what is left is refused, so the shortfall shows before the press.
function showRemedyBudget() {
  const budget = W.budgets.find(b => b.period === thisMonth());
  const remaining = budget ? budget.remaining : 0;
  const kind = document.getElementById("remedy-kind").value;
  const fen = kind === "award_fen" ? GG.fenOf(document.getElementById("remedy-yuan").value) : null;
  const short = fen !== null && fen > remaining ? fen - remaining : 0;
  const line = document.getElementById("remedy-budget");
  line.textContent = kind === "none" ? "" :
    `${t("wb.budget.draws")} ${GG.money(remaining)} (${thisMonth()})` +
    (short ? ` · ${t("wb.budget.short")} ${GG.money(short)}` : "");
  line.classList.toggle("error", Boolean(short));
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

// --- rewards (admins) -------------------------------------------------------------------
const DAY_MS = 86400000;

// Dates are China's: an item is on offer from the midnight its first day begins to the
// midnight after its last day.
function chinaDate(when) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date(when));
}

function midnight(day) {
  return `${day}T00:00:00+08:00`;
}

function dayAfter(day, days = 1) {
  return chinaDate(Date.parse(midnight(day)) + days * DAY_MS);
}

function lastDay(validTo) {
  return chinaDate(Date.parse(validTo) - 1);
}

function whole(text, least = 0) {
  return /^\d{1,9}$/.test(text) && Number(text) >= least ? Number(text) : null;
}

function words(list) {
  return list.join(GG.state.lang === "zh" ? "、" : ", ");
}

// The events of stations, partners, the catalogue, redemptions and points holds: the rewards'
// lists alone follow them (the casework lists do not change with them).
const REWARD_EVENTS = /^(Station|Partner|Item|Stock|Redemption|PointsHeld|PointsSpent|PointsReleased|PointsPolicySet)/;

// The district's stations (the closed ones too: a partner may be at one), its partners, its
// catalogue and the points policy in force, each as the API lists it.
async function loadRewards() {
  if (!W.admin) return;
  const [stations, partners, items, offered, policy] = await Promise.all([
    GG.get(`/v1/districts/${d()}/stations`, { closed: true }), GG.get(`/v1/districts/${d()}/partners`),
    GG.get(`/v1/districts/${d()}/catalogue`, { all: true }), GG.get(`/v1/districts/${d()}/catalogue`),
    GG.get(`/v1/districts/${d()}/points-policy`)]);
  [W.stations, W.partners, W.policy] = [stations, partners, policy];
  showStations();
  showPartners();
  showItems(items, new Set(offered.map(i => i.item_id)));
  showPolicy();
  await loadHandedOut();
}

function stationName(id) {
  const station = W.stations.find(s => s.station_id === id);
  if (!station) return id.slice(0, 8);
  return station.open ? station.name : `${station.name} · ${t("wb.station.closed")}`;
}

// The open stations, and the closed ones too when asked (marked closed, nothing to do to them).
function showStations() {
  const shown = document.getElementById("stations-closed").checked ? W.stations : W.stations.filter(s => s.open);
  GG.redraw("station-list", shown, () => GG.table("station-list",
    ["col.name", "col.address", "col.hours", "col.services", "r.location", "col.status", "col.actions"], shown.map(s => {
      const reason = el("input", { "aria-label": t("wb.reason"), placeholder: t("wb.reason"), maxlength: 2000, size: 10 });
      return el("tr", { dataset: { station: s.station_id, open: s.open } }, el("td", {}, s.name), el("td", {}, s.address),
        el("td", {}, s.hours), el("td", {}, words(s.services.map(x => t(`svc.${x}`)))),
        el("td", { class: "n" }, `${s.lat.toFixed(5)}, ${s.lon.toFixed(5)}`),
        el("td", {}, el("span", { class: "tag" }, t(s.open ? "wb.station.open" : "wb.station.closed"))),
        el("td", {}, s.open ? el("span", { class: "row" }, reason, button("wb.station.close", async () => {
          if (!reason.value.trim()) return reason.focus();
          if (await GG.command("close-station", { station_id: s.station_id, reason: reason.value.trim() },
                               t("wb.station.close"))) refresh();
        }, "danger")) : ""));
    })));
  GG.options(document.getElementById("partner-station"),
             [["", t("wb.station.none")], ...W.stations.filter(s => s.open).map(s => [s.station_id, s.name])]);
}

function showPartners() {
  const shown = W.partners.map(p => ({ ...p, station: p.station_id ? stationName(p.station_id) : "–" }));
  GG.redraw("partner-list", shown, () => GG.table("partner-list", ["col.name", "col.kind", "wb.station", "wb.partner.id"],
    shown.map(p => el("tr", { dataset: { partner: p.partner_id } }, el("td", {}, p.name),
      el("td", {}, t(`pk.${p.kind}`)), el("td", {}, p.station), el("td", {}, el("code", {}, p.partner_id))))));
  GG.options(document.getElementById("item-partner"),
             W.partners.map(p => [p.partner_id, `${p.name} · ${t(`pk.${p.kind}`)}`]));
}

// The policy in force, beside the form that sets a new one.
function showPolicy() {
  const p = W.policy;
  const expiry = p.expire_after_months ? `${p.expire_after_months} ${t("wb.policy.monthsafter")}` : t("wb.policy.never");
  document.getElementById("policy-line").textContent = `${t("wb.policy.inforce")}${GG.colon()}` + (p.version
    ? `${expiry} · ${t("wb.version")} ${p.version} · ${t("wb.policy.setat")} ${GG.time(p.set_at)}`
    : t("wb.policy.unset"));
}

function showItems(items, onOffer) {
  GG.redraw("item-list", [items, [...onOffer]], () => GG.table("item-list",
    ["col.item", "col.partner", "col.price", "wb.stock", "col.available", "col.valid", "wb.hold", "col.status",
     "col.actions"], items.map(item => {
      const status = item.withdrawn ? "wb.item.withdrawn" : onOffer.has(item.item_id) ? "wb.item.onoffer" : "wb.item.notnow";
      return el("tr", { dataset: { item: item.item_id, status: status.split(".").pop() } },
        el("td", {}, item.name), el("td", {}, item.partner_name), el("td", { class: "n" }, item.price_points),
        el("td", { class: "n" }, item.stock), el("td", { class: "n" }, item.available),
        el("td", {}, `${chinaDate(item.valid_from)} – ${lastDay(item.valid_to)}`), el("td", { class: "n" }, item.hold_minutes),
        el("td", {}, el("span", { class: "tag" }, t(status))), el("td", {}, item.withdrawn ? "" : itemActions(item)));
    })));
}

function itemActions(item) {
  const input = (key, value, size) => el("input", { "aria-label": t(key), inputmode: "numeric", value, size });
  const price = input("col.price", item.price_points, 5);
  const added = input("wb.stockadd", 0, 5);
  const reason = el("input", { "aria-label": t("wb.reason"), placeholder: t("wb.reason"), maxlength: 2000, size: 8 });
  return el("span", { class: "row" },
    el("label", {}, el("span", {}, t("col.price")), price), el("label", {}, el("span", {}, t("wb.stockadd")), added),
    button("wb.item.revise", async () => {
      const points = whole(price.value.trim(), 1);
      const stock = whole(added.value.trim());
      if (points === null || stock === null) return GG.say(`${t("wb.item.revise")}${GG.colon()}${t("wb.badnumber")}`, true);
      if (await GG.command("revise-item", { item_id: item.item_id, name: item.name, price_points: points,
                                            valid_from: item.valid_from, valid_to: item.valid_to,
                                            hold_minutes: item.hold_minutes, stock_added: stock },
                           t("wb.item.revise"))) {
        for (const box of [price, added]) box.value = box.defaultValue;  // done: the row shows the new terms
        refresh();
      }
    }),
    reason, button("wb.item.withdraw", async () => {
      if (!reason.value.trim()) return reason.focus();
      if (await GG.command("withdraw-item", { item_id: item.item_id, reason: reason.value.trim() },
                           t("wb.item.withdraw"))) refresh();
    }, "danger"));
}

async function loadHandedOut() {
  const month = value("handed-month");
  const rows = /^\d{4}-\d{2}$/.test(month) ? await GG.get(`/v1/districts/${d()}/handed-out`, { month }) : [];
  GG.redraw("handed-out", [month, rows], () => GG.table("handed-out",
    ["col.partner", "col.item", "st.confirmed", "col.pointsspent", "st.refused", "st.expired"],
    rows.map(r => el("tr", { dataset: { partner: r.partner_id } }, el("td", {}, r.partner_name), el("td", {}, r.item),
      ...[r.confirmed, r.points_spent, r.refused, r.expired].map(n => el("td", { class: "n" }, n))))));
}

function wireRewards() {
  const said = (label, key) => GG.say(`${t(label)}${GG.colon()}${t(key)}`, true);
  on("station-form", async () => {
    const [lat, lon] = ["station-lat", "station-lon"].map(value);
    const number = /^-?\d{1,3}(\.\d+)?$/;
    if (!number.test(lat) || !number.test(lon)) return said("wb.station.register", "wb.badplace");
    const services = [...document.querySelectorAll("#station-services input:checked")].map(box => box.value);
    const done = await GG.command("register-station", { district: GG.state.district, description: {
      name: value("station-name"), address: value("station-address"), location: { lat: Number(lat), lon: Number(lon) },
      hours: value("station-hours"), services } }, t("wb.station.register"));
    if (done) for (const id of ["station-name", "station-address"]) document.getElementById(id).value = "";
    return done;
  });
  on("partner-form", async () => {
    const done = await GG.command("register-partner", { district: GG.state.district, name: value("partner-name"),
                                                        kind: value("partner-kind"),
                                                        station_id: value("partner-station") || null },
                                  t("wb.partner.register"));
    if (done) document.getElementById("partner-name").value = "";
    return done;
  });
  on("item-form", async () => {
    const [price, stock, hold] = [whole(value("item-price"), 1), whole(value("item-stock")), whole(value("item-hold"), 1)];
    if (price === null || stock === null || hold === null) return said("wb.item.list", "wb.badnumber");
    const done = await GG.command("list-item", {
      district: GG.state.district, partner_id: value("item-partner"), name: value("item-name"), price_points: price,
      stock, valid_from: midnight(value("item-from")), valid_to: midnight(dayAfter(value("item-to"))),
      hold_minutes: hold }, t("wb.item.list"));
    if (done) document.getElementById("item-name").value = "";
    return done;
  });
  on("policy-form", async () => {
    const months = whole(value("policy-months"));
    if (months === null) return said("wb.policy", "wb.badnumber");
    return GG.command("set-points-policy", { district: GG.state.district, expire_after_months: months }, t("wb.policy"));
  });
  document.getElementById("stations-closed").addEventListener("change", showStations);
  document.getElementById("handed-form").addEventListener("submit", e => {
    e.preventDefault();
    loadHandedOut().catch(error => GG.say(error.message, true));
  });
  document.getElementById("handed-month").value = thisMonth();
  document.getElementById("item-from").value = GG.chinaToday();
  document.getElementById("item-to").value = dayAfter(GG.chinaToday(), 364);
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
  document.getElementById("remedy-yuan").addEventListener("input", showRemedyBudget);
  document.getElementById("grid-filter").addEventListener("change", () => refresh());
  document.getElementById("allocate-period").value = thisMonth();
  wireRewards();
}

async function refresh() {
  try {
    await Promise.all([loadClues(), loadBoard(), loadAppeals(), loadBudgets(), loadPictures(), loadRewards()]);
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
    const rewards = GG.debounce(() => loadRewards().catch(e => GG.say(e.message, true)), 300);
    return (type, event) => {
      W.events.unshift({ type, time: event.time });
      W.events.length = Math.min(W.events.length, 20);
      showEvents();
      if (type.startsWith("Grid") || type === "RateScheduleIssued") {
        loadGrids().then(loadRates).catch(() => {});
      }
      if (REWARD_EVENTS.test(type)) rewards();
      else later();
    };
  })(),
});
