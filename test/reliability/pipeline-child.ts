/**
 * A pipeline run in a child process, for test/reliability/kill-resume.test.ts. Prints one JSON line per
 * event worth watching on stdout, and the result as the last line. With `--freeze-at` it stops dead at an
 * exact point (the main thread blocks, so nothing more is written) after printing `{"frozen": …}`: the test
 * then kills it with SIGKILL, as a crash or `kill -9` would at that moment.
 *
 *   node --import tsx test/reliability/pipeline-child.ts run CONFIG.json RUN_DIR [--workers K] [--freeze-at WHERE [--if-contains REGEX]]
 *   node --import tsx test/reliability/pipeline-child.ts resume RUN_DIR [--workers K] [--freeze-at WHERE [--if-contains REGEX]]
 *
 * WHERE is `generate:N` (after the progress report that reaches N curves or more), `train:E:B` (after batch B,
 * 0-based, of epoch E, 1-based), or `rename:PART` (just before the atomic rename onto a path that contains
 * PART, i.e. while that file is being written: the temporary file is complete, the old file untouched);
 * `--if-contains REGEX` limits `rename:` to a new content that matches REGEX.
 */
import fs, { readFileSync, writeSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import type { PipelineEvent } from '../../src/pipeline/events.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const freezeAt = option('--freeze-at');
const workers = option('--workers');
const contains = option('--if-contains');

function say(value: unknown): void {
  writeSync(1, `${JSON.stringify(value)}\n`); // synchronous: the line is out before the freeze
}

/** Blocks this thread (a minute at most, so an orphan cannot hang forever); the test kills the process meanwhile. */
function freeze(where: string): void {
  say({ frozen: where });
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
  say({ error: 'not killed within a minute of freezing' });
  process.exit(99);
}

if (freezeAt?.startsWith('rename:')) {
  const part = freezeAt.slice('rename:'.length);
  const original = fs.promises.rename;
  fs.promises.rename = async (from, to) => {
    if (String(to).includes(part) && (contains === undefined || new RegExp(contains).test(readFileSync(from, 'utf8')))) freeze(`before renaming ${String(from)} to ${String(to)}`);
    return original(from, to);
  };
  syncBuiltinESMExports(); // `import { rename } from 'node:fs/promises'` in the sources now sees the wrapper
}

// Imported after the wrapper is in place.
const { resumePipeline, runPipeline } = await import('../../src/pipeline/run.node.js');

const onEvent = (event: PipelineEvent): void => {
  if (event.type === 'phase') say({ phase: event.phase, status: event.status });
  else if (event.type === 'log' && event.level === 'warn') say({ warning: event.message });
  else if (event.type === 'progress' && event.phase === 'generate') {
    say({ generate: event.done, total: event.total });
    if (freezeAt?.startsWith('generate:') && event.done >= Number(freezeAt.slice('generate:'.length)) && event.done < event.total) freeze(`generation at ${event.done}/${event.total}`);
  } else if (event.type === 'progress' && event.phase === 'train' && event.loss !== undefined) {
    const batch = event.done - 1;
    say({ epoch: event.epoch, batch });
    if (freezeAt === `train:${event.epoch}:${batch}`) freeze(`epoch ${event.epoch}, batch ${batch}`);
  }
};

const options = { onEvent, ...(workers === undefined ? {} : { trainingWorkers: Number(workers) }) };
try {
  const result = args[0] === 'resume' ? await resumePipeline(args[1]!, options) : await runPipeline(JSON.parse(readFileSync(args[1]!, 'utf8')), { ...options, runDir: args[2]! });
  say({ result: { runDir: result.runDir, modelId: result.modelId, metrics: result.metrics, history: result.history, engine: result.result.training } });
} catch (error) {
  const e = error as { code?: string; path?: string; message?: string };
  say({ error: { code: e.code, path: e.path, message: e.message } });
  process.exitCode = 1;
}
