// Starts `verdict serve --no-stdio --listen http://127.0.0.1:0` over a fresh database and
// resolves with the listener's base URL once it logs it; the server dies with the test.
// `extraArgs` go to `verdict serve` as they are.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function startHttpServer(prefix, extraArgs = []) {
  const binary = process.env.VERDICT_BINARY;
  assert.ok(binary, 'set VERDICT_BINARY to the verdict executable');
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const server = spawn(binary, ['serve', '--db', join(dir, 'verdict.db'), '--no-stdio',
    '--listen', 'http://127.0.0.1:0', ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
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
  return { server, base };
}
