// The REST API end to end over real HTTP (node's fetch and curl) against `verdict serve
// --listen http://` with the shipped hooks on: seed 000's admin console flow through
// /v1/admin, seed 001's flow and its curl commands as written in project acme (host and port
// swapped, an API key added), every error status as problem+json, and every REST response checked against the
// server's own GET /openapi.json.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHttpServer } from './http_server.mjs';
import { openapiValidator } from './rest_openapi.mjs';

// Seed 001's curl lines address the project acme: the shell makes it, and an admin key of it.
let acmeKey;
const { base } = await startHttpServer('verdict-e2e-rest-', {
  prepare(db) {
    const cli = (...args) => execFileSync(process.env.VERDICT_BINARY, args, { encoding: 'utf8' });
    cli('projects', 'create', '--db', db, 'acme');
    acmeKey = cli('keys', 'create', '--db', db, '--project', 'acme', '--role', 'admin',
      '--name', 'seed-001').trimEnd().split('\n').at(-1);
  },
});
const api = await openapiValidator(base);

/** One REST exchange; validates the JSON answer against the OpenAPI document when asked. */
async function rest(method, path, { body, headers = {}, raw, openapi = true } = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = raw ?? JSON.stringify(body);
    init.headers['Content-Type'] ??= 'application/json';
  }
  const response = await fetch(new URL(path, base), init);
  const type = response.headers.get('content-type') ?? '';
  const text = await response.text();
  const json = text ? JSON.parse(text) : undefined;
  if (type.includes('problem+json')) {
    assert.equal(json.status, response.status, text);
    assert.match(json.type, /^urn:verdict:problem:/);
    assert.ok(json.title && json.detail, text);
  }
  if (openapi) api.validate(method, path, response.status, type, json);
  return { status: response.status, headers: response.headers, json, type };
}
const expectProblem = (result, status, field) => {
  assert.equal(result.status, status, JSON.stringify(result.json));
  assert.match(result.type, /application\/problem\+json/);
  if (field) assert.equal(result.json.field, field, JSON.stringify(result.json));
};

