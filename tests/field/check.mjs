// A grid worker's morning on the field page (/m), on a phone-sized Chromium through
// playwright-core: sign in, see a new ticket arrive without reloading, sign it, whistle for a
// member who reports in from another phone, add a note with a photo from a file, reply with an
// `after` photo, queue a note with the network cut and see it sent when the network is back, and lose the answer to one more note (sent again with its
// Idempotency-Key). Prints what it saw as JSON for test_field_page.py to compare with the API.
// Configuration as JSON on stdin: {base, chromium, workerKey, agentKey, memberKey, memberId,
// returnId, ticket, listShot, ticketShot, photoDir}. Browsers are never downloaded.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
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
export const OFFLINE_NOTE = "断网时记录：已联系物业，明早施工";
export const LOST_NOTE = "回执丢失的进展：围挡已设置";
const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: "zh-CN",
  timezoneId: "Asia/Shanghai",
  geolocation: { latitude: 42.515, longitude: 123.41 },
  permissions: ["geolocation"],
};

const browser = await chromium.launch({ executablePath: config.chromium, args: ARGS });
const out = { errors: [], requests: [], steps: [] };
const step = (name) => out.steps.push(name);
const testid = (id) => `[data-testid="${id}"]`;

function watch(page) {
  page.on("console", (m) => m.type() === "error" && out.errors.push(`console: ${m.text()}`));
  page.on("pageerror", (e) => out.errors.push(`page: ${e.message}`));
  page.on("request", (r) => out.requests.push(r.url()));
}

/** A JPEG drawn by the browser's canvas: a photo "from a file" without any image library. */
async function jpeg(page, path, label, colour) {
  const data = await page.evaluate(([text, fill]) => {
    const canvas = document.createElement("canvas");
    canvas.width = 800;
    canvas.height = 600;
    const g = canvas.getContext("2d");
    g.fillStyle = fill;
    g.fillRect(0, 0, 800, 600);
    g.fillStyle = "#fff";
    g.font = "bold 72px sans-serif";
    g.fillText(text, 60, 320);
    return canvas.toDataURL("image/jpeg", 0.9).split(",")[1];
  }, [label, colour]);
  await writeFile(path, Buffer.from(data, "base64"));
  return path;
}

async function outboxCount(page) {
  const badge = page.locator(testid("outbox"));
  return (await badge.isHidden()) ? 0 : Number(await badge.getAttribute("data-count"));
}

async function waitOutboxEmpty(page, timeout = 45000) {
  await page.waitForFunction(() => document.querySelector('[data-testid="outbox"]').hidden, null, { timeout });
}

async function act(page, action, fill) {
  await page.tap(testid(`action-${action}`));
  await page.waitForSelector(`${testid("action-form")}:not([hidden])`);
  await fill();
  await page.tap(testid("form-submit"));
  // Hidden once the tap's requests are in the outbox (sent or not).
  await page.waitForSelector(testid("action-form"), { state: "hidden" });
}

