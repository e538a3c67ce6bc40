/**
 * The behaviour every HistoryStore shares, run against each implementation by its own test file
 * (history-files.test.ts: the embedded store; history-mongo.test.ts: MongoDB through FerretDB).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryRecord, HistoryStore } from '../../src/store/history.js';
import { rejection } from '../helpers/errors.js';

/** A user id no other test uses. */
export function freshUser(prefix = 'user'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** A result like the pipeline's: the large fields and the light ones. */
export function sampleResult(modelId?: string): Record<string, unknown> {
  return {
    nr: { q: [0.01, 0.02, 0.03], r: [1, 0.5, 0.1] },
    sld: { z: [0, 50, 100], sld: [2.07, 4, 0] },
    training: { loss: [1, 0.5], valLoss: [1.1, 0.6] },
    chi: [{ i: 0, chi2: 1.5 }],
    metrics: { mse: 0.01, r2: 0.98, mae: 0.05 },
    ...(modelId === undefined ? {} : { model_id: modelId }),
    timing: { total: 12.5 },
  };
}

const PARAMS = { layers: [{ sld: 2.07, thickness: 0, roughness: 3 }], generator: { numCurves: 1000 }, training: { epochs: 6 }, seed: 42 };

/** Runs the shared suite on the store that `open` makes (once, closed at the end). */
export function historyContract(label: string, open: () => Promise<HistoryStore>): void {
  describe(`${label}: the HistoryStore contract`, () => {
    let store: HistoryStore;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store?.close();
    });

    it('adds a record and gets it back in the interface shape', async () => {
      const user = freshUser();
      const before = Date.now();
      const added = await store.add(user, { name: '  Si/SiOx/Ni  ', params: PARAMS, result: sampleResult('model-1') });
      expect(added.id).toMatch(/^[0-9a-f]{24}$/);
      expect(added).toMatchObject({ user_id: user, name: 'Si/SiOx/Ni', params: PARAMS, result: sampleResult('model-1') });
      expect(added.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Date.parse(added.created_at)).toBeGreaterThanOrEqual(before - 1);
      expect(parseInt(added.id.slice(0, 8), 16)).toBe(Math.floor(Date.parse(added.created_at) / 1000));
      expect(added.updated_at).toBeUndefined();
      expect(await store.get(user, added.id)).toEqual(added);
      expect(await store.get(user, added.id.toUpperCase())).toEqual(added);
    });

    it('stores params and result as JSON (NaN → null, dates → strings), the same in every store', async () => {
      const user = freshUser();
      const added = await store.add(user, { params: { when: new Date('2026-01-02T03:04:05.000Z'), skip: undefined }, result: { metrics: { r2: Number.NaN, mse: 1e-300 } } });
      expect(added.name).toBeNull();
      expect(added.params).toEqual({ when: '2026-01-02T03:04:05.000Z' });
      expect(added.result).toEqual({ metrics: { r2: null, mse: 1e-300 } });
      expect(await store.get(user, added.id)).toEqual(added);
    });

    it('refuses bad input before storing anything: ids, names, keys, times', async () => {
      const user = freshUser();
      for (const bad of ['', 'a/b', '../x', ' bob', 'x'.repeat(129), 'é', 'a b']) {
        const error = await rejection(store.add(bad, { params: {}, result: {} }));
        expect(error.code).toBe('INVALID_ID');
        expect(error.path).toBe('userId');
      }
      expect((await rejection(store.add(user, { params: {}, result: {}, id: 'not-an-id' }))).path).toBe('id');
      for (const model of ['../etc', 'a/b', '', 'x'.repeat(129), 42]) {
        const error = await rejection(store.add(user, { params: {}, result: { model_id: model } }));
        expect([error.code, error.path]).toEqual(['INVALID_ID', 'result.model_id']);
      }
      const long = await rejection(store.add(user, { name: 'n'.repeat(81), params: {}, result: {} }));
      expect([long.code, long.path]).toEqual(['INVALID_ID', 'name']);
      const key = await rejection(store.add(user, { params: { deep: [{ $where: 1 }] }, result: {} }));
      expect([key.code, key.path]).toEqual(['INVALID_OPTION', 'params.deep[0].$where']);
      expect((await rejection(store.add(user, { params: { 'a.b': 1 }, result: {} }))).path).toBe('params.a.b');
      expect((await rejection(store.add(user, { params: [] as unknown as Record<string, unknown>, result: {} }))).code).toBe('INVALID_OPTION');
      expect((await rejection(store.add(user, { params: {}, result: {}, createdAt: 'yesterday' }))).path).toBe('createdAt');
      expect((await store.list(user)).items).toEqual([]);
    });

    it('lists newest first without the large result fields', async () => {
      const user = freshUser();
      const times = ['2026-03-01T10:00:00.000Z', '2026-01-15T08:30:00.000Z', '2026-03-01T10:00:00.500Z', '2025-12-31T23:59:59.999Z', '2026-02-10T00:00:00.000Z'];
      const added: HistoryRecord[] = [];
      for (const [i, createdAt] of times.entries()) added.push(await store.add(user, { name: `run ${i}`, params: PARAMS, result: sampleResult(`m-${i}`), createdAt }));
      const page = await store.list(user);
      expect(page.nextCursor).toBeUndefined();
      expect(page.items.map((r) => r.created_at)).toEqual([...times].sort().reverse());
      for (const item of page.items) {
        expect(Object.keys(item.result).sort()).toEqual(['metrics', 'model_id', 'timing']);
        const full = added.find((r) => r.id === item.id)!;
        expect(item).toEqual({ ...full, result: { metrics: full.result.metrics, model_id: full.result.model_id, timing: full.result.timing } });
      }
      expect((await store.get(user, page.items[0]!.id)).result.nr).toEqual(sampleResult().nr);
    });

    it('pages with cursors: every record exactly once, in order, also when creation times tie', async () => {
      const user = freshUser();
      const ids: string[] = [];
      for (let i = 0; i < 23; i++) {
        // Groups of three share a creation time: the id orders them.
        const createdAt = new Date(Date.UTC(2026, 0, 1 + Math.floor(i / 3) * 20, 12)).toISOString();
        ids.push((await store.add(user, { params: { i }, result: {}, createdAt })).id);
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list(user, { limit: 5, ...(cursor === undefined ? {} : { cursor }) });
        expect(page.items.length).toBe(page.nextCursor === undefined ? 3 : 5);
        seen.push(...page.items.map((r) => r.id));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor !== undefined);
      expect(pages).toBe(5);
      expect(new Set(seen).size).toBe(23);
      const expected = (await Promise.all(ids.map((id) => store.get(user, id)))).sort((a, b) => (a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1)).map((r) => r.id);
      expect(seen).toEqual(expected);
      const all = await store.list(user, { limit: 500 });
      expect(all.items.map((r) => r.id)).toEqual(expected);
      expect((await store.list(user, { limit: 23 })).nextCursor).toBeUndefined();
      expect((await store.list(user, { limit: 22 })).nextCursor).toBeDefined();
    });

    it('refuses a bad page size or cursor', async () => {
      const user = freshUser();
      for (const limit of [0, 501, 1.5, Number.NaN]) expect((await rejection(store.list(user, { limit }))).path).toBe('limit');
      for (const cursor of ['', 'abc', '1_2', `${'9'.repeat(15)}_${'0'.repeat(24)}`, `000000000000001_${'G'.repeat(24)}`]) {
        const error = await rejection(store.list(user, { cursor }));
        expect([error.code, error.path]).toEqual(['INVALID_OPTION', 'cursor']);
      }
    });

    it("renames with the interface's rules: trimmed, \"\" → null, at most 80 characters", async () => {
      const user = freshUser();
      const { id } = await store.add(user, { name: 'first', params: {}, result: {} });
      const renamed = await store.rename(user, id, '  second name \n');
      expect(renamed.name).toBe('second name');
      expect(renamed.updated_at).toMatch(/Z$/);
      expect((await store.get(user, id)).name).toBe('second name');
      expect((await store.list(user)).items[0]!.name).toBe('second name');
      expect((await store.rename(user, id, '   ')).name).toBeNull();
      expect((await store.rename(user, id, 'x')).name).toBe('x');
      expect((await store.rename(user, id, null)).name).toBeNull();
      const emoji = '🧪'.repeat(80); // 80 characters, 160 UTF-16 units
      expect((await store.rename(user, id, emoji)).name).toBe(emoji);
      const error = await rejection(store.rename(user, id, 'y'.repeat(81)));
      expect([error.code, error.path]).toEqual(['INVALID_ID', 'name']);
      expect((await store.get(user, id)).name).toBe(emoji);
    });

    it('removes a record', async () => {
      const user = freshUser();
      const keep = await store.add(user, { params: {}, result: {} });
      const { id } = await store.add(user, { params: {}, result: { model_id: 'to-remove' } });
      await store.remove(user, id);
      expect((await rejection(store.get(user, id))).code).toBe('NOT_FOUND');
      expect((await rejection(store.remove(user, id))).code).toBe('NOT_FOUND');
      expect((await rejection(store.rename(user, id, 'x'))).code).toBe('NOT_FOUND');
      expect((await store.list(user)).items.map((r) => r.id)).toEqual([keep.id]);
      // Its model id is free again.
      await store.add(user, { params: {}, result: { model_id: 'to-remove' } });
    });

    it("scopes everything by user: another user's record is NOT_FOUND, even with its id", async () => {
      const alice = freshUser('alice');
      const bob = freshUser('bob');
      const record = await store.add(alice, { name: 'secret', params: {}, result: { model_id: 'shared-model' } });
      for (const attempt of [() => store.get(bob, record.id), () => store.rename(bob, record.id, 'mine'), () => store.remove(bob, record.id)]) {
        const error = await rejection(attempt());
        expect(error.code).toBe('NOT_FOUND');
        expect(error.message).not.toContain(alice);
      }
      expect((await store.list(bob)).items).toEqual([]);
      expect(await store.get(alice, record.id)).toEqual(record);
      expect((await store.list(alice)).items.map((r) => r.id)).toEqual([record.id]);
      // The model id is unique per user, not across users.
      await store.add(bob, { params: {}, result: { model_id: 'shared-model' } });
      expect((await store.list(alice)).items.length).toBe(1);
    });

    it('refuses invalid ids with INVALID_ID', async () => {
      const user = freshUser();
      for (const id of ['', 'xyz', '0'.repeat(23), '0'.repeat(25), `${'0'.repeat(22)}zz`, '../../../etc/passwd', '{"$gt":""}']) {
        for (const call of [() => store.get(user, id), () => store.rename(user, id, 'n'), () => store.remove(user, id)]) {
          const error = await rejection(call());
          expect([error.code, error.path]).toEqual(['INVALID_ID', 'id']);
        }
      }
      for (const bad of ['..', '../other', 'a/../b', '', '$ne']) {
        expect((await rejection(store.list(bad))).code).toBe('INVALID_ID');
        expect((await rejection(store.get(bad, '0'.repeat(24)))).code).toBe('INVALID_ID');
      }
    });

    it('keeps model_id unique per user; records without one never collide', async () => {
      const user = freshUser();
      const first = await store.add(user, { params: {}, result: { model_id: 'uuid-1' } });
      const error = await rejection(store.add(user, { params: {}, result: { model_id: 'uuid-1' } }));
      expect([error.code, error.path]).toEqual(['HISTORY_UNAVAILABLE', 'result.model_id']);
      expect(error.message).toContain('uuid-1');
      await store.add(user, { params: {}, result: {} });
      await store.add(user, { params: {}, result: {} });
      await store.add(user, { params: {}, result: { model_id: null } });
      await store.add(user, { params: {}, result: { model_id: 'UUID-1' } });
      expect((await store.list(user)).items.length).toBe(5);
      expect(await store.get(user, first.id)).toEqual(first);
    });

    it('refuses an explicit id that exists', async () => {
      const user = freshUser();
      const first = await store.add(user, { params: {}, result: {} });
      const error = await rejection(store.add(user, { params: { again: true }, result: {}, id: first.id }));
      expect([error.code, error.path]).toEqual(['HISTORY_UNAVAILABLE', 'id']);
      expect(await store.get(user, first.id)).toEqual(first);
      const explicit = await store.add(user, { params: {}, result: {}, id: 'ABCDEF0123456789abcdef01', createdAt: new Date('2025-05-05T05:05:05.005Z') });
      expect(explicit.id).toBe('abcdef0123456789abcdef01');
      expect(explicit.created_at).toBe('2025-05-05T05:05:05.005Z');
    });

    it('takes concurrent adds without losing or duplicating any; one model id wins once', async () => {
      const user = freshUser();
      const added = await Promise.all(Array.from({ length: 20 }, (_, i) => store.add(user, { params: { i }, result: {} })));
      expect(new Set(added.map((r) => r.id)).size).toBe(20);
      const racing = await Promise.allSettled(Array.from({ length: 6 }, () => store.add(user, { params: {}, result: { model_id: 'raced' } })));
      expect(racing.filter((r) => r.status === 'fulfilled').length).toBe(1);
      const listed = await store.list(user, { limit: 100 });
      expect(listed.items.length).toBe(21);
      expect(new Set(listed.items.map((r) => r.id)).size).toBe(21);
    });
  });
}
