/**
 * `npm run bench:history`: listing one page of a history of 100,000 records (BENCH_HISTORY_N), the first
 * page and deep pages, in the embedded store (records 100 s apart over 116 days, and the worst case: all of
 * them on one day, one folder) and in MongoDB through FerretDB 1.24 (SQLite; built by the test setup).
 * Every record goes in through the stores' own add/insert path. Writes the "History" section of
 * benchmarks/RESULTS.md. A benchmark, not a test: times depend on the machine.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import setupFerretDb from '../test/setup/ferretdb.js';
import { startFerretDb } from '../test/helpers/ferretdb.js';
import { FileHistoryStore } from '../src/store/history-files.node.js';
import { MongoHistoryStore } from '../src/store/history-mongo.node.js';
import { positionOf, prepareRecord, type HistoryRecord, type HistoryStore } from '../src/store/history.js';

const ROOT = join(import.meta.dirname, '..');
const RESULTS = join(ROOT, 'benchmarks', 'RESULTS.md');
const N = Number(process.env.BENCH_HISTORY_N ?? 100_000);
const REPEATS = Number(process.env.BENCH_HISTORY_REPEATS ?? 20);
const LIMIT = 50;
const MONGO_REPEATS = Math.min(REPEATS, Number(process.env.BENCH_HISTORY_MONGO_REPEATS ?? 3));
const CONCURRENCY = 128;
const START = Date.parse('2026-01-01T00:00:00.000Z');

interface Row {
  store: string;
  layout: string;
  fillSeconds: number;
  pages: Array<{ page: string; firstMs: number; medianMs: number; items: number }>;
}

/** `count` records of `user`, `spacingMs` apart, newest first, as `prepareRecord` makes them (the pipeline's light result). */
function makeRecords(user: string, spacingMs: number): HistoryRecord[] {
  const records: HistoryRecord[] = [];
  for (let i = N - 1; i >= 0; i--) {
    records.push(
      prepareRecord(user, {
        name: `run ${i}`,
        params: { generator: { numCurves: 1000 }, training: { epochs: 6 }, seed: i },
        result: { metrics: { mse: 1e-3, r2: 0.97, mae: 0.02 }, model_id: `model-${user}-${i}`, timing: { total: 120 }, nr: { q: [0.01, 0.02], r: [1, 0.5] } },
        createdAt: new Date(START + i * spacingMs),
      }),
    );
  }
  return records;
}

