// The live cluster page: polls the serving node's /cluster/members and /cluster/ring, and every
// member's own /ready, /cluster/stabilization and /metrics?format=json at its HTTP address, and
// redraws. No framework, no build step. Anything not answered lately is shown as stale.
"use strict";

const POLL_MS = 1000; // how often everything is asked again
const TIMEOUT_MS = 2000; // a request not answered by then counts as failed
const STALE_MS = 4000; // data older than this is greyed out
const RATE_WINDOW_MS = 10000; // request rate and p99 over about this long
const SPACE = 2 ** 64;
const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#9c755f",
  "#e15759", "#86bcb6", "#d37295", "#a0cbe8", "#8cd17d"];

// what the serving node said last, and when
const view = { members: null, membersAt: 0, membersError: null, ring: null, ringAt: 0 };
// per member: its base URL and its own answers, each with the time it came
const nodes = new Map();

function now() { return Date.now(); }

async function getJson(url) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  try {
    const response = await fetch(url, { signal: abort.signal, cache: "no-store" });
    // /ready answers 503 with a JSON body that says why: that is an answer, not a failure
    return { status: response.status, body: await response.json() };
  } finally {
    clearTimeout(timer);
  }
}

function baseUrl(member) {
  if (member.name === view.members.self) return ""; // the serving node: same origin
  if (!member.host || !member.httpPort) return null;
  const host = member.host.includes(":") ? "[" + member.host + "]" : member.host;
  return "http://" + host + ":" + member.httpPort;
}

async function pollServingNode() {
  const [members, ring] = await Promise.allSettled([getJson("/cluster/members"),
    getJson("/cluster/ring")]);
  if (members.status === "fulfilled" && members.value.status === 200) {
    view.members = members.value.body;
    view.membersAt = now();
    view.membersError = null;
  } else {
    view.membersError = members.status === "rejected" ? "no answer" : "HTTP " + members.value.status;
  }
  if (ring.status === "fulfilled" && ring.value.status === 200) {
    view.ring = ring.value.body;
    view.ringAt = now();
  }
  if (view.members) {
    for (const m of view.members.members) pollNode(m);
  }
  render();
}

// one member's own answers; one round in flight per member, so a hung node cannot pile them up
function pollNode(member) {
  let node = nodes.get(member.name);
  if (!node) {
    node = { history: [] };
    nodes.set(member.name, node);
  }
  node.base = baseUrl(member);
  if (node.base === null || node.busy) return;
  node.busy = true;
  const asked = [
    getJson(node.base + "/ready").then((r) => { node.ready = r.body; node.readyAt = now(); }),
    getJson(node.base + "/cluster/stabilization").then((r) => {
      if (r.status === 200) { node.stabilization = r.body; node.stabilizationAt = now(); }
    }),
    getJson(node.base + "/metrics?format=json").then((r) => {
      if (r.status === 200) addReading(node, r.body);
    }),
  ];
  Promise.allSettled(asked).then((results) => {
    node.busy = false;
    node.failing = results.every((r) => r.status === "rejected");
    if (!node.failing) node.answeredAt = now();
    render();
  });
}

function addReading(node, metrics) {
  const reading = { at: now(), requests: metrics.requests, buckets: metrics.buckets };
  const last = node.history[node.history.length - 1];
  if (last && reading.requests < last.requests) node.history = []; // the node restarted
  node.history.push(reading);
  while (node.history.length > 2 && reading.at - node.history[1].at >= RATE_WINDOW_MS) {
    node.history.shift();
  }
  node.metricsAt = reading.at;
}

// request rate and p99 between the oldest and newest reading kept (as histogram_quantile does)
function meters(node) {
  const h = node.history;
  if (h.length < 2) return null;
  const first = h[0], last = h[h.length - 1];
  const seconds = (last.at - first.at) / 1000;
  const count = last.requests - first.requests;
  const result = { rate: count / seconds, p99: null };
  if (count <= 0) return result;
  const target = 0.99 * count;
  let below = 0, lower = 0;
  for (let i = 0; i < last.buckets.length; i++) {
    const upper = last.buckets[i].le;
    const cumulative = last.buckets[i].count - first.buckets[i].count;
    if (cumulative >= target) {
      const inBucket = cumulative - below;
      result.p99 = lower + (upper - lower) * (inBucket > 0 ? (target - below) / inBucket : 1);
      return result;
    }
    below = cumulative;
    lower = upper;
  }
  result.p99 = Infinity; // above the largest bucket
  return result;
}

// ---- drawing ----

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

// a token's place on the circle, 0..1 clockwise from the top (Long.MIN_VALUE)
function fraction(token) { return (Number(BigInt(token)) + 2 ** 63) / SPACE; }

function arcSize(from, to) {
  const size = (to - from + 1) % 1;
  return size === 0 ? 1 : size;
}

