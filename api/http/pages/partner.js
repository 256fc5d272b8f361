// The partner's page, at the counter (phone first): the redemptions handed to it and
// waiting (held), confirmed with the six digits the rider shows or refused with a
// reason, and those closed lately. Every action is a command; the page says how it went.
"use strict";

const P = { me: null, held: [], chosen: null };
const { el, t } = GG;

function button(key, onclick, kind = "") {
  return el("button", { type: "button", class: kind, onclick }, t(key));
}

// The redemption's short reference: the rider's page shows the same beside the code.
function ref(id) {
  return id.slice(0, 8);
}

// Its own name, kind and station, from its district's partners and stations.
async function loadName() {
  const district = encodeURIComponent(GG.state.district);
  const [partners, stations] = await Promise.all([GG.get(`/v1/districts/${district}/partners`),
                                                  GG.get(`/v1/districts/${district}/stations`, { closed: true })]);
  const mine = partners.find(p => p.partner_id === P.me);
  const station = mine && stations.find(s => s.station_id === mine.station_id);
  document.getElementById("partner-name").textContent = [
    ...(mine ? [mine.name, t(`pk.${mine.kind}`)] : []), ...(station ? [station.name] : []), GG.state.district].join(" · ");
}

async function loadHeld() {
  P.held = await GG.get(`/v1/partners/${P.me}/queue`, { status: "held" });
  if (!P.held.some(r => r.redemption_id === P.chosen)) P.chosen = P.held.length ? P.held[0].redemption_id : null;
  // The district's stream is busy: the queue is drawn again only when it changed, a reason typed kept.
  GG.redraw("held", P.held, () => GG.table("held", ["col.item", "col.points", "col.time", "col.actions"],
    P.held.map(r => el("tr", { class: r.redemption_id === P.chosen ? "chosen" : null,
                               dataset: { redemption: r.redemption_id } },
      el("td", {}, r.item_name, el("br"), el("span", { class: "muted" }, `${t("col.ref")} ${ref(r.redemption_id)}`)),
      el("td", { class: "n" }, r.points),
      el("td", {}, `${t("col.heldat")} ${GG.time(r.held_at)}`, el("br"),
         el("strong", {}, `${t("col.expires")} ${GG.time(r.expires_at)}`)),
      el("td", {}, actions(r))))));
  const select = document.getElementById("confirm-which");
  GG.options(select, P.held.length ? P.held.map(r => [r.redemption_id, `${ref(r.redemption_id)} · ${r.item_name} · ${r.points}`])
                                   : [["", t("p.nothing")]]);
  select.disabled = !P.held.length;
  if (P.chosen) select.value = P.chosen;
  for (const row of document.querySelectorAll("#held tr[data-redemption]")) {
    row.classList.toggle("chosen", row.dataset.redemption === P.chosen);
  }
}

function actions(r) {
  const reason = el("input", { "aria-label": t("wb.reason"), placeholder: t("wb.reason"), maxlength: 2000, size: 8 });
  return el("span", { class: "row" },
    button("p.pick", () => choose(r.redemption_id), "primary"), reason,
    button("p.refuse", async () => {
      if (!reason.value.trim()) return reason.focus();
      if (await GG.command("refuse-redemption", { redemption_id: r.redemption_id, reason: reason.value.trim() },
                           t("p.refuse"))) await refresh();
    }, "danger"));
}

// A row's 核销: that redemption in the form, the cursor in the code box.
function choose(id) {
  P.chosen = id;
  document.getElementById("confirm-which").value = id;
  for (const row of document.querySelectorAll("#held tr[data-redemption]")) {
    row.classList.toggle("chosen", row.dataset.redemption === id);
  }
  document.getElementById("confirm-code").focus();
}

async function loadClosed() {
  const status = document.getElementById("recent-status").value;
  const closed = await GG.get(`/v1/partners/${P.me}/queue`, { status });
  const recent = closed.slice(0, 50);
  GG.redraw("closed", recent, () => GG.table("closed", ["col.item", "col.points", "col.closed", "wb.reason"],
    recent.map(r => el("tr", { dataset: { redemption: r.redemption_id, status: r.status } },
      el("td", {}, r.item_name, el("br"), el("span", { class: "muted" }, `${t("col.ref")} ${ref(r.redemption_id)}`)),
      el("td", { class: "n" }, r.points), el("td", {}, GG.time(r.closed_at)), el("td", {}, r.reason || "–")))));
}

async function confirm(e) {
  e.preventDefault();
  const label = t("p.confirm.do");
  const input = document.getElementById("confirm-code");
  const code = input.value.replace(/\s/g, "");
  const which = document.getElementById("confirm-which").value;
  if (!which) return GG.say(`${label}${GG.colon()}${t("p.nothing")}`, true);
  if (!/^\d{6}$/.test(code)) {
    GG.say(`${label}${GG.colon()}${t("p.code.bad")}`, true);
    return input.focus();
  }
  const submit = e.target.querySelector("button");
  submit.disabled = true;
  try {
    if (await GG.command("confirm-redemption", { redemption_id: which, code }, label)) {
      input.value = "";
      await refresh();
    } else {
      input.select();  // the problem is on the result line: type the code again
    }
  } finally {
    submit.disabled = false;
  }
}

function wire() {
  document.getElementById("confirm-form").addEventListener("submit", confirm);
  document.getElementById("confirm-which").addEventListener("change", e => choose(e.target.value));
  document.getElementById("recent-status").addEventListener("change", () => loadClosed().catch(e => GG.say(e.message, true)));
}

async function refresh() {
  try {
    await Promise.all([loadHeld(), loadClosed()]);
  } catch (e) {
    GG.say(e.message, true);
  }
}

GG.start({
  roles: ["partner"],
  async start(claims) {
    P.me = claims.sub;
    wire();
    GG.onLanguage(() => { refresh(); loadName().catch(() => {}); });
    await Promise.all([loadName().catch(e => GG.say(e.message, true)), refresh()]);
  },
  event: (() => {
    const later = GG.debounce(refresh, 300);
    return type => { if (/^(Redemption|Item|Stock)/.test(type)) later(); };
  })(),
});
