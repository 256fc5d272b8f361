// The grid officer's and district admin's workbench: judge clues (研判) into tasks with their
// photos beside their likely duplicates, verify work from the rider's note and photos on the
// board, decide appeals (admins, after a confirmation that says what the decision will do and
// what it draws on), see rates, budgets and the pictures; an admin also keeps the rewards
// (stations, partners, the catalogue, points expiry, what partners handed out). Every action is
// a command with an idempotency key, answered beside the button pressed. People are named, money
// is ¥, times are China's in words: no code, id or fen shows.
"use strict";

const W = { grids: [], rates: {}, rateNames: {}, schedules: [], clues: [], chosenClue: null, appeals: [],
            chosenAppeal: null, budgets: [], events: [], admin: false, stations: [], partners: [], policy: null,
            staff: [], outcomes: new Map(), keys: [], keyRiders: [] };
const { el, t } = GG;
const d = () => encodeURIComponent(GG.state.district);

function gridName(id) {
  if (id == null) return t("wb.grid.none");  // its place fell in no grid: the admins' to place
  return (W.grids.find(g => g.grid_id === id) || {}).name || t("wb.grid.unknown");
}

function shownGrids() {
  const chosen = document.getElementById("grid-filter").value;
  return W.grids.filter(g => !g.retired && (!chosen || g.grid_id === chosen));
}

function button(key, onclick, kind = "") {
  return el("button", { type: "button", class: kind, onclick }, t(key));
}

// "{name} …" templates of the words, filled.
function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, key) => values[key] ?? "");
}

// A month (YYYY-MM) in words: 2026年12月 (English: Dec 2026).
function monthWords(period) {
  const [year, month] = period.split("-").map(Number);
  if (GG.state.lang === "zh") return `${year}年${month}月`;
  return `${["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][month - 1]} ${year}`;
}

// --- people and photos -----------------------------------------------------------------
// A read names a person beside the id (`*_name`); where it does not yet, a rider's name comes
// from its profile (an officer and an admin may read those of their riders), once per rider.
const riderNames = new Map();

function riderName(id) {
  if (!riderNames.has(id)) {
    riderNames.set(id, GG.get(`/v1/riders/${id}`).then(p => p.name || t("wb.rider.unnamed"))
      .catch(() => t("wb.rider.unnamed")));
  }
  return riderNames.get(id);
}

// A rider by name: at once when the read named it, else filled in when the profile comes.
function riderLabel(id, given) {
  if (!id) return el("span", {}, "–");
  if (given) return el("span", { class: "person" }, given);
  const span = el("span", { class: "person" }, "…");
  riderName(id).then(name => { span.textContent = name; });
  return span;
}

// An officer or admin by display name (the read's, or the district's staff list), else in full.
function staffName(id, given) {
  if (!id) return "–";
  return given || (W.staff.find(p => p.id === id) || {}).name || id;
}

// A photo shown through the API with the page's session.
function photoImg(sha256, options) {
  return GG.photoImg(sha256, options);
}

// The photos of a clue or a completion as thumbnails; a press shows one large, another puts it back.
function photoStrip(hashes) {
  if (!hashes || !hashes.length) return el("p", { class: "muted nophoto" }, t("wb.nophoto"));
  return el("div", { class: "wb-photos" }, hashes.map(sha256 => {
    const frame = el("button", { type: "button", class: "photo-frame", "aria-label": t("wb.photo.enlarge"),
                                 dataset: { sha256 } }, photoImg(sha256, { thumb: true }));
    frame.addEventListener("click", () => {
      const large = !frame.classList.contains("large");
      frame.classList.toggle("large", large);
      frame.replaceChildren(photoImg(sha256, { thumb: !large }));
    });
    return frame;
  }));
}

// --- rates: named, never by code --------------------------------------------------------
// Its display name in the page's language; a schedule issued before names, the clue category's
// words; else "other work" (a code never shows).
function rateName(code) {
  const rate = W.rateNames[code];
  const named = rate && (GG.state.lang === "zh" ? rate.name_zh || rate.name_en : rate.name_en || rate.name_zh);
  if (named) return named;
  return GG.CATEGORIES.includes(code) ? t(`cat.${code}`) : t("wb.rate.other");
}

// A task's name: as the officer gave it, unless it was given as a code (then the rate's name).
function taskName(task) {
  return task.kind in W.rateNames || GG.CATEGORIES.includes(task.kind) ? rateName(task.kind) : task.kind;
}

function rateOptions(select) {
  GG.options(select, Object.entries(W.rates).map(([code, rate]) => [code, `${rateName(code)} · ${GG.money(rate.fen)}`]));
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
  W.schedules = await GG.get(`/v1/districts/${d()}/rate-schedules`);
  const latest = W.schedules[0];
  W.rates = latest ? latest.rates : {};
  W.rateNames = {};
  for (const schedule of [...W.schedules].reverse()) Object.assign(W.rateNames, schedule.rates);  // newest wins
  rateOptions(document.getElementById("accept-rate"));
  rateOptions(document.getElementById("publish-rate"));
  nameAfterRate("publish-rate", "publish-kind");
  document.getElementById("schedule-line").textContent = latest
    ? `${t("wb.schedule")} ${t("wb.version")} ${latest.version} · ${t("wb.effective")} ${GG.time(latest.effective_from)}` +
      ` · ${t("wb.capday")} ${GG.money(latest.cap_day_fen)} · ${t("wb.capmonth")} ${GG.money(latest.cap_month_fen)}`
    : t("empty");
  if (W.admin && !document.querySelector("#schedule-rates tr[data-rate]")) scheduleForm(latest);
  GG.table("rate-table", ["wb.rate", "col.amount", "col.points"], Object.entries(W.rates).map(([code, rate]) =>
    el("tr", {}, el("td", {}, rateName(code)), el("td", { class: "n" }, GG.money(rate.fen)),
       el("td", { class: "n" }, rate.points ?? 0))));
}

// --- a new rate schedule (admins) -----------------------------------------------------
function yuan(fen) {
  return `${Math.trunc(fen / 100)}.${String(fen % 100).padStart(2, "0")}`;
}