// ---- Seed 000: the admin console's API --------------------------------------------------
{
  const list0 = await rest('GET', '/v1/admin/experiments?project_id=default');
  assert.equal(list0.status, 200);
  assert.deepEqual(list0.json.summary, { total: 0, running: 0, winners_found: 0 });

  const created = await rest('POST', '/v1/admin/experiments', {
    body: { name: 'Checkout button', hypothesis: 'A green button converts better',
      bandit_enabled: false, project_id: 'default' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const id = created.json.id;
  assert.equal(created.json.status, 'draft');
  assert.equal(created.json.primary_metric, 'conversion');
  assert.match(created.json.notices[0], /conversion/);
  assert.equal(created.headers.get('location'), `/v1/admin/experiments/${id}`);
  // The admin API takes no seed, and the random id as one would fire SRM 1 run in 1000.
  const seeded = await rest('PATCH', `/~default/experiments/${id}`,
    { body: { seed: 'checkout-button-4' }, headers: { 'If-Match': '*' } });
  assert.equal(seeded.status, 200, JSON.stringify(seeded.json));
  assert.equal(seeded.json.seed, 'checkout-button-4');

  for (const name of ['Control', 'Variant B']) {
    const added = await rest('POST', `/v1/admin/experiments/${id}/variants`,
      { body: { name, traffic_weight: 0.5 } });
    assert.equal(added.status, 201, JSON.stringify(added.json));
  }
  const launched = await rest('POST', `/v1/admin/experiments/${id}/launch`);
  assert.equal(launched.status, 200, JSON.stringify(launched.json));
  assert.equal(launched.json.status, 'running');
  assert.deepEqual(launched.json.variants.map((v) => [v.key, v.traffic_weight, v.alpha, v.beta]),
    [['control', 0.5, 1, 1], ['variant-b', 0.5, 1, 1]]);

  // Traffic through the generic REST verbs: 1500 units, B converts at 30 %, control at 10 %.
  const units = Array.from({ length: 1500 }, (_, i) => ({ unit: `u${i}` }));
  const assigned = await rest('POST', `/~default/experiments/${id}/assign`, { body: { units } });
  assert.equal(assigned.status, 200, JSON.stringify(assigned.json));
  const events = [];
  const counter = { control: 0, 'variant-b': 0 };
  assigned.json.assignments.forEach((a, i) => {
    counter[a.variant] += 1;
    if (counter[a.variant] % 10 < (a.variant === 'control' ? 1 : 3))
      events.push({ unit: `u${i}`, metric: 'conversion' });
  });
  const tracked = await rest('POST', `/~default/experiments/${id}/track`, { body: { events } });
  assert.equal(tracked.status, 200, JSON.stringify(tracked.json));

  const analyzed = await rest('POST', `/v1/admin/experiments/${id}/analyze`);
  assert.equal(analyzed.status, 200, JSON.stringify(analyzed.json));
  const analysis = analyzed.json.analysis;
  assert.equal(analysis.primary_metric, 'conversion');
  assert.equal(typeof analysis.srm.p_value, 'number');
  assert.equal(analysis.srm.mismatch, false);
  assert.equal(typeof analysis.p_value, 'number');
  assert.equal(typeof analysis.msprt_log_lr, 'number');
  assert.ok(analysis.relative_lift > 1, JSON.stringify(analysis));
  assert.equal(typeof analysis.recommendation, 'string');
  assert.equal(analysis.winner, "variant-b", JSON.stringify(analysis));
  assert.equal(analyzed.json.winner, 'variant-b');
  const rows = Object.fromEntries(analysis.variants.map((row) => [row.variant, row]));
  assert.equal(rows.control.exposures + rows['variant-b'].exposures, 1500);
  assert.equal(rows['variant-b'].rate, rows['variant-b'].conversions / rows['variant-b'].exposures);
  const b = analyzed.json.variants.find((v) => v.key === 'variant-b');
  assert.equal(b.is_winner, true);
  assert.deepEqual([b.alpha, b.beta],
    [rows['variant-b'].conversions + 1, rows['variant-b'].exposures - rows['variant-b'].conversions + 1]);

  // The analysis identified a winner, so Stop ends the experiment with it (seed 000 has no
  // separate conclusion) and the "Winners found" card counts it.
  const stopped = await rest('POST', `/v1/admin/experiments/${id}/stop`);
  assert.equal(stopped.status, 200);
  assert.equal(stopped.json.status, 'stopped');
  assert.equal(stopped.json.verdict_status, 'Concluded');
  assert.equal(stopped.json.winner, 'variant-b');

  const list = await rest('GET', '/v1/admin/experiments?project_id=default');
  assert.equal(list.json.experiments.length, 1);
  assert.equal(list.json.experiments[0].id, id);
  assert.equal(list.json.summary.total, 1);
  assert.equal(list.json.summary.running, 0);
  assert.equal(list.json.summary.winners_found, 1);
  // The console polls the list with the ETag it got: unchanged is a 304 with no body, and a
  // change (a new experiment) is a new answer with a new ETag.
  const listTag = list.headers.get('etag');
  assert.match(listTag ?? '', /^"[0-9a-f]+"$/);
  const unchanged = await rest('GET', '/v1/admin/experiments?project_id=default',
    { headers: { 'If-None-Match': listTag } });
  assert.equal(unchanged.status, 304);
  assert.equal(unchanged.json, undefined);

  // Bandit mode: variants given at creation, and alpha/beta are the Thompson posterior the
  // engine keeps (conversions + 1, failures + 1) as outcomes arrive.
  const bandit = await rest('POST', '/v1/admin/experiments', {
    body: { name: 'Bandit headline', bandit_enabled: true, project_id: 'default',
      variants: [{ name: 'A', traffic_weight: 0.5 }, { name: 'B', traffic_weight: 0.5 }] },
  });
  assert.equal(bandit.status, 201, JSON.stringify(bandit.json));
  assert.equal(bandit.json.bandit_enabled, true);
  const changed = await rest('GET', '/v1/admin/experiments?project_id=default',
    { headers: { 'If-None-Match': listTag } });
  assert.equal(changed.status, 200);
  assert.equal(changed.json.summary.total, 2);
  assert.notEqual(changed.headers.get('etag'), listTag);
  await rest('POST', `/v1/admin/experiments/${bandit.json.id}/launch`);
  const banditUnits = Array.from({ length: 40 }, (_, i) => ({ unit: `b${i}` }));
  const banditAssigned = await rest('POST', `/~default/experiments/${bandit.json.id}/assign`,
    { body: { units: banditUnits } });
  // Units b0, b4, ..., b36 convert; the posterior counts units assigned up to the newest one
  // with an outcome (b36), since a later unit may still convert.
  const converted = banditAssigned.json.assignments.map((a, i) => ({ i, variant: a.variant }))
    .filter(({ i }) => i % 4 === 0);
  const observed = banditAssigned.json.assignments.slice(0, 37);
  await rest('POST', `/~default/experiments/${bandit.json.id}/track`,
    { body: { events: converted.map(({ i }) => ({ unit: `b${i}`, metric: 'conversion' })) } });
  const posterior = await rest('GET', `/v1/admin/experiments/${bandit.json.id}`);
  for (const variant of posterior.json.variants) {
    const exposures = observed.filter((a) => a.variant === variant.key).length;
    const conversions = converted.filter((c) => c.variant === variant.key).length;
    assert.deepEqual([variant.alpha, variant.beta], [conversions + 1, exposures - conversions + 1],
      JSON.stringify(posterior.json.variants));
  }

  // The admin API's own refusals, in the same problem+json format.
  expectProblem(await rest('GET', '/v1/admin/experiments?project_id=acme'), 404, 'project_id');
  expectProblem(await rest('POST', '/v1/admin/experiments', { body: { name: 'x', colour: 1 } }),
    422, 'colour');
  expectProblem(await rest('POST', `/v1/admin/experiments/${id}/variants`,
    { body: { name: 'C', traffic_weight: 50 } }), 422, 'traffic_weight');
  // A refused transition says which verbs the state allows, as the entity API's 409 does.
  const relaunch = await rest('POST', `/v1/admin/experiments/${id}/launch`);
  expectProblem(relaunch, 409);
  assert.equal(relaunch.json.entityStatus, 'Concluded', JSON.stringify(relaunch.json));
  assert.ok(Array.isArray(relaunch.json.allowedVerbs) && relaunch.json.allowedVerbs.includes('archive'),
    JSON.stringify(relaunch.json));
  const wrong = await rest('GET', `/v1/admin/experiments/${id}/launch`, { openapi: false });
  expectProblem(wrong, 405);
  assert.equal(wrong.headers.get('allow'), 'POST');
}

// ---- Seed 001: its curl commands as written, host and port swapped -----------------------
// The seed's project acme, with acme's key added to every request (`-H 'Authorization: ...'`).
const curl = (...args) => {
  const out = execFileSync('curl', ['-s', '-w', '\n%{http_code}', ...args], { encoding: 'utf8' });
  const cut = out.lastIndexOf('\n');
  return { status: Number(out.slice(cut + 1)), json: JSON.parse(out.slice(0, cut)) };
};
{
  const host = base; // http://127.0.0.1:PORT in place of https://experiment.headless.ly
  const auth = ['-H', `Authorization: Bearer ${acmeKey}`];
  const acme = (method, path, options = {}) => rest(method, path,
    { ...options, headers: { Authorization: `Bearer ${acmeKey}`, ...options.headers } });
  // Without the key a loopback client is the default project's operator: acme is not its own.
  assert.equal(curl(`${host}/~acme/experiments?status=Running`).status, 404);
  const none = curl(...auth, `${host}/~acme/experiments?status=Running`);
  assert.equal(none.status, 200, JSON.stringify(none.json));
  assert.deepEqual(none.json.items, []);
  const created = curl(...auth, '-X', 'POST', `${host}/~acme/experiments`,
    '-H', 'Content-Type: application/json',
    '-d', '{"name": "Pricing Page V2", "type": "ABTest", "hypothesis": "New layout increases conversions"}');
  assert.equal(created.status, 201, JSON.stringify(created.json));
  api.validate('POST', '/~acme/experiments', 201, 'application/json', created.json);
  const id = created.json.id;
  assert.equal(created.json.slug, 'pricing-page-v2');

  // The shipped starting hook needs two variants and a primary metric: the seed's start refuses.
  const refused = curl(...auth, '-X', 'POST', `${host}/~acme/experiments/${id}/start`);
  assert.equal(refused.status, 422, JSON.stringify(refused.json));
  assert.match(refused.json.detail, /two variants/);
  assert.equal(refused.json.field, 'verb', 'a hook refusal names the refused input');

  // PATCH with If-Match: the version is the ETag; a stale one is 412 and changes nothing.
  const got = await acme('GET', `/~acme/experiments/${id}`);
  assert.equal(got.headers.get('etag'), `"${got.json.version}"`);
  const patched = await acme('PATCH', `/~acme/experiments/${id}`, {
    // A fixed seed: the random id as one would fire SRM (no winner) about 1 run in 1000.
    body: { primaryMetric: 'conversion', variants: [{ name: 'Control', weight: 50 }, { name: 'V2', weight: 50 }],
      seed: 'pricing-page-6' },
    headers: { 'If-Match': got.headers.get('etag') },
  });
  assert.equal(patched.status, 200, JSON.stringify(patched.json));
  assert.equal(patched.headers.get('etag'), `"${got.json.version + 1}"`);
  const stale = await acme('PATCH', `/~acme/experiments/${id}`, {
    body: { hypothesis: 'overwritten?' }, headers: { 'If-Match': got.headers.get('etag') },
  });
  expectProblem(stale, 412, 'version');
  assert.equal((await acme('GET', `/~acme/experiments/pricing-page-v2`)).json.hypothesis,
    'New layout increases conversions');
  const current = await acme('GET', `/~acme/experiments/${id}`);
  assert.equal((await acme('GET', `/~acme/experiments/${id}`,
    { headers: { 'If-None-Match': current.headers.get('etag') } })).status, 304);
  const anyVersion = await acme('PATCH', `/~acme/experiments/${id}`,
    { body: { tags: 'pricing' }, headers: { 'If-Match': '*' } });
  assert.equal(anyVersion.status, 200, JSON.stringify(anyVersion.json));

  const started = curl(...auth, '-X', 'POST', `${host}/~acme/experiments/${id}/start`);
  assert.equal(started.status, 200, JSON.stringify(started.json));
  assert.equal(started.json.status, 'Started');
  api.validate('POST', `/~acme/experiments/${id}/start`, 200, 'application/json', started.json);

  // Conclude before any data: a refused transition, 409 with the verbs the state allows.
  const early = curl(...auth, '-X', 'POST', `${host}/~acme/experiments/${id}/conclude`);
  assert.equal(early.status, 409, JSON.stringify(early.json));
  assert.equal(early.json.entityStatus, 'Started');
  assert.ok(early.json.allowedVerbs.includes('pause') && early.json.allowedVerbs.includes('run'));
  api.validate('POST', `/~acme/experiments/${id}/conclude`, 409, 'application/problem+json', early.json);

  const running = curl(...auth, `${host}/~acme/experiments?status=Started`);
  assert.equal(running.status, 200);
  assert.deepEqual(running.json.items.map((e) => e.id), [id]);
  api.validate('GET', '/~acme/experiments', 200, 'application/json', running.json);
  const one = curl(...auth, `${host}/~acme/experiments/${id}`);
  assert.equal(one.status, 200);
  assert.equal(one.json.name, 'Pricing Page V2');

  // Traffic with a clear winner, analyze, then the seed's conclude as written.
  const units = Array.from({ length: 2000 }, (_, i) => ({ unit: `p${i}` }));
  const assigned = (await acme('POST', `/~acme/experiments/${id}/assign`, { body: { units } })).json;
  const events = assigned.assignments.flatMap((a, i) =>
    ((a.variant === 'v2' ? i % 10 < 4 : i % 10 < 1) ? [{ unit: `p${i}`, metric: 'conversion' }] : []));
  await acme('POST', `/~acme/experiments/${id}/track`, { body: { events } });
  const analysis = await acme('POST', `/~acme/experiments/${id}/analyze`);
  assert.equal(analysis.json.winner, 'v2', JSON.stringify(analysis.json).slice(0, 500));
  const concluded = curl(...auth, '-X', 'POST', `${host}/~acme/experiments/${id}/conclude`);
  assert.equal(concluded.status, 200, JSON.stringify(concluded.json));
  assert.equal(concluded.json.status, 'Concluded');
  assert.equal(concluded.json.winner, 'v2');

  const history = await acme('GET', `/~acme/experiments/${id}/events`);
  const types = history.json.items.map((event) => event.type);
  for (const type of ['Experiment.Created', 'Experiment.Updated', 'Experiment.Started', 'Experiment.Concluded'])
    assert.ok(types.includes(type), types.join(', '));

  // Other nouns need no REST code: featureFlags, a collection verb, DELETE.
  const flag = await acme('POST', '/~acme/featureFlags', {
    body: { key: 'new-nav', name: 'New navigation', type: 'Boolean', defaultValue: false },
  });
  assert.equal(flag.status, 201, JSON.stringify(flag.json));
  assert.equal((await acme('GET', '/~acme/featureFlags/new-nav')).json.id, flag.json.id);
  assert.equal((await acme('POST', `/~acme/featureFlags/new-nav/enable`)).json.status, 'Enabled');
  const summary = await acme('POST', '/~acme/experiments/summary');
  assert.equal(summary.status, 200);
  assert.equal(summary.json.total, 1); // acme's one: seed 000's two are default's
  const deleted = await acme('DELETE', `/~acme/featureFlags/${flag.json.id}`);
  assert.equal(deleted.status, 200, JSON.stringify(deleted.json));
  expectProblem(await acme('GET', `/~acme/featureFlags/${flag.json.id}`), 404);

  // Collections page with a Link header; query parameters are typed equality filters.
  for (let i = 0; i < 3; i += 1)
    await acme('POST', '/~acme/metrics', { body: { name: `m${i}`, type: 'Paged', value: i } });
  // (The shipped concluded hook made a Metric too: the type filter leaves it out.)
  const page1 = await acme('GET', '/~acme/metrics?type=Paged&limit=2&sort=name');
  assert.deepEqual(page1.json.items.map((m) => m.name), ['m0', 'm1']);
  const link = page1.headers.get('link');
  assert.match(link, /^<\/~acme\/metrics\?type=Paged&limit=2&sort=name&cursor=.+>; rel="next"$/);
  assert.equal(page1.json.next, link.slice(1, link.indexOf('>')));
  const page2 = await acme('GET', page1.json.next);
  assert.deepEqual(page2.json.items.map((m) => m.name), ['m2']);
  assert.equal(page2.headers.get('link'), null);
  assert.deepEqual((await acme('GET', '/~acme/metrics?type=Paged&value=1')).json.items.map((m) => m.name), ['m1']);
  const filtered = await acme('GET',
    `/~acme/metrics?type=Paged&filter=${encodeURIComponent('{"value":{"$gte":1}}')}&sort=-name`);
  assert.deepEqual(filtered.json.items.map((m) => m.name), ['m2', 'm1']);
}

// ---- An entity's event history pages like a collection, oldest first ---------------------
{
  const flag = (await rest('POST', '/~default/featureFlags',
    { body: { key: 'long-history', name: 'n0', type: 'Boolean', defaultValue: false } })).json;
  for (let i = 1; i <= 130; i += 1) {
    const renamed = await rest('PATCH', `/~default/featureFlags/${flag.id}`,
      { body: { name: `n${i}` }, headers: { 'If-Match': '*' }, openapi: i === 1 });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.json));
  }
  const path = `/~default/featureFlags/${flag.id}/events`;
  const first = await rest('GET', path);
  assert.equal(first.json.items.length, 100, 'the default page holds 100 events');
  assert.equal(first.json.items[0].type, 'FeatureFlag.Created', 'oldest first');
  const link = first.headers.get('link');
  assert.match(link, new RegExp(`^<${path}\\?cursor=[^>]+>; rel="next"$`));
  assert.equal(first.json.next, link.slice(1, link.indexOf('>')));
  assert.equal(typeof first.json.nextCursor, 'string');
  const second = await rest('GET', first.json.next);
  assert.equal(second.json.items.length, 31);
  assert.equal(second.json.next, undefined);
  assert.equal(second.headers.get('link'), null);
  const names = [...first.json.items, ...second.json.items].map((event) => event.data.name);
  assert.deepEqual(names, Array.from({ length: 131 }, (_, i) => `n${i}`), 'no event lost or repeated');
  const small = await rest('GET', `${path}?limit=60`);
  assert.equal(small.json.items.length, 60);
  assert.match(small.json.next, new RegExp(`^${path}\\?limit=60&cursor=`));
  const rest2 = await rest('GET', small.json.next);
  assert.equal(rest2.json.items[0].data.name, 'n60');
  assert.equal((await rest('GET', `${path}?limit=1000`)).json.items.length, 131);
  expectProblem(await rest('GET', `${path}?limit=0`), 422, 'limit');
  expectProblem(await rest('GET', `${path}?limit=1001`), 422, 'limit');
  expectProblem(await rest('GET', `${path}?limit=ten`), 400, 'limit');
  expectProblem(await rest('GET', `${path}?cursor=nope`), 422, 'cursor');
  expectProblem(await rest('GET', `${path}?type=FeatureFlag.Created`), 400, 'type');
}

// ---- Every error status, as problem+json naming the field and the reason -----------------
{
  const e = await rest('POST', '/~default/experiments', { body: { name: 'Errors' } });
  const id = e.json.id;
  expectProblem(await rest('POST', '/~default/experiments', { raw: '{"name": ' , body: null }), 400, 'body');
  expectProblem(await rest('GET', '/~default/experiments?colour=red'), 400, 'colour');
  expectProblem(await rest('GET', '/~default/experiments?sampleSize=many'), 400, 'sampleSize');
  expectProblem(await rest('GET', `/~default/experiments?filter=${encodeURIComponent('[1]')}`), 400, 'filter');
  expectProblem(await rest('GET', '/~default/experiments', { headers: { Origin: 'http://evil.example' } }), 403);
  expectProblem(await rest('GET', `/~default/experiments/experiment_nope`), 404);
  expectProblem(await rest('GET', `/~acme/experiments/${id}`), 404, 'project');
  // Paths the document cannot list (no such noun or verb) still answer problem+json.
  expectProblem(await rest('GET', '/~default/widgets', { openapi: false }), 404, 'noun');
  expectProblem(await rest('POST', `/~default/experiments/${id}/fly`, { openapi: false }), 404, 'verb');
  const put = await rest('PUT', `/~default/experiments/${id}`, { body: {}, openapi: false });
  expectProblem(put, 405);
  assert.equal(put.headers.get('allow'), 'GET, PATCH, DELETE');
  const options = await rest('OPTIONS', `/~default/experiments`, { openapi: false });
  expectProblem(options, 405);
  expectProblem(await rest('POST', `/~default/experiments/${id}/pause`), 409, 'verb');
  expectProblem(await rest('POST', '/~default/experiments', { body: { name: 'Other', slug: 'errors' } }),
    409, 'slug');
  expectProblem(await rest('PATCH', `/~default/experiments/${id}`,
    { body: { name: 'x' }, headers: { 'If-Match': '"7"' } }), 412, 'version');
  expectProblem(await rest('PATCH', `/~default/experiments/${id}`, { body: { name: 'x' } }), 428, 'If-Match');
  // 413 with curl: it sends `Expect: 100-continue` for a large body and reads the refusal
  // before sending it (fetch would race the server's close and see EPIPE instead).
  const big = join(mkdtempSync(join(tmpdir(), 'verdict-e2e-rest-big-')), 'body.json');
  writeFileSync(big, JSON.stringify({ name: 'x'.repeat(5 * 1024 * 1024) }));
  const tooLarge = execFileSync('curl', ['-s', '-i', '-X', 'POST', `${base}/~default/experiments`,
    '-H', 'Content-Type: application/json', '--data-binary', `@${big}`], { encoding: 'utf8' });
  assert.match(tooLarge, /^HTTP\/1\.1 413 /);
  assert.match(tooLarge, /content-type: application\/problem\+json/i);
  const tooLargeBody = JSON.parse(tooLarge.slice(tooLarge.indexOf('\r\n\r\n') + 4));
  assert.equal(tooLargeBody.status, 413);
  api.validate('POST', '/~default/experiments', 413, 'application/problem+json', tooLargeBody);
  expectProblem(await rest('POST', '/~default/experiments',
    { raw: 'name=x', body: null, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), 415, 'Content-Type');
  expectProblem(await rest('POST', '/~default/experiments', { body: { hypothesis: 'no name' } }), 422, 'name');
  expectProblem(await rest('POST', '/~default/experiments', { body: { trafficAllocation: 300, name: 'y' } }),
    422, 'trafficAllocation');
  assert.equal((await rest('GET', `/~default/experiments/${id}`)).json.name, 'Errors');
}

// 401: a listener with a token refuses a wrong one, in REST's format.
{
  const dir = mkdtempSync(join(tmpdir(), 'verdict-e2e-rest-token-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'a-long-enough-secret-token-for-tests-0123456789\n');
  chmodSync(tokenFile, 0o600);
  const secured = await startHttpServer('verdict-e2e-rest-401-', { extraArgs: ['--token-file', tokenFile] });
  const response = await fetch(new URL('/~default/experiments', secured.base),
    { headers: { Authorization: 'Bearer wrong' } });
  assert.equal(response.status, 401);
  assert.match(response.headers.get('content-type'), /application\/problem\+json/);
  assert.match(response.headers.get('www-authenticate'), /^Bearer/);
  const ok = await fetch(new URL('/~default/experiments', secured.base),
    { headers: { Authorization: 'Bearer a-long-enough-secret-token-for-tests-0123456789' } });
  assert.equal(ok.status, 200);
}

assert.ok(api.count() > 40, `only ${api.count()} responses were validated`);
console.log(`rest e2e: ok (${api.count()} responses validated against /openapi.json)`);
process.exit(0);
