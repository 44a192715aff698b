// What GOV.UK Notify API v2 answers, field by field, as /work/shared/spec/notify.md (§2, §3)
// describes it: the exact set of keys (every one present, nulls included), each value's type
// and shape, and the values the request determines.

import assert from 'node:assert/strict';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// %Y-%m-%dT%H:%M:%S.%fZ: UTC, six fractional digits, a literal Z.
export const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

// Stored statuses (§4.1) as email and text messages show them, and letters' statuses as the
// API shows them (§4.3).
const messageStatuses = new Set(['created', 'sending', 'sent', 'delivered', 'pending', 'failed', 'technical-failure',
  'temporary-failure', 'permanent-failure', 'cancelled']);
const letterStatuses = new Set(['accepted', 'received', 'pending-virus-check', 'virus-scan-failed', 'validation-failed',
  'technical-failure', 'permanent-failure', 'cancelled']);
const finalStatuses = new Set(['sent', 'delivered', 'failed', 'technical-failure', 'temporary-failure',
  'permanent-failure', 'returned-letter', 'cancelled', 'validation-failed', 'received']);
// Email and text message statuses that mean the message was handed to a provider.
const handedOver = new Set(['sending', 'sent', 'delivered', 'pending', 'temporary-failure', 'permanent-failure']);

/** Asserts that obj has exactly these keys, no more and no fewer. */
export function assertKeys(obj, keys, where) {
  assert.ok(obj !== null && typeof obj === 'object' && !Array.isArray(obj), `${where}: expected an object, got ${JSON.stringify(obj)}`);
  assert.deepEqual(Object.keys(obj).sort(), [...keys].sort(), `${where}: keys`);
}

export function assertUUID(v, where) {
  assert.equal(typeof v, 'string', `${where}: expected a UUID string, got ${JSON.stringify(v)}`);
  assert.match(v, UUID, `${where}: not a lowercase UUID`);
}

/** Asserts a timestamp in the reference's format, within a few minutes of now. */
export function assertTimestamp(v, where) {
  assert.equal(typeof v, 'string', `${where}: expected a timestamp string, got ${JSON.stringify(v)}`);
  assert.match(v, TIMESTAMP, `${where}: timestamp format YYYY-MM-DDTHH:MM:SS.ffffffZ`);
  const t = Date.parse(v);
  assert.ok(Math.abs(Date.now() - t) < 10 * 60_000, `${where}: ${v} is not within 10 minutes of now`);
}

export function assertNullOrTimestamp(v, where) {
  if (v !== null) assertTimestamp(v, where);
}

/** Asserts a URL string equal to expected (both parsed, so only meaning counts). */
export function assertURL(v, expected, where) {
  assert.equal(typeof v, 'string', `${where}: expected a URL string, got ${JSON.stringify(v)}`);
  assert.equal(v, expected, `${where}`);
}

/**
 * Awaits a client call that must fail and checks the HTTP status and the whole error body:
 * {"status_code": status, "errors": [{"error": type, "message": message}]}. message may be
 * a RegExp for the few messages that name something Commons chooses (an admin URL).
 */
