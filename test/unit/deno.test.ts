import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const deno = fileURLToPath(new URL('../../node_modules/.bin/deno', import.meta.url));

test('the manager, a handler worker and both kinds of connection run under Deno', async () => {
  const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
    execFile(deno, ['run', '--allow-net=127.0.0.1', '--allow-read', 'test/deno/smoke.ts'], { cwd: root, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`deno failed: ${error.message}\n${stderr}`));
      else resolve({ stdout });
    });
  });
  const run = JSON.parse(stdout.trim().split('\n').at(-1)!);
  expect(run.error).toBeNull();
  expect(run.outcome).toBe('succeeded');
  expect(run.items).toEqual(['succeeded']);
  expect(run.connections).toEqual([['live', 1000], ['api', null]]);
  expect(run.serverCloses).toEqual([1000]);
  expect(run.steps).toEqual([
    ['establish', true, { name: 'live', kind: 'websocket', protocol: '' }],
    ['send', true, null],
    ['expect', true, ['hello from deno']],
    ['establish', true, { name: 'api', kind: 'fetch', protocol: '' }],
    ['fetch', true, expect.objectContaining({ status: 200, json: { ok: true, authorization: 'Bearer deno' } })],
    ['progress', true, 'continue'],
  ]);
}, 90_000);
