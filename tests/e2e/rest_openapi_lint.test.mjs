// GET /openapi.json, as the running server generates it from its schema, linted by Redocly's
// OpenAPI linter with its recommended rules: an error fails the test (warnings are printed).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHttpServer } from './http_server.mjs';

const { base } = await startHttpServer('verdict-e2e-openapi-');
const response = await fetch(new URL('/openapi.json', base));
assert.equal(response.status, 200);
const document = await response.json();
assert.equal(document.openapi, '3.1.0');
// Generated from the schema: every noun has its collection path.
for (const path of ['/~{project}/experiments', '/~{project}/featureFlags', '/~{project}/activities',
  '/~{project}/experiments/{id}/start', '/~{project}/experiments/{id}/launch',
  '/~{project}/experiments/summary'])
  assert.ok(document.paths[path], `${path} is missing`);

const file = join(mkdtempSync(join(tmpdir(), 'verdict-openapi-')), 'openapi.json');
writeFileSync(file, JSON.stringify(document, null, 2));
const output = execFileSync('node_modules/.bin/redocly', ['lint', '--format', 'stylish', file], {
  encoding: 'utf8',
  env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  stdio: ['ignore', 'pipe', 'pipe'],
});
console.log(output.trim());
console.log('openapi lint: ok');
process.exit(0);
