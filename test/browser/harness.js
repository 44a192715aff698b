// Shared machinery for the browser tests: a live `commons serve` on a free loopback port with
// its own SQLite file, Debian's Chromium driven by playwright-core, an axe-core accessibility
// check, and the bookkeeping that keeps every step bounded and leaves a screenshot when one
// fails. Test files import from here; node --test does not run this file itself (its name
// matches none of the runner's test file patterns).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const artifactsDir = path.join(here, 'artifacts');

export const chromiumPath = '/usr/bin/chromium';
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// How long one step may take: each action and assertion waits at most stepTimeout, a page
// load at most navigationTimeout. The server has startTimeout to become ready.
export const stepTimeout = 5_000;
export const navigationTimeout = 10_000;
const startTimeout = 20_000;
const stopTimeout = 5_000;

// The accessibility rules every page must pass: WCAG 2.0, 2.1 and 2.2 at levels A and AA, and
// axe's best practices.
export const axeTags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];
const axeSource = fs.readFileSync(path.join(here, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

/**
 * Why the tests cannot run here, or null when they can. Under COMMONS_REQUIRE_ALL=1 (CI) a
 * missing prerequisite is a failure rather than a skip: see skipUnlessReady.
 */
export function missingPrerequisite() {
  const bin = process.env.COMMONS_BIN;
  if (!bin) return 'COMMONS_BIN is not set (run `make test-browser`, or set it to a built commons binary)';
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    return `COMMONS_BIN=${bin} is not an executable file (run \`make build\`)`;
  }
  try {
    fs.accessSync(chromiumPath, fs.constants.X_OK);
  } catch {
    return `${chromiumPath} is absent (apt-get install chromium)`;
  }
  return null;
}

const requireAll = process.env.COMMONS_REQUIRE_ALL === '1';

/**
 * Options for a describe block: skip it, with the reason, when a prerequisite is missing,
 * unless COMMONS_REQUIRE_ALL=1, in which case the block runs and its before hook fails (see
 * assertPrerequisites) so that CI cannot pass without having run anything.
 */
export function skipUnlessReady() {
  const missing = missingPrerequisite();
  if (missing && !requireAll) return { skip: missing };
  return {};
}

export function assertPrerequisites() {
  const missing = missingPrerequisite();
  if (missing) throw new Error(`COMMONS_REQUIRE_ALL=1 and the browser tests cannot run: ${missing}`);
}

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort() {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await once(srv, 'close');
  return port;
}

const signInLink = /(http:\/\/127\.0\.0\.1:\d+\/admin\/link\/[A-Za-z0-9_.~-]+)/;

/**
 * Starts `commons serve` in development mode on a free port with a fresh data folder, waits
 * until GET /readyz answers 200, and returns its base URL and the first admin's one-time
 * sign-in link. Always pair with stop(), in an after hook: it ends the process and removes the
 * data folder.
 */
export async function startCommons() {
  // The port is free when chosen but another process could take it before commons binds it;
  // a second try on a new port covers that race.
  let lastError;
  for (let attempt = 0; attempt < 2; attempt++) {
    const server = new CommonsServer(await freePort());
    try {
      await server.start();
      return server;
    } catch (err) {
      lastError = err;
      await server.stop();
      if (!/address already in use/i.test(server.stderr)) break;
    }
  }
  throw lastError;
}

class CommonsServer {
  constructor(port) {
    this.port = port;
    this.baseURL = `http://127.0.0.1:${port}`;
    this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'commons-browser-'));
    this.stdout = '';
    this.stderr = '';
    this.signInLink = null;
    this.child = null;
    this.exited = null;
  }

  async start() {
    const args = [
      'serve',
      '--addr', `127.0.0.1:${this.port}`,
      '--database', `sqlite:${path.join(this.dataDir, 'commons.db')}`,
      '--data-dir', this.dataDir,
      '--dev',
    ];
    this.child = spawn(process.env.COMMONS_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = once(this.child, 'exit').then(([code, signal]) => ({ code, signal }));
    killOnExit.set(this.child, this.dataDir);
    this.child.stdout.setEncoding('utf8').on('data', (s) => { this.stdout += s; });
    this.child.stderr.setEncoding('utf8').on('data', (s) => { this.stderr += s; });
    let spawnError = null;
    this.child.on('error', (err) => { spawnError = err; });

    const deadline = Date.now() + startTimeout;
    for (;;) {
      if (spawnError) throw new Error(`could not start ${process.env.COMMONS_BIN}: ${spawnError.message}`);
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`commons serve exited (${this.child.exitCode ?? this.child.signalCode}) before it was ready\n${this.output()}`);
      }
      const match = this.stdout.match(signInLink);
      if (match && (await this.ready())) {
        this.signInLink = match[1];
        return;
      }
      if (Date.now() > deadline) {
        throw new Error(`commons serve was not ready with a sign-in link within ${startTimeout / 1000}s\n${this.output()}`);
      }
      await sleep(100);
    }
  }

  async ready() {
    try {
      const res = await fetch(`${this.baseURL}/readyz`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  output() {
    const tail = (s) => s.split('\n').slice(-30).join('\n');
    return `--- stdout ---\n${tail(this.stdout)}\n--- stderr ---\n${tail(this.stderr)}`;
  }

  /** Writes the server's output beside the screenshots, for a failed run. */
  saveLog(name) {
    fs.mkdirSync(artifactsDir, { recursive: true });
    fs.writeFileSync(path.join(artifactsDir, `${name}-server.log`), `${this.stdout}\n${this.stderr}`);
  }

  /** Ends the process (SIGTERM, then SIGKILL after a few seconds) and removes its data. */
  async stop() {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeout);
      await this.exited;
      clearTimeout(timer);
    }
    if (child) killOnExit.delete(child);
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

// Servers still running when the test process ends — a thrown hook, a runner timeout, ^C —
// are killed on the way out, and their data folders removed, so that no run leaves a commons
// process or its files behind.
const killOnExit = new Map(); // child process → data folder
process.on('exit', () => {
  for (const [child, dataDir] of killOnExit) {
    child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => process.exit(130));
}

/**
 * Launches Debian's Chromium headless. playwright-core gives every launch a fresh temporary
 * profile (user-data-dir) and deletes it on close.
 */
export function launchBrowser() {
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, timeout: navigationTimeout });
}

// What the browser reported about each page since its last check: CSP violations, script
// errors, assets that did not load.
const pageProblems = new WeakMap();

/**
 * Opens a page in a new browser context with bounded timeouts, collecting what the browser
 * reports about the page for checkA11y. The pages' strict Content-Security-Policy stays
 * enforced: it is part of what we test.
 */
export async function openPage(browser, { javaScriptEnabled = true } = {}) {
  const context = await browser.newContext({ javaScriptEnabled });
  const page = await context.newPage();
  page.setDefaultTimeout(stepTimeout);
  page.setDefaultNavigationTimeout(navigationTimeout);
  const problems = [];
  pageProblems.set(page, problems);
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) {
      problems.push(`${page.url()}: ${msg.text()}`);
    }
  });
  page.on('pageerror', (err) => problems.push(`${page.url()}: uncaught ${err.message}`));
  page.on('requestfailed', (req) => {
    // A navigation cut short by the next one is normal; a stylesheet or script that fails is not.
    if (req.resourceType() !== 'document') {
      problems.push(`${page.url()}: ${req.resourceType()} ${req.url()} failed: ${req.failure()?.errorText}`);
    }
  });
  page.on('response', (res) => {
    const type = res.request().resourceType();
    if (res.status() >= 400 && ['stylesheet', 'script', 'image', 'font'].includes(type)) {
      problems.push(`${page.url()}: ${type} ${res.url()} answered ${res.status()}`);
    }
  });
  return { context, page };
}

