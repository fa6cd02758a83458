// Opens /dashboard in Debian's chromium through playwright-core and prints what it shows, as
// JSON, for test_dashboard.py to compare with the API. Configuration comes as JSON on stdin:
// {base, key, chromium, screenshot, phoneScreenshot}. Browsers are never downloaded.
import { readFile } from "node:fs/promises";
import { chromium } from "playwright-core";

const config = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
}));

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
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
// ECharts animates for about a second after each setOption.
const SETTLE_MS = 1500;

const browser = await chromium.launch({ executablePath: config.chromium, args: ARGS });
const out = { errors: [], requests: [] };

function watch(page) {
  page.on("console", (m) => m.type() === "error" && out.errors.push(`console: ${m.text()}`));
  page.on("pageerror", (e) => out.errors.push(`page: ${e.message}`));
  page.on("request", (r) => out.requests.push(r.url()));
}

const ready = (page) => page.waitForSelector("body[data-state=ready]", { timeout: 30000 });
const text = (page, testid) => page.locator(`[data-testid="${testid}"]`).innerText();

async function readFigures(page) {
  const rates = {};
  for (const name of RATES) {
    const value = page.locator(`[data-testid="rate-${name}-value"]`);
    rates[name] = {
      shown: await value.innerText(),
      value: await value.getAttribute("data-value"),
      numerator: await text(page, `rate-${name}-numerator`),
      denominator: await text(page, `rate-${name}-denominator`),
    };
  }
  const counts = {};
  for (const name of [...COUNTS, "clusters"]) counts[name] = await text(page, `count-${name}`);
  return { rates, counts };
}

async function column(page, index) {
  return page.$$eval(`#breakdown tbody tr`, (rows, i) =>
    rows.map((r) => {
      const cell = r.children[i];
      return cell.dataset.value ?? cell.textContent;
    }), index);
}

try {
  const desk = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    locale: "zh-CN",
    timezoneId: "Asia/Shanghai",
  });
  const page = await desk.newPage();
  watch(page);
  await page.goto(`${config.base}/dashboard`);
  await page.waitForSelector("body[data-state=signin]");
  await page.fill('[data-testid="key-input"]', config.key);
  await page.click('[data-testid="signin"]');
  await ready(page);

  out.period = { from: await page.inputValue("#from"), to: await page.inputValue("#to") };
  Object.assign(out, await readFigures(page));
  const map = page.locator('[data-testid="map"]');
  out.map = {
    grids: Number(await map.getAttribute("data-grids")),
    coloured: Number(await map.getAttribute("data-coloured")),
    canvases: await map.locator("canvas").count(),
  };
  out.table = { keys: await page.$$eval("#breakdown tbody tr", (rows) => rows.map((r) => r.dataset.key)) };
  // Sorting by a header: received (column 1) ascending, then completion (column 5) descending.
  await page.click('th button[data-sort="received"]');
  out.table.receivedAscending = (await column(page, 1)).map(Number);
  await page.click('th button[data-sort="completion"]');
  out.table.completionDescending = await column(page, 5);
  out.clusters = await page.locator('[data-testid="cluster"]').count();
  out.textZh = await page.locator("body").innerText();

  await page.waitForTimeout(SETTLE_MS);
  await page.screenshot({ path: config.screenshot, fullPage: true });

  // The key survives a reload (localStorage): no second sign-in.
  await page.reload();
  await ready(page);
  out.afterReload = (await readFigures(page)).rates.completion;

  await page.click('[data-testid="lang-toggle"]');
  out.english = {
    title: await page.locator("h1").innerText(),
    completion: await page.locator('[data-testid="rate-completion"] h2').innerText(),
    lang: await page.getAttribute("html", "lang"),
  };
  out.textEn = await page.locator("body").innerText();
  await page.click('[data-testid="lang-toggle"]');

  // 下载通报: the month's workbook, fetched with the key and saved from a blob.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.click('[data-testid="download-report"]'),
  ]);
  const workbook = await readFile(await download.path());
  out.report = { name: download.suggestedFilename(), zip: workbook.subarray(0, 2).toString(), bytes: workbook.length };

  // A phone, signed in by the key the desk context stored.
  const phone = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: "zh-CN",
    timezoneId: "Asia/Shanghai",
    storageState: await desk.storageState(),
  });
  const small = await phone.newPage();
  watch(small);
  await small.goto(`${config.base}/dashboard`);
  await ready(small);
  await small.waitForTimeout(SETTLE_MS);
  out.phone = {
    ...(await readFigures(small)).rates.completion,
    scrollWidth: await small.evaluate(() => document.documentElement.scrollWidth),
  };
  await small.screenshot({ path: config.phoneScreenshot, fullPage: true });
} catch (err) {
  out.failure = String(err.stack || err);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out));
