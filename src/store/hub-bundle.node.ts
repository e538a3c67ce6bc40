import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ReflectkitError, type ReflectkitErrorCode } from '../errors.js';
import { ioError } from '../io/atomic-file.node.js';
import { digestFile, type FileDigest } from './hub-files.node.js';
import { checkFileName } from './hub-validate.js';

/** The name of a bundle's config inside its folder (locally and on the Hub). */
export const BUNDLE_CONFIG = 'config.json';

/** One file of a bundle's manifest (`config.json` → `files`). */
export interface ManifestEntry {
  /** Plain file name inside the bundle folder. */
  name: string;
  /** Size in bytes. */
  bytes: number;
  /** SHA-256, lowercase hex. */
  sha256: string;
}

/** What a bundle's `config.json` tells the Hub store: the model id, if any, and the file manifest. */
export interface BundleManifest {
  /** `config.modelId`, when it is a string. */
  modelId: string | undefined;
  /** Every file of `config.files`. */
  files: ManifestEntry[];
}

/**
 * Reads the model id and the `files` manifest of a parsed `config.json`. `code` is the error code for a
 * malformed one (`CHECKPOINT_INVALID` for a local bundle, `HUB_VERIFY` for a downloaded one).
 */
export function parseManifest(json: unknown, where: string, code: ReflectkitErrorCode): BundleManifest {
  const bad = (message: string, expected: string) => new ReflectkitError(code, `${where}: ${message}`, { path: where, expected });
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('not a JSON object', 'a reflectkit model config');
  const { modelId, files } = json as { modelId?: unknown; files?: unknown };
  if (typeof files !== 'object' || files === null || Array.isArray(files)) {
    throw bad('has no "files" manifest', 'a "files" object {name: {bytes, sha256}} (saved by reflectkit ≥ 0.1 saveBundle)');
  }
  const entries: ManifestEntry[] = [];
  for (const [name, value] of Object.entries(files)) {
    try {
      checkFileName(name, `files.${name}`);
    } catch {
      throw bad(`lists a file outside the folder: ${JSON.stringify(name.slice(0, 64))}`, 'plain file names');
    }
    if (name === BUNDLE_CONFIG) throw bad('lists config.json in its own manifest', 'the other files of the bundle');
    const { bytes, sha256 } = (value ?? {}) as { bytes?: unknown; sha256?: unknown };
    if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0 || typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) {
      throw bad(`manifest entry ${name} is malformed`, '{bytes: integer ≥ 0, sha256: 64 hex digits}');
    }
    entries.push({ name, bytes, sha256 });
  }
  return { modelId: typeof modelId === 'string' ? modelId : undefined, files: entries };
}

/**
 * Reads `dir/config.json` and checks every file of its manifest against the recorded size and SHA-256,
 * so a damaged bundle is never uploaded. Returns the manifest and the digest of every file (config.json
 * included), computed once.
 *
 * @throws ReflectkitError `IO_ERROR` when `config.json` cannot be read; `CHECKPOINT_INVALID` when it is not a
 * bundle config or a listed file is missing or differs from its record.
 */
export async function readLocalBundle(dir: string): Promise<{ manifest: BundleManifest; digests: Map<string, FileDigest> }> {
  const configPath = join(dir, BUNDLE_CONFIG);
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch (error) {
    throw ioError('read', configPath, error);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ReflectkitError('CHECKPOINT_INVALID', `${configPath} is not JSON`, { path: configPath, expected: 'a reflectkit model config', cause: error });
  }
  const manifest = parseManifest(json, configPath, 'CHECKPOINT_INVALID');
  const digests = new Map<string, FileDigest>();
  for (const entry of manifest.files) {
    const path = join(dir, entry.name);
    let digest: FileDigest;
    try {
      digest = await digestFile(path);
    } catch (error) {
      throw new ReflectkitError('CHECKPOINT_INVALID', `${path} is listed in config.json but missing or unreadable: the bundle is not uploaded`, { path, expected: 'every file of the manifest', cause: error });
    }
    if (digest.bytes !== entry.bytes || digest.sha256 !== entry.sha256) {
      throw new ReflectkitError('CHECKPOINT_INVALID', `${path} does not match config.json (${digest.bytes} bytes, sha256 ${digest.sha256.slice(0, 12)}…): the bundle is damaged and is not uploaded`, {
        path,
        expected: `${entry.bytes} bytes with sha256 ${entry.sha256.slice(0, 12)}…`,
      });
    }
    digests.set(entry.name, digest);
  }
  digests.set(BUNDLE_CONFIG, await digestFile(configPath));
  return { manifest, digests };
}

/** The entries of a folder, or undefined when it does not exist. */
async function entriesOf(dir: string): Promise<string[] | undefined> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError('read', dir, error);
  }
}

/** Refuses a non-empty existing `dir` unless `overwrite`; `IO_ERROR`. */
export async function checkTarget(dir: string, overwrite: boolean): Promise<void> {
  const entries = await entriesOf(dir);
  if (entries !== undefined && entries.length > 0 && !overwrite) {
    throw new ReflectkitError('IO_ERROR', `${dir} exists and is not empty: pass overwrite: true to replace it`, { path: dir, expected: 'a missing or empty folder' });
  }
}

/**
 * Moves a complete staging folder into `dir`. An existing `dir` (empty, or any with `overwrite`) is first
 * moved aside and removed only after the new folder is in place, so a failure leaves the old one.
 */
export async function publishFolder(staging: string, dir: string, overwrite: boolean): Promise<void> {
  await checkTarget(dir, overwrite);
  const existing = await entriesOf(dir);
  try {
    if (existing === undefined) {
      await mkdir(dirname(dir), { recursive: true });
      await rename(staging, dir);
      return;
    }
    const aside = `${dir}.old-${randomBytes(4).toString('hex')}`;
    await rename(dir, aside);
    try {
      await rename(staging, dir);
    } catch (error) {
      await rename(aside, dir).catch(() => undefined);
      throw error;
    }
    await rm(aside, { recursive: true, force: true });
  } catch (error) {
    throw ioError('move the downloaded bundle into', dir, error);
  }
}
