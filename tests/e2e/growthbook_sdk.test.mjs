// The official GrowthBook JS SDK (@growthbook/growthbook) loading Verdict's
// GET /api/features/{clientKey} evaluates locally exactly as Verdict does: the same variant as
// `assign` for 10,000 units of a running experiment, and the same value as `evaluate` for
// every flag in every state, including after `rollout`.
import assert from 'node:assert/strict';
import { GrowthBookClient } from '@growthbook/growthbook';
import { startHttpServer } from './http_server.mjs';

const clientKey = 'e2e-client-key-0123456789abcdef';
const { base, act } = await startHttpServer('verdict-e2e-growthbook-', { token: clientKey });
const flagVerb = (id, verb) => act({ type: 'FeatureFlag', verb, id });
const createFlag = (data) => act({ type: 'FeatureFlag', verb: 'create', data: { name: data.key, ...data } });

// The SDK fetches {apiHost}/api/features/{clientKey} itself; refreshes skip its cache.
const sdk = new GrowthBookClient({ apiHost: base, clientKey });
const loaded = await sdk.init({ timeout: 5000, streaming: false });
assert.equal(loaded.success, true, `the SDK loaded the payload: ${JSON.stringify(loaded)}`);
const reload = () => sdk.refreshFeatures({ skipCache: true });
const local = (key, unit, attributes = {}) => sdk.evalFeature(key, { attributes: { ...attributes, id: unit } });

// An experiment with three unequal arms over 90% of traffic, and a flag on it.
const experiment = await act({
  type: 'Experiment', verb: 'create',
  data: {
    name: 'Pricing page', primaryMetric: 'signup', trafficAllocation: 90,
    variants: [{ key: 'control', weight: 20 }, { key: 'annual', weight: 30 }, { key: 'monthly', weight: 50 }],
  },
});
const pricing = await createFlag({
  key: 'pricing', type: 'String', defaultValue: 'old', experiment: experiment.id,
  variants: [{ key: 'control', value: 'old' }, { key: 'annual', value: 'yearly-first' }, { key: 'monthly', value: 'monthly-first' }],
});
await flagVerb(pricing.id, 'enable');
await act({ type: 'Experiment', verb: 'start', id: experiment.id });
await act({ type: 'Experiment', verb: 'run', id: experiment.id });
await reload();

const units = Array.from({ length: 10000 }, (_, i) => `visitor-${i}`);
const { assignments } = await act({
  type: 'Experiment', verb: 'assign', id: experiment.id, data: { units: units.map((unit) => ({ unit })) },
});
const valueOf = { control: 'old', annual: 'yearly-first', monthly: 'monthly-first' };
let inside = 0;
assignments.forEach((assigned, i) => {
  const result = local('pricing', units[i]);
  if (assigned.inExperiment) {
    inside++;
    assert.equal(result.source, 'experiment', `${units[i]} is in the experiment for both: ${JSON.stringify(assigned)} vs ${JSON.stringify(result.experimentResult ?? result)}`);
    assert.equal(result.experimentResult.key, assigned.variant, `${units[i]}'s variant`);
    assert.equal(result.value, valueOf[assigned.variant]);
  } else {
    assert.notEqual(result.source, 'experiment', `${units[i]} is outside coverage for both`);
    assert.equal(result.value, 'old');
  }
});
assert.ok(inside > 8800 && inside < 9200, `90% coverage, got ${inside}`);
console.log(`GrowthBook SDK and assign agree for 10,000 units (${inside} in the experiment): ok`);