/**
 * Runs axe-core on the page and throws, listing every violation (rule, impact, the elements at
 * fault, what to do), when there is any. It also fails on anything the browser reported about
 * the page since the last check (CSP violations, script errors, assets that did not load).
 *
 * axe is injected through the DevTools protocol (page.evaluate) rather than with
 * page.addScriptTag: the pages' CSP rightly refuses inline scripts, and we keep it enforced
 * rather than bypass it. Pages must therefore be opened with JavaScript enabled.
 */
export async function checkA11y(page) {
  const label = `“${await page.title()}” (${new URL(page.url()).pathname})`;
  const present = await page.evaluate(() => typeof window.axe === 'object');
  if (!present) await page.evaluate(axeSource);
  const result = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
    axeTags,
  );
  const found = (pageProblems.get(page) ?? []).splice(0);
  if (result.violations.length > 0) {
    found.push(`${result.violations.length} accessibility rule(s) failed:\n${formatViolations(result.violations)}`);
  }
  if (found.length > 0) {
    throw new Error(`${label}\n${found.join('\n')}`);
  }
}

export function formatViolations(violations) {
  return violations
    .map((v) => {
      const nodes = v.nodes
        .map((n) => {
          const summary = n.failureSummary ? `\n        ${n.failureSummary.replace(/\n/g, '\n        ')}` : '';
          return `      ${n.target.join(' ')}${summary}`;
        })
        .join('\n');
      return `  - ${v.id} [${v.impact}] ${v.help}\n    ${v.helpUrl}\n${nodes}`;
    })
    .join('\n');
}

