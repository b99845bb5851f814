// `tools/call get` over HTTP/1.1 keep-alive against `verdict serve --listen http://` (durable
// SQLite store) and against the official TypeScript SDK's stateless Streamable HTTP server (in
// memory), with 1 and 32 connections, each connection sending its next request when the last
// one is answered. Prints requests/s and latency percentiles per case and the ratios.
// Usage: node bench/http/compare.mjs [path/to/verdict] [requests per case]
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measure, request } from './keep_alive.mjs';

const verdict = process.argv[2] ?? 'build/verdict';
const total = Number(process.argv[3] ?? 20000);

const post = (agent, port, headers, body) => request(agent, port, 'POST', '/mcp',
  { Accept: 'application/json, text/event-stream', ...headers }, body);

function measureGet(name, port, headers, body, connections) {
  return measure(name, connections, total, async (agent) => {
    const reply = await post(agent, port, headers, body);
    if (reply.status !== 200 || !reply.text.includes('"result"'))
      throw new Error(`${name}: ${reply.status} ${reply.text}`);
  });
}

function start(command, args, ready) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  process.on('exit', () => child.kill());
  return new Promise((resolve) => {
    let log = '';
    const look = (chunk) => {
      log += chunk;
      const match = log.match(ready);
      if (match) resolve(match);
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
  });
}

const db = join(mkdtempSync(join(tmpdir(), 'verdict-bench-http-')), 'bench.db');
const [, port] = await start(verdict, ['serve', '--db', db, '--no-stdio', '--listen',
  'http://127.0.0.1:0'], /listening on http:\/\/127\.0\.0\.1:(\d+)/);
const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28',
               'io.modelcontextprotocol/clientCapabilities': {} };
const created = await post(undefined, port, { 'MCP-Protocol-Version': '2026-07-28',
  'Mcp-Method': 'tools/call', 'Mcp-Name': 'do' }, JSON.stringify({ jsonrpc: '2.0', id: 1,
  method: 'tools/call', params: { name: 'do', arguments: { type: 'Experiment', verb: 'create',
  data: { name: 'bench' } }, _meta: meta } }));
const id = JSON.parse(created.text).result.structuredContent.id;
const ourBody = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call',
  params: { name: 'get', arguments: { type: 'Experiment', id }, _meta: meta } });
const ourHeaders = { 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call',
                     'Mcp-Name': 'get' };

const sdkPort = 20000 + Math.floor(Math.random() * 20000);
await start(process.execPath, [new URL('./sdk_http_server.mjs', import.meta.url).pathname,
  String(sdkPort)], /ready/);
const sdkBody = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call',
  params: { name: 'get', arguments: { type: 'Experiment', id: 'experiment_bench001' } } });
const sdkHeaders = { 'MCP-Protocol-Version': '2025-06-18' };

for (const connections of [1, 32]) {
  const ours = await measureGet('verdict serve --listen http:// (SQLite, durable)', port, ourHeaders,
                             ourBody, connections);
  const sdk = await measureGet('TypeScript SDK Streamable HTTP, stateless (in memory)', sdkPort,
                            sdkHeaders, sdkBody, connections);
  console.log(JSON.stringify(ours));
  console.log(JSON.stringify(sdk));
  console.log(JSON.stringify({ connections,
    ratio_requests_per_second: +(ours.per_second / sdk.per_second).toFixed(2) }));
}
process.exit(0);
