// The control panel's page script: live updates by polling JSON endpoints, actions with the CSRF token,
// the plan chart drawn as SVG, and the reviewer's keyboard. Plain JavaScript, no build step, no library.
"use strict";

const STR = JSON.parse(document.getElementById("i18n").textContent);
const T = (key, values) => {
  let text = STR[key] || key;
  for (const [k, v] of Object.entries(values || {})) text = text.replace(`{${k}}`, v);
  return text;
};
const CSRF = () => document.querySelector('meta[name="csrf-token"]').content;
const SVG_NS = "http://www.w3.org/2000/svg";

function el(tag, attrs, ...children) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG_NS, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.setAttribute("class", v);
    else if (k === "text") node.textContent = v;
    else if (k === "style") node.style.cssText = v;  // CSSOM: allowed by the CSP, unlike a style attribute
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function toast(message, bad) {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.className = "toast" + (bad ? " bad" : "");
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, bad ? 8000 : 3500);
}

function setConnection(ok) {
  const dot = document.getElementById("conn");
  if (!dot) return;
  dot.classList.toggle("bad", !ok);
  dot.title = ok ? "" : T("common.offline");
}

class ApiError extends Error {
  constructor(status, errors) {
    super(errors.map((e) => (e.field ? `${e.field}: ` : "") + e.reason).join("; ") || `HTTP ${status}`);
    this.status = status;
    this.errors = errors;
  }
}

async function api(path, options) {
  const opts = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
  if (opts.method && opts.method !== "GET") opts.headers["X-CSRF-Token"] = CSRF();
  if (opts.json !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(opts.json);
    delete opts.json;
  }
  const response = await fetch(path, opts);
  if (response.status === 401) {
    window.location.href = "/login?next=" + encodeURIComponent(location.pathname);
    throw new ApiError(401, [{ field: "session", reason: T("auth.expired") }]);
  }
  const data = (response.headers.get("content-type") || "").includes("json") ? await response.json() : {};
  if (!response.ok) throw new ApiError(response.status, data.errors || []);
  return data;
}

function poll(fn, intervalMs) {
  let timer = null;
  const run = async () => {
    try { await fn(); setConnection(true); } catch (err) { setConnection(false); if (err.status && err.status !== 401) console.warn(err); }
    timer = setTimeout(run, intervalMs);
  };
  run();
  return () => clearTimeout(timer);
}

function startClock() {
  const node = document.getElementById("clock");
  if (!node) return;
  const tick = () => { node.textContent = new Date().toLocaleTimeString(document.body.dataset.lang === "zh" ? "zh-CN" : "en-GB", { hour12: false }); };
  tick();
  setInterval(tick, 1000);
}

const poolName = (pool) => T("common.pool." + pool);
const className = (name) => T("class." + name);
const fmt = (n, digits) => (n === null || n === undefined) ? "–" : Number(n).toLocaleString("en-US", { maximumFractionDigits: digits || 0 });

// ------------------------------------------------------------------------------------------------ line

function machineCard(m, control) {
  const ratio = m.rated_per_hour ? Math.min(1, m.documents_per_hour / m.rated_per_hour) : 0;
  const running = m.state === "idle" || m.state === "busy";
  const act = (action) => async () => {
    try {
      await api(`/api/machines/${encodeURIComponent(m.id)}/${action}`, { method: "POST" });
      toast(`${m.id}: ${T("line." + action)}`);
      await refreshLine();
    } catch (err) { toast(err.message, true); }
  };
  return el("div", { class: `machine s-${m.state}`, id: `m-${m.id}`, "data-state": m.state },
    el("span", { class: "id", text: m.id }),
    el("span", {}, el("span", { class: `badge b-${m.state}`, text: T("state." + m.state) })),
    el("div", { class: "job", title: m.current_job || "", text: m.current_job ? `▶ ${m.current_job}` : "—" }),
    m.fault ? el("div", { class: "fault", text: `⚠ ${m.fault}` }) : null,
    el("div", { class: "meter" }, el("i", { style: `width:${(ratio * 100).toFixed(0)}%` })),
    el("div", { class: "nums" },
      el("span", {}, el("b", { text: fmt(m.documents_per_hour) }), ` / ${fmt(m.rated_per_hour)} /h`),
      el("span", {}, `${T("line.blanks")} `, el("b", { text: fmt(m.blanks_left) }))),
    control ? el("div", { class: "ctl" },
      el("button", { class: "act-pause", disabled: !running && m.state !== "draining", onclick: act("pause"), text: T("line.pause") }),
      el("button", { class: "act-drain", disabled: !running, onclick: act("drain"), text: T("line.drain") }),
      el("button", { class: "act-resume", disabled: running || m.state === "fault" || m.state === "offline", onclick: act("resume"), text: T("line.resume") })) : null,
    el("div", { class: "by", text: (m.changed_by && !running) ? `${T("common.by")}: ${m.changed_by}` : "" }));
}

