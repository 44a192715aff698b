// Acceptance test for the Notify platform, part 3: the official npm package
// notifications-node-client 8.4.0, unchanged, reads notifications, templates and received text
// messages from a live `commons serve` on each engine, and routes requests through its own
// axios instance and a proxy; every answer is checked field by field against GOV.UK Notify
// API v2 (/work/shared/spec/notify.md §2.6, §2.7, §2.9–§2.12).

import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import crypto from 'node:crypto';
import { before, describe } from 'node:test';

import {
  assertAPIError, assertJSONResponse, assertKeys, assertNotification, assertPreview, assertReceivedText,
  assertTemplate,
} from './expect.js';
import {
  address, axios, inboundNumber, member, msg, onEachEngine, outsider, settle, setUp, smsCallbackSecret,
  statusList, t,
} from './fixture.js';
import { sleep } from './harness.js';

onEachEngine('reading', (w) => {
  const { live, trial, limited } = w;
  const client = (key) => w.client(key);
  let base;
  before(() => {
    ({ base } = w);
  });

  describe('getNotificationById and getNotifications (§2.6, §2.7)', () => {
    const sent = []; // oldest first: { id, type, reference, status }

    setUp(async () => {
      // The test key sends through the simulated provider (§4.4), so each message reaches a
      // known final status; the list only shows the caller's key type, so these five are
      // all the test key will see.
      const c = client(live.testKey);
      const plan = [
        { type: 'email', to: outsider, name: 'A', status: 'delivered' },
        { type: 'email', to: 'perm-fail@simulator.notify', name: 'B', status: 'permanent-failure' },
        { type: 'sms', to: '07700900001', name: 'C', status: 'delivered' },
        { type: 'sms', to: '07700900003', name: 'D', status: 'temporary-failure' },
        { type: 'letter', name: 'E', status: 'received' },
      ];
      for (const [i, p] of plan.entries()) {
        const options = { personalisation: { name: p.name }, reference: `list-${i + 1}` };
        let res;
        if (p.type === 'email') res = await c.sendEmail(live.email.id, p.to, options);
        else if (p.type === 'sms') res = await c.sendSms(live.sms.id, p.to, options);
        else res = await c.sendLetter(live.letter.id, { ...options, personalisation: { ...address, name: p.name } });
        assert.equal(res.status, 201);
        sent.push({ ...p, id: res.data.id, reference: options.reference });
        await sleep(5); // distinct created_at, so the order is certain
      }
      for (const n of sent) await settle(c, n.id, n.status);
    });

    const ids = (res) => res.data.notifications.map((n) => n.id);
    const newestFirst = (list) => [...list].reverse().map((n) => n.id);

    t('a bad or unknown id → 400 / 404', async () => {
      const c = client(live.liveKey);
      await assertAPIError(c.getNotificationById('not-a-uuid'), 400, 'ValidationError', 'notification_id is not a valid UUID');
      await assertAPIError(c.getNotificationById(crypto.randomUUID()), 404, 'NoResultFound', msg.noResult);
    });

    t('by id, any key of the service sees any of its notifications; another service sees none', async () => {
      const first = sent[0].id;
      for (const key of [live.liveKey, live.teamKey, live.testKey]) {
        assert.equal((await client(key).getNotificationById(first)).data.id, first);
      }
      await assertAPIError(client(trial.liveKey).getNotificationById(first), 404, 'NoResultFound', msg.noResult);
    });

    t('no filter: every notification of the caller’s key type, newest first, with links', async () => {
      const c = client(live.testKey);
      const res = await c.getNotifications();
      assertJSONResponse(res, 200);
      assertKeys(res.data, ['notifications', 'links'], 'list');
      assert.deepEqual(ids(res), newestFirst(sent));
      res.data.notifications.forEach((n, i) => {
        const s = sent[sent.length - 1 - i];
        const exp = { id: s.id, type: s.type, reference: s.reference, status: s.status, base, to: s.to };
        if (s.type === 'email') {
          Object.assign(exp, { template: { id: live.email.id, version: 1 }, subject: `Hello ${s.name}`,
            body: `Hello ${s.name}\r\n\r\nFunctional test help make our world a better place` });
        } else if (s.type === 'sms') {
          Object.assign(exp, { template: { id: live.sms.id, version: 1 }, body: `Hello ${s.name}\n\nFunctional Tests make our world a better place` });
        } else {
          Object.assign(exp, { template: { id: live.letter.id, version: 1 }, subject: `Letter for ${s.name}`, body: 'Hello The Occupier',
            postage: 'second', lines: { line_1: address.address_line_1, line_2: address.address_line_2, postcode: address.postcode } });
        }
        assertNotification(n, exp, `notifications[${i}]`);
      });
      assertKeys(res.data.links, ['current', 'next'], 'links');
      assert.equal(res.data.links.current, `${base}/v2/notifications`);
      assert.equal(res.data.links.next, `${base}/v2/notifications?older_than=${sent[0].id}`);
    });

    t('each key type sees only its own notifications', async () => {
      const byLive = (await client(live.liveKey).sendEmail(live.email.id, member, { personalisation: { name: 'L' } })).data.id;
      const byTeam = (await client(live.teamKey).sendEmail(live.email.id, member, { personalisation: { name: 'T' } })).data.id;
      const liveIds = ids(await client(live.liveKey).getNotifications());
      const teamIds = ids(await client(live.teamKey).getNotifications());
      assert.deepEqual(liveIds, [byLive], 'the live key’s list');
      assert.deepEqual(teamIds, [byTeam], 'the team key’s list');
      assert.deepEqual(ids(await client(live.testKey).getNotifications()), newestFirst(sent), 'the test key’s list');
    });

    t('filter by template type', async () => {
      const c = client(live.testKey);
      for (const type of ['email', 'sms', 'letter']) {
        const res = await c.getNotifications(type);
        const want = sent.filter((n) => n.type === type);
        assert.deepEqual(ids(res), newestFirst(want), type);
        assert.equal(res.data.links.current, `${base}/v2/notifications?template_type=${type}`);
        assert.equal(res.data.links.next, `${base}/v2/notifications?template_type=${type}&older_than=${want[0].id}`);
      }
    });

    t('filter by status, including the failed, accepted and received groupings', async () => {
      const c = client(live.testKey);
      const cases = [
        // A letter shown as received is stored as delivered, so it matches delivered too.
        [undefined, 'delivered', sent.filter((n) => n.status === 'delivered' || n.status === 'received')],
        [undefined, 'permanent-failure', [sent[1]]],
        ['sms', 'temporary-failure', [sent[3]]],
        [undefined, 'failed', [sent[1], sent[3]]],
        ['letter', 'received', [sent[4]]],
        ['letter', 'accepted', []],
        ['email', 'sending', []],
      ];
      for (const [type, status, want] of cases) {
        const res = await c.getNotifications(type, status);
        assert.deepEqual(ids(res), newestFirst(want), `${type ?? 'any'} ${status}`);
        const query = type ? `template_type=${type}&status=${status}` : `status=${status}`;
        assert.equal(res.data.links.current, `${base}/v2/notifications?${query}`);
        if (want.length) assert.equal(res.data.links.next, `${base}/v2/notifications?${query}&older_than=${want[0].id}`);
        else assertKeys(res.data.links, ['current'], 'links of an empty page');
      }
    });

    t('filter by reference', async () => {
      const c = client(live.testKey);
      const res = await c.getNotifications(undefined, undefined, 'list-3');
      assert.deepEqual(ids(res), [sent[2].id]);
      assert.equal(res.data.links.current, `${base}/v2/notifications?reference=list-3`);
      assert.deepEqual(ids(await c.getNotifications(undefined, undefined, 'no-such-reference')), []);
      assert.deepEqual(ids(await c.getNotifications('email', undefined, 'list-3')), []);
    });

    t('paging with olderThanId follows links.next to an empty last page', async () => {
      const c = client(live.testKey);
      assert.deepEqual(ids(await c.getNotifications(undefined, undefined, undefined, sent[2].id)), newestFirst(sent.slice(0, 2)));
      assert.deepEqual(ids(await c.getNotifications('sms', undefined, undefined, sent[3].id)), [sent[2].id]);
      const last = await c.getNotifications(undefined, undefined, undefined, sent[0].id);
      assert.deepEqual(last.data.notifications, []);
      assertKeys(last.data.links, ['current'], 'links of an empty page');
      assert.equal(last.data.links.current, `${base}/v2/notifications?older_than=${sent[0].id}`);
      // An id the service does not have gives an empty page, not an error.
      assert.deepEqual(ids(await c.getNotifications(undefined, undefined, undefined, crypto.randomUUID())), []);
    });

    t('bad filters → 400 ValidationError', async () => {
      const c = client(live.testKey);
      await assertAPIError(c.getNotifications('fax'), 400, 'ValidationError', 'template_type fax is not one of [sms, email, letter]');
      await assertAPIError(c.getNotifications(undefined, 'lost'), 400, 'ValidationError', `status lost is not one of [${statusList}]`);
      await assertAPIError(c.getNotifications(undefined, undefined, undefined, 'not-a-uuid'), 400, 'ValidationError', 'older_than is not a valid UUID');
    });
  });

  describe('templates (§2.9–§2.11)', () => {
    const expectOf = (tpl, extra = {}) => ({
      id: tpl.id, type: tpl.type, name: tpl.name, version: tpl.version, body: tpl.content, subject: tpl.subject ?? null,
      postage: tpl.postage ?? null, personalisation: extra.personalisation, updated: extra.updated ?? false,
      letterContactBlock: tpl.letterContactBlock ?? null,
    });

    t('getTemplateById: each type, field by field', async () => {
      const c = client(live.liveKey);
      const cases = [
        [live.email, ['name']],
        [live.sms, ['name']],
        [live.letter, ['name', 'address_line_1']],
        [live.file, ['link_to_file']],
      ];
      for (const [tpl, personalisation] of cases) {
        const res = await c.getTemplateById(tpl.id);
        assertJSONResponse(res, 200);
        assertTemplate(res.data, expectOf(tpl, { personalisation }), tpl.name);
      }
    });

    t('getTemplateById gives the latest version; getTemplateByIdAndVersion any version', async () => {
      const c = client(live.liveKey);
      assertTemplate((await c.getTemplateById(live.versioned.id)).data,
        expectOf(live.versionedV2, { personalisation: ['name', 'extra'], updated: true }));
      assertTemplate((await c.getTemplateByIdAndVersion(live.versioned.id, 1)).data,
        expectOf(live.versioned, { personalisation: ['name'] }), 'version 1');
      assertTemplate((await c.getTemplateByIdAndVersion(live.versioned.id, 2)).data,
        expectOf(live.versionedV2, { personalisation: ['name', 'extra'], updated: true }), 'version 2');
      await assertAPIError(c.getTemplateByIdAndVersion(live.versioned.id, 3), 404, 'NoResultFound', msg.noResult);
    });

    t('an archived template is still returned by id', async () => {
      const res = await client(live.liveKey).getTemplateById(live.archived.id);
      assert.equal(res.data.id, live.archived.id);
      assert.equal(res.data.body, 'Old news');
    });

    t('unknown, malformed and other services’ template ids → 404 / 400', async () => {
      const c = client(live.liveKey);
      await assertAPIError(c.getTemplateById(crypto.randomUUID()), 404, 'NoResultFound', msg.noResult);
      await assertAPIError(c.getTemplateById(trial.email.id), 404, 'NoResultFound', msg.noResult);
      await assertAPIError(c.getTemplateById('not-a-uuid'), 400, 'ValidationError', 'id is not a valid UUID');
      await assertAPIError(c.getTemplateByIdAndVersion(trial.email.id, 1), 404, 'NoResultFound', msg.noResult);
    });

    t('getAllTemplates: every live template sorted by name, archived ones left out; with each type', async () => {
      const c = client(live.liveKey);
      const personalisation = {
        [live.email.id]: ['name'], [live.sanitise.id]: ['name', 'plain'], [live.file.id]: ['link_to_file'],
        [live.sms.id]: ['name'], [live.letter.id]: ['name', 'address_line_1'], [live.versioned.id]: ['name', 'extra'],
      };
      const all = [live.email, live.file, live.sanitise, live.letter, live.sms, live.versionedV2];
      const res = await c.getAllTemplates();
      assertJSONResponse(res, 200);
      assertKeys(res.data, ['templates'], 'templates response');
      assert.deepEqual(res.data.templates.map((x) => x.name), all.map((x) => x.name), 'names, in order');
      res.data.templates.forEach((got, i) => assertTemplate(got, expectOf(all[i], {
        personalisation: personalisation[all[i].id], updated: all[i] === live.versionedV2,
      }), `templates[${i}]`));
      for (const type of ['email', 'sms', 'letter']) {
        const typed = await c.getAllTemplates(type);
        assert.deepEqual(typed.data.templates.map((x) => x.id), all.filter((x) => x.type === type).map((x) => x.id), type);
      }
      assert.deepEqual((await client(limited.liveKey).getAllTemplates('sms')).data, { templates: [] });
    });

    t('getAllTemplates with an unknown type → 400', async () => {
      await assertAPIError(client(live.liveKey).getAllTemplates('fax'), 400, 'ValidationError', 'type fax is not one of [sms, email, letter]');
    });

    t('previewTemplateById for each type', async () => {
      const c = client(live.liveKey);
      assertPreview(await c.previewTemplateById(live.email.id, { name: 'Foo' }), {
        id: live.email.id, type: 'email', version: 1, subject: 'Hello Foo',
        body: 'Hello Foo\r\n\r\nFunctional test help make our world a better place',
        htmlIncludes: ['Hello Foo', 'Functional test help make our world a better place'],
      });
      assertPreview(await c.previewTemplateById(live.sms.id, { name: 'Foo' }), {
        id: live.sms.id, type: 'sms', version: 1, body: 'Hello Foo\n\nFunctional Tests make our world a better place',
      });
      assertPreview(await c.previewTemplateById(live.letter.id, { name: 'Foo', ...address }), {
        id: live.letter.id, type: 'letter', version: 1, body: 'Hello The Occupier', subject: 'Letter for Foo', postage: 'second',
      });
      assertPreview(await c.previewTemplateById(live.versioned.id, { name: 'Foo', extra: 'more' }), {
        id: live.versioned.id, type: 'sms', version: 2, body: 'Version two for Foo and more',
      });
      // Without personalisation the client posts {}.
      assertPreview(await client(limited.liveKey).previewTemplateById(limited.email.id), {
        id: limited.email.id, type: 'email', version: 1, body: 'Hi there', subject: 'Hi', htmlIncludes: ['Hi there'],
      });
    });

    t('previewTemplateById: missing personalisation → 400; unknown template → 404', async () => {
      const c = client(live.liveKey);
      await assertAPIError(c.previewTemplateById(live.email.id), 400, 'BadRequestError', 'Missing personalisation: name');
      await assertAPIError(c.previewTemplateById(live.versioned.id, { name: 'x' }), 400, 'BadRequestError', 'Missing personalisation: extra');
      await assertAPIError(c.previewTemplateById(crypto.randomUUID(), { name: 'x' }), 404, 'NoResultFound', msg.noResult);
    });
  });

  describe('getReceivedTexts (§2.12)', () => {
    const received = []; // oldest first

    /** The service's received texts, newest first, with the ids filled in on received. */
    const listed = async (c) => {
      const res = await c.getReceivedTexts();
      res.data.received_text_messages.forEach((m, i) => { received[received.length - 1 - i].id = m.id; });
      return res;
    };

    setUp(async () => {
      // Replies arrive as the text message provider reports them.
      for (const [from, body] of [['07700900111', 'First reply'], ['+44 7700 900222', 'Second reply'], ['447700900333', 'Third reply']]) {
        const res = await fetch(`${base}/api/notify/v1/providers/sms/inbound`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${smsCallbackSecret}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ id: crypto.randomUUID(), from, to: inboundNumber, body }),
          signal: AbortSignal.timeout(10_000),
        });
        assert.equal(res.status, 204, `inbound message from ${from}: ${await res.text()}`);
        received.push({ userNumber: `44${from.replace(/\D/g, '').replace(/^(0|44)/, '')}`, content: body });
        await sleep(5);
      }
    });

    t('newest first, field by field, with links', async () => {
      const c = client(live.liveKey);
      const res = await listed(c);
      assertJSONResponse(res, 200);
      assertKeys(res.data, ['received_text_messages', 'links'], 'received texts');
      const msgs = res.data.received_text_messages;
      assert.equal(msgs.length, received.length);
      msgs.forEach((m, i) => {
        const r = received[received.length - 1 - i];
        assertReceivedText(m, { userNumber: r.userNumber, notifyNumber: live.inbound.value, serviceId: live.id, content: r.content }, `received_text_messages[${i}]`);
      });
      assertKeys(res.data.links, ['current', 'next'], 'links');
      assert.equal(res.data.links.current, `${base}/v2/received-text-messages`);
      assert.equal(res.data.links.next, `${base}/v2/received-text-messages?older_than=${received[0].id}`);
    });

    t('paging with olderThan, to an empty last page', async () => {
      const c = client(live.liveKey);
      await listed(c);
      const page = await c.getReceivedTexts(received[2].id);
      assert.deepEqual(page.data.received_text_messages.map((m) => m.id), [received[1].id, received[0].id]);
      assert.equal(page.data.links.current, `${base}/v2/received-text-messages`);
      assert.equal(page.data.links.next, `${base}/v2/received-text-messages?older_than=${received[0].id}`);
      const last = await c.getReceivedTexts(received[0].id);
      assert.deepEqual(last.data, { received_text_messages: [], links: { current: `${base}/v2/received-text-messages` } });
      await assertAPIError(c.getReceivedTexts('not-a-uuid'), 400, 'ValidationError', 'older_than is not a valid UUID');
    });

    t('another service sees none of them', async () => {
      const res = await client(trial.liveKey).getReceivedTexts();
      assert.deepEqual(res.data, { received_text_messages: [], links: { current: `${base}/v2/received-text-messages` } });
    });
  });

  describe('setClient and setProxy', () => {
    t('setClient: requests go through the given axios instance', async () => {
      const c = client(live.liveKey);
      const instance = axios.create({ timeout: 10_000 });
      const seen = [];
      instance.interceptors.request.use((config) => {
        seen.push(`${config.method.toUpperCase()} ${config.url}`);
        return config;
      });
      c.setClient(instance);
      assert.equal((await c.getTemplateById(live.email.id)).data.id, live.email.id);
      assert.equal((await c.sendEmail(live.email.id, member, { personalisation: { name: 'Foo' } })).status, 201);
      assert.deepEqual(seen, [`GET ${base}/v2/template/${live.email.id}`, `POST ${base}/v2/notifications/email`]);
    });

    t('setProxy: requests go through the given HTTP proxy', async () => {
      const seen = [];
      const proxy = http.createServer((req, res) => {
        seen.push(`${req.method} ${req.url}`);
        const target = new URL(req.url);
        const upstream = http.request({
          host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers: req.headers,
        }, (up) => {
          res.writeHead(up.statusCode, up.headers);
          up.pipe(res);
        });
        upstream.on('error', (err) => { res.writeHead(502); res.end(String(err)); });
        req.pipe(upstream);
      });
      proxy.listen(0, '127.0.0.1');
      await once(proxy, 'listening');
      try {
        const c = client(live.liveKey);
        c.setProxy({ protocol: 'http', host: '127.0.0.1', port: proxy.address().port });
        assert.equal((await c.getAllTemplates('sms')).status, 200);
        assert.equal((await c.previewTemplateById(live.sms.id, { name: 'P' })).data.body, 'Hello P\n\nFunctional Tests make our world a better place');
        assert.deepEqual(seen, [`GET ${base}/v2/templates?type=sms`, `POST ${base}/v2/template/${live.sms.id}/preview`]);
      } finally {
        proxy.closeAllConnections();
        proxy.close();
      }
    });
  });
});
