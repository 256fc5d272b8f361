// The rider's page, phone first: tasks open nearby (claim), my tasks (complete with a note
// and photos, or give up), a clue reported from where the rider stands with photos, my money
// piece by piece (what was withheld and why, an appeal from the row), points and rewards
// (redeem, the code to show), the stations nearby, my appeals. Live: the board of my grids.
"use strict";

const R = { me: null, profile: null, here: null, grids: {}, partners: {}, rates: {}, taskKinds: {}, pieceNames: {},
            clueTexts: {}, photos: {}, notes: {}, slots: {} };
const { el, t } = GG;
const MAX_PHOTOS = 4;

function button(key, onclick, kind = "") {
  return el("button", { type: "button", class: kind, onclick }, t(key));
}

function says(label, outcome) {
  return `${label}${GG.colon()}${outcome}`;
}

// --- asking first --------------------------------------------------------------------------
// A question in the page (not window.confirm): yes resolves true, or the text typed when the
// question asks for one; no resolves null.
function ask(question, yes, field = null) {
  const dialog = document.getElementById("ask");
  const input = document.getElementById("ask-input");
  document.getElementById("ask-text").textContent = question;
  document.getElementById("ask-yes").textContent = yes;
  document.getElementById("ask-field").hidden = !field;
  document.getElementById("ask-label").textContent = field || "";
  input.value = "";
  input.required = Boolean(field);
  return new Promise(resolve => {
    const done = value => {
      dialog.close();
      document.getElementById("ask-yes").onclick = document.getElementById("ask-no").onclick = null;
      resolve(value);
    };
    document.getElementById("ask-no").onclick = () => done(null);
    document.getElementById("ask-yes").onclick = () => {
      if (field && !input.value.trim()) return input.focus();
      done(field ? input.value.trim() : true);
    };
    dialog.oncancel = () => done(null);
    dialog.showModal();
    (field ? input : document.getElementById("ask-no")).focus();
  });
}

// --- photos ------------------------------------------------------------------------------
// Up to four photos per form, each uploaded as soon as it is chosen (POST /v1/photos); the
// command then carries their sha256s. A refusal is said beside the input, in words.
async function upload(key, file) {
  const entry = { name: file.name, src: URL.createObjectURL(file), sha256: null };
  R.photos[key].push(entry);
  entry.done = (async () => {
    const form = new FormData();
    form.append("photo", file);
    try {
      const response = await fetch("/v1/photos", { method: "POST", body: form, headers: GG.headers({}, true) });
      const body = (response.headers.get("content-type") || "").includes("json") ? await response.json() : null;
      if (!response.ok) throw new Error(body && body.title ? `${body.title}${GG.colon()}${body.detail}` : response.statusText);
      entry.sha256 = body.sha256;
    } catch (e) {
      R.photos[key] = R.photos[key].filter(x => x !== entry);
      URL.revokeObjectURL(entry.src);
      photoNote(key, `${entry.name} ${t("r.photo.refused")}${e instanceof TypeError ? t("result.network") : e.message}`);
    }
    drawPhotos(key);
  })();
  drawPhotos(key);
}

function photoNote(key, text) {
  for (const box of document.querySelectorAll(`[data-photos="${key}"]`)) {
    const note = box.querySelector(".photo-note");
    note.textContent = text;
    note.hidden = !text;
  }
}

function photoBox(key) {
  R.photos[key] = R.photos[key] || [];
  const box = el("div", { class: "photos", dataset: { photos: key } });
  drawPhotos(key, box);
  return box;
}

