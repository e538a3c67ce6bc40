import { InvalidArgumentError, Option, type Command } from 'commander';
import { ReflectkitError } from '../errors.js';
import { defaultHistoryDir } from '../pipeline/stores.node.js';
import type { HistoryRecord, HistoryStore } from '../store/history.js';
import { ResilientHistoryStore, openHistoryStore } from '../store/history-sync.node.js';
import { EXIT } from './io.js';

/** Options every `reflectkit history` command takes. */
export interface HistoryFlags {
  /** The user whose history is shown (default `REFLECTKIT_USER`, else `local`). */
  user?: string;
  /** The embedded store's folder (default `REFLECTKIT_HISTORY_DIR`, else `~/.reflectkit/history`). */
  dir?: string;
  /** MongoDB connection string (default `REFLECTKIT_MONGODB_URI`; none: the embedded store alone). */
  mongodb?: string;
  /** MongoDB database (default `PyReflect`). */
  database?: string;
  /** MongoDB collection (default `generations`). */
  collection?: string;
  /** One JSON line on stdout instead of text. */
  json?: boolean;
}

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return n;
  };
}

function userOf(flags: HistoryFlags): string {
  return flags.user ?? process.env.REFLECTKIT_USER ?? 'local';
}

/** Opens the store the flags name; warnings (MongoDB unreachable) go to stderr. */
function openStore(flags: HistoryFlags): HistoryStore {
  const warn = (message: string): void => {
    process.stderr.write(flags.json ? `${JSON.stringify({ warning: message })}\n` : `reflectkit: warning: ${message}\n`);
  };
  return openHistoryStore({
    dir: flags.dir ?? defaultHistoryDir(),
    ...(flags.mongodb === undefined ? {} : { mongoUri: flags.mongodb }),
    ...(flags.database === undefined ? {} : { database: flags.database }),
    ...(flags.collection === undefined ? {} : { collection: flags.collection }),
    onWarning: warn,
  });
}

