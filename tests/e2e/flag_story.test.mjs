// Seed 001's story end to end: "Each Experiment can own one or more FeatureFlags. Concluding an
// experiment can trigger a flag rollout." An experiment with a linked flag; applications
// evaluating the flag (OpenFeature's server SDK over OFREP, the GrowthBook JS SDK over
// /api/features) see the split; conversions make one variant win at >= 95% confidence; conclude
// adopts it, the shipped hook (hooks/concluded-rollout.lua) rolls the flag out, and every
// evaluation now returns the winner.
import assert from 'node:assert/strict';
import { OpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { GrowthBookClient } from '@growthbook/growthbook';
import { startHttpServer } from './http_server.mjs';

const clientKey = 'e2e-story-key-0123456789abcdef';
const { base, act } = await startHttpServer('verdict-e2e-story-', { token: clientKey });

const experiment = await act({
  type: 'Experiment', verb: 'create',
  data: {
    name: 'Checkout button', primaryMetric: 'purchase',
    seed: 'checkout-button-4', // not the random id: its split would fire SRM 1 run in 1000
    variants: [{ key: 'control', name: 'Blue', weight: 50 }, { key: 'green', name: 'Green', weight: 50 }],
  },
});
const flag = await act({
  type: 'FeatureFlag', verb: 'create',
  data: {
    key: 'checkout-button', name: 'Checkout button colour', type: 'String', defaultValue: 'blue',
    experiment: experiment.id,
    variants: [{ key: 'control', value: 'blue' }, { key: 'green', value: 'green' }],
  },
});
await act({ type: 'FeatureFlag', verb: 'enable', id: flag.id });
await act({ type: 'Experiment', verb: 'start', id: experiment.id });

// Applications: a server with OpenFeature over OFREP, and one with the GrowthBook SDK.
await OpenFeature.setProviderAndWait(new OFREPProvider({ baseUrl: base }));
const openFeature = OpenFeature.getClient();
const growthbook = new GrowthBookClient({ apiHost: base, clientKey });
await growthbook.init({ timeout: 5000, streaming: false });

const units = Array.from({ length: 1200 }, (_, i) => `shopper-${i}`);
const seen = new Map();
for (const unit of units) {
  const details = await openFeature.getStringDetails('checkout-button', 'none', { targetingKey: unit });
  assert.equal(details.reason, 'SPLIT');
  seen.set(unit, details.value);
}
// The first evaluation ran the Started experiment; the SDK's payload now has its split.
await growthbook.refreshFeatures({ skipCache: true });
for (const unit of units)
  assert.equal(growthbook.evalFeature('checkout-button', { attributes: { id: unit } }).value, seen.get(unit), unit);
const greens = [...seen.values()].filter((v) => v === 'green').length;
assert.ok(greens > 500 && greens < 700, `about half see green, got ${greens}`);
console.log(`applications see the split (${greens} green of ${units.length}), OFREP and the GrowthBook SDK alike: ok`);

// Green converts at 30%, blue at 10%: the analysis finds green the winner.
const events = units.filter((unit, i) => i % 10 < (seen.get(unit) === 'green' ? 3 : 1))
  .map((unit) => ({ unit, metric: 'purchase' }));
await act({ type: 'Experiment', verb: 'track', id: experiment.id, data: { events } });
const analysis = await act({ type: 'Experiment', verb: 'analyze', id: experiment.id });
assert.equal(analysis.winner, 'green', JSON.stringify(analysis));
const concluded = await act({ type: 'Experiment', verb: 'conclude', id: experiment.id, data: {} });
assert.equal(concluded.winner, 'green');
assert.ok(concluded.confidence >= 95, `confidence ${concluded.confidence}`);

// The shipped hook rolled the flag out.
const rolled = await act({ type: 'FeatureFlag', id: flag.id }, 'get');
assert.equal(rolled.status, 'RolledOut', 'hooks/concluded-rollout.lua rolled the flag out');

// Every evaluation now returns the winner: known units, new units, every client.
await growthbook.refreshFeatures({ skipCache: true });
for (const unit of [...units.slice(0, 100), 'newcomer-1', 'newcomer-2']) {
  const details = await openFeature.getStringDetails('checkout-button', 'none', { targetingKey: unit });
  assert.equal(details.value, 'green', unit);
  assert.equal(details.reason, 'STATIC');
  assert.equal(growthbook.evalFeature('checkout-button', { attributes: { id: unit } }).value, 'green', unit);
}
const { evaluations } = await act({
  type: 'FeatureFlag', verb: 'evaluate', id: 'checkout-button', data: { units: units.map((unit) => ({ unit })) },
});
assert.ok(evaluations.every((e) => e.value === 'green'));
console.log('conclude at >= 95% confidence, the hook rolls out, every evaluation returns the winner: ok');
await OpenFeature.close();
process.exit(0);
