/**
 * The history at 100,000 records: the work one page costs, not its time (benchmarks/history.bench.ts
 * measures that). The embedded store must serve a page from its summary index, reading only that page's
 * files; MongoDB's list query must have the shape its indexes serve (FerretDB 1.24 on SQLite does not push
 * indexes down, so the query shape and the index definitions are compared, as MongoDB's planner would).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, ObjectId, type Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileHistoryStore, encodeIdForFileName } from '../../src/store/history-files.node.js';
import { HISTORY_INDEXES, MongoHistoryStore } from '../../src/store/history-mongo.node.js';
import { HEAVY_RESULT_FIELDS, newRecordId, positionOf, summarize, type HistoryRecord } from '../../src/store/history.js';
import { rejection } from '../helpers/errors.js';
import { sampleResult } from '../store/history-contract.js';
import { startTappedFerretDb, type TappedCommand, type TappedFerretDb, type WireTap } from './mongo-wire-tap.js';

const N = 100_000;
const scratch = mkdtempSync(join(tmpdir(), 'reflectkit-history-scale-'));

/** Where the embedded store keeps a record's summary (layout version 1, see FileHistoryStore). */
function summaryPath(dir: string, record: HistoryRecord): string {
  return join(dir, 'users', encodeIdForFileName(record.user_id), 'index', record.created_at.slice(0, 10), `${positionOf(record)}.json`);
}

describe('the embedded history store at 100,000 records', () => {
  it('serves the first, a deep and the last page from the summary index, reading only that page\'s files', async () => {
    const dir = join(scratch, 'embedded');
    const store = new FileHistoryStore({ dir });
    // The layout written below is the store's own: a record it adds lands where summaryPath says, as summarize says.
    const probe = await store.add('probe', { name: 'probe', params: { p: 1 }, result: sampleResult('probe-model'), createdAt: '2026-03-04T05:06:07.089Z' });
    expect(JSON.parse(readFileSync(summaryPath(dir, probe), 'utf8'))).toEqual(summarize(probe));

    // 100,000 records of one user, 100 s apart (116 days, about 860 a day), newest first: records[k].
    const start = Date.parse('2026-01-01T00:00:00.000Z');
    const records: HistoryRecord[] = [];
    for (let i = N - 1; i >= 0; i--) {
      const created = new Date(start + i * 100_000);
      records.push({ id: newRecordId(created), user_id: 'alice', name: `run ${i}`, created_at: created.toISOString(), params: { i }, result: { ...sampleResult(`model-${i}`), metrics: { mse: i } } });
    }
    // Only the summaries of the pages read below are real; every other summary is a trap (not JSON), and no
    // record file exists at all: a page that read anything else would fail.
    // The deep page: the first page from record 60,000 on that spans two days (its listing reads two day folders).
    const day = (k: number): string => records[k]!.created_at.slice(0, 10);
    let deepStart = 60_000;
    while (day(deepStart) === day(deepStart + 49)) deepStart++;
    const pages = { first: 0, deep: deepStart, last: N - 50 };
    const real = new Set<number>();
    for (const k of Object.values(pages)) for (let j = k; j < k + 50; j++) real.add(j);
    const folders = new Set<string>();
    let pageBytes = 0;
    for (const [k, record] of records.entries()) {
      const path = summaryPath(dir, record);
      const folder = path.slice(0, path.lastIndexOf('/'));
      if (!folders.has(folder)) {
        mkdirSync(folder, { recursive: true });
        folders.add(folder);
      }
      const text = real.has(k) ? JSON.stringify(summarize(record)) : '{not a summary';
      if (real.has(k)) pageBytes += text.length;
      writeFileSync(path, text);
    }
    expect(folders.size).toBe(116);

    const first = await store.list('alice', { limit: 50 });
    expect(first.items).toEqual(records.slice(0, 50).map(summarize));
    expect(first.nextCursor).toBe(positionOf(records[49]!));

    // The page after about 60,000 records, as the cursor of the page before it asks for it.
    expect(pages.deep).toBeLessThan(61_000);
    const deep = await store.list('alice', { limit: 50, cursor: positionOf(records[pages.deep - 1]!) });
    expect(deep.items).toEqual(records.slice(pages.deep, pages.deep + 50).map(summarize));
    expect(deep.nextCursor).toBe(positionOf(records[pages.deep + 49]!));

    const last = await store.list('alice', { limit: 50, cursor: positionOf(records[pages.last - 1]!) });
    expect(last.items).toEqual(records.slice(pages.last).map(summarize));
    expect(last.nextCursor).toBeUndefined();
    expect(await store.list('alice', { cursor: positionOf(records[N - 1]!) })).toEqual({ items: [] });

    // The traps are real: a page that has to read them fails.
    expect((await rejection(store.list('alice', { limit: 50, cursor: positionOf(records[99]!) }))).code).toBe('IO_ERROR');
    // Another user's listing touches none of alice's files.
    expect((await store.list('probe')).items).toEqual([summarize(probe)]);
    console.log(`history-scale: ${N} records in ${folders.size} day folders; one page of 50 read ${(pageBytes / 3 / 1024).toFixed(1)} KiB of summaries, no record file`);
  });
});