// A row of the form: a kind of piece by its names (the code stays behind it, made from the English
// name for a new kind), what it pays and its points.
function rateRow(code = "", rate = null) {
  const input = (key, value, extra = {}) => el("input", { "aria-label": t(key), value, ...extra });
  const named = code && rate ? [rate.name_zh || (GG.CATEGORIES.includes(code) ? WORDS.zh[`cat.${code}`] : ""),
                                rate.name_en || (GG.CATEGORIES.includes(code) ? WORDS.en[`cat.${code}`] : "")]
                             : ["", ""];
  const row = el("tr", { dataset: { rate: code } },
    el("td", {}, input("wb.rate.name_zh", named[0], { maxlength: 100, required: true, size: 9 })),
    el("td", {}, input("wb.rate.name_en", named[1], { maxlength: 100, size: 11, lang: "en" })),
    el("td", {}, input("wb.amount", rate ? yuan(rate.fen) : "", { inputmode: "decimal", required: true, size: 6 })),
    el("td", {}, input("col.points", rate ? rate.points ?? 0 : 0, { inputmode: "numeric", required: true, size: 3 })),
    el("td", {}, button("wb.remove", () => row.remove())));
  return row;
}

function scheduleForm(latest) {
  GG.table("schedule-rates", ["wb.rate.name_zh", "wb.rate.name_en", "wb.amount", "col.points", "col.actions"],
           Object.entries(latest ? latest.rates : {}).map(([code, r]) => rateRow(code, r)));
  document.getElementById("cap-day").value = latest ? yuan(latest.cap_day_fen) : "";
  document.getElementById("cap-month").value = latest ? yuan(latest.cap_month_fen) : "";
  const now = chinaNow();
  document.getElementById("schedule-day").value = now.day;
  document.getElementById("schedule-time").value = now.time;
  showEffective();
}

// Now in China: the day (YYYY-MM-DD) and the time to the minute (HH:MM), whatever the browser's zone.
function chinaNow() {
  const parts = {};
  for (const p of new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit",
                                                    hourCycle: "h23" }).formatToParts(new Date())) parts[p.type] = p.value;
  return { day: GG.chinaToday(), time: `${parts.hour}:${parts.minute}` };
}

// The typed day and time as an instant in China's time, or null if either is not well formed.
function effectiveFrom() {
  const day = value("schedule-day");
  const time = value("schedule-time");
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || !/^([01]\d|2[0-3]):[0-5]\d$/.test(time)) return null;
  const iso = `${day}T${time}:00+08:00`;
  return Number.isNaN(Date.parse(iso)) ? null : iso;
}

// What was typed, said back in words; a time already past is marked (the server refuses it too).
const GRACE_MS = 2 * 60000;

function showEffective() {
  const iso = effectiveFrom();
  const line = document.getElementById("schedule-when");
  const past = iso !== null && Date.parse(iso) < Date.now() - GRACE_MS;
  line.textContent = iso === null ? t("wb.effective.bad")
    : fill(t("wb.effective.words"), { when: GG.time(iso) }) + (past ? ` · ${t("wb.effective.past")}` : "");
  line.classList.toggle("error", iso === null || past);
}

// A code for a new kind, behind its names: from the English name, or a number; never shown.
function codeFor(nameEn, taken) {
  const base = nameEn.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40) || "kind";
  let code = base;
  for (let n = 2; taken.has(code); n += 1) code = `${base}-${n}`;
  return code;
}

// The schedule as the form holds it, or null if an amount or a number is not well formed.
function scheduleOf() {
  const rows = [...document.querySelectorAll("#schedule-rates tr[data-rate]")];
  const taken = new Set(rows.map(r => r.dataset.rate).filter(Boolean));
  const rates = {};
  for (const row of rows) {
    const [nameZh, nameEn, amount, points] = [...row.querySelectorAll("input")].map(i => i.value.trim());
    const fen = GG.fenOf(amount);
    if (fen === null || !/^\d{1,9}$/.test(points) || !nameZh) return null;
    const code = row.dataset.rate || codeFor(nameEn, taken);
    taken.add(code);
    rates[code] = { fen, points: Number(points), name_zh: nameZh, ...(nameEn ? { name_en: nameEn } : {}) };
  }
  const capDay = GG.fenOf(value("cap-day"));
  const capMonth = GG.fenOf(value("cap-month"));
  const from = effectiveFrom();
  if (capDay === null || capMonth === null || from === null) return null;
  return { district: GG.state.district, effective_from: from, rates, cap_day_fen: capDay, cap_month_fen: capMonth };
}

// --- judging clues (研判) ----------------------------------------------------------------
async function loadClues() {
  const pages = await Promise.all(shownGrids().map(g =>
    GG.get(`/v1/grids/${g.grid_id}/clues`, { status: "reported", limit: 200 })));
  if (W.admin) pages.push(await GG.get(`/v1/districts/${d()}/clue-queue`, { limit: 200 }));  // in no grid
  W.clues = pages.flatMap(p => p.clues).sort((a, b) => a.reported_at.localeCompare(b.reported_at));
  GG.table("clue-queue", ["col.category", "col.text", "wb.photos", "col.grid", "wb.reporter", "col.reported",
                          "wb.candidates", "col.actions"],
    W.clues.map(clue => el("tr", { class: W.chosenClue === clue.clue_id ? "chosen" : null, dataset: { clue: clue.clue_id } },
      el("td", {}, t(`cat.${clue.category}`)), el("td", {}, clue.text),
      el("td", { class: "n" }, (clue.evidence_hashes || []).length), el("td", {}, gridName(clue.grid_id)),
      el("td", {}, riderLabel(clue.reporter_id, clue.reporter_name)),
      el("td", {}, GG.time(clue.reported_at)), el("td", { class: "n" }, clue.candidates.length),
      el("td", {}, button("wb.open", () => chooseClue(clue.clue_id))))));
  const detail = document.getElementById("clue-detail");
  if (W.chosenClue && !W.clues.some(c => c.clue_id === W.chosenClue) && !detail.dataset.done) {
    W.chosenClue = null;
    detail.hidden = true;
  }
}