function tile(key, value, extra) {
  return el("div", { class: "tile" }, el("div", { class: "k", text: T(key) }), el("div", { class: "v" }, value), extra || null);
}

async function refreshLine() {
  const data = await api("/api/line");
  const control = document.getElementById("line-pools").dataset.control === "1";
  const s = data.summary;
  const states = el("div", { class: "states" }, ...["busy", "idle", "draining", "paused", "fault", "offline"]
    .filter((k) => s.by_state[k]).map((k) => el("span", { class: `badge b-${k}`, text: `${T("state." + k)} ${s.by_state[k]}` })));
  document.getElementById("line-summary").replaceChildren(
    tile("line.summary.machines", String(data.machines.length), states),
    tile("line.summary.rate", `${fmt(s.documents_per_hour)} / ${fmt(s.rated_per_hour)}`),
    tile("line.summary.queue", fmt(s.waiting)),
    tile("line.summary.review", fmt(s.awaiting_review)),
    tile("line.summary.shifts", T(s.peak_shifts ? "shifts.peak" : "shifts.normal")));
  const pools = {};
  for (const m of data.machines) (pools[m.pool] = pools[m.pool] || []).push(m);
  document.getElementById("line-pools").replaceChildren(...Object.entries(pools).map(([pool, machines]) =>
    el("section", { class: "panel pool", id: `pool-${pool}` },
      el("h2", {}, poolName(pool), el("span", { class: "muted small", text: `${machines.filter((m) => m.state === "busy").length} ${T("state.busy")} · ${machines.length} ${T("line.summary.machines")}` })),
      el("div", { class: "machines" }, machines.map((m) => machineCard(m, control))))));
}

// ------------------------------------------------------------------------------------------------ queue

function heatCell(count, max, overdue) {
  const alpha = count ? 0.15 + 0.75 * Math.min(1, count / Math.max(1, max)) : 0;
  const colour = overdue ? `rgba(239,75,75,${alpha})` : `rgba(62,166,255,${alpha})`;
  return el("td", { class: "c", style: `background:${colour}`, text: count ? fmt(count) : "·" });
}

async function refreshQueue() {
  const data = await api("/api/queue");
  const b = data.backlog;
  const binLabel = (bin) => bin === "overdue" ? T("queue.overdue") : bin;
  document.getElementById("backlog").replaceChildren(...Object.entries(b.pools).map(([pool, p]) => {
    const max = Math.max(1, ...p.grid.flat());
    return el("div", { class: "pool-backlog", id: `backlog-${pool}` },
      el("h3", {}, `${poolName(pool)} · ${T("common.total")} ${fmt(p.total)}`),
      el("table", { class: "grid heat" },
        el("thead", {}, el("tr", {}, el("th", { text: T("queue.class") }), b.bins.map((bin) => el("th", { class: "num", text: binLabel(bin) })), el("th", { class: "num", text: T("common.total") }))),
        el("tbody", {}, b.classes.map((cls, i) => el("tr", {},
          el("td", { text: className(cls) }),
          p.grid[i].map((n, j) => heatCell(n, max, j === 0)),
          el("td", { class: "num", text: fmt(p.grid[i].reduce((a, c) => a + c, 0)) }))))));
  }));
  document.getElementById("next-up").replaceChildren(...Object.entries(data.next_up).map(([pool, items]) =>
    el("div", { id: `next-${pool}` }, el("h3", { text: poolName(pool) }),
      items.length ? el("ol", { class: "nextlist" }, items.map((it) => el("li", { class: it.service_class === "green" ? "green" : "" },
        it.application_id, " ", el("span", { class: "tag" + (it.service_class === "green" ? " green" : ""), text: className(it.service_class) }))))
        : el("p", { class: "muted", text: T("common.none") }))));
  document.getElementById("at-risk-count").textContent = `${fmt(data.at_risk_count)} (${T("queue.late")} ${fmt(data.late_count)})`;
  document.querySelector("#at-risk tbody").replaceChildren(...data.at_risk.map((r) => el("tr", { class: r.late ? "late" : "" },
    el("td", { text: r.application_id }), el("td", { text: r.doc_type }), el("td", { text: className(r.service_class) }),
    el("td", { text: r.production_date }), el("td", { text: r.planned_date || "—" }),
    el("td", { class: "num", text: r.late ? r.days_late : T("queue.on_deadline") }), el("td", { text: r.state }))));
}

