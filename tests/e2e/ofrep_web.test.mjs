// OpenFeature's web SDK (@openfeature/web-sdk) with its OFREP provider
// (@openfeature/ofrep-web-provider) against `verdict serve`: the provider fetches every flag in
// one bulk evaluation per context (POST /ofrep/v1/evaluate/flags) and serves the flags from
// it, matching `evaluate` in every state; a new context or a flag change is a new bulk call.
// The provider is a browser library: Node has no localStorage (so its cache is disabled) and no
// document (so its visibility refresh stays off by itself).
import assert from 'node:assert/strict';
import { OpenFeature } from '@openfeature/web-sdk';
import { OFREPWebProvider } from '@openfeature/ofrep-web-provider';
import { startHttpServer } from './http_server.mjs';

const { base, act } = await startHttpServer('verdict-e2e-ofrep-web-');
const flagVerb = (id, verb) => act({ type: 'FeatureFlag', verb, id });
const createFlag = (data) => act({ type: 'FeatureFlag', verb: 'create', data: { name: data.key, ...data } });

// Count the bulk calls the provider makes, through the fetch it uses.
let bulkCalls = 0;
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  if (String(input.url ?? input).endsWith('/ofrep/v1/evaluate/flags')) bulkCalls++;
  return realFetch(input, init);
};

const flags = {
  draft: await createFlag({ key: 'draft', type: 'Boolean', defaultValue: false, rolloutPercentage: 100 }),
  targeted: await createFlag({
    key: 'greeting', type: 'String', defaultValue: 'hello',
    variants: [{ key: 'formal', value: 'good day' }, { key: 'on', value: 'hi' }],
    targetingRules: [{ id: 'uk', condition: { country: 'GB' }, force: 'good day' }],
    rolloutPercentage: 50,
  }),
  limit: await createFlag({ key: 'upload-limit', type: 'Number', defaultValue: 10, variants: [{ key: 'on', value: 100 }] }),
  rolled: await createFlag({ key: 'new-footer', type: 'Boolean', defaultValue: false }),
  retired: await createFlag({ key: 'old-banner', type: 'Boolean', defaultValue: true }),
};
await flagVerb(flags.targeted.id, 'enable');
await flagVerb(flags.limit.id, 'enable');
await flagVerb(flags.rolled.id, 'rollout');
await flagVerb(flags.retired.id, 'archive');

const provider = new OFREPWebProvider({ baseUrl: base, cacheMode: 'disabled', changeDetection: 'none' });
await OpenFeature.setContext({ targetingKey: 'user-1', country: 'GB' });
await OpenFeature.setProviderAndWait(provider);
const client = OpenFeature.getClient();
const getters = { Boolean: 'getBooleanDetails', String: 'getStringDetails', Number: 'getNumberDetails' };
const fallbacks = { Boolean: false, String: 'fallback', Number: -1 };

/** Every flag through the web client (synchronous, from the bulk answer) against evaluate. */
async function expectSameAsEvaluate(context) {
  const { targetingKey, ...attributes } = context;
  const { evaluations } = await act({
    type: 'FeatureFlag', verb: 'evaluate', data: { units: [{ unit: targetingKey, attributes }] },
  });
  assert.equal(evaluations.length, Object.keys(flags).length);
  for (const evaluation of evaluations) {
    const flag = Object.values(flags).find((f) => f.key === evaluation.flag);
    const details = client[getters[flag.type]](flag.key, fallbacks[flag.type]);
    assert.equal(details.value, evaluation.value, `${flag.key} for ${JSON.stringify(context)}`);
    const reason = evaluation.reason === 'DEFAULT' ? 'STATIC' : evaluation.reason;
    assert.equal(details.reason, reason, `${flag.key}'s reason`);
  }
  return evaluations;
}

let calls = bulkCalls;
let evaluations = await expectSameAsEvaluate({ targetingKey: 'user-1', country: 'GB' });
assert.equal(bulkCalls, calls, 'evaluations are served from the bulk answer, without a call each');
assert.equal(evaluations.find((e) => e.flag === 'greeting').value, 'good day');

// A new context is one new bulk call; the 50% rollout splits the units.
const served = new Set();
for (let i = 0; i < 30; i++) {
  calls = bulkCalls;
  await OpenFeature.setContext({ targetingKey: `visitor-${i}`, country: 'FR' });
  assert.equal(bulkCalls, calls + 1, 'one bulk evaluation per context');
  evaluations = await expectSameAsEvaluate({ targetingKey: `visitor-${i}`, country: 'FR' });
  served.add(evaluations.find((e) => e.flag === 'greeting').value);
}
assert.deepEqual([...served].sort(), ['hello', 'hi'], 'both sides of the rollout are served');

// Flag changes reach the client at its next bulk evaluation.
await flagVerb(flags.targeted.id, 'rollout');
await flagVerb(flags.limit.id, 'disable');
await OpenFeature.setContext({ targetingKey: 'user-2', country: 'FR' });
evaluations = await expectSameAsEvaluate({ targetingKey: 'user-2', country: 'FR' });
assert.equal(client.getStringValue('greeting', 'fallback'), 'hi');
assert.equal(client.getNumberValue('upload-limit', -1), 10);
console.log('OpenFeature web SDK with the OFREP web provider (bulk) in every flag state: ok');
await OpenFeature.close();
process.exit(0);
