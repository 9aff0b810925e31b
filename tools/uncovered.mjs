/**
 * Lists the branches of src/ that the last coverage run left uncovered, one line each with
 * the source line, to keep test/reliability/UNCOVERED.md true:
 *
 *   npm test            # or: npm run build && npx vitest run --coverage
 *   node tools/uncovered.mjs [coverage/coverage-final.json]
 *
 * v8 reports a branch by its position; a branch with no position of its own (the implicit
 * `else` of an `if`) is named by the statement it belongs to.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

const file = process.argv[2] ?? 'coverage/coverage-final.json';
/**
 * @typedef {{ line: number, column: number | null }} Position
 * @typedef {{ start: Position, end: Position }} Range
 * @typedef {{ type: string, loc: Range, locations: Partial<Range>[] }} Branch
 * @type {Record<string, { b: Record<string, number[]>, branchMap: Record<string, Branch> }>}
 */
const coverage = JSON.parse(readFileSync(file, 'utf8'));

let total = 0;
let uncovered = 0;
for (const [path, data] of Object.entries(coverage).sort(([a], [b]) => a.localeCompare(b))) {
  const source = readFileSync(path, 'utf8').split('\n');
  for (const [id, counts] of Object.entries(data.b)) {
    const branch = /** @type {Branch} */ (data.branchMap[id]);
    counts.forEach((count, index) => {
      total++;
      if (count > 0) return;
      uncovered++;
      const line = branch.locations[index]?.start?.line ?? branch.loc.start.line;
      const text = (source[line - 1] ?? '').trim();
      const which = branch.locations[index]?.start?.line === undefined ? ' (implicit else)' : '';
      console.log(`${relative(process.cwd(), path)}:${line}${which}  ${text}`);
    });
  }
}
console.log(`${uncovered} of ${total} branches uncovered`);
