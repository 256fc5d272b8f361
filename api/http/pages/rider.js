// The rider's page, phone first: money and points, tasks open nearby (claim,
// complete), a clue reported from where the rider stands, clues and appeals.
"use strict";

const R = { me: null, profile: null, here: null, grids: {} };
const { el, t } = GG;

function button(key, onclick, kind = "") {
  return el("button", { type: "button", class: kind, onclick }, t(key));
}

async function act(name, body, label) {
  if (await GG.command(name, body, label)) await refresh();
}

async function loadMoney() {
  const [balances, points] = await Promise.all([GG.get(`/v1/riders/${R.me}/balances`),
                                                GG.get(`/v1/riders/${R.me}/points`)]);
  document.getElementById("payable").textContent = GG.money(balances.total.payable);
  GG.table("months", ["col.month", "col.district", "col.awarded", "col.reversed", "col.paid", "col.payable"],
    balances.months.slice().reverse().map(m => el("tr", {}, el("td", {}, m.period), el("td", {}, m.district),
      ...["awarded", "reversed", "paid", "payable"].map(k => el("td", { class: "n" }, GG.money(m[k]))))));
  document.getElementById("points").textContent = points.balance;
  document.getElementById("points-line").textContent =
    `+${points.earned} / −${points.redeemed} / ${t("ev.PointsExpired")} ${points.expired}`;
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
  GG.table("open-tasks", ["col.kind", "col.distance", "col.published", "col.actions"],
    open.tasks.map(task => el("tr", { dataset: { task: task.task_id } }, el("td", {}, task.kind),
      el("td", { class: "n" }, GG.distance(task.distance_m)), el("td", {}, GG.time(task.published_at)),
      el("td", {}, button("r.claim", () => act("claim-task", { task_id: task.task_id, rider_id: R.me }, t("r.claim")),
                          "primary")))));
}

async function loadMyTasks() {
  const mine = await GG.get(`/v1/riders/${R.me}/tasks`);
  GG.table("my-tasks", ["col.kind", "col.status", "col.actions"], mine.tasks.map(task => {
    const note = el("input", { "aria-label": t("r.note"), placeholder: t("r.note"), maxlength: 500, size: 10 });
    const actions = task.status === "claimed" ? el("span", { class: "row" }, note,
      button("r.complete", () => act("complete-task", { task_id: task.task_id, rider_id: R.me, note: note.value.trim() },
                                     t("r.complete")), "primary"),
      button("r.release", () => act("release-claim", { task_id: task.task_id, rider_id: R.me }, t("r.release"))))
      : "";
    return el("tr", { dataset: { task: task.task_id, status: task.status } }, el("td", {}, task.kind),
              el("td", {}, el("span", { class: "tag" }, t(`st.${task.status}`))), el("td", {}, actions));
  }));
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
    loadOpenTasks().catch(e => GG.say(e.message, true));
  }, () => GG.say(t("r.location.denied"), true), { enableHighAccuracy: true, timeout: 10000 });
}

function wire() {
  document.getElementById("report-category").replaceChildren(
    ...GG.CATEGORIES.map(c => el("option", { value: c, "data-t": `cat.${c}` }, t(`cat.${c}`))));
  document.getElementById("locate").addEventListener("click", locate);
  for (const id of ["lat", "lon"]) {
    document.getElementById(id).addEventListener("change", () => { place(); loadOpenTasks().catch(() => {}); });
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
    await Promise.all([loadMoney(), loadOpenTasks(), loadMyTasks(), loadClues(), loadAppeals()]);
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
    // The lists do not need the profile: they load while it and the rates do.
    await Promise.all([loadProfile().then(loadRates).catch(e => GG.say(e.message, true)), refresh()]);
  },
  event: (() => {
    const later = GG.debounce(refresh, 300);
    return () => later();
  })(),
});