function drawPhotos(key, only = null) {
  const list = R.photos[key] || [];
  for (const box of only ? [only] : document.querySelectorAll(`[data-photos="${key}"]`)) {
    const note = box.querySelector(".photo-note") || el("p", { class: "photo-note outcome problem", role: "alert", hidden: true });
    const input = el("input", { type: "file", accept: "image/*", capture: "environment", multiple: true,
                                class: "photo-input", hidden: list.length >= MAX_PHOTOS,
                                "aria-label": t("r.photo.add") });
    input.addEventListener("change", () => {
      photoNote(key, "");
      const room = MAX_PHOTOS - list.length;
      const files = [...input.files];
      if (files.length > room) photoNote(key, t("r.photo.four"));
      for (const file of files.slice(0, room)) upload(key, file);
    });
    const thumbs = list.map((entry, n) => el("figure", { class: "thumb", dataset: { sha256: entry.sha256 || "" } },
      el("img", { src: entry.src, alt: `${t("r.photo")} ${n + 1}` }),
      el("figcaption", {}, entry.sha256 ? button("r.photo.remove", () => removePhoto(key, entry), "small")
                                       : el("span", { class: "muted" }, t("r.photo.sending")))));
    box.replaceChildren(
      el("label", { class: "photo-pick" }, el("span", {}, `${t("r.photo.add")}（${list.length}/${MAX_PHOTOS}）`), input),
      el("div", { class: "thumbs" }, thumbs), note);
  }
}

function removePhoto(key, entry) {
  R.photos[key] = R.photos[key].filter(x => x !== entry);
  URL.revokeObjectURL(entry.src);
  drawPhotos(key);
}

// The hashes of a form's photos once every upload has ended (a refused one is left out, and said).
async function evidence(key) {
  await Promise.all((R.photos[key] || []).map(entry => entry.done));
  return (R.photos[key] || []).filter(entry => entry.sha256).map(entry => entry.sha256);
}

function clearPhotos(key) {
  for (const entry of R.photos[key] || []) URL.revokeObjectURL(entry.src);
  R.photos[key] = [];
  drawPhotos(key);
}

// --- names -------------------------------------------------------------------------------
function gridName(id) {
  if (!id) return t("r.grid.queue");
  return R.grids[id] || t("r.grid.other");
}

function rateName(district, code) {
  const rate = (R.rates[district] || {})[code];
  const name = rate && (GG.state.lang === "zh" ? rate.name_zh : rate.name_en || rate.name_zh);
  return name || t("r.piece.task");
}

function pay(district, code) {
  const rate = (R.rates[district] || {})[code];
  return rate ? `${GG.money(rate.fen)} · ${rate.points ?? 0} ${t("col.points")}` : "";
}

function month(period) {
  const [year, number] = period.split("-").map(Number);
  if (GG.state.lang === "zh") return `${year}年${number}月`;
  return `${["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][number - 1]} ${year}`;
}

function comma() {
  return GG.state.lang === "zh" ? "，" : ", ";
}

function words(list) {
  return list.join(GG.state.lang === "zh" ? "、" : ", ");
}

// A place beside a list where an action's outcome stays while the list is drawn anew under it.
function slot(id) {
  return document.getElementById(id);
}

// --- money, piece by piece ---------------------------------------------------------------
async function loadMoney() {
  const [balances, pieces] = await Promise.all([GG.get(`/v1/riders/${R.me}/balances`),
                                                GG.get(`/v1/riders/${R.me}/pieces`)]);
  document.getElementById("payable").textContent = GG.money(balances.total.payable);
  GG.table("months", ["col.month", "col.district", "col.awarded", "r.withheld", "col.reversed", "col.paid",
                      "col.payable"],
    balances.months.slice().reverse().map(m => el("tr", {}, el("td", {}, month(m.period)), el("td", {}, m.district),
      ...["awarded", "withheld", "reversed", "paid", "payable"].map(k => el("td", { class: "n" }, GG.money(m[k]))))));
  R.pieces = pieces.pieces;
  showPieces();
}

function pieceName(piece) {
  if (piece.kind === "remedy") return t("r.piece.remedy");
  return R.taskKinds[piece.piece_id] || rateName(piece.district, piece.rate_code);
}

