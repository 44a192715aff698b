// The pages a citizen reaches from an email that carries a file (GOV.UK Notify's "send a file by
// email"), in a real browser, with and without JavaScript, axe-core checking every page: the
// explanation at /d/, an invalid link, the email address check with its error states, the
// download itself, and the lock after too many wrong addresses.
//
// Set-up is what a service team and an operator have: the admin command line for the service
// and its key, the management API for the template, the /v2 API (with a JWT signed as the
// official clients sign it) for the emails, and direct SQL only for the service's contact
// link, which no API sets yet. The download link is read from the /v2 response, as the email
// body carries it.

import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  Visitor,
  assertPrerequisites,
  expectErrorSummary,
  expectHeading,
  journey,
  launchBrowser,
  openPage,
  skipUnlessReady,
  startCommons,
} from './harness.js';

const run = promisify(execFile);
const commandTimeout = 15_000;
const step = { timeout: 30_000 };

const serviceName = 'Apply for a permit';
const contactLink = 'https://example.gov.uk/contact';
const recipient = 'person@example.com';
const fileBytes = 'reference,amount\nAB-123,42\n';

/** Why SQL cannot be run on the server's database, or null when it can. */
function sqliteMissing() {
  try {
    execFileSync('sqlite3', ['-version'], { stdio: 'ignore', timeout: commandTimeout });
    return null;
  } catch {
    return 'the sqlite3 command is not on PATH (apt-get install sqlite3)';
  }
}

/** Skips the suite when a prerequisite is missing, unless COMMONS_REQUIRE_ALL=1 (see harness.js). */
function suiteOptions() {
  const base = skipUnlessReady();
  if (base.skip) return base;
  const missing = sqliteMissing();
  if (missing && process.env.COMMONS_REQUIRE_ALL !== '1') return { skip: missing };
  return {};
}

