// Pipelined `tools/call get` over stdio against `verdict serve`, against the bare parse-and-reply
// loop (build/bench/bare_loop: the limit) and against the official SDK's stdio server (in
// memory), reporting requests/s and latency percentiles for each and the ratios, in one run.
// Usage: node bench/stdio/compare.mjs [path/to/verdict] [requests] [window]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const verdict = process.argv[2] ?? 'build/verdict';
const total = Number(process.argv[3] ?? 20000);
const window = Number(process.argv[4] ?? 64);

function lineClient(child) {
  let buffer = '';
  const waiting = new Map();
  child.stdout.on('data', (chunk) => {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const message = JSON.parse(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
      const resolve = waiting.get(message.id);
      if (resolve) {
        waiting.delete(message.id);
        resolve(message);
      }
    }
  });
  return (message) =>
    new Promise((resolve) => {
      waiting.set(message.id, resolve);
      child.stdin.write(JSON.stringify(message) + '\n');
    });
}

async function measure(name, command, args, setup) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'] });
  const send = lineClient(child);
  await send({ jsonrpc: '2.0', id: 'init', method: 'initialize',
               params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } });
  child.stdin.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) + '\n');
  const id = await setup(send);
  const latencies = [];
  let next = 0;
  const started = process.hrtime.bigint();
  async function worker() {
    while (next < total) {
      const n = next++;
      const sent = process.hrtime.bigint();
      const reply = await send({ jsonrpc: '2.0', id: n, method: 'tools/call',
                                 params: { name: 'get', arguments: { type: 'Experiment', id } } });
      if (reply.error || reply.result.isError) throw new Error(`${name}: ${JSON.stringify(reply)}`);
      latencies.push(Number(process.hrtime.bigint() - sent) / 1000);
    }
  }
  await Promise.all(Array.from({ length: window }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  child.stdin.end();
  latencies.sort((a, b) => a - b);
  const at = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { name, requests: total, window, per_second: Math.round(total / seconds),
           p50_us: Math.round(at(0.5)), p99_us: Math.round(at(0.99)) };
}

const db = join(mkdtempSync(join(tmpdir(), 'verdict-bench-')), 'bench.db');
const ours = await measure('verdict serve (SQLite, durable)', verdict,
  ['serve', '--db', db, '--log-level', 'error'], async (send) => {
    const created = await send({ jsonrpc: '2.0', id: 'create', method: 'tools/call',
      params: { name: 'do', arguments: { type: 'Experiment', verb: 'create', data: { name: 'bench' } } } });
    return created.result.structuredContent.id;
  });
const sdk = await measure('TypeScript SDK stdio server (in memory)', process.execPath,
  [new URL('./sdk_get_server.mjs', import.meta.url).pathname], async () => 'experiment_bench001');
const bareLoop = join(dirname(verdict), 'bench', 'bare_loop');
const bare = existsSync(bareLoop)
  ? await measure('bare parse-and-reply loop', bareLoop, [], async () => 'experiment_bench001')
  : null;
console.log(JSON.stringify(ours));
if (bare) console.log(JSON.stringify(bare));
console.log(JSON.stringify(sdk));
console.log(JSON.stringify({
  ratio_to_sdk: +(ours.per_second / sdk.per_second).toFixed(2),
  ratio_to_bare_loop: bare ? +(ours.per_second / bare.per_second).toFixed(2) : 'build bare_loop',
}));
