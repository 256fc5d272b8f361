// The partner's page, at the counter (phone first): the rider shows six digits, the
// partner types them and presses once — the code itself names the redemption among
// those waiting here — and the page says what to hand over. The redemptions waiting
// (held), each refusable with a reason, and those closed lately.
"use strict";

const P = { me: null, held: [], ambiguous: null };
const { el, t } = GG;

function button(key, onclick, kind = "") {
  return el("button", { type: "button", class: kind, onclick }, t(key));
}

function points(n) {
  return `${n} ${t("p.points")}`;
}

// Its own name, kind and station, from its district's partners and stations.
async function loadName() {
  const district = encodeURIComponent(GG.state.district);
  const [partners, stations] = await Promise.all([GG.get(`/v1/districts/${district}/partners`),
                                                  GG.get(`/v1/districts/${district}/stations`, { closed: true })]);
  const mine = partners.find(p => p.partner_id === P.me);
  const station = mine && stations.find(s => s.station_id === mine.station_id);
  if (mine) GG.callMe(mine.name);  // the header names it, not by its token's id
  document.getElementById("partner-name").textContent = [
    ...(mine ? [mine.name, t(`pk.${mine.kind}`)] : []), ...(station ? [station.name] : []), GG.state.district].join(" · ");
}

async function loadHeld() {
  P.held = await GG.get(`/v1/partners/${P.me}/queue`, { status: "held" });
  // The district's stream is busy: the queue is drawn again only when it changed, a reason typed kept.
  GG.redraw("held", [P.held, P.ambiguous], () => GG.table("held", ["col.item", "col.points", "col.rider", "col.time",
                                                                   "col.actions"],
    P.held.map(r => el("tr", { dataset: { redemption: r.redemption_id } },
      el("td", {}, r.item_name), el("td", { class: "n" }, r.points), el("td", {}, rider(r)),
      el("td", {}, `${t("col.heldat")} ${GG.time(r.held_at)}`, el("br"),
         el("strong", {}, `${t("col.expires")} ${GG.time(r.expires_at)}`)),
      el("td", {}, actions(r))))));
  // The form stays open with the queue empty: the list is a read that may trail, and the code's
  // own lookup says why it confirms nothing (locked, run out, or none of this counter's).
}

function rider(r) {
  return r.rider_name || t("p.rider.unnamed");
}

function actions(r) {
  const reason = el("input", { "aria-label": t("wb.reason"), placeholder: t("wb.reason"), maxlength: 2000, size: 8 });
  const refuse = button("p.refuse", async () => {
    if (!reason.value.trim()) return reason.focus();
    // Said under the list: a refused row leaves it, and its answer with it.
    if (await GG.command("refuse-redemption", { redemption_id: r.redemption_id, reason: reason.value.trim() },
                         t("p.refuse"), document.getElementById("held").closest(".scroll"))) await refresh();
  }, "danger");
  // Two waiting with the same code (rare): the partner says which, with the code typed above.
  const which = P.ambiguous ? button("p.this.one", () => confirmOne(r.redemption_id, P.ambiguous), "primary") : null;
  return el("span", { class: "row" }, which, reason, refuse);
}

async function loadClosed() {
  const status = document.getElementById("recent-status").value;
  const closed = await GG.get(`/v1/partners/${P.me}/queue`, { status });
  const recent = closed.slice(0, 50);
  GG.redraw("closed", recent, () => GG.table("closed", ["col.item", "col.points", "col.rider", "col.closed",
                                                        "wb.reason"],
    recent.map(r => el("tr", { dataset: { redemption: r.redemption_id, status: r.status } },
      el("td", {}, r.item_name), el("td", { class: "n" }, r.points), el("td", {}, rider(r)),
      el("td", {}, GG.time(r.closed_at)), el("td", {}, r.reason || "–")))));
}

// What to hand over, said large where the partner's eyes are; it stays until the next code.
function handOver(done) {
  const box = document.getElementById("hand-over");
  box.replaceChildren(
    el("p", {}, t("p.handover")),
    el("p", { class: "item" }, done.item),
    el("p", {}, `${points(done.points)} · ${t("col.rider")}${GG.colon()}${done.rider}`));
  box.hidden = false;
}

async function confirm(e) {
  e.preventDefault();
  const input = document.getElementById("confirm-code");
  const code = input.value.replace(/\s/g, "");
  const submit = document.getElementById("confirm-do");
  document.getElementById("hand-over").hidden = true;
  if (!/^\d{6}$/.test(code)) {
    GG.say(`${t("p.confirm.do")}${GG.colon()}${t("p.code.bad")}`, true, submit);
    return input.focus();
  }
  await send({ code }, submit);
}

// The old form, the redemption named: when two waiting share the code just typed.
async function confirmOne(redemptionId, code) {
  await send({ redemption_id: redemptionId, code }, document.getElementById("confirm-do"));
}

async function send(body, where) {
  const input = document.getElementById("confirm-code");
  const waiting = new Map(P.held.map(r => [r.redemption_id, r]));
  where.disabled = true;
  try {
    const done = await GG.command("confirm-redemption", body, t("p.confirm.do"), where, problem => {
      // Two of those waiting have this code: the rows offer the choice.
      if (problem && problem.type && problem.type.endsWith(":redemption-code-ambiguous")) P.ambiguous = body.code;
    });
    if (done) {
      const row = waiting.get(done.redemption_id);
      handOver({ item: done.item, points: done.points_spent, rider: row ? rider(row) : t("p.rider.unnamed") });
      input.value = "";
      P.ambiguous = null;
      await refresh();
    } else {
      if (P.ambiguous) await refresh();
      input.select();  // the problem is said beside the button: type the code again
    }
  } finally {
    where.disabled = false;
  }
}

function wire() {
  document.getElementById("confirm-form").addEventListener("submit", confirm);
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
    document.getElementById("confirm-code").focus();
  },
  event: (() => {
    const later = GG.debounce(refresh, 300);
    return type => { if (/^(Redemption|Item|Stock)/.test(type)) later(); };
  })(),
});
