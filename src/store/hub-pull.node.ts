import type { ListFileEntry } from '@huggingface/hub';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ReflectkitError } from '../errors.js';
import { freshFolder, ioError } from '../io/atomic-file.node.js';
import { BUNDLE_CONFIG, checkTarget, parseManifest, publishFolder } from './hub-bundle.node.js';
import type { HubOperation } from './hub-client.js';
import { errorText, hubFailure, hubStatus, sanitizedCause } from './hub-errors.js';
import { backoffMs, sleep } from './hub-fetch.js';
import { writeStreamToFile, type FileDigest } from './hub-files.node.js';
import { isPlainFileName } from './hub-validate.js';

/** A file of a pulled bundle. */
export interface PulledFile {
  /** File name inside the bundle folder. */
  name: string;
  /** Size in bytes. */
  bytes: number;
  /** SHA-256, lowercase hex. */
  sha256: string;
}

/** What {@link HubStore.pullBundle} returns. */
export interface HubPullReport {
  /** The model id. */
  modelId: string;
  /** The local bundle folder, complete and verified. */
  dir: string;
  /** Every file written, sorted by name. */
  files: PulledFile[];
  /** Total size, bytes. */
  bytes: number;
}

/** Lists the files directly in a Hub folder; `NOT_FOUND` when the folder (or the repository) does not exist. */
export async function listFolder(op: HubOperation, folder: string): Promise<ListFileEntry[]> {
  const { call } = op;
  const entries: ListFileEntry[] = [];
  try {
    for await (const entry of op.client.listFiles({ ...call, path: folder, recursive: false })) entries.push(entry);
  } catch (error) {
    if (hubStatus(error) === 404 && !op.signal?.aborted) {
      throw new ReflectkitError('NOT_FOUND', `${folder} does not exist in ${call.repo.type} repository ${call.repo.name} (or the repository does not)`, { path: folder, cause: sanitizedCause(error, op.scrub) });
    }
    throw hubFailure('HUB_REQUEST', `listing ${folder} of ${call.repo.name}`, error, { scrub: op.scrub, signal: op.signal, path: folder });
  }
  return entries.filter((e) => e.type === 'file' && e.path.startsWith(`${folder}/`) && !e.path.slice(folder.length + 1).includes('/'));
}

/** True when a downloaded file matches the Hub's record of it (size, and the LFS SHA-256 or the git blob id). */
function matchesHub(digest: FileDigest, entry: ListFileEntry): boolean {
  if (digest.bytes !== entry.size) return false;
  if (entry.lfs) return digest.sha256 === entry.lfs.oid && entry.lfs.size === digest.bytes;
  return entry.oid === undefined || digest.gitSha1 === entry.oid;
}

/**
 * The operation's fetch, noting how its last request ended: `status` of a final non-2xx answer, or the
 * `error` it threw. Both come after the retrying fetch's own retries, so they are final for that request;
 * a failure it did not note happened later, while the body was read (cut short, stalled).
 */
function noting(fetch: typeof globalThis.fetch): { fetch: typeof globalThis.fetch; last: { status?: number; error?: unknown } } {
  const tracked = { fetch, last: {} as { status?: number; error?: unknown } };
  tracked.fetch = async (input, init) => {
    try {
      const response = await fetch(input, init);
      tracked.last = response.ok ? {} : { status: response.status };
      return response;
    } catch (error) {
      tracked.last = { error };
      throw error;
    }
  };
  return tracked;
}

/**
 * Downloads one file to `target`, checks it against the Hub's size and hash, and tries again (with backoff)
 * when the body is cut short, stalls or does not match, up to `op.retries` times. A request that fails
 * (an error status, no answer) is not tried again here: the retrying fetch has already tried it
 * `op.retries + 1` times, with its own backoff and log lines.
 *
 * @throws ReflectkitError `HUB_VERIFY` when the last try still does not match, `HUB_REQUEST` when it failed,
 * `NOT_FOUND` when the file vanished, `ABORTED` when the caller cancelled.
 */