function showPieces() {
  const appealed = new Set((R.appeals || []).filter(a => a.subject.kind === "award").map(a => a.subject.ref));
  const pieces = R.pieces || [];
  for (const piece of pieces) R.pieceNames[piece.piece_id] = `${pieceName(piece)} · ${GG.day(piece.day)}`;
  GG.redraw("pieces", [pieces, [...appealed], R.taskKinds, R.rates], () => GG.table("pieces",
    ["col.task", "col.awarded", "col.actions"], pieces.map(piece => {
      const lines = [];
      if (piece.withheld) {
        lines.push(el("span", { class: "why" }, `${t("r.piece.rate")} ${GG.money(piece.rate_fen)}${comma()}`
          + `${t("r.piece.withheld")} ${GG.money(piece.withheld)}${GG.colon()}${t(`why.${piece.withheld_by}`)}`));
      }
      if (piece.reversed) {
        lines.push(el("span", { class: "why" }, `${t("r.piece.reversed")} ${GG.money(piece.reversed)}${GG.colon()}`
          + (piece.reversed_reason || "")));
      }
      if (piece.reinstated_by) lines.push(el("span", { class: "good" }, t("r.piece.reinstated")));
      const grievance = piece.withheld || piece.reversed;
      const action = appealed.has(piece.piece_id) ? el("span", { class: "tag" }, t("r.piece.appealed"))
        : grievance ? button("r.appeal.this", () => appealPiece(piece), "small") : "";
      return el("tr", { dataset: { piece: piece.piece_id, why: piece.withheld_by || (piece.reversed ? "reversed" : "") } },
        el("td", {}, pieceName(piece), el("br"), el("span", { class: "muted" }, `${GG.day(piece.day)} · ${piece.district}`)),
        el("td", { class: "n" }, el("strong", {}, GG.money(piece.awarded - piece.reversed)),
           ...lines.flatMap(line => [el("br"), line])),
        el("td", {}, action));
    })));
}

async function appealPiece(piece) {
  const text = await ask(`${t("r.appeal.on")}${R.pieceNames[piece.piece_id]}${comma()}${t("r.piece.got")} `
                         + `${GG.money(piece.awarded - piece.reversed)}`, t("r.fileappeal"), t("r.appeal.text"));
  if (text === null) return;
  const filed = await GG.command("file-appeal", {
    rider_id: R.me, district: piece.district, text,
    subject: { kind: "award", ref: piece.piece_id, period: piece.period },
  }, t("r.fileappeal"), slot("pieces-said"));
  if (filed) await refresh();
}

// --- rewards -----------------------------------------------------------------------------
// The code is answered once, by redeem-item: this device keeps it (by redemption) until
// the redemption is closed, so a reload still shows it.
const codeKey = id => `gg.code.${id}`;

function keptCode(id) {
  try {
    return JSON.parse(localStorage.getItem(codeKey(id)));
  } catch (e) {
    return null;
  }
}

