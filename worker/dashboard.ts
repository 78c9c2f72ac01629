/**
 * GET /dashboard: one self-contained page (HTML, inline CSS and JS; nothing fetched from
 * elsewhere) that watches a deployment through the admin API. It holds no secret and loads
 * without a token; it asks for the admin token, keeps it in sessionStorage (gone with the tab)
 * and sends it as `Authorization: Bearer` to `GET /admin/topology` and `GET /admin/sentinels`,
 * about once a second. It draws the topology (links, offsets, lag), a lag chart of the last two
 * minutes per replica, and the sentinels' recent role changes. The primary being down shows as
 * such: the topology then comes from the sentinels (`"from": "sentinels"`).
 *
 * The script is written without template literals so that it can live in this one string.
 */

const STYLE = `
:root { color-scheme: light; --ink: #1d2430; --muted: #667085; --line: #d0d5dd; --up: #12864b;
  --lagging: #c27803; --down: #d92d20; --bg: #f6f7f9; --card: #fff; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
header { display: flex; align-items: center; gap: 16px; padding: 10px 20px; background: #1d2430; color: #fff; }
header h1 { font-size: 18px; margin: 0; font-weight: 600; }
#status { flex: 1; color: #d0d5dd; }
#status.stale { color: #fdb022; }
header button { background: transparent; color: #fff; border: 1px solid #667085; border-radius: 4px; padding: 4px 10px; cursor: pointer; }
main { max-width: 1040px; margin: 0 auto; padding: 12px 20px 24px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; margin-top: 12px; }
h2 { font-size: 15px; margin: 0 0 6px; }
svg { display: block; width: 100%; height: auto; }
svg text { font-family: inherit; fill: var(--ink); }
.box { fill: #fff; stroke: var(--line); stroke-width: 1.5; }
.primary .box { stroke: #1d2430; stroke-width: 2; }
.gone .box { fill: #fef3f2; stroke: var(--down); stroke-width: 2; }
.sentinel .box { fill: #f9fafb; }
.sentinel.alarm .box { fill: #fffaeb; stroke: var(--lagging); }
.name { font-size: 15px; font-weight: 600; }
.detail { font-size: 12px; fill: var(--muted); }
.detail.bad { fill: var(--down); font-weight: 600; }
.link { stroke-width: 3; fill: none; }
.link.up { stroke: var(--up); }
.link.lagging { stroke: var(--lagging); }
.link.down { stroke: var(--down); stroke-dasharray: 8 6; }
.link-label { font-size: 12px; font-weight: 600; }
.link-label.up { fill: var(--up); }
.link-label.lagging { fill: var(--lagging); }
.link-label.down { fill: var(--down); }
.watch { stroke: #98a2b3; stroke-width: 1; stroke-dasharray: 2 4; }
.axis { stroke: var(--line); stroke-width: 1; }
.tick { font-size: 11px; fill: var(--muted); }
.series { fill: none; stroke-width: 2; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; font-size: 12px; color: var(--muted); margin-top: 4px; }
.swatch { display: inline-block; width: 22px; height: 8px; vertical-align: middle; margin-right: 4px; }
.halo { fill: #fff; stroke: #fff; stroke-width: 5px; stroke-linejoin: round; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #eaecf0; }
th { color: var(--muted); font-weight: 500; }
td.when { white-space: nowrap; color: var(--muted); font-variant-numeric: tabular-nums; }
.empty { color: var(--muted); font-size: 13px; }
#login { max-width: 420px; margin: 60px auto; background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 18px 20px; }
#login label { display: block; margin-bottom: 8px; font-weight: 600; }
#login input { width: 100%; padding: 6px 8px; font: inherit; border: 1px solid var(--line); border-radius: 4px; }
#login button { margin-top: 10px; padding: 6px 14px; font: inherit; cursor: pointer; }
#login-error { color: var(--down); font-weight: 600; min-height: 1.4em; margin: 8px 0 0; }
[hidden] { display: none !important; }
`;