// A clue as one card of the side-by-side: its words, time, reporter and photos.
function clueCard(c, heading) {
  return el("div", { dataset: { clue: c.clue_id }, class: "clue-card" },
    el("strong", {}, t(heading)), el("p", { class: "clue-text" }, c.text),
    el("p", { class: "muted" }, `${t(`cat.${c.category}`)} · ${t(`st.${c.status}`)} · ${GG.time(c.reported_at)}`),
    el("p", { class: "muted" }, `${t("wb.reporter")}${GG.colon()}`, riderLabel(c.reporter_id, c.reporter_name)),
    photoStrip(c.evidence_hashes));
}

// The clue beside its likely duplicates, photos and all, and on a small map; the forms ready,
// the rate its category's where the schedule has one.
async function chooseClue(id) {
  W.chosenClue = id;
  const clue = W.clues.find(c => c.clue_id === id);
  const candidates = (await Promise.all(clue.candidates.map(c => GG.get(`/v1/clues/${c}`).catch(() => null))))
    .filter(Boolean);
  W.judged = { clue, candidates };
  // A clue in no grid is accepted into a grid the admin chooses.
  document.getElementById("accept-grid-label").hidden = clue.grid_id != null;
  document.getElementById("accept-grid").replaceChildren(
    ...W.grids.filter(g => !g.retired).map(g => el("option", { value: g.grid_id }, g.name)));
  const detail = document.getElementById("clue-detail");
  delete detail.dataset.done;
  for (const said of detail.querySelectorAll(".outcome")) said.remove();
  for (const form of detail.querySelectorAll("form")) form.hidden = false;
  drawJudged();
  document.getElementById("duplicate-form").hidden = !candidates.length;
  const rate = document.getElementById("accept-rate");
  if (clue.category in W.rates) rate.value = clue.category;
  nameAfterRate("accept-rate", "accept-kind", true);
  document.getElementById("reject-reason").value = "";
  detail.hidden = false;
  const points = [clue, ...candidates].map(c => ({ ...c, lat: c.location.lat, lon: c.location.lon }));
  Charts.clueMap("clue-map", points, W.grids);
  for (const row of document.querySelectorAll("#clue-queue tr[data-clue]")) {
    row.classList.toggle("chosen", row.dataset.clue === id);
  }
  document.getElementById("clue-side").scrollIntoView({ block: "nearest" });
}

// The cards of the clue being judged (again in the other language).
function drawJudged() {
  if (!W.judged) return;
  const { clue, candidates } = W.judged;
  document.getElementById("clue-side").replaceChildren(clueCard(clue, "wb.thisclue"),
    ...candidates.map(c => clueCard(c, "wb.likelydup")),
    ...(candidates.length ? [] : [el("div", { class: "muted" }, t("wb.nocandidates"))]));
  GG.options(document.getElementById("duplicate-of"),
             candidates.map(c => [c.clue_id, `${c.text.slice(0, 30)} · ${GG.time(c.reported_at)}`]));
}

// The task's name follows the rate chosen, until the officer types one of their own.
function nameAfterRate(rateId, nameId, force = false) {
  const name = document.getElementById(nameId);
  if (force || !name.value.trim() || name.value === name.dataset.auto) {
    name.value = name.dataset.auto = document.getElementById(rateId).value ? rateName(document.getElementById(rateId).value) : "";
  }
}

// A triage done: the clue's forms go, its cards and the answer stay until the next clue is opened.
function triaged() {
  const detail = document.getElementById("clue-detail");
  detail.dataset.done = "1";
  for (const form of detail.querySelectorAll("form")) form.hidden = true;
  document.getElementById("accept-kind").value = "";
  document.getElementById("reject-reason").value = "";
}

// --- the board --------------------------------------------------------------------------
async function loadBoard() {
  const grids = shownGrids();
  const chosen = document.getElementById("grid-filter").value;
  const board = await GG.get("/v1/board", { district: GG.state.district, grid_id: chosen || null, limit: 300 });
  const mine = new Set(grids.map(g => g.grid_id));
  // Done or cancelled tasks leave the board, but one acted on here stays with its answer until reloaded.
  const tasks = board.tasks.filter(task => mine.has(task.grid_id) &&
                                           (!["verified", "cancelled"].includes(task.status) || W.outcomes.has(task.task_id)));
  GG.table("tasks", ["col.task", "wb.rate", "col.grid", "col.status", "wb.claimant", "wb.completion", "col.published",
                     "col.actions"],
    tasks.map(task => el("tr", { dataset: { task: task.task_id, status: task.status } },
      el("td", {}, taskName(task)), el("td", {}, rateName(task.rate_code)), el("td", {}, gridName(task.grid_id)),
      el("td", {}, el("span", { class: "tag" }, t(`st.${task.status}`))),
      el("td", {}, riderLabel(task.claimant, task.claimant_name)),
      el("td", { class: "completion" }, completion(task)),
      el("td", {}, GG.time(task.published_at)), el("td", {}, taskActions(task)))));
}

// What the rider said and showed when done: the officer verifies from it.
function completion(task) {
  if (!["awaiting_verification", "verified"].includes(task.status)) return "";
  return [el("p", { class: "note" }, task.completion_note || t("wb.nonote")), photoStrip(task.completion_evidence)];
}

// An action in a row of a list, its answer kept (by the row's `key`) beside its buttons through
// the redraws the action itself brings.
async function rowCommand(key, name, body, label, pressed) {
  const result = await GG.command(name, body, label, pressed);
  const said = pressed.nextElementSibling;
  if (said && said.classList.contains("outcome")) W.outcomes.set(key, { text: said.textContent, className: said.className });
  return result;
}

function keptAnswer(key) {
  const kept = W.outcomes.get(key);
  return kept ? el("p", { class: kept.className, role: "status" }, kept.text) : null;
}

async function rowAction(task, name, body, label, pressed) {
  const result = await rowCommand(task.task_id, name, body, label, pressed);
  if (result) refresh();
  return result;
}

