#!/usr/bin/env node
// Runs every *.test.ts under test/ (or the folders given) with Node's built-in runner.
// Node 20's `--test` does not expand globs, so the file list is built here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) collect(join(path, name), out);
  } else if (path.endsWith('.test.ts')) {
    out.push(path);
  }
  return out;
}

const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['test'];
const files = roots.flatMap((r) => collect(r, []));
if (files.length === 0) {
  console.error('no test files found under', roots.join(', '));
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  // MIDGE_SCRAMBLE_LENT_READS: see src/transport/tcp-handle.ts.
  env: { ...process.env, MIDGE_TEST: '1', MIDGE_SCRAMBLE_LENT_READS: '1' },
});
process.exit(result.status ?? 1);
