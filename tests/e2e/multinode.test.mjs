// Three `verdict serve` nodes on one throwaway PostgreSQL cluster, 64 clients spread across them
// mixing creates, versioned updates, starts, assignments, tracks and flag evaluations; then what
// every node serves is checked against what the clients were told (issue 19's multi-node proof),
// one node is SIGKILLed under load, and the time a flag change on one node takes to be served by
// another is measured. PostgreSQL that cannot start fails the test: nothing here is skipped.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';

const kNodes = 3;
const kClients = 64;
const kRoundsPerClient = 12;
const kCounters = 8;
const kContestedStarts = 8;
const kSharedUnits = 32;
const kPropagationRounds = 5;
const kPropagationBoundMs = 2000;

const binary = process.env.VERDICT_BINARY;
const source = process.env.VERDICT_SOURCE_DIR;
assert.ok(binary, 'set VERDICT_BINARY to the verdict executable');
assert.ok(source, 'set VERDICT_SOURCE_DIR to the source tree (for scripts/postgres-cluster.sh)');
const clusterScript = join(source, 'scripts', 'postgres-cluster.sh');

// Under root the cluster runs as `postgres`, which must be able to reach the directory.
const work = mkdtempSync(join(tmpdir(), 'verdict-multinode-'));
chmodSync(work, 0o755);
const clusterDir = join(work, 'cluster');
let clusterStarted = false;
const servers = [];

let stopping = false;
function stopEverything() {
  stopping = true;
  for (const server of servers) if (server.exitCode === null) server.kill('SIGKILL');
  if (clusterStarted) {
    clusterStarted = false;
    execFileSync('bash', [clusterScript, 'stop', clusterDir], { stdio: 'inherit' });
  }
  rmSync(work, { recursive: true, force: true });
}
// Also when the test process dies on an uncaught error, not only through after().
process.on('exit', stopEverything);

/** Starts one node and resolves with its process and port once it listens. */
function startNode(url) {
  const server = spawn(binary, [
    'serve', '--db', url, '--no-stdio', '--listen', 'tcp://127.0.0.1:0',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  servers.push(server);
  let log = '';
  return new Promise((resolve, reject) => {
    setTimeout(() => reject(new Error(`verdict serve did not listen within 30 s: ${log}`)), 30000).unref();
    server.stderr.on('data', (chunk) => {
      log += chunk;
      const match = log.match(/listening on tcp:\/\/127\.0\.0\.1:(\d+)/);
      if (match) resolve({ server, port: Number(match[1]) });
    });
    server.on('exit', (code, signal) => {
      reject(new Error(`verdict serve exited (${code ?? signal}) before listening: ${log}`));
      // A node that dies later, unasked (a sanitizer's report, an abort), says why here.
      if (!stopping && signal !== 'SIGKILL') console.error(`verdict serve exited (${code ?? signal}):\n${log}`);
    });
  });
}

/** A pipelined JSON-RPC connection; `call` resolves with the whole reply (result or error) and
 * rejects when the connection ends first (its node was killed). */
async function client(port) {
  const socket = connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const pending = new Map();
  let nextId = 1;
  const failAll = (error) => {
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  socket.on('error', failAll);
  socket.on('close', () => failAll(new Error(`connection to port ${port} closed`)));
  createInterface({ input: socket }).on('line', (line) => {
    const message = JSON.parse(line);
    pending.get(message.id)?.resolve(message);
    pending.delete(message.id);
  // readline re-emits its input's errors (a reset from a killed node): failAll above handles
  // them, and an 'error' nobody listens to would end the whole test process.
  }).on('error', () => {});
  return {
    call(method, params) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        socket.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
      });
    },
    close: () => socket.end(),
  };
}

