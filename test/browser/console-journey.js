// The team console's main journey in a real browser, from the first admin's one-time sign-in
// link to signing in again with a password, with axe-core checking every page on the way, error
// states and the "Page not found" page included. The test files run it twice: with JavaScript,
// and without, since every console page must work without it.

import assert from 'node:assert/strict';
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
const service = 'Apply for a permit';
const invitee = 'colleague@example.gov.uk';
const adminEmail = 'admin@commons.localhost';
// A Notify-style key: the key's name, then the service id and the secret, both UUIDs.
const wholeKey = /-[0-9a-f-]{36}-[0-9a-f-]{36}$/;
const keyTypes = [
  { name: 'Production key', label: 'Live – sends to anyone', type: 'Live' },
  { name: 'Team key', label: 'Team and guest list – limits who you can send to', type: 'Team and guest list' },
  { name: 'Test key', label: 'Test – pretends to send', type: 'Test' },
];
const step = { timeout: 30_000 };

/** Declares the journey as a node:test suite, in a browser context with or without JavaScript. */
export function describeConsoleJourney({ javaScriptEnabled }) {
  const name = javaScriptEnabled ? 'console' : 'console-nojs';
  const title = `team console ${javaScriptEnabled ? 'with' : 'without'} JavaScript`;
  describe(title, { timeout: 300_000, ...skipUnlessReady() }, () => suite(name, javaScriptEnabled));
}

