#!/usr/bin/env node
// The `midge` command. The TypeScript sources are built into dist/ by `npm ci` (prepare).
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (error) => {
    console.error(`midge: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
