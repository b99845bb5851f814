// Flag evaluation over the wire against `verdict serve --listen http://` (durable SQLite store,
// 100 flags each with a targeting rule and a 30% rollout): OFREP single evaluation over
// HTTP/1.1 keep-alive with 1 and 8 connections (each sends its next request when the last is
// answered) and OFREP bulk evaluation of all 100 flags, as requests/s and latency percentiles;
// then the GrowthBook JS SDK's local evaluation rate on the same flag, loaded from
// /api/features/{clientKey}. Needs tests/e2e's node_modules (for @growthbook/growthbook).
// Usage: NODE_ENV=production node bench/http/flags_http.mjs [path/to/verdict] [requests per case]
// (NODE_ENV=production drops the SDK's debug-log calls, as in an application's build.)
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measure, send, start } from './http_load.mjs';

const require = createRequire(new URL('../../tests/e2e/package.json', import.meta.url));
const { GrowthBookClient } = require('@growthbook/growthbook');

const verdict = process.argv[2] ?? 'build/verdict';
const total = Number(process.argv[3] ?? 20000);
const kFlags = 100;
const token = 'bench-client-key-0123456789abcdef';
const context = (i) => JSON.stringify({ context: { targetingKey: `user-${i}`, country: 'US', plan: 'free' } });

const auth = { Authorization: `Bearer ${token}` };

function measureOfrep(name, port, path, connections, requests) {
  return measure(name, port, (i) => ({ path, headers: auth, body: context(i) }), connections,
                 requests, (reply) => reply.status === 200);
}

const dir = mkdtempSync(join(tmpdir(), 'verdict-bench-flags-'));
writeFileSync(join(dir, 'token'), token, { mode: 0o600 });
const [, port] = await start(verdict, ['serve', '--db', join(dir, 'bench.db'), '--no-stdio',
  '--listen', 'http://127.0.0.1:0', '--token-file', join(dir, 'token')],
  /listening on http:\/\/127\.0\.0\.1:(\d+)/);

let id = 0;
async function act(params) {
  const reply = await send(undefined, port, { headers: auth,
    body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method: 'do', params }) });
  const parsed = JSON.parse(reply.text);
  if (parsed.error) throw new Error(JSON.stringify(parsed.error));
  return parsed.result;
}
for (let i = 0; i < kFlags; i++) {
  const flag = await act({ type: 'FeatureFlag', verb: 'create', data: {
    key: `flag-${i}`, name: `Flag ${i}`, type: 'Boolean', defaultValue: false, rolloutPercentage: 30,
    targetingRules: [{ id: 'staff', condition: { country: { $in: ['SE', 'NO'] }, plan: 'pro' }, force: true }],
  } });
  await act({ type: 'FeatureFlag', verb: 'enable', id: flag.id });
}

const bulk = Math.max(200, total / 20);
const results = [
  await measureOfrep('OFREP single', port, '/ofrep/v1/evaluate/flags/flag-7', 1, total),
  await measureOfrep('OFREP single', port, '/ofrep/v1/evaluate/flags/flag-7', 8, total),
  await measureOfrep(`OFREP bulk (${kFlags} flags)`, port, '/ofrep/v1/evaluate/flags', 1, bulk),
  await measureOfrep(`OFREP bulk (${kFlags} flags)`, port, '/ofrep/v1/evaluate/flags', 8, bulk),
];

// The GrowthBook SDK evaluates locally once it has loaded the payload.
const sdk = new GrowthBookClient({ apiHost: `http://127.0.0.1:${port}`, clientKey: token });
await sdk.init({ timeout: 5000, streaming: false });
const evaluations = 1000000;
const attributes = Array.from({ length: 1024 }, (_, i) => ({ id: `user-${i}`, country: 'US', plan: 'free' }));
let on = 0;
const cpuBefore = process.cpuUsage();
const started = process.hrtime.bigint();
for (let i = 0; i < evaluations; i++)
  if (sdk.evalFeature('flag-7', { attributes: attributes[i & 1023] }).on) on++;
const ns = Number(process.hrtime.bigint() - started) / evaluations;
const cpu = process.cpuUsage(cpuBefore);
// On a shared machine the CPU time is the steadier figure: wall time includes waiting for a core.
results.push({ name: 'GrowthBook JS SDK local evalFeature', evaluations, per_second: Math.round(1e9 / ns),
               ns_per_evaluation: Math.round(ns),
               cpu_ns_per_evaluation: Math.round(((cpu.user + cpu.system) * 1000) / evaluations),
               share_on: on / evaluations });
for (const result of results) console.log(JSON.stringify(result));
sdk.destroy?.();
process.exit(0);