try {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  watch(page);
  await page.goto(`${config.base}/m`);
  await page.waitForSelector("body[data-state=signin]");
  await page.fill(testid("key-input"), config.workerKey);
  await page.tap(testid("signin"));
  await page.waitForSelector("body[data-view=list]");
  await page.waitForSelector("body[data-polled]");
  step("signed in");
  out.serviceWorker = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
  out.manifest = await page.evaluate(async () => {
    const link = document.querySelector('link[rel="manifest"]').href;
    const answer = await fetch(link);
    return { status: answer.status, ...(await answer.json()) };
  });
  await page.evaluate(() => (window.__sameDocument = true));
  out.before = await page.locator(testid("ticket-card")).count();

  // The call centre takes a call; the ticket goes to this worker's grid.
  const created = await fetch(`${config.base}/v1/tickets`, {
    method: "POST",
    headers: { Authorization: `Bearer ${config.agentKey}`, "Content-Type": "application/json" },
    body: JSON.stringify(config.ticket),
  }).then((r) => r.json());
  out.ticket = { id: created.id, number: created.number };
  const cardSelector = `[data-ticket-id="${created.id}"]`;
  await page.waitForSelector(cardSelector, { timeout: 40000 });
  step("new ticket arrived");
  out.arrived = {
    sameDocument: await page.evaluate(() => window.__sameDocument === true),
    cards: await page.locator(testid("ticket-card")).count(),
    text: await page.locator(cardSelector).innerText(),
    due: await page.locator(`${cardSelector} .due`).innerText(),
    scrollWidth: await page.evaluate(() => document.documentElement.scrollWidth),
  };

  await page.tap(cardSelector);
  await page.waitForSelector("body[data-view=ticket]");
  await page.waitForFunction((n) => document.querySelector('[data-testid="t-number"]').textContent === n, created.number);
  await page.waitForSelector(`${testid("map")}[data-pin="1"]`);
  const call = page.locator(testid("call"));
  out.page = {
    content: await page.locator(testid("t-content")).innerText(),
    caller: await page.locator(testid("t-caller")).innerText(),
    call: (await call.isVisible()) ? await call.getAttribute("href") : null,
    pin: await page.locator(testid("pin")).count(),
    due: await page.locator(testid("t-due")).innerText(),
  };
  step("ticket page");

  await page.tap(testid("action-sign"));
  await page.waitForSelector(`${testid("t-status")}[data-status=signed]`, { timeout: 20000 });
  step("signed");

  // Blow the whistle for one of the grid's department members, who reports in from the spot.
  await page.tap(testid("action-whistle"));
  await page.waitForSelector(`${testid("members")} input[value="${config.memberId}"]`);
  await page.fill(testid("field-reason"), "井下管线归属不明，请供水部门到场确认");
  await page.check(`${testid("members")} input[value="${config.memberId}"]`);
  await page.tap(testid("form-submit"));
  await page.waitForSelector(testid("action-form"), { state: "hidden" });
  await waitOutboxEmpty(page);
  await page.waitForSelector('[data-testid="timeline"] li[data-action=whistled]', { timeout: 20000 });
  step("whistled");
  const memberContext = await browser.newContext(PHONE);
  const member = await memberContext.newPage();
  watch(member);
  await member.goto(`${config.base}/m#key=${encodeURIComponent(config.memberKey)}`);
  await member.waitForSelector(`${cardSelector}.whistle`, { timeout: 40000 });
  out.member = { card: await member.locator(cardSelector).innerText() };
  await member.tap(cardSelector);
  await member.waitForSelector(testid("action-report-in"));
  out.member.actions = await member.$$eval('[data-testid="actions"] button', (b) => b.map((x) => x.dataset.action));
  await act(member, "report-in", async () => member.fill(testid("field-note"), "供水所已到场"));
  await waitOutboxEmpty(member);
  await member.waitForSelector('[data-testid="timeline"] li[data-action=reported_in]', { timeout: 20000 });
  out.member.reported = await member.locator('[data-testid="timeline"] li[data-action=reported_in]').innerText();
  await memberContext.close();
  step("reported in");

  // More time asked for: the request waits for the centre, the ticket stays the worker's.
  await act(page, "extension", async () => {
    await page.fill(testid("field-days"), "3");
    await page.fill(testid("field-reason"), "需等待供水部门停水后施工");
  });
  await waitOutboxEmpty(page);
  await page.waitForSelector('[data-testid="timeline"] li[data-action=extension_requested]', { timeout: 20000 });
  step("extension asked");
  // Asked twice: the centre's answer is final, shown in its words, and the outbox lets it go.
  await act(page, "extension", async () => {
    await page.fill(testid("field-days"), "2");
    await page.fill(testid("field-reason"), "再申请两天");
  });
  await page.waitForSelector(`${testid("problems")}:not([hidden])`, { timeout: 20000 });
  await waitOutboxEmpty(page);
  out.refused = await page.locator(`${testid("problems")} p`).allInnerTexts();
  await page.tap(`${testid("problems")} button`);

  const during = await jpeg(page, join(config.photoDir, "during.jpg"), "处置中", "#2b6cb0");
  await act(page, "note", async () => {
    await page.fill(testid("field-text"), "已到现场，井口已临时围挡");
    await page.setInputFiles(testid("field-photos"), during);
  });
  await waitOutboxEmpty(page);
  await page.waitForSelector(`${testid("photo")}[data-stage=during][data-loaded]`, { timeout: 20000 });
  step("note with a photo");

  const after = await jpeg(page, join(config.photoDir, "after.jpg"), "处置后", "#2f855a");
  await act(page, "reply", async () => {
    await page.fill(testid("field-text"), "井盖已补装，路面恢复通行");
    await page.setInputFiles(testid("field-after"), after);
  });
  await page.waitForSelector(`${testid("t-status")}[data-status=replied]`, { timeout: 30000 });
  await page.waitForSelector(`${testid("photo")}[data-stage=after][data-loaded]`, { timeout: 20000 });
  step("replied with an after photo");
  out.photos = await page.$$eval('[data-testid="photo"]', (nodes) => nodes.map((n) => n.dataset.stage));
  out.timeline = await page.$$eval('[data-testid="timeline"] li', (nodes) => nodes.map((n) => n.dataset.action));
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: config.ticketShot, fullPage: true });

  // The network goes; the note waits on the phone and goes when the network is back.
  await context.setOffline(true);
  await page.waitForSelector(`${testid("network")}:not([hidden])`);
  await act(page, "note", async () => page.fill(testid("field-text"), OFFLINE_NOTE));
  await page.waitForSelector(`${testid("outbox")}:not([hidden])`);
  await page.waitForTimeout(3000); // a retry or two fail meanwhile
  out.offline = {
    badge: await page.locator(testid("outbox")).innerText(),
    count: await outboxCount(page),
    pendingInTimeline: await page.locator(testid("pending-item")).count(),
  };
  // The phone closes the page meanwhile: the service worker opens it again with no network, and
  // the note is still in the outbox.
  await page.reload();
  await page.waitForSelector("body[data-view=ticket]");
  await page.waitForSelector(`${testid("outbox")}:not([hidden])`);
  out.offline.afterReload = await outboxCount(page);
  await context.setOffline(false);
  await waitOutboxEmpty(page);
  await page.waitForFunction((text) =>
    [...document.querySelectorAll('[data-testid="timeline"] li[data-action=noted]')].some((li) => li.textContent.includes(text)), OFFLINE_NOTE);
  step("offline note sent");

  // The server does the note, but its answer never reaches the phone: the outbox sends it again
  // with the same Idempotency-Key, and the server answers from its record.
  let lost = 0;
  await page.route("**/v1/tickets/*/note", async (route) => {
    if (lost++ === 0) {
      const answer = await route.fetch();
      out.lostAnswerStatus = answer.status();
      await route.abort("connectionreset");
    } else {
      await route.continue();
    }
  });
  await act(page, "note", async () => page.fill(testid("field-text"), LOST_NOTE));
  await waitOutboxEmpty(page, 60000);
  await page.waitForFunction((text) =>
    [...document.querySelectorAll('[data-testid="timeline"] li[data-action=noted]')].some((li) => li.textContent.includes(text)), LOST_NOTE);
  out.noteRequests = lost;
  step("lost answer retried");

  // Back to the list; the street light is another grid's business: ask to return it.
  await page.tap(testid("back"));
  await page.waitForSelector("body[data-view=list]");
  await page.tap(`[data-ticket-id="${config.returnId}"]`);
  await page.waitForFunction((id) => location.hash === `#t/${id}`, config.returnId);
  await act(page, "return", async () => {
    await page.selectOption(testid("field-reason_code"), "not_our_area");
    await page.fill(testid("field-reason"), "路灯属县供电公司管理，不属本网格");
  });
  await waitOutboxEmpty(page);
  await page.waitForSelector(`${testid("t-status")}[data-status=return_requested]`, { timeout: 20000 });
  step("return asked");
  await page.tap(testid("back"));
  await page.waitForSelector("body[data-view=list]");
  // The ticket whose sign-for deadline was a minute away turns red by itself.
  await page.waitForSelector(".ticket.overdue", { timeout: 90000 });
  out.list = {
    cards: await page.locator(testid("ticket-card")).count(),
    overdue: await page.locator(".ticket.overdue").count(),
    overdueText: await page.locator(".ticket.overdue .due").first().innerText(),
    overdueColour: await page.evaluate(() => getComputedStyle(document.querySelector(".ticket.overdue .due")).color),
    status: await page.locator(testid("list-status")).innerText(),
    places: await page.locator(`${testid("ticket-card")} .where`).allInnerTexts(),
    scrollWidth: await page.evaluate(() => document.documentElement.scrollWidth),
    smallestButton: await page.evaluate(() =>
      Math.min(...[...document.querySelectorAll("button")]
        .filter((b) => b.offsetParent !== null)
        .map((b) => b.getBoundingClientRect().height))),
  };
  await page.screenshot({ path: config.listShot, fullPage: true });
  step("list");

  // The QR code's URL: the key in the fragment signs in, and leaves the address bar at once.
  const scanned = await browser.newContext(PHONE);
  const qr = await scanned.newPage();
  watch(qr);
  await qr.goto(`${config.base}/m#key=${encodeURIComponent(config.workerKey)}`);
  await qr.waitForSelector("body[data-view=list][data-polled]");
  out.qr = { hash: await qr.evaluate(() => location.hash), cards: await qr.locator(testid("ticket-card")).count() };
  await qr.tap(testid("signout"));
  await qr.waitForSelector("body[data-state=signin]");
  out.qr.keyAfterSignout = await qr.evaluate(() => localStorage.getItem("hotline.field.key"));
  step("qr sign-in");
} catch (err) {
  out.failure = String(err.stack || err);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out));