/** The result of a call that must succeed. */
async function ok(connection, method, params) {
  const reply = await connection.call(method, params);
  assert.equal(reply.error, undefined, `${method} ${JSON.stringify(params)}: ${JSON.stringify(reply.error)}`);
  return reply.result;
}
/** Every entity of `type` matching `filter`, page after page. */
async function findAll(connection, type, filter) {
  const items = [];
  let cursor;
  do {
    const page = await ok(connection, 'find', { type, filter, limit: 1000, ...(cursor ? { cursor } : {}) });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}
const act = (connection, type, verb, id, data) =>
  ok(connection, 'do', { type, verb, ...(id ? { id } : {}), ...(data ? { data } : {}) });

let nodes = [];
let admin = [];  // one connection per node for setup and checks

before(async () => {
  // execFileSync throws with the script's message: PostgreSQL that cannot start fails loudly.
  const url = execFileSync('bash', [clusterScript, 'start', clusterDir],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  clusterStarted = true;
  assert.match(url, /^postgresql:\/\//);
  // Started together, as a deployment rolls out: each creates the schema if it is missing.
  nodes = await Promise.all(Array.from({ length: kNodes }, () => startNode(url)));
  admin = await Promise.all(nodes.map(({ port }) => client(port)));
});

after(() => {
  for (const connection of admin) connection.close();
  stopEverything();
});

test('64 clients over three nodes: every acknowledged write once, one variant per unit, statistics recomputed', async () => {
  const experiment = await act(admin[0], 'Experiment', 'create', null, {
    name: 'Multinode', primaryMetric: 'signup',
    variants: [{ key: 'a', weight: 50 }, { key: 'b', weight: 50 }],
  });
  await act(admin[1], 'Experiment', 'start', experiment.id);
  const flag = await act(admin[2], 'FeatureFlag', 'create', null, {
    key: 'multinode-flag', name: 'Multinode flag', type: 'Boolean', defaultValue: false,
    variants: [{ key: 'on', value: true }, { key: 'off', value: false }], rolloutPercentage: 30,
  });
  await act(admin[0], 'FeatureFlag', 'enable', flag.id);
  const counters = [];
  for (let i = 0; i < kCounters; ++i)
    counters.push(await act(admin[i % kNodes], 'Contact', 'create', null, { name: `Counter ${i}` }));
  const drafts = [];
  for (let i = 0; i < kContestedStarts; ++i)
    drafts.push(await act(admin[i % kNodes], 'Experiment', 'create', null, {
      name: `Contested ${i}`, primaryMetric: 'signup',
      variants: [{ key: 'a', weight: 50 }, { key: 'b', weight: 50 }],
    }));

  const created = [];                // names of acknowledged creates
  const updatesAcked = new Map();    // counter id -> acknowledged versioned updates
  let conflicts = 0;
  const startsAcked = new Map();     // draft id -> acknowledged starts
  const variants = new Map();        // unit -> set of variants it was told
  const converted = new Map();       // unit -> acknowledged conversions
  const evaluations = new Map();     // unit -> set of values it was served

  const remember = (map, key, value) => {
    if (!map.has(key)) map.set(key, new Set());
    map.get(key).add(value);
  };
  const clients = await Promise.all(Array.from({ length: kClients },
    (_, n) => client(nodes[n % kNodes].port)));
  await Promise.all(clients.map(async (c, n) => {
    for (let round = 0; round < kRoundsPerClient; ++round) {
      const name = `Created ${n}-${round}`;
      const unit = `unit-${n}-${round}`;
      // A unit also asked by other clients, on other nodes, at about the same time.
      const shared = `shared-${(n + round) % kSharedUnits}`;
      const counter = counters[(n + round) % kCounters];
      const draft = drafts[round % kContestedStarts];
      const work = [
        c.call('do', { type: 'Contact', verb: 'create', data: { name } }).then((reply) => {
          assert.equal(reply.error, undefined, JSON.stringify(reply.error));
          created.push(name);
        }),
        // Read, then write with the version read: another node may have moved it meanwhile.
        ok(c, 'get', { type: 'Contact', id: counter.id }).then(async (current) => {
          const reply = await c.call('do', {
            type: 'Contact', verb: 'update', id: counter.id,
            data: { version: current.version, email: `c${n}r${round}@example.com` },
          });
          if (reply.error) {
            assert.equal(reply.error.data?.code, 'conflict', JSON.stringify(reply.error));
            assert.match(reply.error.message, /^version: /);
            ++conflicts;
          } else {
            assert.equal(reply.result.version, current.version + 1);
            updatesAcked.set(counter.id, (updatesAcked.get(counter.id) ?? 0) + 1);
          }
        }),
        c.call('do', { type: 'Experiment', verb: 'start', id: draft.id }).then((reply) => {
          if (reply.error) {
            assert.equal(reply.error.data?.code, 'invalid_transition', JSON.stringify(reply.error));
          } else {
            startsAcked.set(draft.id, (startsAcked.get(draft.id) ?? 0) + 1);
          }
        }),
        ...[unit, shared].map((u) => act(c, 'Experiment', 'assign', experiment.id, { unit: u })
          .then((result) => {
            assert.equal(result.inExperiment, true, JSON.stringify(result));
            remember(variants, u, result.variant);
          })),
        act(c, 'FeatureFlag', 'evaluate', flag.id, { unit })
          .then((result) => remember(evaluations, unit, result.value)),
      ];
      await Promise.all(work);
      // Conversions only of units already assigned (events of unassigned units are refused).
      if (round % 2 === 0) {
        await act(c, 'Experiment', 'track', experiment.id, { unit, metric: 'signup' });
        converted.set(unit, (converted.get(unit) ?? 0) + 1);
      }
    }
  }));
  for (const c of clients) c.close();

  // Every acknowledged create exactly once, seen from every node.
  for (const connection of admin) {
    const found = await findAll(connection, 'Contact', { name: { $regex: '^Created ' } });
    const names = found.map((item) => item.name).sort();
    assert.deepEqual(names, [...created].sort());
  }
  assert.equal(created.length, kClients * kRoundsPerClient);

  // Versioned updates: each acknowledged one moved the version by one; none was lost.
  for (const counter of counters) {
    for (const connection of admin) {
      const current = await ok(connection, 'get', { type: 'Contact', id: counter.id });
      assert.equal(current.version, 1 + (updatesAcked.get(counter.id) ?? 0), counter.name);
    }
  }
  assert.ok(conflicts > 0, 'concurrent updates with one version must report conflicts');

  // A Draft started by many clients at once on three nodes: exactly one start acknowledged.
  for (const draft of drafts) assert.equal(startsAcked.get(draft.id), 1, draft.name);

  // One variant per unit, whichever node asked, then and now.
  for (const [unit, told] of variants) {
    assert.equal(told.size, 1, `${unit} was told ${[...told]}`);
    const [variant] = told;
    const answers = await Promise.all(admin.map((connection) =>
      act(connection, 'Experiment', 'assign', experiment.id, { unit })));
    for (const answer of answers) assert.equal(answer.variant, variant, unit);
  }
  for (const [unit, served] of evaluations) assert.equal(served.size, 1, `${unit}: ${[...served]}`);

  // Statistics equal a recomputation from what the clients were told.
  const expected = { a: { exposures: 0, conversions: 0 }, b: { exposures: 0, conversions: 0 } };
  for (const [unit, told] of variants) {
    const [variant] = told;
    ++expected[variant].exposures;
    if (converted.has(unit)) ++expected[variant].conversions;
  }
  for (const connection of admin) {
    const analysis = await act(connection, 'Experiment', 'analyze', experiment.id);
    for (const row of analysis.variants) {
      assert.equal(row.exposures, expected[row.variant].exposures, `exposures of ${row.variant}`);
      assert.equal(row.conversions, expected[row.variant].conversions, `conversions of ${row.variant}`);
    }
    const check = await act(connection, 'Experiment', 'checkStats', experiment.id);
    assert.equal(check.consistent, true, JSON.stringify(check));
  }
  console.log(`multinode: ${created.length} creates, ${[...updatesAcked.values()].reduce((a, b) => a + b, 0)} ` +
    `versioned updates and ${conflicts} conflicts, ${variants.size} units ` +
    `(a ${expected.a.exposures}, b ${expected.b.exposures}), ${converted.size} conversions, ` +
    `${evaluations.size} evaluations: every node agrees`);
});

test('a flag changed on one node is served by the others within a bounded time', async () => {
  const flag = await act(admin[0], 'FeatureFlag', 'create', null, {
    key: 'propagation', name: 'Propagation', type: 'Boolean', defaultValue: false,
    variants: [{ key: 'on', value: true }, { key: 'off', value: false }], rolloutPercentage: 0,
  });
  await act(admin[0], 'FeatureFlag', 'enable', flag.id);
  const times = [];
  const afterAck = [];  // from the writer's acknowledgement to the reader serving the change
  for (let round = 0; round < kPropagationRounds; ++round) {
    const writer = admin[round % kNodes];
    const reader = admin[(round + 1) % kNodes];
    const rollout = round % 2 === 0 ? 100 : 0;
    // The reader has the old value cached before the change.
    const before = await act(reader, 'FeatureFlag', 'evaluate', flag.id, { unit: 'probe' });
    assert.equal(before.value, rollout !== 100);
    const started = performance.now();
    await act(writer, 'FeatureFlag', 'update', flag.id, { rolloutPercentage: rollout });
    const acknowledged = performance.now();
    for (let polls = 1; ; ++polls) {
      const served = await act(reader, 'FeatureFlag', 'evaluate', flag.id, { unit: 'probe' });
      if (served.value === (rollout === 100)) {
        afterAck.push(`${(performance.now() - acknowledged).toFixed(1)} ms/${polls} poll${polls > 1 ? 's' : ''}`);
        break;
      }
      assert.ok(performance.now() - started < kPropagationBoundMs,
        `node ${(round + 1) % kNodes} still serves the old value after ${kPropagationBoundMs} ms`);
    }
    times.push(performance.now() - started);
  }
  times.sort((x, y) => x - y);
  console.log(`multinode: a flag update on one node served by another after ` +
    `${times.map((t) => t.toFixed(1)).join(', ')} ms from sending the update (after its ` +
    `acknowledgement: ${afterAck.join(', ')})`);
  assert.ok(times.at(-1) < kPropagationBoundMs);
});

test('SIGKILL of one node under load loses nothing it acknowledged', async () => {
  const experiment = await act(admin[0], 'Experiment', 'create', null, {
    name: 'Killed', primaryMetric: 'signup', variants: [{ key: 'a', weight: 50 }, { key: 'b', weight: 50 }],
  });
  await act(admin[0], 'Experiment', 'start', experiment.id);
  const victim = kNodes - 1;
  const acknowledged = [];  // {name, node}
  const assigned = new Map();  // unit -> variant acknowledged
  let unacknowledged = 0;
  let stop = false;
  const clients = await Promise.all(Array.from({ length: 24 },
    (_, n) => client(nodes[n % kNodes].port).then((c) => ({ c, node: n % kNodes, n }))));
  const load = clients.map(async ({ c, node, n }) => {
    for (let i = 0; !stop; ++i) {
      const name = `Survivor ${n}-${i}`;
      const unit = `k-${n}-${i}`;
      try {
        const [reply, assignment] = await Promise.all([
          c.call('do', { type: 'Contact', verb: 'create', data: { name } }),
          c.call('do', { type: 'Experiment', verb: 'assign', id: experiment.id, data: { unit } }),
        ]);
        assert.equal(reply.error, undefined, JSON.stringify(reply.error));
        assert.equal(assignment.error, undefined, JSON.stringify(assignment.error));
        acknowledged.push({ name, node });
        assigned.set(unit, assignment.result.variant);
      } catch (error) {
        // Only the killed node's connections may fail, and then they stop.
        assert.equal(node, victim, String(error));
        ++unacknowledged;
        return;
      }
    }
  });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const beforeKill = acknowledged.filter((a) => a.node === victim).length;
  nodes[victim].server.kill('SIGKILL');
  await new Promise((resolve) => setTimeout(resolve, 1000));
  stop = true;
  await Promise.all(load);
  for (const { c, node } of clients) if (node !== victim) c.close();
  assert.ok(beforeKill > 0, 'the victim acknowledged writes before it was killed');
  assert.ok(unacknowledged > 0, 'the victim was killed with requests in flight');

  const survivors = admin.slice(0, victim);
  for (const connection of survivors) {
    const found = await findAll(connection, 'Contact', { name: { $regex: '^Survivor ' } });
    const names = new Map();
    for (const item of found) names.set(item.name, (names.get(item.name) ?? 0) + 1);
    for (const [name, count] of names) assert.equal(count, 1, `${name} stored ${count} times`);
    for (const { name } of acknowledged) assert.equal(names.get(name), 1, `${name} was acknowledged, then lost`);
    // Beyond the acknowledged ones, at most the killed node's requests in flight were stored.
    assert.ok(found.length - acknowledged.length <= unacknowledged);
    for (const [unit, variant] of assigned) {
      const answer = await act(connection, 'Experiment', 'assign', experiment.id, { unit });
      assert.equal(answer.variant, variant, unit);
    }
    const analysis = await act(connection, 'Experiment', 'analyze', experiment.id);
    const exposures = analysis.variants.reduce((sum, row) => sum + row.exposures, 0);
    assert.ok(exposures >= assigned.size && exposures <= assigned.size + unacknowledged,
      `${exposures} exposures for ${assigned.size} acknowledged assignments`);
  }
  console.log(`multinode: node ${victim} SIGKILLed after acknowledging ${beforeKill} writes ` +
    `(${acknowledged.length} in all, ${unacknowledged} requests cut off): none lost`);
});