function taskActions(task) {
  const reason = el("input", { "aria-label": t("wb.reason"), placeholder: t("wb.reason"), maxlength: 2000, size: 10 });
  const withReason = (name, label) => async e => {
    if (!reason.value.trim()) return reason.focus();
    if (await rowAction(task, name, { task_id: task.task_id, reason: reason.value.trim() }, label, e.currentTarget)) {
      reason.value = "";
    }
  };
  const buttons = [];
  if (task.status === "awaiting_verification") {
    buttons.push(button("wb.verify", e => rowAction(task, "verify-completion", { task_id: task.task_id }, t("wb.verify"),
                                                    e.currentTarget), "primary"),
                 reason, button("wb.rejectcompletion", withReason("reject-completion", t("wb.rejectcompletion")), "danger"));
  } else if (!["verified", "cancelled"].includes(task.status)) {
    buttons.push(reason, button("wb.cancel", withReason("cancel-task", t("wb.cancel")), "danger"));
  }
  return el("span", { class: "row" }, ...buttons, keptAnswer(task.task_id));
}

// --- appeals (admins) ---------------------------------------------------------------------
// The district's officers and admins by name (its staff directory), to assign an appeal to; the
// admin itself among them even before it is named.
async function loadStaff() {
  if (!W.admin) return;
  const answer = await GG.get(`/v1/districts/${d()}/staff`);
  W.staff = answer.staff.map(p => ({ id: p.staff_id, name: p.display_name, role: p.role }));
  const me = GG.state.claims.sub;
  const mine = W.staff.find(p => p.id === me);
  GG.options(document.getElementById("assignee"), [["", t("wb.assignee.choose")],
    ...(mine ? [] : [[me, t("wb.me")]]),
    ...W.staff.map(p => [p.id, `${p.name} · ${t(`role.${p.role}`)}${p.id === me ? ` · ${t("wb.me")}` : ""}`])]);
}

async function loadAppeals() {
  if (!W.admin) return;
  const page = await GG.get(`/v1/districts/${d()}/appeals`, { limit: 300 });
  const order = { filed: 0, assigned: 1, decided: 2 };
  W.appeals = page.appeals.sort((a, b) => order[a.status] - order[b.status] || a.filed_at.localeCompare(b.filed_at));
  GG.table("appeal-queue", ["col.filed", "wb.subject", "col.text", "wb.appellant", "col.status", "wb.assignee",
                            "col.actions"],
    W.appeals.map(a => el("tr", { class: W.chosenAppeal === a.appeal_id ? "chosen" : null, dataset: { appeal: a.appeal_id } },
      el("td", {}, GG.time(a.filed_at)), el("td", {}, subjectWords(a.subject)), el("td", {}, a.text),
      el("td", {}, riderLabel(a.rider_id, a.rider_name)),
      el("td", {}, el("span", { class: "tag" }, t(`st.${a.status}`)), a.outcome ? ` ${t(`st.${a.outcome}`)}` : ""),
      el("td", {}, staffName(a.assignee, a.assignee_name)),
      el("td", {}, button(a.status === "decided" ? "wb.view" : "wb.decide", () => chooseAppeal(a.appeal_id, true))))));
  if (W.chosenAppeal) chooseAppeal(W.chosenAppeal, false);
}

// What an appeal is about, in words: its kind, and the rider's own words for something outside
// (an id of a clue, task or award is not shown).
function subjectWords(subject) {
  const kind = t(`subject.${subject.kind}`);
  if (subject.kind === "outside") return `${kind} · ${subject.ref}`;
  return subject.period ? `${kind} · ${monthWords(subject.period)}` : kind;
}

// An appeal opened: its words, who filed it, its notes with author and time, its decision; a new
// one opened starts with empty forms (nothing of the last decision is carried over).
function chooseAppeal(id, opened) {
  const switched = W.chosenAppeal !== id;
  W.chosenAppeal = id;
  const a = W.appeals.find(x => x.appeal_id === id);
  if (!a) return;
  const detail = document.getElementById("appeal-detail");
  detail.hidden = false;
  if (switched) clearAppealForms(true);
  document.getElementById("appeal-title").textContent = `${subjectWords(a.subject)} · ${t(`st.${a.status}`)}`;
  document.getElementById("appeal-who").replaceChildren(`${t("wb.appellant")}${GG.colon()}`,
    riderLabel(a.rider_id, a.rider_name), ` · ${t("col.filed")} ${GG.time(a.filed_at)}`,
    a.assignee ? ` · ${t("wb.assignee")}${GG.colon()}${staffName(a.assignee, a.assignee_name)}` : "");
  document.getElementById("appeal-text").textContent = a.text;
  const notes = a.note_entries || [];
  document.getElementById("appeal-notes").replaceChildren(...(notes.length ? notes.map(n => el("li", {},
    el("span", { class: "muted" }, `${staffName(n.author_id, n.author_name)} · ${GG.time(n.at)}${GG.colon()}`), n.text))
    : [el("li", { class: "muted" }, t("wb.notes.none"))]));
  document.getElementById("appeal-decided").textContent = a.status === "decided"
    ? `${t(`st.${a.outcome}`)}${a.remedy && a.remedy.kind !== "none" ? ` · ${t(`remedy.${a.remedy.kind}`)}` +
        (a.remedy.fen ? ` ${GG.money(a.remedy.fen)}` : "") : ""}${a.reason ? ` · ${t("wb.reason")}${GG.colon()}${a.reason}` : ""}` +
      (a.decided_at ? ` · ${GG.time(a.decided_at)}` : "")
    : "";
  const decided = a.status === "decided";
  for (const form of ["assign-form", "note-form", "decide-form"]) document.getElementById(form).hidden = decided;
  if (decided) document.getElementById("decide-confirm").hidden = true;
  document.getElementById("reinstate-option").hidden = a.subject.kind !== "award";
  showRemedyBudget();
  for (const row of document.querySelectorAll("#appeal-queue tr[data-appeal]")) {
    row.classList.toggle("chosen", row.dataset.appeal === id);
  }
  if (opened) document.getElementById("appeal-title").scrollIntoView({ block: "nearest" });
}

