// The shipped Lua hooks end to end (issue 4) through the official v1 SDK over stdio: the seed's
// starting validation, the started event, and the concluded rollout of flags with a Metric and
// an Activity, all observed through find.
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { serverParams } from './scenario.mjs';

function text(result) {
  return result.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');
}

async function tool(client, name, args) {
  const result = await client.callTool({ name, arguments: args });
  assert.notEqual(result.isError, true, `${name} ${JSON.stringify(args)} failed: ${text(result)}`);
  return result.structuredContent;
}

const act = (client, args) => tool(client, 'do', args);
const find = async (client, type, filter) => (await tool(client, 'find', { type, filter })).items;

async function expectRejected(client, args, pattern) {
  const result = await client.callTool({ name: 'do', arguments: args });
  assert.equal(result.isError, true, `expected isError for ${JSON.stringify(args)}`);
  assert.match(text(result), pattern);
}

const variants = [
  { key: 'control', name: 'Control', weight: 50 },
  { key: 'green', name: 'Green', weight: 50 },
];

/** An experiment with its flag, started and Running (the first assignment runs it). */
async function runningWithFlag(client, name, flagKey) {
  const experiment = await act(client, {
    type: 'Experiment',
    verb: 'create',
    // Not the random id as seed: its split would fire SRM (no winner) about 1 run in 1000.
    data: { name, primaryMetric: 'purchase', variants, seed: 'checkout-6' },
  });
  const flag = await act(client, {
    type: 'FeatureFlag',
    verb: 'create',
    data: { key: flagKey, name: `${name} flag`, experiment: experiment.id,
      variants: [{ key: 'control', value: false }, { key: 'green', value: true }] },
  });
  const started = await act(client, { type: 'Experiment', verb: 'start', id: experiment.id });
  assert.equal(started.status, 'Started');
  const assigned = await act(client, {
    type: 'Experiment',
    verb: 'assign',
    id: experiment.id,
    data: { unit: 'user-1' },
  });
  assert.equal(assigned.inExperiment, true);
  assert.ok(['control', 'green'].includes(assigned.variant));
  const running = await tool(client, 'get', { type: 'Experiment', id: experiment.id });
  assert.equal(running.status, 'Running');
  return { experiment, flag };
}

/** Enrolls 4,000 users, green converting at 30% and control at 10%, and analyzes: conclude
 * then has the analysis' support for green. */
async function analyzedWithGreenWinning(client, id) {
  const units = Array.from({ length: 4000 }, (_, i) => ({ unit: `buyer-${i}` }));
  const { assignments } = await act(client, { type: 'Experiment', verb: 'assign', id, data: { units } });
  const events = [];
  assignments.forEach((assignment, i) => {
    if (i % 10 < (assignment.variant === 'green' ? 3 : 1)) {
      events.push({ unit: `buyer-${i}`, metric: 'purchase' });
    }
  });
  await act(client, { type: 'Experiment', verb: 'track', id, data: { events } });
  const view = await act(client, { type: 'Experiment', verb: 'analyze', id });
  assert.equal(view.winner, 'green', JSON.stringify(view));
}

const client = new Client({ name: 'verdict-e2e-hooks', version: '1.0.0' });
await client.connect(new StdioClientTransport(serverParams()));
try {
  // starting-validation.lua: one variant is refused with the seed's message; nothing changes.
  const lonely = await act(client, {
    type: 'Experiment',
    verb: 'create',
    data: { name: 'One variant', primaryMetric: 'purchase', variants: [variants[0]] },
  });
  await expectRejected(
    client,
    { type: 'Experiment', verb: 'start', id: lonely.id },
    /At least two variants required to start/,
  );
  assert.equal((await tool(client, 'get', { type: 'Experiment', id: lonely.id })).status, 'Draft');
  assert.deepEqual(await find(client, 'Event', { type: 'experiment.started' }), []);

  // ... and so is a missing primary metric.
  const unmeasured = await act(client, {
    type: 'Experiment',
    verb: 'create',
    data: { name: 'No metric', variants },
  });
  await expectRejected(
    client,
    { type: 'Experiment', verb: 'start', id: unmeasured.id },
    /Primary metric must be defined before starting/,
  );

  // Two variants and a primary metric start; started-event.lua announces it.
  const name = 'Checkout button color';
  const { experiment, flag } = await runningWithFlag(client, name, 'green-checkout');
  const announced = await find(client, 'Event', { type: 'experiment.started' });
  assert.equal(announced.length, 1);
  assert.equal(announced[0].subject, experiment.id);
  assert.equal(announced[0].data.experiment, experiment.id);
  assert.equal(announced[0].data.variants, 2);
  assert.equal(flag.status ?? 'Draft', 'Draft');

  // conclude refuses a winner no analysis supports (a new user's "99%" after one unit).
  await expectRejected(
    client,
    { type: 'Experiment', verb: 'conclude', id: experiment.id, data: { winner: 'green', confidence: 99 } },
    /no analysis/,
  );

  // concluded-rollout.lua: a winner at 97% rolls the flag out and records the outcome.
  await analyzedWithGreenWinning(client, experiment.id);
  const concluded = await act(client, {
    type: 'Experiment',
    verb: 'conclude',
    id: experiment.id,
    data: { winner: 'green', confidence: 97 },
  });
  assert.equal(concluded.status, 'Concluded');
  const [rolled] = await find(client, 'FeatureFlag', { experiment: experiment.id });
  assert.equal(rolled.id, flag.id);
  assert.equal(rolled.status, 'RolledOut');
  assert.equal(rolled.rolloutPercentage, 100);
  const metrics = await find(client, 'Metric', { name: `Experiment: ${name}` });
  assert.equal(metrics.length, 1);
  assert.equal(metrics[0].type, 'Conversion');
  assert.equal(metrics[0].value, 97);
  const tasks = await find(client, 'Activity', { subject: `Experiment concluded: ${name}` });
  assert.equal(tasks.length, 1);
  assert.equal(tasks[0].type, 'Task');
  assert.equal(tasks[0].status, 'Pending');

  // Below 95% confidence the flag stays where it was, but the outcome is still recorded.
  const unsure = await runningWithFlag(client, 'Hero image', 'hero-image');
  await analyzedWithGreenWinning(client, unsure.experiment.id);
  await act(client, {
    type: 'Experiment',
    verb: 'conclude',
    id: unsure.experiment.id,
    data: { winner: 'green', confidence: 80 },
  });
  const [kept] = await find(client, 'FeatureFlag', { experiment: unsure.experiment.id });
  assert.notEqual(kept.status, 'RolledOut');
  assert.equal((await find(client, 'Metric', { name: 'Experiment: Hero image' })).length, 1);
  assert.equal((await find(client, 'Activity', { type: 'Task', status: 'Pending' })).length, 2);
} finally {
  await client.close();
}
console.log('shipped hooks over stdio (@modelcontextprotocol/sdk): ok');
