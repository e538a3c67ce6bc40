import { openAsBlob } from 'node:fs';
import { rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ReflectkitError } from '../errors.js';
import { BUNDLE_CONFIG, readLocalBundle } from './hub-bundle.node.js';
import { loadHubClient, type HubCall, type HubOperation } from './hub-client.js';
import { hubFailure, hubStatus, makeScrubber, type Scrub } from './hub-errors.js';
import { createRetryingFetch } from './hub-fetch.js';
import { digestFile, type FileDigest } from './hub-files.node.js';
import { listFolder, pullBundleFolder, type HubPullReport } from './hub-pull.node.js';
import { checkFileName, checkInteger, checkModelId, checkRepoId } from './hub-validate.js';

import type { HubBundleSummary, HubFileSource, HubOptions, HubUploadOptions, HubUploadReport, HubUrls } from './hub-types.js';

export type { HubPullReport, PulledFile } from './hub-pull.node.js';
export type { HubBundleSummary, HubFileSource, HubOptions, HubUploadOptions, HubUploadedFile, HubUploadReport, HubUrls } from './hub-types.js';

/** The training data names pyreflect uploads right after generation. */
const TRAINING_NAMES = { nr: 'nr_train.npy', sld: 'sld_train.npy' } as const;

/** The environment, when there is one (Node). */
function env(name: string): string | undefined {
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
  return value === '' ? undefined : value;
}

/**
 * Model bundles and training data in a Hugging Face Hub repository, under `models/{modelId}/` (pyreflect's
 * layout), through the official `@huggingface/hub` client with retries, verification and token hygiene.
 *
 * Every upload is one commit, then each file is checked against the Hub's metadata (size, and the LFS
 * SHA-256 or the git blob id); local files are deleted only after that, and only when asked. Downloads go to
 * a staging folder and are checked against the bundle's manifest before they are moved into place.
 *
 * @example
 * ```ts
 * const hub = new HubStore({ repo: 'me/reflectometry-models' }); // token from HF_TOKEN
 * await hub.uploadTrainingData(modelId, { nr: 'data/nr_train.npy', sld: 'data/sld_train.npy' });
 * const report = await hub.pushBundle('runs/1/model');
 * await hub.pullBundle(report.modelId, 'models/fetched');
 * ```
 */
export class HubStore {
  /** `owner/name`. */
  readonly repo: string;
  /** `dataset` or `model`. */
  readonly repoType: 'dataset' | 'model';
  /** Visibility of a repository this store creates. */
  readonly visibility: 'private' | 'public';
  /** Base URL of the Hub, no trailing slash. */
  readonly hubUrl: string;
  /** Retries per request. */
  readonly retries: number;
  /** Base backoff, ms. */
  readonly retryDelayMs: number;
  /** Per-request timeout, ms. */
  readonly timeoutMs: number;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #onLog: ((message: string) => void) | undefined;
  readonly #scrub: Scrub;
  #repoReady: Promise<{ created: boolean }> | undefined;

