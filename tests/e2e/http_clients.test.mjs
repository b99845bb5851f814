// Both official clients over Streamable HTTP against `verdict serve --listen http://`: the v1 SDK
// (@modelcontextprotocol/sdk, legacy era with an Mcp-Session-Id) and the v2 client
// (@modelcontextprotocol/client) pinned to the stateless 2026-07-28, each running the same
// scenario the stdio tests run, progress notifications included.
import assert from 'node:assert/strict';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startHttpServer } from './http_server.mjs';
import { checkProgress, recordNotifications, runScenario } from './scenario.mjs';

async function startServer() {
  const { server, base } = await startHttpServer('verdict-e2e-http-');
  return { server, url: new URL('/mcp', base) };
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