// Points (available, held, spent), the catalogues of my districts, my codes and redemptions
// (with their partners' names, from the districts' partners).
async function loadRewards() {
  const districts = R.profile ? R.profile.districts : [];
  const [points, redemptions, ...lists] = await Promise.all([
    GG.get(`/v1/riders/${R.me}/points`), GG.get(`/v1/riders/${R.me}/redemptions`),
    ...districts.flatMap(district => [GG.get(`/v1/districts/${encodeURIComponent(district)}/catalogue`),
                                      GG.get(`/v1/districts/${encodeURIComponent(district)}/partners`)])]);
  document.getElementById("points").textContent = points.available;
  document.getElementById("points-held").textContent = points.held;
  document.getElementById("points-spent").textContent = points.spent;
  // Points belong to the district whose work earned them: each catalogue takes its own ("" : earned before
  // points named a district, which any catalogue takes).
  const by = Object.fromEntries(points.by_district.map(p => [p.district, p.available]));
  const spendable = district => (by[district] || 0) + (by[""] || 0);
  const perDistrict = points.by_district.filter(p => p.district).map(p => `${p.district} ${p.available}`);
  document.getElementById("points-line").textContent =
    [`${t("r.points.earned")} ${points.earned} · ${t("r.points.expired")} ${points.expired}`,
     perDistrict.length ? `${t("r.points.by")} ${perDistrict.join(" · ")}` : ""].filter(Boolean).join(" · ");
  const offered = lists.filter((_, n) => n % 2 === 0).flat();
  for (const partner of lists.filter((_, n) => n % 2 === 1).flat()) R.partners[partner.partner_id] = partner.name;
  if (R.profile) showCatalogue(offered, spendable);
  showCodes(redemptions, R.partners);
  GG.table("redemptions", ["col.item", "col.points", "col.status", "col.time"],
    redemptions.map(r => el("tr", { dataset: { redemption: r.redemption_id, status: r.status } },
      el("td", {}, r.item_name, el("br"), el("span", { class: "muted" }, R.partners[r.partner_id] || "")),
      el("td", { class: "n" }, r.points), el("td", {}, el("span", { class: "tag" }, t(`st.${r.status}`))),
      el("td", {}, GG.time(r.held_at), r.closed_at ? el("br") : null,
         r.closed_at ? el("span", { class: "muted" }, `${t("col.closed")} ${GG.time(r.closed_at)}`) : null))));
}

function showCatalogue(items, spendable) {
  const room = Object.fromEntries(items.map(item => [item.district, spendable(item.district)]));
  GG.redraw("catalogue", [items, room], () => GG.table("catalogue", ["col.item", "col.price", "col.available", "col.actions"],
    items.map(item => {
      const action = item.available <= 0 ? el("span", { class: "muted" }, t("r.soldout"))
        : item.price_points > room[item.district] ? el("span", { class: "muted" }, t("r.short"))
        : button("r.redeem", () => redeem(item), "primary");
      return el("tr", { dataset: { item: item.item_id } },
        el("td", {}, item.name, el("br"), el("span", { class: "muted" },
                                              `${item.partner_name} · ${t(`pk.${item.partner_kind}`)}`)),
        el("td", { class: "n" }, item.price_points), el("td", { class: "n" }, item.available), el("td", {}, action));
    })));
}

// Each redemption still held, with its code large (when this device redeemed it).
function showCodes(redemptions, partners) {
  const cards = [];
  for (const r of redemptions) {
    const kept = keptCode(r.redemption_id);
    if (r.status !== "held" && r.status !== "locked") {
      if (kept) localStorage.removeItem(codeKey(r.redemption_id));  // collected, refused or expired: done with
      continue;
    }
    // Locked after the partner's wrong codes, or redeemed on another device: a new code shows here.
    const locked = r.status === "locked";
    cards.push(el("div", { class: "code-card", dataset: { redemption: r.redemption_id, status: r.status } },
      el("p", { class: "muted" }, t(locked ? "r.code.locked" : kept ? "r.code.show" : "r.code.elsewhere")),
      kept && !locked ? el("p", { class: "code" }, kept.code) : null,
      locked || !kept ? button("r.code.renew", () => renew(r), "primary") : null,
      el("p", {}, el("strong", {}, r.item_name), ` · ${partners[r.partner_id] || (kept && kept.partner) || ""}`),
      el("p", { class: "muted" }, `${t("r.code.until")} ${GG.time(r.expires_at)}`)));
  }
  document.getElementById("codes").replaceChildren(...cards);
}

async function redeem(item) {
  const sure = await ask(`${t("r.redeem.ask")}${item.price_points} ${t("col.points")} → ${item.name}（${item.partner_name}）`,
                         t("r.redeem"));
  if (!sure) return;
  const held = await GG.command("redeem-item", { rider_id: R.me, item_id: item.item_id }, t("r.redeem"),
                                slot("catalogue-said"));
  if (!held) return;
  localStorage.setItem(codeKey(held.redemption_id), JSON.stringify({
    code: held.code, item: item.name, partner: item.partner_name, expires_at: held.expires_at }));
  await refresh();
  const card = document.querySelector(`#codes [data-redemption="${held.redemption_id}"]`);
  if (card) card.scrollIntoView({ block: "center" });
}