function suite(name, javaScriptEnabled) {
  const j = journey(name);
  let browser;
  let admin; // the first platform admin, in one browser context
  let page;
  let serviceURL;
  const keys = [];
  let inviteLink;

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

  it('the first sign-in link leads to choosing a password', step, j.step('first sign-in', async (t) => {
    await admin.goto(t, j.server.signInLink);
    await expectHeading(page, 'Continue signing in');
    await admin.click(t, page.getByRole('button', { name: 'Continue' }));
    assert.equal(new URL(page.url()).pathname, '/admin/set-password');
    await expectHeading(page, 'Choose a password');
  }));

  it('a short password is refused with an error summary and not saved', step, j.step('short password', async (t) => {
    await page.getByLabel('Choose a password').fill('too short');
    await admin.click(t, page.getByRole('button', { name: 'Save password' }), { status: 422 });
    const [message] = await expectErrorSummary(page, ['password']);
    assert.match(message, /12 characters/);
    assert.equal(await page.getByLabel('Choose a password').inputValue(), '', 'a refused password is typed again, never redisplayed');
    if (javaScriptEnabled) {
      // GOV.UK Frontend moves focus to the summary, and its links to the field.
      const focused = await page.locator('.govuk-error-summary').evaluate((el) => el === document.activeElement || el.contains(document.activeElement));
      assert.ok(focused, 'the error summary has focus');
      await page.locator('.govuk-error-summary a').first().click();
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'password');
    }
    // Still no password: the console sends the browser back to choose one.
    await admin.goto(t, '/admin/');
    assert.equal(new URL(page.url()).pathname, '/admin/set-password');
  }));

  it('a good password signs the admin in to the console home', step, j.step('set password', async (t) => {
    await page.getByLabel('Choose a password').fill(password);
    await admin.click(t, page.getByRole('button', { name: 'Save password' }));
    assert.equal(new URL(page.url()).pathname, '/admin/');
    await expectBanner(page, 'Your password has been saved');
    await expectHeading(page, 'Your services');
  }));

  it('the used sign-in link no longer works', step, j.step('used link', async (t) => {
    const { page: p } = await openPage(browser, { javaScriptEnabled });
    const visitor = new Visitor(p, j.server, { name: `${name}-used-link`, javaScriptEnabled });
    try {
      await visitor.goto(t, j.server.signInLink);
      await visitor.click(t, p.getByRole('button', { name: 'Continue' }), { status: 410 });
      await expectHeading(p, 'This link has expired or has already been used');
    } finally {
      await visitor.close();
    }
  }));

  it('the admin gives a mobile number on their account page; a landline is refused', step, j.step('mobile number', async (t) => {
    await admin.click(t, menu().getByRole('link', { name: 'Your account' }));
    await expectHeading(page, 'Your account');
    const mobileRow = () => page.locator('.govuk-summary-list__row').filter({ has: page.getByText('Mobile number', { exact: true }) });
    assert.match(await mobileRow().innerText(), /Not given/);
    await admin.click(t, page.getByRole('link', { name: 'Add mobile number' }));
    await expectHeading(page, 'Your mobile number');
    await page.getByLabel('Your mobile number').fill('020 7946 0000');
    await admin.click(t, page.getByRole('button', { name: 'Save' }), { status: 422 });
    const [message] = await expectErrorSummary(page, ['mobile_number']);
    assert.match(message, /not a landline/);
    assert.equal(await page.getByLabel('Your mobile number').inputValue(), '020 7946 0000', 'what was typed is kept');

    await page.getByLabel('Your mobile number').fill('07700 900 982');
    await admin.click(t, page.getByRole('button', { name: 'Save' }));
    assert.equal(new URL(page.url()).pathname, '/admin/account');
    await expectBanner(page, 'Your mobile number has been saved');
    assert.match(await mobileRow().innerText(), /\+447700900982/);
  }));

  it('an empty organisation name saves nothing; a named one is created', step, j.step('organisation', async (t) => {
    await admin.click(t, menu().getByRole('link', { name: 'Organisations' }));
    await expectHeading(page, 'Organisations');
    await admin.click(t, page.getByRole('button', { name: 'Add organisation' }), { status: 422 });
    await expectErrorSummary(page, ['name']);
    assert.equal(await page.getByText('There are no organisations yet.').count(), 1, 'an invalid form saved an organisation');

    await page.getByLabel('Organisation name').fill(organisation);
    await admin.click(t, page.getByRole('button', { name: 'Add organisation' }));
    await expectBanner(page, `Organisation created: ${organisation}`);
    assert.equal(await page.getByRole('listitem').filter({ hasText: organisation }).count(), 1);
  }));

  it('an empty service form reports every problem and saves nothing; a full one creates the service', step, j.step('service', async (t) => {
    await admin.click(t, menu().getByRole('link', { name: 'Services' }));
    await admin.click(t, page.getByRole('button', { name: 'Add a service' }));
    await expectHeading(page, 'Add a service');
    await admin.click(t, page.getByRole('button', { name: 'Add service' }), { status: 422 });
    await expectErrorSummary(page, ['name', 'organisation']);
    await admin.click(t, menu().getByRole('link', { name: 'Services' }));
    assert.equal(await page.getByRole('table').count(), 0, 'an invalid form saved a service');

    await admin.click(t, page.getByRole('button', { name: 'Add a service' }));
    await page.getByLabel('Service name').fill(service);
    await page.getByLabel('Organisation', { exact: true }).selectOption({ label: organisation });
    assert.ok(await page.getByLabel('Trial mode').isChecked(), 'a new service starts in trial mode');
    await admin.click(t, page.getByRole('button', { name: 'Add service' }));
    await expectBanner(page, `Service created: ${service}`);
    await expectHeading(page, 'Overview');
    serviceURL = new URL(page.url()).pathname;
    assert.match(serviceURL, /^\/admin\/services\/[^/]+$/);
    const row = (key) => page.locator('.govuk-summary-list__row').filter({ has: page.getByText(key, { exact: true }) });
    assert.equal((await row('Service name').locator('dd').first().innerText()).trim(), service);
    assert.equal((await row('Organisation').locator('dd').first().innerText()).trim(), organisation);
    assert.match(await row('Status').innerText(), /Trial mode/);
  }));

  it('an empty API key form reports its problems and saves nothing', step, j.step('API key errors', async (t) => {
    await admin.click(t, sections().getByRole('link', { name: 'API keys' }));
    await expectHeading(page, 'API keys');
    assert.equal(await page.getByText('This service has no API keys yet.').count(), 1);
    await admin.click(t, page.getByRole('button', { name: 'Create an API key' }));
    await admin.click(t, page.getByRole('button', { name: 'Continue' }), { status: 422 });
    await expectErrorSummary(page, ['name', 'key_type']);
    await admin.click(t, sections().getByRole('link', { name: 'API keys' }));
    assert.equal(await page.getByText('This service has no API keys yet.').count(), 1, 'an invalid form saved a key');
  }));

  for (const k of keyTypes) {
    it(`a ${k.type} key is shown whole exactly once`, step, j.step(`${k.type} key`, async (t) => {
      await admin.click(t, page.getByRole('button', { name: 'Create an API key' }));
      await page.getByLabel('Name for this key').fill(k.name);
      await page.getByLabel(k.label).check();
      await admin.click(t, page.getByRole('button', { name: 'Continue' }));
      await expectHeading(page, 'New API key');
      const key = (await page.locator('#api-key').innerText()).trim();
      assert.match(key, wholeKey);
      assert.ok(!keys.includes(key), 'every key is new');
      keys.push(key);
      const secret = key.slice(-36);
      assert.equal((await page.content()).split(secret).length - 1, 1, 'the page shows the key once');
      assert.equal(new URL(page.url()).search, '', 'the key is not in the address');
      assert.match(admin.headers['cache-control'] ?? '', /no-store/, 'no cache keeps the page with the key');

      await admin.click(t, page.getByRole('link', { name: 'Back to API keys' }));
      const row = page.getByRole('row').filter({ hasText: k.name });
      assert.equal(await row.count(), 1);
      assert.match(await row.innerText(), new RegExp(k.type));
      assert.ok(!(await page.content()).includes(secret), 'the key list does not show the key again');
    }));
  }

  it('revoking a key asks for confirmation, then marks it revoked', step, j.step('revoke key', async (t) => {
    await admin.click(t, page.getByRole('link', { name: 'Revoke Test key' }));
    await expectHeading(page, 'Are you sure you want to revoke ‘Test key’?');
    await admin.click(t, page.getByRole('link', { name: 'Cancel' }));
    assert.equal(await page.getByRole('link', { name: 'Revoke Test key' }).count(), 1, 'Cancel revoked nothing');
    await admin.click(t, page.getByRole('link', { name: 'Revoke Test key' }));
    await admin.click(t, page.getByRole('button', { name: 'Yes, revoke this API key' }));
    await expectBanner(page, 'API key revoked: Test key');
    assert.match(await page.getByRole('row').filter({ hasText: 'Test key' }).innerText(), /Revoked/);
    assert.equal(await page.getByRole('link', { name: /^Revoke/ }).count(), 2, 'the other two keys stay usable');
  }));

  it('inviting a team member shows a one-time link; an empty form saves nothing', step, j.step('invite', async (t) => {
    await admin.click(t, sections().getByRole('link', { name: 'Team members' }));
    await expectHeading(page, 'Team members');
    const before = await page.locator('.govuk-summary-card').count();
    await admin.click(t, page.getByRole('button', { name: 'Invite a team member' }));
    await admin.click(t, page.getByRole('button', { name: 'Send invitation' }), { status: 422 });
    await expectErrorSummary(page, ['email']);

    await page.getByLabel('Email address').fill(invitee);
    await page.getByLabel('Add and edit templates').check();
    await page.getByLabel('Send messages').check();
    await admin.click(t, page.getByRole('button', { name: 'Send invitation' }));
    await expectHeading(page, 'Invitation sent');
    inviteLink = (await page.locator('#invite-link').innerText()).trim();
    assert.match(inviteLink, new RegExp(`^${j.server.baseURL}/admin/link/[A-Za-z0-9_-]+$`));

    await admin.click(t, page.getByRole('link', { name: 'Back to team members' }));
    assert.equal(await page.locator('.govuk-summary-card').count(), before + 1);
    const card = page.locator('.govuk-summary-card').filter({ hasText: invitee });
    const text = await card.innerText();
    assert.match(text, /Add and edit templates/);
    assert.match(text, /Send messages/);
    assert.doesNotMatch(text, /Manage API integration/);
    assert.match(text, /Invited/);
    assert.ok(!(await page.content()).includes(inviteLink), 'the team page does not show the link again');
  }));

  it('switching the service to live and back asks for confirmation each time', step, j.step('live and back', async (t) => {
    await admin.click(t, sections().getByRole('link', { name: 'Overview' }));
    await admin.click(t, page.getByRole('link', { name: 'Make live status' }));
    await expectHeading(page, `Make ${service} live?`);
    await admin.click(t, page.getByRole('button', { name: 'Yes, make it live' }));
    await expectBanner(page, `${service} is now live`);
    await admin.click(t, page.getByRole('link', { name: 'Switch to trial mode status' }));
    await expectHeading(page, `Switch ${service} to trial mode?`);
    await admin.click(t, page.getByRole('button', { name: 'Yes, switch to trial mode' }));
    await expectBanner(page, `${service} is now in trial mode`);
  }));

  it('the audit log lists every change with who made it and when', step, j.step('audit log', async (t) => {
    await admin.click(t, sections().getByRole('link', { name: 'Audit log' }));
    await expectHeading(page, 'Audit log');
    const rows = await page.locator('table tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [...tr.cells].map((td) => td.innerText.trim())),
    );
    const head = await page.locator('table thead th').allInnerTexts();
    assert.deepEqual(head.map((h) => h.trim()), ['When', 'Who', 'What', 'Target']);
    const what = rows.map((r) => r[2]);
    const count = (text) => what.filter((w) => w === text).length;
    assert.equal(count('Created the service'), 1);
    assert.equal(count('Created an API key'), 3);
    assert.equal(count('Revoked an API key'), 1);
    assert.equal(count('Invited a team member'), 1);
    assert.equal(count('Made the service live'), 1);
    assert.equal(count('Switched the service to trial mode'), 1);
    for (const [when, who] of rows) {
      assert.equal(who, adminEmail);
      assert.match(when, /\d/, `“${when}” should say when`);
    }
    assert.ok(rows.some((r) => r[2] === 'Invited a team member' && r[3] === invitee), 'the invitation names who was invited');
    assert.ok(rows.some((r) => r[2] === 'Revoked an API key' && r[3] === 'Test key'), 'the revocation names the key');
    // Newest first.
    assert.equal(what[0], 'Switched the service to trial mode');
    assert.equal(what.at(-1), 'Created the service');

    await page.getByLabel('Activity').selectOption({ label: 'API keys' });
    await admin.click(t, page.getByRole('button', { name: 'Filter' }));
    const filtered = await page.locator('table tbody tr td:nth-child(3)').allInnerTexts();
    assert.deepEqual([...new Set(filtered.map((s) => s.trim()))].sort(), ['Created an API key', 'Revoked an API key']);
    assert.equal(filtered.length, 4);
  }));

  it('the outbox holds the invitation email with the same link', step, j.step('outbox', async (t) => {
    const subject = `You’ve been invited to ${service}`;
    // The email is sent by a background job: give it a few seconds.
    const deadline = Date.now() + 10_000;
    await admin.click(t, menu().getByRole('link', { name: 'Outbox' }));
    if ((await page.getByRole('link', { name: subject }).count()) === 0) {
      do {
        assert.ok(Date.now() < deadline, 'the invitation email did not reach the outbox within 10s');
        await sleep(250);
        await page.reload({ waitUntil: 'load' });
      } while ((await page.getByRole('link', { name: subject }).count()) === 0);
      await admin.landed(t, 200); // the outbox with the message in it is a page of its own
    }
    await expectHeading(page, 'Outbox');
    const row = page.getByRole('row').filter({ hasText: subject });
    assert.match(await row.innerText(), new RegExp(invitee));
    await admin.click(t, page.getByRole('link', { name: subject }));
    await expectHeading(page, subject);
    const body = await page.locator('.commons-message-body').innerText();
    assert.ok(body.includes(inviteLink), 'the email carries the link the console showed');
  }));

  it('the invited member signs in from the email and sees only what their permissions allow', step, j.step('invitee', async (t) => {
    const { page: p } = await openPage(browser, { javaScriptEnabled });
    const member = new Visitor(p, j.server, { name: `${name}-invitee`, javaScriptEnabled });
    try {
      await member.goto(t, inviteLink);
      await member.click(t, p.getByRole('button', { name: 'Continue' }));
      await p.getByLabel('Choose a password').fill('a different long passphrase');
      await member.click(t, p.getByRole('button', { name: 'Save password' }));
      await expectHeading(p, 'Your services');
      assert.equal(await p.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Organisations' }).count(), 0);
      await member.click(t, p.getByRole('link', { name: service }));
      const nav = p.getByRole('navigation', { name: 'Service sections' });
      assert.equal(await nav.getByRole('link', { name: 'API keys' }).count(), 0, 'no API keys section without manage_api_keys');
      assert.equal(await p.getByRole('button', { name: 'Archive service' }).count(), 0);
      await member.goto(t, `${serviceURL}/api-keys`, { status: 403 });
      await expectHeading(p, 'You do not have permission to view this page');
    } finally {
      await member.close();
    }
  }));

  it('archiving the service asks for confirmation and revokes its keys', step, j.step('archive', async (t) => {
    await admin.goto(t, serviceURL);
    await admin.click(t, page.getByRole('button', { name: 'Archive service' }));
    await expectHeading(page, `Are you sure you want to archive ${service}?`);
    await admin.click(t, page.getByRole('button', { name: 'Yes, archive this service' }));
    await expectBanner(page, `${service} has been archived and its API keys revoked`);
    assert.match(await page.locator('.govuk-caption-l').innerText(), /Archived/);
    assert.equal(await page.getByRole('button', { name: 'Archive service' }).count(), 0);
    await admin.click(t, sections().getByRole('link', { name: 'API keys' }));
    assert.equal(await page.getByRole('link', { name: /^Revoke/ }).count(), 0, 'every key is revoked');
    assert.equal(await page.getByRole('button', { name: 'Create an API key' }).count(), 0);
  }));

  it('signing out ends the session', step, j.step('sign out', async (t) => {
    await admin.click(t, menu().getByRole('button', { name: 'Sign out' }));
    assert.equal(new URL(page.url()).pathname, '/admin/sign-in');
    await expectBanner(page, 'You have signed out');
    await expectHeading(page, 'Sign in');
    await admin.goto(t, serviceURL);
    assert.equal(new URL(page.url()).pathname, '/admin/sign-in', 'a signed-out browser is sent to sign in');
  }));

  it('signing in: empty and wrong details show the error summary; right ones sign in', step, j.step('sign in', async (t) => {
    await admin.click(t, page.getByRole('button', { name: 'Continue' }), { status: 422 });
    await expectErrorSummary(page, ['email', 'password']);

    await page.getByLabel('Email address').fill(adminEmail);
    await page.getByLabel('Password', { exact: true }).fill('not the password at all');
    await admin.click(t, page.getByRole('button', { name: 'Continue' }), { status: 422 });
    await expectErrorSummary(page, ['email']);
    assert.equal(await page.getByLabel('Email address').inputValue(), adminEmail, 'the email address is kept');
    assert.equal(await page.getByLabel('Password', { exact: true }).inputValue(), '', 'the password is not redisplayed');

    await page.getByLabel('Password', { exact: true }).fill(password);
    await admin.click(t, page.getByRole('button', { name: 'Continue' }));
    // The sign-in page remembered where the signed-out browser was going.
    assert.equal(new URL(page.url()).pathname, serviceURL);
    await admin.click(t, menu().getByRole('link', { name: 'Services' }));
    const row = page.getByRole('row').filter({ hasText: service });
    assert.match(await row.innerText(), /Archived/);
  }));

  it('unknown pages show the console’s “Page not found”', step, j.step('not found', async (t) => {
    await admin.goto(t, '/admin/no-such-page', { status: 404 });
    await expectHeading(page, 'Page not found');
    await admin.goto(t, '/admin/services/no-such-service', { status: 404 });
    await expectHeading(page, 'Page not found');
    t.diagnostic(`axe checked ${admin.checked.length} pages in the admin's browser context`);
  }));
}