  /**
   * Checks the options (nothing is sent yet).
   *
   * @throws ReflectkitError `INVALID_ID` for a malformed `repo`; `INVALID_OPTION` for a bad type, URL or number.
   */
  constructor(options: HubOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ReflectkitError('INVALID_OPTION', 'Hub options must be an object', { path: '', expected: '{ repo: "owner/name", … }' });
    }
    this.repo = checkRepoId(options.repo);
    const repoType = options.repoType ?? 'dataset';
    if (repoType !== 'dataset' && repoType !== 'model') {
      throw new ReflectkitError('INVALID_OPTION', `repoType ${JSON.stringify(String(repoType))}`, { path: 'repoType', expected: '"dataset" or "model"' });
    }
    this.repoType = repoType;
    this.visibility = options.private === false ? 'public' : 'private';
    const hubUrl = options.hubUrl ?? env('HF_ENDPOINT') ?? 'https://huggingface.co';
    let parsed: URL | undefined;
    try {
      parsed = new URL(hubUrl);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.search !== '' || parsed.username !== '' || parsed.password !== '') {
      throw new ReflectkitError('INVALID_OPTION', 'hubUrl is not an http(s) URL without query or credentials', { path: 'hubUrl', expected: 'e.g. https://huggingface.co' });
    }
    this.hubUrl = hubUrl.replace(/\/+$/, '');
    this.retries = checkInteger(options.retries ?? 4, 'retries', 0, 20);
    this.retryDelayMs = checkInteger(options.retryDelayMs ?? 500, 'retryDelayMs', 0, 600_000);
    this.timeoutMs = checkInteger(options.timeoutMs ?? 120_000, 'timeoutMs', 1, 3_600_000);
    const token = options.token ?? env('HF_TOKEN');
    this.#token = token === '' ? undefined : token;
    const base = options.fetch;
    this.#fetch = base ?? ((input, init) => fetch(input, init));
    this.#onLog = options.onLog;
    this.#scrub = makeScrubber(this.#token);
  }

  /** Web page and download links of `models/{modelId}/` (default files: pyreflect's `{modelId}.pth`, `nr_train.npy`, `sld_train.npy`). No request is made; no token is in them. */
  urls(modelId: string, names: readonly string[] = [`${modelId}.pth`, TRAINING_NAMES.nr, TRAINING_NAMES.sld]): HubUrls {
    checkModelId(modelId);
    const base = this.repoType === 'dataset' ? `${this.hubUrl}/datasets/${this.repo}` : `${this.hubUrl}/${this.repo}`;
    const files: Record<string, string> = {};
    names.forEach((name, i) => {
      files[checkFileName(name, `names[${i}]`)] = `${base}/resolve/main/models/${modelId}/${name}`;
    });
    return { browse: `${base}/tree/main/models/${modelId}`, files };
  }

  /**
   * Creates the repository if it does not exist: private unless the store was made with `private: false`.
   *
   * @throws ReflectkitError `HUB_REQUEST` without a token, or when the Hub refuses; `ABORTED`.
   */
  async ensureRepo(options: { signal?: AbortSignal } = {}): Promise<{
    /** True when this call created it; false when it existed already. */
    created: boolean;
  }> {
    const token = this.#requireToken();
    const op = await this.#operation(options.signal);
    const { call } = op;
    try {
      if (await op.client.repoExists(call)) return { created: false };
      await op.client.createRepo({ ...call, accessToken: token, visibility: this.visibility });
    } catch (error) {
      if (hubStatus(error) === 409) return { created: false };
      throw hubFailure('HUB_REQUEST', `creating ${this.repoType} repository ${this.repo}`, error, { scrub: this.#scrub, signal: options.signal, path: 'repo' });
    }
    this.#log(`hub: created ${this.visibility} ${this.repoType} repository ${this.repo}`);
    return { created: true };
  }

  /**
   * Uploads local files to `models/{modelId}/{name}` in one commit, verifies every file on the Hub, then
   * (with `removeLocal`) deletes the local copies. The repository is created first if missing (once per store).
   *
   * @throws ReflectkitError `INVALID_ID` for a bad model id or file name; `INVALID_OPTION` for an empty or
   * duplicated list; `IO_ERROR` for an unreadable local file; `HUB_REQUEST` when the upload fails and
   * `HUB_VERIFY` when a Hub copy differs (both keep every local file, as the message says); `ABORTED`.
   */
  async uploadFiles(modelId: string, files: readonly HubFileSource[], options: HubUploadOptions = {}): Promise<HubUploadReport> {
    checkModelId(modelId);
    if (!Array.isArray(files) || files.length === 0) {
      throw new ReflectkitError('INVALID_OPTION', 'nothing to upload', { path: 'files', expected: 'at least one { name, path }' });
    }
    const seen = new Set<string>();
    files.forEach((file, i) => {
      const name = checkFileName(file?.name, `files[${i}].name`);
      if (typeof file.path !== 'string' || file.path === '') {
        throw new ReflectkitError('INVALID_OPTION', `files[${i}].path is not a path`, { path: `files[${i}].path`, expected: 'a local file path' });
      }
      if (seen.has(name)) throw new ReflectkitError('INVALID_OPTION', `${name} is listed twice`, { path: `files[${i}].name`, expected: 'distinct names' });
      seen.add(name);
    });
    return this.#upload(modelId, files, options, new Map());
  }

  /** Uploads pyreflect's training data, `nr_train.npy` and `sld_train.npy`, to `models/{modelId}/` (right after generation, before training). See {@link uploadFiles}. */
  uploadTrainingData(modelId: string, data: { nr: string; sld: string }, options: HubUploadOptions = {}): Promise<HubUploadReport> {
    return this.uploadFiles(
      modelId,
      [
        { name: TRAINING_NAMES.nr, path: data?.nr },
        { name: TRAINING_NAMES.sld, path: data?.sld },
      ],
      options,
    );
  }

  /**
   * Uploads a bundle folder (as `saveBundle` writes it): every file of `config.json`'s `files` manifest plus
   * `config.json`, to `models/{modelId}/`, after checking each file against its recorded size and SHA-256 so
   * that a damaged bundle is never uploaded. The model id is `options.modelId`, else `config.modelId`.
   * With `removeLocal`, the uploaded files are deleted after verification, and the folder too if that left it empty.
   *
   * @throws ReflectkitError `IO_ERROR` without a readable `config.json`; `CHECKPOINT_INVALID` for a damaged
   * bundle; `INVALID_ID` without a usable model id; then as {@link uploadFiles}.
   */
  async pushBundle(dir: string, options: HubUploadOptions & { modelId?: string } = {}): Promise<HubUploadReport> {
    const { manifest, digests } = await readLocalBundle(dir);
    const modelId = options.modelId ?? manifest.modelId;
    if (modelId === undefined) {
      throw new ReflectkitError('INVALID_ID', `${join(dir, BUNDLE_CONFIG)} has no modelId: pass options.modelId`, { path: 'modelId', expected: 'a model id' });
    }
    checkModelId(modelId);
    const files = [...manifest.files.map((f) => ({ name: f.name, path: join(dir, f.name) })), { name: BUNDLE_CONFIG, path: join(dir, BUNDLE_CONFIG) }];
    const report = await this.#upload(modelId, files, options, digests);
    if (options.removeLocal === true) await rmdir(dir).catch(() => undefined);
    return report;
  }

  /**
   * Downloads the bundle `models/{modelId}/` into `dir`: through the staging folder `${dir}.partial`, each
   * file checked against the Hub's record (a cut-short or failed transfer is retried) and against the
   * downloaded `config.json` manifest; only a complete, matching bundle is moved to `dir`.
   *
   * @throws ReflectkitError `NOT_FOUND` when the folder, its `config.json` or the repository is missing;
   * `IO_ERROR` for a non-empty `dir` without `overwrite`; `HUB_VERIFY` for a file that does not match;
   * `HUB_REQUEST` when the Hub fails after retries; `ABORTED`.
   */
  async pullBundle(modelId: string, dir: string, options: { overwrite?: boolean; signal?: AbortSignal } = {}): Promise<HubPullReport> {
    checkModelId(modelId);
    if (typeof dir !== 'string' || dir === '') throw new ReflectkitError('INVALID_OPTION', 'no target folder', { path: 'dir', expected: 'a folder path' });
    return pullBundleFolder(await this.#operation(options.signal), modelId, dir, options.overwrite === true);
  }

  /**
   * The `models/*\/` folders of the repository with their files and sizes, sorted by model id (empty when
   * there is no `models/` folder yet).
   *
   * @throws ReflectkitError `NOT_FOUND` when the repository does not exist (or the token cannot see it);
   * `HUB_REQUEST`; `ABORTED`.
   */
  async listBundles(options: { signal?: AbortSignal } = {}): Promise<HubBundleSummary[]> {
    const op = await this.#operation(options.signal);
    const entries: Array<{ path: string; size: number; type: string }> = [];
    try {
      for await (const entry of op.client.listFiles({ ...op.call, path: 'models', recursive: true })) entries.push(entry);
    } catch (error) {
      if (hubStatus(error) !== 404 || options.signal?.aborted) {
        throw hubFailure('HUB_REQUEST', `listing models/ of ${this.repo}`, error, { scrub: this.#scrub, signal: options.signal, path: 'models' });
      }
      let exists: boolean;
      try {
        exists = await op.client.repoExists(op.call);
      } catch (inner) {
        throw hubFailure('HUB_REQUEST', `looking up ${this.repo}`, inner, { scrub: this.#scrub, signal: options.signal, path: 'repo' });
      }
      if (!exists) throw new ReflectkitError('NOT_FOUND', `${this.repoType} repository ${this.repo} does not exist (or the token cannot see it)`, { path: 'repo' });
      return [];
    }
    const bundles = new Map<string, HubBundleSummary>();
    for (const entry of entries) {
      const match = /^models\/([^/]+)\/([^/]+)$/.exec(entry.path);
      if (entry.type !== 'file' || match === null) continue;
      const [, modelId, name] = match as unknown as [string, string, string];
      const bundle = bundles.get(modelId) ?? { modelId, files: [], bytes: 0, hasConfig: false };
      bundle.files.push({ name, bytes: entry.size });
      bundle.bytes += entry.size;
      bundle.hasConfig ||= name === BUNDLE_CONFIG;
      bundles.set(modelId, bundle);
    }
    for (const bundle of bundles.values()) bundle.files.sort((a, b) => a.name.localeCompare(b.name));
    return [...bundles.values()].sort((a, b) => a.modelId.localeCompare(b.modelId));
  }

  /** Whether `models/{modelId}/` exists with at least one file. */
  async hasBundle(modelId: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    checkModelId(modelId);
    try {
      return (await listFolder(await this.#operation(options.signal), `models/${modelId}`)).length > 0;
    } catch (error) {
      if (error instanceof ReflectkitError && error.code === 'NOT_FOUND') return false;
      throw error;
    }
  }

  /** Uploads in one commit, verifies, then removes local files if asked. `known` holds digests already computed. */
  async #upload(modelId: string, files: readonly HubFileSource[], options: HubUploadOptions, known: Map<string, FileDigest>): Promise<HubUploadReport> {
    const { signal } = options;
    if (signal?.aborted) throw new ReflectkitError('ABORTED', 'the upload was cancelled before it started; the local files are kept', { path: 'signal' });
    const token = this.#requireToken();
    const digests: FileDigest[] = [];
    for (const file of files) digests.push(known.get(file.name) ?? (await digestFile(file.path)));
    const kept = `the local files are kept: ${files.map((f) => f.path).join(', ')}`;
    const folder = `models/${modelId}`;
    const paths = files.map((f) => `${folder}/${f.name}`);
    this.#repoReady ??= this.ensureRepo({ signal }).catch((error: unknown) => {
      this.#repoReady = undefined;
      throw error;
    });
    try {
      await this.#repoReady;
    } catch (error) {
      throw hubFailure('HUB_REQUEST', `preparing repository ${this.repo}`, error, { scrub: this.#scrub, signal, suffix: kept, path: 'repo' });
    }
    const op = await this.#operation(signal);
    let commit: HubUploadReport['commit'] = null;
    try {
      const contents = await Promise.all(files.map((f) => openAsBlob(f.path)));
      const output = await op.client.uploadFiles({
        ...op.call,
        accessToken: token,
        files: contents.map((content, i) => ({ path: paths[i]!, content })),
        commitTitle: `Upload ${files.map((f) => f.name).join(', ')} to ${folder}`,
        useXet: false,
        abortSignal: signal,
      });
      if (output?.commit) commit = { oid: output.commit.oid, url: output.commit.url };
    } catch (error) {
      throw hubFailure('HUB_REQUEST', `upload of ${files.length} file(s) to ${this.repo}/${folder}`, error, { scrub: this.#scrub, signal, suffix: kept, path: folder });
    }
    this.#log(`hub: committed ${files.length} file(s) to ${this.repo}/${folder}${commit ? ` (${commit.oid.slice(0, 12)})` : ''}; verifying`);
    const lfs = await this.#verify(op, paths, digests, signal, kept);
    const removedLocal: string[] = [];
    if (options.removeLocal === true) {
      for (const file of files) {
        try {
          await rm(file.path);
          removedLocal.push(file.path);
        } catch (error) {
          this.#log(`hub: could not remove ${file.path} after a verified upload: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
        }
      }
      if (removedLocal.length > 0) this.#log(`hub: removed ${removedLocal.length} verified local file(s)`);
    }
    const urls = this.urls(modelId, files.map((f) => f.name));
    return {
      repo: this.repo,
      repoType: this.repoType,
      modelId,
      commit,
      browseUrl: urls.browse,
      files: files.map((f, i) => ({ name: f.name, pathInRepo: paths[i]!, localPath: f.path, bytes: digests[i]!.bytes, sha256: digests[i]!.sha256, lfs: lfs[i]!, url: urls.files[f.name]! })),
      verified: true,
      removedLocal,
    };
  }

  /** Checks each uploaded path against the Hub's metadata; returns which are LFS. `HUB_VERIFY` on any difference. */
  async #verify(op: HubOperation, paths: string[], digests: FileDigest[], signal: AbortSignal | undefined, kept: string): Promise<boolean[]> {
    let infos: Array<{ path: string; size: number; oid?: string; lfs?: { oid: string; size: number } }>;
    try {
      infos = await op.client.pathsInfo({ ...op.call, paths });
    } catch (error) {
      throw hubFailure('HUB_REQUEST', `verification of the upload to ${this.repo}`, error, { scrub: this.#scrub, signal, suffix: kept, path: paths[0] ?? '' });
    }
    const problems: string[] = [];
    const lfs = paths.map((path, i) => {
      const info = infos.find((p) => p.path === path);
      const local = digests[i]!;
      if (info === undefined) {
        problems.push(`${path} is missing`);
        return false;
      }
      if (info.lfs) {
        if (info.lfs.oid !== local.sha256 || info.lfs.size !== local.bytes || info.size !== local.bytes) {
          problems.push(`${path} is ${info.size} bytes with sha256 ${info.lfs.oid.slice(0, 12)}… (local: ${local.bytes} bytes, ${local.sha256.slice(0, 12)}…)`);
        }
        return true;
      }
      if (info.oid !== local.gitSha1 || info.size !== local.bytes) {
        problems.push(`${path} is ${info.size} bytes with git blob ${String(info.oid).slice(0, 12)}… (local: ${local.bytes} bytes, ${local.gitSha1.slice(0, 12)}…)`);
      }
      return false;
    });
    if (problems.length > 0) {
      throw new ReflectkitError('HUB_VERIFY', `the Hub copy does not match after the upload to ${this.repo}: ${problems.join('; ')}; ${kept}`, { path: paths[0] ?? '' });
    }
    return lfs;
  }

  /** The token, or `HUB_REQUEST` saying how to give one. */
  #requireToken(): string {
    if (this.#token === undefined) {
      throw new ReflectkitError('HUB_REQUEST', `no Hugging Face token to write to ${this.repo}: pass token or set HF_TOKEN`, { path: 'token', expected: 'an access token with write access (hf_…)' });
    }
    if (!this.#token.startsWith('hf_')) {
      throw new ReflectkitError('HUB_REQUEST', 'the token does not look like a Hugging Face access token', { path: 'token', expected: 'a token starting with hf_' });
    }
    return this.#token;
  }

  /** One operation's client parameters, with a retrying fetch bound to `signal` (anonymous without a token; a malformed token is refused). */
  async #operation(signal: AbortSignal | undefined): Promise<HubOperation> {
    const token = this.#token === undefined ? undefined : this.#requireToken();
    const call: HubCall = {
      repo: { type: this.repoType, name: this.repo },
      hubUrl: this.hubUrl,
      accessToken: token,
      fetch: createRetryingFetch(this.#fetch, {
        retries: this.retries,
        retryDelayMs: this.retryDelayMs,
        timeoutMs: this.timeoutMs,
        signal,
        onRetry: (message) => this.#log(message),
        scrub: this.#scrub,
      }),
    };
    return {
      call,
      client: await loadHubClient(),
      scrub: this.#scrub,
      signal,
      retries: this.retries,
      retryDelayMs: this.retryDelayMs,
      log: (message) => this.#log(message),
    };
  }

  #log(message: string): void {
    this.#onLog?.(this.#scrub(message));
  }
}
