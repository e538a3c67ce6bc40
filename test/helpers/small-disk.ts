/**
 * Real disk faults for test/reliability/disk-faults.test.ts: nothing is mocked, the kernel refuses the writes.
 *
 * - Disk full: {@link SmallDisk} mounts a tmpfs of a few MiB on a fresh folder, fills it with a ballast file
 *   (writes fail with ENOSPC), frees it and grows it. Mounting needs root or CAP_SYS_ADMIN; without them the
 *   tests fail with a message saying so. Decided against the fallback of a per-file size limit (`ulimit -f`,
 *   EFBIG): it is another fault (one file too large, not a disk with no room left for any file), so a full
 *   disk cannot be shown with it: space shared by the old and the new files, freed by deleting, a disk that
 *   holds one checkpoint but not two. The file-size limit is tested as a fault of its own ({@link runWriter}'s
 *   `fileSizeLimitKiB`).
 * - Permission denied: the writer runs in a child process as `nobody` (uid/gid 65534) when this process is root
 *   (root ignores file modes), or as this user against folders made read-only (chmod 0555) otherwise
 *   ({@link denyWrites}).
 * - The writer always runs in a child process ({@link runWriter}: `node --import tsx`, the sources as the
 *   other child-process tests run them), so a test also sees that the failure is reported once and that the
 *   process then exits by itself (no worker thread or handle left behind).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(import.meta.dirname, '..', '..');
const PAGE = 4096;
const NOBODY = 65534;
const BALLAST = '.ballast';

/** Whether this process runs as root (then it ignores file modes, and may mount). */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** A fresh scratch folder that other users may enter and read (mode 0755, unlike mkdtemp's 0700). */
export function scratchFolder(prefix = 'reflectkit-disk-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/** `bytes` rounded up to whole 4 KiB pages: what a file of that size takes on a tmpfs. */
export function pages(bytes: number): number {
  return Math.ceil(bytes / PAGE) * PAGE;
}

/** A small tmpfs: a real file system that runs out of space. */
export class SmallDisk {
  private constructor(
    /** Mount point; the tests write in folders under it. */
    readonly dir: string,
    private readonly scratch: string,
  ) {}

  /**
   * Mounts a tmpfs of `bytes` (whole pages) on a new folder.
   *
   * @throws Error saying what is missing when the mount is not permitted.
   */
  static mount(bytes: number): SmallDisk {
    const scratch = scratchFolder('reflectkit-small-disk-');
    const dir = join(scratch, 'disk');
    mkdirSync(dir);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${pages(bytes)},mode=0755`, 'tmpfs', dir], { encoding: 'utf8' });
    if (mounted.status !== 0) {
      rmSync(scratch, { recursive: true, force: true });
      throw new Error(
        `could not mount a ${bytes}-byte tmpfs on ${dir} (${(mounted.stderr || mounted.error?.message || `exit ${mounted.status}`).trim()}). ` +
          'The disk-full tests fill a real file system until the kernel answers ENOSPC: run them as root, or in a container with CAP_SYS_ADMIN (docker run --cap-add SYS_ADMIN).',
      );
    }
    return new SmallDisk(dir, scratch);
  }

  /** A path under the mount point. */
  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /** Bytes still free. */
  available(): number {
    const stats = statfsSync(this.dir);
    return stats.bavail * stats.bsize;
  }

  /** Fills the disk with a ballast file until only `leaveBytes` (whole pages) are free. */
  fill(leaveBytes = 0): void {
    const target = this.available() - pages(leaveBytes);
    if (target <= 0) throw new Error(`only ${this.available()} bytes are free, fewer than the ${leaveBytes} to leave`);
    const fd = openSync(this.path(BALLAST), 'a');
    const block = new Uint8Array(1 << 20).fill(0x5a);
    let written = 0;
    try {
      while (written < target) written += writeSync(fd, block, 0, Math.min(block.length, target - written));
    } finally {
      closeSync(fd);
    }
    if (this.available() !== pages(leaveBytes)) throw new Error(`${this.available()} bytes free after filling, not ${pages(leaveBytes)}`);
  }

  /** Deletes the ballast. */
  free(): void {
    rmSync(this.path(BALLAST), { force: true });
  }

  /** Grows (or shrinks) the file system to `bytes`, keeping its files. */
  resize(bytes: number): void {
    const remounted = spawnSync('mount', ['-o', `remount,size=${pages(bytes)}`, this.dir], { encoding: 'utf8' });
    if (remounted.status !== 0) throw new Error(`could not resize ${this.dir}: ${remounted.stderr}`);
  }

  /** Unmounts (lazily if something still holds it) and deletes the folder. */
  unmount(): void {
    if (spawnSync('umount', [this.dir]).status !== 0) spawnSync('umount', ['-l', this.dir]);
    rmSync(this.scratch, { recursive: true, force: true });
  }
}

/** Every file and folder under `dir`, as paths relative to it, sorted (the ballast left out). */
export function treeOf(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((p) => p !== BALLAST).sort();
}

/**
 * Makes `dirs` unwritable for the writer {@link runWriter} starts with `as: 'restricted'`: as root, the folders
 * keep root as owner with mode 0755 and the writer runs as nobody; otherwise they get mode 0555. Returns a
 * function that gives the folders back mode 0755.
 */
export function denyWrites(...dirs: string[]): () => void {
  for (const dir of dirs) chmodSync(dir, isRoot() ? 0o755 : 0o555);
  return () => {
    for (const dir of dirs) chmodSync(dir, 0o755);
  };
}

/** A ReflectkitError as the child process printed it. */
export interface ChildError {
  /** `ReflectkitError` (or another class for a bug). */
  name: string;
  /** The error code. */
  code?: string;
  /** The `path` detail. */
  path?: string;
  /** The full message. */
  message: string;
  /** The errno code of the cause (ENOSPC, EACCES…), when the cause was a file-system error. */
  errno?: string;
}

/** What a {@link runWriter} child did. */
export interface WriterOutcome {
  /** The job's return value (JSON), when it succeeded. */
  result?: unknown;
  /** The error it threw, when it failed. */
  error?: ChildError;
  /** Everything the child printed on stdout and stderr. */
  output: string;
  /** Exit status (0: it exited by itself after the job). */
  status: number | null;
}

const MARK = '@@writer@@';

/**
 * Runs `job` (the body of an async function, JavaScript) in a child process, with `input` (JSON) in scope
 * as `input` and `src(path)` to import a module of the repository (`src('src/nn/model-folder.node.ts')`).
 * `as: 'restricted'` runs it as nobody when this process is root (see {@link denyWrites});
 * `fileSizeLimitKiB` sets RLIMIT_FSIZE (`ulimit -f`). The child prints its outcome once, after the job, and
 * must then exit by itself (a child still running after two minutes is killed, and its status is not 0).
 */
export function runWriter(job: string, input: unknown, options: { as?: 'restricted'; fileSizeLimitKiB?: number } = {}): WriterOutcome {
  const nodeArgs = ['--import', 'tsx', '--input-type=module', '-e', childCode(job), JSON.stringify(input)];
  const restricted = options.as === 'restricted' && isRoot();
  const [command, args] =
    options.fileSizeLimitKiB === undefined
      ? [process.execPath, nodeArgs]
      : ['/bin/bash', ['-c', `ulimit -f ${options.fileSizeLimitKiB} && exec "$0" "$@"`, process.execPath, ...nodeArgs]];
  const child = spawnSync(command, args, {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 16 << 20,
    env: { ...process.env, ...(restricted ? { HOME: tmpdir() } : {}) },
    ...(restricted ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  const output = `${child.stdout ?? ''}${child.stderr ?? ''}`;
  const line = (child.stdout ?? '').split('\n').find((l) => l.startsWith(MARK));
  if (line === undefined) throw new Error(`the writer printed no outcome (status ${child.status}, signal ${child.signal}):\n${output}`);
  const outcome = JSON.parse(line.slice(MARK.length)) as { result?: unknown; error?: ChildError };
  return { ...outcome, output, status: child.status };
}

/** Starts `job` as {@link runWriter} does, without waiting: for a test that kills it (SIGKILL) midway. */
export function startWriter(job: string, input: unknown): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', childCode(job), JSON.stringify(input)], { cwd: ROOT, stdio: 'ignore' });
}

/** The child's script: the job between reading `input` and printing its outcome once. */
function childCode(job: string): string {
  return [
    `const src = (path) => import(new URL(path, ${JSON.stringify(pathToFileURL(`${ROOT}/`).href)}).href);`,
    'const input = JSON.parse(process.argv[1]);',
    'const print = (value) => process.stdout.write(`' + MARK + '${JSON.stringify(value)}\\n`);',
    'try {',
    `  const result = await (async () => {\n${job}\n})();`,
    '  print({ result: result ?? null });',
    '} catch (error) {',
    '  print({ error: { name: error?.name, code: error?.code, path: error?.path, message: String(error?.message ?? error), errno: error?.cause?.code } });',
    '}',
  ].join('\n');
}
