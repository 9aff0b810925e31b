/**
 * Draws bench/results/{iron,http}.json as one SVG (docs/benchmarks.svg, shown in README)
 * and rewrites README's benchmark section between its markers, so the numbers in the
 * README are always those of the last `npm run bench`.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';

/**
 * The parts of the result files read here, as iron.mjs, iron-workerd.mjs and http.mjs
 * write them.
 *
 * @typedef {import('./iron.mjs').CaseId} CaseId
 * @typedef {import('./iron.mjs').LibraryId} LibraryId
 * @typedef {{ cpu: string, cores: number, os: string, node: string }} Machine
 * @typedef {{ machine: Machine, date: string, config: { rounds: number },
 *   libraries: Array<{ id: string, name: string }>,
 *   results: Record<CaseId, Record<LibraryId, { opsPerSec: number, cpuUsPerOp?: number }>>,
 *   ratios: Record<CaseId, import('./iron.mjs').RatioRows>,
 *   targets: Array<{ pass: boolean, library: string, case: string, target: number,
 *     versus: string, versusCase?: string, actual: number }>,
 *   cpuTargets?: Array<{ pass: boolean, library: string, case: string, target: number,
 *     actual: number }> }} IronReport - older reports lack cpuUsPerOp, the forged case and
 *   cpuTargets
 * @typedef {{ result: Record<'ours' | 'iwc1', { seal: number, unseal: number }>,
 *   ratios: { seal: number, unseal: number } }} WorkerdReport
 * @typedef {{ date: string, config: { rounds: number, connections: number, pipelining: number },
 *   results: Record<string, import('./http.mjs').ServerResult>,
 *   targets: import('./http.mjs').HttpTarget[] }} HttpReport
 * @typedef {{ iron: IronReport, workerd: WorkerdReport, http: HttpReport,
 *   names: Record<string, string> }} Rendered - what render read, for readmeSection
 * @typedef {{ label: string, value: number, ours: boolean }} Row - one bar
 */

const root = new URL('../', import.meta.url);
/**
 * @param {string} path - from the repository's root
 * @returns {any} the parsed JSON, typed by the caller
 */