/** Runs `insert` on every record, `CONCURRENCY` at a time; returns the seconds it took. */
async function fill(records: HistoryRecord[], insert: (record: HistoryRecord) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < records.length) {
        await insert(records[next++]!);
        if (++done % 20_000 === 0) process.stderr.write(`bench: ${done} records\n`);
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

/** Times one page: the first call, then the median of `REPEATS` more. */
async function timePage(store: HistoryStore, user: string, records: HistoryRecord[], k: number, repeats: number): Promise<{ firstMs: number; medianMs: number; items: number }> {
  const options = k === 0 ? { limit: LIMIT } : { limit: LIMIT, cursor: positionOf(records[k - 1]!) };
  const times: number[] = [];
  let items = 0;
  for (let n = 0; n <= repeats; n++) {
    const t = performance.now();
    const page = await store.list(user, options);
    times.push(performance.now() - t);
    items = page.items.length;
    if (page.items[0]?.id !== records[k]!.id) throw new Error(`page at ${k} starts with ${page.items[0]?.id}, not ${records[k]!.id}`);
  }
  const rest = times.slice(1).sort((a, b) => a - b);
  return { firstMs: times[0]!, medianMs: rest[Math.floor(rest.length / 2)] ?? times[0]!, items };
}

/** The pages timed: the first, the one after half the records, the last. */
const PAGES: Array<[string, number]> = [
  ['first page', 0],
  [`page after ${Math.floor(N / 2).toLocaleString('en-US')} records`, Math.floor(N / 2)],
  ['last page', N - LIMIT],
];

async function embedded(layout: string, spacingMs: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'reflectkit-bench-history-'));
  try {
    const store = new FileHistoryStore({ dir });
    const records = makeRecords('alice', spacingMs);
    process.stderr.write(`bench: embedded store, ${layout}: adding ${N} records…\n`);
    const fillSeconds = await fill(records, (r) => store.insertRecord(r));
    const pages = [];
    for (const [page, at] of PAGES) pages.push({ page, ...(await timePage(store, 'alice', records, at, REPEATS)) });
    return { store: 'embedded (FileHistoryStore)', layout, fillSeconds, pages };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function mongo(): Promise<Row> {
  setupFerretDb();
  const server = await startFerretDb();
  try {
    const store = new MongoHistoryStore({ uri: server.uri, collection: 'bench', socketTimeoutMS: 600_000 });
    const records = makeRecords('alice', 100_000);
    process.stderr.write(`bench: FerretDB: inserting ${N} records…\n`);
    const fillSeconds = await fill(records, (r) => store.insertRecord(r));
    const pages = [];
    for (const [page, at] of PAGES) pages.push({ page, ...(await timePage(store, 'alice', records, at, MONGO_REPEATS)) });
    await store.close();
    return { store: 'MongoDB wire: FerretDB 1.24.2 (SQLite)', layout: '100 s apart', fillSeconds, pages };
  } finally {
    await server.destroy();
  }
}

const ms = (x: number): string => (x >= 100 ? `${x.toFixed(0)} ms` : `${x.toFixed(1)} ms`);

async function main(): Promise<void> {
  const rows = [await embedded('100 s apart (116 day folders)', 100_000), await embedded('all on one day (one folder)', 86_400_000 / N), await mongo()];
  const table = [
    '| store | records | layout | fill (add path) | page | first call | median of repeats |',
    '| --- | ---: | --- | ---: | --- | ---: | ---: |',
    ...rows.flatMap((row) =>
      row.pages.map((p) => `| ${row.store} | ${N.toLocaleString('en-US')} | ${row.layout} | ${(N / row.fillSeconds).toFixed(0)} records/s | ${p.page} (${p.items} items) | ${ms(p.firstMs)} | ${ms(p.medianMs)} |`),
    ),
  ].join('\n');
  const section = [
    '## History',
    '',
    `Run ${new Date().toISOString().slice(0, 10)} with \`npm run bench:history\`. One user with ${N.toLocaleString('en-US')} records (the pipeline's`,
    `light result fields plus a small curve), added through the store's own insert path (\`insertRecord\`, ${CONCURRENCY} at a time; the embedded store fsyncs every file);`,
    `then one page of ${LIMIT}, newest first: the first call and the median of ${REPEATS} more (${MONGO_REPEATS} for FerretDB). The deep pages are asked for with`,
    'the cursor of the page before them, as `reflectkit history list --cursor` does.',
    '',
    `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 20).toFixed(0)} MB RAM; Node ${process.versions.node}.`,
    '',
    table,
    '',
    'The embedded store reads the day folders it needs and only the page\'s summary files (test/reliability/history-scale.test.ts',
    'proves it: no other file is opened); its cost grows with the records in the day folders a page touches, not with the history.',
    'FerretDB 1.24 on SQLite pushes neither the filter nor the sort down (its explain says so), so each page scans and sorts the',
    "user's documents; on MongoDB the `reflectkit_user_created` index {user_id, created_at: -1, _id: -1} serves the same query as",
    'an index range (the test compares the query the store sends with the index).',
    '',
  ].join('\n');
  const existing = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmarks\n\nEach section is rewritten by the benchmark that owns it.\n\n';
  const start = existing.indexOf('## History');
  const end = start < 0 ? -1 : existing.indexOf('\n## ', start + 1);
  const updated = start < 0 ? `${existing.trimEnd()}\n\n${section}` : `${existing.slice(0, start)}${section}${end < 0 ? '' : existing.slice(end + 1)}`;
  writeFileSync(RESULTS, `${updated.trimEnd()}\n`);
  console.log(table);
}

await main();