// ------------------------------------------------------------------------------------------------ plan

function drawPlanChart(svg, dates, p) {
  const width = Math.max(600, svg.clientWidth || svg.parentNode.clientWidth || 900);
  const height = 300;
  const m = { l: 56, r: 64, t: 14, b: 34 };
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.replaceChildren();
  const n = dates.length;
  if (!n) return;
  const w = (width - m.l - m.r) / n;
  const daily = dates.map((_, i) => Math.max(p.demand[i], p.capacity[i] + p.overtime_capacity[i]));
  const yMax = Math.max(1, ...daily) * 1.1;
  let cd = 0, cc = 0;
  const cum = dates.map((_, i) => { cd += p.demand[i]; cc += p.capacity[i] + p.overtime_capacity[i]; return [cd, cc]; });
  const cMax = Math.max(1, ...cum.flat()) * 1.05;
  const y = (v) => m.t + (height - m.t - m.b) * (1 - v / yMax);
  const yc = (v) => m.t + (height - m.t - m.b) * (1 - v / cMax);
  for (let k = 0; k <= 4; k++) {
    const v = yMax * k / 4;
    svg.append(el("svg:line", { class: "grid", x1: m.l, x2: width - m.r, y1: y(v), y2: y(v) }));
    svg.append(el("svg:text", { x: m.l - 6, y: y(v) + 4, "text-anchor": "end", text: fmt(v) }));
    svg.append(el("svg:text", { x: width - m.r + 6, y: yc(cMax * k / 4) + 4, text: fmt(cMax * k / 4) }));
  }
  const every = Math.ceil(n / Math.max(1, Math.floor((width - m.l - m.r) / 46)));
  dates.forEach((date, i) => {
    const x = m.l + i * w;
    const bw = Math.max(2, w * 0.38);
    const cap = p.capacity[i], ot = p.overtime_capacity[i], dem = p.demand[i];
    svg.append(el("svg:rect", { x: x + w * 0.08, y: y(cap), width: bw, height: y(0) - y(cap), fill: "var(--capacity)" },
      el("svg:title", { text: `${date} ${T("plan.capacity")} ${cap}` })));
    if (ot > 0) svg.append(el("svg:rect", { x: x + w * 0.08, y: y(cap + ot), width: bw, height: y(cap) - y(cap + ot), fill: "var(--overtime)", class: "ot" },
      el("svg:title", { text: `${date} ${T("plan.overtime")} +${ot} (${p.overtime_hours[i]} ${T("plan.hours")})` })));
    svg.append(el("svg:rect", { x: x + w * 0.08 + bw + 2, y: y(dem), width: bw, height: y(0) - y(dem), fill: "var(--demand)" },
      el("svg:title", { text: `${date} ${T("plan.demand")} ${dem}` })));
    if (i % every === 0) svg.append(el("svg:text", { x: x + w / 2, y: height - m.b + 16, "text-anchor": "middle", text: date.slice(5) }));
    if (p.overtime_hours[i] > 0 && w > 30) svg.append(el("svg:text", { x: x + w * 0.08 + bw / 2, y: y(cap + ot) - 4, "text-anchor": "middle", style: "fill:var(--overtime)", text: `+${p.overtime_hours[i]}h` }));
  });
  const path = (k) => cum.map((c, i) => `${i ? "L" : "M"}${(m.l + (i + 1) * w).toFixed(1)},${yc(c[k]).toFixed(1)}`).join(" ");
  svg.append(el("svg:path", { d: `M${m.l},${yc(0)} ` + path(0).slice(1).replace(/^/, "L"), fill: "none", stroke: "#ff6b6b", "stroke-width": 2.5, class: "cum-demand" }));
  svg.append(el("svg:path", { d: `M${m.l},${yc(0)} ` + path(1).slice(1).replace(/^/, "L"), fill: "none", stroke: "#9fd3ff", "stroke-width": 2.5, "stroke-dasharray": "6 3", class: "cum-capacity" }));
  svg.append(el("svg:line", { class: "axis", x1: m.l, x2: width - m.r, y1: y(0), y2: y(0) }));
}

