// The current era (2026-07-28, per-request _meta, server/discover) with the official v2 client,
// @modelcontextprotocol/client, pinned to 2026-07-28 so a silent fallback to initialize fails.
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { checkProgress, recordNotifications, runScenario, serverParams } from './scenario.mjs';

const client = new Client(
  { name: 'verdict-e2e-current', version: '1.0.0' },
  { versionNegotiation: { mode: { pin: '2026-07-28' } } },
);
const transport = new StdioClientTransport(serverParams());
await client.connect(transport);
const notifications = recordNotifications(transport);
try {
  assert.equal(client.getProtocolEra(), 'modern');
  assert.equal(client.getServerVersion().name, 'verdict');
  const experiment = await runScenario(client);
  await checkProgress(client, notifications, experiment.id);
} finally {
  await client.close();
}
console.log('current era (@modelcontextprotocol/client, 2026-07-28): ok');
