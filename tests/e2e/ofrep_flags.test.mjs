// Feature flags through OpenFeature's own clients: the server SDK (@openfeature/server-sdk)
// with the OFREP provider (@openfeature/ofrep-provider) evaluates a flag in every state against
// `verdict serve --listen http://`, the flags being set up with plain JSON-RPC `do` calls.
import assert from 'node:assert/strict';
import { OpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { startHttpServer } from './http_server.mjs';

const { base, act } = await startHttpServer('verdict-e2e-ofrep-');
const flagVerb = (id, verb) => act({ type: 'FeatureFlag', verb, id });

await OpenFeature.setProviderAndWait(new OFREPProvider({ baseUrl: base }));
const client = OpenFeature.getClient();
const details = (key, fallback, context) =>
  typeof fallback === 'boolean' ? client.getBooleanDetails(key, fallback, context)
    : client.getStringDetails(key, fallback, context);

// A Boolean flag through Draft -> Enabled (targeting, then a 50% rollout) -> Disabled ->
// RolledOut -> Archived.
const flag = await act({
  type: 'FeatureFlag', verb: 'create',
  data: {
    key: 'new-nav', name: 'New navigation', type: 'Boolean', defaultValue: false,
    targetingRules: [{ id: 'staff', condition: { email: { $regex: '@example\\.com$' } }, force: true }],
  },
});
const user = { targetingKey: 'user-1' };
const staff = { targetingKey: 'user-2', email: 'ana@example.com' };

let result = await details('new-nav', true, staff);
assert.equal(result.value, false, 'Draft serves the default');
assert.equal(result.reason, 'DISABLED');

await flagVerb(flag.id, 'enable');
result = await details('new-nav', false, staff);
assert.equal(result.value, true);
assert.equal(result.reason, 'TARGETING_MATCH');
assert.equal(result.flagMetadata.ruleId, 'staff');
result = await details('new-nav', true, user);
assert.equal(result.value, false, 'no rule matches: the default');

await act({ type: 'FeatureFlag', verb: 'update', id: flag.id, data: { rolloutPercentage: 50 } });
let on = 0;
for (let i = 0; i < 200; i++) {
  const split = await details('new-nav', false, { targetingKey: `unit-${i}` });
  if (split.value) {
    on++;
    assert.equal(split.reason, 'SPLIT');
  }
  const again = await details('new-nav', false, { targetingKey: `unit-${i}` });
  assert.equal(again.value, split.value, 'a rollout is sticky per unit');
}
assert.ok(on > 60 && on < 140, `about half the units are in a 50% rollout, got ${on}`);

await flagVerb(flag.id, 'disable');
result = await details('new-nav', true, staff);
assert.equal(result.value, false);
assert.equal(result.reason, 'DISABLED');

await flagVerb(flag.id, 'rollout');
result = await details('new-nav', false, user);
assert.equal(result.value, true);
assert.equal(result.reason, 'STATIC');

await flagVerb(flag.id, 'archive');
result = await details('new-nav', true, user);
assert.equal(result.value, false);
assert.equal(result.reason, 'DISABLED');
console.log('Boolean flag in every state (Draft, Enabled, Disabled, RolledOut, Archived): ok');

// A String flag linked to a running experiment splits as the experiment assigns, and serves
// the winner once it is rolled out.
const experiment = await act({
  type: 'Experiment', verb: 'create',
  data: {
    name: 'Checkout colour', primaryMetric: 'buy',
    variants: [{ key: 'control', weight: 50 }, { key: 'green', weight: 50 }],
  },
});
await act({ type: 'Experiment', verb: 'start', id: experiment.id });
const color = await act({
  type: 'FeatureFlag', verb: 'create',
  data: {
    key: 'checkout-color', name: 'Checkout colour', type: 'String', defaultValue: 'blue',
    experiment: experiment.id,
    variants: [{ key: 'control', value: 'blue' }, { key: 'green', value: 'green' }],
  },
});
await flagVerb(color.id, 'enable');
const seen = new Set();
for (let i = 0; i < 40; i++) {
  const targetingKey = `buyer-${i}`;
  const split = await details('checkout-color', 'none', { targetingKey });
  assert.equal(split.reason, 'SPLIT');
  const assigned = await act({ type: 'Experiment', verb: 'assign', id: experiment.id, data: { unit: targetingKey } });
  assert.equal(assigned.reason, 'sticky', 'the evaluation recorded the exposure');
  assert.equal(split.variant, assigned.variant);
  assert.equal(split.value, assigned.variant === 'green' ? 'green' : 'blue');
  seen.add(split.value);
}
assert.equal(seen.size, 2, 'both variants are served');
await act({
  type: 'Experiment', verb: 'conclude', id: experiment.id,
  data: { winner: 'green', force: true, reason: 'e2e' },
});
await flagVerb(color.id, 'rollout');
result = await details('checkout-color', 'none', { targetingKey: 'late-visitor' });
assert.equal(result.value, 'green');
assert.equal(result.variant, 'green');
assert.equal(result.reason, 'STATIC');
console.log('experiment-linked flag: split as assign, then the winner after rollout: ok');

result = await details('no-such-flag', 'fallback', user);
assert.equal(result.value, 'fallback');
assert.equal(result.errorCode, 'FLAG_NOT_FOUND');
console.log('unknown flag: FLAG_NOT_FOUND and the code default: ok');
process.exit(0);
