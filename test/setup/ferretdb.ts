/**
 * Global setup: FerretDB v1.24.2 (a MongoDB-wire server over SQLite) for the history-store tests, built once
 * from its Go module into .cache/ferretdb/bin/ferretdb and reused. Exports the binary's path as
 * REFLECTKIT_FERRETDB. If it cannot be built, the suite fails here, loudly: the MongoDB tests never skip.
 *
 * Why not `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`: that builds, but the binary panics
 * at start ("Invalid build/version/version.txt file content"): FerretDB's release builds generate
 * build/version/version.txt first (`task gen-version`), which a module download does not contain. So this
 * setup does what that task does: it downloads the module (`go mod download`), copies its source to
 * .cache/ferretdb/src, writes version.txt, and runs `go build ./cmd/ferretdb` there. Default build tags
 * (PostgreSQL and SQLite handlers, not a debug build); CGO_ENABLED=0 (modernc.org/sqlite is pure Go).
 * The Go module and build caches are kept in .cache/ferretdb/ (GOMODCACHE, GOCACHE; -modcacherw so that the
 * folder can be deleted), so the build touches nothing outside the checkout. First run: about 3 minutes on
 * 2 shared cores (module downloads and a cold compile); later runs: a version check (under a second).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const VERSION = 'v1.24.2';
const MODULE = 'github.com/FerretDB/FerretDB';
const ROOT = join(import.meta.dirname, '..', '..');
const CACHE = join(ROOT, '.cache', 'ferretdb');
const BINARY = join(CACHE, 'bin', 'ferretdb');

/** The `ferretdb --version` output when `binary` runs and is v1.24.2, else undefined. */
function versionOf(binary: string): string | undefined {
  if (!existsSync(binary)) return undefined;
  try {
    const out = execFileSync(binary, ['--version'], { stdio: 'pipe', timeout: 30_000 }).toString();
    return out.includes(`version: ${VERSION}`) ? out : undefined;
  } catch {
    return undefined;
  }
}

function goEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GOMODCACHE: join(CACHE, 'gomod'),
    GOCACHE: join(CACHE, 'gocache'),
    GOFLAGS: '-modcacherw -buildvcs=false',
    CGO_ENABLED: '0',
  };
}

function build(): void {
  const env = goEnv();
  const go = process.env.REFLECTKIT_GO ?? 'go';
  process.stderr.write(`test setup: building FerretDB ${VERSION} into ${BINARY} (first run only, about 3 minutes)…\n`);
  mkdirSync(join(CACHE, 'bin'), { recursive: true });
  const info = JSON.parse(execFileSync(go, ['mod', 'download', '-json', `${MODULE}@${VERSION}`], { env, stdio: ['ignore', 'pipe', 'inherit'], cwd: CACHE }).toString()) as { Dir?: string; Error?: string };
  if (info.Dir === undefined) throw new Error(`go mod download ${MODULE}@${VERSION}: ${info.Error ?? 'no folder'}`);
  const src = join(CACHE, 'src');
  if (!existsSync(join(src, 'build', 'version', 'version.txt'))) {
    const temporary = join(CACHE, `src-${process.pid}`);
    rmSync(temporary, { recursive: true, force: true });
    cpSync(info.Dir, temporary, { recursive: true });
    writeFileSync(join(temporary, 'build', 'version', 'version.txt'), `${VERSION}\n`);
    writeFileSync(join(temporary, 'build', 'version', 'package.txt'), 'reflectkit-tests\n');
    rmSync(src, { recursive: true, force: true });
    renameSync(temporary, src);
  }
  const output = join(CACHE, 'bin', `ferretdb-${process.pid}`);
  execFileSync(go, ['build', '-trimpath', '-o', output, './cmd/ferretdb'], { env, cwd: src, stdio: 'inherit' });
  renameSync(output, BINARY);
}

export default function setup(): void {
  const given = process.env.REFLECTKIT_FERRETDB;
  if (given !== undefined && given !== BINARY) {
    if (versionOf(given) === undefined) throw new Error(`REFLECTKIT_FERRETDB=${given} is not a runnable FerretDB ${VERSION} binary`);
    return;
  }
  if (versionOf(BINARY) === undefined) {
    try {
      build();
    } catch (error) {
      throw new Error(
        `FerretDB ${VERSION} could not be built (${(error as Error).message}). The history-store tests run against a real ` +
          'MongoDB-wire server and cannot run without it: install Go ≥ 1.24 (or set REFLECTKIT_GO to one) with access to the ' +
          `Go module proxy for ${MODULE}@${VERSION}, or set REFLECTKIT_FERRETDB to a FerretDB ${VERSION} binary.`,
      );
    }
    if (versionOf(BINARY) === undefined) throw new Error(`${BINARY} was built but does not run \`ferretdb --version\` as ${VERSION}`);
  }
  process.env.REFLECTKIT_FERRETDB = BINARY;
}