async function renew(r) {
  const where = document.querySelector(`#codes [data-redemption="${r.redemption_id}"] button`);
  const fresh = await GG.command("renew-redemption-code", { redemption_id: r.redemption_id }, t("r.code.renew"),
                                 slot("codes-said") || where);
  if (!fresh) return;
  localStorage.setItem(codeKey(r.redemption_id), JSON.stringify({
    code: fresh.code, item: r.item_name, partner: R.partners[r.partner_id] || "", expires_at: fresh.expires_at }));
  await refresh();
}

async function loadStations() {
  document.getElementById("stations-hint").hidden = Boolean(R.here);
  const near = R.here ? await GG.get("/v1/stations", { near: `${R.here.lat},${R.here.lon}` }) : [];
  GG.table("stations", ["col.name", "col.distance", "col.hours", "col.services"],
    near.map(s => el("tr", { dataset: { station: s.station_id } },
      el("td", {}, s.name, el("br"), el("span", { class: "muted" }, s.address)),
      el("td", { class: "n" }, GG.distance(s.distance_m)), el("td", {}, s.hours),
      el("td", {}, words(s.services.map(x => t(`svc.${x}`)))))));
}

// --- my districts: grids by name, rates by name ------------------------------------------
async function loadRates() {
  const rows = [];
  for (const district of R.profile.districts) {
    const schedules = await GG.get(`/v1/districts/${encodeURIComponent(district)}/rate-schedules`);
    // Newest first: a code named in an older schedule keeps its name if the newest left it out.
    R.rates[district] = Object.assign({}, ...schedules.slice().reverse().map(s => s.rates));
    for (const code of Object.keys(schedules.length ? schedules[0].rates : {})) {
      const rate = R.rates[district][code];
      rows.push(el("tr", {}, el("td", {}, district), el("td", {}, rateName(district, code)),
                   el("td", { class: "n" }, GG.money(rate.fen)), el("td", { class: "n" }, rate.points ?? 0)));
    }
  }
  GG.table("rates", ["col.district", "col.kind", "col.amount", "col.points"], rows);
}

async function loadProfile() {
  R.profile = await GG.get(`/v1/riders/${R.me}`);
  if (R.profile.personal && R.profile.personal.name) GG.callMe(R.profile.personal.name);
  for (const district of R.profile.districts) {
    for (const grid of await GG.get(`/v1/districts/${encodeURIComponent(district)}/grids`)) {
      R.grids[grid.grid_id] = `${grid.street} · ${grid.name}`;
    }
  }
  GG.options(document.getElementById("appeal-district"), R.profile.districts.map(d => [d, d]));
  document.getElementById("appeal-district-label").hidden = R.profile.districts.length < 2;
  if (!R.profile.grids.length) GG.say(t("r.nogrid"), true);
}

// --- tasks -------------------------------------------------------------------------------
async function loadOpenTasks() {
  const near = R.here ? `${R.here.lat},${R.here.lon}` : null;
  const open = await GG.get(`/v1/riders/${R.me}/open-tasks`, { near });
  GG.redraw("open-tasks", [open.tasks, R.rates, R.grids], () => GG.table("open-tasks",
    ["col.task", "col.distance", "col.actions"],
    open.tasks.map(task => el("tr", { dataset: { task: task.task_id } },
      el("td", {}, el("strong", {}, task.kind), el("br"),
         el("span", { class: "muted" }, [gridName(task.grid_id), pay(task.district, task.rate_code),
                                         `${t("col.published")} ${GG.time(task.published_at)}`].filter(Boolean).join(" · "))),
      el("td", { class: "n" }, GG.distance(task.distance_m)),
      el("td", {}, button("r.claim", () => claim(task), "primary"))))));
}

