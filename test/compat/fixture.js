// The world every compatibility test runs in: for each engine, a fresh database and a live
// `commons serve`, with services, keys, team members, templates, senders and guest lists set
// up as a service team would set them up, and the helpers the tests share. Test files call
// onEachEngine; node --test does not run this file itself (its name matches none of the
// runner's test file patterns).
//
// Set-up uses what a service team, an operator or a provider has: the admin command line,
// Commons' own management API (/api/notify/v1/…) and the text message provider's inbound
// endpoint; direct SQL only for what no API offers (granting a service permission, revoking a
// key, archiving a service, lowering a service's limits, setting its contact link).

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import {
  assertRunnable, engines, eventually, skipUnlessRunnable, sqlString, sqlTime, startCommons,
} from './harness.js';
import { assertUUID } from './expect.js';

const require = createRequire(import.meta.url);
export const { NotifyClient } = require('notifications-node-client');
// The client's own axios (whatever version its lock resolved): a default timeout keeps every
// call bounded without changing how the client makes it; setClient gets an instance of it.
export const axios = require(require.resolve('axios', { paths: [require.resolve('notifications-node-client')] }));
axios.defaults.timeout = 20_000;

export const clientVersion = require('notifications-node-client/package.json').version;

// Exact messages the reference answers with (§1.3, §3.2).
export const msg = {
  keyNotFound: 'Invalid token: API key not found',
  keyRevoked: 'Invalid token: API key revoked',
  serviceNotFound: 'Invalid token: service not found',
  clock: 'Error: Your system clock must be accurate to within 30 seconds',
  noToken: 'Unauthorized: authentication token must be provided',
  notBearer: 'Unauthorized: authentication bearer scheme must be used',
  badToken: 'Invalid token: make sure your API token matches the example at https://docs.notifications.service.gov.uk/rest-api.html#authorisation-header',
  teamRecipient: 'Can’t send to this recipient using a team-only API key',
  trialRecipient: 'Can’t send to this recipient when service is in trial mode – see https://www.notifications.service.gov.uk/trial-mode',
  teamLetter: 'Cannot send letters with a team api key',
  trialLetter: 'Cannot send letters when service is in trial mode',
  templateNotFound: 'Template not found',
  noResult: 'No result found',
  pdfNotReady: 'PDF not available yet, try again later',
  notLetter: 'Notification is not a letter',
};

export const statusList = 'cancelled, created, sending, sent, delivered, pending, failed, technical-failure, temporary-failure, '
  + 'permanent-failure, pending-virus-check, validation-failed, virus-scan-failed, returned-letter, accepted, received';

// Every method of the client, and the tests below that drive it. A new client version with a
// method this list lacks fails the coverage test rather than going untested.
export const clientMethods = [
  'sendEmail', 'sendSms', 'sendLetter', 'sendPrecompiledLetter', 'getNotificationById', 'getNotifications',
  'getPdfForLetterNotification', 'getTemplateById', 'getTemplateByIdAndVersion', 'getAllTemplates',
  'previewTemplateById', 'getReceivedTexts', 'setProxy', 'setClient', 'prepareUpload',
];

// Each test gets a bound; each engine's whole run gets one too. A failure is remembered so
// that the server's own output can be shown at the end of the engine's run.
const testTimeout = 90_000;
let failures = 0;
const counted = (fn) => async (...args) => {
  try {
    return await fn(...args);
  } catch (err) {
    failures++;
    throw err;
  }
};
export const t = (name, fn) => it(name, { timeout: testTimeout }, counted(fn));
export const setUp = (fn) => before(counted(fn), { timeout: 2 * testTimeout });

// Recipients. Team members and guest-list entries may receive from team keys and trial
// services; everyone else may not.
export const member = 'member@compat.example.gov.uk';
export const guestEmail = 'guest@compat.example.gov.uk';
export const outsider = 'outsider@compat.example.gov.uk';
export const guestPhone = '07700 900456'; // as the client sends it; GOV.UK Notify keeps it as given
export const outsiderPhone = '07700900789';
export const inboundNumber = '07700900123';
export const smsCallbackSecret = crypto.randomBytes(24).toString('hex');

export const address = {
  address_line_1: 'The Occupier',
  address_line_2: '123 High Street',
  postcode: 'SW14 6BH',
};

// Date.now is what the client signs with (iat = round(Date.now()/1000)); shifting it while the
// request is built fakes a client whose clock is off.
export function withClockOffset(ms, call) {
  const realNow = Date.now;
  Date.now = () => realNow() + ms;
  try {
    return call();
  } finally {
    Date.now = realNow;
  }
}