let planPeak = null;
async function refreshPlan() {
  const query = planPeak === null ? "" : `?peak=${planPeak ? 1 : 0}`;
  const data = await api("/api/plan" + query);
  if (planPeak === null) planPeak = data.shifts === "peak";
  for (const button of document.querySelectorAll("#shift-switch button")) button.classList.toggle("on", (button.dataset.peak === "1") === planPeak);
  const box = document.getElementById("plan-charts");
  box.replaceChildren(...Object.entries(data.pools).map(([pool, p]) => {
    const svg = el("svg:svg", { id: `chart-${pool}`, role: "img" });
    const card = el("div", { class: "chart", id: `plan-${pool}`, "data-shifts": data.shifts },
      el("h3", {},
        el("span", { text: `${poolName(pool)} · ${p.machines_up}/${p.machines} ${T("plan.machines_up")}` }),
        el("span", { text: `${T("plan.jobs")} ${fmt(p.jobs)}` }),
        el("span", { class: p.late ? "bad" : "ok", text: `${T("plan.late")} ${fmt(p.late)}` }),
        p.overdue ? el("span", { class: "bad", text: `${T("plan.overdue")} ${fmt(p.overdue)}` }) : null,
        el("span", { class: p.feasible ? "ok" : "bad", text: p.feasible ? T("plan.feasible") : T("plan.infeasible") }),
        el("span", { class: "overtime-total", text: `${T("plan.overtime_total")} ${fmt(p.overtime_total_hours, 2)} ${T("plan.hours")}` }),
        el("span", { class: p.late_even_with_overtime ? "bad" : "ok", text: `${T("plan.late_with_overtime")} ${fmt(p.late_even_with_overtime)}` })),
      svg);
    return card;
  }));
  for (const [pool, p] of Object.entries(data.pools)) drawPlanChart(document.getElementById(`chart-${pool}`), data.dates, p);
  box.dataset.shifts = data.shifts;
}

// ------------------------------------------------------------------------------------------------ green

function fieldLabel(field) {
  const key = "field." + field;
  return STR[key] ? `${STR[key]} (${field})` : field;
}

function initGreen() {
  const form = document.getElementById("green-form");
  const result = document.getElementById("green-result");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const bad of form.querySelectorAll(".bad")) bad.classList.remove("bad");
    const button = document.getElementById("green-submit");
    button.disabled = true;
    try {
      const placed = await api("/api/green", { method: "POST", body: new FormData(form) });
      const when = placed.starts_at ? placed.starts_at.replace("T", " ").slice(0, 19) : "—";
      const position = placed.queue_position === 0 ? `1 · ${T("green.first")}` : String(placed.queue_position + 1);
      result.replaceChildren(el("div", { class: "placed", id: "green-placed" },
        el("h3", { text: `✔ ${T("green.placed")}: ${placed.application_id}` }),
        el("dl", {},
          el("dt", { text: T("green.machine") }), el("dd", { id: "green-machine", text: placed.machine || T("green.no_machine") }),
          el("dt", { text: T("green.starts") }), el("dd", { id: "green-starts", text: when }),
          el("dt", { text: T("green.wait") }), el("dd", { text: placed.wait_s === null ? "—" : `${fmt(placed.wait_s)} s` }),
          el("dt", { text: T("green.position") }), el("dd", { id: "green-position", "data-position": placed.queue_position, text: position })),
        placed.newly_late.length
          ? el("div", { class: "bad-text", id: "green-late" }, T("green.some_late"), el("ul", {}, placed.newly_late.map((id) => el("li", { text: id }))))
          : el("p", { class: "ok-text", id: "green-nobody-late", text: `✔ ${T("green.nobody_late")}` })));
      form.reset();
    } catch (err) {
      const errors = err.errors && err.errors.length ? err.errors : [{ field: "", reason: err.message }];
      for (const e of errors) { const input = document.getElementById("g-" + e.field); if (input) input.classList.add("bad"); }
      result.replaceChildren(el("div", { class: "errors", id: "green-errors" }, el("b", { text: T("green.errors") }),
        el("ul", {}, errors.map((e) => el("li", { "data-field": e.field, text: (e.field ? `${fieldLabel(e.field)}: ` : "") + e.reason })))));
    } finally {
      button.disabled = false;
    }
  });
}