async function claim(task) {
  if (await GG.command("claim-task", { task_id: task.task_id, rider_id: R.me }, t("r.claim"), slot("near-said"))) {
    await refresh();
  }
}

async function loadMyTasks() {
  const mine = await GG.get(`/v1/riders/${R.me}/tasks`);
  for (const task of mine.tasks) R.taskKinds[task.task_id] = task.kind;
  // Drawn again only when the tasks changed: a note being typed, the photos chosen, are kept in R.
  GG.redraw("my-tasks", [mine.tasks, R.rates, R.grids], () => {
    const cards = mine.tasks.map(taskCard);
    document.getElementById("my-tasks").replaceChildren(
      ...(cards.length ? cards : [el("p", { class: "muted empty" }, t("r.mytasks.none"))]));
  });
}

function taskCard(task) {
  const claimed = task.status === "claimed";
  const key = `task:${task.task_id}`;
  const note = el("textarea", { rows: 2, maxlength: 500, "aria-label": t("r.note"), placeholder: t("r.note") });
  note.value = R.notes[task.task_id] || "";
  note.addEventListener("input", () => { R.notes[task.task_id] = note.value; });
  const said = R.slots[task.task_id] = R.slots[task.task_id] || el("div", { class: "said" }, el("span"));
  const done = el("button", { type: "button", class: "primary wide" }, t("r.complete"));
  done.addEventListener("click", () => complete(task, note, said.firstChild));
  return el("article", { class: "task-card", dataset: { task: task.task_id, status: task.status } },
    el("header", {}, el("strong", {}, task.kind), " ", el("span", { class: "tag" }, t(`st.${task.status}`))),
    el("p", { class: "muted" }, [gridName(task.grid_id), pay(task.district, task.rate_code)].filter(Boolean).join(" · ")),
    claimed && task.expires_at ? el("p", { class: "muted" }, `${t("r.claim.until")} ${GG.time(task.expires_at)}`) : null,
    task.completion_note ? el("p", {}, `${t("r.note")}${GG.colon()}${task.completion_note}`) : null,
    (task.completion_evidence || []).length
      ? el("div", { class: "thumbs" }, task.completion_evidence.map(hash => GG.photoImg(hash, { thumb: true }))) : null,
    claimed ? el("label", { class: "block" }, el("span", {}, t("r.note")), note) : null,
    claimed ? photoBox(key) : null,
    claimed ? done : null,
    said,
    // Giving up is a small button, away from 完成 and asked about first.
    claimed ? el("p", { class: "give-up" }, button("r.release", () => release(task), "small quiet")) : null);
}

async function complete(task, note, where) {
  const hashes = await evidence(`task:${task.task_id}`);
  const body = { task_id: task.task_id, rider_id: R.me, note: note.value.trim(), evidence_hashes: hashes };
  if (await GG.command("complete-task", body, t("r.complete"), where)) {
    delete R.notes[task.task_id];
    clearPhotos(`task:${task.task_id}`);
    await refresh();
  }
}

async function release(task) {
  if (!await ask(`${t("r.release.ask")}${task.kind}`, t("r.release"))) return;
  if (await GG.command("release-claim", { task_id: task.task_id, rider_id: R.me }, t("r.release"), slot("mine-said"))) {
    clearPhotos(`task:${task.task_id}`);
    await refresh();
  }
}

// --- clues and appeals -------------------------------------------------------------------
async function loadClues() {
  const page = await GG.get(`/v1/riders/${R.me}/clues`, { limit: 50 });
  R.clues = page.clues.sort((a, b) => b.reported_at.localeCompare(a.reported_at));
  for (const clue of R.clues) R.clueTexts[clue.clue_id] = clue.text;
  showClues();
}

