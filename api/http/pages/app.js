// What every page shares: words in the chosen language, money and time as people
// read them, the server's session (who is signed in: the page never holds a token), the API
// (reads, and commands with an idempotency key and the session's CSRF token), the result of
// an action in words, and the live event stream with its true state.
"use strict";

const GG = (() => {
  // `claims`: the session's role, sub, districts and grids (GET /auth/session), null when signed out;
  // `csrf`: the session's token for commands, kept in this closure's state only, never stored.
  const state = { lang: localStorage.getItem("gg.lang") || "zh", claims: null, csrf: null, district: null,
                  position: 0, onLanguage: [], live: null, page: null };
  const HOME_OF = { rider: "/rider", auditor: "/audit", grid_officer: "/workbench", district_admin: "/workbench",
                    service: "/workbench", partner: "/partner" };

  // --- words --------------------------------------------------------------------------
  function t(key) {
    return WORDS[state.lang][key] ?? WORDS.zh[key] ?? key;
  }

  function translate() {
    document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
    for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
    for (const el of document.querySelectorAll("[data-t-placeholder]")) el.placeholder = t(el.dataset.tPlaceholder);
    for (const el of document.querySelectorAll("[data-t-label]")) el.setAttribute("aria-label", t(el.dataset.tLabel));
    document.title = `${t(document.body.dataset.page)} · ${t("app.name")}`;
    const live = document.getElementById("live");
    live.textContent = t(`live.${live.dataset.state}`);
    if (state.claims) showWho();
    for (const redraw of state.onLanguage) redraw();
  }

  // The caller line: the role, and the person's name once a page knows it (an id is no name: it is kept,
  // whole, for copying, in data-id).
  function showWho() {
    const node = document.getElementById("who");
    node.textContent = [t(`role.${state.claims.role}`), state.name].filter(Boolean).join(" · ");
    node.dataset.id = state.claims.sub;
  }

  // An officer's or admin's name, from the district's staff directory (none there: the role alone).
  async function nameFromStaff() {
    if (!["grid_officer", "district_admin"].includes(state.claims.role) || !state.district) return;
    try {
      const { staff } = await get(`/v1/districts/${encodeURIComponent(state.district)}/staff`);
      const me = staff.find(member => member.staff_id === state.claims.sub);
      if (me) { state.name = me.display_name; showWho(); }
    } catch (e) { /* the role alone, as before */ }
  }

  function colon() {
    return state.lang === "zh" ? "：" : ": ";
  }

  function toggleLanguage() {
    state.lang = state.lang === "zh" ? "en" : "zh";
    localStorage.setItem("gg.lang", state.lang);
    translate();
    // A signed-out page asks again: the reason comes in the language now chosen.
    if (!state.claims && state.page) open(state.page);
  }

  // --- money and time -----------------------------------------------------------------
  // Money is integer fen end to end: shown as ¥ with separators, typed as yuan, never a float.
  function money(fen) {
    const whole = BigInt(fen);
    const sign = whole < 0n ? "-" : "";
    const abs = whole < 0n ? -whole : whole;
    const yuan = new Intl.NumberFormat("en-US").format(abs / 100n);
    return `${sign}¥${yuan}.${String(abs % 100n).padStart(2, "0")}`;
  }

  function fenOf(yuanText) {
    const match = /^\s*(\d{1,10})(?:\.(\d{1,2}))?\s*$/.exec(yuanText);
    if (!match) return null;
    return Number(match[1]) * 100 + Number((match[2] || "0").padEnd(2, "0"));
  }

  // 2026年12月5日 14:33 (English: 5 Dec 2026, 14:33), in China's time whatever the browser's zone.
  function time(iso) {
    if (!iso) return "–";
    const parts = {};
    for (const p of new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Shanghai", year: "numeric", month: "numeric",
      day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(new Date(iso))) {
      parts[p.type] = p.value;
    }
    const { year, hour, minute } = parts;
    const [month, day] = [Number(parts.month), Number(parts.day)];  // en-GB gives "05": 5日, not 05日
    if (state.lang === "zh") return `${year}年${month}月${day}日 ${hour}:${minute}`;
    const short = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][month - 1];
    return `${day} ${short} ${year}, ${hour}:${minute}`;
  }

  // A China day (YYYY-MM-DD) in words: 2026年12月5日 (English: 5 Dec 2026).
  function day(text) {
    if (!text) return "–";
    const [year, month, date] = text.split("-").map(Number);
    if (state.lang === "zh") return `${year}年${month}月${date}日`;
    const short = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][month - 1];
    return `${date} ${short} ${year}`;
  }

  // A day as people type it — 2026-12-05, 2026年12月5日, or as `day` says it in English (5 Dec 2026);
  // full-width digits too — as YYYY-MM-DD; "" for nothing typed; null if it is no day. The year
  // always comes first or is spelt out: 12/05/2026 is refused, it reads two ways.
  const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

  function readDay(typed) {
    const text = String(typed).normalize("NFKC").trim();
    if (!text) return "";
    let match = /^(\d{4})\s*(?:-|\/|\.|年)\s*(\d{1,2})\s*(?:-|\/|\.|月)\s*(\d{1,2})\s*日?$/.exec(text);
    let parts = match && [match[1], match[2], match[3]].map(Number);
    if (!match) {
      match = /^(\d{1,2})\s+([a-z]{3})[a-z]*\.?,?\s+(\d{4})$/i.exec(text);
      const month = match ? MONTHS.indexOf(match[2].toLowerCase()) + 1 : 0;
      parts = month ? [Number(match[3]), month, Number(match[1])] : null;
    }
    if (!parts) return null;
    const [year, month, date] = parts;
    const real = new Date(Date.UTC(year, month - 1, date));
    if (real.getUTCFullYear() !== year || real.getUTCMonth() !== month - 1 || real.getUTCDate() !== date) return null;
    return `${year}-${String(month).padStart(2, "0")}-${String(date).padStart(2, "0")}`;
  }

  function chinaToday() {
    return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date());
  }

  function distance(metres) {
    if (metres === null || metres === undefined) return "–";
    return metres < 1000 ? `${metres} m` : `${(metres / 1000).toFixed(1)} km`;
  }

  // --- elements -----------------------------------------------------------------------
  // el("td", {class: "n"}, "text", child): an element with attributes and children.
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (name === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // A table of rows (or the word for none) under its header row of word keys.
  function table(id, headers, rows) {
    const target = document.getElementById(id);
    const head = el("tr", {}, headers.map(key => el("th", { scope: "col", "data-t": key }, t(key))));
    const body = rows.length ? rows : [el("tr", {}, el("td", { colspan: headers.length, class: "empty" }, t("empty")))];
    target.replaceChildren(el("thead", {}, head), el("tbody", {}, body));
    // A table wider than the screen scrolls in its box: a box the keyboard can reach and name.
    const box = target.closest(".scroll");
    if (box) {
      box.tabIndex = 0;
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", box.closest("section").querySelector("h2, h3").textContent);
    }
  }

  // Draws a list only when what it shows has changed (a district's stream brings many
  // events), keeping what was typed in its rows' inputs and where the cursor was.
  const signatures = {};

  function redraw(id, data, draw) {
    const signature = JSON.stringify([state.lang, data]);
    if (signatures[id] === signature) return;
    const keyOf = input => {
      const row = input.closest("tr");
      return `${Object.values(row.dataset)[0]}:${[...row.querySelectorAll("input")].indexOf(input)}`;
    };
    const typed = {};
    let focused = null;
    for (const input of document.querySelectorAll(`#${id} tr input`)) {
      if (input.value !== input.defaultValue) typed[keyOf(input)] = input.value;
      if (input === document.activeElement) focused = keyOf(input);
    }
    draw();
    signatures[id] = signature;
    for (const input of document.querySelectorAll(`#${id} tr input`)) {
      const key = keyOf(input);
      if (key in typed) input.value = typed[key];
      if (key === focused) input.focus();
    }
  }

  // A select's options, replaced only when they changed (an open list is not closed under a
  // person's hand); the chosen one stays chosen.
  function options(select, list) {
    const signature = JSON.stringify(list);
    if (select.dataset.options === signature) return;
    select.dataset.options = signature;
    const chosen = select.value;
    select.replaceChildren(...list.map(([value, label]) => el("option", { value, selected: value === chosen }, label)));
  }

  // --- signing in -------------------------------------------------------------------
  // Signed out (never signed in, the session ended, the sign-in refused): the 登录 link, which
  // goes to the provider and comes back to this page and section (`next`), and the reason in words.
  function signedOut(reason) {
    state.claims = state.csrf = null;
    if (state.live) state.live.abort();
    document.getElementById("signin-message").textContent = reason || t("signin.none");
    aimSignIn();
    document.getElementById("signin").hidden = false;
    for (const node of document.querySelectorAll("[data-signed-in]")) node.hidden = true;
    if (state.page && state.page.open) document.querySelector("main").hidden = false;
  }

  // Signed in, but a staff account of no district: 登录 again would come back here, so the
  // way on is 退出 (to sign in as someone else) and a word with the district's admin.
  function noDistrict(session) {
    signedOut(t("signin.nodistrict"));
    state.csrf = session.csrf;
    document.getElementById("signin-link").hidden = true;
    document.getElementById("signout").hidden = false;
  }

  function aimSignIn() {
    const link = document.getElementById("signin-link");
    link.href = `/auth/login?next=${encodeURIComponent(location.pathname + location.hash)}`;
  }

  // The problem's words (its detail, else its title); ours when it has none, or is the API's plain
  // `unauthenticated`, whose words are for a caller with a token, not a person at a page.
  async function reasonOf(response, fallback) {
    try {
      const body = await response.json();
      if (/(^|[/:#])unauthenticated$/.test(body.type || "")) return t(fallback);
      return body.detail || body.title || t(fallback);
    } catch (e) {
      return t(fallback);
    }
  }

  // --- the API ------------------------------------------------------------------------
  class Problem extends Error {
    constructor(message, body = null) {
      super(message);
      this.body = body;
    }
  }

  // The request's headers; a command's (`write`) carries the session's CSRF token. The session
  // itself travels as its cookie (fetch sends it to this origin).
  function headers(extra = {}, write = false) {
    return { "Accept-Language": state.lang === "zh" ? "zh-CN" : "en", ...(write ? { "X-CSRF-Token": state.csrf } : {}),
             ...extra };
  }

  async function answer(response) {
    if (response.status === 401) {
      const reason = await reasonOf(response, "signin.ended");
      signedOut(reason);
      throw new Problem(reason);
    }
    const type = response.headers.get("content-type") || "";
    const body = type.includes("json") ? await response.json() : null;
    if (!response.ok) throw new Problem(body ? `${body.title}${colon()}${body.detail}` : response.statusText, body);
    return body;
  }

  function url(path, params = {}) {
    const target = new URL(path, location.origin);
    for (const [name, value] of Object.entries(params)) {
      for (const one of Array.isArray(value) ? value : [value]) {
        if (one !== null && one !== undefined && one !== "") target.searchParams.append(name, one);
      }
    }
    return target;
  }

  // A read, as fresh as the last command this page sent (read-your-writes).
  async function get(path, params = {}) {
    const fresh = state.position ? { position: state.position, wait_ms: 3000 } : {};
    let response;
    try {
      response = await fetch(url(path, { ...fresh, ...params }), { headers: headers() });
    } catch (e) {
      throw new Problem(t("result.network"));
    }
    return answer(response);
  }

  // A photo given as evidence, fetched (with the session's cookie) and shown through a blob: URL
  // (the pages' CSP allows img-src blob:): a refusal is said as a missing photo, not a broken one.
  function photoImg(sha256, { thumb = false } = {}) {
    const img = el("img", { alt: t(thumb ? "photo.thumb" : "photo.alt"), class: "photo", decoding: "async",
                            dataset: { sha256 } });
    fetch(url(`/v1/photos/${sha256}`, thumb ? { size: "thumb" } : {}), { headers: headers() })
      .then(response => response.ok ? response.blob() : Promise.reject(response))
      .then(blob => {
        const src = URL.createObjectURL(blob);
        img.addEventListener("load", () => URL.revokeObjectURL(src), { once: true });
        img.src = src;
      })
      .catch(() => { img.alt = t("photo.missing"); img.classList.add("missing"); });
    return img;
  }

  function idempotencyKey() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));  // randomUUID needs a secure context
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = [...bytes].map(b => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  // A command through /v1/commands/…, its outcome said in words; the result, or null.
  // `where` (the button pressed, or its form) gets the outcome beside it, where the eyes
  // are; it stays until the next action there. Without it, the page's result line.
  // `onProblem(body)`: the refusal's problem+json, for a page that acts on its type.
  async function command(name, body, label, where = null, onProblem = null) {
    let response;
    try {
      response = await fetch(`/v1/commands/${name}`, {
        method: "POST", body: JSON.stringify(body),
        headers: headers({ "Content-Type": "application/json", "Idempotency-Key": idempotencyKey() }, true) });
    } catch (e) {
      say(`${label}${colon()}${t("result.network")}`, true, where);
      return null;
    }
    try {
      const accepted = await answer(response);
      state.position = Math.max(state.position, accepted.position);
      say(`${label}${colon()}${t(accepted.replayed ? "result.replayed" : "result.ok")}`, false, where);
      return accepted.result;
    } catch (e) {
      if (onProblem) onProblem(e.body);
      say(`${label}${colon()}${t("result.failed")} — ${e.message}`, true, where);
      return null;
    }
  }

  // The outcome in words: beside `where` (after its form, or after it), else in the page's
  // result line; scrolled into view so a refusal is never off screen.
  function say(text, problem = false, where = null) {
    let region = document.getElementById("result");
    if (where) {
      const anchor = where.closest("form") || where;
      region = anchor.nextElementSibling && anchor.nextElementSibling.classList.contains("outcome")
        ? anchor.nextElementSibling : null;
      if (!region) {
        region = el("p", { class: "outcome", role: "status", "aria-live": "polite" });
        anchor.after(region);
      }
    }
    region.textContent = text;
    region.className = `${where ? "outcome " : ""}${problem ? "problem" : "done"}`;
    if (region.scrollIntoView) region.scrollIntoView({ block: "nearest" });
  }

  // --- live ---------------------------------------------------------------------------
  // The event stream read with fetch (its 401 is then seen, and its bytes watched). The state
  // shown is what is true: "live" only while bytes arrive (the server pings every 15 s).
  const STALE_MS = 40000;

  function connection(key) {
    const node = document.getElementById("live");
    node.dataset.state = key.split(".")[1];
    node.textContent = t(key);
  }

  async function follow(onEvent) {
    let after = null;
    for (;;) {
      const controller = new AbortController();
      state.live = controller;
      let stale = null;
      const watch = () => { clearTimeout(stale); stale = setTimeout(() => controller.abort("stale"), STALE_MS); };
      try {
        if (after === null) after = (await (await fetch("/readyz")).json()).head || 0;
        connection("live.connecting");
        watch();
        const response = await fetch(url("/v1/events/stream", { after, district: state.district }),
                                     { headers: headers(), signal: controller.signal });
        if (response.status === 401) return signedOut(await reasonOf(response, "signin.ended"));
        if (!response.ok) throw new Error(String(response.status));
        connection("live.on");
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          watch();
          buffer += value;
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const frame = parseFrame(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            if (!frame) continue;
            after = frame.id;
            // An auditor's every read is an event: refreshing on it would read, and so on.
            if (frame.type !== "AuditAccessed") onEvent(frame.type, frame.event);
          }
        }
        throw new Error("closed");
      } catch (e) {
        if (!state.claims) return;
        connection(controller.signal.reason === "stale" ? "live.stale" : "live.lost");
      } finally {
        clearTimeout(stale);
      }
      await new Promise(resolve => setTimeout(resolve, 1500));
    }
  }

  function parseFrame(text) {
    const fields = {};
    for (const line of text.split("\n")) {
      if (!line || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      fields[line.slice(0, colon)] = line.slice(colon + 1).replace(/^ /, "");
    }
    if (!fields.data) return null;
    return { id: Number(fields.id), type: fields.event, event: JSON.parse(fields.data) };
  }

  // Calls `fn` once after a burst of calls has settled: one refresh for many events.
  function debounce(fn, ms = 250) {
    let timer = null;
    return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  // --- a page's start -----------------------------------------------------------------
  // page: { roles, open, start(claims), event(type, cloudEvent) }. A session of another role is
  // sent to its own page; a staff session without a district is told so. `roles` null: any
  // role; `open`: the page's body shows signed out too (the home page's list of pages).
  function start(page) {
    state.page = page;
    document.getElementById("lang").addEventListener("click", toggleLanguage);
    document.getElementById("signout").addEventListener("submit", () => {
      document.getElementById("signout-csrf").value = state.csrf;
    });
    window.addEventListener("hashchange", aimSignIn);
    translate();
    open(page);
  }

  async function open(page) {
    let response;
    try {
      response = await fetch("/auth/session", { headers: headers(), cache: "no-store" });
    } catch (e) {
      return signedOut(t("result.network"));
    }
    if (!response.ok) return signedOut(await reasonOf(response, "signin.none"));
    const session = await response.json();
    if (page.roles && !page.roles.includes(session.role)) {
      location.assign(HOME_OF[session.role] || "/");
      return;
    }
    const districts = session.districts || [];
    if (page.roles && session.role !== "rider" && !districts.length) return noDistrict(session);
    state.claims = session;
    state.csrf = session.csrf;
    document.getElementById("signin").hidden = true;
    for (const node of document.querySelectorAll("[data-signed-in]")) node.hidden = false;
    document.getElementById("live").hidden = !page.event;  // a page without a stream claims none
    showWho();
    chooseDistrict(districts, page);
    nameFromStaff();
    if (page.event) follow((type, event) => page.event(type, event));
  }

  function chooseDistrict(districts, page) {
    const select = document.getElementById("district");
    if (!districts.length) {  // a rider: of no district, its own data in all of them
      select.closest("label").hidden = true;
      page.start(state.claims);
      return;
    }
    const remembered = sessionStorage.getItem("gg.district");
    state.district = districts.includes(remembered) ? remembered : districts[0];
    select.replaceChildren(...districts.map(d => el("option", { value: d, selected: d === state.district }, d)));
    select.disabled = districts.length < 2;
    select.onchange = () => {
      sessionStorage.setItem("gg.district", select.value);
      location.reload();  // a new district is a new page: its lists, its stream
    };
    page.start(state.claims);
  }

  // The clue categories, in the order forms and legends show them.
  const CATEGORIES = ["fake_meal_ready", "unsafe_food", "fire_hazard", "blocked_fire_lane", "traffic_hazard",
                      "elderly_fall", "robbery", "other"];

  return {
    CATEGORIES, state, t, colon, translate, money, fenOf, time, day, readDay, chinaToday, distance, el, table, redraw, options, get,
    command, say, debounce, start, photoImg, headers, HOME_OF,
    Problem, onLanguage: fn => state.onLanguage.push(fn),
    callMe: name => { state.name = name; showWho(); },
  };
})();
