// REST over HTTP/1.1 keep-alive against `verdict serve --listen http://` (durable SQLite store):
// `GET /~default/experiments/{id}` with 1 and 32 connections beside MCP's `tools/call get` of the
// same experiment in the same run (same machine load), then `POST .../{id}/assign` with batches
// of units. Prints one JSON line per case.
// Usage: node bench/http/rest.mjs [path/to/verdict] [requests per case] [units per batch]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measure, send, start } from './http_load.mjs';

const verdict = process.argv[2] ?? 'build/verdict';
const total = Number(process.argv[3] ?? 20000);
const batch = Number(process.argv[4] ?? 100);

const db = join(mkdtempSync(join(tmpdir(), 'verdict-bench-rest-')), 'bench.db');
const [, port] = await start(verdict, ['serve', '--db', db, '--no-stdio', '--no-shipped-hooks',
  '--listen', 'http://127.0.0.1:0'], /listening on http:\/\/127\.0\.0\.1:(\d+)/);
const created = JSON.parse((await send(undefined, port, { path: '/~default/experiments',
  body: JSON.stringify({ name: 'bench', primaryMetric: 'conversion',
    variants: [{ key: 'control', weight: 50 }, { key: 'treatment', weight: 50 }] }) })).text);
await send(undefined, port, { path: `/~default/experiments/${created.id}/start` });

const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28',
               'io.modelcontextprotocol/clientCapabilities': {} };
const mcp = { headers: { Accept: 'application/json', 'MCP-Protocol-Version': '2026-07-28',
                         'Mcp-Method': 'tools/call', 'Mcp-Name': 'get' },
              body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call',
                params: { name: 'get', arguments: { type: 'Experiment', id: created.id }, _meta: meta } }) };
const rest = { method: 'GET', path: `/~default/experiments/${created.id}` };

for (const connections of [1, 32]) {
  console.log(JSON.stringify(await measure('REST GET /~default/experiments/{id}', port, rest,
    connections, total, (reply) => reply.status === 200)));
  console.log(JSON.stringify(await measure('MCP tools/call get (2026-07-28)', port, mcp,
    connections, total, (reply) => reply.status === 200 && reply.text.includes('"result"'))));
}

let unit = 0;
const batches = Math.max(1, Math.floor(total / 20));
for (const connections of [1, 32]) {
  const result = await measure(`REST POST /~default/experiments/{id}/assign, ${batch} units`,
    port, { get body() {
      return JSON.stringify({ units: Array.from({ length: batch }, () => ({ unit: `u${unit++}` })) });
    }, path: `/~default/experiments/${created.id}/assign` }, connections, batches,
    (reply) => reply.status === 200);
  console.log(JSON.stringify({ ...result, units_per_second: result.per_second * batch }));
}
process.exit(0);
