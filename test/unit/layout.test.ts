/**
 * The README's Layout section is a promise: each room of src/ imports only
 * itself and the rooms (and packages) its row names. This test reads that
 * table from the README and checks every import of every file of src/.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'src');

interface Room {
  mayImport: Set<string>;
  packages: Set<string>;
}

/** The rows of the README's Layout table: room → what it may import. */
function layoutTable(): Map<string, Room> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Layout\n'), readme.indexOf('\n## ', readme.indexOf('\n## Layout\n') + 1));
  const rooms = new Map<string, Room>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const room = /^`src\/([a-z-]+)\/`$/.exec(cells[1] ?? '')?.[1];
    if (!room) continue;
    const names = (cell: string) => new Set([...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace(/\/$/, '')));
    rooms.set(room, { mayImport: names(cells[3] ?? ''), packages: names(cells[4] ?? '') });
  }
  return rooms;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports (static imports and `export … from`). */
function specifiers(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm)].map((m) => (m[1] ?? m[2])!);
}

/** The room of a file of src/ (`index.ts` and `handler.ts`: the entries). */
function roomOf(file: string): string {
  const parts = relative(SRC, file).split(sep);
  return parts.length === 1 ? parts[0]! : parts[0]!;
}

const table = layoutTable();
const files = filesUnder(SRC);
/** [file, its room, the room or package it imports] for every import of src/. */
const edges = files.flatMap((file) => specifiers(file).map((spec): [string, string, string] => {
  if (!spec.startsWith('.')) return [file, roomOf(file), `package:${spec}`];
  return [file, roomOf(file), roomOf(resolve(dirname(file), spec))];
}));

describe('the layout the README promises', () => {
  test('the README names a row for every room of src/, and every row is a room', () => {
    const rooms = readdirSync(SRC).filter((name) => statSync(join(SRC, name)).isDirectory()).sort();
    expect([...table.keys()].sort()).toEqual(rooms);
  });

  test('each room imports only itself and the rooms its row names', () => {
    const wrong = edges
      .filter(([, from, to]) => table.has(from) && !to.startsWith('package:') && to !== from && !table.get(from)!.mayImport.has(to))
      .map(([file, from, to]) => `${relative(ROOT, file)}: ${from}/ imports ${to}`);
    expect(wrong).toEqual([]);
    // The rule holds in both directions: nothing in the table lets two rooms import each other.
    for (const [room, { mayImport }] of table) for (const other of mayImport) expect(table.get(other)?.mayImport.has(room) ?? false, `${room} ⇄ ${other}`).toBe(false);
  });

  test('each room imports only the packages its row names', () => {
    const wrong = edges
      .filter(([, from, to]) => table.has(from) && to.startsWith('package:') && !table.get(from)!.packages.has(to.slice('package:'.length)))
      .map(([file, from, to]) => `${relative(ROOT, file)}: ${from}/ imports ${to.slice('package:'.length)}`);
    expect(wrong).toEqual([]);
  });

  test("the worker's entry reaches only runtime/, protocol/, internal/ and comlink; the main thread's never reaches runtime/", () => {
    const reached = new Set<string>();
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of specifiers(file)) {
        if (!spec.startsWith('.')) reached.add(`package:${spec}`);
        else {
          const target = resolve(dirname(file), spec);
          reached.add(roomOf(target));
          visit(target);
        }
      }
    };
    visit(join(SRC, 'handler.ts'));
    expect([...reached].sort()).toEqual(['internal', 'package:comlink', 'protocol', 'runtime']);
    const main = edges.filter(([file]) => file === join(SRC, 'index.ts')).map(([, , to]) => to);
    expect(main).not.toContain('runtime');
    expect(main.length).toBeGreaterThan(0);
  });
});
