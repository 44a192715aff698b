// Notify's console pages in a real browser: templates of each kind previewed before they are
// saved, their versions and archiving, the settings pages (reply-to addresses, text message
// senders, letter contact blocks, sending, retention, guest list, callbacks), messages sent
// through the API and from the console showing up on the dashboard, in the sent messages and
// on their own pages, and the letters to print. axe-core checks every page on the way, error states included. The
// journey runs with JavaScript and without it, since every page must work without.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
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

const password = 'correct horse battery staple';
const organisation = 'Department for Testing';
const service = 'Report a pothole';
const guest = 'resident@example.com';
const step = { timeout: 30_000 };

describeNotifyJourney({ javaScriptEnabled: true });
describeNotifyJourney({ javaScriptEnabled: false });

function describeNotifyJourney({ javaScriptEnabled }) {
  const name = javaScriptEnabled ? 'notify' : 'notify-nojs';
  const title = `Notify console pages ${javaScriptEnabled ? 'with' : 'without'} JavaScript`;
  describe(title, { timeout: 300_000, ...skipUnlessReady() }, () => suite(name, javaScriptEnabled));
}

/**
 * A GOV.UK Notify API token for a key made in the console: an HS256 JWT whose issuer is the
 * service id, signed with the key's secret (the key ends with the service id and the secret).
 */
