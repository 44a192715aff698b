// The hosted card payment pages (GOV.UK Pay's payer journey) in a real browser, with axe-core
// checking every page: a successful payment with the card form's error states, a declined card,
// a 3-D Secure challenge, a cancel, a payment the service cancelled while the payer was on it,
// a payment link opened in a second browser, and the whole journey in Welsh. The pages load no
// script, so the suite runs with JavaScript and again without it.
//
// Set-up is what a service team has: the admin command line for the service and a test API key,
// and the /v1 API (the GOV.UK Pay wire format) to create each payment and read its outcome. The
// payer follows next_url from the API's answer, and comes back to return_url on a small
// stand-in for the service's own site, on another origin, as in real life.
//
// An expired payment is not walked here: a payment expires 90 minutes after it was made, the
// binary has no clock to move, and nothing but the expiry sweep may expire one. The Go tests
// (internal/pay/pages_test.go) expire a payment with a moved clock and check its page; here the
// same outcome page is checked through the closest supported path, a payment the service
// cancels while the payer has it open.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  Visitor,
  assertPrerequisites,
  expectErrorSummary,
  expectHeading,
  freePort,
  journey,
  launchBrowser,
  navigationTimeout,
  openPage,
  skipUnlessReady,
  startCommons,
} from './harness.js';

const run = promisify(execFile);
const commandTimeout = 15_000;
const step = { timeout: 30_000 };

const serviceName = 'Apply for a fishing licence';

/** A service with a test API key (test keys always pay through the sandbox). */
async function setUpService(server) {
  const admin = async (...args) => {
    const { stdout } = await run(process.env.COMMONS_BIN,
      ['admin', ...args, '--database', `sqlite:${path.join(server.dataDir, 'commons.db')}`, '--data-dir', server.dataDir, '--dev'],
      { timeout: commandTimeout });
    return JSON.parse(stdout.trim().split('\n').pop());
  };
  const service = await admin('create-service', '--name', serviceName);
  const { key } = await admin('create-api-key', '--service', service.id, '--type', 'test', '--name', 'browser tests');
  return { key };
}

