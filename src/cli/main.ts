import { Command, InvalidArgumentError, Option } from 'commander';
import { VERSION } from '../version.js';
import { generateCommand, simulateCommand, type GenerateFlags } from './commands.js';
import { EXIT, exitCodeOf, reportError } from './io.js';
import { nrFromSldCommand } from './nr-from-sld.js';
import { predictCommand, type PredictFlags } from './predict.js';
import { runCommand, type RunFlags } from './run.js';
import { exportPthCommand, importPthCommand, type ExportPthFlags, type ImportPthFlags } from './pth.js';
import { registerHistoryCommands } from './history.js';
import { registerHubCommands } from './hub.js';
import { trainCommand, type TrainFlags } from './train.js';

function integer(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
    return n;
  };
}

function buildProgram(): Command {
  const program = new Command('reflectkit')
    .description('Neutron reflectometry: refl1d-exact simulation and pyreflect-compatible synthetic training data.')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();

  const workers = new Option('--workers <k>', 'worker threads (default: one per core; 0: main thread)').argParser(integer('--workers', 0));
  const seed = new Option('--seed <s>', 'random seed, an integer in [0, 2^32)').argParser(integer('--seed', 0));
  const curves = new Option('--curves <n>', 'number of curves').argParser(integer('--curves', 1));

  program
    .command('run')
    .description('the main job: generate curves, train the CNN, evaluate it on the test split, write report.html (a config file, or the built-in demo)')
    .argument('[config]', "pipeline config JSON (the web interface's request body is accepted as is; see docs/pipeline.md); default: the built-in demo")
    .option('--out <dir>', 'parent folder of run folders', 'runs')
    .option('--resume <runDir>', 'continue an interrupted run folder (skips finished phases, training from its last checkpoint)')
    .addOption(new Option('--curves <n>', 'number of curves (overrides the config; demo 1000)').argParser(integer('--curves', 10)))
    .addOption(new Option('--epochs <n>', 'training epochs (overrides the config; demo 6)').argParser(integer('--epochs', 1)))
    .addOption(new Option('--seed <s>', 'random seed (overrides the config; demo 42)').argParser(integer('--seed', 0)))
    .addOption(new Option('--workers <k>', 'generation worker threads (default: one per core)').argParser(integer('--workers', 0)))
    .option('--backend <name>', 'tensorflow, webgpu, wasm or cpu (default: the fastest available)')
    .option('--json', 'print progress nowhere and, as the last stdout line, {"runDir","modelId","metrics","backend","timing","history","hub"}')
    .option('--quiet', 'no progress output')
    .addHelpText(
      'after',
      '\nWrites runs/run-YYYYMMDD-HHMMSS-xxxx/: pipeline.json (resolved config, seed, model id), data/ (nr_train.npy, sld_train.npy),\n' +
        'model/ (the bundle and its checkpoints), result.json, report.html and the charts; records the run in the history\n' +
        '(~/.reflectkit/history, or MongoDB when storage.history.mongodbUri or REFLECTKIT_MONGODB_URI is set).\n' +
        'The demo finishes in a few minutes on 2 CPU cores (faster with @tensorflow/tfjs-node).\n\n' +
        'Examples:\n  reflectkit run\n  reflectkit run config.json --out /data/runs --json\n  reflectkit run --curves 5000 --epochs 20\n  reflectkit run --resume runs/run-20261203-101500-1a2b      # after Ctrl-C\n\n' +
        'config.json (the interface\'s request body; every key optional):\n' +
        '  {"name": "Si/SiOx/Ni", "layers": [{"sld": 2.07, "thickness": 0, "roughness": 3}, ...],\n' +
        '   "generator": {"numCurves": 5000, "layerBound": [{"i": 2, "par": "thickness", "bounds": [50, 150]}]},\n' +
        '   "training": {"epochs": 20, "batchSize": 32, "layers": 6, "head": "bottleneck"}, "seed": 1}',
    )
    .action(async (config: string | undefined, opts: RunFlags) => {
      process.exitCode = await runCommand(config, opts);
    });

  program
    .command('simulate')
    .description('compute one R(Q) curve and SLD profile (refl1d physics) and print {"q","R","z","sld"} as JSON')
    .requiredOption('--model <file>', 'model JSON: {"layers": [...], "q": {...}|[...], "qResolution", "background", "scale", "profilePoints"}')
    .addHelpText(
      'after',
      '\nExample model.json:\n  {"layers": [{"sld": 2.07, "thickness": 0, "roughness": 3},\n              {"sld": 4.0, "thickness": 100, "roughness": 5},\n              {"sld": 0, "thickness": 0, "roughness": 0}]}\n\n  reflectkit simulate --model model.json > curve.json',
    )
    .action(async (opts: { model: string }) => simulateCommand(opts.model));

  program
    .command('generate')
    .description('generate N synthetic curves and profiles to nr_train.npy / sld_train.npy')
    .option('--config <file>', 'generation config JSON (pyreflect layer_desc / layer_bound accepted); default: the legacy 8-layer model')
    .requiredOption('--out <dir>', 'output folder')
    .addOption(new Option('--curves <n>', 'number of curves (overrides numCurves)').argParser(integer('--curves', 1)))
    .addOption(new Option('--seed <s>', 'random seed (overrides the config)').argParser(integer('--seed', 0)))
    .addOption(new Option('--workers <k>', 'worker threads (default: one per core)').argParser(integer('--workers', 0)))
    .option('--json', 'print one JSON line instead of text')
    .option('--quiet', 'no progress output')
    .addHelpText(
      'after',
      '\nExample gen.json:\n  {"numCurves": 10000, "numLayers": 5, "seed": 1,\n   "layerDesc": [...], "layerBound": [{"i": 2, "par": "thickness", "bounds": [50, 150]}]}\n\n  reflectkit generate --config gen.json --out data/ --workers 2',
    )
    .action(async (opts: GenerateFlags & { config?: string; out: string }) => generateCommand(opts.config, opts.out, opts));

  program
    .command('train')
    .description('train the CNN on nr_train.npy / sld_train.npy; writes weights, config and scaler to --out')
    .option('--data <dir>', 'folder with nr_train.npy and sld_train.npy (ours, pyreflect\'s, or any numpy pair of the right shapes)')
    .option('--config <file>', 'training config JSON: {"model": {...}, "training": {...}, "split": {...}}')
    .requiredOption('--out <dir>', 'model folder (checkpoints go to its checkpoints/ folder)')
    .option('--backend <name>', 'tensorflow, webgpu, wasm or cpu (default: the fastest available)')
    .addOption(new Option('--workers <k>', 'data-parallel worker threads, 0 for this thread (default: one per core on wasm/cpu, 0 otherwise)').argParser(integer('--workers', 0)))
    .option('--resume', 'continue from the latest checkpoint in --out')
    .option('--include-data', 'copy nr_train.npy and sld_train.npy into the model folder (a self-contained bundle)')
    .option('--json', 'print one JSON line instead of text')
    .option('--quiet', 'no progress output')
    .addHelpText(
      'after',
      '\nExample train.json (pyreflect\'s CNN is the default; its 142 M-weight head needs tfjs-node or a GPU):\n' +
        '  {"model": {"layers": 6, "head": "bottleneck", "dropout": 0.1},\n   "training": {"epochs": 20, "batchSize": 32, "learningRate": 0.001, "earlyStopping": {"patience": 3}, "checkpointEvery": 1}}\n\n' +
        '  reflectkit train --data data/ --config train.json --out model/\n  reflectkit train --resume --out model/      # after Ctrl-C',
    )
    .action(async (opts: TrainFlags) => {
      process.exitCode = await trainCommand(opts);
    });

  const number = (name: string) => (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number`);
    return n;
  };
  program
    .command('predict')
    .description('predict SLD profiles with a trained model: from a measured curve (text or ORSO), or over a data folder\'s test split; writes result.json, charts and report.html')
    .requiredOption('--model <dir>', 'model folder written by reflectkit train')
    .requiredOption('--data <path>', 'a measured curve (4-column Q R dR dQ text, or ORSO .ort), or a folder with nr_train.npy / sld_train.npy')
    .requiredOption('--out <dir>', 'output folder for result.json, report.html and the charts')
    .option('--backend <name>', 'tensorflow, webgpu, wasm or cpu (default: the fastest available)')
    .addOption(new Option('--format <f>', 'measured-data format').choices(['auto', 'text', 'orso']))
    .addOption(new Option('--dq-is <kind>', 'whether a text file\'s dQ column is FWHM or 1-σ (default: from its header, else FWHM)').choices(['fwhm', 'sigma']))
    .option('--dataset <n|name>', 'ORSO data set to use (index from 0, or its data_set name; default the first)')
    .addOption(new Option('--backing <sld>', 'substrate SLD, 10⁻⁶ Å⁻² (default: the training model\'s, else estimated from the profile)').argParser(number('--backing')))
    .addOption(new Option('--fronting <sld>', 'fronting-medium SLD, 10⁻⁶ Å⁻² (default: the training model\'s, else estimated)').argParser(number('--fronting')))
    .addOption(new Option('--example <i>', 'which test curve is the example (data-folder mode; default 0)').argParser(integer('--example', 0)))
    .option('--json', 'print one JSON line instead of text')
    .addHelpText(
      'after',
      '\nExamples:\n  reflectkit predict --model model/ --data REFL_212592.txt --out prediction/\n  reflectkit predict --model model/ --data data/ --out evaluation/ --json',
    )
    .action(async (opts: PredictFlags & { dqIs?: 'fwhm' | 'sigma' }) => {
      await predictCommand(opts);
    });

  program
    .command('nr-from-sld')
    .description('compute R(Q) of an SLD profile (microslabs, refl1d kernel and resolution) and print {"q","R"} as JSON')
    .requiredOption('--profile <file>', 'profile JSON: {"z": [...], "sld": [...], "q": [...], "order", "qResolution" | "dq" + "dqIs", "fronting", "backing"}')
    .option('--out <file>', 'write the JSON here instead of stdout')
    .addHelpText(
      'after',
      '\nprofile.json (z in Å, SLD in 10⁻⁶ Å⁻², Q in Å⁻¹; everything but z, sld and q optional):\n' +
        '  {"z": [0, 0, 100, 100], "sld": [2.07, 4.0, 4.0, 0], "order": "substrate-to-air",\n' +
        '   "q": [0.01, 0.02, 0.05], "qResolution": 0.0294855, "backing": 2.07, "fronting": 0}\n' +
        '  Repeated z values are steps. Without backing/fronting the media are the median SLD of the 5 Å at each end.\n\n' +
        '  reflectkit nr-from-sld --profile profile.json > curve.json',
    )
    .action(async (opts: { profile: string; out?: string }) => nrFromSldCommand(opts));

  program
    .command('export-pth')
    .description("write a model folder (dense head) as pyreflect's PyTorch state_dict (.pth), for CNN(layers).load_state_dict")
    .requiredOption('--model <dir>', 'model folder written by reflectkit train or import-pth')
    .requiredOption('--out <file>', 'the .pth to write')
    .option('--stats-out <file>', "also write the normalisation: a .npy name gets pyreflect's normalization_stat.npy (np.load(path, allow_pickle=True).item()), any other name our stats JSON")
    .addOption(new Option('--num-batches-tracked <n>', "BatchNorm's num_batches_tracked (default: the model's recorded step count, else 0)").argParser(integer('--num-batches-tracked', 0)))
    .option('--backend <name>', 'tensorflow, webgpu, wasm or cpu (default: the fastest available)')
    .option('--json', 'print one JSON line instead of text')
    .addHelpText(
      'after',
      '\nExamples:\n  reflectkit export-pth --model model/ --out model.pth --stats-out normalization_stat.npy\n\n' +
        '  # in Python (pyreflect):\n  #   m = CNN(layers); m.load_state_dict(torch.load("model.pth", weights_only=True)); m.eval()',
    )
    .action(async (opts: ExportPthFlags) => {
      process.exitCode = await exportPthCommand(opts);
    });

  program
    .command('import-pth')
    .description("make a model folder from pyreflect's PyTorch state_dict (.pth); the architecture is read from its keys and shapes, nothing in the file is executed")
    .argument('<file>', 'the .pth (torch.save(model.state_dict(), path))')
    .requiredOption('--out <dir>', 'model folder to write')
    .requiredOption('--stats <file>', "normalisation: our stats JSON, pyreflect's {nr, sld} dict as JSON, or pyreflect's normalization_stat.npy (read without unpickling)")
    .option('--data <dir>', 'the training data folder (nr_train.npy): records its Q grid and physics for reflectkit predict')
    .option('--backend <name>', 'tensorflow, webgpu, wasm or cpu (default: the fastest available)')
    .option('--json', 'print one JSON line instead of text')
    .addHelpText(
      'after',
      '\nExamples:\n  reflectkit import-pth model.pth --stats normalization_stat.npy --data data/ --out model/\n  reflectkit import-pth model.pth --stats stats.json --out model/ --json',
    )
    .action(async (file: string, opts: ImportPthFlags) => {
      process.exitCode = await importPthCommand(file, opts);
    });

  registerHistoryCommands(program);
  registerHubCommands(program);

  return program;
}

/**
 * Runs the `reflectkit` command line and returns its exit code (0 success, 1 failure, 2 invalid input,
 * 130 interrupted). Writes results to stdout and diagnostics to stderr.
 */
export async function runCli(argv: readonly string[] = process.argv): Promise<number> {
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    process.exitCode = undefined;
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return EXIT.ok;
    if (typeof code === 'string' && code.startsWith('commander.')) return EXIT.invalidInput;
    reportError(error, json);
    return exitCodeOf(error);
  }
}
