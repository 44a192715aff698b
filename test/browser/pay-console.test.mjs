// Pay's console pages and payment links in a real browser, with axe-core checking every page:
// the provider settings, the transactions list with its search, a payment's own page, a
// refund with the form's error state, the reconciliation report, making a payment link, and a
// payer following that link up to the card details page. The suite runs with JavaScript and
// again without it, since every one of these pages must work without.
//
// The payments are made as a service makes them: a test API key from the admin command line,
// and the /v1 API. The payment to refund is taken with the MOTO API (card details sent by the
// service), which the settings page turns on first, so that it is captured without going
// through the card pages, which have their own suite (pay.test.js).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  Visitor,
  assertPrerequisites,
  expectBanner,
  expectErrorSummary,
  expectHeading,
  journey,
  launchBrowser,
  openPage,
  skipUnlessReady,
  sleep,
  startCommons,
} from './harness.js';

const run = promisify(execFile);
const commandTimeout = 15_000;
const step = { timeout: 60_000 };
const password = 'correct horse battery staple';
const serviceName = 'Park your car';

/** A service with a test API key, made with the admin command line. */
async function setUpService(server) {
  const admin = async (...args) => {
    const { stdout } = await run(process.env.COMMONS_BIN,
      ['admin', ...args, '--database', `sqlite:${path.join(server.dataDir, 'commons.db')}`, '--data-dir', server.dataDir, '--dev'],
      { timeout: commandTimeout });
    return JSON.parse(stdout.trim().split('\n').pop());
  };
  const service = await admin('create-service', '--name', serviceName);
  const { key } = await admin('create-api-key', '--service', service.id, '--type', 'test', '--name', 'browser tests');
  return { id: service.id, key };
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

for (const javaScriptEnabled of [true, false]) {
  const name = javaScriptEnabled ? 'pay-console' : 'pay-console-nojs';
  describe(`Pay console pages ${javaScriptEnabled ? 'with' : 'without'} JavaScript`, { timeout: 300_000, ...skipUnlessReady() }, () => {
    const j = journey(name);
    let browser;
    let page;
    let admin;
    let svc;
    let refundable;

    const sections = () => page.getByRole('navigation', { name: 'Service sections' });
    const payNav = () => page.getByRole('navigation', { name: 'Payments', exact: true });

    before(async () => {
      assertPrerequisites();
      j.server = await startCommons();
      svc = await setUpService(j.server);
      browser = await launchBrowser();
      ({ page } = await openPage(browser, { javaScriptEnabled }));
      j.page = page;
      admin = new Visitor(page, j.server, { name, javaScriptEnabled });
    });

    after(async () => {
      await browser?.close();
      await j.server?.stop();
    });

    it('the admin signs in and opens the service’s payments', step, j.step('sign in', async (t) => {
      await admin.goto(t, j.server.signInLink);
      await admin.click(t, page.getByRole('button', { name: 'Continue' }));
      await page.getByLabel('Choose a password').fill(password);
      await admin.click(t, page.getByRole('button', { name: 'Save password' }));
      await admin.goto(t, `/admin/services/${svc.id}`);
      await admin.click(t, sections().getByRole('link', { name: 'Payments', exact: true }));
      await expectHeading(page, 'Transactions');
      assert.match(await page.locator('main').innerText(), /There are no payments here yet/);
    }));

    it('settings: a bad secret key is refused, then MOTO through the API is turned on', step, j.step('settings', async (t) => {
      await admin.click(t, payNav().getByRole('link', { name: 'Settings' }));
      await expectHeading(page, 'Payment settings');
      assert.match(await page.locator('#stripe-key-status').innerText(), /not saved/);
      await page.getByLabel('Stripe secret key').fill('pk_live_this-is-a-publishable-key');
      await admin.click(t, page.getByRole('button', { name: 'Save settings' }), { status: 422 });
      assert.deepEqual(await expectErrorSummary(page, ['stripe_key']),
        ['Enter a Stripe secret key, starting sk_live_, sk_test_, rk_live_ or rk_test_']);
      assert.equal(await page.getByLabel('Stripe secret key').inputValue(), '', 'a refused key is not sent back');
      await page.getByLabel('Card details sent through the API').check();
      await admin.click(t, page.getByRole('button', { name: 'Save settings' }));
      await expectBanner(page, 'Payment settings saved');
      assert.ok(await page.getByLabel('Card details sent through the API').isChecked());
    }));

    it('payments made through the API show in the list, and the search narrows it', step, j.step('transactions', async (t) => {
      // One payment taken with card details sent by the service, captured by the capture job.
      const moto = await api(j.server, svc.key, 'POST', '/v1/payments', 201, {
        amount: 4000, reference: 'PCN-1001', description: 'Penalty charge notice', authorisation_mode: 'moto_api', email: 'driver@example.com',
      });
      await api(j.server, null, 'POST', '/v1/auth', 204, {
        one_time_token: moto._links.auth_url_post.params.one_time_token, card_number: '4242424242424242', cvc: '123',
        expiry_date: '12/30', cardholder_name: 'Dora Driver',
      });
      refundable = moto.payment_id;
      // Two that the payers have not paid yet.
      for (const reference of ['PCN-1002', 'PCN-1003']) {
        await api(j.server, svc.key, 'POST', '/v1/payments', 201, {
          amount: 6500, reference, description: 'Penalty charge notice', return_url: `${j.server.baseURL}/admin`,
        });
      }
      for (let i = 0; ; i++) {
        const p = await api(j.server, svc.key, 'GET', `/v1/payments/${refundable}`, 200);
        if (p.refund_summary.status === 'available') break;
        assert.ok(i < 100, `the MOTO payment was not captured: ${JSON.stringify(p.state)}, refunds ${p.refund_summary.status}`);
        await sleep(100);
      }

      await admin.click(t, payNav().getByRole('link', { name: 'Transactions' }));
      await expectHeading(page, 'Transactions');
      assert.match(await page.locator('#result-count').innerText(), /Showing 1 to 3 of 3 payments/);
      await page.getByLabel('Reference').fill('PCN-1001');
      await admin.click(t, page.getByRole('button', { name: 'Search' }));
      assert.match(await page.locator('#result-count').innerText(), /Showing 1 to 1 of 1 payment\b/);
      assert.match(await page.locator('#payments').innerText(), /PCN-1001[\s\S]*driver@example\.com[\s\S]*£40\.00[\s\S]*Visa ending 4242[\s\S]*Success/);

      await page.getByLabel('Card number').fill('42a');
      await admin.click(t, page.getByRole('button', { name: 'Search' }), { status: 422 });
      assert.deepEqual(await expectErrorSummary(page, ['last_digits']), ['Enter the last 4 digits of the card, like 4242']);
      await page.getByLabel('Card number').fill('4242');
      await admin.click(t, page.getByRole('button', { name: 'Search' }));
      assert.equal(await page.locator('#payments tbody tr').count(), 1);
    }));

    it('a payment’s page shows its history, and it is refunded after a refused amount', step, j.step('refund', async (t) => {
      await admin.click(t, page.getByRole('link', { name: 'PCN-1001' }));
      await expectHeading(page, 'PCN-1001');
      const history = await page.locator('#history').innerText();
      for (const event of ['Payment created', 'Authorisation succeeded', 'Capture confirmed']) {
        assert.ok(history.includes(event), `the history lacks ${event}: ${history}`);
      }
      await admin.click(t, page.getByRole('button', { name: 'Refund payment' }));
      await expectHeading(page, 'Refund payment');
      await page.getByLabel('Amount to refund').fill('40.01');
      await admin.click(t, page.getByRole('button', { name: 'Refund' }), { status: 422 });
      assert.deepEqual(await expectErrorSummary(page, ['amount']), ['The amount to refund must be £40.00 or less']);
      await page.getByLabel('Amount to refund').fill('12.50');
      await admin.click(t, page.getByRole('button', { name: 'Refund' }));
      await expectBanner(page, 'Refunded £12.50');
      assert.match(await page.locator('#refunds').innerText(), /£12\.50[\s\S]*Refunded/);
      assert.match(await page.locator('#payment-summary').innerText(), /£27\.50 can still be refunded/);
    }));

    it('the reconciliation report adds up the money that moved', step, j.step('reconciliation', async (t) => {
      await admin.click(t, payNav().getByRole('link', { name: 'Reconciliation' }));
      await expectHeading(page, 'Reconciliation');
      assert.equal((await page.locator('#captured').innerText()).trim(), '£40.00');
      assert.equal((await page.locator('#refunded').innerText()).trim(), '-£12.50');
      assert.equal((await page.locator('#net').innerText()).trim(), '£27.50');
      await page.getByLabel('From').fill('2026-02-01');
      await page.getByLabel('To', { exact: true }).fill('2026-01-01');
      await admin.click(t, page.getByRole('button', { name: 'Show the report' }), { status: 422 });
      await expectErrorSummary(page, ['to']);
    }));

    it('a payment link is made, after its form shows what is missing', step, j.step('make a link', async (t) => {
      await admin.click(t, payNav().getByRole('link', { name: 'Payment links' }));
      await expectHeading(page, 'Payment links');
      await admin.click(t, page.getByRole('button', { name: 'Make a payment link' }));
      await expectHeading(page, 'Make a payment link');
      await page.getByLabel('Ask the person paying for a reference').check();
      await admin.click(t, page.getByRole('button', { name: 'Make the link' }), { status: 422 });
      assert.deepEqual(await expectErrorSummary(page, ['title', 'reference_label']),
        ['Enter a title', 'Enter what the reference is called, like Invoice number']);
      await page.getByLabel('Title').fill('Pay a parking fine');
      await page.getByLabel('Name of the reference (if you ask for one)').fill('Penalty notice number');
      await admin.click(t, page.getByRole('button', { name: 'Make the link' }));
      await expectBanner(page, `Payment link made: ${j.server.baseURL}/pay/link/pay-a-parking-fine`);
      assert.match(await page.locator('#links').innerText(), /Pay a parking fine[\s\S]*Payer enters[\s\S]*Penalty notice number[\s\S]*Active/);
    }));

    it('a payer follows the link to the card details page', step, j.step('pay by link', async (t) => {
      const payerPage = await openPage(browser, { javaScriptEnabled });
      try {
        const payer = new Visitor(payerPage.page, j.server, { name: `${name}-payer`, javaScriptEnabled });
        const p = payerPage.page;
        await payer.goto(t, '/pay/link/pay-a-parking-fine');
        await expectHeading(p, 'Pay a parking fine');
        assert.equal(await p.locator('script').count(), 0, 'the page loads a script');
        assert.ok((await p.locator('header').innerText()).includes(serviceName));
        await payer.click(t, p.getByRole('button', { name: 'Continue' }), { status: 422 });
        assert.deepEqual(await expectErrorSummary(p, ['reference', 'amount']),
          ['Enter your penalty notice number', 'Enter the amount to pay']);
        await p.getByLabel('Penalty notice number').fill('4242 4242 4242 4242');
        await p.getByLabel('Amount to pay').fill('30');
        await payer.click(t, p.getByRole('button', { name: 'Continue' }), { status: 422 });
        assert.deepEqual(await expectErrorSummary(p, ['reference']),
          ['Do not enter a card number here. Enter your penalty notice number']);
        await p.getByLabel('Penalty notice number').fill('PN 778899');
        await payer.click(t, p.getByRole('button', { name: 'Continue' }));
        await expectHeading(p, 'Check your payment details');
        assert.match(await p.locator('#payment-details').innerText(), /Pay a parking fine[\s\S]*PN 778899[\s\S]*£30\.00/);
        await payer.click(t, p.getByRole('button', { name: 'Continue to payment' }));
        assert.match(new URL(p.url()).pathname, /^\/pay\/card_details\/[0-9a-v]{26}$/);
        await expectHeading(p, 'Enter card details');
        assert.ok((await p.locator('main').innerText()).includes('£30.00'));
        await payer.close();
      } finally {
        await payerPage.context.close();
      }

      // The team sees the payment, made through the link.
      await admin.click(t, payNav().getByRole('link', { name: 'Transactions' }));
      const list = await page.locator('#payments').innerText();
      assert.match(list, /PN 778899[\s\S]*Payment link/);
    }));
  });
}
