// Projects and API keys over HTTP (issue #14) against one `verdict serve --require-keys` with
// the projects acme and globex and a key of every role in each: another project's entities
// answer 404 (never 403) through REST, the admin API, OFREP and GrowthBook's /api/features and
// stay unchanged; a role refusal is 403 naming the role; a missing or unknown key is 401; the
// event history names the acting key.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { startHttpServer } from './http_server.mjs';

const binary = process.env.VERDICT_BINARY;
const ROLES = ['reader', 'writer', 'admin', 'evaluator'];
const keys = {}; // keys.acme.writer = {id, name, secret}

function cli(...args) {
  return execFileSync(binary, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const { base, db } = await startHttpServer('verdict-e2e-projects-', {
  extraArgs: ['--require-keys'],
  prepare(db) {
    for (const project of ['acme', 'globex']) {
      cli('projects', 'create', '--db', db, project);
      keys[project] = {};
      for (const role of ROLES) {
        const name = `${project}-${role}`;
        const out = cli('keys', 'create', '--db', db, '--project', project, '--role', role,
          '--name', name).trimEnd().split('\n');
        const secret = out.at(-1).trim();
        const id = out.join('\n').match(/\b(key_[A-Za-z0-9]+)\b/)?.[1];
        assert.ok(secret && !secret.includes(' '), `the secret alone on the last line: ${out}`);
        assert.ok(id, `keys create names the key's id: ${out}`);
        keys[project][role] = { id, name, secret };
      }
    }
  },
});

/** One HTTP exchange with `key` (a secret) as Bearer, or as X-API-Key when `header` says so. */
async function call(method, path, key, { body, headers = {}, header = 'bearer' } = {}) {
  const init = { method, headers: { ...headers } };
  if (key !== undefined) {
    if (header === 'bearer') init.headers.Authorization = `Bearer ${key}`;
    else init.headers['X-API-Key'] = key;
  }
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(new URL(path, base), init);
  const type = response.headers.get('content-type') ?? '';
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: response.status, json, type, headers: response.headers, text };
}
const show = (r) => `${r.status} ${r.text}`;
function expectProblem(result, status) {
  assert.equal(result.status, status, show(result));
  assert.match(result.type, /application\/problem\+json/, show(result));
  assert.equal(result.json.status, status, show(result));
  return result.json;
}

const acmeW = keys.acme.writer.secret;
const globexW = keys.globex.writer.secret;
const failures = [];
/** Runs one check; a failing one is reported at the end so the rest still run. */
async function check(name, fn) {
  try {
    await fn();
    console.log(`${name}: ok`);
  } catch (error) {
    failures.push(name);
    console.log(`${name}: FAILED\n  ${String(error.message).split('\n').join('\n  ')}`);
  }
}

// ---- Setup: acme's writer creates two experiments (one running) and a flag; globex one each --
const created = async (path, key, body) => {
  const r = await call('POST', path, key, { body });
  assert.equal(r.status, 201, show(r));
  return r.json;
};
const variants = [{ name: 'Control', weight: 50 }, { name: 'Green', weight: 50 }];
const acmeDraft = await created('/~acme/experiments', acmeW,
  { name: 'Acme pricing', type: 'ABTest', hypothesis: 'Cheaper sells more' });
const acmeRun = await created('/~acme/experiments', acmeW,
  { name: 'Acme checkout', type: 'ABTest', hypothesis: 'Green converts', primaryMetric: 'conversion',
    variants });
{
  const started = await call('POST', `/~acme/experiments/${acmeRun.id}/start`, acmeW);
  assert.equal(started.status, 200, show(started));
}
const acmeFlag = await created('/~acme/featureFlags', acmeW,
  { key: 'acme-nav', name: 'Acme navigation', type: 'Boolean', defaultValue: false });
{
  const enabled = await call('POST', `/~acme/featureFlags/${acmeFlag.id}/enable`, acmeW);
  assert.equal(enabled.status, 200, show(enabled));
}
const globexExp = await created('/~globex/experiments', globexW,
  { name: 'Globex pricing', type: 'ABTest', hypothesis: 'Globex hypothesis' });
const globexFlag = await created('/~globex/featureFlags', globexW,
  { key: 'globex-nav', name: 'Globex navigation', type: 'Boolean', defaultValue: true });
await call('POST', `/~globex/featureFlags/${globexFlag.id}/enable`, globexW);

// ---- 1. Isolation over REST ---------------------------------------------------------------
const acmeIds = [acmeDraft.id, acmeRun.id];
const snapshot = async () => {
  const out = [];
  for (const id of acmeIds) out.push((await call('GET', `/~acme/experiments/${id}`, acmeW)).json);
  out.push((await call('GET', `/~acme/featureFlags/${acmeFlag.id}`, acmeW)).json);
  out.push((await call('GET', '/~acme/experiments', acmeW)).json);
  return out;
};
const before = await snapshot();

await check('REST: globex lists only its own experiments and flags', async () => {
  const list = await call('GET', '/~globex/experiments', globexW);
  assert.equal(list.status, 200, show(list));
  assert.deepEqual(list.json.items.map((e) => e.id), [globexExp.id]);
  const flags = await call('GET', '/~globex/featureFlags', globexW);
  assert.equal(flags.status, 200, show(flags));
  assert.deepEqual(flags.json.items.map((f) => f.key), ['globex-nav']);
  const acmeList = await call('GET', '/~acme/experiments', acmeW);
  assert.deepEqual(acmeList.json.items.map((e) => e.id).sort(), [...acmeIds].sort());
});

await check("REST: acme's ids and slugs under /~globex are 404", async () => {
  for (const id of [...acmeIds, 'acme-pricing'])
    expectProblem(await call('GET', `/~globex/experiments/${id}`, globexW), 404);
  expectProblem(await call('GET', `/~globex/featureFlags/${acmeFlag.id}`, globexW), 404);
  expectProblem(await call('GET', '/~globex/featureFlags/acme-nav', globexW), 404);
  expectProblem(await call('GET', `/~globex/experiments/${acmeRun.id}/events`, globexW), 404);
});

await check('REST: /~acme with the globex key is 404, not 403 (and so is every REST key of globex)',
  async () => {
    for (const role of ['reader', 'writer', 'admin']) {
      const refused = expectProblem(await call('GET', '/~acme/experiments', keys.globex[role].secret),
        404);
      assert.equal(refused.field, 'project', JSON.stringify(refused));
    }
    expectProblem(await call('GET', `/~acme/experiments/${acmeRun.id}`, globexW), 404);
    expectProblem(await call('GET', `/~acme/experiments/${acmeRun.id}`, globexW,
      { header: 'x-api-key' }), 404);
  });

await check("REST: PATCH, DELETE and verbs on acme's ids with the globex key are 404", async () => {
  for (const prefix of ['/~acme', '/~globex']) {
    expectProblem(await call('PATCH', `${prefix}/experiments/${acmeDraft.id}`, globexW,
      { body: { name: 'Hijacked' }, headers: { 'If-Match': '*' } }), 404);
    expectProblem(await call('DELETE', `${prefix}/experiments/${acmeDraft.id}`, globexW), 404);
    expectProblem(await call('POST', `${prefix}/experiments/${acmeDraft.id}/start`, globexW,
      { body: {} }), 404);
    expectProblem(await call('POST', `${prefix}/experiments/${acmeRun.id}/stop`, globexW,
      { body: {} }), 404);
    expectProblem(await call('DELETE', `${prefix}/featureFlags/${acmeFlag.id}`, globexW), 404);
    expectProblem(await call('POST', `${prefix}/featureFlags/${acmeFlag.id}/disable`, globexW,
      { body: {} }), 404);
  }
  // A globex entity cannot be linked to an acme one either: the relation is "not found".
  const linked = await call('POST', '/~globex/featureFlags', globexW,
    { body: { key: 'linked', name: 'Linked', type: 'String', defaultValue: 'x',
      experiment: acmeRun.id } });
  assert.ok(linked.status === 404 || linked.status === 422, show(linked));
  assert.equal(linked.json.field, 'experiment', show(linked));
  assert.match(linked.json.detail, /no Experiment|not found/i, show(linked));
});

await check('REST: acme data unchanged after the globex attempts (full GETs equal)', async () => {
  assert.deepEqual(await snapshot(), before);
  // The same PATCH with acme's own key succeeds: the 404s above were the project, not the request.
  const own = await call('PATCH', `/~acme/experiments/${acmeDraft.id}`, acmeW,
    { body: { name: 'Acme pricing v2' }, headers: { 'If-Match': '*' } });
  assert.equal(own.status, 200, show(own));
  assert.equal(own.json.name, 'Acme pricing v2');
});

// ---- 2. Roles over REST -------------------------------------------------------------------
await check('roles: reader GETs; its POST create is 403 naming the role needed', async () => {
  const reader = keys.acme.reader.secret;
  const list = await call('GET', '/~acme/experiments', reader);
  assert.equal(list.status, 200, show(list));
  assert.equal(list.json.items.length, 2);
  assert.equal((await call('GET', `/~acme/experiments/${acmeRun.id}`, reader)).status, 200);
  const refused = expectProblem(await call('POST', '/~acme/experiments', reader,
    { body: { name: 'By a reader', type: 'ABTest', hypothesis: 'h' } }), 403);
  assert.match(`${refused.title} ${refused.detail}`, /writer/, JSON.stringify(refused));
  assert.match(`${refused.title} ${refused.detail}`, /reader/, JSON.stringify(refused));
  expectProblem(await call('PATCH', `/~acme/experiments/${acmeDraft.id}`, reader,
    { body: { name: 'x' }, headers: { 'If-Match': '*' } }), 403);
});

await check('roles: evaluator assigns but may not list (403)', async () => {
  const evaluator = keys.acme.evaluator.secret;
  const assigned = await call('POST', `/~acme/experiments/${acmeRun.id}/assign`, evaluator,
    { body: { units: [{ unit: 'u1' }, { unit: 'u2' }] } });
  assert.equal(assigned.status, 200, show(assigned));
  assert.equal(assigned.json.assignments.length, 2);
  const refused = expectProblem(await call('GET', '/~acme/experiments', evaluator), 403);
  assert.match(`${refused.title} ${refused.detail}`, /reader|evaluator/, JSON.stringify(refused));
  expectProblem(await call('POST', '/~acme/experiments', evaluator,
    { body: { name: 'By an evaluator', type: 'ABTest', hypothesis: 'h' } }), 403);
});

await check('roles: no key and an unknown key are 401 under --require-keys', async () => {
  for (const path of ['/~acme/experiments', `/~acme/experiments/${acmeRun.id}`, '/~default/experiments']) {
    const none = expectProblem(await call('GET', path, undefined), 401);
    assert.ok(none);
    expectProblem(await call('GET', path, 'vk_not-a-real-key'), 401);
    expectProblem(await call('GET', path, 'vk_not-a-real-key', { header: 'x-api-key' }), 401);
  }
  expectProblem(await call('POST', `/~acme/experiments/${acmeRun.id}/assign`, undefined,
    { body: { units: [{ unit: 'u1' }] } }), 401);
});

// ---- 3. The admin API ---------------------------------------------------------------------
await check('admin API: project_id=acme with an acme key lists acme; project_id=globex is 404',
  async () => {
    const list = await call('GET', '/v1/admin/experiments?project_id=acme', acmeW);
    assert.equal(list.status, 200, show(list));
    assert.deepEqual(list.json.experiments.map((e) => e.id).sort(), [...acmeIds].sort());
    assert.equal(list.json.summary.total, 2);
    // Each experiment names the project it lives in, whether the request named it or not.
    assert.deepEqual([...new Set(list.json.experiments.map((e) => e.project_id))], ['acme']);
    const own = await call('GET', `/v1/admin/experiments/${acmeRun.id}`, acmeW);
    assert.equal(own.json.project_id, 'acme', show(own));
    // The admin API names its own parameter (docs/rest.md; rest.test.mjs expects the same for an
    // unknown project): another project is exactly as absent as one that does not exist.
    const other = expectProblem(await call('GET', '/v1/admin/experiments?project_id=globex', acmeW),
      404);
    const none = expectProblem(await call('GET', '/v1/admin/experiments?project_id=nope', acmeW),
      404);
    assert.equal(other.field, 'project_id', JSON.stringify(other));
    assert.equal(none.field, 'project_id', JSON.stringify(none));
    expectProblem(await call('GET', `/v1/admin/experiments/${globexExp.id}`, acmeW), 404);
    expectProblem(await call('GET', `/v1/admin/experiments/${acmeRun.id}`, globexW), 404);
    expectProblem(await call('POST', '/v1/admin/experiments', acmeW,
      { body: { name: 'Into globex', project_id: 'globex' } }), 404);
    expectProblem(await call('GET', '/v1/admin/experiments?project_id=acme', undefined), 401);
  });

// ---- 4. OFREP -----------------------------------------------------------------------------
const ofrep = (flagKey, key, header) => call('POST', `/ofrep/v1/evaluate/flags/${flagKey}`, key,
  { body: { context: { targetingKey: 'user-1' } }, header });
await check("OFREP: acme's evaluator evaluates acme's flag", async () => {
  const result = await ofrep('acme-nav', keys.acme.evaluator.secret);
  assert.equal(result.status, 200, show(result));
  assert.equal(result.json.key, 'acme-nav');
  assert.equal(result.json.value, false);
  const viaHeader = await ofrep('acme-nav', keys.acme.evaluator.secret, 'x-api-key');
  assert.equal(viaHeader.status, 200, show(viaHeader));
});
await check("OFREP: globex's evaluator gets FLAG_NOT_FOUND 404 for acme's flag", async () => {
  const result = await ofrep('acme-nav', keys.globex.evaluator.secret);
  assert.equal(result.status, 404, show(result));
  assert.equal(result.json.errorCode, 'FLAG_NOT_FOUND', show(result));
  const own = await ofrep('globex-nav', keys.globex.evaluator.secret);
  assert.equal(own.status, 200, show(own));
  assert.equal(own.json.value, true);
  const bulk = await call('POST', '/ofrep/v1/evaluate/flags', keys.globex.evaluator.secret,
    { body: { context: { targetingKey: 'user-1' } } });
  assert.equal(bulk.status, 200, show(bulk));
  assert.deepEqual(bulk.json.flags.map((f) => f.key), ['globex-nav']);
});
await check('OFREP: a reader key is 403, a bogus key and no key 401', async () => {
  const reader = await ofrep('acme-nav', keys.acme.reader.secret);
  assert.equal(reader.status, 403, show(reader));
  assert.match(reader.json.errorDetails, /evaluator/, show(reader));
  assert.equal((await ofrep('acme-nav', 'vk_bogus')).status, 401);
  assert.equal((await ofrep('acme-nav', undefined)).status, 401);
});

// ---- 5. GrowthBook's /api/features/{clientKey} --------------------------------------------
await check("GrowthBook: each evaluator key's payload holds its project's flags only; bogus 401",
  async () => {
    const acme = await call('GET', `/api/features/${keys.acme.evaluator.secret}`);
    assert.equal(acme.status, 200, show(acme));
    assert.deepEqual(Object.keys(acme.json.features), ['acme-nav']);
    const globex = await call('GET', `/api/features/${keys.globex.evaluator.secret}`);
    assert.equal(globex.status, 200, show(globex));
    assert.ok(!('acme-nav' in globex.json.features), show(globex));
    assert.deepEqual(Object.keys(globex.json.features), ['globex-nav']);
    assert.equal((await call('GET', '/api/features/vk_bogus')).status, 401);
  });

// ---- 6. The event history names the acting key ------------------------------------------
await check('history: /~acme/experiments/{id}/events records the acting key id and name',
  async () => {
    // An admin of acme acts too, so the history has two different keys.
    const admin = keys.acme.admin;
    const stopped = await call('POST', `/~acme/experiments/${acmeRun.id}/stop`, admin.secret,
      { body: {} });
    assert.equal(stopped.status, 200, show(stopped));
    const events = await call('GET', `/~acme/experiments/${acmeRun.id}/events`, acmeW);
    assert.equal(events.status, 200, show(events));
    const actedBy = Object.fromEntries(events.json.items.map((e) => [e.type, e.key]));
    const as = (role) => ({ id: keys.acme[role].id, name: keys.acme[role].name });
    assert.deepEqual(actedBy, {
      'Experiment.Created': as('writer'),
      'Experiment.Started': as('writer'),
      'Experiment.Ran': as('evaluator'), // the evaluator's assign in the roles check
      'Experiment.Stopped': as('admin'),
    }, JSON.stringify(events.json.items));
    const items = events.json.items;
    assert.ok(!JSON.stringify(items).includes(keys.acme.writer.secret), 'no secret in the log');
  });

// ---- Keys made and revoked by the CLI while the server runs ---------------------------------
await check('keys created and revoked in a shell while serving take effect at the next request',
  async () => {
    const out = cli('keys', 'create', '--db', db, '--project', 'acme', '--role', 'reader',
      '--name', 'late-reader').trimEnd().split('\n');
    const secret = out.at(-1).trim();
    const id = out.join('\n').match(/\b(key_[A-Za-z0-9]+)\b/)[1];
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = () => new Promise((resolve, reject) => {
      const request = http.get(new URL('/~acme/experiments', base),
        { agent, headers: { Authorization: `Bearer ${secret}` } }, (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode));
        });
      request.on('error', reject);
    });
    assert.equal(await get(), 200, 'a key made after the start works');
    cli('keys', 'revoke', '--db', db, id);
    assert.equal(await get(), 401, 'revoked: refused on the same keep-alive connection');
    agent.destroy();
  });

if (failures.length) {
  console.log(`\n${failures.length} check(s) failed:\n- ${failures.join('\n- ')}`);
  process.exit(1);
}
console.log('projects and keys over HTTP: all ok');
process.exit(0);
