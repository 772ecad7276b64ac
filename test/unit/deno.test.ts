// `npm test` runs one file of the Deno suite (test/deno/, all of it: `npm run
// test:deno`): platform.test.ts, whose feature tests say what the README's
// Deno section relies on, and whose sessions run the manager, handler workers
// and both kinds of connection under Deno. Same command and permissions as
// the npm script, read from package.json.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const deno = fileURLToPath(new URL('../../node_modules/.bin/deno', import.meta.url));

test('the Deno suite\'s platform file passes under Deno (npm run test:deno runs every file)', async () => {
  const script: string = JSON.parse(readFileSync(`${root}package.json`, 'utf8')).scripts['test:deno'];
  const [command, ...args] = script.split(' ');
  expect([command, args.at(-1)]).toEqual(['deno', 'test/deno/']);
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(deno, [...args.slice(0, -1), 'test/deno/platform.test.ts'], { cwd: root, timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } }, (_error, stdout, stderr) => {
      resolve({ code: child.exitCode, stdout, stderr });
    });
  });
  expect(code, `${stdout}\n${stderr}`).toBe(0);
  expect(stdout).toMatch(/^ok \| (\d+) passed \| 0 failed/m);
  expect(stdout).not.toMatch(/\bignored\b|filtered out/);
}, 150_000);