function point(f, r) {
  const a = 2 * Math.PI * f - Math.PI / 2;
  return (r * Math.cos(a)).toFixed(2) + " " + (r * Math.sin(a)).toFixed(2);
}

function arcPath(from, to, r) {
  const size = arcSize(from, to);
  if (size >= 0.9999) { // a whole circle cannot be one SVG arc
    return "M " + point(0, r) + " A " + r + " " + r + " 0 1 1 " + point(0.5, r) +
      " A " + r + " " + r + " 0 1 1 " + point(0, r);
  }
  return "M " + point(from, r) + " A " + r + " " + r + " 0 " + (size > 0.5 ? 1 : 0) + " 1 " +
    point(to, r);
}

function colors(names) {
  const sorted = [...names].sort();
  const map = new Map();
  sorted.forEach((n, i) => map.set(n, PALETTE[i % PALETTE.length]));
  return map;
}

function statusOf(name) {
  const m = view.members && view.members.members.find((x) => x.name === name);
  return m ? m.status : "UNKNOWN";
}

// primary and effective (replicated) share of each member; vnode i owns (token[i-1], token[i]]
function shares(ring) {
  const t = ring.tokens.map((x) => ({ f: fraction(x.token), node: x.node }));
  const distinct = new Set(t.map((x) => x.node)).size;
  const n = Math.min(ring.replicationFactor, distinct);
  const result = new Map();
  const add = (node, key, v) => {
    const s = result.get(node) || { primary: 0, replicates: 0, vnodes: 0 };
    s[key] += v;
    result.set(node, s);
  };
  for (let i = 0; i < t.length; i++) {
    const size = t.length === 1 ? 1 : arcSize(t[(i - 1 + t.length) % t.length].f, t[i].f);
    add(t[i].node, "primary", size);
    add(t[i].node, "vnodes", 1);
    const seen = new Set();
    for (let k = 0; k < t.length && seen.size < n; k++) seen.add(t[(i + k) % t.length].node);
    for (const node of seen) add(node, "replicates", size);
  }
  return result;
}

function drawRing(ring, palette) {
  const root = document.getElementById("ring");
  root.replaceChildren();
  root.appendChild(svg("circle", { r: 120, class: "track" }));
  const t = ring.tokens.map((x) => ({ f: fraction(x.token), node: x.node }));
  // consecutive vnodes of one member drawn as one arc
  for (let i = 0; i < t.length;) {
    let j = i;
    while (j + 1 < t.length && t[j + 1].node === t[i].node) j++;
    const from = i === 0 ? t[t.length - 1].f : t[i - 1].f;
    const status = statusOf(t[i].node);
    const arc = svg("path", { d: arcPath(from, t[j].f, 120), stroke: palette.get(t[i].node),
      class: "arc" + (status === "ALIVE" ? "" : " down"), "data-node": t[i].node });
    const title = svg("title");
    title.textContent = t[i].node + " (" + status + ")";
    arc.appendChild(title);
    root.appendChild(arc);
    i = j + 1;
  }
  for (const r of ring.transitionRanges || []) {
    root.appendChild(svg("path", { d: arcPath(fraction(r.start), fraction(r.end), 138),
      class: "moving" }));
  }
  const label = svg("text", { y: -6, class: "epoch" });
  label.textContent = "epoch " + ring.epoch;
  const sub = svg("text", { y: 16, class: "sub" });
  sub.textContent = ring.members.length + " members · N=" + ring.replicationFactor;
  root.append(label, sub);
}

function fmtPercent(x) { return (100 * x).toFixed(1) + "%"; }

function fmtSeconds(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? s + " s" : Math.round(s / 60) + " min";
}

function fmtLatency(seconds) {
  if (seconds === null) return "–";
  if (seconds === Infinity) return "> 5 s";
  return seconds < 1 ? (seconds * 1000).toFixed(1) + " ms" : seconds.toFixed(2) + " s";
}

function fresh(at) { return at && now() - at <= STALE_MS; }

// a cell of a member's own answer: its value, greyed when old, a dash when it never answered
function ownCell(kind, node, at, text, title) {
  const td = el("td", { class: "own " + kind });
  if (!node || node.base === null) {
    td.textContent = "?";
    td.title = "its HTTP address is not known";
  } else if (!at) {
    td.textContent = node.failing ? "–" : "…";
    if (node.failing) td.className += " stale";
  } else {
    td.textContent = text;
    if (!fresh(at)) {
      td.className += " stale";
      td.title = "no answer for " + fmtSeconds(now() - at) + "; this is what it said then";
      return td;
    }
    if (title) td.title = title;
  }
  return td;
}