// Empty forms: after a decision, and for an appeal newly opened (`answers`: its old answers go too).
function clearAppealForms(answers) {
  for (const id of ["note-text", "decide-reason", "remedy-yuan"]) document.getElementById(id).value = "";
  for (const id of ["assignee", "decision"]) document.getElementById(id).value = "";
  document.getElementById("decide-confirm").hidden = true;
  document.getElementById("remedy-amount").hidden = true;
  if (answers) for (const said of document.querySelectorAll("#appeal-detail .outcome")) said.remove();
  showRemedyBudget();
}

function thisMonth() {
  return GG.chinaToday().slice(0, 7);
}

// A remedy in money is paid from this month's district budget: say how much is left.
// A remedy is owed whole: one larger than what is left is refused, so the shortfall shows before the press.
function remedyMoney() {
  const budget = W.budgets.find(b => b.period === thisMonth());
  const remaining = budget ? budget.remaining : 0;
  const decision = document.getElementById("decision").value;
  const fen = decision === "award_fen" ? GG.fenOf(document.getElementById("remedy-yuan").value) : null;
  return { decision, remaining, fen, short: fen !== null && fen > remaining ? fen - remaining : 0 };
}

function showRemedyBudget() {
  const { decision, remaining, short } = remedyMoney();
  document.getElementById("remedy-amount").hidden = decision !== "award_fen";
  const line = document.getElementById("remedy-budget");
  line.textContent = decision !== "award_fen" ? "" :
    `${GG.state.district} ${monthWords(thisMonth())} ${t("wb.budget.draws")} ${GG.money(remaining)}` +
    (short ? ` · ${t("wb.budget.short")} ${GG.money(short)}` : "");
  line.classList.toggle("error", Boolean(short));
}

// The decision said in full before it is made: what it does, the money and the budget it draws on.
function decisionWords() {
  const { decision, remaining, fen, short } = remedyMoney();
  const reason = `${t("wb.reason")}${GG.colon()}${value("decide-reason")}`;
  const words = {
    dismissed: t("wb.confirm.dismissed"), upheld: t("wb.confirm.upheld"), reinstate_award: t("wb.confirm.reinstate"),
    award_fen: fill(t("wb.confirm.award"), { money: GG.money(fen || 0), district: GG.state.district,
                                             month: monthWords(thisMonth()), remaining: GG.money(remaining),
                                             after: GG.money(Math.max(remaining - (fen || 0), 0)) }),
  }[decision];
  return `${words}${short ? ` ${fill(t("wb.confirm.short"), { short: GG.money(short) })}` : ""} ${reason}`;
}

function decisionBody() {
  const { decision, fen } = remedyMoney();
  const remedy = { dismissed: "none", upheld: "none", reinstate_award: "reinstate_award", award_fen: "award_fen" }[decision];
  return { appeal_id: W.chosenAppeal, outcome: decision === "dismissed" ? "dismissed" : "upheld",
           remedy: { kind: remedy, fen: decision === "award_fen" ? fen : 0 }, reason: value("decide-reason") };
}

async function loadBudgets() {
  W.budgets = await GG.get(`/v1/districts/${d()}/budgets`);
  GG.table("budgets", ["wb.period", "wb.allocated", "wb.committed", "wb.remaining"],
    W.budgets.map(b => el("tr", { dataset: { period: b.period } }, el("td", {}, monthWords(b.period)),
      el("td", { class: "n" }, GG.money(b.allocated)), el("td", { class: "n" }, GG.money(b.committed)),
      el("td", { class: "n" }, GG.money(b.remaining)))));
  showRemedyBudget();
}

async function loadPictures() {
  const [map, stats, places] = await Promise.all([GG.get(`/v1/districts/${d()}/clue-map`, { days: 30 }),
                                                  GG.get("/v1/stats", { district: GG.state.district }),
                                                  GG.get(`/v1/districts/${d()}/places`)]);
  Charts.clueMap("map", map.points, W.grids, places);
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
  if (!station) return t("wb.station.unknown");
  return station.open ? station.name : `${station.name} · ${t("wb.station.closed")}`;
}

// The open stations, and the closed ones too when asked (marked closed, nothing to do to them).
function showStations() {
  const shown = document.getElementById("stations-closed").checked ? W.stations
    : W.stations.filter(s => s.open || W.outcomes.has(`station:${s.station_id}`));  // one closed here stays, answered
  GG.redraw("station-list", shown, () => GG.table("station-list",
    ["col.name", "col.address", "col.hours", "col.services", "r.location", "col.status", "col.actions"], shown.map(s => {
      const reason = el("input", { "aria-label": t("wb.reason"), placeholder: t("wb.reason"), maxlength: 2000, size: 10 });
      return el("tr", { dataset: { station: s.station_id, open: s.open } }, el("td", {}, s.name), el("td", {}, s.address),
        el("td", {}, s.hours), el("td", {}, words(s.services.map(x => t(`svc.${x}`)))),
        el("td", { class: "n" }, `${s.lat.toFixed(5)}, ${s.lon.toFixed(5)}`),
        el("td", {}, el("span", { class: "tag" }, t(s.open ? "wb.station.open" : "wb.station.closed"))),
        el("td", {}, s.open ? el("span", { class: "row" }, reason, button("wb.station.close", async e => {
          if (!reason.value.trim()) return reason.focus();
          if (await rowCommand(`station:${s.station_id}`, "close-station",
                               { station_id: s.station_id, reason: reason.value.trim() }, t("wb.station.close"),
                               e.currentTarget)) refresh();
        }, "danger")) : keptAnswer(`station:${s.station_id}`)));
    })));
  GG.options(document.getElementById("partner-station"),
             [["", t("wb.station.none")], ...W.stations.filter(s => s.open).map(s => [s.station_id, s.name])]);
}

function copyButton(text) {
  return button("wb.copyid", async e => {
    const pressed = e.currentTarget;
    try {
      await navigator.clipboard.writeText(text);
      GG.say(t("wb.copied"), false, pressed);
    } catch (error) {
      GG.say(t("wb.copyfailed"), true, pressed);
    }
  });
}

