import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** The oracle venv's Python, set by the global setup. */
export function pythonPath(): string {
  const python = process.env.REFLECTKIT_TEST_PYTHON;
  if (!python) throw new Error('REFLECTKIT_TEST_PYTHON is not set: the global setup did not run');
  return python;
}

/** Runs a Python script file with JSON on stdin and parses the JSON it prints. */
export function runPythonJson<T>(script: string, input: unknown, env: Record<string, string> = {}): T {
  const out = execFileSync(pythonPath(), [join(import.meta.dirname, script)], {
    input: JSON.stringify(input),
    maxBuffer: 1 << 30,
    env: { ...process.env, ...env },
  });
  return JSON.parse(out.toString('utf8')) as T;
}

/** Runs a Python snippet (`-c`) with arguments (and optionally text on stdin) and returns stdout. */
export function runPython(code: string, args: string[] = [], input?: string): string {
  return execFileSync(pythonPath(), ['-c', code, ...args], { maxBuffer: 1 << 30, ...(input === undefined ? {} : { input }) }).toString('utf8');
}