/** A service with a live key, a file template and a contact link, on a running server. */
async function setUpService(server) {
  const database = path.join(server.dataDir, 'commons.db');
  const admin = async (...args) => {
    const { stdout } = await run(process.env.COMMONS_BIN,
      ['admin', ...args, '--database', `sqlite:${database}`, '--data-dir', server.dataDir, '--dev'], { timeout: commandTimeout });
    return JSON.parse(stdout.trim().split('\n').pop());
  };
  const service = await admin('create-service', '--name', serviceName, '--live');
  const { key } = await admin('create-api-key', '--service', service.id, '--type', 'live', '--name', 'browser tests');
  const quote = (s) => `'${String(s).replace(/'/g, "''")}'`;
  await run('sqlite3', ['-bail', '-batch', '-cmd', '.timeout 10000', database,
    `INSERT INTO notify_settings (service_id, contact_link, updated_at) VALUES (${quote(service.id)}, ${quote(contactLink)}, ${quote(new Date().toISOString())})`],
  { timeout: commandTimeout });
  const template = await api(server, key, 'POST', '/api/notify/v1/templates', 201, {
    name: 'Your file', type: 'email', subject: 'Your file', content: 'Download your file: ((link_to_file))',
  });
  return { serviceId: service.id, key, templateId: template.id };
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

/** Sends the file template with a file and returns the download link the email carries. */
async function sendFile(server, svc, file) {
  const sent = await api(server, jwt(svc.key), 'POST', '/v2/notifications/email', 201, {
    email_address: recipient, template_id: svc.templateId, personalisation: { link_to_file: file },
  });
  const link = sent.content.body.match(/(https?:\/\/\S+\/d\/[0-9a-f-]{36}\?key=[A-Za-z0-9_-]+)/);
  assert.ok(link, `the email carries no download link: ${sent.content.body}`);
  return link[1];
}

const csv = () => ({ file: Buffer.from(fileBytes).toString('base64'), filename: 'payments.csv' });

for (const javaScriptEnabled of [true, false]) {
  const name = javaScriptEnabled ? 'documents' : 'documents-nojs';
  describe(`download pages ${javaScriptEnabled ? 'with' : 'without'} JavaScript`, { timeout: 180_000, ...suiteOptions() }, () => {
    const j = journey(name);
    let browser;
    let page;
    let visitor;
    let svc;

    before(async () => {
      assertPrerequisites();
      const missing = sqliteMissing();
      if (missing) throw new Error(`COMMONS_REQUIRE_ALL=1 and the download page tests cannot run: ${missing}`);
      j.server = await startCommons();
      svc = await setUpService(j.server);
      browser = await launchBrowser();
      ({ page } = await openPage(browser, { javaScriptEnabled }));
      j.page = page;
      visitor = new Visitor(page, j.server, { name, javaScriptEnabled });
    });

    after(async () => {
      await browser?.close();
      await j.server?.stop();
    });

    it('explains where download links come from', step, j.step('about', async (t) => {
      await visitor.goto(t, '/d/');
      await expectHeading(page, 'Download a file');
    }));

    it('a link with a wrong key says only that it is not valid', step, j.step('invalid link', async (t) => {
      const link = await sendFile(j.server, svc, { ...csv(), confirm_email_before_download: false });
      const wrong = new URL(link);
      wrong.searchParams.set('key', 'not-the-key');
      await visitor.goto(t, wrong.pathname + wrong.search, { status: 404 });
      await expectHeading(page, 'This link has expired or is not valid');
      const text = await page.locator('main').innerText();
      assert.ok(!text.includes(serviceName) && !text.includes('payments.csv'), `the page reveals the file: ${text}`);
    }));

    it('asks for the email address the file was sent to, refusing a blank and a wrong one', step, j.step('confirm', async (t) => {
      const link = await sendFile(j.server, svc, csv());
      await visitor.goto(t, new URL(link).pathname + new URL(link).search);
      await expectHeading(page, 'Confirm your email address');
      await visitor.click(t, page.getByRole('button', { name: 'Continue' }), { status: 422 });
      assert.deepEqual(await expectErrorSummary(page, ['email_address']), ['Enter your email address']);
      await page.getByLabel('Confirm your email address').fill('someone.else@example.com');
      await visitor.click(t, page.getByRole('button', { name: 'Continue' }), { status: 422 });
      const [message] = await expectErrorSummary(page, ['email_address']);
      assert.equal(message, 'This is not the email address the file was sent to. You can try 4 more times');
      await page.getByLabel('Confirm your email address').fill(recipient.toUpperCase());
      await visitor.click(t, page.getByRole('button', { name: 'Continue' }));
      await expectHeading(page, 'Download your file');
      assert.ok((await page.locator('main').innerText()).includes(`${serviceName} sent you a file.`));
      assert.equal(await page.getByRole('link', { name: contactLink }).getAttribute('href'), contactLink);
    }));

    it('downloads the file under its own name', step, j.step('download', async () => {
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: /^Download payments\.csv \(CSV file, \d+ bytes\)$/ }).click(),
      ]);
      assert.equal(download.suggestedFilename(), 'payments.csv');
      assert.equal(fs.readFileSync(await download.path(), 'utf8'), fileBytes);
      await download.delete();
    }));

    it('locks the file after five wrong addresses', step, j.step('lockout', async (t) => {
      const link = await sendFile(j.server, svc, csv());
      await visitor.goto(t, new URL(link).pathname + new URL(link).search);
      for (let i = 1; i <= 4; i++) {
        await page.getByLabel('Confirm your email address').fill(`guess${i}@example.com`);
        await visitor.click(t, page.getByRole('button', { name: 'Continue' }), { status: 422 });
      }
      await page.getByLabel('Confirm your email address').fill('guess5@example.com');
      await visitor.click(t, page.getByRole('button', { name: 'Continue' }), { status: 403 });
      await expectHeading(page, 'You cannot download this file');
      // The right address no longer helps: the link itself now shows the lock.
      await visitor.goto(t, new URL(link).pathname + new URL(link).search, { status: 403 });
      await expectHeading(page, 'You cannot download this file');
    }));
  });
}