/**
 * A person using the console in one browser context. Every page it lands on — by goto, a click
 * or a form — is checked with checkA11y in a subtest of its own, so that an accessibility
 * failure is reported against its page without stopping the journey; a page that does not
 * load, or answers with the wrong status, stops it.
 */
export class Visitor {
  constructor(page, server, { javaScriptEnabled = true, name = 'visitor' } = {}) {
    this.page = page;
    this.server = server;
    this.javaScriptEnabled = javaScriptEnabled;
    this.name = name;
    this.status = 0;
    this.headers = {};
    this.checked = [];
    page.on('response', (res) => {
      if (res.request().isNavigationRequest() && res.frame() === page.mainFrame() && (res.status() < 300 || res.status() >= 400)) {
        this.status = res.status();
        this.headers = res.headers();
      }
    });
  }

  /** Opens a path on the server, like typing the address, and checks the page. */
  async goto(t, pathOrURL, { status = 200 } = {}) {
    const url = new URL(pathOrURL, this.server.baseURL).href;
    await this.page.goto(url, { waitUntil: 'load' });
    return this.landed(t, status);
  }

  /** Clicks a link or button that leads to another page, and checks that page. */
  async click(t, locator, { status = 200 } = {}) {
    await Promise.all([this.page.waitForEvent('load'), locator.click()]);
    return this.landed(t, status);
  }

  async landed(t, status) {
    assert.equal(this.status, status, `${this.page.url()} answered ${this.status}, expected ${status}`);
    const title = await this.page.title();
    this.checked.push(title);
    await t.test(`accessibility: ${title}`, async () => {
      try {
        await checkA11y(this.javaScriptEnabled ? this.page : await this.asServed());
      } catch (err) {
        await saveArtifacts(this.page, null, `${this.name}--a11y--${slug(title)}`);
        throw err;
      }
    });
    return this.page;
  }

  /**
   * axe cannot run in a page whose scripts are disabled, so a visitor without JavaScript has
   * its pages checked in a mirror: a script-enabled page given the same HTML with the page's
   * own scripts removed, at the same address so that its styles load. It is the page as a
   * browser without JavaScript shows it; the original page's CSP violations and failed assets
   * are reported too.
   */
  async asServed() {
    if (!this.mirror) {
      const context = await this.page.context().browser().newContext();
      this.mirror = await context.newPage();
      this.mirror.setDefaultTimeout(stepTimeout);
      pageProblems.set(this.mirror, pageProblems.get(this.page));
    }
    const url = this.page.url().split('#')[0];
    const html = (await this.page.content()).replace(/<script\b[^>]*>[\s\S]*?<\/script\s*>/gi, '');
    await this.mirror.unrouteAll();
    await this.mirror.route(url, (route) => route.fulfill({ status: this.status, contentType: 'text/html; charset=utf-8', body: html }));
    await this.mirror.goto(url, { waitUntil: 'load' });
    return this.mirror;
  }

  /** Closes the visitor's browser context (and its mirror). */
  async close() {
    await this.mirror?.context().close();
    await this.page.context().close();
  }
}

