// Top self-time functions of a V8 CPU profile (node --cpu-prof), summed per function and file.
//   node --import tsx bench/profile-summary.ts PROFILE.cpuprofile|DIR [--top N]
// With a directory, the newest .cpuprofile in it is read.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  ms: number;
}

const root = process.cwd();

function where(frame: CallFrame): string {
  if (frame.url === '') return '';
  const path = frame.url.startsWith('file://') ? relative(root, new URL(frame.url).pathname) : frame.url;
  return `${path}:${frame.lineNumber + 1}`;
}

/** Self time per function (name + file + line), largest first. */
export function selfTimes(profile: CpuProfile): { total: number; rows: SelfTime[] } {
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) byId.set(node.id, node);
  const sums = new Map<string, SelfTime>();
  let total = 0;
  const n = Math.min(profile.samples.length, profile.timeDeltas.length);
  for (let i = 0; i < n; i++) {
    const node = byId.get(profile.samples[i]);
    // The delta before the next sample is the time spent in this one.
    const us = i + 1 < n ? profile.timeDeltas[i + 1] : 0;
    if (node === undefined || us <= 0) continue;
    total += us;
    const name = node.callFrame.functionName || '(anonymous)';
    const at = where(node.callFrame);
    const key = `${name}\t${at}`;
    const row = sums.get(key) ?? { name, where: at, ms: 0 };
    row.ms += us / 1000;
    sums.set(key, row);
  }
  return { total: total / 1000, rows: [...sums.values()].sort((a, b) => b.ms - a.ms) };
}

function newestProfile(path: string): string {
  if (!statSync(path).isDirectory()) return path;
  const files = readdirSync(path).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(path, f));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${path}`);
  return files.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}

function main(): void {
  const args = process.argv.slice(2);
  const topIndex = args.indexOf('--top');
  const top = topIndex >= 0 ? Number(args.splice(topIndex, 2)[1]) : 15;
  if (args.length !== 1) {
    process.stderr.write('usage: node --import tsx bench/profile-summary.ts PROFILE.cpuprofile|DIR [--top N]\n');
    process.exit(2);
  }
  const file = newestProfile(args[0]);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const { total, rows } = selfTimes(profile);
  const idle = rows.filter((r) => r.name === '(idle)').reduce((s, r) => s + r.ms, 0);
  const busy = total - idle;
  process.stdout.write(`${file}: ${(total / 1000).toFixed(2)} s sampled, ${(busy / 1000).toFixed(2)} s busy (not idle)\n`);
  process.stdout.write(`${'self ms'.padStart(9)}  ${'% busy'.padStart(6)}  function  (file:line)\n`);
  for (const r of rows.filter((x) => x.name !== '(idle)').slice(0, top)) {
    process.stdout.write(`${r.ms.toFixed(1).padStart(9)}  ${((r.ms / busy) * 100).toFixed(1).padStart(6)}  ${r.name}  ${r.where ? `(${r.where})` : ''}\n`);
  }
}

main();
