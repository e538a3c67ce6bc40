import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** The PyTorch venv's Python, set by test/setup/python-torch.ts. */
export function torchPython(): string {
  const python = process.env.REFLECTKIT_TORCH_PYTHON;
  if (!python) throw new Error('REFLECTKIT_TORCH_PYTHON is not set: the global setup did not run');
  return python;
}

/** Runs a command of test/helpers/torch_pth.py and returns its stdout. */
export function torchPth(command: string, ...args: Array<string | number>): string {
  return execFileSync(torchPython(), [join(import.meta.dirname, 'torch_pth.py'), command, ...args.map(String)], {
    maxBuffer: 1 << 30,
    encoding: 'utf8',
  });
}

/** Runs a command of test/helpers/torch_pth.py and parses the JSON it prints. */
export function torchPthJson<T>(command: string, ...args: Array<string | number>): T {
  return JSON.parse(torchPth(command, ...args)) as T;
}