export async function downloadVerified(op: HubOperation, entry: ListFileEntry, target: string): Promise<FileDigest> {
  const { scrub, signal } = op;
  const tracked = noting(op.call.fetch);
  const call = { ...op.call, fetch: tracked.fetch };
  let problem: { verify: string } | { error: unknown } = { verify: 'not tried' };
  for (let n = 0; n <= op.retries; n++) {
    if (n > 0) {
      const wait = backoffMs(n, op.retryDelayMs);
      const why = 'verify' in problem ? problem.verify : errorText(problem.error, scrub);
      op.log(`hub: download of ${entry.path} ${why}; retry ${n} of ${op.retries} in ${(wait / 1000).toFixed(2)} s`);
      try {
        await sleep(wait, [signal]);
      } catch (error) {
        throw hubFailure('HUB_REQUEST', `download of ${entry.path}`, error, { scrub, signal, path: entry.path });
      }
    }
    tracked.last = {};
    try {
      const blob = await op.client.downloadFile({ ...call, path: entry.path, xet: false });
      if (blob === null) throw new ReflectkitError('NOT_FOUND', `${entry.path} vanished from ${call.repo.name} while the bundle was downloaded`, { path: entry.path });
      const digest = await writeStreamToFile(blob.stream(), target, entry.size);
      if (matchesHub(digest, entry)) return digest;
      problem = { verify: `gave ${digest.bytes} bytes (sha256 ${digest.sha256.slice(0, 12)}…) where the Hub lists ${entry.size}${entry.lfs ? ` (sha256 ${entry.lfs.oid.slice(0, 12)}…)` : ''}` };
    } catch (error) {
      // The client turns a failed body request into a bare message; what the fetch noted says how it ended.
      const status = hubStatus(error) ?? tracked.last.status;
      const failed = tracked.last.error ?? (status !== undefined && hubStatus(error) === undefined ? Object.assign(new Error(errorText(error, scrub)), { statusCode: status }) : error);
      if (signal?.aborted || error instanceof ReflectkitError || status !== undefined || tracked.last.error !== undefined) {
        const retried = status !== undefined && (status >= 500 || status === 429) ? ` (answered ${status} ${op.retries + 1} times)` : '';
        throw hubFailure(status === 404 ? 'NOT_FOUND' : 'HUB_REQUEST', `download of ${entry.path}${retried}`, failed, { scrub, signal, path: entry.path, suffix: 'the bundle is not written' });
      }
      problem = { error };
    }
  }
  if ('verify' in problem) {
    throw new ReflectkitError('HUB_VERIFY', `download of ${entry.path} ${problem.verify}, after ${op.retries + 1} tries: the bundle is not written`, { path: entry.path, expected: `${entry.size} bytes` });
  }
  throw hubFailure('HUB_REQUEST', `download of ${entry.path} (the body was cut off ${op.retries + 1} times; the bundle is not written)`, problem.error, { scrub, signal, path: entry.path });
}

/**
 * Downloads `models/{modelId}/*` into `${dir}.partial`, checks each file against the Hub's record and every
 * file of the downloaded `config.json` manifest (size and SHA-256), and only then moves the folder to
 * `dir`. On any failure the staging folder is removed and `dir` is left as it was.
 */
export async function pullBundleFolder(op: HubOperation, modelId: string, dir: string, overwrite: boolean): Promise<HubPullReport> {
  await checkTarget(dir, overwrite);
  const folder = `models/${modelId}`;
  const entries = await listFolder(op, folder);
  if (!entries.some((e) => e.path === `${folder}/${BUNDLE_CONFIG}`)) {
    const names = entries.map((e) => e.path.slice(folder.length + 1));
    throw new ReflectkitError('NOT_FOUND', `${folder} in ${op.call.repo.name} holds no bundle (no config.json${names.length > 0 ? `; only ${names.join(', ')}` : ''})`, { path: folder });
  }
  // Every listed name becomes a file in the staging folder: only plain names (a malicious repository could list `..`, `.` or `a\\..\\x`).
  const unsafe = entries.find((e) => !isPlainFileName(e.path.slice(folder.length + 1)));
  if (unsafe !== undefined) {
    throw new ReflectkitError('HUB_VERIFY', `${folder} in ${op.call.repo.name} lists ${JSON.stringify(unsafe.path.slice(folder.length + 1, folder.length + 65))}, which is not a plain file name: the bundle is not written`, { path: unsafe.path, expected: 'plain file names (no "/", "\\", "..")' });
  }
  const staging = `${dir}.partial`;
  await freshFolder(staging);
  try {
    const digests = new Map<string, FileDigest>();
    for (const entry of entries) {
      const name = entry.path.slice(folder.length + 1);
      digests.set(name, await downloadVerified(op, entry, join(staging, name)));
    }
    let json: unknown;
    try {
      json = JSON.parse(await readFile(join(staging, BUNDLE_CONFIG), 'utf8'));
    } catch (error) {
      throw new ReflectkitError('HUB_VERIFY', `${folder}/${BUNDLE_CONFIG} is not JSON`, { path: `${folder}/${BUNDLE_CONFIG}`, cause: error });
    }
    const manifest = parseManifest(json, `${folder}/${BUNDLE_CONFIG}`, 'HUB_VERIFY');
    for (const expected of manifest.files) {
      const got = digests.get(expected.name);
      if (got === undefined) {
        throw new ReflectkitError('HUB_VERIFY', `${folder}/${expected.name} is listed in config.json but is not on the Hub: the Hub copy is incomplete`, { path: `${folder}/${expected.name}` });
      }
      if (got.bytes !== expected.bytes || got.sha256 !== expected.sha256) {
        throw new ReflectkitError('HUB_VERIFY', `${folder}/${expected.name} on the Hub (${got.bytes} bytes, sha256 ${got.sha256.slice(0, 12)}…) does not match config.json: the bundle is not written`, {
          path: `${folder}/${expected.name}`,
          expected: `${expected.bytes} bytes with sha256 ${expected.sha256.slice(0, 12)}…`,
        });
      }
    }
    op.signal?.throwIfAborted();
    await publishFolder(staging, dir, overwrite);
    const files = [...digests].map(([name, d]) => ({ name, bytes: d.bytes, sha256: d.sha256 })).sort((a, b) => a.name.localeCompare(b.name));
    return { modelId, dir, files, bytes: files.reduce((sum, f) => sum + f.bytes, 0) };
  } catch (error) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    throw hubFailure('HUB_REQUEST', `pull of ${folder}`, error, { scrub: op.scrub, signal: op.signal, path: folder });
  }
}
