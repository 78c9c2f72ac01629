// GET /dashboard in a real browser (Debian's Chromium, driven by playwright-core, which never
// downloads a browser of its own) against the real worker with its sentinels: the page asks
// for the admin token (a wrong one is refused with a message and asked again), shows every node
// and sentinel, shows a cut link within 10 s, and keeps working while the primary is down and
// the sentinels fail over. No page error and no console error along the way. It takes a
// screenshot; with FLAREDIS_DASHBOARD_SCREENSHOT=1 into docs/dashboard.png (the README shows
// it), else into a temporary folder, so that a run leaves the work tree as it was.
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type BrowserContext, type Page, chromium } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startFlaredis } from "../e2e/start";
import { assertInstalled, tool } from "./need-tool";

const CHROMIUM = "/usr/bin/chromium";
const browser = tool(CHROMIUM, "chromium");
const PRIMARY = "enam";
const REPLICAS = ["wnam", "weur", "apac"];
const SENTINELS = ["wnam", "weur", "apac"];

let server: Awaited<ReturnType<typeof startFlaredis>> | undefined;
let context: BrowserContext | undefined;
let profile: string | undefined;
const problems: string[] = [];

beforeAll(async () => {
  if (browser.skip) return;
  server = await startFlaredis();
  profile = mkdtempSync(join(tmpdir(), "flaredis-chromium-"));
  // launchPersistentContext is how playwright takes a --user-data-dir: a fresh one per run.
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1080, height: 1000 },
  });
});

afterAll(async () => {
  await context?.close();
  await server?.dispose();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function api(path: string, body: unknown, token = "dev-admin-token") {
  const response = await fetch(`${server!.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  expect(response.status, `${path}: ${await response.clone().text()}`).toBe(200);
  return response.json();
}
const write = (key: string) => api("/", ["SET", key, "v"], "dev-token");
const fault = (node: string, body: object) => api(`/admin/nodes/${node}/faults`, body);

/** Waits for `selector`, failing with what the page showed then. */
async function see(page: Page, selector: string, timeout = 10_000) {
  try {
    await page.locator(selector).first().waitFor({ state: "attached", timeout });
  } catch (e) {
    throw new Error(`${selector} not shown within ${timeout} ms; the page said: ${await page.locator("body").innerText()}\n${String(e)}`);
  }
}

it.skipIf(browser.skip)(`the dashboard shows the topology, a cut link within 10 s, and a failover${browser.skipReason}`, async () => {
  assertInstalled(browser);
  const page = await context!.newPage();
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
  });
  for (let i = 0; i < 20; i++) await write(`dash:${i}`);

  await page.goto(`${server!.url}/dashboard`);
  await page.locator("#token").waitFor({ state: "visible" });
  expect(await page.locator("#board").isHidden()).toBe(true);

  // A wrong token: a clear message, and the form again. The browser logs the refused requests
  // (401) as console errors; those, and only those, are expected here.
  await page.fill("#token", "not-the-admin-token");
  await page.click("#login button");
  await page.locator("#login-error", { hasText: "refused" }).waitFor();
  expect(await page.locator("#token").isVisible()).toBe(true);
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  await page.fill("#token", "dev-token");
  await page.click("#login button");
  await page.locator("#login-error", { hasText: "not the admin token" }).waitFor();
  // Two calls per attempt (topology and sentinels), each refused: four logged refusals.
  await expect.poll(() => problems.length).toBe(4);
  expect(problems.filter((p) => !/status of 40[13]/.test(p))).toEqual([]);
  problems.length = 0;

  await page.fill("#token", "dev-admin-token");
  await page.press("#token", "Enter");
  await see(page, `[data-node="${PRIMARY}"][data-role="primary"][data-down="false"]`);
  for (const r of REPLICAS) await see(page, `[data-node="${r}"][data-role="replica"]`);
  for (const s of SENTINELS) await see(page, `[data-sentinel="${s}"]`);
  const text = await page.locator("#topology").textContent();
  for (const name of [PRIMARY, ...REPLICAS, ...SENTINELS.map((s) => `sentinel ${s}`)]) expect(text).toContain(name);
  await see(page, `line.link[data-replica="weur"][data-link="up"]`);
  // A reload keeps the token (sessionStorage): no second prompt.
  await page.reload();
  await see(page, `[data-node="${PRIMARY}"][data-role="primary"]`);
  expect(await page.locator("#login").isHidden()).toBe(true);

  // Writes for a few seconds, so the lag chart has a history.
  for (let i = 0; i < 30; i++) {
    await write(`dash:lag:${i}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await see(page, `polyline[data-series="weur"]`);

  // A cut link shows within 10 s. One write after the cut makes the primary push at once (an
  // idle primary pings every 10 s only, so without it the cut could take that long to show).
  await fault("weur", { link: "down" });
  const cutAt = Date.now();
  await write("dash:after-cut");
  await see(page, `line.link[data-replica="weur"][data-link="down"]`, 10_000);
  await see(page, `[data-node="weur"][data-link="down"]`, 1000);
  console.log(`dashboard: the cut link showed after ${Date.now() - cutAt} ms`);
  await fault("weur", { link: "up" });
  await write("dash:after-restore");
  await see(page, `line.link[data-replica="weur"][data-link="up"]`);

  // The primary's region gone: the page shows it down from the sentinels' view, then the
  // sentinels' failover (a new primary, the role changes in the events table).
  await fault(PRIMARY, { down: true });
  await see(page, `[data-node="${PRIMARY}"][data-role="primary"][data-down="true"]`);
  expect(await page.locator("#status").textContent()).toContain("DOWN");
  await see(page, `[data-role="primary"][data-down="false"]:not([data-node="${PRIMARY}"])`, 60_000);
  await see(page, `[data-node="${PRIMARY}"][data-role="replica"]`);
  await page.locator("#events-body tr", { hasText: "promoted" }).first().waitFor({ timeout: 10_000 });
  // Some writes to the new primary, so the chart moves again before the picture is taken.
  // (the worker may still send a write or two to the old primary: those fail, which is fine).
  for (let i = 0; i < 10; i++) await fetch(`${server!.url}/`, { method: "POST", headers: { authorization: "Bearer dev-token" }, body: JSON.stringify(["SET", `dash:new:${i}`, "v"]) });
  await page.waitForTimeout(1500);
  const screenshot = process.env.FLAREDIS_DASHBOARD_SCREENSHOT === "1" ? "docs/dashboard.png" : join(profile!, "dashboard.png");
  mkdirSync(dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot, fullPage: true });
  expect(statSync(screenshot).size).toBeGreaterThan(10_000);

  await fault(PRIMARY, { down: false });
  expect(problems).toEqual([]);
});