/** Awaits a getPdfForLetterNotification until it stops answering PDFNotReadyError. */
export async function pollPDF(client, id) {
  const notReady = [];
  const pdf = await eventually(async () => {
    try {
      return await client.getPdfForLetterNotification(id);
    } catch (err) {
      if (err.response?.data?.errors?.[0]?.error === 'PDFNotReadyError') {
        notReady.push(err.response);
        return undefined;
      }
      throw err;
    }
  }, { timeout: 45_000, interval: 250, what: `the PDF of letter ${id}` });
  // While it was not ready, each answer was exactly the reference's (§2.8).
  for (const res of notReady) {
    assert.equal(res.status, 400);
    assert.deepEqual(res.data, { status_code: 400, errors: [{ error: 'PDFNotReadyError', message: msg.pdfNotReady }] });
  }
  return { pdf, notReadyCount: notReady.length };
}

/** Waits until a notification's status is one of want, and returns the notification. */
export function settle(client, id, want) {
  const wanted = new Set([want].flat());
  return eventually(async () => {
    const res = await client.getNotificationById(id);
    return wanted.has(res.data.status) ? res.data : undefined;
  }, { timeout: 45_000, interval: 250, what: `notification ${id} reaching ${[...wanted]}` });
}

/**
 * Defines the tests of one area on each engine: body(w) runs inside the engine's describe
 * block, after the set-up hook, so its own hooks and tests see w filled in — w.server,
 * w.base, w.client(key), and the services w.live, w.trial, w.limited, w.daily, w.keyless
 * and w.archived with their keys and templates.
 */
