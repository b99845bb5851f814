// The end-to-end scenario both official clients run against `verdict serve` over stdio.
// Not a test itself (CMake registers *.test.mjs only); the era-specific tests import it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freshDatabase } from './database.mjs';

/** `command`/`args` for a StdioClientTransport running `verdict serve` on a fresh database. */
export function serverParams() {
  const binary = process.env.VERDICT_BINARY;
  assert.ok(binary, 'set VERDICT_BINARY to the verdict executable');
  const dir = mkdtempSync(join(tmpdir(), 'verdict-e2e-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return { command: binary, args: ['serve', '--db', freshDatabase(dir)], stderr: 'ignore' };
}

/**
 * Records the notifications the server sends on `transport` (after connect). Progress is checked
 * on the wire because both SDKs run notification handlers in a microtask: when a notification
 * and the response arrive in one read, the response retires the request's progress handler first.
 */
export function recordNotifications(transport) {
  const seen = [];
  const deliver = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if (message.method?.startsWith('notifications/')) seen.push(message);
    deliver(message, extra);
  };
  return seen;
}

/** Checks that a tools/call carrying `progressToken` got start and completion notifications. */
export async function checkProgress(client, notifications, id) {
  notifications.length = 0;
  await client.callTool({
    name: 'get',
    arguments: { type: 'Experiment', id },
    _meta: { progressToken: 'e2e-progress' },
  });
  const progress = notifications.filter((n) => n.method === 'notifications/progress');
  assert.deepEqual(progress.map((n) => [n.params.progressToken, n.params.progress]), [
    ['e2e-progress', 0],
    ['e2e-progress', 1],
  ]);
}

export function text(result) {
  return result.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');
}

/** Runs `do`/`find`/`get` and checks the structured result mirrors the text content. */
export async function call(client, name, args) {
  const result = await client.callTool({ name, arguments: args });
  assert.notEqual(result.isError, true, `${name} ${JSON.stringify(args)} failed: ${text(result)}`);
  assert.deepEqual(result.structuredContent, JSON.parse(text(result)));
  return result.structuredContent;
}

export async function expectToolError(client, args, pattern) {
  const result = await client.callTool({ name: 'do', arguments: args });
  assert.equal(result.isError, true, `expected isError for ${JSON.stringify(args)}`);
  assert.match(text(result), pattern);
}

/** The scenario of issue 3: tools, an experiment's lifecycle, resources, prompts, isError. */
export async function runScenario(client) {
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name), ['find', 'get', 'do']);
  const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
  assert.equal(byName.find.annotations.readOnlyHint, true);
  assert.equal(byName.get.annotations.readOnlyHint, true);
  assert.equal(byName.do.annotations.readOnlyHint, false);
  assert.ok(byName.do.inputSchema.properties.verb.enum.includes('addVariant'));
  assert.ok(byName.do.description.includes('Experiment'));

  const created = await call(client, 'do', {
    type: 'Experiment',
    verb: 'create',
    data: {
      name: 'Checkout button color',
      hypothesis: 'a green button raises checkouts',
      primaryMetric: 'checkout_rate',
    },
  });
  assert.equal(created.status, 'Draft');
  assert.equal(created.slug, 'checkout-button-color');
  for (const name of ['Control', 'Green'])
    await call(client, 'do', { type: 'Experiment', verb: 'addVariant', id: created.id, data: { name } });

  const drafts = await call(client, 'find', { type: 'Experiment', filter: { status: 'Draft' } });
  assert.deepEqual(drafts.items.map((e) => e.id), [created.id]);

  const fetched = await call(client, 'get', { type: 'Experiment', id: 'checkout-button-color' });
  assert.equal(fetched.id, created.id);
  assert.deepEqual(fetched.variants.map((v) => v.key), ['control', 'green']);

  const started = await call(client, 'do', { type: 'Experiment', verb: 'start', id: created.id });
  assert.equal(started.status, 'Started');

  const resource = await client.readResource({ uri: `verdict://Experiment/${created.id}` });
  assert.equal(resource.contents[0].mimeType, 'application/json');
  assert.equal(JSON.parse(resource.contents[0].text).status, 'Started');
  const schema = await client.readResource({ uri: 'verdict://schema/Experiment' });
  assert.ok(JSON.parse(schema.contents[0].text).verbs.start);
  const { resourceTemplates } = await client.listResourceTemplates();
  assert.ok(resourceTemplates.some((t) => t.uriTemplate === 'verdict://{type}/{id}'));

  // A refused transition and bad arguments are tool results the model can read, not exceptions.
  await expectToolError(client, { type: 'Experiment', verb: 'start', id: created.id }, /cannot start/);
  await expectToolError(client, { type: 'Experiment', verb: 'create', colour: 'red' }, /colour/);
  await expectToolError(client, { type: 'Experiment', verb: 'create', data: {} }, /name/);
  await expectToolError(client, { type: 'Spaceship', verb: 'create' }, /type: unknown value/);
  await assert.rejects(client.callTool({ name: 'launch', arguments: {} }), /unknown tool/);

  const { prompts } = await client.listPrompts();
  assert.ok(prompts.some((p) => p.name === 'design-experiment'));
  const prompt = await client.getPrompt({
    name: 'design-experiment',
    arguments: { hypothesis: 'free shipping raises order value' },
  });
  assert.match(prompt.messages[0].content.text, /free shipping raises order value/);
  return created;
}
