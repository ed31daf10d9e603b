// Crash durability: a writer killed with SIGKILL loses nothing it reported as flushed, and no
// round of changes is ever half there.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { tempDir } from './sqlite-fixture.js';

const writer = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));
const ROWS_PER_ROUND = 100;

/** Runs the writer until it has reported `rounds` flushed rounds, kills it, returns the last one reported. */
function runAndKill(path: string, durability: 'os' | 'fsync', rounds: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, path, durability], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lastFlushed = -1;
    let buffered = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer reported only ${lastFlushed + 1} rounds in time; stderr: ${stderr}`));
    }, 20_000);
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const match = /^flushed (\d+)$/.exec(line);
        if (match === null) continue;
        lastFlushed = Number(match[1]);
        if (lastFlushed + 1 >= rounds && child.exitCode === null && !child.killed) child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited with ${code}: ${stderr}`));
      // Lines read after the kill was sent were flushed too; count them.
      else resolve(lastFlushed);
    });
  });
}

for (const durability of ['os', 'fsync'] as const) {
  test(`SIGKILL loses nothing that was reported flushed (durability '${durability}')`, async () => {
    const { dir, remove } = tempDir();
    try {
      const path = join(dir, 'midge.db');
      const lastFlushed = await runAndKill(path, durability, 150);
      assert.ok(lastFlushed >= 149, `only ${lastFlushed + 1} rounds reported`);

      const store = SqliteStore.open({ path });
      const state = await store.load();
      await store.close();
      const rowsByRound = new Map<number, number>();
      for (const message of state.retained) {
        const [round, row] = message.topic.split('/').slice(1).map(Number) as [number, number];
        assert.ok(message.payload.toString().startsWith(`${round}:${row}:`), message.topic);
        rowsByRound.set(round, (rowsByRound.get(round) ?? 0) + 1);
      }
      const rounds = [...rowsByRound.keys()].sort((a, b) => a - b);
      const lastStored = rounds[rounds.length - 1]!;
      assert.ok(lastStored >= lastFlushed, `round ${lastFlushed} was reported flushed, the file ends at ${lastStored}`);
      // Every round whole, none missing: commits are atomic and in order.
      assert.deepEqual(rounds, Array.from({ length: lastStored + 1 }, (_, i) => i));
      for (const [round, rows] of rowsByRound) assert.equal(rows, ROWS_PER_ROUND, `round ${round}`);
      // The delivery of the last stored round is queued, the earlier ones were acknowledged.
      assert.deepEqual(state.deliveries.get('crash')?.map((d) => d.seq), [lastStored]);
    } finally {
      remove();
    }
  });
}