const slug = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);

/** Saves a full-page screenshot, the page's HTML and the server's output under artifacts/. */
export async function saveArtifacts(page, server, base) {
  fs.mkdirSync(artifactsDir, { recursive: true });
  if (page && !page.isClosed()) {
    await page.screenshot({ path: path.join(artifactsDir, `${base}.png`), fullPage: true, timeout: stepTimeout }).catch(() => {});
    await page.content().then((html) => fs.writeFileSync(path.join(artifactsDir, `${base}.html`), html)).catch(() => {});
  }
  server?.saveLog(base);
}

/**
 * Makes a sequence of dependent steps out of node:test subtests: once a step has failed, the
 * later ones are skipped rather than failing for the same reason, and the failure leaves a
 * screenshot, the page's HTML and the server's output under artifacts/.
 */
export function journey(name) {
  let broken = null;
  const j = {
    page: null,
    server: null,
    /** Wraps fn(t) as a step, for node:test's it(). */
    step(title, fn) {
      return async (t) => {
        if (broken) {
          t.skip(`an earlier step failed: ${broken}`);
          return;
        }
        try {
          await fn(t);
        } catch (err) {
          broken = title;
          await saveArtifacts(j.page, j.server, `${slug(name)}--${slug(title)}`);
          throw err;
        }
      };
    },
  };
  return j;
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Checks the page shows the GOV.UK error summary with one link per field in fieldIds, in
 * order, each pointing at an input on the page, and that the page title starts "Error:".
 * Returns the summary's messages.
 */
export async function expectErrorSummary(page, fieldIds) {
  const summary = page.locator('.govuk-error-summary');
  await summary.waitFor({ state: 'visible' });
  const title = await summary.locator('.govuk-error-summary__title').innerText();
  if (title.trim() !== 'There is a problem') throw new Error(`error summary title is “${title}”`);
  if (!(await page.title()).startsWith('Error: ')) throw new Error(`page title “${await page.title()}” does not start with “Error: ”`);
  const links = await summary.locator('.govuk-error-summary__list a').evaluateAll((as) =>
    as.map((a) => {
      const id = decodeURIComponent(a.hash.slice(1));
      const target = document.getElementById(id);
      return { id, text: a.textContent.trim(), target: target ? target.tagName.toLowerCase() : null };
    }),
  );
  const ids = links.map((l) => l.id);
  if (JSON.stringify(ids) !== JSON.stringify(fieldIds)) {
    throw new Error(`error summary links to ${JSON.stringify(ids)}, expected ${JSON.stringify(fieldIds)}`);
  }
  for (const l of links) {
    if (!['input', 'select', 'textarea'].includes(l.target)) {
      throw new Error(`error summary link “${l.text}” points at #${l.id}, which is ${l.target ? `a <${l.target}>` : 'not on the page'}, not a form field`);
    }
    // Each field carries its own message too, tied to it for screen readers.
    const described = await page.locator(`[id="${l.id}"]`).evaluate((el) => {
      const owner = el.closest('fieldset') ?? el;
      const ids = (owner.getAttribute('aria-describedby') ?? '').split(/\s+/);
      return ids.some((id) => document.getElementById(id)?.classList.contains('govuk-error-message'));
    });
    if (!described) throw new Error(`field #${l.id} is not described by its error message`);
  }
  return links.map((l) => l.text);
}

/** Waits for the success banner and checks its message. */
export async function expectBanner(page, text) {
  const heading = page.locator('.govuk-notification-banner--success .govuk-notification-banner__heading');
  await heading.waitFor({ state: 'visible' });
  const actual = (await heading.innerText()).trim();
  if (actual !== text) throw new Error(`success banner says “${actual}”, expected “${text}”`);
}

/** Waits for the page's h1 and checks its text. */
export async function expectHeading(page, text) {
  const h1 = page.locator('h1');
  await h1.first().waitFor({ state: 'visible' });
  const actual = (await h1.first().innerText()).replace(/\s+/g, ' ').trim();
  if (actual !== text) throw new Error(`the page's heading is “${actual}”, expected “${text}” (${page.url()})`);
}
