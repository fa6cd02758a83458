/* The field page (/m) for grid workers, members and officers. Plain JavaScript, no build step.
 *
 * Signs in once with an API key: pasted, or from the URL fragment #key=… that the QR code of
 * `hotline keys create --qr` carries (a fragment never reaches a server or its logs); the key is
 * kept in localStorage and sent only to this origin. The list long-polls GET /v1/assignments
 * (a full poll, then ?since=cursor&wait=25) and counts every deadline down each second.
 *
 * Every action goes through the outbox, an IndexedDB store: one entry per HTTP request, each with
 * the Idempotency-Key drawn when the person tapped, sent in order whenever the network is there
 * (at once, on `online`, every 15 s). An entry leaves the outbox only after a 2xx, or after a
 * final refusal (4xx but 401, 408, 425, 429 and a request still in flight), whose problem detail
 * is shown. A request that reached the server but whose answer was lost is sent again with the
 * same key, and the server answers it from its record: nothing is done twice, nothing is lost.
 */
(() => {
  "use strict";

  const KEY_STORE = "hotline.field.key";
  const POLL_WAIT_S = 25;
  const RETRY_MS = 15000;
  const REQUEST_TIMEOUT_MS = 45000;
  const PHOTO_MAX_SIDE = 1920;
  const IN_FLIGHT = new Set(["idempotency_in_flight", "in_flight"]);

  const STATUS = {
    triage: "待分拨",
    dispatched: "待签收",
    return_requested: "退单审核中",
    signed: "办理中",
    arbitration: "确责中",
    replied: "已答复",
    closed: "已办结",
    rework: "重办",
  };
  const ACTIONS = {
    created: "受理",
    dispatched: "派单",
    signed: "签收",
    noted: "进展",
    note: "进展",
    whistled: "吹哨",
    reported_in: "报到",
    replied: "答复",
    return_requested: "申请退单",
    return_decided: "退单审核",
    extension_requested: "申请延期",
    extension_decided: "延期审核",
    staged_answer: "阶段性答复",
    callback: "回访",
    escalated: "提级",
    supervised: "督办",
    ruled: "确责",
    merged: "并单",
    closed: "办结",
    reminded: "提醒",
    overdue: "超时",
    attachment_added: "照片",
  };
  const ROLES = {
    agent: "话务员",
    dispatcher: "派单员",
    worker: "网格员",
    member: "部门成员",
    officer: "干部",
    arbiter: "确责组",
    admin: "管理员",
    system: "系统",
  };
  const STAGES = { before: "处置前", during: "处置中", after: "处置后" };
  const OUTCOMES = { resolved: "已解决", partly: "部分解决", unresolved: "未解决", explained: "已解释说明" };
  const RETURN_REASONS = {
    not_our_area: "不属于本辖区",
    not_our_duty: "不属于本单位职责",
    wrong_category: "分类错误",
    duplicate: "重复工单",
    other: "其他",
  };
  const LEVELS = { routine: "一般", key: "重点", emergency: "紧急" };

  const $ = (selector) => document.querySelector(selector);
  const state = {
    key: localStorage.getItem(KEY_STORE),
    entries: new Map(), // ticket id → {ticket, summons: Map(id → summons), change}
    cursor: null,
    categories: new Map(),
    afterPhoto: new Set(), // categories whose reply needs an `after` photo (409 photo_required)
    grids: new Map(),
    open: null, // the ticket id whose page is shown
    events: [],
    attachments: [],
    thumbs: new Map(), // attachment id → blob: URL
    pending: [], // outbox entries, oldest first
    problems: [],
    polling: null,
    form: null,
  };

  // --- HTTP ------------------------------------------------------------------------------

  class HttpError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
      this.status = status;
      this.problem = problem || {};
    }
  }

  function url(path) {
    const target = new URL(path, document.baseURI);
    if (target.origin !== location.origin) throw new Error("refusing to send the key elsewhere");
    return target;
  }

  async function request(path, { method = "GET", json, form, headers = {}, signal, timeout } = {}) {
    const controller = new AbortController();
    const stop = () => controller.abort();
    signal?.addEventListener("abort", stop);
    const timer = setTimeout(stop, timeout ?? REQUEST_TIMEOUT_MS);
    const init = {
      method,
      headers: { Authorization: `Bearer ${state.key}`, Accept: "application/json", ...headers },
      signal: controller.signal,
      cache: "no-store",
    };
    if (json !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(json);
    } else if (form) {
      init.body = form;
    }
    try {
      return await fetch(url(path), init);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", stop);
    }
  }

  async function problemOf(answer) {
    try {
      return await answer.json();
    } catch {
      return null;
    }
  }

  async function api(path, options) {
    const answer = await request(path, options);
    if (!answer.ok) throw new HttpError(answer.status, await problemOf(answer));
    return answer.status === 204 ? null : answer.json();
  }

  // --- Time --------------------------------------------------------------------------------

  function span(ms) {
    const minutes = Math.floor(Math.abs(ms) / 60000);
    const days = Math.floor(minutes / 1440);
    const hours = Math.floor((minutes % 1440) / 60);
    const mins = minutes % 60;
    if (days > 0) return `${days}天${hours}小时`;
    if (hours > 0) return `${hours}小时${mins}分`;
    if (minutes > 0) return `${mins}分${Math.floor((Math.abs(ms) % 60000) / 1000)}秒`;
    return `${Math.floor(Math.abs(ms) / 1000)}秒`;
  }

  function stamp(iso) {
    const d = new Date(iso);
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getMonth() + 1}月${d.getDate()}日 ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }

  /** The deadline that matters now for this entry: {label, at, overdue flag from the server}. */
  function dueOf(entry) {
    const t = entry.ticket;
    const waiting = [...entry.summons.values()].find((s) => !s.reported_at);
    if (waiting) return { label: "报到", at: waiting.due_at, late: false };
    const d = t.deadlines || {};
    if (t.status === "dispatched" && d.sign_due_at) {
      return { label: "签收", at: d.sign_due_at, late: d.sign_overdue };
    }
    if ((t.status === "signed" || t.status === "rework") && d.reply_due_at) {
      return { label: "答复", at: d.reply_due_at, late: d.reply_overdue };
    }
    if (d.escalation_due_at && ["dispatched", "signed", "rework"].includes(t.status)) {
      return { label: "处理", at: d.escalation_due_at, late: d.escalation_overdue };
    }
    return null;
  }

  function dueText(due) {
    const left = new Date(due.at).getTime() - Date.now();
    if (left <= 0 || due.late) return { text: `${due.label}已超时 ${span(left)}`, overdue: true };
    return { text: `距${due.label}截止 ${span(left)}`, overdue: false };
  }

  function tick() {
    for (const node of document.querySelectorAll("[data-due]")) {
      const due = JSON.parse(node.dataset.due);
      const shown = dueText(due);
      node.textContent = shown.text;
      node.classList.toggle("overdue", shown.overdue);
      node.closest(".ticket")?.classList.toggle("overdue", shown.overdue);
    }
    listStatus();
  }

  // --- DOM helpers -------------------------------------------------------------------------

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value == null || value === false) continue;
      if (name === "text") node.textContent = value;
      else if (name === "class") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) if (child != null) node.append(child);
    return node;
  }

  function show(view) {
    for (const name of ["signin", "list", "ticket"]) $(`#${name}-view`).hidden = name !== view;
    $("#back").hidden = view !== "ticket";
    document.body.dataset.state = view === "signin" ? "signin" : "ready";
    document.body.dataset.view = view;
  }

  function categoryName(code) {
    return state.categories.get(code) || code;
  }

  // --- Outbox (IndexedDB) ------------------------------------------------------------------

  const db = new Promise((resolve, reject) => {
    const open = indexedDB.open("hotline-field", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });

  async function store(mode, work) {
    const handle = await db;
    return new Promise((resolve, reject) => {
      const tx = handle.transaction("outbox", mode);
      const result = work(tx.objectStore("outbox"));
      tx.oncomplete = () => resolve(result.result ?? result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }

  const outbox = {
    all: () => store("readonly", (s) => s.getAll()),
    add: (items) => store("readwrite", (s) => { for (const item of items) s.add(item); return {}; }),
    put: (item) => store("readwrite", (s) => s.put(item)),
    remove: (seq) => store("readwrite", (s) => s.delete(seq)),
    clear: () => store("readwrite", (s) => s.clear()),
  };

  function newKey() {
    return crypto.randomUUID ? crypto.randomUUID() : [...crypto.getRandomValues(new Uint8Array(16))]
      .map((b) => b.toString(16).padStart(2, "0")).join("");
  }

  /** Queue one tap's requests, each with its own Idempotency-Key, and start sending. */
  async function enqueue(ticketId, label, requests) {
    const at = new Date().toISOString();
    await outbox.add(requests.map((r) => ({ ticketId, label, at, key: newKey(), tries: 0, ...r })));
    await refreshOutbox();
    flush();
  }

  function retriable(status, problem) {
    if (status >= 500 || [401, 408, 425, 429].includes(status)) return true;
    // Another request with the same key got there first: the next try is answered from it.
    return status === 409 && (IN_FLIGHT.has(problem?.code) || /Idempotency-Key/.test(problem?.detail || ""));
  }

  let flushing = null;
  function flush() {
    flushing ??= drain().finally(() => {
      flushing = null;
    });
    return flushing;
  }

  async function drain() {
    const touched = new Set();
    for (;;) {
      const [item] = await outbox.all(); // what is tapped while this runs is sent by it too
      if (!item) break;
      let answer;
      try {
        answer = await sendOne(item);
      } catch (error) {
        item.tries += 1;
        item.lastError = "网络不可用，稍后自动重试";
        await outbox.put(item);
        break; // in order: what was tapped later waits for what was tapped first
      }
      if (answer.ok) {
        await outbox.remove(item.seq);
        touched.add(item.ticketId);
        continue;
      }
      const problem = await problemOf(answer);
      if (retriable(answer.status, problem)) {
        item.tries += 1;
        item.lastError = problem?.detail || `HTTP ${answer.status}`;
        await outbox.put(item);
        if (answer.status === 401) signOutForKey();
        break;
      }
      await outbox.remove(item.seq);
      touched.add(item.ticketId);
      addProblem(`${item.label}未能办理：${problem?.detail || problem?.title || `HTTP ${answer.status}`}`);
    }
    await refreshOutbox();
    if (state.open != null && touched.has(state.open)) loadTicket(state.open, { quiet: true });
  }

  function sendOne(item) {
    const headers = { "Idempotency-Key": item.key };
    if (item.type === "photo") {
      const form = new FormData();
      form.append("file", item.blob, item.filename || "photo.jpg");
      form.append("stage", item.stage);
      if (item.note) form.append("note", item.note);
      return request(`v1/tickets/${item.ticketId}/attachments`, {
        method: "POST", form, headers, timeout: 120000,
      });
    }
    return request(`v1/tickets/${item.ticketId}/${item.action}`, { method: "POST", json: item.body, headers });
  }

  async function refreshOutbox() {
    state.pending = await outbox.all();
    const badge = $("#outbox-badge");
    badge.hidden = state.pending.length === 0;
    badge.textContent = `待发送 ${state.pending.length} 条`;
    badge.dataset.count = String(state.pending.length);
    const list = $("#outbox-list");
    list.replaceChildren(
      ...state.pending.map((item) =>
        el("li", {},
          el("strong", { text: `${item.label}${item.type === "photo" ? "（照片）" : ""}` }),
          el("span", { class: "muted", text: ` ${stamp(item.at)}${item.lastError ? ` · ${item.lastError}` : ""}` }))),
    );
    if (state.open != null && state.ticket) {
      renderTimeline();
      renderPhotos();
    }
  }

  function addProblem(text) {
    state.problems.push(text);
    renderProblems();
  }

  function renderProblems() {
    const box = $("#problems");
    box.hidden = state.problems.length === 0;
    box.replaceChildren(
      ...state.problems.map((p) => el("p", { text: p })),
      el("button", {
        type: "button", class: "ghost", text: "知道了",
        onclick: () => { state.problems = []; renderProblems(); },
      }),
    );
  }

  function setNetwork() {
    $("#network").hidden = navigator.onLine;
  }

  // --- The list ----------------------------------------------------------------------------

  function apply(page, full) {
    if (full) state.entries.clear();
    // Oldest change first, so that the newest word on a ticket is the one kept.
    for (const item of [...page.items].reverse()) {
      if (item.type === "left") {
        state.entries.delete(item.ticket_id);
        if (state.open === item.ticket_id) addProblem("此工单已不在您的待办中（已改派或退回）。");
        continue;
      }
      const entry = state.entries.get(item.ticket_id) || { summons: new Map() };
      entry.ticket = item.ticket;
      entry.change = item.change;
      // Listed as the caller's own ticket (not only as a whistle addressed to them).
      if (item.type === "ticket") entry.owned = true;
      if (item.type === "whistle" && item.summons) entry.summons.set(item.summons.id, item.summons);
      state.entries.set(item.ticket_id, entry);
      if (item.ticket.status === "closed") state.entries.delete(item.ticket_id);
    }
    renderList();
    if (state.open != null && state.entries.has(state.open)) {
      const fresh = state.entries.get(state.open).ticket;
      if (fresh.version !== state.ticket?.version) loadTicket(state.open, { quiet: true });
    }
  }

  function ordered() {
    const rank = (entry) => {
      const due = dueOf(entry);
      if (!due) return [2, 0];
      const left = new Date(due.at).getTime() - Date.now();
      return [left <= 0 || due.late ? 0 : 1, left];
    };
    return [...state.entries.values()].sort((a, b) => {
      const [x, y] = [rank(a), rank(b)];
      return x[0] - y[0] || x[1] - y[1] || b.ticket.id - a.ticket.id;
    });
  }

  function card(entry) {
    const t = entry.ticket;
    const due = dueOf(entry);
    const whistle = [...entry.summons.values()].some((s) => !s.reported_at);
    const pending = state.pending.filter((p) => p.ticketId === t.id).length;
    return el("li", {},
      el("button", {
        type: "button",
        class: `ticket${whistle ? " whistle" : ""}`,
        "data-testid": "ticket-card",
        "data-ticket-id": String(t.id),
        onclick: () => openTicket(t.id),
      },
      el("span", { class: "row" },
        el("span", { class: "number", text: t.number }),
        el("span", { class: `status ${t.status}`, text: whistle ? "吹哨待报到" : STATUS[t.status] || t.status })),
      el("span", { class: "summary", text: t.content }),
      el("span", { class: "where", text: `${categoryName(t.category)} · ${t.location?.address || "未填写地址"}` }),
      el("span", { class: "row" },
        due ? el("span", { class: "due", "data-due": JSON.stringify(due) }) : el("span", { class: "muted", text: STATUS[t.status] }),
        t.urgency !== "normal" ? el("span", { class: "badge urgent", text: t.urgency === "emergency" ? "紧急" : "民生急事" }) : null,
        pending ? el("span", { class: "badge pending", text: `待发送 ${pending}` }) : null)));
  }

  function renderList() {
    const entries = ordered();
    $("#tickets").replaceChildren(...entries.map(card));
    $("#empty").hidden = entries.length > 0;
    $("#list-status").dataset.count = String(entries.length);
    tick();
  }

  /** "共 3 件，其中 1 件已超时", counted off the cards, so that a deadline passing shows at once. */
  function listStatus() {
    const status = $("#list-status");
    if (status.dataset.count === undefined || status.dataset.offline) return;
    const late = document.querySelectorAll("#tickets .ticket.overdue").length;
    status.textContent = `共 ${status.dataset.count} 件${late ? `，其中 ${late} 件已超时` : ""}`;
  }

  async function pollLoop() {
    const mine = {};
    state.polling = mine;
    let backoff = 2000;
    while (state.polling === mine && state.key) {
      try {
        const query = state.cursor ? `?since=${encodeURIComponent(state.cursor)}&wait=${POLL_WAIT_S}` : "";
        const page = await api(`v1/assignments${query}`, { timeout: (POLL_WAIT_S + 20) * 1000 });
        if (state.polling !== mine) return;
        apply(page, state.cursor === null);
        state.cursor = page.cursor;
        document.body.dataset.polled = "1";
        loadCategories();
        delete $("#list-status").dataset.offline;
        listStatus();
        backoff = 2000;
      } catch (error) {
        if (state.polling !== mine) return;
        if (error instanceof HttpError && error.status === 401) return signOutForKey();
        if (error instanceof HttpError && error.status === 422) state.cursor = null; // a stale cursor
        $("#list-status").dataset.offline = "1";
        $("#list-status").textContent = navigator.onLine ? "连接中断，正在重试…" : "离线：显示的是上次的内容";
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, backoff);
          window.addEventListener("online", () => { clearTimeout(timer); resolve(); }, { once: true });
        });
        backoff = Math.min(backoff * 2, 30000);
      }
    }
  }

  // --- One ticket ---------------------------------------------------------------------------

  function openTicket(id) {
    location.hash = `#t/${id}`;
  }

  async function loadTicket(id, { quiet = false } = {}) {
    state.open = id;
    if (!quiet) {
      show("ticket");
      window.scrollTo(0, 0);
      $("#action-form").hidden = true;
      const cached = state.entries.get(id)?.ticket;
      if (cached) renderTicket(cached);
    }
    try {
      const [ticket, events, attachments] = await Promise.all([
        api(`v1/tickets/${id}`),
        api(`v1/tickets/${id}/events`),
        api(`v1/tickets/${id}/attachments`).catch(() => ({ items: [] })),
      ]);
      if (state.open !== id) return;
      state.ticket = ticket;
      state.events = Array.isArray(events) ? events : events.items || [];
      state.attachments = Array.isArray(attachments) ? attachments : attachments.items || [];
      const entry = state.entries.get(id);
      if (entry && ticket.version >= (entry.ticket.version || 0)) entry.ticket = ticket;
      renderTicket(ticket);
      renderTimeline();
      renderPhotos();
    } catch (error) {
      if (error instanceof HttpError && error.status === 401) return signOutForKey();
      if (state.entries.has(id)) return;
      if (!navigator.onLine) {
        $("#t-content").textContent = "离线：联网后显示工单内容。待发送的内容会在联网后自动发出。";
        $("#title").textContent = `工单 ${id}`;
      } else addProblem(`打不开工单：${error.message}`);
    }
  }

  function renderTicket(t) {
    state.ticket = t;
    $("#title").textContent = `工单 ${t.number}`;
    $("#t-number").textContent = t.number;
    $("#t-status").textContent = STATUS[t.status] || t.status;
    $("#t-status").className = `status ${t.status}`;
    $("#t-status").dataset.status = t.status;
    $("#t-category").textContent = `${categoryName(t.category)} · 受理于 ${stamp(t.created_at)}`;
    $("#t-content").textContent = t.content;
    const entry = state.entries.get(t.id) || { ticket: t, summons: new Map() };
    const due = dueOf({ ...entry, ticket: t });
    const dueNode = $("#t-due");
    dueNode.hidden = !due;
    if (due) dueNode.dataset.due = JSON.stringify(due);
    else delete dueNode.dataset.due;

    const caller = t.caller || {};
    const who = caller.confidential && !caller.phone ? "保密来电人（信息不显示）"
      : [caller.name || "未留姓名", caller.phone || "未留电话"].join(" · ");
    $("#t-caller").textContent = who;
    // Only the assignee of a ticket that is not confidential gets the number unmasked.
    const call = $("#t-call");
    call.hidden = !(caller.phone && !caller.masked && !caller.confidential);
    if (!call.hidden) call.href = `tel:${caller.phone}`;

    $("#t-address").textContent = t.location?.address || "未填写地址";
    renderMap(t);
    renderActions(t, entry);
    tick();
  }

  async function renderMap(t) {
    const box = $("#t-map");
    const point = t.location?.wgs84;
    const code = t.location?.grid_code || t.route?.grid_code;
    const geo = $("#t-geo");
    geo.hidden = !point;
    if (point) geo.href = `geo:${point.lat},${point.lon}?q=${point.lat},${point.lon}`;
    let grid = code ? state.grids.get(code) : null;
    if (code && !grid) {
      try {
        grid = await api(`v1/grids/${encodeURIComponent(code)}`);
        state.grids.set(code, grid);
      } catch {
        grid = null;
      }
    }
    if (state.ticket?.id !== t.id) return;
    box.replaceChildren(drawMap(grid, point));
    box.dataset.pin = point ? "1" : "0";
  }

  function rings(geometry) {
    if (!geometry) return [];
    if (geometry.type === "Polygon") return geometry.coordinates;
    if (geometry.type === "MultiPolygon") return geometry.coordinates.flat();
    return [];
  }

  /** The grid's outline and the pin, in SVG: no map tiles to fetch, so it works offline. */
  function drawMap(grid, point) {
    const NS = "http://www.w3.org/2000/svg";
    const outline = rings(grid?.geometry);
    const xs = outline.flat().map((p) => p[0]);
    const ys = outline.flat().map((p) => p[1]);
    if (point) xs.push(point.lon), ys.push(point.lat);
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 340 200");
    svg.setAttribute("role", "img");
    if (!xs.length) {
      svg.setAttribute("aria-label", "没有位置");
      const text = document.createElementNS(NS, "text");
      Object.entries({ x: 170, y: 105, "text-anchor": "middle", fill: "#444", "font-size": 16 })
        .forEach(([k, v]) => text.setAttribute(k, v));
      text.textContent = "没有坐标，请按地址前往";
      svg.append(text);
      return svg;
    }
    let [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const pad = Math.max(x1 - x0, y1 - y0, 0.002) * 0.12;
    x0 -= pad; x1 += pad; y0 -= pad; y1 += pad;
    // Longitude shrinks with latitude: keep the shape true.
    const kx = Math.cos(((y0 + y1) / 2) * Math.PI / 180);
    const scale = Math.min(340 / ((x1 - x0) * kx || 1), 200 / (y1 - y0 || 1));
    const w = (x1 - x0) * kx * scale;
    const h = (y1 - y0) * scale;
    const ox = (340 - w) / 2;
    const oy = (200 - h) / 2;
    const px = (lon) => (ox + (lon - x0) * kx * scale).toFixed(1);
    const py = (lat) => (oy + (y1 - lat) * scale).toFixed(1);
    svg.setAttribute("aria-label", grid ? `网格 ${grid.properties?.name || ""}` : "位置");
    for (const ring of outline) {
      const path = document.createElementNS(NS, "path");
      path.setAttribute("d", ring.map((p, i) => `${i ? "L" : "M"}${px(p[0])} ${py(p[1])}`).join("") + "Z");
      path.setAttribute("fill", "#dfe8f6");
      path.setAttribute("stroke", "#0c4aa0");
      path.setAttribute("stroke-width", "2");
      svg.append(path);
    }
    if (grid?.properties?.name) {
      const label = document.createElementNS(NS, "text");
      Object.entries({ x: 8, y: 20, fill: "#0c4aa0", "font-size": 14, "font-weight": 700 })
        .forEach(([k, v]) => label.setAttribute(k, v));
      label.textContent = grid.properties.name;
      svg.append(label);
    }
    if (point) {
      const pin = document.createElementNS(NS, "path");
      const [x, y] = [Number(px(point.lon)), Number(py(point.lat))];
      pin.setAttribute("d", `M${x} ${y} l-9 -16 a10.5 10.5 0 1 1 18 0 z`);
      pin.setAttribute("fill", "#b00020");
      pin.setAttribute("stroke", "#fff");
      pin.setAttribute("stroke-width", "2");
      pin.setAttribute("data-testid", "pin");
      svg.append(pin);
    }
    return svg;
  }

  function renderTimeline() {
    const t = state.ticket;
    if (!t) return;
    const rows = state.events.map((e) => {
      const d = e.details || {};
      let text = d.text || d.note || d.reason || d.plan || "";
      if (e.action === "replied") text = [OUTCOMES[d.outcome], t.reply?.text].filter(Boolean).join("：");
      if (e.action === "attachment_added") text = STAGES[d.stage] || "";
      const who = e.actor?.name ? `${e.actor.name}（${ROLES[e.actor.role] || e.actor.role || ""}）` : ROLES[e.actor?.role] || "";
      return el("li", { "data-action": e.action },
        el("div", { class: "when", text: `${stamp(e.at)} ${who}` }),
        el("div", { class: "what", text: ACTIONS[e.action] || e.action }),
        text ? el("div", { class: "text", text }) : null);
    });
    const waiting = state.pending.filter((p) => p.ticketId === t.id).map((p) =>
      el("li", { class: "pending", "data-testid": "pending-item" },
        el("div", { class: "when", text: `${stamp(p.at)} 待发送` }),
        el("div", { class: "what", text: `${p.label}${p.type === "photo" ? "（照片）" : ""}` }),
        p.body?.text ? el("div", { class: "text", text: p.body.text }) : null));
    $("#t-timeline").replaceChildren(...rows, ...waiting);
  }

  async function thumb(id) {
    if (state.thumbs.has(id)) return state.thumbs.get(id);
    const answer = await request(`v1/attachments/${id}?size=thumb`);
    if (!answer.ok) throw new HttpError(answer.status, await problemOf(answer));
    const link = URL.createObjectURL(await answer.blob());
    state.thumbs.set(id, link);
    return link;
  }

  async function full(id) {
    const answer = await request(`v1/attachments/${id}`);
    if (!answer.ok) throw new HttpError(answer.status, await problemOf(answer));
    return URL.createObjectURL(await answer.blob());
  }

  function figure(src, caption, attrs, onclick) {
    const img = el("img", { alt: caption, ...(src ? { src } : {}) });
    return [el("figure", attrs, el("button", { type: "button", onclick }, img), el("figcaption", { text: caption })), img];
  }

  function renderPhotos() {
    const t = state.ticket;
    const box = $("#t-photos");
    const nodes = [];
    for (const a of state.attachments) {
      const [node, img] = figure(null, STAGES[a.stage] || a.stage, { "data-testid": "photo", "data-stage": a.stage, "data-id": String(a.id) },
        async () => openViewer(await full(a.id)));
      thumb(a.id).then((src) => { img.src = src; img.closest("figure").dataset.loaded = "1"; }).catch(() => {});
      nodes.push(node);
    }
    for (const p of state.pending.filter((item) => item.ticketId === t.id && item.type === "photo")) {
      if (!state.thumbs.has(`q${p.seq}`)) state.thumbs.set(`q${p.seq}`, URL.createObjectURL(p.blob));
      const src = state.thumbs.get(`q${p.seq}`);
      nodes.push(figure(src, `${STAGES[p.stage]} · 待发送`, { "data-testid": "photo-pending" }, () => openViewer(src))[0]);
    }
    box.replaceChildren(...(nodes.length ? nodes : [el("p", { class: "muted none", text: "还没有照片" })]));
  }

  function openViewer(src) {
    $("#viewer-img").src = src;
    $("#viewer").showModal();
  }

  // --- Actions --------------------------------------------------------------------------------

  function renderActions(t, entry) {
    const box = $("#actions");
    const summoned = [...entry.summons.values()].some((s) => !s.reported_at);
    // Someone only summoned to a ticket reports in and adds notes; the rest is the owner's.
    const owner = entry.owned || entry.summons.size === 0;
    const owning = owner && ["signed", "rework"].includes(t.status);
    const buttons = [];
    const add = (id, label, handler, main = false) =>
      buttons.push(el("button", {
        type: "button", class: main ? "primary main" : "ghost", "data-action": id, "data-testid": `action-${id}`, text: label, onclick: handler,
      }));
    if (owner && (t.status === "dispatched" || (t.status === "rework" && !t.signed_at))) add("sign", "签收", () => sign(t), true);
    if (summoned) add("report-in", "到场报到", () => reportInForm(t), true);
    if (owning) add("reply", "办结答复", () => replyForm(t), !summoned);
    if (t.status !== "closed" && t.status !== "triage") add("note", "记录进展", () => noteForm(t));
    if (owning && !summoned) add("whistle", "吹哨", () => whistleForm(t));
    if (owner && t.status === "dispatched" && !t.designated) add("return", "申请退单", () => returnForm(t));
    if (owning) add("extension", "申请延期", () => extensionForm(t));
    box.replaceChildren(...buttons);
    box.hidden = buttons.length === 0;
  }

  function field(label, control) {
    const id = `f-${control.name}`;
    control.id = id;
    return el("div", {}, el("label", { for: id, text: label }), control);
  }

  const textarea = (name, placeholder, required = true) =>
    el("textarea", { name, placeholder, required, maxlength: 4000, "data-testid": `field-${name}` });

  function select(name, options, value) {
    const node = el("select", { name, "data-testid": `field-${name}` },
      ...Object.entries(options).map(([k, v]) => el("option", { value: k, text: v })));
    if (value) node.value = value;
    return node;
  }

  const camera = (name) =>
    el("input", { type: "file", name, accept: "image/*", capture: "environment", multiple: true, "data-testid": `field-${name}` });

  function openForm(title, fields, submit) {
    const form = $("#action-form");
    $("#form-title").textContent = title;
    $("#form-fields").replaceChildren(...fields);
    $("#form-error").hidden = true;
    form.hidden = false;
    state.form = submit;
    form.scrollIntoView({ block: "start" });
    form.querySelector("textarea, input, select")?.focus({ preventScroll: true });
  }

  function closeForm() {
    $("#action-form").hidden = true;
    state.form = null;
  }

  /** A photo as a JPEG of at most PHOTO_MAX_SIDE px: a phone's 12-megapixel shot is cut to
   * about a tenth before it waits in the outbox and crosses a weak network. */
  async function shrink(file) {
    try {
      const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
      const ratio = Math.min(1, PHOTO_MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      if (ratio === 1 && file.size < 1_500_000) return file;
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * ratio);
      canvas.height = Math.round(bitmap.height * ratio);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
      return blob || file;
    } catch {
      return file;
    }
  }

  async function photos(input, stage, note = "") {
    const items = [];
    for (const file of input?.files || []) {
      const blob = await shrink(file);
      const name = (file.name || "photo").replace(/\.[^.]*$/, "") + ".jpg";
      // An attachment's note holds at most 500 characters: the photo keeps the note's start.
      items.push({ type: "photo", stage, note: note.slice(0, 200), blob, filename: blob === file ? file.name : name });
    }
    return items;
  }

  const action = (path, body) => ({ type: "action", action: path, body });

  function sign(t) {
    return enqueue(t.id, "签收", [action("sign", {})]);
  }

  function noteForm(t) {
    openForm("记录进展", [
      field("进展情况", textarea("text", "例如：已到现场，正在协调物业处理")),
      field("现场照片（可多张）", camera("photos")),
    ], async (data, form) => {
      const shots = await photos(form.elements.photos, "during", data.text);
      await enqueue(t.id, "进展", [...shots, action("note", { text: data.text })]);
    });
  }

  function replyForm(t) {
    const needed = state.afterPhoto.has(t.category);
    const after = camera("after");
    after.required = needed && !state.attachments.some((a) => a.stage === "after");
    openForm("办结答复", [
      field("办理结果", select("outcome", OUTCOMES, "resolved")),
      field("答复内容", textarea("text", "向来电人说明办理结果")),
      field(needed ? "处置后照片（此类工单必须附）" : "处置后照片", after),
    ], async (data, form) => {
      // The photos first: the reply is the last word on the ticket.
      const shots = await photos(form.elements.after, "after");
      await enqueue(t.id, "答复", [...shots, action("reply", { text: data.text, outcome: data.outcome })]);
    });
  }

  async function whistleForm(t) {
    const code = t.route?.grid_code || t.location?.grid_code;
    let members = [];
    if (code) {
      try {
        const grid = state.grids.get(code) || (await api(`v1/grids/${encodeURIComponent(code)}`));
        state.grids.set(code, grid);
        members = (grid.properties?.members || []).filter((m) => m.active !== false);
      } catch (error) {
        addProblem(`读不到网格成员：${error.message}`);
      }
    }
    const list = el("fieldset", { class: "members", "data-testid": "members" },
      el("legend", { text: "叫哪些部门成员到场" }),
      ...members.map((m) => el("label", { class: "check" },
        el("input", { type: "checkbox", name: "members", value: String(m.id) }),
        el("span", { text: `${m.name}${m.on_duty === false ? "（不在岗）" : ""}` }))));
    if (!members.length) list.append(el("p", { class: "muted", text: "本网格没有挂靠的部门成员" }));
    openForm("吹哨", [
      field("事由", textarea("reason", "需要哪些部门到场、做什么")),
      field("紧急程度", select("level", LEVELS, "routine")),
      list,
    ], async (data, form) => {
      const chosen = [...form.querySelectorAll('input[name="members"]:checked')].map((i) => Number(i.value));
      if (!chosen.length) throw new Error("请至少选择一名成员");
      await enqueue(t.id, "吹哨", [action("whistle", { reason: data.reason, level: data.level, members: chosen })]);
    });
  }

  function here() {
    return new Promise((resolve) => {
      if (!navigator.geolocation) return resolve(null);
      navigator.geolocation.getCurrentPosition(
        (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy }),
        () => resolve(null),
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
      );
    });
  }

  function reportInForm(t) {
    openForm("到场报到", [
      el("p", { class: "muted", text: "提交时会附上手机的当前位置。" }),
      field("说明（可不填）", textarea("note", "例如：已到现场", false)),
    ], async (data) => {
      // The report-in takes a note only: the position is written into it, read where it is shown.
      const spot = await here();
      const where = spot
        ? `报到位置：北纬 ${spot.lat.toFixed(6)}，东经 ${spot.lon.toFixed(6)}（误差约 ${Math.round(spot.accuracy)} 米）`
        : "报到位置：未取得（未授权定位或无信号）";
      const note = [data.note, where].filter(Boolean).join("\n");
      await enqueue(t.id, "报到", [action("report-in", { note })]);
    });
  }

  function returnForm(t) {
    openForm("申请退单", [
      field("退单原因", select("reason_code", RETURN_REASONS, "not_our_area")),
      field("说明", textarea("reason", "为什么不归本单位办理")),
    ], (data) => enqueue(t.id, "申请退单", [action("return", { reason_code: data.reason_code, reason: data.reason })]));
  }

  function extensionForm(t) {
    const days = el("input", { type: "number", name: "days", min: 1, max: 10, value: 3, required: true, inputmode: "numeric", "data-testid": "field-days" });
    openForm("申请延期", [
      field("延期工作日（1–10）", days),
      field("原因", textarea("reason", "为什么不能按时办完")),
    ], (data) => enqueue(t.id, "申请延期", [action("extension", { days: Number(data.days), reason: data.reason })]));
  }

  async function submitForm(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const submit = state.form;
    if (!submit) return;
    const data = Object.fromEntries([...new FormData(form).entries()].filter(([, v]) => typeof v === "string"));
    for (const k of Object.keys(data)) data[k] = data[k].trim();
    const button = $("#form-submit");
    button.disabled = true;
    try {
      await submit(data, form);
      closeForm();
    } catch (error) {
      $("#form-error").textContent = error.message;
      $("#form-error").hidden = false;
    } finally {
      button.disabled = false;
    }
  }

  // --- Sign-in ------------------------------------------------------------------------------

  function signOutForKey() {
    state.polling = null;
    localStorage.removeItem(KEY_STORE);
    state.key = null;
    show("signin");
    $("#signin-error").textContent = "密钥无效或已停用，请重新登录（待发送的内容仍保存在手机上）。";
    $("#signin-error").hidden = false;
  }

  async function signIn(key) {
    state.key = key;
    try {
      await api("v1/assignments?limit=1"); // proves the key (and that it is a field key)
    } catch (error) {
      state.key = null;
      const text = error instanceof HttpError && error.status === 401 ? "密钥无效或已停用"
        : error instanceof HttpError && error.status === 403 ? "此页面供网格员、部门成员和干部使用，这个密钥不能查看待办"
        : `无法连接服务器：${error.message}`;
      $("#signin-error").textContent = text;
      $("#signin-error").hidden = false;
      show("signin");
      return;
    }
    localStorage.setItem(KEY_STORE, key);
    $("#key").value = "";
    $("#signin-error").hidden = true;
    start();
  }

  async function signOut() {
    const waiting = state.pending.length;
    if (waiting && !confirm(`还有 ${waiting} 条未发送，退出将丢弃它们。确定退出？`)) return;
    await outbox.clear();
    await refreshOutbox();
    state.polling = null;
    state.entries.clear();
    state.cursor = null;
    localStorage.removeItem(KEY_STORE);
    state.key = null;
    location.hash = "";
    show("signin");
  }

  let categoriesLoading = false;
  /** The category names, once; tried again after each poll until they come. */
  function loadCategories() {
    if (state.categories.size || categoriesLoading) return;
    categoriesLoading = true;
    api("v1/categories").then((list) => {
      for (const c of list.items || list) {
        state.categories.set(c.code, c.name);
        if (c.requires_after_photo) state.afterPhoto.add(c.code);
      }
      renderList();
      if (state.ticket) renderTicket(state.ticket);
    }).catch(() => {}).finally(() => {
      categoriesLoading = false;
    });
  }

  async function start() {
    loadCategories();
    state.cursor = null;
    pollLoop();
    route();
    flush();
  }

  function route() {
    const match = /^#t\/(\d+)$/.exec(location.hash);
    if (match) loadTicket(Number(match[1]));
    else {
      state.open = null;
      state.ticket = null;
      $("#title").textContent = "网格工作台";
      show("list");
      renderList();
    }
  }

  function keyFromFragment() {
    const match = /^#key=([^&]+)/.exec(location.hash);
    if (!match) return null;
    // Out of the address bar and the history at once: the key is not to be shared by a link.
    history.replaceState(null, "", location.pathname + location.search);
    return decodeURIComponent(match[1]);
  }

  function boot() {
    $("#signin").addEventListener("submit", (event) => {
      event.preventDefault();
      const key = $("#key").value.trim();
      if (key) signIn(key);
    });
    $("#signout").addEventListener("click", signOut);
    $("#back").addEventListener("click", () => { location.hash = ""; });
    $("#action-form").addEventListener("submit", submitForm);
    $("#form-cancel").addEventListener("click", closeForm);
    $("#viewer-close").addEventListener("click", () => $("#viewer").close());
    $("#outbox-badge").addEventListener("click", () => $("#outbox-dialog").showModal());
    $("#outbox-close").addEventListener("click", () => $("#outbox-dialog").close());
    $("#outbox-retry").addEventListener("click", () => flush());
    window.addEventListener("hashchange", () => state.key && route());
    window.addEventListener("online", () => { setNetwork(); flush(); });
    window.addEventListener("offline", setNetwork);
    document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && flush());
    setInterval(tick, 1000);
    setInterval(() => state.pending.length && flush(), RETRY_MS);
    setNetwork();
    refreshOutbox();
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("m/sw.js", { scope: "m" }).catch(() => {});
    }
    const fragment = keyFromFragment();
    if (fragment) signIn(fragment);
    else if (state.key) start();
    else show("signin");
  }

  boot();
})();
