// The rider's page, phone first: money and points, tasks open nearby (claim,
// complete), the stations nearby, a clue reported from where the rider stands,
// rewards for points (redeem, the code to show, my redemptions), clues and appeals.
"use strict";

const R = { me: null, profile: null, here: null, grids: {}, partners: {} };
const { el, t } = GG;

function button(key, onclick, kind = "") {
  return el("button", { type: "button", class: kind, onclick }, t(key));
}

async function act(name, body, label) {
  if (await GG.command(name, body, label)) await refresh();
}

async function loadMoney() {
  const balances = await GG.get(`/v1/riders/${R.me}/balances`);
  document.getElementById("payable").textContent = GG.money(balances.total.payable);
  GG.table("months", ["col.month", "col.district", "col.awarded", "col.reversed", "col.paid", "col.payable"],
    balances.months.slice().reverse().map(m => el("tr", {}, el("td", {}, m.period), el("td", {}, m.district),
      ...["awarded", "reversed", "paid", "payable"].map(k => el("td", { class: "n" }, GG.money(m[k]))))));
}

// --- rewards ----------------------------------------------------------------------------
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

function words(list) {
  return list.join(GG.state.lang === "zh" ? "、" : ", ");
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
      el("p", { class: "muted" }, `${t("r.code.until")} ${GG.time(r.expires_at)} · ${t("col.ref")} ${r.redemption_id.slice(0, 8)}`)));
  }
  document.getElementById("codes").replaceChildren(...cards);
}

async function redeem(item) {
  const held = await GG.command("redeem-item", { rider_id: R.me, item_id: item.item_id }, t("r.redeem"));
  if (!held) return;
  localStorage.setItem(codeKey(held.redemption_id), JSON.stringify({
    code: held.code, item: item.name, partner: item.partner_name, expires_at: held.expires_at }));
  await refresh();
  const card = document.querySelector(`#codes [data-redemption="${held.redemption_id}"]`);
  if (card) card.scrollIntoView({ block: "center" });
}

