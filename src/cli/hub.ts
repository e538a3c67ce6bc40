import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { HubStore, type HubOptions } from '../store/hub.node.js';

/** Options shared by the `reflectkit hub` commands. */
interface HubFlags {
  repo: string;
  repoType?: 'dataset' | 'model';
  public?: boolean;
  hubUrl?: string;
  json?: boolean;
  quiet?: boolean;
}

function store(flags: HubFlags): HubStore {
  const options: HubOptions = {
    repo: flags.repo,
    ...(flags.repoType === undefined ? {} : { repoType: flags.repoType }),
    ...(flags.public === true ? { private: false } : {}),
    ...(flags.hubUrl === undefined ? {} : { hubUrl: flags.hubUrl }),
    onLog: (message) => {
      if (flags.quiet !== true && flags.json !== true) process.stderr.write(`${message}\n`);
    },
  };
  return new HubStore(options);
}

function common(command: Command): Command {
  return command
    .requiredOption('--repo <owner/name>', "the Hub repository (pyreflect's HF_REPO_ID)")
    .addOption(new Option('--repo-type <type>', 'repository type').choices(['dataset', 'model']).default('dataset'))
    .option('--hub-url <url>', 'Hub endpoint (default: HF_ENDPOINT, else https://huggingface.co)')
    .option('--json', 'print one JSON line instead of text')
    .option('--quiet', 'no progress output');
}

/**
 * Adds `reflectkit hub push|pull|list`: model bundles on the Hugging Face Hub under `models/{modelId}/`
 * (the token comes from `HF_TOKEN` and never appears in any output).
 */
export function registerHubCommands(program: Command): void {
  const hub = program
    .command('hub')
    .description('model bundles on the Hugging Face Hub (models/{modelId}/ in a repository; token from HF_TOKEN)')
    .addHelpText('after', '\nExamples:\n  HF_TOKEN=hf_… reflectkit hub push runs/run-…/model --repo me/reflectometry\n  reflectkit hub list --repo me/reflectometry\n  reflectkit hub pull 3f0c…-uuid --repo me/reflectometry --out model/');

  common(
    hub
      .command('push')
      .description("upload a bundle folder to models/{modelId}/ (private repository unless --public), verify every file's size and hash on the Hub")
      .argument('<bundle>', 'a bundle folder (written by reflectkit run, train or import-pth)')
      .option('--model-id <id>', "the Hub folder name (default: the bundle's model id)")
      .option('--public', 'create the repository public (default private)')
      .option('--remove-local', 'delete the local bundle once every file is verified on the Hub'),
  )
    .addHelpText('after', '\nExample:\n  HF_TOKEN=hf_… reflectkit hub push runs/run-20261203-101500-1a2b/model --repo me/reflectometry --json')
    .action(async (bundle: string, flags: HubFlags & { modelId?: string; removeLocal?: boolean }) => {
      const report = await store(flags).pushBundle(resolve(bundle), {
        ...(flags.modelId === undefined ? {} : { modelId: flags.modelId }),
        removeLocal: flags.removeLocal === true,
      });
      if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else {
        const bytes = report.files.reduce((n, f) => n + f.bytes, 0);
        process.stdout.write(`uploaded and verified ${report.files.length} files (${(bytes / 2 ** 20).toFixed(1)} MiB) to ${report.browseUrl}${report.removedLocal.length > 0 ? `; removed ${report.removedLocal.length} local files` : ''}\n`);
      }
    });

  common(
    hub
      .command('pull')
      .description('download models/{modelId}/ into a folder, checking every file against the Hub and the bundle manifest')
      .argument('<modelId>', 'the model id (the folder under models/)')
      .requiredOption('--out <dir>', 'the bundle folder to create')
      .option('--overwrite', 'replace a non-empty --out (the old folder is removed only after the new one is in place)'),
  )
    .addHelpText('after', '\nExample:\n  reflectkit hub pull 3f0c2a4e-… --repo me/reflectometry --out model/ && reflectkit predict --model model/ --data curve.txt --out prediction/')
    .action(async (modelId: string, flags: HubFlags & { out: string; overwrite?: boolean }) => {
      const report = await store(flags).pullBundle(modelId, resolve(flags.out), { overwrite: flags.overwrite === true });
      if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else process.stdout.write(`downloaded ${report.files.length} files (${(report.bytes / 2 ** 20).toFixed(1)} MiB) into ${report.dir}\n`);
    });

  common(hub.command('list').description('list the bundles (models/*/) of a repository'))
    .addHelpText('after', '\nExample:\n  reflectkit hub list --repo me/reflectometry --json')
    .action(async (flags: HubFlags) => {
      const bundles = await store(flags).listBundles();
      if (flags.json) process.stdout.write(`${JSON.stringify(bundles)}\n`);
      else if (bundles.length === 0) process.stdout.write(`no bundles in ${flags.repo}\n`);
      else for (const b of bundles) process.stdout.write(`${b.modelId}  ${b.files.length} files  ${(b.bytes / 2 ** 20).toFixed(1)} MiB${b.hasConfig ? '' : '  (no config.json: a pyreflect upload or training data only)'}\n`);
    });
}