function showPartners() {
  const shown = W.partners.map(p => ({ ...p, station: p.station_id ? stationName(p.station_id) : "–" }));
  // Its id is its token's `sub`: copied whole for the one who mints the token, never shown.
  GG.redraw("partner-list", shown, () => GG.table("partner-list", ["col.name", "col.kind", "wb.station", "wb.partner.id"],
    shown.map(p => el("tr", { dataset: { partner: p.partner_id } }, el("td", {}, p.name),
      el("td", {}, t(`pk.${p.kind}`)), el("td", {}, p.station), el("td", {}, copyButton(p.partner_id))))));
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
        el("td", {}, `${GG.day(chinaDate(item.valid_from))} – ${GG.day(lastDay(item.valid_to))}`), el("td", { class: "n" }, item.hold_minutes),
        el("td", {}, el("span", { class: "tag" }, t(status))),
        el("td", {}, item.withdrawn ? keptAnswer(`item:${item.item_id}`) : itemActions(item)));
    })));
}

function itemActions(item) {
  const input = (key, value, size) => el("input", { "aria-label": t(key), inputmode: "numeric", value, size });
  const price = input("col.price", item.price_points, 5);
  const added = input("wb.stockadd", 0, 5);
  const reason = el("input", { "aria-label": t("wb.reason"), placeholder: t("wb.reason"), maxlength: 2000, size: 8 });
  return el("span", { class: "row" },
    el("label", {}, el("span", {}, t("col.price")), price), el("label", {}, el("span", {}, t("wb.stockadd")), added),
    button("wb.item.revise", async e => {
      const pressed = e.currentTarget;
      const points = whole(price.value.trim(), 1);
      const stock = whole(added.value.trim());
      if (points === null || stock === null) {
        return GG.say(`${t("wb.item.revise")}${GG.colon()}${t("wb.badnumber")}`, true, pressed);
      }
      if (await rowCommand(`item:${item.item_id}`, "revise-item", { item_id: item.item_id, name: item.name, price_points: points,
                                            valid_from: item.valid_from, valid_to: item.valid_to,
                                            hold_minutes: item.hold_minutes, stock_added: stock },
                           t("wb.item.revise"), pressed)) {
        for (const box of [price, added]) box.value = box.defaultValue;  // done: the row shows the new terms
        refresh();
      }
    }),
    reason, button("wb.item.withdraw", async e => {
      if (!reason.value.trim()) return reason.focus();
      if (await rowCommand(`item:${item.item_id}`, "withdraw-item", { item_id: item.item_id, reason: reason.value.trim() },
                           t("wb.item.withdraw"), e.currentTarget)) refresh();
    }, "danger"), keptAnswer(`item:${item.item_id}`));
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
  const said = (label, key, where) => GG.say(`${t(label)}${GG.colon()}${t(key)}`, true, where);
  on("station-form", async pressed => {
    const [lat, lon] = ["station-lat", "station-lon"].map(value);
    const number = /^-?\d{1,3}(\.\d+)?$/;
    if (!number.test(lat) || !number.test(lon)) return said("wb.station.register", "wb.badplace", pressed);
    const services = [...document.querySelectorAll("#station-services input:checked")].map(box => box.value);
    const done = await GG.command("register-station", { district: GG.state.district, description: {
      name: value("station-name"), address: value("station-address"), location: { lat: Number(lat), lon: Number(lon) },
      hours: value("station-hours"), services } }, t("wb.station.register"), pressed);
    if (done) {
      for (const id of ["station-name", "station-address", "station-lat", "station-lon"]) document.getElementById(id).value = "";
      for (const box of document.querySelectorAll("#station-services input")) box.checked = false;
    }
    return done;
  });
  on("partner-form", async pressed => {
    const done = await GG.command("register-partner", { district: GG.state.district, name: value("partner-name"),
                                                        kind: value("partner-kind"),
                                                        station_id: value("partner-station") || null },
                                  t("wb.partner.register"), pressed);
    if (done) document.getElementById("partner-name").value = "";
    return done;
  });
  on("item-form", async pressed => {
    const [price, stock, hold] = [whole(value("item-price"), 1), whole(value("item-stock")), whole(value("item-hold"), 1)];
    if (price === null || stock === null || hold === null) return said("wb.item.list", "wb.badnumber", pressed);
    showItemDays();
    if (document.getElementById("item-days").classList.contains("error")) return said("wb.item.list", "wb.badday", pressed);
    const done = await GG.command("list-item", {
      district: GG.state.district, partner_id: value("item-partner"), name: value("item-name"), price_points: price,
      stock, valid_from: midnight(value("item-from")), valid_to: midnight(dayAfter(value("item-to"))),
      hold_minutes: hold }, t("wb.item.list"), pressed);
    if (done) {
      for (const id of ["item-name", "item-price", "item-stock"]) document.getElementById(id).value = "";
      itemDays();
    }
    return done;
  });
  on("policy-form", async pressed => {
    const months = whole(value("policy-months"));
    if (months === null) return said("wb.policy", "wb.badnumber", pressed);
    const done = await GG.command("set-points-policy", { district: GG.state.district, expire_after_months: months },
                                  t("wb.policy"), pressed);
    if (done) document.getElementById("policy-months").value = "";
    return done;
  });
  document.getElementById("stations-closed").addEventListener("change", showStations);
  document.getElementById("handed-form").addEventListener("submit", e => {
    e.preventDefault();
    loadHandedOut().catch(error => GG.say(error.message, true));
  });
  document.getElementById("handed-month").value = thisMonth();
  for (const id of ["item-from", "item-to"]) document.getElementById(id).addEventListener("input", showItemDays);
  itemDays();
}

// The item's days typed as China's (YYYY-MM-DD), said back in words; a year from today to start.
function itemDays() {
  document.getElementById("item-from").value = GG.chinaToday();
  document.getElementById("item-to").value = dayAfter(GG.chinaToday(), 364);
  showItemDays();
}