export function onEachEngine(area, body) {
  for (const engine of engines()) {
    describe(`${area}: notifications-node-client ${clientVersion} against commons serve on ${engine.name}`, { ...skipUnlessRunnable(engine), timeout: 15 * 60_000 }, () => {
      let database;
      let server;
      // Services, keys and templates made in before(), shared with the tests.
      const w = { live: {}, trial: {}, limited: {}, daily: {}, keyless: {}, archived: {}, server: null, base: null };
      w.client = (key) => new NotifyClient(w.base, key);
      const { live, trial, limited, daily, keyless, archived } = w;

      setUp(async () => {
        assertRunnable(engine);
        database = await engine.create();
        server = await startCommons(database, { COMMONS_SMS_CALLBACK_SECRET: smsCallbackSecret });
        w.server = server;
        w.base = server.baseURL;

        // A live service and a trial service, which most tests use; services with low limits, one
        // without keys and one to archive.
        for (const [svc, name, isLive] of [[live, 'Compat live service', true], [trial, 'Compat trial service', false],
          [limited, 'Compat rate-limited service', true], [daily, 'Compat daily-limited service', true],
          [keyless, 'Compat service without keys', true], [archived, 'Compat archived service', true]]) {
          const out = await server.admin('create-service', { name, live: isLive });
          assertUUID(out.id, 'create-service id');
          svc.id = out.id;
        }
        const key = async (svc, type, name) => (await server.admin('create-api-key', { service: svc.id, type, name })).key;
        live.liveKey = await key(live, 'live', 'compat live');
        live.teamKey = await key(live, 'team', 'compat team');
        live.testKey = await key(live, 'test', 'compat test');
        live.revokeKey = await key(live, 'live', 'compat to revoke');
        trial.liveKey = await key(trial, 'live', 'trial live');
        trial.testKey = await key(trial, 'test', 'trial test');
        limited.teamKey = await key(limited, 'team', 'limited team');
        limited.liveKey = await key(limited, 'live', 'limited live');
        daily.liveKey = await key(daily, 'live', 'daily live');
        daily.testKey = await key(daily, 'test', 'daily test');
        archived.liveKey = await key(archived, 'live', 'archived live');
        await server.admin('create-user', { email: member, service: live.id, permissions: 'send_messages' });
        await server.admin('create-user', { email: 'trial-member@compat.example.gov.uk', service: trial.id, permissions: 'send_messages' });
        await server.admin('create-user', { email: 'limited-member@compat.example.gov.uk', service: limited.id, permissions: 'send_messages' });
        trial.member = 'trial-member@compat.example.gov.uk';
        limited.member = 'limited-member@compat.example.gov.uk';

        // Templates through the management API, as a team keeping them in code would.
        const tpl = async (key, body) => {
          const made = await server.mustAPI(201, 'POST', '/api/notify/v1/templates', key, body);
          assertUUID(made.id, `template ${body.name}`);
          return { ...body, id: made.id, version: made.version ?? 1 };
        };
        live.email = await tpl(live.liveKey, {
          name: 'Compat email', type: 'email', subject: 'Hello ((name))',
          content: 'Hello ((name))\r\n\r\nFunctional test help make our world a better place',
        });
        live.sanitise = await tpl(live.liveKey, {
          name: 'Compat email sanitise', type: 'email', subject: 'Sanitised content check', content: 'Hello ((name)) ((plain))',
        });
        live.file = await tpl(live.liveKey, {
          name: 'Compat email file', type: 'email', subject: 'Your file', content: 'Download your file: ((link_to_file))',
        });
        live.sms = await tpl(live.liveKey, {
          name: 'Compat sms', type: 'sms', content: 'Hello ((name))\n\nFunctional Tests make our world a better place',
        });
        live.contact = await server.mustAPI(201, 'POST', '/api/notify/v1/letter-contacts', live.liveKey, { value: 'Compat team\nPO Box 1\nSW1A 2AA' });
        assertUUID(live.contact.id, 'letter contact id');
        live.letter = await tpl(live.liveKey, {
          name: 'Compat letter', type: 'letter', subject: 'Letter for ((name))', content: 'Hello ((address_line_1))', postage: 'second',
          letter_contact_id: live.contact.id,
        });
        live.letter.letterContactBlock = 'Compat team\nPO Box 1\nSW1A 2AA';
        live.versioned = await tpl(live.liveKey, { name: 'Compat versioned', type: 'sms', content: 'Version one for ((name))' });
        live.versionedV2 = { ...live.versioned, content: 'Version two for ((name)) and ((extra))' };
        const updated = await server.mustAPI(200, 'PUT', `/api/notify/v1/templates/${live.versioned.id}`, live.liveKey,
          { name: live.versioned.name, type: 'sms', content: live.versionedV2.content });
        assert.equal(updated.version, 2, 'a changed template is version 2');
        live.versionedV2.version = 2;
        live.archived = await tpl(live.liveKey, { name: 'Compat archived', type: 'sms', content: 'Old news' });
        await server.mustAPI(200, 'POST', `/api/notify/v1/templates/${live.archived.id}/archive`, live.liveKey);
        trial.email = await tpl(trial.liveKey, { name: 'Trial email', type: 'email', subject: 'Trial', content: 'Hello ((name))' });
        trial.sms = await tpl(trial.liveKey, { name: 'Trial sms', type: 'sms', content: 'Hello ((name))' });
        trial.letter = await tpl(trial.liveKey, {
          name: 'Trial letter', type: 'letter', subject: 'Trial letter', content: 'Hello ((address_line_1))', postage: 'first',
        });
        limited.email = await tpl(limited.liveKey, { name: 'Limited email', type: 'email', subject: 'Hi', content: 'Hi there' });
        daily.email = await tpl(daily.liveKey, { name: 'Daily email', type: 'email', subject: 'Hi', content: 'Hi there' });

        // A reply-to address; text message senders: Compat (the default) and an inbound number.
        live.replyTo = await server.mustAPI(201, 'POST', '/api/notify/v1/reply-to-addresses', live.liveKey, { value: 'replies@compat.example.gov.uk', is_default: true });
        assertUUID(live.replyTo.id, 'reply-to address id');
        live.sender = await server.mustAPI(201, 'POST', '/api/notify/v1/sms-senders', live.liveKey, { value: 'Compat', is_default: true });
        assertUUID(live.sender.id, 'sms sender id');
        live.inbound = await server.mustAPI(201, 'POST', '/api/notify/v1/sms-senders', live.liveKey, { value: inboundNumber, inbound: true, is_default: false });
        assertUUID(live.inbound.id, 'inbound number id');

        // Guest lists: a team key of the live service, and the trial service, may also send to these.
        await server.mustAPI(200, 'PUT', '/api/notify/v1/guest-list', live.liveKey, { email_addresses: [guestEmail], phone_numbers: [guestPhone] });
        await server.mustAPI(200, 'PUT', '/api/notify/v1/guest-list', trial.liveKey, { email_addresses: [], phone_numbers: [guestPhone] });

        // Receiving text messages is a service permission a platform admin grants.
        await server.sql(`UPDATE services SET permissions = 'email,sms,letter,inbound_sms' WHERE id = ${sqlString(live.id)}`);
        // A rate limit of 3 a minute: a bucket of ceil(3/3)+1 = 2 tokens refilling at one every 20 s.
        await server.sql(`INSERT INTO notify_settings (service_id, rate_limit, updated_at)
          VALUES (${sqlString(limited.id)}, 3, ${sqlString(sqlTime())})
          ON CONFLICT (service_id) DO UPDATE SET rate_limit = 3`);
        // One email a day.
        await server.sql(`INSERT INTO notify_settings (service_id, email_daily_limit, updated_at)
          VALUES (${sqlString(daily.id)}, 1, ${sqlString(sqlTime())})
          ON CONFLICT (service_id) DO UPDATE SET email_daily_limit = 1`);
      });

      after(async () => {
        if (server) {
          await server.stop();
          // A failed run shows what the server said.
          if (failures > 0) console.error(`${engine.name}: ${failures} failure(s); the server's output:\n${server.output()}`);
        }
        failures = 0;
        if (database) await database.drop();
      });

      body(w);
    });
  }
}