export async function assertAPIError(promise, status, type, message) {
  let err;
  try {
    const res = await promise;
    assert.fail(`expected HTTP ${status} ${type} "${message}", but the call succeeded with ${res?.status}: ${JSON.stringify(res?.data ?? '[bytes]')}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  assert.ok(err.response, `expected an HTTP error response, got ${err.stack ?? err}`);
  const body = err.response.data;
  assert.equal(err.response.status, status, `HTTP status (body ${JSON.stringify(body)})`);
  assertKeys(body, ['status_code', 'errors'], 'error body');
  assert.equal(body.status_code, status, 'error body status_code');
  assert.ok(Array.isArray(body.errors) && body.errors.length === 1, `errors: ${JSON.stringify(body.errors)}`);
  assertKeys(body.errors[0], ['error', 'message'], 'errors[0]');
  assert.equal(body.errors[0].error, type, `errors[0].error (message ${JSON.stringify(body.errors[0].message)})`);
  if (message instanceof RegExp) assert.match(body.errors[0].message, message, 'errors[0].message');
  else assert.equal(body.errors[0].message, message, 'errors[0].message');
  assertJSONResponse(err.response);
  return body;
}

/** Asserts a successful JSON response with the given status. */
export function assertJSONResponse(res, status) {
  if (status !== undefined) assert.equal(res.status, status, 'HTTP status');
  assert.match(String(res.headers['content-type']), /^application\/json\b/, 'Content-Type');
}

/** The template reference in a send response (§2.2): uri is the services/…/templates/… form. */
function assertSendTemplate(t, exp, base, serviceId) {
  assertKeys(t, ['id', 'version', 'uri'], 'template');
  assert.equal(t.id, exp.id, 'template.id');
  assert.equal(t.version, exp.version, 'template.version');
  assertURL(t.uri, `${base}/services/${serviceId}/templates/${exp.id}`, 'template.uri');
}

/** POST /v2/notifications/email → 201 (§2.2). */
export function assertEmailSent(res, exp) {
  assertJSONResponse(res, 201);
  const b = res.data;
  assertKeys(b, ['id', 'reference', 'content', 'uri', 'template', 'scheduled_for', 'sanitised_content'], 'email response');
  assertUUID(b.id, 'id');
  assert.equal(b.reference, exp.reference ?? null, 'reference');
  assertKeys(b.content, ['from_email', 'body', 'subject', 'one_click_unsubscribe_url'], 'content');
  assert.equal(typeof b.content.from_email, 'string', 'content.from_email');
  assert.match(b.content.from_email, /^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'content.from_email is an email address');
  assert.equal(b.content.body, exp.body, 'content.body');
  assert.equal(b.content.subject, exp.subject, 'content.subject');
  assert.equal(b.content.one_click_unsubscribe_url, exp.unsubscribe ?? null, 'content.one_click_unsubscribe_url');
  assertURL(b.uri, `${exp.base}/v2/notifications/${b.id}`, 'uri');
  assertSendTemplate(b.template, exp.template, exp.base, exp.serviceId);
  assert.equal(b.scheduled_for, null, 'scheduled_for');
  assert.deepEqual(b.sanitised_content, exp.sanitised ?? {}, 'sanitised_content');
  return b;
}

/** POST /v2/notifications/sms → 201 (§2.3). */
export function assertSmsSent(res, exp) {
  assertJSONResponse(res, 201);
  const b = res.data;
  assertKeys(b, ['id', 'reference', 'content', 'uri', 'template', 'scheduled_for'], 'sms response');
  assertUUID(b.id, 'id');
  assert.equal(b.reference, exp.reference ?? null, 'reference');
  assertKeys(b.content, ['body', 'from_number'], 'content');
  assert.equal(b.content.body, exp.body, 'content.body');
  assert.equal(b.content.from_number, exp.fromNumber, 'content.from_number');
  assertURL(b.uri, `${exp.base}/v2/notifications/${b.id}`, 'uri');
  assertSendTemplate(b.template, exp.template, exp.base, exp.serviceId);
  assert.equal(b.scheduled_for, null, 'scheduled_for');
  return b;
}

/** POST /v2/notifications/letter with a template → 201 (§2.4). */
export function assertLetterSent(res, exp) {
  assertJSONResponse(res, 201);
  const b = res.data;
  assertKeys(b, ['id', 'reference', 'content', 'uri', 'template', 'scheduled_for'], 'letter response');
  assertUUID(b.id, 'id');
  assert.equal(b.reference, exp.reference ?? null, 'reference');
  assertKeys(b.content, ['body', 'subject'], 'content');
  assert.equal(b.content.body, exp.body, 'content.body');
  assert.equal(b.content.subject, exp.subject, 'content.subject');
  assertURL(b.uri, `${exp.base}/v2/notifications/${b.id}`, 'uri');
  assertSendTemplate(b.template, exp.template, exp.base, exp.serviceId);
  assert.equal(b.scheduled_for, null, 'scheduled_for');
  return b;
}

/** POST /v2/notifications/letter with a PDF → 201 (§2.5). */
export function assertPrecompiledSent(res, exp) {
  assertJSONResponse(res, 201);
  const b = res.data;
  assertKeys(b, ['id', 'reference', 'postage'], 'precompiled letter response');
  assertUUID(b.id, 'id');
  assert.equal(b.reference, exp.reference, 'reference');
  assert.equal(b.postage, exp.postage, 'postage');
  return b;
}

const notificationKeys = ['id', 'reference', 'email_address', 'phone_number', 'line_1', 'line_2', 'line_3', 'line_4',
  'line_5', 'line_6', 'postcode', 'type', 'status', 'template', 'body', 'subject', 'created_at', 'created_by_name',
  'sent_at', 'completed_at', 'scheduled_for', 'postage', 'one_click_unsubscribe_url', 'is_cost_data_ready',
  'cost_in_pounds', 'cost_details'];

/**
 * A notification as GET /v2/notifications/{id} and the list return it (§2.6). exp names what
 * the send determined: id, type, reference, to (email or phone as given), body, subject,
 * template {id, version}, postage, lines (letters), unsubscribe, and optionally status (a
 * string or a Set of acceptable ones).
 */
export function assertNotification(n, exp, where = 'notification') {
  const letter = exp.type === 'letter';
  assertKeys(n, letter ? [...notificationKeys, 'estimated_delivery'] : notificationKeys, where);
  assert.equal(n.id, exp.id, `${where}.id`);
  assert.equal(n.reference, exp.reference ?? null, `${where}.reference`);
  assert.equal(n.type, exp.type, `${where}.type`);
  assert.equal(n.email_address, exp.type === 'email' ? exp.to : null, `${where}.email_address`);
  assert.equal(n.phone_number, exp.type === 'sms' ? exp.to : null, `${where}.phone_number`);
  const lines = exp.lines ?? {};
  for (const k of ['line_1', 'line_2', 'line_3', 'line_4', 'line_5', 'line_6', 'postcode']) {
    if (letter && exp.lines === undefined) {
      assert.ok(n[k] === null || typeof n[k] === 'string', `${where}.${k}: string or null`);
    } else {
      assert.equal(n[k], lines[k] ?? null, `${where}.${k}`);
    }
  }
  assert.equal(typeof n.status, 'string', `${where}.status`);
  assert.ok((letter ? letterStatuses : messageStatuses).has(n.status), `${where}.status: ${n.status} is not a ${exp.type} status the API shows`);
  if (exp.status instanceof Set) assert.ok(exp.status.has(n.status), `${where}.status: ${n.status} not one of ${[...exp.status]}`);
  else if (exp.status !== undefined) assert.equal(n.status, exp.status, `${where}.status`);

  assertKeys(n.template, ['id', 'version', 'uri'], `${where}.template`);
  if (exp.template) {
    assert.equal(n.template.id, exp.template.id, `${where}.template.id`);
    assert.equal(n.template.version, exp.template.version, `${where}.template.version`);
    assertURL(n.template.uri, `${exp.base}/v2/template/${exp.template.id}/version/${exp.template.version}`, `${where}.template.uri`);
  } else {
    assertUUID(n.template.id, `${where}.template.id`);
    assert.ok(Number.isInteger(n.template.version), `${where}.template.version`);
    assertURL(n.template.uri, `${exp.base}/v2/template/${n.template.id}/version/${n.template.version}`, `${where}.template.uri`);
  }
  if (exp.body !== undefined) assert.equal(n.body, exp.body, `${where}.body`);
  else assert.equal(typeof n.body, 'string', `${where}.body`);
  if (exp.type === 'sms') assert.equal(n.subject, null, `${where}.subject`);
  else if (exp.subject !== undefined) assert.equal(n.subject, exp.subject, `${where}.subject`);
  else assert.equal(typeof n.subject, 'string', `${where}.subject`);

  assertTimestamp(n.created_at, `${where}.created_at`);
  assert.equal(n.created_by_name, null, `${where}.created_by_name (sent with an API key)`);
  assertNullOrTimestamp(n.sent_at, `${where}.sent_at`);
  if (!letter && handedOver.has(n.status)) assert.notEqual(n.sent_at, null, `${where}.sent_at once ${n.status}`);
  assertNullOrTimestamp(n.completed_at, `${where}.completed_at`);
  if (finalStatuses.has(n.status)) assert.notEqual(n.completed_at, null, `${where}.completed_at once ${n.status}`);
  else assert.equal(n.completed_at, null, `${where}.completed_at while ${n.status}`);
  assert.equal(n.scheduled_for, null, `${where}.scheduled_for`);
  assert.equal(n.postage, letter ? exp.postage : null, `${where}.postage`);
  assert.equal(n.one_click_unsubscribe_url, exp.unsubscribe ?? null, `${where}.one_click_unsubscribe_url`);
  if (letter) assertLetterEstimate(n.estimated_delivery, n.created_at, `${where}.estimated_delivery`);
  assertCost(n, exp.type, where);
  return n;
}

function assertLetterEstimate(v, createdAt, where) {
  assert.equal(typeof v, 'string', `${where}: expected a timestamp string, got ${JSON.stringify(v)}`);
  assert.match(v, TIMESTAMP, `${where}: timestamp format`);
  const days = (Date.parse(v) - Date.parse(createdAt)) / 86_400_000;
  assert.ok(days > 0 && days < 14, `${where}: ${v} is not within two weeks after ${createdAt}`);
}

/** is_cost_data_ready, cost_in_pounds and cost_details (§2.6). */
function assertCost(n, type, where) {
  assert.equal(typeof n.is_cost_data_ready, 'boolean', `${where}.is_cost_data_ready`);
  if (type === 'email') {
    assert.equal(n.is_cost_data_ready, true, `${where}.is_cost_data_ready for email`);
    assert.equal(n.cost_in_pounds, 0, `${where}.cost_in_pounds for email`);
    assert.deepEqual(n.cost_details, {}, `${where}.cost_details for email`);
    return;
  }
  if (!n.is_cost_data_ready) {
    const notReady = type === 'sms' ? ['created'] : ['pending-virus-check', 'accepted'];
    assert.ok(notReady.includes(n.status), `${where}: cost data not ready in status ${n.status}`);
    assert.equal(n.cost_in_pounds, null, `${where}.cost_in_pounds while not ready`);
    assert.deepEqual(n.cost_details, {}, `${where}.cost_details while not ready`);
    return;
  }
  assert.equal(typeof n.cost_in_pounds, 'number', `${where}.cost_in_pounds`);
  if (type === 'sms') {
    assertKeys(n.cost_details, ['billable_sms_fragments', 'international_rate_multiplier', 'sms_rate'], `${where}.cost_details`);
    const c = n.cost_details;
    assert.ok(Number.isInteger(c.billable_sms_fragments) && c.billable_sms_fragments >= 1,
      `${where}.cost_details.billable_sms_fragments is ${JSON.stringify(c.billable_sms_fragments)} in status ${n.status}: a message handed to a provider has at least 1 fragment`);
    assert.equal(typeof c.international_rate_multiplier, 'number', `${where}.cost_details.international_rate_multiplier`);
    assert.equal(typeof c.sms_rate, 'number', `${where}.cost_details.sms_rate`);
    const expected = c.billable_sms_fragments * c.international_rate_multiplier * c.sms_rate;
    assert.ok(Math.abs(n.cost_in_pounds - expected) < 1e-9, `${where}.cost_in_pounds ${n.cost_in_pounds} = fragments × multiplier × rate (${expected})`);
  } else {
    assertKeys(n.cost_details, ['billable_sheets_of_paper', 'postage'], `${where}.cost_details`);
    assert.ok(Number.isInteger(n.cost_details.billable_sheets_of_paper) && n.cost_details.billable_sheets_of_paper >= 0,
      `${where}.cost_details.billable_sheets_of_paper is ${JSON.stringify(n.cost_details.billable_sheets_of_paper)}`);
    assert.equal(n.cost_details.postage, n.postage, `${where}.cost_details.postage`);
    if (n.status === 'received') {
      // Delivered: it was printed, so it took at least one sheet and cost something.
      assert.ok(n.cost_details.billable_sheets_of_paper >= 1,
        `${where}.cost_details.billable_sheets_of_paper is ${n.cost_details.billable_sheets_of_paper} for a letter in status received`);
      assert.ok(n.cost_in_pounds > 0, `${where}.cost_in_pounds is ${n.cost_in_pounds} for a letter in status received`);
    }
  }
}

/**
 * A template as GET /v2/template/{id}[/version/{v}] and /v2/templates return it (§2.9). exp:
 * id, type, name, version, body, subject, postage, personalisation (names), updated (true
 * when updated_at must be set).
 */
export function assertTemplate(t, exp, where = 'template') {
  assertKeys(t, ['id', 'type', 'created_at', 'updated_at', 'created_by', 'version', 'body', 'subject', 'name',
    'personalisation', 'postage', 'letter_contact_block'], where);
  assert.equal(t.id, exp.id, `${where}.id`);
  assert.equal(t.type, exp.type, `${where}.type`);
  assert.equal(t.name, exp.name, `${where}.name`);
  assert.equal(t.version, exp.version, `${where}.version`);
  assert.equal(t.body, exp.body, `${where}.body`);
  assert.equal(t.subject, exp.type === 'sms' ? null : exp.subject, `${where}.subject`);
  assert.equal(t.postage, exp.type === 'letter' ? exp.postage : null, `${where}.postage`);
  assert.equal(t.letter_contact_block, exp.letterContactBlock ?? null, `${where}.letter_contact_block`);
  assertTimestamp(t.created_at, `${where}.created_at`);
  if (exp.updated) assertTimestamp(t.updated_at, `${where}.updated_at`);
  else assert.equal(t.updated_at, null, `${where}.updated_at`);
  assert.equal(typeof t.created_by, 'string', `${where}.created_by`);
  assert.ok(t.created_by.length > 0, `${where}.created_by is not empty`);
  const personalisation = Object.fromEntries(exp.personalisation.map((k) => [k, { required: true }]));
  assert.deepEqual(t.personalisation, personalisation, `${where}.personalisation`);
}

/** POST /v2/template/{id}/preview → 200 (§2.11). */
export function assertPreview(res, exp) {
  assertJSONResponse(res, 200);
  const b = res.data;
  assertKeys(b, ['id', 'type', 'version', 'body', 'html', 'subject', 'postage'], 'preview');
  assert.equal(b.id, exp.id, 'preview.id');
  assert.equal(b.type, exp.type, 'preview.type');
  assert.equal(b.version, exp.version, 'preview.version');
  assert.equal(b.body, exp.body, 'preview.body');
  assert.equal(b.subject, exp.type === 'sms' ? null : exp.subject, 'preview.subject');
  assert.equal(b.postage, exp.type === 'letter' ? exp.postage : null, 'preview.postage');
  if (exp.type === 'email') {
    assert.equal(typeof b.html, 'string', 'preview.html for email');
    for (const fragment of exp.htmlIncludes ?? []) assert.ok(b.html.includes(fragment), `preview.html includes ${fragment}: ${b.html}`);
  } else {
    assert.equal(b.html, null, `preview.html for ${exp.type}`);
  }
  return b;
}

/** A received text message (§2.12). */
export function assertReceivedText(m, exp, where = 'received text') {
  assertKeys(m, ['id', 'user_number', 'notify_number', 'created_at', 'service_id', 'content'], where);
  assertUUID(m.id, `${where}.id`);
  if (exp.id) assert.equal(m.id, exp.id, `${where}.id`);
  assert.equal(m.user_number, exp.userNumber, `${where}.user_number`);
  assert.equal(m.notify_number, exp.notifyNumber, `${where}.notify_number`);
  assert.equal(m.service_id, exp.serviceId, `${where}.service_id`);
  assert.equal(m.content, exp.content, `${where}.content`);
  assertTimestamp(m.created_at, `${where}.created_at`);
}