// Flags in every state, compared with `evaluate` for the same units and attributes.
const parent = await createFlag({ key: 'new-checkout', type: 'Boolean', defaultValue: false, rolloutPercentage: 40 });
const flags = {
  parent,
  draft: await createFlag({ key: 'draft-flag', type: 'Number', defaultValue: 1, rolloutPercentage: 100, variants: [{ key: 'on', value: 2 }] }),
  targeted: await createFlag({
    key: 'banner', type: 'String', defaultValue: 'none',
    variants: [{ key: 'on', value: 'spring' }],
    targetingRules: [
      { id: 'canada', condition: { country: 'CA' }, force: 'maple' },
      { id: 'beta-half', condition: { beta: true }, force: 'beta', coverage: 0.5, hashAttribute: 'id' },
    ],
    rolloutPercentage: 30,
  }),
  split: await createFlag({
    key: 'layout', type: 'String', defaultValue: 'list',
    targetingRules: [{ id: 'layout-test', key: 'layout-test', variations: ['list', 'grid', 'cards'], weights: [0.5, 0.25, 0.25], hashVersion: 2, meta: [{ key: 'list' }, { key: 'grid' }, { key: 'cards' }] }],
  }),
  gated: await createFlag({
    key: 'one-click', type: 'Boolean', defaultValue: false,
    targetingRules: [
      { id: 'needs-checkout', parentConditions: [{ id: 'new-checkout', condition: { value: true }, gate: true }] },
      { force: true },
    ],
  }),
  rolled: await createFlag({ key: 'dark-mode', type: 'Boolean', defaultValue: false }),
};
for (const name of ['parent', 'targeted', 'split', 'gated', 'rolled']) await flagVerb(flags[name].id, 'enable');

const people = Array.from({ length: 300 }, (_, i) => ({
  unit: `person-${i}`,
  attributes: { country: i % 4 === 0 ? 'CA' : 'US', beta: i % 3 === 0 },
}));
async function expectSameAsEvaluate(state) {
  await reload();
  const { evaluations } = await act({ type: 'FeatureFlag', verb: 'evaluate', data: { units: people } });
  for (const evaluation of evaluations) {
    const person = people.find((p) => p.unit === evaluation.unit);
    const result = local(evaluation.flag, person.unit, person.attributes);
    assert.deepEqual(result.value, evaluation.value,
      `${state}: ${evaluation.flag} for ${person.unit}: SDK ${JSON.stringify(result)} vs ${JSON.stringify(evaluation)}`);
  }
  return evaluations;
}
let evaluations = await expectSameAsEvaluate('enabled');
const reasons = new Set(evaluations.map((e) => `${e.flag}:${e.reason}`));
for (const expected of ['banner:TARGETING_MATCH', 'banner:SPLIT', 'banner:DEFAULT', 'layout:SPLIT',
  'one-click:DEFAULT', 'one-click:STATIC', 'draft-flag:DISABLED', 'pricing:SPLIT']) {
  assert.ok(reasons.has(expected), `the comparison covers ${expected}`);
}
await flagVerb(flags.targeted.id, 'disable');
await flagVerb(flags.rolled.id, 'rollout');
await flagVerb(flags.parent.id, 'archive');
evaluations = await expectSameAsEvaluate('disabled, rolled out, parent archived');
assert.ok(evaluations.filter((e) => e.flag === 'dark-mode').every((e) => e.value === true));
assert.ok(evaluations.filter((e) => e.flag === 'one-click').every((e) => e.value === null),
  'a failed gate serves no value (the application\'s fallback)');

// The experiment concludes: its flag serves the winner to every unit, then is rolled out.
await act({ type: 'Experiment', verb: 'conclude', id: experiment.id, data: { winner: 'annual', force: true, reason: 'e2e' } });
evaluations = await expectSameAsEvaluate('experiment concluded');
assert.ok(evaluations.filter((e) => e.flag === 'pricing').every((e) => e.value === 'yearly-first'));
await flagVerb(pricing.id, 'rollout');
evaluations = await expectSameAsEvaluate('after rollout');
assert.ok(evaluations.filter((e) => e.flag === 'pricing').every((e) => e.value === 'yearly-first'));
for (const unit of ['never-seen-1', 'never-seen-2']) assert.equal(local('pricing', unit).value, 'yearly-first');
console.log('GrowthBook SDK and evaluate agree for every flag state, including after rollout: ok');

// The payload's ETag: unchanged flags answer 304.
const url = new URL(`/api/features/${clientKey}`, base);
const first = await fetch(url);
const etag = first.headers.get('etag');
assert.ok(etag);
assert.equal((await fetch(url, { headers: { 'If-None-Match': etag } })).status, 304);
assert.equal((await fetch(new URL('/api/features/not-the-key', base))).status, 401);
console.log('/api/features ETag (304) and an unknown client key (401): ok');
sdk.destroy?.();
process.exit(0);