function apiToken(key) {
  const secret = key.slice(-36);
  const serviceId = key.slice(-73, -37);
  const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const unsigned = `${part({ typ: 'JWT', alg: 'HS256' })}.${part({ iss: serviceId, iat: Math.floor(Date.now() / 1000) })}`;
  return `${unsigned}.${crypto.createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

function suite(name, javaScriptEnabled) {
  const j = journey(name);
  let browser;
  let admin;
  let page;
  let notifyURL;
  let emailTemplateID;

  before(async () => {
    assertPrerequisites();
    j.server = await startCommons();
    browser = await launchBrowser();
    ({ page } = await openPage(browser, { javaScriptEnabled }));
    j.page = page;
    admin = new Visitor(page, j.server, { name, javaScriptEnabled });
  });

  after(async () => {
    await browser?.close();
    await j.server?.stop();
  });

  const menu = () => page.getByRole('navigation', { name: 'Menu' });
  const sections = () => page.getByRole('navigation', { name: 'Service sections' });
  const notifyNav = () => page.getByRole('navigation', { name: 'Notify' });
  const path = () => new URL(page.url()).pathname;

  it('the admin signs in and makes a service', step, j.step('sign in', async (t) => {
    await admin.goto(t, j.server.signInLink);
    await admin.click(t, page.getByRole('button', { name: 'Continue' }));
    await page.getByLabel('Choose a password').fill(password);
    await admin.click(t, page.getByRole('button', { name: 'Save password' }));
    await admin.click(t, menu().getByRole('link', { name: 'Organisations' }));
    await page.getByLabel('Organisation name').fill(organisation);
    await admin.click(t, page.getByRole('button', { name: 'Add organisation' }));
    await admin.click(t, menu().getByRole('link', { name: 'Services' }));
    await admin.click(t, page.getByRole('button', { name: 'Add a service' }));
    await page.getByLabel('Service name').fill(service);
    await page.getByLabel('Organisation', { exact: true }).selectOption({ label: organisation });
    await admin.click(t, page.getByRole('button', { name: 'Add service' }));
    await expectBanner(page, `Service created: ${service}`);
    assert.equal(await page.getByRole('link', { name: 'Notify' }).count(), 2, 'the navigation and the overview link to Notify');
  }));

  it('Notify opens on its dashboard, with nothing sent yet', step, j.step('dashboard', async (t) => {
    await admin.click(t, sections().getByRole('link', { name: 'Notify' }));
    notifyURL = path();
    assert.match(notifyURL, /^\/admin\/services\/[^/]+\/notify$/);
    await expectHeading(page, 'Dashboard');
    for (const channel of ['Emails', 'Text messages', 'Letters']) {
      assert.equal(await page.getByRole('heading', { name: channel, level: 2 }).count(), 1);
    }
    assert.match(await page.locator('#email-totals').innerText(), /^0 sent, 0 delivered, 0 failed$/);
    assert.equal(await page.getByRole('img').count(), 0, 'nothing sent, nothing to chart');
  }));

  it('settings: a reply-to address, after a refused one', step, j.step('reply-to', async (t) => {
    await admin.click(t, notifyNav().getByRole('link', { name: 'Settings' }));
    await expectHeading(page, 'Settings');
    await admin.click(t, page.getByRole('link', { name: 'Add a reply-to email address' }));
    await page.getByLabel('Email address', { exact: true }).fill('not an address');
    await admin.click(t, page.getByRole('button', { name: 'Add' }), { status: 422 });
    await expectErrorSummary(page, ['email_address']);
    await page.getByLabel('Email address', { exact: true }).fill('potholes@example.gov.uk');
    await admin.click(t, page.getByRole('button', { name: 'Add' }));
    await expectBanner(page, 'Added reply-to email address: potholes@example.gov.uk');
    const row = page.getByRole('row').filter({ hasText: 'potholes@example.gov.uk' });
    assert.match(await row.innerText(), /Default/i);
  }));

  it('settings: a text message sender and a letter contact block', step, j.step('senders', async (t) => {
    await admin.click(t, page.getByRole('link', { name: 'Add a text message sender' }));
    await page.getByLabel('Text message sender', { exact: true }).fill('POTHOLES');
    await admin.click(t, page.getByRole('button', { name: 'Add' }));
    await expectBanner(page, 'Added text message sender: POTHOLES');
    await admin.click(t, page.getByRole('link', { name: 'Add a letter contact block' }));
    await page.getByLabel('Contact block', { exact: true }).fill('Highways Team\n1 Road Street\nLeeds\nLS1 1AA');
    await admin.click(t, page.getByRole('button', { name: 'Add' }));
    await expectBanner(page, 'Added letter contact block: Highways Team');
  }));

  it('settings: sending, retention (after a refused figure) and the guest list', step, j.step('sending and retention', async (t) => {
    await admin.click(t, page.getByRole('link', { name: 'Change email sender name' }));
    await expectHeading(page, 'Sending settings');
    await page.getByLabel('Email sender name').fill('Highways Team');
    await page.getByRole('group', { name: 'Start text messages with the service name?' }).getByLabel('Yes').check();
    await admin.click(t, page.getByRole('button', { name: 'Save' }));
    await expectBanner(page, 'Sending settings saved');

    await admin.click(t, page.getByRole('link', { name: 'Change how long emails are kept' }));
    await page.getByLabel('Days to keep emails').fill('100');
    await admin.click(t, page.getByRole('button', { name: 'Save' }), { status: 422 });
    await expectErrorSummary(page, ['email_retention_days']);
    await page.getByLabel('Days to keep emails').fill('30');
    await admin.click(t, page.getByRole('button', { name: 'Save' }));
    await expectBanner(page, 'Data retention saved');

    await admin.click(t, page.getByRole('link', { name: 'Change the guest list' }));
    await page.getByLabel('Email addresses').fill(guest);
    await admin.click(t, page.getByRole('button', { name: 'Save' }));
    await expectBanner(page, 'Guest list saved');
    assert.equal(await page.getByRole('listitem').filter({ hasText: guest }).count(), 1);
  }));

  it('settings: a callback is saved and its token never shown again', step, j.step('callback', async (t) => {
    const token = 'a-long-enough-bearer-token';
    await admin.click(t, page.getByRole('link', { name: 'Set up delivery receipts callback' }));
    await expectHeading(page, 'Delivery receipts');
    await page.getByLabel('URL').fill('https://api.example.gov.uk/notify');
    await page.getByLabel('Bearer token').fill('short');
    await admin.click(t, page.getByRole('button', { name: 'Save' }), { status: 422 });
    await expectErrorSummary(page, ['bearer_token']);
    assert.equal(await page.getByLabel('Bearer token').inputValue(), '', 'a token is never redisplayed');
    await page.getByLabel('Bearer token').fill(token);
    await admin.click(t, page.getByRole('button', { name: 'Save' }));
    await expectBanner(page, 'Callback saved: Delivery receipts');
    assert.ok(!(await page.content()).includes(token), 'the settings page does not show the token');
    await admin.click(t, page.getByRole('link', { name: 'See every callback attempt' }));
    await expectHeading(page, 'Callback attempts');
  }));

  it('an email template: the kind is chosen, the preview shown before saving, errors reported', step, j.step('email template', async (t) => {
    await admin.click(t, notifyNav().getByRole('link', { name: 'Templates' }));
    await expectHeading(page, 'Templates');
    await admin.click(t, page.getByRole('button', { name: 'Add a new template' }));
    await expectHeading(page, 'What kind of template do you want to add?');
    await admin.click(t, page.getByRole('button', { name: 'Continue' }), { status: 422 });
    await expectErrorSummary(page, ['type']);
    await page.getByLabel('Email').check();
    await admin.click(t, page.getByRole('button', { name: 'Continue' }));
    await expectHeading(page, 'New email template');

    await page.getByLabel('Template name').fill('Pothole reported');
    await page.getByLabel('Subject line of the email').fill('We have your report, ((name))');
    await page.getByLabel('Message').fill('# Thank you\n\nDear ((name)), we will fix the pothole on ((street)).\n\n* Reference: ((ref))');
    await admin.click(t, page.getByRole('button', { name: 'Preview' }));
    await expectHeading(page, 'New email template');
    const frame = page.frameLocator('iframe[title="The email as recipients will see it"]');
    await frame.getByRole('heading', { name: 'Thank you' }).waitFor();
    assert.equal(await page.getByLabel('Template name').inputValue(), 'Pothole reported', 'the form keeps what was typed');

    await page.getByLabel('Template name').fill('');
    await admin.click(t, page.getByRole('button', { name: 'Save' }), { status: 422 });
    await expectErrorSummary(page, ['name']);
    await page.getByLabel('Template name').fill('Pothole reported');
    await admin.click(t, page.getByRole('button', { name: 'Save' }));
    await expectBanner(page, 'Template created: Pothole reported');
    await expectHeading(page, 'Pothole reported');
    emailTemplateID = (await page.locator('.govuk-summary-list__row').filter({ hasText: 'Template ID' }).locator('dd').innerText()).trim();
    assert.match(emailTemplateID, /^[0-9a-f-]{36}$/);
    await page.frameLocator('iframe').locator('p', { hasText: 'we will fix the pothole' }).waitFor();
  }));

  it('changing the template makes a new version; the history keeps the old one', step, j.step('versions', async (t) => {
    await admin.click(t, page.getByRole('button', { name: 'Change this template' }));
    await page.getByLabel('Message').fill('# Thank you\n\nDear ((name)), we will fix the pothole on ((street)) within 5 days.');
    await admin.click(t, page.getByRole('button', { name: 'Save' }));
    await expectBanner(page, 'Template saved: Pothole reported');
    await admin.click(t, page.getByRole('link', { name: 'Version history' }));
    await expectHeading(page, 'Version history');
    await admin.click(t, page.getByRole('link', { name: 'Version 1' }));
    assert.match(await page.locator('.govuk-inset-text').first().innerText(), /This is version 1 of the template/);
  }));

  it('a text message template shows its length, encoding and fragments', step, j.step('sms template', async (t) => {
    await admin.goto(t, `${notifyURL}/templates/new?type=sms`);
    await expectHeading(page, 'New text message template');
    await page.getByLabel('Template name').fill('Pothole fixed');
    await page.getByLabel('Message').fill(`The pothole on ((street)) is fixed. ${'Thank you for telling us. '.repeat(6)}`);
    await admin.click(t, page.getByRole('button', { name: 'Preview' }));
    const measure = await page.locator('#sms-measure').innerText();
    assert.match(measure, /GSM-7/);
    assert.match(measure, /2 text messages/);
    assert.match(await page.locator('#sms-preview').innerText(), /^Report a pothole: The pothole on \(\(street\)\) is fixed\./);
    await admin.click(t, page.getByRole('button', { name: 'Save' }));
    await expectBanner(page, 'Template created: Pothole fixed');
  }));

  it('a letter template is previewed as its PDF', step, j.step('letter template', async (t) => {
    await admin.goto(t, `${notifyURL}/templates/new?type=letter`);
    await page.getByLabel('Template name').fill('Repair notice');
    await page.getByLabel('Main heading').fill('Road repairs on ((street))');
    await page.getByLabel('Message').fill('Dear resident,\n\nWe will repair the road on ((date)).');
    await page.getByLabel('First class').check();
    await admin.click(t, page.getByRole('button', { name: 'Preview' }));
    const link = page.getByRole('link', { name: /See the letter as a PDF/ });
    const draft = await page.request.get(new URL(await link.getAttribute('href'), j.server.baseURL).href);
    assert.equal(draft.status(), 200);
    assert.equal(draft.headers()['content-type'], 'application/pdf');
    assert.equal((await draft.body()).subarray(0, 5).toString(), '%PDF-');
    assert.match(await page.locator('#letter-text').innerText(), /Highways Team/);
    await admin.click(t, page.getByRole('button', { name: 'Save' }));
    await expectBanner(page, 'Template created: Repair notice');
    const saved = await page.request.get(new URL(await page.getByRole('link', { name: /See the letter as a PDF/ }).getAttribute('href'), j.server.baseURL).href);
    assert.equal(saved.headers()['content-type'], 'application/pdf');
  }));

  it('archiving a template asks first', step, j.step('archive template', async (t) => {
    await admin.click(t, notifyNav().getByRole('link', { name: 'Templates' }));
    await admin.click(t, page.getByRole('link', { name: 'Text messages' }));
    await admin.click(t, page.getByRole('link', { name: 'Pothole fixed' }));
    await admin.click(t, page.getByRole('link', { name: 'Archive this template' }));
    await expectHeading(page, 'Are you sure you want to archive ‘Pothole fixed’?');
    await admin.click(t, page.getByRole('button', { name: 'Yes, archive this template' }));
    await expectBanner(page, 'Template archived: Pothole fixed');
    assert.equal(await page.getByRole('link', { name: 'Pothole fixed' }).count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Pothole reported' }).count(), 1);
  }));

  it('emails sent through the API and from the console show on the dashboard, in the sent messages and on their pages', step, j.step('sent message', async (t) => {
    await admin.click(t, sections().getByRole('link', { name: 'API keys' }));
    await admin.click(t, page.getByRole('button', { name: 'Create an API key' }));
    await page.getByLabel('Name for this key').fill('Pothole reports');
    await page.getByLabel('Live – sends to anyone').check();
    await admin.click(t, page.getByRole('button', { name: 'Continue' }));
    const key = (await page.locator('#api-key').innerText()).trim();
    const res = await fetch(`${j.server.baseURL}/v2/notifications/email`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${apiToken(key)}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ email_address: guest, template_id: emailTemplateID, reference: 'report-42',
        personalisation: { name: 'Sam', street: 'Acacia Avenue', ref: '42' } }),
      signal: AbortSignal.timeout(5_000),
    });
    const answer = await res.text();
    assert.equal(res.status, 201, answer);
    const { id } = JSON.parse(answer);

    await admin.goto(t, notifyURL);
    assert.match(await page.locator('#email-totals').innerText(), /^1 sent/);
    assert.equal(await page.getByRole('img', { name: 'Emails sent each day for the last 7 days' }).count(), 1);
    assert.equal(await page.getByRole('img').count(), 1, 'only the channel that sent something is charted');
    await admin.click(t, notifyNav().getByRole('link', { name: 'Sent messages' }));
    await expectHeading(page, 'Sent messages');
    await page.getByLabel('Reference').fill('report-42');
    await admin.click(t, page.getByRole('button', { name: 'Search' }));
    await admin.click(t, page.getByRole('link', { name: guest }));
    assert.equal(path(), `${notifyURL}/notifications/${id}`);
    await expectHeading(page, `Email to ${guest}`);
    assert.match(await page.locator('#message-body').innerText(), /Dear Sam, we will fix the pothole on Acacia Avenue/);
    // Development mode delivers to the outbox in the background: the history grows to say so.
    const deadline = Date.now() + 10_000;
    while (!(await page.locator('#status-history').innerText()).includes('Delivered')) {
      assert.ok(Date.now() < deadline, 'the email was not delivered to the outbox within 10s');
      await sleep(250);
      await page.reload({ waitUntil: 'load' });
    }
    await admin.landed(t, 200);

    // The same template sent from the console, after a form with nothing in it is refused.
    await admin.goto(t, `${notifyURL}/templates/${emailTemplateID}`);
    await admin.click(t, page.getByRole('button', { name: 'Send an email' }));
    await expectHeading(page, 'Send an email');
    await admin.click(t, page.getByRole('button', { name: 'Send', exact: true }), { status: 422 });
    await expectErrorSummary(page, ['to', 'p1', 'p2']);
    await page.getByLabel('Email address').fill(guest);
    await page.getByLabel('name', { exact: true }).fill('Alex');
    await page.getByLabel('street', { exact: true }).fill('Elm Road');
    await admin.click(t, page.getByRole('button', { name: 'Send', exact: true }));
    await expectBanner(page, `Email sent to ${guest}`);
    await expectHeading(page, `Email to ${guest}`);
    assert.match(await page.locator('#message-body').innerText(), /Dear Alex, we will fix the pothole on Elm Road/);
    await admin.goto(t, notifyURL);
    assert.match(await page.locator('#email-totals').innerText(), /^2 sent/);

    await admin.goto(t, `${notifyURL}/notifications?to=nobody%40example.com`);
    assert.equal(await page.getByText('No messages match your search.').count(), 1);
  }));

  it('the letters page says no letters are waiting', step, j.step('letters', async (t) => {
    await admin.click(t, notifyNav().getByRole('link', { name: 'Letters to print' }));
    await expectHeading(page, 'Letters to print');
    assert.equal(await page.getByText('No letters are waiting to be printed.').count(), 1);
  }));

  it('a page of another kind of thing is not found', step, j.step('not found', async (t) => {
    await admin.goto(t, `${notifyURL}/templates/00000000-0000-4000-8000-000000000000`, { status: 404 });
    await expectHeading(page, 'Page not found');
    await admin.goto(t, `${notifyURL}/notifications/00000000-0000-4000-8000-000000000000`, { status: 404 });
    t.diagnostic(`axe checked ${admin.checked.length} pages`);
  }));
}
