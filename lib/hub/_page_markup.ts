/**
 * The hub page's document: one HTML file with its CSS and JavaScript inline
 * and no external resources, served by `page.ts`. The script reads the page's
 * JSON and server-sent events (already escaped by the hub) and builds the
 * page from text nodes only.
 *
 * @module
 */

/** The page itself: one document, inline CSS and JS, no external resources. */
export const PAGE_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>SAMP hub</title>
<style>
  :root { --fg: #1d2330; --muted: #6b7280; --line: #e3e6ec; --bg: #f6f7f9; --ok: #137333;
          --err: #b3261e; --warn: #a15c00; --accent: #2d5bd1; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
         color: var(--fg); background: var(--bg); }
  header { display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: baseline;
           padding: 14px 24px; background: #1d2330; color: #fff; }
  header h1 { margin: 0; font-size: 18px; font-weight: 600; }
  header .stat { color: #c9d1e0; } header .stat b { color: #fff; font-weight: 600; }
  #conn { margin-left: auto; font-size: 12px; }
  #conn.live::before { content: "\\25CF  "; color: #4ade80; }
  #conn.down::before { content: "\\25CF  "; color: #f87171; }
  main { padding: 16px 24px; display: grid; gap: 16px; grid-template-columns: 1fr; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
  h2 { margin: 0 0 8px; font-size: 15px; }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 5px 8px; border-top: 1px solid var(--line); vertical-align: top; }
  th { font-weight: 600; color: var(--muted); font-size: 12px; border-top: none; }
  td.icon img { width: 24px; height: 24px; object-fit: contain; }
  .muted { color: var(--muted); }
  .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 12px; }
  .subs span { display: inline-block; background: #eef2fb; color: var(--accent); border-radius: 4px;
               padding: 0 5px; margin: 1px 3px 1px 0; font-size: 12px; }
  details summary { cursor: pointer; color: var(--accent); }
  .status-ok { color: var(--ok); font-weight: 600; }
  .status-err, .status-failed { color: var(--err); font-weight: 600; }
  .status-warning, .status-pending { color: var(--warn); }
  #traffic-wrap { max-height: 420px; overflow: auto; }
  .consent { display: flex; align-items: center; gap: 12px; padding: 8px 0; border-top: 1px solid var(--line); }
  .consent:first-of-type { border-top: none; }
  .consent .who { flex: 1; }
  button { font: inherit; padding: 4px 14px; border-radius: 6px; border: 1px solid var(--line);
           background: #fff; cursor: pointer; }
  button.accept { background: var(--ok); border-color: var(--ok); color: #fff; }
  button.reject { color: var(--err); border-color: var(--err); }
  .decided { font-size: 12px; }
</style>
</head>
<body>
<header>
  <h1>SAMP hub</h1>
  <span class="stat">up <b id="uptime">0s</b></span>
  <span class="stat">clients <b id="count-clients">0</b></span>
  <span class="stat">messages <b id="count-messages">0</b></span>
  <span class="stat">pending calls <b id="count-pending">0</b></span>
  <span id="conn" class="down">connecting</span>
</header>
<main>
  <section id="consent-section">
    <h2>Web Profile consent requests</h2>
    <div id="consent"><p class="muted" id="consent-empty">No page is asking to register.</p></div>
    <div id="decided"></div>
  </section>
  <section>
    <h2>Clients</h2>
    <table id="clients">
      <thead><tr><th></th><th>Name</th><th>Id</th><th>Profile</th><th>Subscriptions</th><th>Metadata</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section>
    <h2>Traffic <span class="muted" style="font-weight:normal">(newest first)</span></h2>
    <div id="traffic-wrap">
      <table id="traffic">
        <thead><tr><th>Time</th><th>Kind</th><th>From</th><th>To</th><th>MType</th><th>Status</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>
</main>
<script>
"use strict";
(() => {
  const MAX_ROWS = 200;
  const base = location.pathname.endsWith("/") ? location.pathname : location.pathname + "/";
  const clients = new Map();
  const calls = new Map();
  let startedAt = Date.now(), skew = 0;
  const $ = (id) => document.getElementById(id);
  const el = (tag, props, ...children) => {
    const e = document.createElement(tag);
    if (props) for (const [k, v] of Object.entries(props)) {
      if (k === "class") e.className = v; else if (k === "title") e.title = v; else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
    return e;
  };
  const nameOf = (id) => {
    const c = clients.get(id);
    return c && c.name ? c.name + " (" + id + ")" : id;
  };
  const setStats = (s) => {
    if (!s) return;
    $("count-clients").textContent = String(s.clients);
    $("count-messages").textContent = String(s.messages);
    $("count-pending").textContent = String(s.pendingCalls);
  };
  const renderClients = () => {
    const body = $("clients").tBodies[0];
    body.replaceChildren();
    for (const c of clients.values()) {
      const icon = el("td", { class: "icon" });
      if (c.icon) { const img = document.createElement("img"); img.alt = ""; img.src = c.icon; icon.append(img); }
      const subs = el("td", { class: "subs" });
      for (const s of c.subscriptions) subs.append(el("span", null, s));
      const meta = el("td");
      const keys = Object.keys(c.metadata || {});
      if (keys.length) {
        const d = el("details", null, el("summary", null, keys.length + " entries"));
        const t = el("table");
        for (const k of keys) {
          const v = c.metadata[k];
          t.append(el("tr", null, el("td", { class: "mono" }, k),
            el("td", { class: "mono" }, typeof v === "string" ? v : JSON.stringify(v))));
        }
        d.append(t); meta.append(d);
      }
      body.append(el("tr", { "data-id": c.id }, icon, el("td", { class: "name" }, c.name || ""),
        el("td", { class: "mono" }, c.id), el("td", null, c.profile + (c.callable ? "" : " (not callable)")),
        subs, meta));
    }
  };
  const statusClass = (s) => {
    if (s === "samp.ok") return "status-ok";
    if (s === "samp.warning") return "status-warning";
    if (s === "samp.error" || s === "failed" || s === "timed out") return "status-err";
    return s === "pending" ? "status-pending" : "muted";
  };
  const addRow = (at, kind, from, to, mtype, status) => {
    const st = el("td", { class: "status " + statusClass(status) }, status);
    const row = el("tr", null, el("td", { class: "mono" }, new Date(at).toLocaleTimeString()),
      el("td", { class: "kind" }, kind), el("td", null, from), el("td", null, to),
      el("td", { class: "mtype mono" }, mtype), st);
    const body = $("traffic").tBodies[0];
    body.prepend(row);
    while (body.rows.length > MAX_ROWS) body.deleteRow(body.rows.length - 1);
    return st;
  };
  const setStatus = (cell, status) => {
    cell.textContent = status; cell.className = "status " + statusClass(status);
  };
  const renderConsent = (list) => {
    const box = $("consent");
    box.replaceChildren();
    if (!list.length) { box.append(el("p", { class: "muted", id: "consent-empty" }, "No page is asking to register.")); return; }
    for (const r of list) {
      const accept = el("button", { class: "accept" }, "Accept");
      const reject = el("button", { class: "reject" }, "Reject");
      accept.onclick = () => answer(r.id, "accept");
      reject.onclick = () => answer(r.id, "reject");
      box.append(el("div", { class: "consent", "data-id": r.id },
        el("div", { class: "who" }, el("b", { class: "consent-name" }, r.name), " wants to register",
          el("div", { class: "muted mono" }, "Origin: " + (r.origin || "undeclared") +
            (r.referer ? "  Referer: " + r.referer : ""))),
        accept, reject));
    }
  };
  let pending = [];
  const answer = async (id, what) => {
    try {
      await fetch(base + "consent/" + encodeURIComponent(id), { method: "POST", body: what });
    } catch (e) { console.warn("consent answer failed", e); }
  };
  const onSnapshot = (s) => {
    startedAt = s.startedAt; skew = Date.now() - s.now;
    clients.clear();
    for (const c of s.clients) clients.set(c.id, c);
    renderClients(); setStats(s.stats);
    pending = s.consent; renderConsent(pending);
    $("consent-section").hidden = !s.consentOnPage && !pending.length;
  };
  const onActivity = (a) => {
    setStats(a.stats);
    switch (a.kind) {
      case "register": case "metadata": case "subscriptions": case "callable":
        clients.set(a.client.id, a.client); renderClients();
        if (a.kind === "register") addRow(a.at, "register", nameOf(a.client.id), "", "", a.client.profile);
        return;
      case "unregister":
        addRow(a.at, "unregister", nameOf(a.client.id), "", "", a.reason);
        clients.delete(a.client.id); renderClients(); return;
      case "send": {
        const cell = addRow(a.at, a.mode, nameOf(a.sender), nameOf(a.recipient), a.mtype,
          a.mode === "notify" ? "sent" : "pending");
        if (a.msgId) calls.set(a.msgId, cell);
        if (calls.size > MAX_ROWS * 2) calls.delete(calls.keys().next().value);
        return;
      }
      case "reply": {
        const cell = calls.get(a.msgId);
        if (cell) { setStatus(cell, a.status); calls.delete(a.msgId); }
        return;
      }
      case "sync-timeout": {
        const cell = calls.get(a.msgId);
        if (cell) { setStatus(cell, "timed out"); calls.delete(a.msgId); }
        return;
      }
      case "delivery-failed":
        addRow(a.at, "failed", "hub", nameOf(a.recipient), a.callback, "failed").title = a.error;
        return;
    }
  };
  const onConsent = (e) => {
    if (e.type === "pending") { pending.push(e.request); $("consent-section").hidden = false; }
    else {
      const r = pending.find((p) => p.id === e.id);
      pending = pending.filter((p) => p.id !== e.id);
      const d = $("decided");
      d.prepend(el("div", { class: "decided " + (e.accepted ? "status-ok" : "status-err") },
        (r ? r.name : "request " + e.id) + ": " + (e.accepted ? "accepted" : "refused") + " (" + e.reason + ")"));
      while (d.childElementCount > 5) d.lastElementChild.remove();
    }
    renderConsent(pending);
  };
  const fmt = (s) => {
    const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
    return (d ? d + "d " : "") + (d || h ? h + "h " : "") + (d || h || m ? m + "m " : "") + (s % 60) + "s";
  };
  setInterval(() => {
    $("uptime").textContent = fmt(Math.max(0, Math.floor((Date.now() - skew - startedAt) / 1000)));
  }, 1000);
  const source = new EventSource(base + "events");
  const parse = (f) => (ev) => { try { f(JSON.parse(ev.data)); } catch (e) { console.warn(e); } };
  source.addEventListener("snapshot", parse(onSnapshot));
  source.addEventListener("activity", parse(onActivity));
  source.addEventListener("consent", parse(onConsent));
  source.onopen = () => { $("conn").className = "live"; $("conn").textContent = "live"; };
  source.onerror = () => {
    $("conn").className = "down";
    $("conn").textContent = source.readyState === EventSource.CLOSED ? "hub stopped" : "reconnecting";
  };
})();
</script>
</body>
</html>
`;
