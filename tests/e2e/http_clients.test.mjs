// Both official clients over Streamable HTTP against `verdict serve --listen http://`: the v1 SDK
// (@modelcontextprotocol/sdk, legacy era with an Mcp-Session-Id) and the v2 client
// (@modelcontextprotocol/client) pinned to the stateless 2026-07-28, each running the same
// scenario the stdio tests run, progress notifications included.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { checkProgress, recordNotifications, runScenario } from './scenario.mjs';

/** Starts `verdict serve` on an HTTP port the kernel picks; resolves with the /mcp URL. */
async function startServer() {
  const binary = process.env.VERDICT_BINARY;
  assert.ok(binary, 'set VERDICT_BINARY to the verdict executable');
  const dir = mkdtempSync(join(tmpdir(), 'verdict-e2e-http-'));
  const server = spawn(binary, ['serve', '--db', join(dir, 'verdict.db'), '--no-stdio',
    '--listen', 'http://127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  process.on('exit', () => {
    server.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  let log = '';
  const url = await new Promise((resolve, reject) => {
    server.stderr.on('data', (chunk) => {
      log += chunk;
      const match = log.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (match) resolve(new URL('/mcp', match[1]));
    });
    server.on('exit', (code) => reject(new Error(`verdict exited with ${code}: ${log}`)));
  });
  return { server, url };
}

// One server per era: the scenario creates the same slugs each time.
const { url } = await startServer();
const legacy = new LegacyClient({ name: 'verdict-e2e-http-legacy', version: '1.0.0' });
const legacyTransport = new LegacyTransport(url);
await legacy.connect(legacyTransport);
const legacyNotifications = recordNotifications(legacyTransport);
try {
  assert.match(legacyTransport.sessionId, /^[0-9a-f]{32}$/);
  assert.equal(legacy.getServerVersion().name, 'verdict');
  const experiment = await runScenario(legacy);
  await checkProgress(legacy, legacyNotifications, experiment.id);
  await legacyTransport.terminateSession();
  assert.equal(legacyTransport.sessionId, undefined);
} finally {
  await legacy.close();
}
console.log('legacy era over HTTP (@modelcontextprotocol/sdk, StreamableHTTPClientTransport): ok');

const current = new Client(
  { name: 'verdict-e2e-http-current', version: '1.0.0' },
  { versionNegotiation: { mode: { pin: '2026-07-28' } } },
);
const currentTransport = new StreamableHTTPClientTransport((await startServer()).url);
await current.connect(currentTransport);
const currentNotifications = recordNotifications(currentTransport);
try {
  assert.equal(current.getProtocolEra(), 'modern');
  assert.equal(current.getServerVersion().name, 'verdict');
  const experiment = await runScenario(current);
  await checkProgress(current, currentNotifications, experiment.id);
} finally {
  await current.close();
}
console.log('current era over HTTP (@modelcontextprotocol/client, 2026-07-28): ok');
process.exit(0);
