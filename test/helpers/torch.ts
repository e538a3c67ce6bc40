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

/** torch.optim's own AdamW or SGD (float64) run on `p` with the gradients `grads`; the final values. */
export function torchOptimizer(optimizer: 'adamw' | 'sgd', p: number[], grads: number[][], lr: number, wd: number, momentum = 0): number[] {
  const input = JSON.stringify({ optimizer, p, grads, lr, wd, momentum });
  return JSON.parse(execFileSync(torchPython(), [join(import.meta.dirname, 'torch_optim.py')], { input, encoding: 'utf8' })) as number[];
}