function showItemDays() {
  const [from, to] = ["item-from", "item-to"].map(value);
  const line = document.getElementById("item-days");
  const good = [from, to].every(day => /^\d{4}-\d{2}-\d{2}$/.test(day) && !Number.isNaN(Date.parse(midnight(day))));
  line.textContent = good ? `${GG.day(from)} – ${GG.day(to)}` : t("wb.badday");
  line.classList.toggle("error", !good);
}

function showEvents() {
  GG.table("events", ["col.time", "col.event"], W.events.map(e =>
    el("tr", { dataset: { type: e.type } }, el("td", {}, GG.time(e.time)), el("td", {}, t(`ev.${e.type}`)))));
}

// --- actions ----------------------------------------------------------------------------
// A form's action: `run(pressed)` gets the button pressed, where the answer is said.
function on(formId, run) {
  document.getElementById(formId).addEventListener("submit", async e => {
    e.preventDefault();
    const pressed = e.submitter || e.target.querySelector("button:not([type=button])");
    pressed.disabled = true;
    try {
      if (await run(pressed)) await refresh();
    } finally {
      pressed.disabled = false;
    }
  });
}

function value(id) {
  return document.getElementById(id).value.trim();
}

function wireTriage() {
  on("accept-form", async pressed => {
    const placed = document.getElementById("accept-grid-label").hidden ? {} : { grid_id: value("accept-grid") };
    const done = await GG.command("accept-clue", { clue_id: W.chosenClue, kind: value("accept-kind"),
                                                   rate_code: value("accept-rate"), ...placed }, t("wb.accept"), pressed);
    if (done) triaged();
    return done;
  });
  on("reject-form", async pressed => {
    const done = await GG.command("reject-clue", { clue_id: W.chosenClue, reason: value("reject-reason") },
                                  t("wb.reject"), pressed);
    if (done) triaged();
    return done;
  });
  on("duplicate-form", async pressed => {
    const done = await GG.command("mark-duplicate", { clue_id: W.chosenClue, of_clue_id: value("duplicate-of") },
                                  t("wb.duplicate"), pressed);
    if (done) triaged();
    return done;
  });
  on("publish-form", async pressed => {
    const done = await GG.command("publish-task", { grid_id: value("publish-grid"), kind: value("publish-kind"),
                                                    rate_code: value("publish-rate") }, t("wb.publish"), pressed);
    if (done) document.getElementById("publish-kind").value = document.getElementById("publish-kind").dataset.auto = "";
    if (done) nameAfterRate("publish-rate", "publish-kind", true);
    return done;
  });
  document.getElementById("accept-rate").addEventListener("change", () => nameAfterRate("accept-rate", "accept-kind"));
  document.getElementById("publish-rate").addEventListener("change", () => nameAfterRate("publish-rate", "publish-kind"));
}

function wireAppeals() {
  on("assign-form", async pressed => {
    const done = await GG.command("assign-appeal", { appeal_id: W.chosenAppeal, assignee_id: value("assignee") },
                                  t("wb.assign"), pressed);
    if (done) document.getElementById("assignee").value = "";
    return done;
  });
  on("note-form", async pressed => {
    const done = await GG.command("note-appeal", { appeal_id: W.chosenAppeal, text: value("note-text") },
                                  t("wb.addnote"), pressed);
    if (done) document.getElementById("note-text").value = "";
    return done;
  });
  // Deciding is two presses: the form says in full what the decision will do, then it is made.
  document.getElementById("decide-form").addEventListener("submit", e => {
    e.preventDefault();
    const { decision, fen } = remedyMoney();
    if (decision === "award_fen" && !fen) {
      return GG.say(`${t("wb.remedy.fen")}${GG.colon()}${t("wb.badamount")}`, true, e.submitter);
    }
    document.getElementById("decide-confirm-text").textContent = decisionWords();
    document.getElementById("decide-confirm").hidden = false;
    document.getElementById("decide-yes").focus();
    document.getElementById("decide-confirm").scrollIntoView({ block: "nearest" });
  });
  on("decide-confirm", async pressed => {
    const done = await GG.command("decide-appeal", decisionBody(), t("wb.decide"), pressed);
    if (done) clearAppealForms(false);
    return done;
  });
  document.getElementById("decide-no").addEventListener("click", () => {
    document.getElementById("decide-confirm").hidden = true;
    document.getElementById("decision").focus();
  });
  // A change to the decision after it was said: said again before it can be made.
  for (const id of ["decision", "remedy-yuan", "decide-reason"]) {
    for (const kind of ["input", "change"]) {
      document.getElementById(id).addEventListener(kind, () => {
        document.getElementById("decide-confirm").hidden = true;
        showRemedyBudget();
      });
    }
  }
}

function wireRates() {
  on("schedule-form", async pressed => {
    const schedule = scheduleOf();
    if (!schedule) return GG.say(`${t("wb.newschedule")}${GG.colon()}${t("wb.badschedule")}`, true, pressed);
    const done = await GG.command("issue-rate-schedule", schedule, t("wb.newschedule"), pressed);
    if (done) {
      await loadRates();
      scheduleForm(W.schedules[0]);  // the form starts again from the schedule now in force
    }
    return done;
  });
  for (const id of ["schedule-day", "schedule-time"]) document.getElementById(id).addEventListener("input", showEffective);
  document.getElementById("add-rate").addEventListener("click", () => {
    document.querySelector("#schedule-rates td.empty")?.closest("tr").remove();
    document.querySelector("#schedule-rates tbody").append(rateRow());
  });
  on("allocate-form", async pressed => {
    const fen = GG.fenOf(value("allocate-yuan"));
    if (!fen) return GG.say(`${t("wb.amount")}${GG.colon()}${t("wb.badamount")}`, true, pressed);
    const done = await GG.command("allocate-budget", { district: GG.state.district, period: value("allocate-period"), fen },
                                  t("wb.allocate"), pressed);
    if (done) document.getElementById("allocate-yuan").value = "";
    return done;
  });
  document.getElementById("allocate-period").value = thisMonth();
}