// Drawn when the clues or my appeals arrive, whichever comes last (a clue appealed says so).
function showClues() {
  const clues = R.clues || [];
  const appealed = new Set((R.appeals || []).filter(a => a.subject.kind === "clue").map(a => a.subject.ref));
  GG.redraw("my-clues", [clues, R.grids, [...appealed]], () => GG.table("my-clues", ["col.reported", "col.text", "col.status"],
    clues.map(c => el("tr", { dataset: { clue: c.clue_id } },
      el("td", {}, GG.time(c.reported_at)),
      el("td", {}, el("strong", {}, t(`cat.${c.category}`)), el("br"), c.text, el("br"),
         el("span", { class: "muted" }, gridName(c.grid_id)),
         (c.evidence_hashes || []).length
           ? el("div", { class: "thumbs" }, c.evidence_hashes.map(hash => GG.photoImg(hash, { thumb: true }))) : null),
      // The officer's reason for a rejection; a closed clue's reason is the engine's, not a person's words.
      el("td", {}, el("span", { class: "tag" }, t(`st.${c.status}`)), ...(c.status === "rejected" && c.reason
        ? [el("br"), el("span", { class: "muted" }, c.reason)] : []),
         c.status !== "rejected" ? null : appealed.has(c.clue_id) ? [el("br"), el("span", { class: "tag" }, t("r.piece.appealed"))]
           : [el("br"), button("r.appeal.this", () => appealClue(c), "small")])))));
}

async function appealClue(clue) {
  const text = await ask(`${t("r.appeal.clue")}${clue.text}`, t("r.fileappeal"), t("r.appeal.text"));
  if (text === null) return;
  const filed = await GG.command("file-appeal", { rider_id: R.me, district: clue.district, text,
                                                  subject: { kind: "clue", ref: clue.clue_id } },
                                 t("r.fileappeal"), slot("clues-said"));
  if (filed) await refresh();
}

function subjectWords(subject) {
  const about = { award: R.pieceNames[subject.ref], task: R.taskKinds[subject.ref], clue: R.clueTexts[subject.ref],
                  outside: subject.ref }[subject.kind];
  return about ? `${t(`subject.${subject.kind}`)}${GG.colon()}${about}` : t(`subject.${subject.kind}`);
}

async function loadAppeals() {
  const page = await GG.get(`/v1/riders/${R.me}/appeals`, { limit: 50 });
  R.appeals = page.appeals;
  showPieces();
  showClues();
  GG.table("my-appeals", ["col.filed", "wb.subject", "col.status"],
    page.appeals.map(a => el("tr", { dataset: { appeal: a.appeal_id } }, el("td", {}, GG.time(a.filed_at)),
      el("td", {}, subjectWords(a.subject), el("br"), el("span", { class: "muted" }, a.text)),
      el("td", {}, el("span", { class: "tag" }, t(`st.${a.status}`)), a.outcome ? ` ${t(`st.${a.outcome}`)}` : "",
         a.reason ? el("br") : null, a.reason ? el("span", { class: "muted" }, a.reason) : null))));
}

// --- where the rider stands --------------------------------------------------------------
function place() {
  const lat = Number(document.getElementById("lat").value);
  const lon = Number(document.getElementById("lon").value);
  const typed = document.getElementById("lat").value && document.getElementById("lon").value;
  R.here = typed && Math.abs(lat) <= 90 && Math.abs(lon) <= 180 ? { lat, lon } : null;
  const where = R.here ? `${t("r.location")} ${lat.toFixed(5)}, ${lon.toFixed(5)}` : t("r.location.none");
  document.getElementById("where").textContent = where;
  document.getElementById("report-where").textContent = R.here ? `${t("r.report.where")} ${lat.toFixed(5)}, ${lon.toFixed(5)}`
    : t("r.report.where.none");
}

function located() {
  place();
  Promise.all([loadOpenTasks(), loadStations()]).catch(e => GG.say(e.message, true));
}

function locate() {
  const where = document.getElementById("locate");
  if (!navigator.geolocation) return GG.say(t("r.location.denied"), true, where);
  navigator.geolocation.getCurrentPosition(position => {
    document.getElementById("lat").value = position.coords.latitude.toFixed(6);
    document.getElementById("lon").value = position.coords.longitude.toFixed(6);
    located();
  }, () => GG.say(t("r.location.denied"), true, where), { enableHighAccuracy: true, timeout: 10000 });
}

