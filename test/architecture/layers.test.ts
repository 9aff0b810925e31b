/**
 * The layers of src/ (see ARCHITECTURE.md) import only downward: a module may import from
 * its own layer and the layers below it, never above. Read from the sources' import
 * statements, so a new upward import fails here before it tangles the tree.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Layers from the bottom up; a path's layer is its first folder under src/ (or the file). */
const LAYERS: readonly (readonly string[])[] = [
  ['internal', 'errors.ts'],
  ['iron'],
  ['cookie'],
  ['store'],
  ['session'],
  ['host'],
  ['handler'],
  ['adapters'],
  ['index.ts', 'cli'],
];

function layerOf(path: string): number {
  const top = relative(SRC, path).split(sep)[0]!;
  const layer = LAYERS.findIndex((names) => names.includes(top));
  if (layer < 0) throw new Error(`${relative(SRC, path)} is in no layer: add it to LAYERS`);
  return layer;
}

function sources(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Relative module specifiers of `from '...'` and `import('...')` in a source file. */
function relativeImports(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
    found.push(match[1]!);
  }
  return found;
}

describe('layers', () => {
  const files = sources(SRC);

  it('every source file belongs to a layer', () => {
    expect(files.length).toBeGreaterThan(40);
    for (const file of files) expect(() => layerOf(file)).not.toThrow();
  });

  it('no module imports from a layer above its own', () => {
    const upward: string[] = [];
    for (const file of files) {
      const own = layerOf(file);
      for (const specifier of relativeImports(readFileSync(file, 'utf8'))) {
        const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
        if (layerOf(target) > own) {
          upward.push(`${relative(SRC, file)} → ${relative(SRC, target)}`);
        }
      }
    }
    expect(upward).toEqual([]);
  });
});