const SCRIPT = `
"use strict";
(function () {
  var TOKEN_KEY = "flaredis-admin-token";
  var POLL_MS = 1000;
  var WINDOW_MS = 120000;
  var SVG_NS = "http://www.w3.org/2000/svg";
  var COLORS = ["#2e90fa", "#ee46bc", "#7a5af8", "#15b79e", "#f79009", "#6172f3", "#a15c07", "#099250"];

  var history = [];
  var colorOf = {};
  var timer = null;
  var generation = 0;

  function $(id) { return document.getElementById(id); }

  function el(name, attrs, text) {
    var node = document.createElementNS(SVG_NS, name);
    for (var key in attrs) node.setAttribute(key, String(attrs[key]));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function ms(value) {
    if (value < 0) return "no contact";
    if (value < 1000) return value + " ms";
    return (value / 1000).toFixed(value < 10000 ? 1 : 0) + " s";
  }

  function bytes(offset) { return "offset " + offset.toLocaleString("en-US"); }

  function color(node) {
    if (!(node in colorOf)) colorOf[node] = COLORS[Object.keys(colorOf).length % COLORS.length];
    return colorOf[node];
  }

  // ---- The token ----------------------------------------------------------------------------

  function askForToken(message) {
    stop();
    sessionStorage.removeItem(TOKEN_KEY);
    $("board").hidden = true;
    $("forget").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message || "";
    $("status").textContent = "";
    $("token").value = "";
    $("token").focus();
  }

  function start(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    $("login").hidden = true;
    $("forget").hidden = false;
    $("board").hidden = false;
    history = [];
    generation++;
    poll(generation);
  }

  function stop() {
    generation++;
    if (timer !== null) clearTimeout(timer);
    timer = null;
  }

  // ---- Polling --------------------------------------------------------------------------------

  function AuthError(message) { this.message = message; }

  function get(path) {
    var token = sessionStorage.getItem(TOKEN_KEY) || "";
    return fetch(path, { headers: { authorization: "Bearer " + token }, cache: "no-store" }).then(function (response) {
      if (response.status === 401) throw new AuthError("That token was refused (wrong token). Enter the admin token.");
      if (response.status === 403) throw new AuthError("That token is not the admin token (the admin API needs it). Enter the admin token.");
      if (!response.ok) return response.text().then(function (text) { throw new Error(path + ": HTTP " + response.status + " " + text.slice(0, 200)); });
      return response.json();
    });
  }

  function poll(mine) {
    var asked = Date.now();
    Promise.all([get("/admin/topology"), get("/admin/sentinels")]).then(function (answers) {
      if (mine !== generation) return;
      try {
        draw(answers[0], answers[1], asked);
      } catch (error) {
        console.error("flaredis dashboard: cannot draw", error);
      }
      schedule(mine, asked);
    }, function (error) {
      if (mine !== generation) return;
      if (error instanceof AuthError) { askForToken(error.message); return; }
      var status = $("status");
      status.className = "stale";
      status.textContent = "Cannot reach the admin API (" + (error && error.message ? error.message : String(error)) + "); retrying";
      schedule(mine, asked);
    });
  }

  function schedule(mine, asked) {
    if (mine !== generation) return;
    timer = setTimeout(function () { poll(mine); }, Math.max(0, POLL_MS - (Date.now() - asked)));
  }

  // ---- Drawing --------------------------------------------------------------------------------

  function draw(topology, sentinels, at) {
    var status = $("status");
    status.className = topology.from === "primary" ? "" : "stale";
    status.textContent = "epoch " + topology.epoch + " \\u00b7 primary " + topology.primary.node +
      (topology.from === "primary" ? "" : " is DOWN: the topology below is the sentinels' view") +
      " \\u00b7 updated " + new Date(at).toLocaleTimeString();
    history.push({ at: at, lags: topology.replicas.map(function (r) { return { node: r.node, lag: r.lag_ms }; }) });
    while (history.length > 0 && history[0].at < at - WINDOW_MS) history.shift();
    drawTopology(topology, sentinels);
    drawLag(at, topology.primary.node);
    drawEvents(sentinels);
  }

  function linkState(replica) {
    if (replica.link !== "up") return "down";
    return replica.lag_ms > 0 ? "lagging" : "up";
  }

  function box(svg, x, y, w, h, classes, lines, data) {
    var g = el("g", data);
    g.setAttribute("class", classes);
    g.appendChild(el("rect", { class: "box", x: x - w / 2, y: y, width: w, height: h, rx: 6 }));
    lines.forEach(function (line, i) {
      g.appendChild(el("text", { class: line.cls, x: x, y: y + 20 + i * 17, "text-anchor": "middle" }, line.text));
    });
    svg.appendChild(g);
  }

  function drawTopology(topology, sentinels) {
    var svg = $("topology");
    clear(svg);
    var W = 960;
    var primaryDown = topology.from !== "primary";
    var replicas = topology.replicas;
    var slot = function (i, n) { return W * (i + 0.5) / n; };
    var PY = 16, PH = 62, RY = 196, RH = 80, SY = 330, SH = 62;
    svg.setAttribute("viewBox", "0 0 " + W + " " + (sentinels.length > 0 ? SY + SH + 8 : RY + RH + 8));

    // Sentinels watch the primary: faint dotted lines, under everything else.
    sentinels.forEach(function (s, i) {
      svg.appendChild(el("line", { class: "watch", x1: slot(i, sentinels.length), y1: SY, x2: W / 2, y2: PY + PH }));
    });

    replicas.forEach(function (r, i) {
      var x = slot(i, replicas.length);
      var state = linkState(r);
      svg.appendChild(el("line", { class: "link " + state, x1: W / 2, y1: PY + PH, x2: x, y2: RY, "data-replica": r.node, "data-link": r.link }));
      var mx = (W / 2 + x) / 2, my = (PY + PH + RY) / 2;
      var label = r.link === "up" ? "link up \\u00b7 lag " + ms(r.lag_ms) : "link down" + (r.lag_ms > 0 ? " \\u00b7 " + ms(r.lag_ms) : "");
      svg.appendChild(el("text", { class: "link-label halo", x: mx, y: my, "text-anchor": "middle" }, label));
      svg.appendChild(el("text", { class: "link-label " + state, x: mx, y: my, "text-anchor": "middle" }, label));
      var behind = topology.primary.offset - r.offset;
      box(svg, x, RY, 190, RH, "node replica" + (r.link === "up" ? "" : " gone"), [
        { cls: "name", text: r.node },
        { cls: "detail", text: "replica \\u00b7 " + bytes(r.offset) },
        { cls: "detail" + (r.link === "up" ? "" : " bad"), text: r.link === "up" ? (behind > 0 ? behind.toLocaleString("en-US") + " bytes behind" : "in sync") : "link down" },
        { cls: "detail", text: r.lag_ms < 0 ? "lag unknown" : "lag " + ms(r.lag_ms) },
      ], { "data-node": r.node, "data-role": "replica", "data-link": r.link });
    });

    box(svg, W / 2, PY, 220, PH, "node primary" + (primaryDown ? " gone" : ""), [
      { cls: "name", text: topology.primary.node },
      { cls: primaryDown ? "detail bad" : "detail", text: primaryDown ? "primary \\u00b7 DOWN" : "primary \\u00b7 " + bytes(topology.primary.offset) },
      { cls: "detail", text: "epoch " + topology.epoch + (primaryDown ? " \\u00b7 as the sentinels saw it" : "") },
    ], { "data-node": topology.primary.node, "data-role": "primary", "data-down": primaryDown ? "true" : "false" });

    if (sentinels.length > 0) {
      svg.appendChild(el("text", { class: "detail", x: 8, y: SY - 8 }, "sentinels"));
    }
    sentinels.forEach(function (s, i) {
      var down = s.nodes.filter(function (n) { return n.sdown; }).map(function (n) { return n.node; });
      var state = s.failover ? "failover " + s.failover.state + (s.failover.to ? " to " + s.failover.to : "")
        : s.odown ? "primary objectively down"
        : down.length > 0 ? "sees down: " + down.join(", ")
        : "all nodes answer";
      box(svg, slot(i, sentinels.length), SY, 230, SH, "sentinel" + (s.failover || s.odown || down.length > 0 ? " alarm" : ""), [
        { cls: "name", text: "sentinel " + s.sentinel },
        { cls: s.odown ? "detail bad" : "detail", text: "epoch " + s.epoch + " \\u00b7 " + state },
      ], { "data-sentinel": s.sentinel });
    });
  }

  function drawLag(now, primary) {
    var svg = $("lag");
    clear(svg);
    var W = 960, H = 220, L = 56, R = 12, T = 10, B = 26;
    var max = 1000;
    history.forEach(function (h) { h.lags.forEach(function (l) { if (l.lag > max) max = l.lag; }); });
    var step = [250, 500, 1000, 2000, 5000, 10000, 20000, 30000, 60000, 120000, 300000, 600000].filter(function (s) { return max / s <= 4; })[0] || Math.ceil(max / 5);
    var top = Math.ceil(max / step) * step;
    var x = function (at) { return L + (W - L - R) * (1 - (now - at) / WINDOW_MS); };
    var y = function (lag) { return T + (H - T - B) * (1 - lag / top); };
    for (var v = 0; v <= top; v += step) {
      svg.appendChild(el("line", { class: "axis", x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      svg.appendChild(el("text", { class: "tick", x: L - 6, y: y(v) + 4, "text-anchor": "end" }, ms(v)));
    }
    for (var s = 0; s <= 120; s += 30) {
      svg.appendChild(el("text", { class: "tick", x: x(now - s * 1000), y: H - 8, "text-anchor": "middle" }, s === 0 ? "now" : "-" + s + " s"));
    }
    var nodes = [];
    history.forEach(function (h) { h.lags.forEach(function (l) { if (nodes.indexOf(l.node) < 0) nodes.push(l.node); }); });
    var legend = $("lag-legend");
    clear(legend);
    nodes.forEach(function (node) {
      // A gap where the lag was unknown (-1: no contact, or the primary could not be asked).
      var segments = [[]];
      history.forEach(function (h) {
        var l = h.lags.filter(function (e) { return e.node === node; })[0];
        if (!l || l.lag < 0) { if (segments[segments.length - 1].length > 0) segments.push([]); return; }
        segments[segments.length - 1].push(x(h.at).toFixed(1) + "," + y(l.lag).toFixed(1));
      });
      segments.forEach(function (points) {
        if (points.length === 0) return;
        if (points.length === 1) points.push(points[0]);
        svg.appendChild(el("polyline", { class: "series", points: points.join(" "), stroke: color(node), "data-series": node }));
      });
      var last = history[history.length - 1].lags.filter(function (e) { return e.node === node; })[0];
      var item = document.createElement("span");
      var swatch = el("svg", { class: "swatch", viewBox: "0 0 22 8" });
      swatch.appendChild(el("line", { class: "series", x1: 0, y1: 4, x2: 22, y2: 4, stroke: color(node) }));
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(node + ": " + (last ? ms(last.lag) : node === primary ? "the primary now" : "not a replica now")));
      legend.appendChild(item);
    });
  }

  function drawEvents(sentinels) {
    var seen = {};
    var events = [];
    sentinels.forEach(function (s) {
      s.events.forEach(function (e) {
        var key = e.at + " " + e.event;
        if (seen[key]) { seen[key].by.push(s.sentinel); return; }
        seen[key] = { at: e.at, event: e.event, by: [s.sentinel] };
        events.push(seen[key]);
      });
    });
    events.sort(function (a, b) { return b.at - a.at; });
    var body = $("events-body");
    clear(body);
    events.slice(0, 50).forEach(function (e) {
      var row = document.createElement("tr");
      [new Date(e.at).toLocaleString(), e.by.join(", "), e.event].forEach(function (text, i) {
        var cell = document.createElement("td");
        if (i === 0) cell.className = "when";
        cell.textContent = text;
        row.appendChild(cell);
      });
      body.appendChild(row);
    });
    $("events").hidden = events.length === 0;
    $("no-events").hidden = events.length > 0;
    $("no-events").textContent = sentinels.length === 0 ? "No sentinel answers (none configured, or none reachable)." : "No role change recorded yet.";
  }

  // ---- Start ----------------------------------------------------------------------------------

  $("login").addEventListener("submit", function (event) {
    event.preventDefault();
    var token = $("token").value.trim();
    if (token === "") { $("login-error").textContent = "Enter the admin token."; return; }
    start(token);
  });
  $("forget").addEventListener("click", function () { askForToken("Token forgotten."); });

  var saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) start(saved); else askForToken("");
})();
`;