function wire() {
  wireTriage();
  wireAppeals();
  wireRates();
  document.getElementById("grid-filter").addEventListener("change", () => refresh());
  wireRewards();
  wireKeys();
}

async function refresh() {
  try {
    await Promise.all([loadClues(), loadBoard(), loadAppeals(), loadBudgets(), loadPictures(), loadRewards(), loadKeys()]);
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
    GG.onLanguage(() => {
      loadGrids().then(loadRates).then(refresh).catch(() => {});
      showEvents();
      showEffective();
      showItemDays();
      drawJudged();
    });
    // The lists need the grids (an officer's queue is per grid) and the rates' names.
    try {
      await Promise.all([loadGrids(), loadRates()]);
      await loadStaff();
    } catch (e) {
      GG.say(e.message, true);
    }
    await refresh();
  },
  event: (() => {
    const later = GG.debounce(refresh, 300);
    const rewards = GG.debounce(() => loadRewards().catch(e => GG.say(e.message, true)), 300);
    return (type, event) => {
      W.events.unshift({ type, time: event.time });
      W.events.length = Math.min(W.events.length, 20);
      showEvents();
      if (type === "StaffNamed") loadStaff().catch(() => {});
      if (type.startsWith("Grid") || type.startsWith("Officer") || type === "RateScheduleIssued") {
        loadGrids().then(loadRates).catch(() => {});
      }
      if (REWARD_EVENTS.test(type)) rewards();
      else later();
    };
  })(),
});

// --- Open311 keys (开放接口密钥) -------------------------------------------------------------
// An admin issues a key for a rider of the district (picked by name) or, read only, for a service;
// the secret is in the issue's answer alone, shown here once with a button that copies it, and
// gone with the page. The list says whose, what for and when; a key in force is revoked with a reason.

async function loadKeys() {
  if (!W.admin) return;
  const [listed, riders] = await Promise.all([GG.get(`/v1/districts/${d()}/open311-keys`),
                                              GG.get(`/v1/districts/${d()}/riders`)]);
  const here = new Set(W.grids.filter(g => !g.retired).map(g => g.grid_id));
  W.keys = listed.keys;
  // Whom a key may report as: a rider in one of the district's grids now, not suspended.
  W.keyRiders = riders.riders.filter(r => !r.suspended && !r.erased && r.grids.some(g => here.has(g)));
  showKeys();
}

function keyOwner(key) {
  return key.rider_id ? riderLabel(key.rider_id, key.rider_name) : el("span", {}, t("wb.keys.service"));
}

function showKeys() {
  GG.options(document.getElementById("key-rider"),
             [["", t("wb.keys.service")], ...W.keyRiders.map(r => [r.rider_id, r.rider_name || t("wb.rider.unnamed")])]);
  GG.redraw("key-list", W.keys, () => GG.table("key-list",
    ["wb.keys.label", "wb.keys.whose", "wb.keys.issued", "col.status", "col.actions"], W.keys.map(key => {
      const revoked = key.revoked_at !== null;
      const status = revoked ? `${t("wb.keys.revoked")} ${GG.time(key.revoked_at)}${GG.colon()}${key.revoke_reason}`
        : t("wb.keys.inforce");
      return el("tr", { dataset: { key: key.key_id, revoked } }, el("td", {}, key.label), el("td", {}, keyOwner(key)),
        el("td", {}, `${GG.time(key.issued_at)} · ${staffName(key.issued_by, key.issued_by_name)}`),
        el("td", {}, el("span", { class: "tag" }, status)),
        el("td", {}, revoked ? keptAnswer(`key:${key.key_id}`) : revokeKey(key)));
    })));
}

function revokeKey(key) {
  const reason = el("input", { "aria-label": t("wb.reason"), placeholder: t("wb.reason"), maxlength: 2000, size: 12 });
  return el("span", { class: "row" }, reason, button("wb.keys.revoke", async e => {
    if (!reason.value.trim()) return reason.focus();
    if (await rowCommand(`key:${key.key_id}`, "revoke-open311-key", { key_id: key.key_id, reason: reason.value.trim() },
                         t("wb.keys.revoke"), e.currentTarget)) await loadKeys();
  }, "danger"), keptAnswer(`key:${key.key_id}`));
}

// The issue is not a command route (the server makes the secret): posted here, answered beside the button.
async function issueKey(pressed) {
  const label = t("wb.keys.issue");
  const rider = value("key-rider");
  let made;
  try {
    const response = await fetch(`/v1/districts/${d()}/open311-keys`, {
      method: "POST", body: JSON.stringify({ label: value("key-label"), ...(rider ? { rider_id: rider } : {}) }),
      headers: GG.headers({ "Content-Type": "application/json" }, true) });
    const body = (response.headers.get("content-type") || "").includes("json") ? await response.json() : null;
    if (!response.ok) throw new Error(body && body.title ? `${body.title}${GG.colon()}${body.detail}` : response.statusText);
    made = body;
  } catch (e) {
    GG.say(`${label}${GG.colon()}${t("result.failed")} — ${e instanceof TypeError ? t("result.network") : e.message}`,
           true, pressed);
    return;
  }
  GG.state.position = Math.max(GG.state.position, made.position);
  document.getElementById("key-secret").textContent = made.api_key;
  document.getElementById("key-made").hidden = false;
  document.querySelector("#key-made .outcome")?.remove();  // "copied" was said of the key before
  GG.say(`${label}${GG.colon()}${t("result.ok")}`, false, pressed);
  document.getElementById("key-label").value = "";
  document.getElementById("key-rider").value = "";
  await loadKeys();
}

function wireKeys() {
  on("key-form", async pressed => { await issueKey(pressed); return false; });  // only the keys' list changed
  document.getElementById("key-copy").addEventListener("click", async e => {
    const pressed = e.currentTarget;
    try {
      await navigator.clipboard.writeText(document.getElementById("key-secret").textContent);
      GG.say(t("wb.keys.copied"), false, pressed);
    } catch (error) {
      GG.say(t("wb.copyfailed"), true, pressed);
    }
  });
}
