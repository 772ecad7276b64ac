#!/usr/bin/env node
// `npm run bench`. Node 20 cannot run TypeScript, so this loads bench/driver.ts
// (with `--flood` first: bench/flood-memory.ts, `npm run bench:flood`)
// through Vite's module runner (no extra dependency) and runs it.
import { runnerImport } from 'vite';

const flood = process.argv[2] === '--flood';
const driver = new URL(flood ? './flood-memory.ts' : './driver.ts', import.meta.url).pathname;
try {
  const { module } = await runnerImport(driver, { configFile: false, logLevel: 'error' });
  await module.main(process.argv.slice(flood ? 3 : 2));
  process.exit(0);
} catch (error) {
  console.error(`bench: ${error?.stack ?? error}`);
  process.exit(1);
}
