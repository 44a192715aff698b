// Acceptance test for the Notify platform, part 2: the official npm package
// notifications-node-client 8.4.0, unchanged, sends email, text messages and letters through a
// live `commons serve` on each engine — success and failure, key types, trial mode, files, rate
// and daily limits — and every answer is checked field by field against GOV.UK Notify API v2
// (/work/shared/spec/notify.md §2.2–§2.5, §2.8, §2.14, §3, §6).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe } from 'node:test';

import {
  assertAPIError, assertEmailSent, assertJSONResponse, assertLetterSent, assertNotification,
  assertPrecompiledSent, assertSmsSent,
} from './expect.js';
import {
  address, axios, guestEmail, guestPhone, member, msg, onEachEngine, outsider, outsiderPhone, pollPDF,
  settle, t,
} from './fixture.js';
import { sqlString, sqlTime } from './harness.js';
import { letterPDF } from './pdf.js';

onEachEngine('sending', (w) => {
  const { live, trial, limited, daily } = w;
  const client = (key) => w.client(key);
  let base;
  let server;
  before(() => {
    ({ base, server } = w);
  });

  describe('sendEmail (§2.2)', () => {
    t('with personalisation, reference, emailReplyToId and oneClickUnsubscribeURL → 201, then GET by id', async () => {
      const c = client(live.liveKey);
      const unsubscribe = 'https://compat.example.gov.uk/unsubscribe?u=1';
      const res = await c.sendEmail(live.email.id, member, {
        personalisation: { name: 'Foo' }, reference: 'compat-email-1', emailReplyToId: live.replyTo.id,
        oneClickUnsubscribeURL: unsubscribe,
      });
      const body = 'Hello Foo\r\n\r\nFunctional test help make our world a better place';
      const sent = assertEmailSent(res, {
        base, serviceId: live.id, reference: 'compat-email-1', body, subject: 'Hello Foo', unsubscribe,
        template: { id: live.email.id, version: 1 },
      });
      const exp = {
        id: sent.id, type: 'email', reference: 'compat-email-1', to: member, body, subject: 'Hello Foo', unsubscribe,
        template: { id: live.email.id, version: 1 }, base,
      };
      const got = await c.getNotificationById(sent.id);
      assertJSONResponse(got, 200);
      assertNotification(got.data, exp);
      // Development mode delivers to the outbox and marks the email delivered.
      assertNotification(await settle(c, sent.id, 'delivered'), { ...exp, status: 'delivered' });
    });

    t('sanitiseContentFor escapes markdown and breaks links in the named fields only', async () => {
      const c = client(live.liveKey);
      const unsanitised = 'Visit https://evil.example/phish or example.com now!';
      const sanitised = 'Visit  or example\\. com now\\!';
      const res = await c.sendEmail(live.sanitise.id, member, {
        personalisation: { name: unsanitised, plain: 'Alice', other: 'not in the template' },
        sanitiseContentFor: ['NAME', 'plain'],
      });
      const sent = assertEmailSent(res, {
        base, serviceId: live.id, body: `Hello ${sanitised} Alice`, subject: 'Sanitised content check',
        template: { id: live.sanitise.id, version: 1 },
        sanitised: { name: { unsanitised, sanitised } },
      });
      const got = await c.getNotificationById(sent.id);
      assertNotification(got.data, {
        id: sent.id, type: 'email', to: member, body: `Hello ${sanitised} Alice`, subject: 'Sanitised content check',
        template: { id: live.sanitise.id, version: 1 }, base,
      });
    });

    t('a smoke-test address is accepted but not kept (§6.3)', async () => {
      const c = client(live.liveKey);
      const res = await c.sendEmail(live.email.id, 'simulate-delivered@notifications.service.gov.uk', { personalisation: { name: 'Foo' } });
      const sent = assertEmailSent(res, {
        base, serviceId: live.id, body: 'Hello Foo\r\n\r\nFunctional test help make our world a better place',
        subject: 'Hello Foo', template: { id: live.email.id, version: 1 },
      });
      await assertAPIError(c.getNotificationById(sent.id), 404, 'NoResultFound', msg.noResult);
    });

    t('a team key sends to team members and the guest list, and refuses anyone else', async () => {
      const c = client(live.teamKey);
      for (const to of [member, guestEmail, 'MEMBER@compat.example.gov.uk']) {
        const res = await c.sendEmail(live.email.id, to, { personalisation: { name: 'Team' } });
        assertEmailSent(res, {
          base, serviceId: live.id, body: 'Hello Team\r\n\r\nFunctional test help make our world a better place',
          subject: 'Hello Team', template: { id: live.email.id, version: 1 },
        });
      }
      await assertAPIError(c.sendEmail(live.email.id, outsider, { personalisation: { name: 'x' } }), 400, 'BadRequestError', msg.teamRecipient);
    });

    t('missing personalisation → 400 naming every missing field', async () => {
      const c = client(live.liveKey);
      await assertAPIError(c.sendEmail(live.email.id, member), 400, 'BadRequestError', 'Missing personalisation: name');
      await assertAPIError(c.sendEmail(live.email.id, member, { personalisation: { nom: 'x' } }), 400, 'BadRequestError', 'Missing personalisation: name');
      await assertAPIError(c.sendEmail(live.sanitise.id, member, { personalisation: {} }), 400, 'BadRequestError', 'Missing personalisation: name, plain');
    });

    t('unknown, wrong-type and archived templates → 400', async () => {
      const c = client(live.liveKey);
      await assertAPIError(c.sendEmail(crypto.randomUUID(), member, { personalisation: { name: 'x' } }), 400, 'BadRequestError', msg.templateNotFound);
      // Another service's template is not found either.
      await assertAPIError(c.sendEmail(trial.email.id, member, { personalisation: { name: 'x' } }), 400, 'BadRequestError', msg.templateNotFound);
      await assertAPIError(c.sendEmail(live.sms.id, member, { personalisation: { name: 'x' } }), 400, 'BadRequestError', 'sms template is not suitable for email notification');
      await assertAPIError(c.sendSms(live.archived.id, guestPhone), 400, 'BadRequestError', 'Template has been deleted');
      await assertAPIError(c.sendEmail('not-a-uuid', member), 400, 'ValidationError', 'template_id is not a valid UUID');
    });

    t('bad fields → 400 ValidationError with the reference wording', async () => {
      const c = client(live.liveKey);
      await assertAPIError(c.sendEmail(live.email.id, 'not-an-email', { personalisation: { name: 'x' } }), 400, 'ValidationError', 'email_address Not a valid email address');
      await assertAPIError(c.sendEmail(live.email.id, member, { personalisation: { name: 'x' }, oneClickUnsubscribeURL: 'http://compat.example.gov.uk/u' }),
        400, 'ValidationError', 'one_click_unsubscribe_url is not a valid https url');
      const unknownReplyTo = crypto.randomUUID();
      await assertAPIError(c.sendEmail(live.email.id, member, { personalisation: { name: 'x' }, emailReplyToId: unknownReplyTo }),
        400, 'BadRequestError', `email_reply_to_id ${unknownReplyTo} does not exist in database for service id ${live.id}`);
      await assertAPIError(c.sendEmail(live.email.id, member, { personalisation: { name: 'x' }, reference: 'r'.repeat(1001) }),
        400, 'ValidationError', `reference ${'r'.repeat(1001)} is too long`);
    });

    t('an unknown option is refused by the client itself, before any request', async () => {
      await assert.rejects(client(live.liveKey).sendEmail(live.email.id, member, { personalization: {} }), /not recognised/);
    });
  });

  describe('sendSms (§2.3)', () => {
    t('with personalisation, reference and smsSenderId → 201, then GET by id', async () => {
      const c = client(live.liveKey);
      const body = 'Hello Foo\n\nFunctional Tests make our world a better place';
      const res = await c.sendSms(live.sms.id, guestPhone, { personalisation: { name: 'Foo' }, reference: 'compat-sms-1', smsSenderId: live.sender.id });
      const sent = assertSmsSent(res, {
        base, serviceId: live.id, reference: 'compat-sms-1', body, fromNumber: 'Compat', template: { id: live.sms.id, version: 1 },
      });
      const exp = { id: sent.id, type: 'sms', reference: 'compat-sms-1', to: guestPhone, body, template: { id: live.sms.id, version: 1 }, base };
      assertNotification((await c.getNotificationById(sent.id)).data, exp);
      assertNotification(await settle(c, sent.id, 'delivered'), { ...exp, status: 'delivered' });
    });

    t('the sender: an inbound number is given as international digits; the default applies without smsSenderId', async () => {
      const c = client(live.liveKey);
      const body = 'Hello Foo\n\nFunctional Tests make our world a better place';
      const viaInbound = await c.sendSms(live.sms.id, outsiderPhone, { personalisation: { name: 'Foo' }, smsSenderId: live.inbound.id });
      assertSmsSent(viaInbound, { base, serviceId: live.id, body, fromNumber: '447700900123', template: { id: live.sms.id, version: 1 } });
      const byDefault = await c.sendSms(live.sms.id, outsiderPhone, { personalisation: { name: 'Foo' } });
      assertSmsSent(byDefault, { base, serviceId: live.id, body, fromNumber: 'Compat', template: { id: live.sms.id, version: 1 } });
      const unknown = crypto.randomUUID();
      await assertAPIError(c.sendSms(live.sms.id, outsiderPhone, { personalisation: { name: 'Foo' }, smsSenderId: unknown }),
        400, 'BadRequestError', `sms_sender_id ${unknown} does not exist in database for service id ${live.id}`);
    });

    t('a team key sends to the guest list and refuses other numbers', async () => {
      const c = client(live.teamKey);
      const res = await c.sendSms(live.sms.id, guestPhone, { personalisation: { name: 'Team' } });
      assertSmsSent(res, {
        base, serviceId: live.id, body: 'Hello Team\n\nFunctional Tests make our world a better place', fromNumber: 'Compat',
        template: { id: live.sms.id, version: 1 },
      });
      await assertAPIError(c.sendSms(live.sms.id, outsiderPhone, { personalisation: { name: 'x' } }), 400, 'BadRequestError', msg.teamRecipient);
    });

    t('missing personalisation, unknown template and bad numbers → 400', async () => {
      const c = client(live.liveKey);
      await assertAPIError(c.sendSms(live.sms.id, guestPhone), 400, 'BadRequestError', 'Missing personalisation: name');
      await assertAPIError(c.sendSms(crypto.randomUUID(), guestPhone, { personalisation: { name: 'x' } }), 400, 'BadRequestError', msg.templateNotFound);
      await assertAPIError(c.sendSms(live.sms.id, '0770090abc', { personalisation: { name: 'x' } }), 400, 'ValidationError', 'phone_number Must not contain letters or symbols');
    });
  });

  describe('sendLetter and sendPrecompiledLetter (§2.4, §2.5, §2.8)', () => {
    t('a templated letter → 201, GET by id shows the address lines, and its PDF becomes available', async () => {
      const c = client(live.liveKey);
      const res = await c.sendLetter(live.letter.id, { personalisation: { ...address, name: 'Foo' }, reference: 'compat-letter-1' });
      const sent = assertLetterSent(res, {
        base, serviceId: live.id, reference: 'compat-letter-1', body: 'Hello The Occupier', subject: 'Letter for Foo',
        template: { id: live.letter.id, version: 1 },
      });
      const exp = {
        id: sent.id, type: 'letter', reference: 'compat-letter-1', body: 'Hello The Occupier', subject: 'Letter for Foo',
        template: { id: live.letter.id, version: 1 }, base, postage: 'second',
        lines: { line_1: address.address_line_1, line_2: address.address_line_2, postcode: address.postcode },
        status: new Set(['accepted', 'received']),
      };
      assertNotification((await c.getNotificationById(sent.id)).data, exp);
      // The PDF endpoint's answers, seen through an axios instance of our own.
      const contentTypes = [];
      const instance = axios.create();
      instance.interceptors.response.use((r) => { contentTypes.push(r.headers['content-type']); return r; });
      const viaInstance = client(live.liveKey);
      viaInstance.setClient(instance);
      const { pdf } = await pollPDF(viaInstance, sent.id);
      assert.ok(Buffer.isBuffer(pdf), 'the client returns a Buffer');
      assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-', 'a PDF');
      assert.match(String(contentTypes.at(-1)), /^application\/pdf\b/, 'Content-Type of the PDF');
      assertNotification((await c.getNotificationById(sent.id)).data, exp);
    });

    t('a precompiled PDF → 201 with its postage, and the same bytes come back from the PDF endpoint', async () => {
      const c = client(live.liveKey);
      const pdf = letterPDF(['The Occupier', '123 High Street', 'SW14 6BH'], 'A precompiled letter from the compatibility tests.');
      const res = await c.sendPrecompiledLetter('compat-precompiled-1', pdf, 'first');
      const sent = assertPrecompiledSent(res, { reference: 'compat-precompiled-1', postage: 'first' });
      const exp = {
        id: sent.id, type: 'letter', reference: 'compat-precompiled-1', base, postage: 'first',
        status: new Set(['pending-virus-check', 'accepted', 'received']),
      };
      assertNotification((await c.getNotificationById(sent.id)).data, exp);
      const { pdf: back } = await pollPDF(c, sent.id);
      assert.ok(back.equals(pdf), `the PDF round-trips byte for byte (${back.length} bytes back, ${pdf.length} sent)`);
      const after = assertNotification((await c.getNotificationById(sent.id)).data, { ...exp, status: new Set(['accepted', 'received']) });
      assert.equal(after.postage, 'first');

      const byDefault = await c.sendPrecompiledLetter('compat-precompiled-2', pdf);
      assertPrecompiledSent(byDefault, { reference: 'compat-precompiled-2', postage: 'second' });
    });

    t('precompiled: international postage is refused; a file over 5 MB is refused by the client', async () => {
      const c = client(live.liveKey);
      const pdf = letterPDF(['The Occupier', '123 High Street', 'SW14 6BH'], 'Postage test');
      for (const postage of ['europe', 'rest-of-world']) {
        await assertAPIError(c.sendPrecompiledLetter('compat-precompiled-intl', pdf, postage), 400, 'ValidationError',
          'postage invalid. It must be either first, second or economy.');
      }
      assert.throws(() => c.sendPrecompiledLetter('too big', Buffer.alloc(5 * 1024 * 1024 + 1)), (e) => e === 'File is larger than 5MB.');
    });

    t('letters: a team key → 403; a bad address → 400; missing personalisation → 400', async () => {
      await assertAPIError(client(live.teamKey).sendLetter(live.letter.id, { personalisation: { ...address, name: 'x' } }), 403, 'BadRequestError', msg.teamLetter);
      const pdf = letterPDF(['The Occupier', '123 High Street', 'SW14 6BH'], 'team key');
      await assertAPIError(client(live.teamKey).sendPrecompiledLetter('compat-team', pdf), 403, 'BadRequestError', msg.teamLetter);
      const c = client(live.liveKey);
      await assertAPIError(c.sendLetter(live.letter.id, { personalisation: { address_line_1: 'The Occupier', postcode: 'SW14 6BH', name: 'x' } }),
        400, 'ValidationError', 'Address must be at least 3 lines');
      await assertAPIError(c.sendLetter(live.letter.id, { personalisation: { ...address, postcode: 'NOT A POSTCODE', name: 'x' } }),
        400, 'ValidationError', 'Must be a real UK postcode');
      await assertAPIError(c.sendLetter(live.letter.id, { personalisation: { ...address } }), 400, 'BadRequestError', 'Missing personalisation: name');
      await assertAPIError(c.sendLetter(live.letter.id), 400, 'ValidationError', 'personalisation is a required property');
    });

    t('the PDF of a notification that is not a letter, or does not exist → 400 / 404', async () => {
      const c = client(live.liveKey);
      const res = await c.sendEmail(live.email.id, member, { personalisation: { name: 'Foo' } });
      await assertAPIError(c.getPdfForLetterNotification(res.data.id), 400, 'BadRequestError', msg.notLetter);
      await assertAPIError(c.getPdfForLetterNotification(crypto.randomUUID()), 404, 'NoResultFound', msg.noResult);
    });
  });

  describe('sending a file by email: prepareUpload (§2.14)', () => {
    const csv = Buffer.from('name,reference\nAlice,1\nBob,2\n');

    t('prepareUpload builds the personalisation object locally', () => {
      const c = client(live.liveKey);
      assert.deepEqual(c.prepareUpload(csv), {
        file: csv.toString('base64'), filename: null, confirm_email_before_download: null, retention_period: null,
      });
      assert.deepEqual(c.prepareUpload(csv, { filename: 'report.csv', confirmEmailBeforeDownload: false, retentionPeriod: '4 weeks' }), {
        file: csv.toString('base64'), filename: 'report.csv', confirm_email_before_download: false, retention_period: '4 weeks',
      });
      assert.throws(() => c.prepareUpload(Buffer.alloc(2 * 1024 * 1024 + 1)), (e) => e === 'File is larger than 2MB.');
    });

    t('without a contact link for the service → 400', async () => {
      const c = client(live.liveKey);
      await assertAPIError(c.sendEmail(live.file.id, member, { personalisation: { link_to_file: c.prepareUpload(csv, { filename: 'report.csv' }) } }),
        400, 'BadRequestError', /^Send files by email has not been set up - add contact details for your service at \S+$/);
    });

    t('with a contact link: 201, and the link in the email opens the download page', async () => {
      await server.sql(`INSERT INTO notify_settings (service_id, contact_link, updated_at)
        VALUES (${sqlString(live.id)}, 'https://compat.example.gov.uk/contact', ${sqlString(sqlTime())})
        ON CONFLICT (service_id) DO UPDATE SET contact_link = 'https://compat.example.gov.uk/contact'`);
      const c = client(live.liveKey);
      for (const upload of [c.prepareUpload(csv, { filename: 'report.csv', confirmEmailBeforeDownload: true, retentionPeriod: '1 week' }),
        c.prepareUpload(csv, { filename: 'report.csv', confirmEmailBeforeDownload: false }), c.prepareUpload(csv)]) {
        const res = await c.sendEmail(live.file.id, member, { personalisation: { link_to_file: upload } });
        assertJSONResponse(res, 201);
        const match = /^Download your file: (https?:\/\/\S+)$/.exec(res.data.content.body);
        assert.ok(match, `the body carries a download link: ${JSON.stringify(res.data.content.body)}`);
        assert.deepEqual(res.data.sanitised_content, {});
        const page = await fetch(match[1], { signal: AbortSignal.timeout(10_000) });
        await page.arrayBuffer();
        assert.equal(page.status, 200, `GET ${match[1]}`);
        const got = await c.getNotificationById(res.data.id);
        assert.equal(got.data.body, res.data.content.body, 'the stored body has the link too');
      }
    });

    t('bad file options → 400 ValidationError', async () => {
      const c = client(live.liveKey);
      await assertAPIError(c.sendEmail(live.file.id, member, { personalisation: { link_to_file: c.prepareUpload(csv, { retentionPeriod: '79 weeks' }) } }),
        400, 'ValidationError', 'retention_period Unsupported value for retention_period: 79 weeks. Supported periods are from 1 to 78 weeks.');
      await assertAPIError(c.sendEmail(live.file.id, member, { personalisation: { link_to_file: c.prepareUpload(csv, { filename: 'report' }) } }),
        400, 'ValidationError', 'filename `filename` must end with a file extension. For example, filename.csv');
      await assertAPIError(c.sendSms(live.sms.id, guestPhone, { personalisation: { name: c.prepareUpload(csv) } }),
        400, 'BadRequestError', 'Can only send a file by email');
    });
  });

  describe('trial mode (§6.2)', () => {
    t('a live key of a trial service sends to its team and guest list only', async () => {
      const c = client(trial.liveKey);
      assertEmailSent(await c.sendEmail(trial.email.id, trial.member, { personalisation: { name: 'T' } }), {
        base, serviceId: trial.id, body: 'Hello T', subject: 'Trial', template: { id: trial.email.id, version: 1 },
      });
      assertSmsSent(await c.sendSms(trial.sms.id, guestPhone, { personalisation: { name: 'T' } }), {
        base, serviceId: trial.id, body: 'Hello T', fromNumber: 'GOVUK', template: { id: trial.sms.id, version: 1 },
      });
      await assertAPIError(c.sendEmail(trial.email.id, outsider, { personalisation: { name: 'T' } }), 400, 'BadRequestError', msg.trialRecipient);
      await assertAPIError(c.sendSms(trial.sms.id, outsiderPhone, { personalisation: { name: 'T' } }), 400, 'BadRequestError', msg.trialRecipient);
      // A member of another service is no member of this one.
      await assertAPIError(c.sendEmail(trial.email.id, member, { personalisation: { name: 'T' } }), 400, 'BadRequestError', msg.trialRecipient);
    });

    t('a trial service cannot send letters with a live key → 403', async () => {
      const c = client(trial.liveKey);
      await assertAPIError(c.sendLetter(trial.letter.id, { personalisation: address }), 403, 'BadRequestError', msg.trialLetter);
      await assertAPIError(c.sendPrecompiledLetter('trial', letterPDF(['A', 'B', 'SW14 6BH'], 'x')), 403, 'BadRequestError', msg.trialLetter);
    });

    t('a test key of a trial service sends to anyone, letters included', async () => {
      const c = client(trial.testKey);
      assertEmailSent(await c.sendEmail(trial.email.id, outsider, { personalisation: { name: 'T' } }), {
        base, serviceId: trial.id, body: 'Hello T', subject: 'Trial', template: { id: trial.email.id, version: 1 },
      });
      assertLetterSent(await c.sendLetter(trial.letter.id, { personalisation: address }), {
        base, serviceId: trial.id, body: 'Hello The Occupier', subject: 'Trial letter', template: { id: trial.letter.id, version: 1 },
      });
    });
  });

  describe('rate limit (§6.4)', () => {
    t('past the bucket, a send → 429 RateLimitError; GETs and other key types are not limited', async () => {
      const c = client(limited.teamKey);
      const send = () => c.sendEmail(limited.email.id, limited.member);
      // The bucket holds 2 tokens and refills one every 20 s, so the third send within a
      // few seconds is refused.
      for (let i = 0; i < 2; i++) assertJSONResponse(await send(), 201);
      await assertAPIError(send(), 429, 'RateLimitError', 'Exceeded rate limit for key type TEAM of 3 requests per 60 seconds');
      // A refused request is refused before its body is read, whatever the body (§3.4).
      await assertAPIError(c.sendEmail(crypto.randomUUID(), 'not-an-email'), 429, 'RateLimitError',
        'Exceeded rate limit for key type TEAM of 3 requests per 60 seconds');
      assert.equal((await c.getAllTemplates()).status, 200, 'GETs are not rate limited');
      assertJSONResponse(await client(limited.liveKey).sendEmail(limited.email.id, limited.member), 201);
    });
  });

  describe('daily limit (§6.4)', () => {
    t('past the day’s limit for a channel, a send → 429 TooManyRequestsError; test keys are not counted', async () => {
      const c = client(daily.liveKey);
      assertJSONResponse(await c.sendEmail(daily.email.id, outsider), 201);
      await assertAPIError(c.sendEmail(daily.email.id, outsider), 429, 'TooManyRequestsError', 'Exceeded send limits (email: 1) for today');
      assertJSONResponse(await client(daily.testKey).sendEmail(daily.email.id, outsider), 201);
    });
  });
});
