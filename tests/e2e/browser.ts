import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const ROOT = join(__dirname, '..', '..');
export const SCREENSHOTS = join(ROOT, 'tests', 'e2e', 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((f) => newestMtime(join(path, f))));
}

/** Builds dist/client-demo when it is missing or older than its sources (what `npm run build` does for it). */
export function ensureClientBuilt(): void {
  const bundle = join(ROOT, 'dist', 'client-demo', 'main.js');
  const sources = [join(ROOT, 'client-demo', 'src'), join(ROOT, 'server', 'contracts'), join(ROOT, 'server', 'realtime'), join(ROOT, 'packages', 'client', 'src'), join(ROOT, 'scripts', 'build-client.mjs')];
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= Math.max(...sources.map(newestMtime))) return;
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-client.mjs')], { cwd: ROOT, stdio: 'inherit' });
}

export interface TestBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/** Debian's chromium, headless, with a fresh profile and nothing that phones home. One per test file. */
export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; .ci/run does it)`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    // playwright gives every launch a new temporary user-data-dir of its own (and removes it on close).
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    browser,
    close: async () => {
      await browser.close();
    },
  };
}

export interface PageUser {
  id: number;
  email: string;
  token: string;
  name: string;
  role: 'user' | 'box_office' | 'admin';
}

/**
 * A new context (its own localStorage, like another person's browser), signed in as `user` when given by
 * putting the session where the app keeps it. Page errors fail loudly through `errors`.
 */
export async function openContext(tb: TestBrowser, user?: PageUser): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await tb.browser.newContext({ viewport: { width: 1300, height: 900 } });
  if (user) {
    const value = JSON.stringify({ token: user.token, user: { id: user.id, email: user.email, name: user.name, role: user.role } });
    await context.addInitScript((v: string) => localStorage.setItem('evently.session', v), value);
  }
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, errors };
}

/** Opens a page and waits until the app rendered and its socket is live. */
export async function openApp(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  await page.waitForFunction(() => (window as any).evently?.connected() === true);
}

/** Clicks a seat's real pixel on the canvas (the same path a mouse takes: hit test, then the command). */
export async function clickSeat(page: Page, seatId: number): Promise<void> {
  const point = await page.evaluate((id) => (window as any).evently.seatPoint(id), seatId);
  if (!point) throw new Error(`seat ${seatId} is not on the map`);
  const box = await page.locator('.seat-overlay').boundingBox();
  await page.mouse.click(box!.x + point.x, box!.y + point.y);
}

/** The seat's state as the page knows it ({status, version, mine?, holder?}). */
export function seatOnPage(page: Page, seatId: number): Promise<{ status: string; version: number; mine?: boolean; holder?: { name: string; email: string } | null } | null> {
  return page.evaluate((id) => (window as any).evently.seat(id), seatId);
}

export async function waitForSeat(page: Page, seatId: number, status: string, timeoutMs = 5000): Promise<void> {
  await page.waitForFunction(([id, st]) => (window as any).evently.seat(id)?.status === st, [seatId, status] as const, { timeout: timeoutMs });
}

/** Waits until `selector` matches exactly `n` elements. */
export async function countIs(page: Page, selector: string, n: number, timeoutMs = 5000): Promise<void> {
  await page.waitForFunction(([sel, count]) => document.querySelectorAll(sel as string).length === count, [selector, n] as const, { timeout: timeoutMs });
}