async function renew(r) {
  const fresh = await GG.command("renew-redemption-code", { redemption_id: r.redemption_id }, t("r.code.renew"));
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

async function loadRates() {
  const rows = [];
  for (const district of R.profile.districts) {
    const [latest] = await GG.get(`/v1/districts/${encodeURIComponent(district)}/rate-schedules`);
    for (const [code, rate] of Object.entries(latest ? latest.rates : {})) {
      rows.push(el("tr", {}, el("td", {}, district), el("td", {}, code), el("td", { class: "n" }, GG.money(rate.fen)),
                   el("td", { class: "n" }, rate.points ?? 0)));
    }
  }
  GG.table("rates", ["col.district", "col.kind", "col.amount", "col.points"], rows);
}

async function loadProfile() {
  R.profile = await GG.get(`/v1/riders/${R.me}`);
  for (const district of R.profile.districts) {
    for (const grid of await GG.get(`/v1/districts/${encodeURIComponent(district)}/grids`)) {
      R.grids[grid.grid_id] = `${grid.street} · ${grid.name}`;
    }
  }
  const select = document.getElementById("report-grid");
  select.replaceChildren(...R.profile.grids.map(g => el("option", { value: g }, R.grids[g] || g.slice(0, 8))));
  document.getElementById("appeal-district").replaceChildren(
    ...R.profile.districts.map(d => el("option", { value: d }, d)));
  if (!R.profile.grids.length) GG.say(t("r.nogrid"), true);
}

async function loadOpenTasks() {
  const near = R.here ? `${R.here.lat},${R.here.lon}` : null;
  const open = await GG.get(`/v1/riders/${R.me}/open-tasks`, { near });
  GG.redraw("open-tasks", open.tasks, () => GG.table("open-tasks", ["col.kind", "col.distance", "col.published", "col.actions"],
    open.tasks.map(task => el("tr", { dataset: { task: task.task_id } }, el("td", {}, task.kind),
      el("td", { class: "n" }, GG.distance(task.distance_m)), el("td", {}, GG.time(task.published_at)),
      el("td", {}, button("r.claim", () => act("claim-task", { task_id: task.task_id, rider_id: R.me }, t("r.claim")),
                          "primary"))))));
}

async function loadMyTasks() {
  const mine = await GG.get(`/v1/riders/${R.me}/tasks`);
  // Drawn again only when the tasks changed: a note being typed is not lost to the live stream.
  GG.redraw("my-tasks", mine.tasks, () => GG.table("my-tasks", ["col.kind", "col.status", "col.actions"], mine.tasks.map(task => {
    const note = el("input", { "aria-label": t("r.note"), placeholder: t("r.note"), maxlength: 500, size: 10 });
    const actions = task.status === "claimed" ? el("span", { class: "row" }, note,
      button("r.complete", () => act("complete-task", { task_id: task.task_id, rider_id: R.me, note: note.value.trim() },
                                     t("r.complete")), "primary"),
      button("r.release", () => act("release-claim", { task_id: task.task_id, rider_id: R.me }, t("r.release"))))
      : "";
    return el("tr", { dataset: { task: task.task_id, status: task.status } }, el("td", {}, task.kind),
              el("td", {}, el("span", { class: "tag" }, t(`st.${task.status}`))), el("td", {}, actions));
  })));
}

async function loadClues() {
  const page = await GG.get(`/v1/riders/${R.me}/clues`, { limit: 50 });
  GG.table("my-clues", ["col.reported", "col.category", "col.text", "col.status"],
    page.clues.sort((a, b) => b.reported_at.localeCompare(a.reported_at)).map(c => el("tr", { dataset: { clue: c.clue_id } },
      el("td", {}, GG.time(c.reported_at)), el("td", {}, t(`cat.${c.category}`)), el("td", {}, c.text),
      el("td", {}, el("span", { class: "tag" }, t(`st.${c.status}`))))));
}

async function loadAppeals() {
  const page = await GG.get(`/v1/riders/${R.me}/appeals`, { limit: 50 });
  GG.table("my-appeals", ["col.filed", "wb.subject", "col.text", "col.status"],
    page.appeals.map(a => el("tr", {}, el("td", {}, GG.time(a.filed_at)), el("td", {}, t(`subject.${a.subject.kind}`)),
      el("td", {}, a.text), el("td", {}, el("span", { class: "tag" }, t(`st.${a.status}`)),
                                 a.outcome ? ` ${t(`st.${a.outcome}`)}` : ""))));
}

function place() {
  const lat = Number(document.getElementById("lat").value);
  const lon = Number(document.getElementById("lon").value);
  const typed = document.getElementById("lat").value && document.getElementById("lon").value;
  R.here = typed && Math.abs(lat) <= 90 && Math.abs(lon) <= 180 ? { lat, lon } : null;
  document.getElementById("where").textContent = R.here
    ? `${t("r.location")} ${lat.toFixed(5)}, ${lon.toFixed(5)}` : t("r.location.none");
}

function locate() {
  if (!navigator.geolocation) return GG.say(t("r.location.denied"), true);
  navigator.geolocation.getCurrentPosition(position => {
    document.getElementById("lat").value = position.coords.latitude.toFixed(6);
    document.getElementById("lon").value = position.coords.longitude.toFixed(6);
    place();
    Promise.all([loadOpenTasks(), loadStations()]).catch(e => GG.say(e.message, true));
  }, () => GG.say(t("r.location.denied"), true), { enableHighAccuracy: true, timeout: 10000 });
}

function wire() {
  document.getElementById("report-category").replaceChildren(
    ...GG.CATEGORIES.map(c => el("option", { value: c, "data-t": `cat.${c}` }, t(`cat.${c}`))));
  document.getElementById("locate").addEventListener("click", locate);
  for (const id of ["lat", "lon"]) {
    document.getElementById(id).addEventListener("change", () => {
      place();
      Promise.all([loadOpenTasks(), loadStations()]).catch(e => GG.say(e.message, true));
    });
  }
  document.getElementById("report-form").addEventListener("submit", async e => {
    e.preventDefault();
    place();
    if (!R.here) return GG.say(t("r.location.denied"), true);
    const text = document.getElementById("report-text");
    const done = await GG.command("report-clue", {
      rider_id: R.me, grid_id: document.getElementById("report-grid").value,
      category: document.getElementById("report-category").value, text: text.value.trim(), location: R.here,
    }, t("r.report"));
    if (done) {
      text.value = "";
      await refresh();
    }
  });
  document.getElementById("appeal-form").addEventListener("submit", async e => {
    e.preventDefault();
    const kind = document.getElementById("appeal-kind").value;
    const subject = { kind, ref: document.getElementById("appeal-ref").value.trim(),
                      ...(kind === "award" ? { period: GG.chinaToday().slice(0, 7) } : {}) };
    const text = document.getElementById("appeal-text");
    if (await GG.command("file-appeal", { rider_id: R.me, district: document.getElementById("appeal-district").value,
                                          subject, text: text.value.trim() }, t("r.fileappeal"))) {
      text.value = "";
      await refresh();
    }
  });
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
    GG.onLanguage(() => { refresh(); loadRates().catch(() => {}); });
    // The lists do not need the profile: they load while it, the rates and the catalogue do.
    await Promise.all([loadProfile().then(() => Promise.all([loadRates(), loadRewards()]))
                         .catch(e => GG.say(e.message, true)), refresh()]);
  },
  event: (() => {
    const later = GG.debounce(refresh, 300);
    return () => later();
  })(),
});
