import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiserver, type TestApiserver } from './harness.js';

/* The official Python client (Debian's python3-kubernetes) against a real apiserver on real etcd. */

const run = promisify(execFile);
const SCRIPT = path.join(import.meta.dirname, 'python', 'watch.py');
const APPLY_SCRIPT = path.join(import.meta.dirname, 'python', 'apply.py');
/** Debian's interpreter, the one its python3-* packages install for (a pyenv or venv python3 on PATH does not see them). */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const hasClient = () => spawnSync(PYTHON, ['-c', 'import kubernetes'], { stdio: 'ignore' }).status === 0;

/** Installs python3-kubernetes when missing (apt-get, as root or through sudo; apt-get update once if needed). */
function ensurePythonClient(): void {
  if (hasClient()) return;
  const root = process.getuid?.() === 0;
  const apt = (...args: string[]) => {
    const [cmd, argv] = root ? ['apt-get', args] : ['sudo', ['-n', 'apt-get', ...args]];
    return spawnSync(cmd, argv, { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 600_000 });
  };
  let res = apt('install', '-y', 'python3-kubernetes');
  if (res.status !== 0) {
    apt('update');
    res = apt('install', '-y', 'python3-kubernetes');
  }
  if (res.status !== 0 || !hasClient()) {
    throw new Error(`the official Python client is missing from ${PYTHON} and could not be installed with ${root ? '' : 'sudo '}apt-get install -y python3-kubernetes `
      + `(exit ${String(res.status)}): ${(res.stderr || res.error?.message || '').trim().split('\n').slice(-3).join(' / ')}`);
  }
}

let s: TestApiserver;
beforeAll(async () => {
  ensurePythonClient();
  s = await startTestApiserver();
}, 900_000);
afterAll(async () => { await s?.stop(); });

describe('the official Python client', () => {
  it('watches a ConfigMap through ADDED, MODIFIED and DELETED', async () => {
    const { stdout } = await run(PYTHON, [SCRIPT, s.url, 'py-watched'], { timeout: 60_000 });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual([
      { type: 'ADDED', step: 'created' },
      { type: 'MODIFIED', step: 'modified' },
      { type: 'DELETED', step: 'modified' },
    ]);
  });

  it('server-side applies with field_manager: a conflict (409 with upstream\'s message), force, removal of a dropped field', async () => {
    const { stdout } = await run(PYTHON, [APPLY_SCRIPT, s.url, 'py-applied'], { timeout: 60_000 });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({
      managers: ['alice/Apply'],
      conflict: { status: 409, message: 'Apply failed with 1 conflict: conflict with "alice": .data.a' },
      final: { data: { a: '9' }, managers: ['alice/Apply', 'bob/Apply'] },
    });
  });
});
