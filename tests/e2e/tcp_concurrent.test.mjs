// Many concurrent TCP clients, each pipelining requests on one connection; responses are matched
// by id. Plain JSON lines, as an application that does not speak MCP would send them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const kClients = 32;
const kRequestsPerClient = 50;

const dir = mkdtempSync(join(tmpdir(), 'verdict-tcp-'));
const server = spawn(process.env.VERDICT_BINARY, [
  'serve', '--no-stdio', '--listen', 'tcp://127.0.0.1:0', '--db', join(dir, 'verdict.db'),
], { stdio: ['ignore', 'ignore', 'pipe'] });
process.on('exit', () => {
  server.kill();
  rmSync(dir, { recursive: true, force: true });
});

const port = await new Promise((resolve, reject) => {
  createInterface({ input: server.stderr }).on('line', (line) => {
    const match = line.match(/listening on tcp:\/\/127\.0\.0\.1:(\d+)/);
    if (match) resolve(Number(match[1]));
  });
  server.on('exit', (code) => reject(new Error(`verdict exited with ${code}`)));
});

/** Opens a connection; `send(message)` resolves with the response carrying the same id. */
async function client() {
  const socket = connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const pending = new Map();
  createInterface({ input: socket }).on('line', (line) => {
    const message = JSON.parse(line);
    pending.get(message.id)?.(message);
    pending.delete(message.id);
  });
  return {
    send: (message) => new Promise((resolve) => {
      pending.set(message.id, resolve);
      socket.write(JSON.stringify({ jsonrpc: '2.0', ...message }) + '\n');
    }),
    close: () => socket.end(),
  };
}

const setup = await client();
const created = await setup.send({
  id: 'create', method: 'do', params: { type: 'Experiment', verb: 'create', data: { name: 'Shared' } },
});
assert.equal(created.result.slug, 'shared');
setup.close();

const clients = await Promise.all(Array.from({ length: kClients }, client));
await Promise.all(clients.map(async (c, n) => {
  const replies = await Promise.all(Array.from({ length: kRequestsPerClient }, (_, i) =>
    c.send(i % 10 === 0
      ? { id: `${n}-${i}`, method: 'do', params: { type: 'Contact', verb: 'create', data: { name: `c${n}-${i}` } } }
      : { id: `${n}-${i}`, method: 'get', params: { type: 'Experiment', id: 'shared' } })));
  replies.forEach((reply, i) => {
    assert.equal(reply.id, `${n}-${i}`);
    assert.ok(reply.result, JSON.stringify(reply));
    if (i % 10 !== 0) assert.equal(reply.result.id, created.result.id);
  });
  c.close();
}));

const check = await client();
const contacts = await check.send({ id: 1, method: 'find', params: { type: 'Contact', limit: 1000 } });
assert.equal(contacts.result.items.length, kClients * (kRequestsPerClient / 10));
check.close();
console.log(`tcp: ${kClients} clients x ${kRequestsPerClient} pipelined requests: ok`);
process.exit(0);