describe('MongoDB: the list query is the shape its index serves', () => {
  let server: TappedFerretDb;
  let tap: WireTap;
  let raw: MongoClient;
  beforeAll(async () => {
    server = await startTappedFerretDb();
    ({ tap, raw } = server);
  });
  afterAll(async () => {
    await server?.close();
  });

  /** The fields of a filter compared by equality (a plain value, not an operator document). */
  function equalityFields(filter: Document): string[] {
    return Object.entries(filter)
      .filter(([key, value]) => !key.startsWith('$') && !(typeof value === 'object' && value !== null && !(value instanceof ObjectId) && !(value instanceof Date) && Object.keys(value).some((k) => k.startsWith('$'))))
      .map(([key]) => key);
  }

  /** Every field a filter constrains, also inside `$or` / `$and`. */
  function constrainedFields(filter: Document): string[] {
    return Object.entries(filter).flatMap(([key, value]) => (key === '$or' || key === '$and' ? (value as Document[]).flatMap(constrainedFields) : key.startsWith('$') ? [] : [key]));
  }

  /**
   * MongoDB's rule for a query an index answers without a blocking sort: the equality fields are a prefix of
   * the index key, the sort is the key's next fields in the key's direction (or all reversed), and every
   * other constrained field is in the key (so the range is scanned on the index, not on documents).
   */
  function indexServes(key: Record<string, number>, filter: Document, sort: Record<string, number>): boolean {
    const fields = Object.keys(key);
    const equal = equalityFields(filter);
    if (!equal.every((f, i) => fields.slice(0, equal.length).includes(f) && i < fields.length)) return false;
    const rest = fields.slice(equal.length);
    const sortFields = Object.keys(sort);
    if (sortFields.join() !== rest.slice(0, sortFields.length).join()) return false;
    const sameWay = sortFields.every((f) => sort[f] === key[f]);
    const reversed = sortFields.every((f) => sort[f] === -key[f]!);
    return (sameWay || reversed) && constrainedFields(filter).every((f) => fields.includes(f));
  }

  it('lists with equality on user_id, the index key\'s sort and a cursor range on its next fields; get, rename and remove go by _id', async () => {
    const collection = `scale_${randomBytes(4).toString('hex')}`;
    const store = new MongoHistoryStore({ uri: tap.uri(), collection });
    for (let i = 0; i < 30; i++) await store.add('alice', { params: { i }, result: sampleResult(`m-${i}`), createdAt: new Date(Date.UTC(2026, 0, 1 + Math.floor(i / 2))) });
    for (let i = 0; i < 10; i++) await store.add('bob', { params: { i }, result: {}, createdAt: new Date(Date.UTC(2026, 0, 1 + i)) });
    const indexes = await raw.db('PyReflect').collection(collection).listIndexes().toArray();
    const userCreated = indexes.find((i) => i.name === HISTORY_INDEXES.userCreated.name);
    expect(userCreated?.key).toEqual(HISTORY_INDEXES.userCreated.key);

    const from = tap.commands.length;
    const first = await store.list('alice', { limit: 10 });
    const second = await store.list('alice', { limit: 10, cursor: first.nextCursor! });
    expect([...first.items, ...second.items].map((r) => r.params.i)).toEqual([29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10]);
    const record = first.items[0]!;
    await store.get('alice', record.id);
    await store.rename('alice', record.id, 'renamed');
    await store.remove('alice', record.id);
    const sent = tap.commands.slice(from).filter((c) => ['find', 'findAndModify', 'delete'].includes(c.name));
    expect(sent.map((c) => c.name)).toEqual(['find', 'find', 'find', 'findAndModify', 'delete']);
    const [page1, page2] = sent as [TappedCommand, TappedCommand];

    for (const page of [page1, page2]) {
      expect(page.body.filter.user_id).toBe('alice');
      expect(page.body.sort).toEqual({ created_at: -1, _id: -1 });
      expect(page.body.limit).toBe(11);
      expect(page.body.projection).toEqual(Object.fromEntries(HEAVY_RESULT_FIELDS.map((f) => [`result.${f}`, 0])));
      expect(indexServes(HISTORY_INDEXES.userCreated.key, page.body.filter as Document, page.body.sort as Record<string, number>)).toBe(true);
    }
    const time = new Date(Date.parse(first.items.at(-1)!.created_at));
    expect(page2.body.filter).toEqual({ user_id: 'alice', created_at: { $lte: time }, $or: [{ created_at: { $lt: time } }, { _id: { $lt: new ObjectId(first.items.at(-1)!.id) } }] });
    // The rule is not trivially true: a sort the index cannot give, or a filter without the user, is refused by it.
    expect(indexServes(HISTORY_INDEXES.userCreated.key, page1.body.filter as Document, { created_at: 1, _id: -1 })).toBe(false);
    expect(indexServes(HISTORY_INDEXES.userCreated.key, { name: 'x' }, { created_at: -1, _id: -1 })).toBe(false);
    // One record by its _id (the primary key), always with the user.
    for (const command of sent.slice(2)) {
      const filter = (command.body.filter ?? command.body.query ?? (command.body.deletes as Document[])[0]!.q) as Document;
      expect(filter).toEqual({ _id: new ObjectId(record.id), user_id: 'alice' });
    }
    // What FerretDB 1.24 (SQLite) says of the page query: it answers explain, without pushing the filter or sort down.
    const explain = await raw.db('PyReflect').collection(collection).find(page2.body.filter as Document).sort({ created_at: -1, _id: -1 }).limit(11).explain();
    expect(explain.ok).toBe(1);
    console.log(`history-scale: FerretDB explain of the page query: filterPushdown ${String(explain.filterPushdown)}, sortPushdown ${String(explain.sortPushdown)}, limitPushdown ${String(explain.limitPushdown)}`);
    await store.close();
  });
});