// ------------------------------------------------------------------------------------------------ stock

async function refreshStock() {
  const data = await api("/api/stock");
  document.querySelector("#stock tbody").replaceChildren(...data.stock.map((s) => {
    const cover = s.days_of_cover;
    const level = cover === null ? "" : cover < 2 ? "low" : cover < 5 ? "mid" : "";
    return el("tr", { id: `stock-${s.pool}` }, el("td", { text: poolName(s.pool) }), el("td", { class: "num", text: fmt(s.in_store) }),
      el("td", { class: "num", text: fmt(s.in_machines) }), el("td", { class: "num", text: fmt(s.total) }), el("td", { class: "num", text: fmt(s.needed_per_day) }),
      el("td", {}, el("span", { class: `bar ${level}`, style: `width:${Math.min(160, (cover || 0) * 16)}px` }), ` ${cover === null ? "–" : fmt(cover, 1)} ${T("common.days")}`));
  }));
  const pools = ["booklet", "card"];
  const table = document.getElementById("spoilage");
  table.querySelector("thead").replaceChildren(el("tr", {}, el("th", { text: T("stock.reason") }), pools.map((p) => el("th", { class: "num", text: poolName(p) }))));
  const rows = Object.entries(data.spoilage.reasons).map(([reason, byPool]) => el("tr", {}, el("td", { text: reason }),
    pools.map((p) => el("td", { class: "num", text: byPool[p] ? `${fmt(byPool[p].total)} (${fmt(byPool[p].recent)})` : "0" }))));
  rows.push(el("tr", {}, el("td", { class: "muted", text: T("stock.issued") }), pools.map((p) => el("td", { class: "num muted", text: fmt(data.spoilage.issued[p] || 0) }))));
  table.querySelector("tbody").replaceChildren(...rows);
}

async function refreshHandover() {
  const form = document.getElementById("handover-filter");
  const params = new URLSearchParams(new FormData(form));
  for (const [k, v] of [...params.entries()]) if (!v) params.delete(k);
  const data = await api("/api/handover?" + params.toString());
  document.querySelector("#handover tbody").replaceChildren(...data.events.map((e) => el("tr", {},
    el("td", { class: "num", text: e.event_id }), el("td", { text: e.at.replace("T", " ").slice(0, 19) }), el("td", { text: e.station }),
    el("td", { text: e.event }), el("td", { text: e.subject }),
    el("td", { class: "muted", text: [e.from_state && `${e.from_state}→${e.to_state}`, e.machine, e.blank_serial, e.reason].filter(Boolean).join(" · ") }))));
}

function initStock() {
  document.getElementById("handover-filter").addEventListener("submit", (event) => { event.preventDefault(); refreshHandover(); });
  poll(async () => { await refreshStock(); await refreshHandover(); }, 5000);
}

// ------------------------------------------------------------------------------------------------ review

// `selection` numbers each selectReview call: a reviewer pressing J quickly, or clicking while the
// page's first selection is still loading, starts several fetches, and only the newest may fill the
// detail. `current` is empty while loading, so A and R never act on an item the list no longer shows;
// pressed while it loads, they wait for it (`loading`, the newest selection's fetch) and act on the item
// selected when they were pressed, unless another selection or Escape (`escapes`) came in between.
const review = { items: [], index: 0, current: null, rejecting: false, selection: 0, loading: Promise.resolve(), escapes: 0 };

function renderReviewList() {
  document.getElementById("review-count").textContent = review.items.length;
  document.getElementById("review-items").replaceChildren(...review.items.map((it, i) => el("li", {
    class: i === review.index ? "sel" : "", id: `ri-${it.application_id}`, onclick: () => selectReview(i) },
    el("div", { class: "id", text: it.application_id }),
    el("div", { class: "muted", text: `${T("review.due")} ${(it.due_at || "").slice(0, 16).replace("T", " ")} · ${className(it.service_class)}` }),
    el("div", { class: "why", text: (it.stage === "intake" ? `${T("review.intake")} · ` : "") + it.failed.join(", ") }))));
}

