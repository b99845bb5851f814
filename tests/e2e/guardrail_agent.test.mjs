// Issue 18 as an agent lives it, through the official MCP SDK over stdio: plan a test, create it
// with a guardrail and a linked flag, start it, send traffic whose treatment loses revenue,
// analyze, and watch the shipped guardrail hook pause the experiment, turn its flag off and
// leave a Task for the owner.
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { call as tool, expectToolError, serverParams } from './scenario.mjs';

const act = (client, args) => tool(client, 'do', args);
const find = async (client, type, filter) => (await tool(client, 'find', { type, filter })).items;

const client = new Client({ name: 'verdict-e2e-guardrail-agent', version: '1.0.0' });
await client.connect(new StdioClientTransport(serverParams()));
try {
  // Plan: a 10 % conversion rate, +20 % to detect, 2,000 units a day.
  const plan = await act(client, {
    type: 'Experiment',
    verb: 'plan',
    data: { baseline: 0.1, mde: 0.2, dailyTraffic: 2000 },
  });
  const perArm = plan.fixedHorizon.sampleSizePerArm;
  assert.ok(perArm > 1000 && perArm < 10000, JSON.stringify(plan));
  // A percentage where planning takes a fraction is refused with the fraction it meant.
  await expectToolError(client, { type: 'Experiment', verb: 'plan',
    data: { baseline: 0.1, mde: 0.2, trafficAllocation: 50 } },
  /trafficAllocation: must be a fraction in \(0, 1\]; did you mean 0\.5\?/);

  const experiment = await act(client, {
    type: 'Experiment',
    verb: 'create',
    data: {
      name: 'Cheaper checkout',
      primaryMetric: 'purchase',
      guardrails: 'revenue',
      // Not the random id: its split would fire SRM (and so change the verdict) 1 run in 1000.
      seed: 'cheaper-checkout-1',
      variants: [
        { key: 'control', name: 'Control', weight: 50 },
        { key: 'cheap', name: 'Cheaper', weight: 50 },
      ],
    },
  });
  const flag = await act(client, {
    type: 'FeatureFlag',
    verb: 'create',
    data: { key: 'cheaper-checkout', name: 'Cheaper checkout', type: 'Boolean',
      defaultValue: false, experiment: experiment.id,
      variants: [{ key: 'control', value: false }, { key: 'cheap', value: true }] },
  });
  await act(client, { type: 'FeatureFlag', verb: 'enable', id: flag.id });
  assert.equal((await act(client, { type: 'Experiment', verb: 'start', id: experiment.id })).status,
    'Started');

  // Traffic: the cheaper checkout converts a little better but loses 3 of 10 in revenue.
  const units = Array.from({ length: 4000 }, (_, i) => ({ unit: `shopper-${i}` }));
  const { assignments } = await act(client, {
    type: 'Experiment', verb: 'assign', id: experiment.id, data: { units },
  });
  const events = [];
  assignments.forEach((assignment, i) => {
    const cheap = assignment.variant === 'cheap';
    if (i % 10 < (cheap ? 2 : 1)) events.push({ unit: units[i].unit, metric: 'purchase' });
    events.push({ unit: units[i].unit, metric: 'revenue', value: (cheap ? 7 : 10) + (i % 5) - 2 });
  });
  await act(client, { type: 'Experiment', verb: 'track', id: experiment.id, data: { events } });
  const midway = await act(client, { type: 'Experiment', verb: 'plan', id: experiment.id,
    data: { mde: 0.2 } });
  assert.equal(midway.observed.totalUnits, 4000, JSON.stringify(midway.observed));

  const view = await act(client, { type: 'Experiment', verb: 'analyze', id: experiment.id });
  assert.equal(view.guardrailHarmed, true, JSON.stringify(view));
  const [revenue] = view.guardrails;
  assert.equal(revenue.metric, 'revenue');
  assert.ok(revenue.variants[0].harmed && revenue.variants[0].lift < -0.2, JSON.stringify(revenue));

  // The shipped hooks/guardrail-stop.lua ran after analyze.
  const paused = await tool(client, 'get', { type: 'Experiment', id: experiment.id });
  assert.equal(paused.status, 'Paused');
  assert.equal((await tool(client, 'get', { type: 'FeatureFlag', id: flag.id })).status, 'Disabled');
  const off = await act(client, { type: 'FeatureFlag', verb: 'evaluate', id: 'cheaper-checkout',
    data: { unit: 'shopper-1' } });
  assert.deepEqual([off.value, off.reason], [false, 'DISABLED']);
  const tasks = await find(client, 'Activity', { type: 'Task', status: 'Pending' });
  assert.equal(tasks.length, 1, JSON.stringify(tasks));
  assert.match(tasks[0].subject,
    /^Guardrail harmed, experiment paused: Cheaper checkout \(revenue on cheap: lift -\d+\.\d\d%, always-valid bound -\d+\.\d\d%\)$/);
  console.log(`ok: planned ${perArm}/arm, revenue lift ${(100 * revenue.variants[0].lift).toFixed(1)}%,`
    + ' paused, flag disabled, task created');
} finally {
  await client.close();
}
