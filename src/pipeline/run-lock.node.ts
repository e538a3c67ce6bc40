/**
 * One process at a time in a run folder: `run.lock` names the process that holds it. Two processes resuming
 * the same folder would both write its checkpoints, bundle and `pipeline.json`; the second is refused. A lock
 * left by a process that died (SIGKILL, power loss) is taken over when its process is gone.
 */
import { randomUUID } from 'node:crypto';
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ReflectkitError } from '../errors.js';
import { ioError, removeStalePartials, temporaryPath } from '../io/atomic-file.node.js';

/** The lock file's name in a run folder. */
export const RUN_LOCK = 'run.lock';

interface LockContent {
  pid: number;
  host: string;
  since: string;
  token: string;
}

/** A held lock. */
export interface RunLock {
  /** Removes the lock (only while it is still this holder's). */
  release(): Promise<void>;
}

/** Whether process `pid` exists on this machine (EPERM: it exists, owned by someone else). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readLock(path: string): Promise<LockContent | null> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<LockContent>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string' || typeof parsed.token !== 'string') return null;
    return { pid: parsed.pid, host: parsed.host, since: String(parsed.since), token: parsed.token };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw error;
    return null;
  }
}

/**
 * Takes `run.lock` in `runDir` (which must exist). The lock's content is written to a temporary file and
 * hard-linked into place, so the lock appears whole or not at all; a lock whose process is gone from this
 * machine is replaced.
 *
 * @throws ReflectkitError `INVALID_OPTION` at `runDir` when a live process holds the folder (or a process on
 *   another machine, which cannot be checked), `IO_ERROR` when the lock cannot be written.
 */
export async function lockRunFolder(runDir: string): Promise<RunLock> {
  const path = join(runDir, RUN_LOCK);
  const content: LockContent = { pid: process.pid, host: hostname(), since: new Date().toISOString(), token: randomUUID() };
  const temporary = temporaryPath(path);
  try {
    await writeFile(temporary, `${JSON.stringify(content)}\n`);
  } catch (error) {
    throw ioError('write', path, error);
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(temporary, path);
        // the temporary lock files of killed processes (ours is removed below)
        await removeStalePartials(runDir, [RUN_LOCK]);
        return { release: () => releaseLock(path, content.token) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw ioError('lock', path, error);
      }
      let holder: LockContent | null;
      try {
        holder = await readLock(path);
      } catch {
        continue; // released in between: try again
      }
      const stale = holder === null || (holder.host === content.host && !processAlive(holder.pid));
      if (!stale) {
        throw new ReflectkitError('INVALID_OPTION', `${runDir} is in use by process ${holder!.pid} on ${holder!.host} (since ${holder!.since})`, {
          path: 'runDir',
          expected: `a run folder no other process is running (if that process is gone, remove ${path})`,
        });
      }
      await rm(path, { force: true });
    }
  } finally {
    await rm(temporary, { force: true }).catch(() => undefined);
  }
}

async function releaseLock(path: string, token: string): Promise<void> {
  const holder = await readLock(path).catch(() => null);
  if (holder?.token === token) await rm(path, { force: true }).catch(() => undefined);
}