function mrzBlock(mrz) {
  if (!mrz) return el("p", { class: "muted", text: T("review.mrz_none") });
  const rows = [];
  const lines = mrz.diff || mrz.expected.map((line) => [...line].map((c) => ({ read: "?", expected: c, differs: true })));
  lines.forEach((line, k) => {
    rows.push(el("div", { class: "row read" }, el("span", { class: "label", text: T("review.mrz_read") }),
      line.map((c) => c.differs ? el("span", { class: "d", title: `${c.expected}`, text: c.read || "␣" }) : c.read)));
    rows.push(el("div", { class: "row expected" }, el("span", { class: "label", text: T("review.mrz_expected") }), mrz.expected[k] || ""));
  });
  return el("div", {}, rows);
}

async function selectReview(index) {
  review.index = Math.max(0, Math.min(index, review.items.length - 1));
  review.rejecting = false;
  document.getElementById("reject-form").hidden = true;
  renderReviewList();
  const item = review.items[review.index];
  const empty = !item;
  document.getElementById("review-empty").hidden = !empty;
  document.getElementById("review-detail").hidden = empty;
  if (empty) { review.selection++; review.current = null; return; }
  const id = item.application_id;
  const selection = ++review.selection;
  review.current = null;
  document.getElementById(`ri-${id}`).scrollIntoView({ block: "nearest" });
  review.loading = showReview(selection, id);
  return review.loading;
}

async function showReview(selection, id) {
  const data = await api(`/api/review/${encodeURIComponent(id)}`);
  if (selection !== review.selection) return;
  review.current = data;
  document.getElementById("r-title").textContent = `${data.application_id} · ${data.doc_type}`;
  document.getElementById("r-meta").textContent = `${T("review.due")} ${(data.due_at || "").replace("T", " ").slice(0, 16)} · ${data.machine || ""} · ${T("review.blank")} ${data.blank_serial || "—"}`;
  document.getElementById("r-name").textContent = data.name_cn;
  document.getElementById("r-latin").textContent = data.name_latin;
  const stamp = `?a=${data.attempt}`;
  for (const kind of ["printed_photo", "enrolled_photo", "printed_signature", "captured_signature", "page"]) {
    document.getElementById(`img-${kind}`).src = `/api/review/${encodeURIComponent(id)}/image/${kind}${stamp}`;
  }
  document.getElementById("r-failing").replaceChildren(...data.failing.map((c) => el("li", {},
    el("b", { text: c.name }), c.value != null ? el("small", { text: ` = ${c.value}` }) : null,
    c.detail ? el("small", { text: ` — ${c.detail}` }) : null, c.zone ? el("small", { text: ` [${c.zone}]` }) : null)),
    ...data.reasons.filter((r) => !data.failing.some((c) => c.detail === r)).map((r) => el("li", {}, el("small", { text: r }))));
  document.getElementById("r-mrz").replaceChildren(mrzBlock(data.mrz));
  const svg = document.getElementById("page-zones");
  svg.replaceChildren();
  if (data.page_size) {
    svg.setAttribute("viewBox", `0 0 ${data.page_size[0]} ${data.page_size[1]}`);
    for (const z of data.zones) {
      svg.append(el("svg:rect", { x: z.x, y: z.y, width: z.w, height: z.h, class: "zone", "data-zone": z.zone }));
      svg.append(el("svg:text", { x: z.x + 4, y: Math.max(30, z.y - 6), text: z.checks.join(", ") }));
    }
  }
}

async function refreshReviewList(keepId) {
  const data = await api("/api/review");
  const current = keepId || (review.items[review.index] || {}).application_id;
  review.items = data.items;
  const found = review.items.findIndex((it) => it.application_id === current);
  if (found >= 0) { review.index = found; renderReviewList(); if (!review.current || review.current.application_id !== current) await selectReview(found); }
  else await selectReview(Math.min(review.index, review.items.length - 1));
}

async function selectedAtPress() {
  const selection = review.selection, escapes = review.escapes;
  try { await review.loading; } catch { return null; }
  return selection === review.selection && escapes === review.escapes ? review.current : null;
}

