/* hotline dashboard: plain JavaScript, no build step.
 *
 * Signs in with a viewer API key (kept in localStorage, sent only to this origin: every URL
 * below is relative), then polls the JSON API and draws the rates, the daily trend, the grid
 * map, the breakdown table and the hot spots. The API carries counts and rates only, so there
 * is no personal data to show. Names from the database are inserted as text, never as HTML.
 */
"use strict";

(() => {
  const KEY_STORE = "hotline.dashboard.key";
  const LANG_STORE = "hotline.dashboard.lang";
  const REFRESH_MS = 45000;
  const GRIDS_MAX_AGE_MS = 3600000; // boundaries change rarely: reload them hourly
  // The server counts days in HOTLINE_COUNTY__TIMEZONE, which in China is this zone; the
  // presets below need "today" in the same days even when the browser sits elsewhere.
  const ZONE = "Asia/Shanghai";
  const RATES = ["completion", "response", "resolution", "satisfaction"];
  const COUNTS = [
    "received",
    "dispatched",
    "answered_directly",
    "closed",
    "backlog",
    "overdue_now",
    "merged",
    "staged",
    "terminated",
  ];
  const COLUMNS = [
    ["received", "count"],
    ["closed", "count"],
    ["backlog", "count"],
    ["overdue_now", "count"],
    ["completion", "rate"],
    ["response", "rate"],
    ["resolution", "rate"],
    ["satisfaction", "rate"],
  ];
  const MAP_NAME = "hotline-grids";

  const I18N = {
    zh: {
      title: "12345 热线数据看板",
      signin_title: "查看者登录",
      signin_help: "请输入查看者（viewer）API 密钥。密钥只保存在本浏览器中，只发送给本站。",
      key_label: "API 密钥",
      signin: "登录",
      signout: "退出",
      lang_switch: "EN",
      period: "统计周期",
      this_month: "本月",
      last_7: "近 7 天",
      last_30: "近 30 天",
      this_year: "本年",
      custom: "自定义",
      from: "开始",
      to: "结束",
      township: "乡镇",
      village: "村/社区",
      grid: "网格",
      unit: "承办单位",
      category: "类别",
      kind: "诉求类型",
      line: "热线",
      by: "维度",
      all: "全部",
      name: "名称",
      rate_completion: "办结率",
      rate_response: "响应率",
      rate_resolution: "解决率",
      rate_satisfaction: "满意率",
      col_completion: "办结率",
      col_response: "响应率",
      col_resolution: "解决率",
      col_satisfaction: "满意率",
      num_completion: "办结",
      den_completion: "派发 + 直接答复",
      num_response: "签收",
      den_response: "派发",
      num_resolution: "已解决",
      den_resolution: "回访接通",
      num_satisfaction: "满意",
      den_satisfaction: "回访接通",
      received: "受理",
      dispatched: "派发",
      answered_directly: "直接答复",
      closed: "办结",
      backlog: "积压",
      overdue_now: "超期",
      merged: "并单",
      staged: "阶段性答复",
      terminated: "终止办理",
      open_clusters: "热点",
      tickets: "件",
      trend_title: "每日趋势",
      map_title: "网格分布",
      map_hint: "点击网格即按该网格筛选，再次点击取消。",
      map_empty: "暂无网格边界",
      breakdown_title: "分项统计",
      clusters_title: "热点问题",
      no_rows: "本周期暂无工单",
      no_clusters: "本周期暂无热点问题",
      unplaced: "未定位",
      cluster_open: "待处置",
      cluster_assigned: "已交办",
      cluster_meta: "{status} · {first} 至 {last}",
      lead_unit: "牵头单位：{unit}",
      period_label: "{from} 至 {to}",
      status_loading: "正在加载…",
      status_ready: "每 {s} 秒自动刷新 · 更新于 {time}",
      status_failed: "刷新失败（{error}），{s} 秒后重试",
      report: "通报",
      report_month: "月报",
      report_week: "周报",
      report_quarter: "季报",
      download_report: "下载通报",
      report_failed: "通报下载失败（{error}）",
      bad_key: "密钥无效或已停用",
      forbidden: "此密钥无权查看统计，请使用查看者密钥",
      footer: "数据来自本站 API，仅含统计数字，不含个人信息。",
      credits: "图表：Apache ECharts",
      kind_consult: "咨询",
      kind_help: "求助",
      kind_complaint: "投诉",
      kind_report: "举报",
      kind_suggestion: "建议",
      kind_praise: "表扬",
      kind_other: "其他",
      line_main: "12345 主线",
      line_enterprise: "12345-9 企业专线",
      line_relief: "12345-5 解纾暖",
    },
    en: {
      title: "12345 Hotline Dashboard",
      signin_title: "Viewer sign-in",
      signin_help:
        "Enter a viewer API key. It is kept in this browser only and sent to this site only.",
      key_label: "API key",
      signin: "Sign in",
      signout: "Sign out",
      lang_switch: "中文",
      period: "Period",
      this_month: "This month",
      last_7: "Last 7 days",
      last_30: "Last 30 days",
      this_year: "This year",
      custom: "Custom",
      from: "From",
      to: "To",
      township: "Township",
      village: "Village",
      grid: "Grid",
      unit: "Unit",
      category: "Category",
      kind: "Kind",
      line: "Line",
      by: "By",
      all: "All",
      name: "Name",
      rate_completion: "Completion rate",
      rate_response: "Response rate",
      rate_resolution: "Resolution rate",
      rate_satisfaction: "Satisfaction rate",
      col_completion: "Completion",
      col_response: "Response",
      col_resolution: "Resolution",
      col_satisfaction: "Satisfaction",
      num_completion: "closed",
      den_completion: "dispatched + answered directly",
      num_response: "signed",
      den_response: "dispatched",
      num_resolution: "resolved",
      den_resolution: "callbacks reached",
      num_satisfaction: "satisfied",
      den_satisfaction: "callbacks reached",
      received: "Received",
      dispatched: "Dispatched",
      answered_directly: "Answered directly",
      closed: "Closed",
      backlog: "Backlog",
      overdue_now: "Overdue",
      merged: "Merged repeats",
      staged: "Staged answers",
      terminated: "Terminated",
      open_clusters: "Hot spots",
      tickets: "tickets",
      trend_title: "Daily trend",
      map_title: "Grids",
      map_hint: "Click a grid to filter by it; click again to clear.",
      map_empty: "No grid boundaries yet",
      breakdown_title: "Breakdown",
      clusters_title: "Hot spots",
      no_rows: "No tickets in this period",
      no_clusters: "No hot spots in this period",
      unplaced: "Not placed",
      cluster_open: "Open",
      cluster_assigned: "Assigned",
      cluster_meta: "{status} · {first} to {last}",
      lead_unit: "Lead unit: {unit}",
      period_label: "{from} to {to}",
      status_loading: "Loading…",
      status_ready: "Refreshes every {s} s · updated {time}",
      status_failed: "Refresh failed ({error}); retrying in {s} s",
      report: "Report",
      report_month: "Month",
      report_week: "Week",
      report_quarter: "Quarter",
      download_report: "Download report",
      report_failed: "The report could not be downloaded ({error})",
      bad_key: "The key is wrong or revoked",
      forbidden: "This key may not read the figures; use a viewer key",
      footer: "Figures from this site's API: counts and rates only, no personal data.",
      credits: "Charts: Apache ECharts",
      kind_consult: "Enquiry",
      kind_help: "Request for help",
      kind_complaint: "Complaint",
      kind_report: "Report",
      kind_suggestion: "Suggestion",
      kind_praise: "Praise",
      kind_other: "Other",
      line_main: "12345 main line",
      line_enterprise: "12345-9 enterprise line",
      line_relief: "12345-5 relief line",
    },
  };

  const state = {
    key: localStorage.getItem(KEY_STORE),
    lang: localStorage.getItem(LANG_STORE) === "en" ? "en" : "zh",
    preset: "month",
    from: "",
    to: "",
    township: "",
    village: "",
    grid: "",
    by: "township",
    sort: "received",
    desc: true,
    metric: "backlog",
    data: null, // the last answers, so that a language switch redraws without a request
    geo: null,
    geoAt: 0,
    registered: null,
    categories: null,
    names: new Map(), // unit code → name, learnt from breakdowns and grid features
    seq: 0,
    timer: null,
    refreshes: 0,
    charts: {},
  };

  // ---- small helpers -------------------------------------------------------------------

  const $ = (selector) => document.querySelector(selector);

  function t(key, vars = {}) {
    let text = I18N[state.lang][key] ?? I18N.zh[key] ?? key;
    for (const [name, value] of Object.entries(vars)) text = text.replaceAll(`{${name}}`, value);
    return text;
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value);
    }
    node.append(...children);
    return node;
  }

  // For ECharts tooltips, which are HTML.
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const pct = (value) => (value == null ? "—" : `${(value * 100).toFixed(1)}%`);

  function countyToday() {
    // en-CA formats as YYYY-MM-DD.
    return new Intl.DateTimeFormat("en-CA", { timeZone: ZONE }).format(new Date());
  }

  function addDays(iso, n) {
    const d = new Date(`${iso}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }

  function clock() {
    return new Intl.DateTimeFormat(state.lang === "en" ? "en-GB" : "zh-CN", {
      timeZone: ZONE,
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hour12: false,
    }).format(new Date());
  }

  // ---- the API -------------------------------------------------------------------------

  class AuthError extends Error {
    constructor(reason) {
      super(reason);
      this.reason = reason;
    }
  }

  async function api(path, params = {}) {
    const url = new URL(path, document.baseURI);
    if (url.origin !== location.origin) throw new Error("refusing to send the key elsewhere");
    for (const [name, value] of Object.entries(params)) {
      if (value !== "" && value != null) url.searchParams.set(name, value);
    }
    const answer = await fetch(url, {
      headers: { Authorization: `Bearer ${state.key}`, Accept: "application/json" },
      cache: "no-store",
      credentials: "omit",
      redirect: "error",
    });
    if (answer.status === 401) throw new AuthError("bad_key");
    if (answer.status === 403) throw new AuthError("forbidden");
    if (!answer.ok) {
      const problem = await answer.json().catch(() => ({}));
      throw new Error(problem.detail || `HTTP ${answer.status}`);
    }
    return answer.json();
  }

  // The report (通报) of the week, month or quarter holding the period's first day: a week
  // starts on a Monday, a quarter on 1 Jan/Apr/Jul/Oct (the API refuses any other start).
  function reportStart(kind, day) {
    const [year, month] = day.split("-").map(Number);
    if (kind === "week") {
      const back = (new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7;
      return addDays(day, -back);
    }
    const first = kind === "quarter" ? Math.floor((month - 1) / 3) * 3 + 1 : month;
    return `${year}-${String(first).padStart(2, "0")}-01`;
  }

  function attachmentName(disposition, fallback) {
    const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition || "");
    return encoded ? decodeURIComponent(encoded[1]) : fallback;
  }

  // Fetched with the key (a plain link could not carry it) and handed over as a blob.
  async function downloadReport() {
    const kind = $("#report-kind").value;
    const start = reportStart(kind, $("#from").value || countyToday());
    const url = new URL(`v1/reports/${kind}`, document.baseURI);
    if (url.origin !== location.origin) throw new Error("refusing to send the key elsewhere");
    url.searchParams.set("start", start);
    url.searchParams.set("format", "xlsx");
    const button = $("#report");
    button.disabled = true;
    try {
      const answer = await fetch(url, {
        headers: { Authorization: `Bearer ${state.key}` },
        cache: "no-store",
        credentials: "omit",
        redirect: "error",
      });
      if (!answer.ok) {
        const problem = await answer.json().catch(() => ({}));
        throw new Error(problem.detail || `HTTP ${answer.status}`);
      }
      const name = attachmentName(answer.headers.get("Content-Disposition"), `通报-${start}.xlsx`);
      const link = el("a", { href: URL.createObjectURL(await answer.blob()), download: name });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
    } catch (error) {
      const node = $("#status");
      node.classList.add("failed");
      node.textContent = t("report_failed", { error: error.message });
    } finally {
      button.disabled = false;
    }
  }

  async function loadGrids() {
    const features = [];
    let cursor = null;
    do {
      const page = await api("v1/grids", { limit: 1000, cursor });
      features.push(...page.features);
      cursor = page.next_cursor;
    } while (cursor);
    // A grid without a boundary cannot be drawn; an inactive one no longer takes tickets.
    const drawable = features.filter((f) => f.geometry && f.properties.active !== false);
    return { type: "FeatureCollection", features: drawable };
  }

  function periodParams() {
    const today = countyToday();
    switch (state.preset) {
      case "7":
        return { from: addDays(today, -6), to: today };
      case "30":
        return { from: addDays(today, -29), to: today };
      case "year":
        return { from: `${today.slice(0, 4)}-01-01`, to: today };
      case "custom":
        return { from: state.from, to: state.to };
      default:
        return {}; // the server's default: this month, in the county's days
    }
  }

  // The most specific area only: grid within village within township.
  function areaParams() {
    if (state.grid) return { grid: state.grid };
    if (state.village) return { village: state.village };
    if (state.township) return { township: state.township };
    return {};
  }

  // ---- refreshing ----------------------------------------------------------------------

  async function gather() {
    const period = periodParams();
    const scoped = { ...period, ...areaParams() };
    const jobs = {
      summary: api("v1/metrics/summary", scoped),
      series: api("v1/metrics/timeseries", { ...scoped, interval: "day" }),
      table: api("v1/metrics/breakdown", { ...scoped, by: state.by }),
      gridCounts:
        state.by === "grid" ? null : api("v1/metrics/breakdown", { ...scoped, by: "grid" }),
      townships: api("v1/metrics/breakdown", { ...period, by: "township" }),
      villages: api("v1/metrics/breakdown", { ...period, township: state.township, by: "village" }),
      units: state.by === "unit" ? null : api("v1/metrics/breakdown", { ...period, by: "unit" }),
      clusters: api("v1/clusters", { limit: 500 }),
      geo: state.geo && Date.now() - state.geoAt < GRIDS_MAX_AGE_MS ? null : loadGrids(),
      categories: state.categories ? null : api("v1/categories"),
    };
    const names = Object.keys(jobs);
    const values = await Promise.all(Object.values(jobs));
    const got = Object.fromEntries(names.map((name, i) => [name, values[i]]));
    got.gridCounts = got.gridCounts || got.table;
    got.units = got.units || got.table;
    return got;
  }

  async function refresh() {
    clearTimeout(state.timer);
    const seq = ++state.seq; // an older, slower answer must not overwrite a newer one
    setStatus("loading");
    try {
      const got = await gather();
      if (seq !== state.seq) return;
      if (got.geo) {
        state.geo = got.geo;
        state.geoAt = Date.now();
      }
      if (got.categories) {
        state.categories = new Map(got.categories.map((c) => [c.code, c]));
      }
      for (const list of [got.townships, got.villages, got.gridCounts, got.units]) {
        for (const item of list.items) if (item.name) state.names.set(item.key, item.name);
      }
      for (const f of state.geo.features) state.names.set(f.properties.code, f.properties.name);
      state.data = got;
      render();
      state.refreshes += 1;
      document.body.dataset.refreshes = String(state.refreshes);
      document.body.dataset.state = "ready";
      setStatus("ready");
    } catch (err) {
      if (seq !== state.seq) return;
      if (err instanceof AuthError) {
        signOut(t(err.reason));
        return;
      }
      document.body.dataset.state = state.data ? "ready" : "error";
      setStatus("failed", err.message);
    }
    if (seq === state.seq) schedule();
  }

  function schedule() {
    clearTimeout(state.timer);
    // Hidden tabs do not poll; they catch up when shown again.
    if (state.key && document.visibilityState === "visible") {
      state.timer = setTimeout(refresh, REFRESH_MS);
    }
  }

  function setStatus(kind, error = "") {
    const node = $("#status");
    const s = String(REFRESH_MS / 1000);
    node.classList.toggle("failed", kind === "failed");
    if (kind === "loading") node.textContent = node.textContent || t("status_loading");
    else if (kind === "ready") node.textContent = t("status_ready", { s, time: clock() });
    else node.textContent = t("status_failed", { error, s });
  }

  // ---- drawing -------------------------------------------------------------------------

  function render() {
    const d = state.data;
    if (!d) return;
    renderPeriod(d.summary);
    renderRates(d.summary);
    renderPicker(d);
    renderTrend(d.series, d.summary.period);
    renderMap(d.gridCounts);
    renderTable(d.table);
    renderClusters(d.clusters, d.summary.period);
  }

  function areaName() {
    const code = state.grid || state.village || state.township;
    return code ? state.names.get(code) || code : "";
  }

  function renderPeriod(summary) {
    const { from, to } = summary.period;
    $("#from").value = from;
    $("#to").value = to;
    const area = areaName();
    const label = t("period_label", { from, to });
    $("#period-label").textContent = area ? `${label} · ${area}` : label;
  }

  function renderRates(summary) {
    for (const name of RATES) {
      const rate = summary.rates[name];
      const card = $(`[data-testid="rate-${name}"]`);
      const value = card.querySelector(".value");
      value.textContent = pct(rate.value);
      value.dataset.value = rate.value == null ? "" : String(rate.value);
      card.querySelector(`[data-testid="rate-${name}-numerator"]`).textContent = rate.numerator;
      card.querySelector(`[data-testid="rate-${name}-denominator"]`).textContent = rate.denominator;
      card.querySelector(".bar span").style.width = `${(rate.value || 0) * 100}%`;
      card.title = `${t(`rate_${name}`)} = ${t(`num_${name}`)} ÷ ${t(`den_${name}`)}`;
    }
    for (const name of COUNTS) {
      $(`[data-testid="count-${name}"]`).textContent = summary.counts[name] ?? 0;
    }
  }

  function fill(select, options, chosen) {
    select.replaceChildren(
      ...options.map(([value, label]) => {
        const option = el("option", { value, text: label });
        option.selected = value === chosen;
        return option;
      }),
    );
  }

  function renderPicker(d) {
    const all = ["", t("all")];
    const named = (items) =>
      items.filter((i) => i.key != null).map((i) => [i.key, i.name || i.key]);
    // The lists come from the period's figures; a chosen area stays listed even when quiet.
    const keep = (options, chosen) =>
      chosen && !options.some(([v]) => v === chosen)
        ? [...options, [chosen, state.names.get(chosen) || chosen]]
        : options;
    const byName = (a, b) => a[1].localeCompare(b[1], "zh-CN");
    fill(
      $("#township"),
      [all, ...keep(named(d.townships.items), state.township).sort(byName)],
      state.township,
    );
    fill(
      $("#village"),
      [all, ...keep(named(d.villages.items), state.village).sort(byName)],
      state.village,
    );
    const grids = state.village
      ? state.geo.features
          .filter((f) => f.properties.parent_code === state.village)
          .map((f) => [f.properties.code, f.properties.name])
      : [];
    fill($("#grid"), [all, ...keep(grids, state.grid)], state.grid);
    $("#grid").disabled = !state.village;
  }

  function chart(id) {
    if (!state.charts[id]) {
      const node = document.getElementById(id);
      state.charts[id] = echarts.init(node, null, { renderer: "canvas" });
      new ResizeObserver(() => state.charts[id].resize()).observe(node);
      if (id === "map") state.charts[id].on("click", (params) => selectGrid(params.name));
    }
    return state.charts[id];
  }

  function renderTrend(series, period) {
    const points = new Map(series.items.map((p) => [p.period, p]));
    const days = [];
    // The API lists days with tickets only; a quiet day is a zero on the chart.
    for (let day = period.from; day <= period.to; day = addDays(day, 1)) days.push(day);
    const count = (name) => days.map((day) => points.get(day)?.counts[name] ?? 0);
    const completion = days.map((day) => {
      const value = points.get(day)?.rates.completion.value;
      return value == null ? null : Math.round(value * 1000) / 10;
    });
    chart("trend").setOption(
      {
        color: ["#2f6fb2", "#2f8f5b", "#b4232a"],
        tooltip: { trigger: "axis" },
        legend: { bottom: 0, itemWidth: 14, itemHeight: 9 },
        grid: { left: 8, right: 8, top: 30, bottom: 30, containLabel: true },
        xAxis: {
          type: "category",
          data: days.map((day) => day.slice(5)),
          axisTick: { alignWithLabel: true },
        },
        yAxis: [
          { type: "value", name: t("tickets"), minInterval: 1, nameTextStyle: { align: "left" } },
          {
            type: "value",
            name: "%",
            min: 0,
            max: 100,
            splitLine: { show: false },
            nameTextStyle: { align: "right" },
          },
        ],
        series: [
          { name: t("received"), type: "bar", data: count("received"), barMaxWidth: 18 },
          { name: t("closed"), type: "bar", data: count("closed"), barMaxWidth: 18 },
          {
            name: t("rate_completion"),
            type: "line",
            yAxisIndex: 1,
            data: completion,
            symbolSize: 6,
            tooltip: { valueFormatter: (v) => (v == null ? "—" : `${v}%`) },
          },
        ],
      },
      true,
    );
  }

  // Administrative codes nest (GB/T 2260, GB/T 10114): a grid's village code begins with its
  // township's code, which is how a township filter finds its grids.
  function inArea(code, parent) {
    if (state.grid) return code === state.grid;
    if (state.village) return parent === state.village;
    if (state.township) return (parent || code).startsWith(state.township);
    return true;
  }

  function renderMap(gridCounts) {
    const node = $("#map");
    const features = state.geo.features;
    node.dataset.grids = String(features.length);
    if (!features.length) {
      node.textContent = t("map_empty");
      return;
    }
    if (state.registered !== state.geoAt) {
      echarts.registerMap(MAP_NAME, state.geo);
      state.registered = state.geoAt;
    }
    const counts = new Map(gridCounts.items.map((i) => [i.key, i.counts]));
    const data = features.map(({ properties: p }) => ({
      name: p.code,
      // NaN: outside the chosen area, drawn grey rather than coloured.
      value: inArea(p.code, p.parent_code) ? (counts.get(p.code)?.[state.metric] ?? 0) : NaN,
    }));
    const top = Math.max(1, ...data.map((x) => x.value).filter(Number.isFinite));
    node.dataset.coloured = String(data.filter((x) => x.value > 0).length);
    const tip = (params) => {
      const c = counts.get(params.name) || {};
      const rows = ["received", "backlog", "overdue_now"].map(
        (k) => `${esc(t(k))}: <b>${c[k] ?? 0}</b>`,
      );
      return [`<b>${esc(state.names.get(params.name) || params.name)}</b>`, ...rows].join("<br>");
    };
    chart("map").setOption(
      {
        tooltip: { trigger: "item", formatter: tip },
        visualMap: {
          type: "continuous",
          min: 0,
          max: top,
          orient: "horizontal",
          left: "center",
          bottom: 0,
          itemWidth: 10,
          itemHeight: 140,
          calculable: false,
          text: [String(top), `${t(state.metric)}  0`],
          textStyle: { fontSize: 11, color: "#66727f" },
          inRange: { color: ["#e3f1e7", "#fcd34d", "#f97316", "#b91c1c"] },
        },
        series: [
          {
            type: "map",
            map: MAP_NAME,
            nameProperty: "code",
            // Zoom and pan with a mouse; on a touch screen a drag must scroll the page instead.
            roam: matchMedia("(pointer: fine)").matches,
            scaleLimit: { min: 1, max: 12 },
            top: 6,
            bottom: 44,
            left: 6,
            right: 6,
            selectedMode: false,
            itemStyle: { areaColor: "#e5e7eb", borderColor: "#ffffff", borderWidth: 1 },
            label: {
              show: true,
              fontSize: 11,
              color: "#1f2933",
              formatter: (params) => (params.value > 0 ? String(params.value) : ""),
            },
            emphasis: {
              itemStyle: { areaColor: "#93c5fd" },
              label: {
                show: true,
                formatter: (params) => state.names.get(params.name) || params.name,
              },
            },
            data,
          },
        ],
      },
      true,
    );
  }

  function rowLabel(key) {
    if (key == null) return t("unplaced");
    switch (state.by) {
      case "category": {
        const c = state.categories?.get(key);
        return c ? (state.lang === "en" ? c.name_en || c.name : c.name) : key;
      }
      case "kind":
      case "line":
        return t(`${state.by}_${key}`);
      default:
        return state.names.get(key) || key;
    }
  }

  function sortValue(item, column) {
    if (column === "name") return rowLabel(item.key);
    if (column in item.counts) return item.counts[column];
    return item.rates[column]?.value ?? null;
  }

  function renderTable(table) {
    const head = $("#breakdown thead tr");
    const columns = [["name", "name"], ...COLUMNS];
    head.replaceChildren(
      ...columns.map(([name, type]) => {
        const label = type === "rate" ? t(`col_${name}`) : t(name);
        const button = el("button", { type: "button", text: label, "data-sort": name });
        button.addEventListener("click", () => {
          state.desc = state.sort === name ? !state.desc : name !== "name";
          state.sort = name;
          renderTable(state.data.table);
        });
        const th = el("th", { scope: "col" }, button);
        if (state.sort === name)
          th.setAttribute("aria-sort", state.desc ? "descending" : "ascending");
        return th;
      }),
    );
    const items = [...table.items].sort((a, b) => {
      const x = sortValue(a, state.sort);
      const y = sortValue(b, state.sort);
      // Groups without a value (0 ÷ 0) go last whichever way, as the API sorts them.
      if (x == null || y == null) return (x == null) - (y == null);
      const order = typeof x === "string" ? x.localeCompare(y, "zh-CN") : x - y;
      return state.desc ? -order : order;
    });
    const body = $("#breakdown tbody");
    if (!items.length) {
      body.replaceChildren(
        el("tr", {}, el("td", { className: "empty", colspan: "9", text: t("no_rows") })),
      );
      return;
    }
    body.replaceChildren(
      ...items.map((item) => {
        const cells = COLUMNS.map(([name, type]) => {
          if (type === "count") return el("td", { text: item.counts[name] ?? 0 });
          const rate = item.rates[name];
          return el(
            "td",
            { "data-value": rate.value ?? "" },
            pct(rate.value),
            el("small", { text: `${rate.numerator}/${rate.denominator}` }),
          );
        });
        return el(
          "tr",
          { "data-key": item.key ?? "" },
          el("td", { text: rowLabel(item.key) }),
          ...cells,
        );
      }),
    );
  }

  function placeInArea(place) {
    if (state.grid) {
      const feature = state.geo.features.find((f) => f.properties.code === state.grid);
      return place === state.grid || place === feature?.properties.parent_code;
    }
    const area = state.village || state.township;
    return !area || place.startsWith(area);
  }

  function sparkline(values) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 84 24");
    svg.setAttribute("aria-hidden", "true");
    if (values.length > 1) {
      const top = Math.max(1, ...values);
      const step = 84 / (values.length - 1);
      const line = document.createElementNS(ns, "polyline");
      const points = values.map(
        (v, i) => `${(i * step).toFixed(1)},${(22 - (v / top) * 20).toFixed(1)}`,
      );
      line.setAttribute("points", points.join(" "));
      line.setAttribute("fill", "none");
      line.setAttribute("stroke", "#c2410c");
      line.setAttribute("stroke-width", "2");
      svg.append(line);
    }
    return svg;
  }

  function renderClusters(list, period) {
    const shown = list
      .filter(
        (c) =>
          c.status !== "closed" &&
          c.first_seen.slice(0, 10) <= period.to &&
          c.last_seen.slice(0, 10) >= period.from &&
          placeInArea(c.place),
      )
      .sort((a, b) => b.size - a.size || b.last_seen.localeCompare(a.last_seen));
    // The list's length, not summary.clusters.open: that one ignores the area filter, and the
    // figure should count what the list below shows.
    $('[data-testid="count-clusters"]').textContent = shown.length;
    const root = $("#clusters");
    if (!shown.length) {
      root.replaceChildren(el("li", { className: "none", text: t("no_clusters") }));
      return;
    }
    const category = (code) => {
      const c = state.categories?.get(code);
      return c ? (state.lang === "en" ? c.name_en || c.name : c.name) : code;
    };
    root.replaceChildren(
      ...shown.map((c) => {
        const meta = t("cluster_meta", {
          status: t(`cluster_${c.status}`),
          first: c.first_seen.slice(5, 10),
          last: c.last_seen.slice(5, 10),
        });
        const lead = c.lead_unit
          ? ` · ${t("lead_unit", { unit: state.names.get(c.lead_unit) || c.lead_unit })}`
          : "";
        const tags = el(
          "div",
          { className: "tags" },
          ...c.keywords.map((k) => el("span", { text: k })),
        );
        return el(
          "li",
          { className: c.status, "data-testid": "cluster" },
          el("span", {
            className: "title",
            text: `${category(c.category)} · ${state.names.get(c.place) || c.place}`,
          }),
          el("span", { className: "size", text: `${c.size} ${t("tickets")}` }),
          el("span", { className: "meta", text: meta + lead }),
          sparkline(c.trend),
          tags,
        );
      }),
    );
  }

  // ---- language, sign-in, controls -----------------------------------------------------

  function applyLanguage() {
    document.documentElement.lang = state.lang === "en" ? "en" : "zh-CN";
    document.title = t("title");
    for (const node of document.querySelectorAll("[data-i18n]")) {
      node.textContent = t(node.dataset.i18n);
    }
    $("#lang").textContent = t("lang_switch");
    if (state.data) {
      render();
      setStatus("ready");
    }
  }

  function showBoard(on) {
    $("#board").hidden = !on;
    $("#signin-panel").hidden = on;
    $("#signout").hidden = !on;
  }

  function signOut(message = "") {
    localStorage.removeItem(KEY_STORE);
    state.key = null;
    state.seq += 1;
    clearTimeout(state.timer);
    state.data = null;
    showBoard(false);
    const error = $("#signin-error");
    error.textContent = message;
    error.hidden = !message;
    $("#key").value = "";
    document.body.dataset.state = "signin";
  }

  async function signIn(key) {
    state.key = key;
    try {
      await api("v1/metrics/summary"); // proves the key before it is stored
    } catch (err) {
      state.key = null;
      const error = $("#signin-error");
      error.textContent = err instanceof AuthError ? t(err.reason) : err.message;
      error.hidden = false;
      return;
    }
    localStorage.setItem(KEY_STORE, key);
    $("#key").value = "";
    $("#signin-error").hidden = true;
    start();
  }

  function start() {
    showBoard(true);
    document.body.dataset.state = "loading";
    refresh();
  }

  function wire() {
    $("#signin").addEventListener("submit", (event) => {
      event.preventDefault();
      const key = $("#key").value.trim();
      if (key) signIn(key);
    });
    $("#signout").addEventListener("click", () => signOut());
    $("#report").addEventListener("click", () => downloadReport());
    $("#lang").addEventListener("click", () => {
      state.lang = state.lang === "en" ? "zh" : "en";
      localStorage.setItem(LANG_STORE, state.lang);
      applyLanguage();
    });
    $("#preset").addEventListener("change", (event) => {
      state.preset = event.target.value;
      if (state.preset === "custom") {
        state.from = $("#from").value;
        state.to = $("#to").value;
      }
      refresh();
    });
    for (const id of ["#from", "#to"]) {
      $(id).addEventListener("change", () => {
        let [from, to] = [$("#from").value, $("#to").value];
        if (!from || !to) return;
        if (from > to) [from, to] = [to, from];
        Object.assign(state, { preset: "custom", from, to });
        $("#preset").value = "custom";
        refresh();
      });
    }
    $("#township").addEventListener("change", (event) => {
      Object.assign(state, { township: event.target.value, village: "", grid: "" });
      refresh();
    });
    $("#village").addEventListener("change", (event) => {
      Object.assign(state, { village: event.target.value, grid: "" });
      refresh();
    });
    $("#grid").addEventListener("change", (event) => {
      state.grid = event.target.value;
      refresh();
    });
    $("#by").addEventListener("change", (event) => {
      state.by = event.target.value;
      refresh();
    });
    for (const button of document.querySelectorAll("[data-metric]")) {
      button.addEventListener("click", () => {
        state.metric = button.dataset.metric;
        for (const b of document.querySelectorAll("[data-metric]")) {
          b.setAttribute("aria-pressed", String(b === button));
        }
        if (state.data) renderMap(state.data.gridCounts);
      });
    }
    document.addEventListener("visibilitychange", () => {
      if (!state.key) return;
      if (document.visibilityState === "visible") refresh();
      else clearTimeout(state.timer);
    });
  }

  function selectGrid(code) {
    if (state.grid === code) {
      state.grid = "";
    } else {
      const feature = state.geo.features.find((f) => f.properties.code === code);
      state.grid = code;
      state.village = feature?.properties.parent_code || "";
      const townships = state.data.townships.items.map((i) => i.key);
      state.township = townships.find((k) => k && state.village.startsWith(k)) || "";
    }
    refresh();
  }

  function boot() {
    wire();
    applyLanguage();
    if (typeof echarts === "undefined") {
      document.body.dataset.state = "error";
      $("#signin-error").textContent = "echarts.min.js did not load";
      return;
    }
    if (state.key) start();
    else signOut();
  }

  boot();
})();
