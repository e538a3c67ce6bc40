import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileHistoryStore, decodeIdFromFileName, encodeIdForFileName } from '../../src/store/history-files.node.js';
import { rejection } from '../helpers/errors.js';
import { freshUser, historyContract, sampleResult } from './history-contract.js';

const root = mkdtempSync(join(tmpdir(), 'reflectkit-history-files-'));
let n = 0;
const newStore = () => new FileHistoryStore({ dir: join(root, `store-${n++}`) });

historyContract('FileHistoryStore', async () => newStore());

describe('FileHistoryStore', () => {
  it('encodes ids as file names that are safe everywhere and never merge, even ignoring case', () => {
    const ids = ['local', 'alice', 'Alice', 'ALICE', 'a.b', 'a@b.org', 'x-y_z', 'u-local', 'x-local', 'A'.repeat(128), 'z'.repeat(128), '0a-b'];
    const names = ids.map(encodeIdForFileName);
    expect(names[0]).toBe('u-local');
    expect(new Set(names.map((s) => s.toLowerCase())).size).toBe(ids.length);
    for (const [i, name] of names.entries()) {
      expect(name).toMatch(/^[a-z0-9_-]+$/);
      expect(name.length).toBeLessThanOrEqual(255);
      expect(decodeIdFromFileName(name)).toBe(ids[i]);
    }
    for (const bad of ['local', 'u-A', 'x-!!', 'u-', '..', 'x-a']) expect(decodeIdFromFileName(bad)).toBeUndefined();
  });

  it('lays records out per user, one JSON file each, with a summary index named by time and a model claim', async () => {
    const store = newStore();
    const record = await store.add('Alice@example.org', { name: 'n', params: { a: 1 }, result: sampleResult('m-1'), createdAt: '2026-04-05T06:07:08.009Z' });
    const user = join(store.dir, 'users', encodeIdForFileName('Alice@example.org'));
    expect(readdirSync(join(store.dir, 'users'))).toEqual([encodeIdForFileName('Alice@example.org')]);
    expect(JSON.parse(readFileSync(join(user, 'records', `${record.id}.json`), 'utf8'))).toEqual(record);
    const summary = JSON.parse(readFileSync(join(user, 'index', '2026-04-05', `001775369228009_${record.id}.json`), 'utf8')) as { result: object };
    expect(Object.keys(summary.result).sort()).toEqual(['metrics', 'model_id', 'timing']);
    expect(readFileSync(join(user, 'models', encodeIdForFileName('m-1')), 'utf8')).toBe(record.id);
    expect(await store.isPending('Alice@example.org', record.id)).toBe(false);
    expect(readdirSync(user).sort()).toEqual(['index', 'models', 'records']);
  });

  it('lists a page without reading the other records', async () => {
    const store = newStore();
    const user = freshUser();
    const old = await store.add(user, { params: {}, result: {}, createdAt: '2024-01-01T00:00:00.000Z' });
    for (let i = 0; i < 5; i++) await store.add(user, { params: { i }, result: {}, createdAt: `2026-0${i + 1}-01T00:00:00.000Z` });
    const userDir = join(store.dir, 'users', encodeIdForFileName(user));
    // Break the old record's summary and full file: the first pages never open them.
    writeFileSync(join(userDir, 'index', '2024-01-01', `${String(Date.parse(old.created_at)).padStart(15, '0')}_${old.id}.json`), '{broken');
    writeFileSync(join(userDir, 'records', `${old.id}.json`), '{broken');
    const first = await store.list(user, { limit: 3 });
    const second = await store.list(user, { limit: 2, cursor: first.nextCursor! });
    expect([...first.items, ...second.items].map((r) => r.params.i)).toEqual([4, 3, 2, 1, 0]);
    const error = await rejection(store.list(user, { limit: 2, cursor: second.nextCursor! }));
    expect(error.code).toBe('IO_ERROR');
  });

  it('leaves nothing behind when the summary cannot be written: no unlisted record, no model claim, no pending mark', async () => {
    const store = newStore();
    const user = freshUser();
    await store.add(user, { params: {}, result: {}, createdAt: '2026-03-01T00:00:00.000Z' });
    const userDir = join(store.dir, 'users', encodeIdForFileName(user));
    // A file where the day's summary folder must go: the record is written, its summary cannot be.
    writeFileSync(join(userDir, 'index', '2026-03-02'), 'in the way');
    const { prepareRecord } = await import('../../src/store/history.js');
    const record = prepareRecord(user, { params: {}, result: sampleResult('m-blocked'), createdAt: '2026-03-02T00:00:00.000Z' });
    expect(await rejection(store.insertRecord(record, { pending: true }))).toMatchObject({ code: 'IO_ERROR' });
    expect(readdirSync(join(userDir, 'records'))).toHaveLength(1);
    expect(readdirSync(join(userDir, 'models'))).toEqual([]);
    expect(await store.isPending(user, record.id)).toBe(false);
    expect(await rejection(store.get(user, record.id))).toMatchObject({ code: 'NOT_FOUND' });
    // Once the way is clear, the same record goes in and is listed.
    rmSync(join(userDir, 'index', '2026-03-02'));
    await store.insertRecord(record);
    expect((await store.list(user)).items.map((r) => r.id)).toContain(record.id);
  });

  it('keeps a record and its summary in step when a rename cannot write the summary', async () => {
    const store = newStore();
    const user = freshUser();
    const record = await store.add(user, { name: 'before', params: {}, result: {}, createdAt: '2026-03-03T00:00:00.000Z' });
    const summary = join(store.dir, 'users', encodeIdForFileName(user), 'index', '2026-03-03', `${String(Date.parse(record.created_at)).padStart(15, '0')}_${record.id}.json`);
    const saved = readFileSync(summary);
    rmSync(summary);
    mkdirSync(summary); // a folder in the way: the summary cannot be replaced
    expect(await rejection(store.rename(user, record.id, 'after'))).toMatchObject({ code: 'IO_ERROR' });
    expect((await store.get(user, record.id)).name).toBe('before');
    rmSync(summary, { recursive: true });
    writeFileSync(summary, saved);
    await store.rename(user, record.id, 'after');
    expect((await store.list(user)).items.find((r) => r.id === record.id)?.name).toBe('after');
    expect((await store.get(user, record.id)).name).toBe('after');
  });

  it('marks records pending, lists them for a sync, and forgets them', async () => {
    const store = newStore();
    const { prepareRecord } = await import('../../src/store/history.js');
    const a = prepareRecord('alice', { params: {}, result: {} });
    const b = prepareRecord('Bob', { params: {}, result: { model_id: 'mb' } });
    await store.insertRecord(a, { pending: true });
    await store.insertRecord(b, { pending: true });
    const plain = await store.add('alice', { params: {}, result: {} });
    expect(await store.isPending('alice', a.id)).toBe(true);
    expect(await store.isPending('alice', plain.id)).toBe(false);
    const pending = await store.pendingRecords();
    expect(pending.map((r) => `${r.userId}/${r.id}`).sort()).toEqual([`Bob/${b.id}`, `alice/${a.id}`].sort());
    expect((await store.allRecords()).length).toBe(3);
    await store.forget('Bob', b.id);
    await store.forget('Bob', b.id);
    expect(await store.pendingRecords()).toEqual([{ userId: 'alice', id: a.id }]);
    expect((await rejection(store.get('Bob', b.id))).code).toBe('NOT_FOUND');
    // Its model id is free again.
    await store.add('Bob', { params: {}, result: { model_id: 'mb' } });
  });

  it('takes over a model claim left by a record that is gone (a crash), but not a live one', async () => {
    const store = newStore();
    const user = freshUser();
    const claim = join(store.dir, 'users', encodeIdForFileName(user), 'models', encodeIdForFileName('m-crash'));
    const live = await store.add(user, { params: {}, result: { model_id: 'm-crash' } });
    expect((await rejection(store.add(user, { params: {}, result: { model_id: 'm-crash' } }))).path).toBe('result.model_id');
    writeFileSync(claim, '0123456789abcdef01234567'); // a claim whose record never got written
    const taken = await store.add(user, { params: {}, result: { model_id: 'm-crash' } });
    expect(readFileSync(claim, 'utf8')).toBe(taken.id);
    expect(await store.get(user, live.id)).toBeDefined();
  });

  it('needs a folder', () => {
    expect(() => new FileHistoryStore({ dir: '' })).toThrow(/INVALID_OPTION/);
  });
});
