// Starts `verdict serve --no-stdio --listen http://127.0.0.1:0` over a fresh database and
// resolves with the listener's base URL once it logs it; the server dies with the test.
// With `token`, the listener requires nothing more on loopback but knows the token (written to
// an owner-only --token-file), which is also GrowthBook's client key for /api/features/.
// `extraArgs` go to `verdict serve` as they are; `prepare(db)` runs before the server starts
// (to create projects and keys with the CLI on the same database: a file, or a PostgreSQL URL
// under database.mjs's VERDICT_TEST_POSTGRES_URL_FILE).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freshDatabase } from './database.mjs';

export async function startHttpServer(prefix, { token, extraArgs = [], prepare } = {}) {
  const binary = process.env.VERDICT_BINARY;
  assert.ok(binary, 'set VERDICT_BINARY to the verdict executable');
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const db = freshDatabase(dir);
  if (prepare) prepare(db);
  const args = ['serve', '--db', db, '--no-stdio',
    '--listen', 'http://127.0.0.1:0', ...extraArgs];
  if (token) {
    writeFileSync(join(dir, 'token'), token, { mode: 0o600 });
    args.push('--token-file', join(dir, 'token'));
  }
  const server = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  process.on('exit', () => {
    server.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  let log = '';
  const base = await new Promise((resolve, reject) => {
    server.stderr.on('data', (chunk) => {
      log += chunk;
      const match = log.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (match) resolve(match[1]);
    });
    server.on('exit', (code) => reject(new Error(`verdict exited with ${code}: ${log}`)));
  });
  return { server, base, db, act: jsonRpcDo(base, token) };
}

/** A plain JSON-RPC `do` (or `method`: get, find) over /mcp; resolves with the result, throws on
 * an error reply. */
export function jsonRpcDo(base, token) {
  let nextId = 1;
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  return async (params, method = 'do') => {
    const response = await fetch(new URL('/mcp', base), {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
    });
    const reply = await response.json();
    assert.equal(reply.error, undefined, JSON.stringify(reply.error));
    return reply.result;
  };
}