/** The page, exactly as served (the tests check it carries no secret). */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Flaredis dashboard</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>Flaredis</h1>
  <span id="status" role="status"></span>
  <button id="forget" type="button" hidden>Forget token</button>
</header>
<form id="login" hidden>
  <label for="token">Admin token</label>
  <input id="token" name="token" type="password" autocomplete="off" spellcheck="false">
  <button type="submit">Open the dashboard</button>
  <p id="login-error" role="alert"></p>
</form>
<main id="board" hidden>
  <section>
    <h2>Topology</h2>
    <svg id="topology" viewBox="0 0 960 400" role="img" aria-label="The primary, its replicas with their links, and the sentinels"></svg>
    <div class="legend">
      <span><svg class="swatch" viewBox="0 0 22 8"><line class="link up" x1="0" y1="4" x2="22" y2="4"/></svg>link up, everything acknowledged</span>
      <span><svg class="swatch" viewBox="0 0 22 8"><line class="link lagging" x1="0" y1="4" x2="22" y2="4"/></svg>link up, writes not yet acknowledged</span>
      <span><svg class="swatch" viewBox="0 0 22 8"><line class="link down" x1="0" y1="4" x2="22" y2="4"/></svg>link down</span>
    </div>
  </section>
  <section>
    <h2>Replication lag, last 2 minutes</h2>
    <svg id="lag" viewBox="0 0 960 220" role="img" aria-label="Each replica's lag over the last two minutes"></svg>
    <div class="legend" id="lag-legend"></div>
  </section>
  <section>
    <h2>Recent role changes</h2>
    <table id="events" hidden>
      <thead><tr><th>when</th><th>recorded by</th><th>event</th></tr></thead>
      <tbody id="events-body"></tbody>
    </table>
    <p id="no-events" class="empty"></p>
  </section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;

const sha256 = async (text: string) =>
  btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)))));

let policy: Promise<string> | null = null;

/**
 * The Content-Security-Policy: only this page's own script and style run (by their hashes), and
 * it talks to this origin only, so nothing injected into the page could send the token elsewhere.
 */
function contentSecurityPolicy(): Promise<string> {
  policy ??= Promise.all([sha256(SCRIPT), sha256(STYLE)]).then(
    ([script, style]) =>
      `default-src 'none'; script-src 'sha256-${script}'; style-src 'sha256-${style}'; connect-src 'self'; ` +
      "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  );
  return policy;
}

/** GET /dashboard: the page; no token needed to load it (every call it makes needs the admin token). */
export async function dashboard(): Promise<Response> {
  return new Response(DASHBOARD_HTML, {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": await contentSecurityPolicy(),
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    },
  });
}
