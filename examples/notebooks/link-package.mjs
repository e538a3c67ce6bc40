#!/usr/bin/env node
// Makes `node_modules/reflectkit` in a folder (default: this one) resolve to this checkout's build, the way
// `npm install reflectkit` would install the published package, so the tslab notebook can `import ... from
// 'reflectkit/node'` without publishing anything. Run `npm run build` first.
//
//   node examples/notebooks/link-package.mjs [folder]
//
// It writes node_modules/reflectkit/package.json (the checkout's, trimmed to what resolution reads) and links
// node_modules/reflectkit/dist to the checkout's dist/. Why not a plain symlink to the checkout: tslab compiles
// with TypeScript 5.0 and `moduleResolution: node10`, which ignores the `exports` map, so it finds the types of
// 'reflectkit/nn', 'reflectkit/node' and 'reflectkit/report' only through `typesVersions`. The written
// package.json adds that field when the checkout's package.json does not declare it.
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Links `<folder>/node_modules/reflectkit` to the checkout's build; returns the package folder. */
export function linkPackage(folder) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  if (!existsSync(join(root, 'dist', 'node.d.ts'))) throw new Error(`${join(root, 'dist')} is not built: run npm run build`);
  const subpaths = Object.keys(pkg.exports).filter((k) => k.startsWith('./') && k !== './package.json');
  const typesVersions = pkg.typesVersions ?? {
    '*': Object.fromEntries(subpaths.map((k) => [k.slice(2), [pkg.exports[k].import.types]])),
  };
  const target = join(resolve(folder), 'node_modules', 'reflectkit');
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  const { name, version, type, main, module, types, exports, dependencies } = pkg;
  writeFileSync(join(target, 'package.json'), `${JSON.stringify({ name, version, type, main, module, types, typesVersions, exports, dependencies }, null, 2)}\n`);
  // Node and TypeScript follow the link to the checkout, so dist's own imports resolve from its node_modules.
  symlinkSync(join(root, 'dist'), join(target, 'dist'), 'dir');
  return target;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const target = linkPackage(process.argv[2] ?? dirname(fileURLToPath(import.meta.url)));
  process.stdout.write(`${target} → ${join(root, 'dist')}\n`);
}
