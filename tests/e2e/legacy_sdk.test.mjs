// The legacy era (initialize handshake) with the official v1 SDK, @modelcontextprotocol/sdk.
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { checkProgress, recordNotifications, runScenario, serverParams } from './scenario.mjs';

const client = new Client({ name: 'verdict-e2e-legacy', version: '1.0.0' });
const transport = new StdioClientTransport(serverParams());
await client.connect(transport);
const notifications = recordNotifications(transport);
try {
  assert.ok(client.getServerCapabilities().logging);
  assert.equal(client.getServerVersion().name, 'verdict');
  assert.match(client.getInstructions(), /verdict:\/\/schema/);
  const experiment = await runScenario(client);
  await checkProgress(client, notifications, experiment.id);

  const messages = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => messages.push(n.params));
  await client.setLoggingLevel('info');
  await client.callTool({ name: 'do', arguments: { type: 'Experiment', verb: 'pause', id: experiment.id } });
  await client.ping();
  assert.equal(messages.length, 1);
  assert.equal(messages[0].data.tool, 'do');
} finally {
  await client.close();
}
console.log('legacy era (@modelcontextprotocol/sdk): ok');