/** Runs `use` on the flags' store and closes it. */
async function withStore<T>(flags: HistoryFlags, use: (store: HistoryStore) => Promise<T>): Promise<T> {
  const store = openStore(flags);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

function print(flags: HistoryFlags, json: unknown, text: string): void {
  process.stdout.write(flags.json ? `${JSON.stringify(json)}\n` : `${text}\n`);
}

/** A fixed-width column (cut with `…`). */
function column(value: string, width: number): string {
  const chars = [...value];
  return chars.length > width ? `${chars.slice(0, width - 1).join('')}…` : value.padEnd(width + value.length - chars.length);
}

function listLine(record: HistoryRecord): string {
  const created = record.created_at.replace('T', ' ').slice(0, 19);
  const model = typeof record.result.model_id === 'string' ? record.result.model_id : '-';
  return `${record.id}  ${created}  ${column(record.name ?? '-', 32)}  ${model}`;
}

/** Adds the options every history command takes. */
function storeOptions(command: Command): Command {
  return command
    .option('--user <id>', 'whose history: letters, digits, ".", "_", "@", "-" (default: $REFLECTKIT_USER, else "local")')
    .option('--dir <folder>', 'the embedded history folder (default: $REFLECTKIT_HISTORY_DIR, else ~/.reflectkit/history)')
    .option('--mongodb <uri>', "MongoDB connection string, the web interface's database (default: $REFLECTKIT_MONGODB_URI; none: the embedded store alone)")
    .option('--database <name>', 'MongoDB database (default: PyReflect)')
    .option('--collection <name>', 'MongoDB collection (default: generations)')
    .option('--json', 'print one JSON line instead of text');
}

/**
 * Adds `reflectkit history list|show|rename|rm|sync`: the run history of a user, in the embedded store or in
 * MongoDB (with the embedded store as its fallback), like the web interface's history panel.
 */
export function registerHistoryCommands(program: Command): Command {
  const history = program
    .command('history')
    .description('the run history (embedded folder, or MongoDB as the web interface keeps it): list, show, rename, rm, sync')
    .addHelpText(
      'after',
      '\nRecords live in ~/.reflectkit/history (or --dir), or in MongoDB (PyReflect.generations) when --mongodb or\n' +
        'REFLECTKIT_MONGODB_URI is set; records that could not reach MongoDB wait in the folder until `history sync`.\n\n' +
        'Examples:\n  reflectkit history list\n  reflectkit history list --user alice --limit 20 --json\n' +
        '  reflectkit history show 6750f1c2a1b2c3d4e5f60718\n  reflectkit history rename 6750f1c2a1b2c3d4e5f60718 "Si/SiOx/Ni, 20 epochs"\n' +
        '  reflectkit history rm 6750f1c2a1b2c3d4e5f60718\n  reflectkit history sync --mongodb mongodb://localhost:27017/',
    );

  storeOptions(history.command('list'))
    .description('list runs, newest first (without the curves; see show)')
    .addOption(new Option('--limit <n>', 'records per page, 1 to 500 (default 50)').argParser(integer('--limit', 1, 500)))
    .option('--cursor <cursor>', 'the next-page cursor printed by the previous list')
    .addHelpText('after', '\nExamples:\n  reflectkit history list\n  reflectkit history list --limit 10 --cursor 001764757200000_6750f1c2a1b2c3d4e5f60718\n  reflectkit history list --json')
    .action(async (flags: HistoryFlags & { limit?: number; cursor?: string }) => {
      const user = userOf(flags);
      const page = await withStore(flags, (store) => store.list(user, { ...(flags.limit === undefined ? {} : { limit: flags.limit }), ...(flags.cursor === undefined ? {} : { cursor: flags.cursor }) }));
      const lines = page.items.length === 0 ? [`no history records for user ${user}`] : [`${'ID'.padEnd(24)}  ${'CREATED (UTC)'.padEnd(19)}  ${'NAME'.padEnd(32)}  MODEL ID`, ...page.items.map(listLine)];
      if (page.offline) lines.unshift('MongoDB cannot be reached: showing only the records of the embedded store');
      if (page.nextCursor !== undefined) lines.push(`more: reflectkit history list --cursor ${page.nextCursor}`);
      print(flags, { user, items: page.items, ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }), ...(page.offline ? { offline: true } : {}) }, lines.join('\n'));
      process.exitCode = EXIT.ok;
    });

  storeOptions(history.command('show'))
    .description('print one run in full (params and result, curves included) as JSON')
    .argument('<id>', 'the record id (24 hex digits, from list)')
    .addHelpText('after', '\nExample:\n  reflectkit history show 6750f1c2a1b2c3d4e5f60718 > run.json')
    .action(async (id: string, flags: HistoryFlags) => {
      const record = await withStore(flags, (store) => store.get(userOf(flags), id));
      process.stdout.write(flags.json ? `${JSON.stringify(record)}\n` : `${JSON.stringify(record, null, 2)}\n`);
      process.exitCode = EXIT.ok;
    });

  storeOptions(history.command('rename'))
    .description('rename a run (trimmed, at most 80 characters; no name or "" clears it)')
    .argument('<id>', 'the record id')
    .argument('[name]', 'the new name')
    .addHelpText('after', '\nExamples:\n  reflectkit history rename 6750f1c2a1b2c3d4e5f60718 "Ni on Si, 5000 curves"\n  reflectkit history rename 6750f1c2a1b2c3d4e5f60718      # clears the name')
    .action(async (id: string, name: string | undefined, flags: HistoryFlags) => {
      const record = await withStore(flags, (store) => store.rename(userOf(flags), id, name ?? null));
      print(flags, { id: record.id, name: record.name, updated_at: record.updated_at }, record.name === null ? `cleared the name of ${record.id}` : `renamed ${record.id} to ${JSON.stringify(record.name)}`);
      process.exitCode = EXIT.ok;
    });

  storeOptions(history.command('rm'))
    .description('delete a run from the history (its run folder is not touched)')
    .argument('<id>', 'the record id')
    .addHelpText('after', '\nExample:\n  reflectkit history rm 6750f1c2a1b2c3d4e5f60718')
    .action(async (id: string, flags: HistoryFlags) => {
      await withStore(flags, (store) => store.remove(userOf(flags), id));
      print(flags, { removed: id.toLowerCase() }, `removed ${id.toLowerCase()}`);
      process.exitCode = EXIT.ok;
    });

  storeOptions(history.command('sync'))
    .description('push the records that waited in the embedded folder (MongoDB was unreachable) to MongoDB, without duplicates')
    .option('--all', 'push every record of the embedded folder, not only the pending ones (e.g. a history from before MongoDB)')
    .addHelpText(
      'after',
      '\nEvery user\'s pending records are pushed unless --user is given. Each record keeps its id, so running sync\n' +
        'twice (or in two places at once) never makes duplicates; pushed records leave the folder.\n\n' +
        'Examples:\n  REFLECTKIT_MONGODB_URI=mongodb://localhost:27017/ reflectkit history sync\n  reflectkit history sync --mongodb mongodb://user:pass@db.example.org/ --all --json',
    )
    .action(async (flags: HistoryFlags & { all?: boolean }) => {
      const report = await withStore(flags, async (store) => {
        if (!(store instanceof ResilientHistoryStore)) {
          throw new ReflectkitError('INVALID_OPTION', 'history sync needs a MongoDB: give --mongodb or set REFLECTKIT_MONGODB_URI', { path: '--mongodb', expected: 'a mongodb:// URI' });
        }
        return store.sync({ ...(flags.all === true ? { all: true } : {}), ...(flags.user === undefined ? {} : { userId: flags.user }) });
      });
      const lines = [`pushed ${report.pushed}, already in MongoDB ${report.alreadyThere}, conflicts ${report.conflicts.length}, still pending ${report.remaining}`];
      for (const conflict of report.conflicts) lines.push(`  ${conflict.userId} ${conflict.id}: ${conflict.message}`);
      print(flags, report, lines.join('\n'));
      process.exitCode = report.conflicts.length > 0 ? EXIT.failed : EXIT.ok;
    });

  return history;
}
