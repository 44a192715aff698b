// Letters after they are accepted, in a real browser with and without JavaScript, axe-core
// checking every page: the print batch downloaded, marked as sent to print and then as
// posted, the API's status following each step, and letters that came back recorded on the
// returned letters page, its error state included.
//
// Development mode hands every letter to the console outbox at once, so nothing ever waits
// for a print batch there. This file therefore starts `commons serve` as production runs it
// (a secret key, and provider settings pointing at loopback ports where nothing answers: no
// email or text message is sent here), sets up with what a service team and an operator have —
// the admin command line, the management API, and the /v2 API with a JWT signed as the
// official clients sign it — and signs in as an invited team member.

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  Visitor,
  artifactsDir,
  assertPrerequisites,
  expectBanner,
  expectErrorSummary,
  expectHeading,
  freePort,
  journey,
  launchBrowser,
  openPage,
  skipUnlessReady,
  sleep,
} from './harness.js';

const run = promisify(execFile);
const commandTimeout = 15_000;
const startTimeout = 20_000;
const step = { timeout: 30_000 };
const password = 'correct horse battery staple';
const member = 'print-room@example.gov.uk';

/** `commons serve` outside development mode, on a free loopback port with its own data. */
class ProductionServer {
  constructor(port) {
    this.port = port;
    this.baseURL = `http://127.0.0.1:${port}`;
    this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'commons-letters-'));
    this.database = `sqlite:${path.join(this.dataDir, 'commons.db')}`;
    this.output = '';
    this.env = {
      ...process.env,
      COMMONS_SECRET_KEY: crypto.randomBytes(32).toString('base64'),
      COMMONS_BASE_URL: this.baseURL,
      COMMONS_SMTP_URL: 'smtp://127.0.0.1:9?tls=none',
      COMMONS_EMAIL_FROM_DOMAIN: 'notify.example.gov.uk',
      COMMONS_SMS_PROVIDER_URL: 'http://127.0.0.1:9/sms',
      COMMONS_SMS_PROVIDER_TOKEN: 'not-used',
      COMMONS_SMS_CALLBACK_SECRET: 'browser-test-sms-secret',
      COMMONS_LOG_FORMAT: 'text',
    };
  }

  async start() {
    const storage = ['--database', this.database, '--data-dir', this.dataDir];
    this.child = spawn(process.env.COMMONS_BIN, ['serve', '--addr', `127.0.0.1:${this.port}`, ...storage],
      { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = once(this.child, 'exit');
    // Should the test process end first (a thrown hook, ^C), the server and its data go too.
    this.killOnExit = () => {
      this.child.kill('SIGKILL');
      fs.rmSync(this.dataDir, { recursive: true, force: true });
    };
    process.on('exit', this.killOnExit);
    for (const s of [this.child.stdout, this.child.stderr]) s.setEncoding('utf8').on('data', (d) => { this.output += d; });
    const deadline = Date.now() + startTimeout;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`commons serve exited (${this.child.exitCode})\n${this.output}`);
      try {
        const res = await fetch(`${this.baseURL}/readyz`, { signal: AbortSignal.timeout(1_000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`commons serve was not ready within ${startTimeout / 1000}s\n${this.output}`);
      await sleep(100);
    }
  }

  /** Runs `commons admin <args>` on this server's database and returns its JSON answer. */
  async admin(...args) {
    const { stdout } = await run(process.env.COMMONS_BIN, ['admin', ...args, '--database', this.database, '--data-dir', this.dataDir],
      { env: this.env, timeout: commandTimeout });
    return JSON.parse(stdout.trim().split('\n').pop());
  }

  saveLog(name) {
    fs.mkdirSync(artifactsDir, { recursive: true });
    fs.writeFileSync(path.join(artifactsDir, `${name}-server.log`), this.output);
  }

  async stop() {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await this.exited;
      clearTimeout(timer);
    }
    if (this.killOnExit) process.off('exit', this.killOnExit);
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** A JWT as the Notify clients make it: iss the service id, iat now, HS256 with the key's secret. */
function jwt(key) {
  const serviceId = key.slice(-73, -37);
  const secret = key.slice(-36);
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${enc({ typ: 'JWT', alg: 'HS256' })}.${enc({ iss: serviceId, iat: Math.floor(Date.now() / 1000) })}`;
  return `${input}.${crypto.createHmac('sha256', secret).update(input).digest('base64url')}`;
}

async function api(server, credential, method, pathname, status, body) {
  const res = await fetch(new URL(pathname, server.baseURL), {
    method,
    headers: { Authorization: `Bearer ${credential}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(commandTimeout),
  });
  const text = await res.text();
  assert.equal(res.status, status, `${method} ${pathname} answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

/** A live service with a letter template, two letters sent through the API, and a team member. */
async function setUp(server) {
  const service = await server.admin('create-service', '--name', 'Pay a fine', '--live');
  const { key } = await server.admin('create-api-key', '--service', service.id, '--type', 'live', '--name', 'browser tests');
  const template = await api(server, key, 'POST', '/api/notify/v1/templates', 201, {
    name: 'Fine reminder', type: 'letter', subject: 'Your fine', content: 'Dear ((name)),\n\nPlease pay your fine.', postage: 'second',
  });
  const letters = [];
  for (const [name, reference] of [['Ms A Person', 'fine-1'], ['Mr B Person', 'fine-2']]) {
    const sent = await api(server, jwt(key), 'POST', '/v2/notifications/letter', 201, {
      template_id: template.id, reference,
      personalisation: { address_line_1: name, address_line_2: '10 Downing Street', address_line_3: 'SW1A 2AA', name },
    });
    letters.push({ id: sent.id, name, reference });
  }
  const user = await server.admin('create-user', '--email', member, '--service', service.id,
    '--permissions', 'send_messages,view_activity');
  return { serviceId: service.id, key, letters, signIn: new URL(user.sign_in_url).pathname };
}

/** The API's status of a letter. */
async function apiStatus(server, svc, id) {
  return (await api(server, jwt(svc.key), 'GET', `/v2/notifications/${id}`, 200)).status;
}

function suiteOptions() {
  return { timeout: 180_000, ...skipUnlessReady() };
}

for (const javaScriptEnabled of [true, false]) {
  const name = javaScriptEnabled ? 'letters' : 'letters-nojs';
  describe(`letters to print and returned letters ${javaScriptEnabled ? 'with' : 'without'} JavaScript`, suiteOptions(), () => {
    const j = journey(name);
    let browser;
    let page;
    let visitor;
    let svc;
    let lettersURL;

    before(async () => {
      assertPrerequisites();
      const server = new ProductionServer(await freePort());
      j.server = server;
      await server.start();
      svc = await setUp(server);
      lettersURL = `/admin/services/${svc.serviceId}/notify/letters`;
      browser = await launchBrowser();
      ({ page } = await openPage(browser, { javaScriptEnabled }));
      j.page = page;
      visitor = new Visitor(page, server, { name, javaScriptEnabled });
    });

    after(async () => {
      await browser?.close();
      await j.server?.stop();
    });

    const batchRow = () => page.locator('#print-batches tbody tr').first();

    it('the team member signs in and finds the letters waiting', step, j.step('sign in', async (t) => {
      await visitor.goto(t, svc.signIn);
      await visitor.click(t, page.getByRole('button', { name: 'Continue' }));
      await page.getByLabel('Choose a password').fill(password);
      await visitor.click(t, page.getByRole('button', { name: 'Save password' }));
      await visitor.goto(t, lettersURL);
      await expectHeading(page, 'Letters to print');
      assert.equal(await page.locator('#letters-waiting').innerText(), '2 letters are waiting to be printed.');
      assert.equal(await page.locator('#print-batches').count(), 0, 'no batch has been downloaded yet');
      for (const l of svc.letters) assert.equal(await apiStatus(j.server, svc, l.id), 'accepted');
    }));

    it('downloads the print batch, which is then listed to be marked', step, j.step('download', async (t) => {
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Download the print batch (2 letters)' }).click(),
      ]);
      assert.match(download.suggestedFilename(), /^print-batch-\d{4}-\d\d-\d\d\.zip$/);
      const zip = fs.readFileSync(await download.path());
      assert.equal(zip.subarray(0, 2).toString(), 'PK');
      for (const l of svc.letters) assert.ok(zip.includes(Buffer.from(`${l.id}.pdf`)), `the zip lacks ${l.id}.pdf`);
      await download.delete();

      await visitor.goto(t, lettersURL);
      assert.match(await batchRow().innerText(), /by print-room@example\.gov\.uk\s+2\s+Downloaded/);
    }));

    it('marks the batch as sent to print', step, j.step('sent to print', async (t) => {
      await visitor.click(t, batchRow().getByRole('button', { name: /^Mark as sent to print/ }));
      await expectBanner(page, '2 letters marked as sent to print');
      await expectHeading(page, 'Letters to print');
      assert.equal(await page.locator('#letters-waiting').innerText(), 'No letters are waiting to be printed.');
      assert.match(await batchRow().innerText(), /Sent to print/);
      // Sent to print is still "accepted" to the API (notify.md §4.3).
      for (const l of svc.letters) assert.equal(await apiStatus(j.server, svc, l.id), 'accepted');
    }));

    it('marks the batch as posted', step, j.step('posted', async (t) => {
      await visitor.click(t, batchRow().getByRole('button', { name: /^Mark as posted/ }));
      await expectBanner(page, '2 letters marked as posted');
      assert.match(await batchRow().innerText(), /Posted/);
      assert.equal(await batchRow().getByRole('button').count(), 0, 'a posted batch has nothing left to mark');
      for (const l of svc.letters) assert.equal(await apiStatus(j.server, svc, l.id), 'received');
    }));

    it('records a returned letter, after an empty form is refused', step, j.step('returned', async (t) => {
      await visitor.click(t, page.getByRole('link', { name: 'Record letters that were returned to you' }));
      await expectHeading(page, 'Returned letters');
      assert.equal(await page.getByText('No letters have been recorded as returned.').count(), 1);
      await visitor.click(t, page.getByRole('button', { name: 'Record returned letters' }), { status: 422 });
      assert.deepEqual(await expectErrorSummary(page, ['letters']),
        ['Enter the notification ID or reference of at least one returned letter']);

      const [returned] = svc.letters;
      await page.getByLabel('Notification IDs or references').fill(`${returned.reference}\nnot-a-letter`);
      await visitor.click(t, page.getByRole('button', { name: 'Record returned letters' }));
      await expectBanner(page, '1 letter recorded as returned');
      const results = await page.locator('#returned-results').innerText();
      assert.match(results, new RegExp(`${returned.reference}\\s+${returned.name}\\s+Recorded as returned`));
      assert.match(results, /not-a-letter\s+Not recorded: no letter has this notification ID or reference/);
      assert.match(await page.locator('#returned-letters').innerText(), new RegExp(`${returned.name}\\s+${returned.reference}`));
      // Returned letters still show as "received" in the API, as in GOV.UK Notify.
      assert.equal(await apiStatus(j.server, svc, returned.id), 'received');

      await visitor.click(t, page.locator('#returned-letters').getByRole('link', { name: returned.name }));
      await expectHeading(page, `Letter to ${returned.name}`);
      assert.match(await page.locator('main').innerText(), /Returned to the service, recorded by print-room@example\.gov\.uk/);
      t.diagnostic(`axe checked ${visitor.checked.length} pages`);
    }));
  });
}
