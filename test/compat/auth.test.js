// Acceptance test for the Notify platform, part 1: the official npm package
// notifications-node-client 8.4.0, unchanged, against a live `commons serve` on each engine —
// which client is under test, and authentication (/work/shared/spec/notify.md §1.3).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe } from 'node:test';

import { assertAPIError } from './expect.js';
import {
  clientMethods, clientVersion, guestPhone, member, msg, NotifyClient, onEachEngine, t, withClockOffset,
} from './fixture.js';
import { sleep, sqlString, sqlTime } from './harness.js';

onEachEngine('authentication', (w) => {
  const { live, keyless, archived } = w;
  const client = (key) => w.client(key);
  let base;
  let server;
  before(() => {
    ({ base, server } = w);
  });

  t('the client under test is notifications-node-client 8.4.0 and every one of its methods is driven by these tests', () => {
    assert.equal(clientVersion, '8.4.0');
    const methods = Object.keys(NotifyClient.prototype).sort();
    assert.deepEqual(methods, [...clientMethods].sort(), 'NotifyClient methods');
  });

  describe('authentication (§1.3)', () => {
    t('a key whose secret the service does not have → 403 API key not found', async () => {
      const bad = `compat-${live.id}-${crypto.randomUUID()}`;
      await assertAPIError(client(bad).getAllTemplates(), 403, 'AuthError', msg.keyNotFound);
      await assertAPIError(client(bad).sendEmail(live.email.id, member, { personalisation: { name: 'x' } }), 403, 'AuthError', msg.keyNotFound);
    });

    t('a key for a service that does not exist → 403 service not found', async () => {
      await assertAPIError(client(`x-${crypto.randomUUID()}-${crypto.randomUUID()}`).getAllTemplates(), 403, 'AuthError', msg.serviceNotFound);
    });

    t('a service id that is not a UUID, a service without keys, an archived service → 403', async () => {
      const secret = live.liveKey.slice(-36);
      await assertAPIError(new NotifyClient(base, 'not-a-service-id', secret).getAllTemplates(), 403, 'AuthError',
        'Invalid token: service id is not the right data type');
      await assertAPIError(client(`x-${keyless.id}-${crypto.randomUUID()}`).getAllTemplates(), 403, 'AuthError',
        'Invalid token: service has no API keys');
      assert.equal((await client(archived.liveKey).getAllTemplates()).status, 200, 'works before the service is archived');
      await server.sql(`UPDATE services SET archived_at = ${sqlString(sqlTime())} WHERE id = ${sqlString(archived.id)}`);
      await sleep(700); // past the key cache
      await assertAPIError(client(archived.liveKey).getAllTemplates(), 403, 'AuthError', 'Invalid token: service is archived');
    });

    t('the three constructor forms reach the same service', async () => {
      const secret = live.liveKey.slice(-36);
      for (const c of [new NotifyClient(base, live.liveKey), new NotifyClient(base, live.id, live.liveKey),
        new NotifyClient(base, `${live.id}-${secret}`), new NotifyClient(base, live.id, secret)]) {
        const res = await c.getTemplateById(live.email.id);
        assert.equal(res.status, 200);
        assert.equal(res.data.id, live.email.id);
      }
    });

    t('clock skew: a token issued 45 s in the future or past → 403; 20 s off is accepted', async () => {
      const c = client(live.liveKey);
      for (const offset of [45_000, -45_000, 120_000]) {
        const call = withClockOffset(offset, () => c.getAllTemplates());
        await assertAPIError(call, 403, 'AuthError', msg.clock);
      }
      const sent = withClockOffset(45_000, () => c.sendSms(live.sms.id, guestPhone, { personalisation: { name: 'x' } }));
      await assertAPIError(sent, 403, 'AuthError', msg.clock);
      for (const offset of [20_000, -20_000]) {
        const res = await withClockOffset(offset, () => c.getAllTemplates());
        assert.equal(res.status, 200);
      }
    });

    t('a revoked key → 403 API key revoked (once the 0.5 s key cache has passed)', async () => {
      const c = client(live.revokeKey);
      assert.equal((await c.getAllTemplates()).status, 200, 'works before it is revoked');
      await server.sql(`UPDATE api_keys SET revoked_at = ${sqlString(sqlTime())}
        WHERE service_id = ${sqlString(live.id)} AND name = 'compat to revoke'`);
      await sleep(700);
      await assertAPIError(c.getAllTemplates(), 403, 'AuthError', msg.keyRevoked);
      await assertAPIError(c.sendEmail(live.email.id, member, { personalisation: { name: 'x' } }), 403, 'AuthError', msg.keyRevoked);
      // The service's other keys still work.
      assert.equal((await client(live.liveKey).getAllTemplates()).status, 200);
    });

    t('requests without a usable bearer token (not made by the client) → 401/403 as the reference', async () => {
      const cases = [
        [{}, 401, msg.noToken],
        [{ Authorization: '' }, 401, msg.noToken],
        [{ Authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, 401, msg.notBearer],
        [{ Authorization: 'Bearer not-a-jwt' }, 403, msg.badToken],
        [{ Authorization: `Bearer ${live.liveKey}` }, 403, msg.badToken],
      ];
      for (const [headers, status, message] of cases) {
        const res = await fetch(`${base}/v2/templates`, { headers, signal: AbortSignal.timeout(10_000) });
        assert.equal(res.status, status, `${JSON.stringify(headers)}`);
        assert.deepEqual(await res.json(), { status_code: status, errors: [{ error: 'AuthError', message }] }, JSON.stringify(headers));
      }
    });
  });
});