async function api(server, key, method, pathname, status, body) {
  const res = await fetch(new URL(pathname, server.baseURL), {
    method,
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', Accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(commandTimeout),
  });
  const text = await res.text();
  assert.equal(res.status, status, `${method} ${pathname} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/**
 * The service's own site: where return_url leads. It answers every path with a small,
 * accessible page, and remembers which paths the payer came back to.
 */
async function startServiceSite() {
  const port = await freePort();
  const visits = [];
  const server = http.createServer((req, res) => {
    visits.push(req.url);
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!DOCTYPE html><html lang="en"><head><title>Back at the service</title></head>
<body><main><h1>Back at the service</h1><p>The service checks the payment with the API.</p></main></body></html>`);
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${port}`, visits, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** The card form as a payer fills it in, by the labels on the page. */
async function fillCard(page, number, labels = english) {
  const field = (label) => page.getByLabel(label, { exact: true });
  await field(labels.cardNumber).fill(number);
  await field(labels.month).fill('12');
  await field(labels.year).fill('2030');
  await field(labels.name).fill('Izaak Walton');
  await field(labels.cvc).fill('123');
  await field(labels.line1).fill('1 River Lane');
  await field(labels.city).fill('Stafford');
  await field(labels.postcode).fill('ST16 2AA');
  await field(labels.country).selectOption('GB');
  await field(labels.email).fill('izaak@example.com');
}

const english = {
  cardNumber: 'Card number', month: 'Month', year: 'Year', name: 'Name on card', cvc: 'Card security code',
  line1: 'Address line 1', city: 'Town or city', postcode: 'Postcode', country: 'Country or territory',
  email: 'Email address', continue: 'Continue', confirm: 'Confirm payment', cancel: 'Cancel payment',
};

const welsh = {
  cardNumber: 'Rhif y cerdyn', month: 'Mis', year: 'Blwyddyn', name: 'Enw ar y cerdyn', cvc: 'Cod diogelwch y cerdyn',
  line1: 'Llinell gyntaf y cyfeiriad', city: 'Tref neu ddinas', postcode: 'Cod post', country: 'Gwlad neu diriogaeth',
  email: 'Cyfeiriad e-bost', continue: 'Parhau', confirm: 'Cadarnhau’r taliad', cancel: 'Canslo’r taliad',
};

for (const javaScriptEnabled of [true, false]) {
  const name = javaScriptEnabled ? 'pay' : 'pay-nojs';
  describe(`card payment pages ${javaScriptEnabled ? 'with' : 'without'} JavaScript`, { timeout: 240_000, ...skipUnlessReady() }, () => {
    const j = journey(name);
    let browser;
    let page;
    let visitor;
    let svc;
    let site;

    /** Creates a payment and returns its id and next_url's path. */
    async function createPayment(extra = {}) {
      const body = await api(j.server, svc.key, 'POST', '/v1/payments', 201, {
        amount: 2550, reference: 'FL-1001', description: 'Annual fishing licence', return_url: `${site.url}/done`, ...extra,
      });
      return { id: body.payment_id, next: new URL(body._links.next_url.href).pathname };
    }

    async function state(id) {
      return (await api(j.server, svc.key, 'GET', `/v1/payments/${id}`, 200)).state;
    }

    /** Presses a button whose form ends at the service's site, and waits to arrive there. */
    async function backToService(button) {
      await Promise.all([page.waitForURL((u) => u.href.startsWith(site.url), { timeout: navigationTimeout }), button.click()]);
      assert.equal(new URL(page.url()).pathname, '/done');
      await expectHeading(page, 'Back at the service');
    }

    before(async () => {
      assertPrerequisites();
      j.server = await startCommons();
      svc = await setUpService(j.server);
      site = await startServiceSite();
      browser = await launchBrowser();
      ({ page } = await openPage(browser, { javaScriptEnabled }));
      j.page = page;
      visitor = new Visitor(page, j.server, { name, javaScriptEnabled });
    });

    after(async () => {
      await browser?.close();
      await site?.close();
      await j.server?.stop();
    });

    it('takes a payment, after showing what is wrong with the card form', step, j.step('success', async (t) => {
      const { id, next } = await createPayment();
      await visitor.goto(t, next);
      await expectHeading(page, 'Enter card details');
      assert.equal(await page.locator('html').getAttribute('lang'), 'en');
      const main = await page.locator('main').innerText();
      assert.ok(main.includes('Annual fishing licence') && main.includes('£25.50'), main);
      assert.ok((await page.locator('header').innerText()).includes(serviceName));
      assert.equal(await page.locator('script').count(), 0, 'the page loads a script');

      await visitor.click(t, page.getByRole('button', { name: 'Continue' }), { status: 422 });
      assert.deepEqual(await expectErrorSummary(page,
        ['cardNo', 'expiryMonth', 'cardholderName', 'cvc', 'addressLine1', 'addressCity', 'addressPostcode', 'email']), [
        'Enter your card number', 'Enter the expiry date', 'Enter the name as it appears on the card',
        'Enter the card security code', 'Enter the first line of your billing address', 'Enter your town or city',
        'Enter your postcode', 'Enter your email address',
      ]);

      await fillCard(page, '4444 3333 2222 1112');
      await page.getByLabel('Card security code', { exact: true }).fill('99');
      await visitor.click(t, page.getByRole('button', { name: 'Continue' }), { status: 422 });
      assert.deepEqual(await expectErrorSummary(page, ['cardNo', 'cvc']),
        ['Enter a valid card number', 'Card security code must be 3 or 4 digits']);
      // What the payer typed is kept, except the card number and security code.
      assert.equal(await page.getByLabel('Card number', { exact: true }).inputValue(), '');
      assert.equal(await page.getByLabel('Card security code', { exact: true }).inputValue(), '');
      assert.equal(await page.getByLabel('Name on card', { exact: true }).inputValue(), 'Izaak Walton');
      assert.equal(await page.getByLabel('Postcode', { exact: true }).inputValue(), 'ST16 2AA');

      await page.getByLabel('Card number', { exact: true }).fill('4444 3333 2222 1111');
      await page.getByLabel('Card security code', { exact: true }).fill('123');
      await visitor.click(t, page.getByRole('button', { name: 'Continue' }));
      await expectHeading(page, 'Confirm your payment');
      const summary = await page.locator('main').innerText();
      for (const text of ['1111', '12/30', 'Izaak Walton', '1 River Lane', 'ST16 2AA', 'United Kingdom', 'izaak@example.com', '£25.50']) {
        assert.ok(summary.includes(text), `the confirm page lacks ${text}: ${summary}`);
      }
      assert.ok(!summary.includes('4444 3333') && !summary.includes('4444333322221111'), summary);

      await backToService(page.getByRole('button', { name: 'Confirm payment' }));
      assert.equal((await state(id)).status, 'success');
    }));

    it('shows a declined card, with a way back to the service', step, j.step('declined', async (t) => {
      const { id, next } = await createPayment();
      await visitor.goto(t, next);
      await fillCard(page, '4000000000000002');
      await visitor.click(t, page.getByRole('button', { name: 'Continue' }));
      await expectHeading(page, 'Your payment has been declined');
      assert.deepEqual(await state(id), { status: 'failed', finished: true, message: 'Payment method rejected', code: 'P0010' });
      await Promise.all([page.waitForURL((u) => u.href.startsWith(site.url)), page.getByRole('button', { name: 'Continue' }).click()]);
      assert.equal(new URL(page.url()).pathname, '/done');
    }));

    it('takes the payer through a 3-D Secure challenge', step, j.step('3ds', async (t) => {
      const { id, next } = await createPayment();
      await visitor.goto(t, next);
      await fillCard(page, '4000002500003155');
      await visitor.click(t, page.getByRole('button', { name: 'Continue' }));
      await expectHeading(page, 'Your bank needs to check it is you');
      await visitor.click(t, page.getByRole('button', { name: 'Pass', exact: true }));
      await expectHeading(page, 'Confirm your payment');
      await backToService(page.getByRole('button', { name: 'Confirm payment' }));
      assert.equal((await state(id)).status, 'success');
    }));

    it('lets the payer cancel', step, j.step('cancel', async (t) => {
      const { id, next } = await createPayment();
      await visitor.goto(t, next);
      await visitor.click(t, page.getByRole('button', { name: 'Cancel payment' }));
      await expectHeading(page, 'Your payment has been cancelled');
      assert.equal((await state(id)).code, 'P0030');
      assert.equal(await page.getByRole('button', { name: 'Continue' }).getAttribute('href'), `${site.url}/done`);
    }));

    it('shows a payment the service ended while the payer had it open', step, j.step('ended by the service', async (t) => {
      const { id, next } = await createPayment();
      await visitor.goto(t, next);
      await api(j.server, svc.key, 'POST', `/v1/payments/${id}/cancel`, 204);
      await fillCard(page, '4444333322221111');
      await visitor.click(t, page.getByRole('button', { name: 'Continue' }));
      await expectHeading(page, 'Your payment has been cancelled');
      assert.equal((await state(id)).code, 'P0040');
    }));

    it('does not open a payment link in a second browser', step, j.step('link used', async (t) => {
      const { next } = await createPayment();
      await visitor.goto(t, next);
      const second = await openPage(browser, { javaScriptEnabled });
      try {
        const other = new Visitor(second.page, j.server, { name: `${name}-second`, javaScriptEnabled });
        await other.goto(t, next, { status: 403 });
        await expectHeading(second.page, 'This payment link cannot be used again');
        const text = await second.page.locator('main').innerText();
        assert.ok(!text.includes('Annual fishing licence') && !text.includes('£25.50'), text);
        await other.close();
      } finally {
        await second.context.close();
      }
      // The payer's own browser goes straight back to the payment.
      await visitor.goto(t, next);
      await expectHeading(page, 'Enter card details');
    }));

    it('speaks Welsh for a payment in Welsh', step, j.step('welsh', async (t) => {
      const { id, next } = await createPayment({ language: 'cy' });
      await visitor.goto(t, next);
      await expectHeading(page, 'Rhowch fanylion y cerdyn');
      assert.equal(await page.locator('html').getAttribute('lang'), 'cy');
      await visitor.click(t, page.getByRole('button', { name: 'Parhau' }), { status: 422 });
      assert.equal((await page.locator('.govuk-error-summary__title').innerText()).trim(), 'Mae problem wedi codi');
      assert.ok((await page.title()).startsWith('Gwall: '), await page.title());
      assert.equal((await page.locator('.govuk-error-summary__list a').first().innerText()).trim(), 'Rhowch rif eich cerdyn');

      await fillCard(page, '4000002500003155', welsh);
      await visitor.click(t, page.getByRole('button', { name: 'Parhau' }));
      await expectHeading(page, 'Mae angen i’ch banc wirio mai chi sydd yno');
      await visitor.click(t, page.getByRole('button', { name: 'Pasio', exact: true }));
      await expectHeading(page, 'Cadarnhewch eich taliad');
      assert.ok((await page.locator('main').innerText()).includes('Y Deyrnas Unedig'));
      await backToService(page.getByRole('button', { name: 'Cadarnhau’r taliad' }));
      assert.equal((await state(id)).status, 'success');

      const declined = await createPayment({ language: 'cy' });
      await visitor.goto(t, declined.next);
      await fillCard(page, '4000000000000002', welsh);
      await visitor.click(t, page.getByRole('button', { name: 'Parhau' }));
      await expectHeading(page, 'Mae eich taliad wedi cael ei wrthod');

      const cancelled = await createPayment({ language: 'cy' });
      await visitor.goto(t, cancelled.next);
      await visitor.click(t, page.getByRole('button', { name: 'Canslo’r taliad' }));
      await expectHeading(page, 'Mae eich taliad wedi cael ei ganslo');
    }));
  });
}
