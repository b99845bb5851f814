// Where an end-to-end test's `verdict serve` keeps its data. On SQLite (the default) a new file in
// the test's temporary directory. When VERDICT_TEST_POSTGRES_URL_FILE names the file where ctest's
// postgres.cluster fixture wrote its URL (the postgres.e2e.* tests), a new schema of that database
// instead, named in the URL's search_path as tests/support/test_store.hpp does for the C++ suites,
// so the tests run in parallel on one cluster without seeing each other's rows.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A `--db` value for a fresh, empty store; `dir` holds the SQLite file. */
export function freshDatabase(dir) {
  const urlFile = process.env.VERDICT_TEST_POSTGRES_URL_FILE;
  if (!urlFile) return join(dir, 'verdict.db');
  const url = readFileSync(urlFile, 'utf8').trim();
  assert.ok(url, `${urlFile} holds no URL: run the postgres.e2e.* tests through ctest, whose `
    + 'postgres.cluster fixture starts the cluster (scripts/postgres-cluster.sh)');
  const schema = `e2e_${randomBytes(8).toString('hex')}`;
  execFileSync('psql', ['--no-psqlrc', '--quiet', '--set=ON_ERROR_STOP=1', '--dbname', url,
    '--command', `CREATE SCHEMA ${schema}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  return `${url}${url.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`;
}