async function report(e) {
  e.preventDefault();
  const send = document.getElementById("report-send");
  place();
  if (!R.here) return GG.say(says(t("r.report"), t("r.report.needplace")), true, send);
  const text = document.getElementById("report-text");
  const body = { rider_id: R.me, category: document.getElementById("report-category").value, text: text.value.trim(),
                 location: R.here, evidence_hashes: await evidence("report") };
  // Where the rider stands decides the grid. A grid drawn before grids had boundaries is named as
  // the fallback the server takes only when no boundary holds the place.
  if (R.profile && R.profile.grids.length) body.grid_id = R.profile.grids[0];
  const done = await GG.command("report-clue", body, t("r.report"), send);
  if (!done) return;
  text.value = "";
  clearPhotos("report");
  GG.say(says(t("r.report"), `${t("result.ok")} · ${done.grid_id ? `${t("r.report.ingrid")}${gridName(done.grid_id)}`
                                                                  : t("r.report.queued")}`), false, send);
  await refresh();
}

async function appealOther(e) {
  e.preventDefault();
  const ref = document.getElementById("appeal-ref");
  const text = document.getElementById("appeal-text");
  const filed = await GG.command("file-appeal", {
    rider_id: R.me, district: document.getElementById("appeal-district").value,
    subject: { kind: "outside", ref: ref.value.trim() }, text: text.value.trim(),
  }, t("r.fileappeal"), e.target.querySelector("button"));
  if (filed) {
    ref.value = text.value = "";
    await refresh();
  }
}

function wire() {
  document.getElementById("report-category").replaceChildren(
    ...GG.CATEGORIES.map(c => el("option", { value: c, "data-t": `cat.${c}` }, t(`cat.${c}`))));
  document.getElementById("report-photos").replaceWith(photoBox("report"));
  // Outcomes of actions in lists that are drawn anew: said just above the list.
  for (const [list, id] of [["open-tasks", "near-said"], ["pieces", "pieces-said"], ["catalogue", "catalogue-said"],
                            ["my-clues", "clues-said"]]) {
    document.getElementById(list).closest(".scroll").before(el("span", { id, class: "said-anchor" }));
  }
  document.querySelector("#mine h2").after(el("span", { id: "mine-said", class: "said-anchor" }));
  document.getElementById("codes").before(el("span", { id: "codes-said", class: "said-anchor" }));
  document.getElementById("locate").addEventListener("click", locate);
  for (const id of ["lat", "lon"]) document.getElementById(id).addEventListener("change", located);
  document.getElementById("report-form").addEventListener("submit", report);
  document.getElementById("appeal-form").addEventListener("submit", appealOther);
}

async function refresh() {
  try {
    await Promise.all([loadMoney(), loadOpenTasks(), loadStations(), loadMyTasks(), loadClues(), loadAppeals(),
                       loadRewards()]);
  } catch (e) {
    GG.say(e.message, true);
  }
}

GG.start({
  roles: ["rider"],
  async start(claims) {
    R.me = claims.sub;
    wire();
    GG.onLanguage(() => {
      place();
      for (const key of Object.keys(R.photos)) drawPhotos(key);
      refresh();
      if (R.profile) loadRates().catch(() => {});
    });
    // The lists do not need the profile: they load while it, the rates and the catalogue do,
    // and are drawn again with the names once those are in.
    await Promise.all([loadProfile().then(() => Promise.all([loadRates(), loadRewards()])).then(refresh)
                         .catch(e => GG.say(e.message, true)), refresh()]);
  },
  // Every event the rider's stream brings (its own, and the board of its grids) redraws what changed.
  event: (() => {
    const later = GG.debounce(refresh, 300);
    return () => later();
  })(),
});