async function decide(approve) {
  const data = await selectedAtPress();
  if (!data) return;
  try {
    let result;
    if (approve) result = await api(`/api/review/${encodeURIComponent(data.application_id)}/approve`, { method: "POST", json: {} });
    else {
      const route = (document.querySelector('#reject-form input[name="route"]:checked') || {}).value;
      result = await api(`/api/review/${encodeURIComponent(data.application_id)}/reject`, { method: "POST", json: { route, note: document.getElementById("reject-note").value } });
    }
    toast(`${data.application_id}: ${T(approve ? "review.approve" : "review.reject")} → ${result.state}`);
    const found = review.items.findIndex((it) => it.application_id === data.application_id);
    const index = found >= 0 ? found : review.index;
    if (found >= 0) review.items.splice(found, 1);
    review.current = null;
    document.getElementById("reject-note").value = "";
    await selectReview(Math.min(index, review.items.length - 1));
  } catch (err) { toast(err.message, true); }
}

async function openReject() {
  if (!(await selectedAtPress())) return;
  review.rejecting = true;
  document.getElementById("reject-form").hidden = false;
  document.getElementById("reject-note").focus();
}

function initReview() {
  document.getElementById("r-approve").addEventListener("click", () => decide(true));
  document.getElementById("r-reject").addEventListener("click", openReject);
  document.getElementById("reject-form").addEventListener("submit", (event) => { event.preventDefault(); decide(false); });
  document.getElementById("reject-cancel").addEventListener("click", () => { review.rejecting = false; document.getElementById("reject-form").hidden = true; });
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const typing = event.target.matches("input[type=text], input:not([type]), textarea");
    if (event.key === "Escape") { review.escapes++; review.rejecting = false; document.getElementById("reject-form").hidden = true; event.target.blur && event.target.blur(); return; }
    if (review.rejecting && /^[1-3]$/.test(event.key) && !typing) {
      const radios = document.querySelectorAll('#reject-form input[name="route"]');
      radios[Number(event.key) - 1].checked = true; event.preventDefault(); return;
    }
    if (typing) return;
    const key = event.key.toLowerCase();
    if (key === "j") { selectReview(review.index + 1); event.preventDefault(); }
    else if (key === "k") { selectReview(review.index - 1); event.preventDefault(); }
    else if (key === "a" && !review.rejecting) { decide(true); event.preventDefault(); }
    else if (key === "r" && !review.rejecting) { openReject(); event.preventDefault(); }
    else if (key === "enter" && review.rejecting) { decide(false); event.preventDefault(); }
  });
  poll(() => refreshReviewList(), 10000);
}

// ------------------------------------------------------------------------------------------------ settings

function initSettings() {
  for (const id of ["peak-on", "peak-off"]) {
    document.getElementById(id).addEventListener("click", async (event) => {
      try {
        const data = await api("/api/settings/shifts", { method: "POST", json: { peak: event.target.dataset.peak === "1" } });
        document.getElementById("settings-shifts").textContent = T(data.peak_shifts ? "shifts.peak" : "shifts.normal");
        toast(T("common.saved"));
      } catch (err) { toast(err.message, true); }
    });
  }
  document.getElementById("add-user").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    try {
      await api("/api/settings/users", { method: "POST", json: Object.fromEntries(form.entries()) });
      location.reload();
    } catch (err) { toast(err.message, true); }
  });
}

// ------------------------------------------------------------------------------------------------ start

document.addEventListener("DOMContentLoaded", () => {
  startClock();
  const page = document.body.dataset.page;
  if (page === "line") poll(refreshLine, 2000);
  else if (page === "queue") poll(refreshQueue, 5000);
  else if (page === "plan") {
    for (const button of document.querySelectorAll("#shift-switch button")) {
      button.addEventListener("click", () => { planPeak = button.dataset.peak === "1"; refreshPlan().catch((err) => toast(err.message, true)); });
    }
    poll(refreshPlan, 30000);
    let resized = null;
    window.addEventListener("resize", () => { clearTimeout(resized); resized = setTimeout(() => refreshPlan(), 200); });
  } else if (page === "green") initGreen();
  else if (page === "stock") initStock();
  else if (page === "review") initReview();
  else if (page === "settings") initSettings();
});