const read = (path) => JSON.parse(readFileSync(new URL(path, root), 'utf8'));
/** @param {unknown} text */
const escape = (text) =>
  String(text).replace(
    /[&<>"]/g,
    // The pattern matches only the four keys, so the lookup always finds one.
    (c) =>
      /** @type {string} */ (
        /** @type {Record<string, string>} */ ({
          '&': '&amp;',
          '<': '&lt;',
          '>': '&gt;',
          '"': '&quot;',
        })[c]
      ),
  );
/** @param {number} n */
const fmt = (n) => Math.round(n).toLocaleString('en-US');

/** Label of our rows for tokens whose salts the process has never seen. */
const NEVER_SEEN = 'never-seen salts';

/**
 * One horizontal bar chart on a log scale (the values span three orders of magnitude).
 *
 * @param {{ x: number, y: number, width: number, title: string, unit: string, rows: Row[] }}
 *   spec
 */
function panel({ x, y, width, title, unit, rows }) {
  const barHeight = 16;
  const gap = 6;
  const labelWidth = 230;
  const max = Math.max(...rows.map((r) => r.value));
  const min = Math.min(...rows.map((r) => r.value), max / 1000);
  /** @param {number} v */
  const scale = (v) =>
    ((Math.log10(v) - Math.log10(min / 2)) / (Math.log10(max) - Math.log10(min / 2))) *
    (width - labelWidth - 140);
  let out = `<text x="${x}" y="${y}" class="title">${escape(title)}</text>`;
  rows.forEach((row, i) => {
    const top = y + 14 + i * (barHeight + gap);
    const w = Math.max(2, scale(row.value));
    out +=
      `<text x="${x + labelWidth - 8}" y="${top + 12}" class="label" text-anchor="end">${escape(row.label)}</text>` +
      `<rect x="${x + labelWidth}" y="${top}" width="${w.toFixed(1)}" height="${barHeight}" class="${row.ours ? 'ours' : 'peer'}"/>` +
      `<text x="${x + labelWidth + w + 6}" y="${top + 12}" class="value">${fmt(row.value)} ${unit}</text>`;
  });
  return { svg: out, height: 14 + rows.length * (barHeight + gap) + 26 };
}

/**
 * Draws docs/benchmarks.svg from the last results.
 *
 * @returns {Rendered}
 */
export function render() {
  /** @type {IronReport} */
  const iron = read('bench/results/iron.json');
  /** @type {WorkerdReport} */
  const workerd = read('bench/results/iron-workerd.json');
  /** @type {HttpReport} */
  const http = read('bench/results/http.json');
  const names = Object.fromEntries(iron.libraries.map((l) => [l.id, l.name]));
  /**
   * @param {CaseId} caseId
   * @returns {Row[]}
   */
  const ironRows = (caseId) => {
    const rows = Object.entries(iron.results[caseId]).map(([id, r]) => ({
      // Every library with results is listed in `libraries`.
      label: /** @type {string} */ (names[id]),
      value: r.opsPerSec,
      ours: id.startsWith('ss-'),
    }));
    // A fresh token whose salts this process has never seen (sealed by h3, another process,
    // or forged) needs its keys derived: our rows for it sit with the fresh-token unseals.
    if (caseId !== 'unsealFresh') return rows;
    for (const [id, r] of Object.entries(iron.results.unsealForeign ?? {})) {
      // Short enough for the label column: "sealed-session (node)" becomes "(node)".
      const backend = names[id]?.replace(/^sealed-session /, '') ?? id;
      rows.push({ label: `${NEVER_SEEN} ${backend}`, value: r.opsPerSec, ours: true });
    }
    return rows;
  };
  /**
   * @param {import('./http.mjs').Scenario} scenario
   * @returns {Row[]}
   */
  const httpRows = (scenario) =>
    Object.entries(http.results).map(([name, r]) => ({
      label: name,
      value: r[scenario],
      ours: name === 'sealed-session',
    }));
  const width = 760;
  let y = 40;
  let body = '';
  for (const spec of [
    { title: 'seal (ops/s)', unit: 'ops/s', rows: ironRows('seal') },
    {
      title: 'unseal, a different token each time (ops/s)',
      unit: 'ops/s',
      rows: ironRows('unsealFresh'),
    },
    {
      title: 'unseal, the same cookie again (ops/s)',
      unit: 'ops/s',
      rows: ironRows('unsealRepeat'),
    },
    {
      title: 'HTTP read: session cookie in, data out (req/s)',
      unit: 'req/s',
      rows: httpRows('read'),
    },
    {
      title: 'HTTP write: counter += 1 each request (req/s)',
      unit: 'req/s',
      rows: httpRows('write'),
    },
  ]) {
    const drawn = panel({ x: 20, y, width, ...spec });
    body += drawn.svg;
    y += drawn.height;
  }
  const m = iron.machine;
  const caption = `${m.cpu}, ${m.cores} cores, Node ${m.node}; iron ${iron.date.slice(0, 10)}, HTTP ${http.date.slice(0, 10)}`;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" viewBox="0 0 ${width} ${y + 10}" font-family="system-ui, sans-serif">` +
    `<style>.title{font-size:14px;font-weight:600;fill:#222}.label{font-size:12px;fill:#333}.value{font-size:11px;fill:#555}.ours{fill:#2b7a4b}.peer{fill:#9aa5b1}.caption{font-size:11px;fill:#666}</style>` +
    `<rect width="100%" height="100%" fill="#fff"/>` +
    `<text x="20" y="20" class="caption">sealed-session benchmarks (bars on a log scale) — ${escape(caption)}</text>` +
    body +
    `</svg>\n`;
  mkdirSync(new URL('docs/', root), { recursive: true });
  writeFileSync(new URL('docs/benchmarks.svg', root), svg);
  return { iron, workerd, http, names };
}

/** @param {number | undefined} micros */
const cpu = (micros) => (micros === undefined ? '–' : micros.toFixed(1));

/**
 * @param {number} a
 * @param {number} b
 */
function ratio(a, b) {
  return `${(a / b).toFixed(1)}×`;
}

/**
 * What the "minimal" row is, with sealed-session (node) divided by it in this run: the
 * ratios against iron-webcrypto move with how busy the machine is; this one barely does.
 *
 * @param {IronReport} iron
 */
function yardstickNote(iron) {
  const minimal = iron.ratios.seal['ss-node'].minimal;
  if (minimal === undefined) return [];
  const unseal = iron.ratios.unsealFresh['ss-node'].minimal;
  return [
    '"minimal node:crypto" is the yardstick the Fe26.2 issue quotes (~115,000 unseals/s when',
    'iron-webcrypto 1.x did ~2,300, i.e. 50×): a bare synchronous Fe26.2 on node:crypto with',
    'cached keys and no checks, in the same run. It shows how fast node:crypto is on the',
    'machine at that moment. Here sealed-session (node) does ' +
      `${minimal.toFixed(2)}× its seals and ${unseal.toFixed(2)}× its fresh`,
    'unseals per second, with every check the yardstick leaves out.',
    '',
  ];
}

/**
 * What the never-seen-salts rows are, and what a forged token costs, from this run.
 *
 * @param {IronReport} iron
 * @param {Record<string, string>} names
 */
function neverSeenNote(iron, names) {
  const node = iron.results.unsealForeign?.['ss-node'];
  if (node === undefined) return [];
  const hapi = iron.results.unsealFresh.hapi;
  const known = iron.results.unsealFresh['ss-node'];
  let text =
    `"${NEVER_SEEN}" unseals fresh tokens sealed by @hapi/iron, each with salts of its own, ` +
    'as h3 seals them, or another process, or this one before a restart: both keys are ' +
    `derived (PBKDF2, one iteration) for each. ${names['ss-node']} does ` +
    `${ratio(node.opsPerSec, hapi.opsPerSec)} @hapi/iron's fresh unseals and ` +
    `${(node.opsPerSec / known.opsPerSec).toFixed(2)}× its own unseals of tokens whose salts ` +
    'it knows.';
  const forged = iron.results.unsealForged;
  const ours = forged?.['ss-node']?.cpuUsPerOp;
  if (ours !== undefined) {
    const theirs = forged?.hapi?.cpuUsPerOp;
    text +=
      // A no-break space keeps each figure on the line of its unit.
      ` A forged token (fresh salts, a wrong MAC) costs ${names['ss-node']} ${ours.toFixed(1)}\u00a0µs ` +
      `of CPU to refuse${theirs === undefined ? '' : ` (@hapi/iron: ${theirs.toFixed(1)}\u00a0µs)`}: ` +
      'one key derived, one MAC.';
  }
  return [...wrap(text), ''];
}

/**
 * Breaks `text` into lines of at most `width` characters at spaces, as the README's prose
 * is wrapped (prettier keeps prose lines as they are).
 *
 * @param {string} text
 */
function wrap(text, width = 90) {
  /** @type {string[]} */
  const lines = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/**
 * Whether the workerd run reached 5× iron-webcrypto 1.x, and if not, why (the reason was
 * measured: bench/results/NOTES.md, "WebCrypto backend").
 *
 * @param {WorkerdReport} workerd
 * @returns {string[]}
 */
function workerdNote(workerd) {
  const low = Math.min(workerd.ratios.seal, workerd.ratios.unseal);
  if (low >= 5)
    return [`The 5× target over iron-webcrypto 1.x in workerd is met (${low.toFixed(1)}×).`, ''];
  return [
    `The 5× target over iron-webcrypto 1.x in workerd is not met (${low.toFixed(1)}× at the least).`,
    'What a token costs there is mostly one `crypto.subtle` AES call (~4.5 µs, native, and the',
    'cheapest constant-time AES in workerd: our bitsliced JS AES is slower there) and the MAC,',
    'in our JS (as fast as `subtle.sign` there). iron-webcrypto spends its time in the same',
    'native calls, cheap in workerd, so the gap stays near 3–4×. A faster AES in JS would be',
    'a table-based one, whose lookups leak timing: not taken.',
    '',
  ];
}

/**
 * The README section: tables of the last run, the targets, and the chart.
 *
 * @param {Rendered} rendered
 */
export function readmeSection({ iron, workerd, http, names }) {
  const m = iron.machine;
  const lines = [];
  lines.push(
    `Measured by \`npm run bench\` on ${m.cpu} (${m.cores} cores, shared), ${m.os}, Node ${m.node}, ` +
      `${iron.date.slice(0, 10)}. Peers run in the same process (iron) or the same script (HTTP), ` +
      `interleaved, medians of ${iron.config.rounds} (iron) and ${http.config.rounds} (HTTP) rounds. ` +
      'Absolute numbers move with the load of the machine; the ratios are what to read.',
    '',
    '![benchmark chart](docs/benchmarks.svg)',
    '',
    '**Fe26.2 seal and unseal** (157-byte session, one password; ops/s):',
    '',
    '| library | seal | unseal, fresh token | unseal, same token |',
    '| --- | ---: | ---: | ---: |',
  );
  for (const id of /** @type {LibraryId[]} */ (Object.keys(iron.results.seal))) {
    lines.push(
      `| ${names[id]} | ${fmt(iron.results.seal[id].opsPerSec)} | ${fmt(iron.results.unsealFresh[id].opsPerSec)} | ${fmt(iron.results.unsealRepeat[id].opsPerSec)} |`,
    );
  }
  const neverSeen = iron.results.unsealForeign ?? {};
  for (const [id, r] of Object.entries(neverSeen)) {
    lines.push(`| ${names[id]}, ${NEVER_SEEN} | – | ${fmt(r.opsPerSec)} | – |`);
  }
  lines.push(
    '',
    '"Fresh token" unseals a different token each time (more tokens than the verified-token',
    'cache holds): the full crypto cost. "Same token" is what a session cookie looks like',
    'across requests: sealed-session answers it from its bounded cache of verified tokens',
    '(expiry rechecked on every hit, a fresh copy of the data each time).',
    '',
    ...neverSeenNote(iron, names),
    ...yardstickNote(iron),
    '**The WebCrypto backend in workerd** (Miniflare), where it runs (on Node the package picks',
    'node:crypto); fresh tokens, ops/s. Informational: the targets below are measured on Node.',
    'In workerd `crypto.subtle` is native and cheap (~4.5 µs a call), which makes',
    'iron-webcrypto itself several times faster than on Node, so the gap is narrower there:',
    '',
    '| library | seal | unseal |',
    '| --- | ---: | ---: |',
    `| sealed-session (WebCrypto) | ${fmt(workerd.result.ours.seal)} | ${fmt(workerd.result.ours.unseal)} |`,
    `| iron-webcrypto 1.x | ${fmt(workerd.result.iwc1.seal)} | ${fmt(workerd.result.iwc1.unseal)} |`,
    `| ratio (median of per-round ratios) | ${workerd.ratios.seal.toFixed(1)}× | ${workerd.ratios.unseal.toFixed(1)}× |`,
    '',
    ...workerdNote(workerd),
    '**HTTP** (each server in its own process on 127.0.0.1, autocannon, ' +
      `${http.config.connections} connections, pipelining ${http.config.pipelining}; ` +
      "requests/s, and the server's CPU time per request):",
    '',
    '| server | read | ÷ | CPU µs | write | ÷ | CPU µs |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  // The benchmark always measures sealed-session itself.
  const ours = /** @type {import('./http.mjs').ServerResult} */ (http.results['sealed-session']);
  for (const [name, r] of Object.entries(http.results)) {
    lines.push(
      `| ${name} | ${fmt(r.read)} | ${ratio(ours.read, r.read)} | ${cpu(r.readCpu)} | ${fmt(r.write)} | ${ratio(ours.write, r.write)} | ${cpu(r.writeCpu)} |`,
    );
  }
  lines.push(
    '',
    '"bare-node-http" does the same response work with a cookie of the same size and no',
    'session: the ratio against it is what the session costs. "÷" is sealed-session\'s',
    "requests/s divided by that server's; the targets below use the median of per-round",
    'ratios. Pipelining keeps the load generator (on the same two cores) from being the',
    'bottleneck; CPU µs per request is measured from the server process and is the',
    'steadiest number here.',
    ...floorNote(http.results),
    '',
    '**Targets** (from the project issues), as measured in this run:',
    '',
  );
  for (const t of iron.targets) {
    const versus = t.versus === t.library ? 'its own' : names[t.versus];
    const versusCase = t.versusCase === undefined ? '' : ` ${t.versusCase}`;
    lines.push(
      `- ${t.pass ? '✅' : '❌'} ${names[t.library]} ${t.case} ≥ ${t.target}× ${versus}${versusCase}: ${t.actual.toFixed(t.target < 1 ? 2 : 1)}×`,
    );
  }
  for (const t of iron.cpuTargets ?? []) {
    lines.push(
      `- ${t.pass ? '✅' : '❌'} ${names[t.library]} ${t.case} ≤ ${t.target} µs of CPU per token: ${t.actual.toFixed(1)} µs`,
    );
  }
  for (const t of http.targets) {
    lines.push(`- ${t.pass ? '✅' : '❌'} HTTP ${t.label}: ${t.ratio.toFixed(2)}×`);
  }
  return lines.join('\n');
}

/**
 * What the "fe26-floor" row says about the write target against @fastify/secure-session:
 * the floor's server CPU per write (bare node:http plus only the Fe26.2 crypto) is the
 * least a sealed-cookie session can spend on one here. Empty when a server did not run.
 *
 * @param {Record<string, import('./http.mjs').ServerResult>} results
 * @returns {string[]}
 */
function floorNote(results) {
  const floor = results['fe26-floor'];
  const fss = results['fastify-secure-session'];
  const ours = results['sealed-session'];
  if (floor?.writeCpu === undefined || floor.readCpu === undefined) return [];
  if (ours?.writeCpu === undefined || ours.readCpu === undefined) return [];
  if (fss?.writeCpu === undefined) return [];
  /** @param {number} v */
  const us = (v) => v.toFixed(1);
  const needed = fss.writeCpu / 1.25;
  /**
   * @param {number} spent - sealed-session's CPU per request
   * @param {number} least - the floor's
   */
  const versus = (spent, least) =>
    spent >= least ? `${us(spent - least)} µs above it` : `${us(least - spent)} µs below it`;
  // One line for the sentence with the figures: README's prose is wrapped by hand, and
  // figures of any width would leave the wrapped lines ragged.
  const figures =
    `In this run the floor spends ${us(floor.writeCpu)} µs of CPU per write and ` +
    `@fastify/secure-session ${us(fss.writeCpu)} µs (libsodium seals its cookie in one ` +
    `native call): a write at 1.25× that peer would need ${us(needed)} µs, ` +
    `${needed < floor.writeCpu ? 'below' : 'above'} the floor. sealed-session spends ` +
    `${versus(ours.writeCpu, floor.writeCpu)} per write, and ` +
    `${versus(ours.readCpu, floor.readCpu)} per read.`;
  return [
    '',
    '"fe26-floor" is bare-node-http plus only the work a sealed cookie needs: the same',
    "crypto and JSON, on sealed-session's own node:crypto primitives with both keys kept, and",
    'the sessions it sealed, kept parsed; no session layer and no checks. It is about the',
    'least an Fe26.2 cookie session can spend on node:http.',
    figures,
  ];
}

/**
 * Replaces README's benchmark section (between its markers) with `section`.
 *
 * @param {string} section
 */
export async function updateReadme(section) {
  const path = fileURLToPath(new URL('README.md', root));
  const readme = readFileSync(path, 'utf8');
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) throw new Error('README.md lacks the bench markers');
  const next = `${readme.slice(0, from + start.length)}\n${section}\n${readme.slice(to)}`;
  // Formatted as the repository's lint expects, so a benchmark run leaves lint green.
  const options = (await prettier.resolveConfig(path)) ?? {};
  writeFileSync(path, await prettier.format(next, { ...options, filepath: path }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const data = render();
  await updateReadme(readmeSection(data));
  console.log('wrote docs/benchmarks.svg and the README benchmark section');
}