function render() {
  const members = view.members;
  const banner = document.getElementById("banner");
  if (view.membersError && members) {
    banner.hidden = false;
    banner.textContent = members.self + " is not answering (" + view.membersError + "): " +
      "showing what it said " + fmtSeconds(now() - view.membersAt) + " ago";
  } else if (view.membersError) {
    banner.hidden = false;
    banner.textContent = "this node is not answering (" + view.membersError + ")";
  } else {
    banner.hidden = true;
  }
  document.body.classList.toggle("stale", !fresh(view.membersAt));
  if (!members) return;

  const ring = view.ring;
  const names = new Set(members.members.map((m) => m.name));
  if (ring) ring.tokens.forEach((t) => names.add(t.node));
  const palette = colors(names);
  const share = ring ? shares(ring) : new Map();

  document.getElementById("summary").textContent = "as " + members.self + " sees it" +
    (ring ? " · ring epoch " + ring.epoch + " · replication factor " + ring.replicationFactor : "");
  document.getElementById("freshness").textContent = fresh(view.membersAt)
    ? "live, every " + POLL_MS / 1000 + " s" : "stale: last answer " +
      fmtSeconds(now() - view.membersAt) + " ago";

  const tbody = document.querySelector("#members tbody");
  tbody.replaceChildren();
  for (const m of [...members.members].sort((a, b) => a.name.localeCompare(b.name))) {
    const node = nodes.get(m.name);
    const tr = el("tr", { "data-node": m.name, "data-status": m.status });
    const name = el("td", { class: "name" });
    name.append(el("span", { class: "swatch", style: "background:" + palette.get(m.name) }),
      document.createTextNode(m.name + (m.name === members.self ? " (this node)" : "")));
    tr.appendChild(name);
    tr.appendChild(el("td", { class: "http" }, m.host ? m.host + ":" + m.httpPort : "?"));
    const swim = el("td", { class: "swim" });
    swim.appendChild(el("span", { class: "badge " + m.status }, m.status));
    swim.title = (m.incarnation === undefined ? "" : "incarnation " + m.incarnation) +
      (m.suspectedBy && m.suspectedBy.length ? "; suspected by " + m.suspectedBy.join(", ") : "");
    tr.appendChild(swim);
    tr.appendChild(el("td", { class: "since" }, m.since ? fmtSeconds(now() - Date.parse(m.since)) : ""));
    tr.appendChild(el("td", { class: "ring" }, m.ring || ""));
    const ready = node && node.ready;
    let readyCell;
    if (node && node.failing) {
      // it does not answer now: say so, whatever it said before
      readyCell = el("td", { class: "own ready unreachable" }, "unreachable");
      if (node.answeredAt) readyCell.title = "last answer " + fmtSeconds(now() - node.answeredAt) + " ago";
    } else {
      readyCell = ownCell("ready", node, node && node.readyAt,
        ready ? (ready.ready ? "ready" : "not ready") : "",
        ready && ready.reasons && ready.reasons.length ? ready.reasons.join("; ") : "");
      readyCell.className += ready ? (ready.ready ? " yes" : " no") : "";
    }
    tr.appendChild(readyCell);
    tr.appendChild(ownCell("epoch", node, node && node.readyAt, ready ? String(ready.epoch) : ""));
    const st = node && node.stabilization;
    tr.appendChild(ownCell("pending", node, node && node.stabilizationAt,
      st ? (st.pendingOwned < 0 ? "not in ring" : String(st.pendingOwned)) : "",
      st ? (st.settled ? "settled" : "not settled") : ""));
    const rate = node ? meters(node) : null;
    tr.appendChild(ownCell("rate", node, rate && node.metricsAt, rate ? rate.rate.toFixed(1) : ""));
    tr.appendChild(ownCell("p99", node, rate && node.metricsAt, rate ? fmtLatency(rate.p99) : ""));
    tbody.appendChild(tr);
  }

  if (!ring) return;
  drawRing(ring, palette);
  const transition = document.getElementById("transition");
  transition.textContent = ring.inTransition
    ? "in transition to [" + ring.next.join(", ") + "]: " + ring.rangesInTransition +
      " ranges moving (outer arcs)" + (ring.readsMoved ? ", reads moved" : "") +
      (ring.awaitingFills && ring.awaitingFills.length ? "; waiting for fills by " +
        ring.awaitingFills.join(", ") : "")
    : "stable: no range in transition";
  transition.classList.toggle("active", ring.inTransition);
  const shareBody = document.querySelector("#shares tbody");
  shareBody.replaceChildren();
  for (const name of [...share.keys()].sort()) {
    const s = share.get(name);
    const tr = el("tr", { "data-node": name });
    const sw = el("td");
    sw.appendChild(el("span", { class: "swatch", style: "background:" + palette.get(name) }));
    tr.append(sw, el("td", {}, name), el("td", {}, fmtPercent(s.primary)),
      el("td", {}, fmtPercent(s.replicates)), el("td", {}, String(s.vnodes)));
    shareBody.appendChild(tr);
  }
}

async function loop() {
  try {
    await pollServingNode();
  } catch (e) {
    view.membersError = String(e);
    render();
  }
  setTimeout(loop, POLL_MS);
}

loop();
