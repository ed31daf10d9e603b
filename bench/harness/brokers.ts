// Starting and stopping the brokers under test, each as its own process on a free port of
// 127.0.0.1. Every process started here is remembered by PID and killed on the way out, even
// when the benchmark fails or is interrupted.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from './clock.js';

export type BrokerName = 'midge' | 'midge-sqlite' | 'midge-fsync' | 'midge-net' | 'midge-base' | 'aedes' | 'mosquitto' | 'floor' | 'floor-c';
/** Every broker `--brokers` accepts. */
export const BROKER_NAMES: BrokerName[] = ['midge', 'midge-sqlite', 'midge-fsync', 'midge-net', 'midge-base', 'aedes', 'mosquitto', 'floor', 'floor-c'];

/**
 * Not a broker: about the least a Node server can do for the load (bench/forward-floor.mjs), on the bare
 * TCP handles Midge uses, passing each PUBLISH on by its exact topic with no decoding, routing or
 * encoding. It serves only scenarios whose subscribers take exact topics and whose subscribers
 * need nothing back, at a fixed rate (latency-qos0/1): what a Node server on Node's TCP path
 * costs before any MQTT work (not a hard bound: it copies each packet into Buffers of its own).
 * (At a maximum rate it is no floor: it writes each packet on its own, where Midge gathers them.)
 * floor-c is the same in C (bench/floor.c, built with the system's `cc`): the floor without a
 * runtime, to tell what Node's own path costs from what the machine does.
 */
export const FLOOR_SCENARIOS = ['latency-qos0', 'latency-qos1'];
/**
 * What runs without `--brokers`. The variants of Midge are left out: they would add runs to
 * every scenario, and each is about a few scenarios (durable-*, connections).
 */
export const DEFAULT_BROKERS: BrokerName[] = ['midge', 'aedes', 'mosquitto'];

/** Midge in any of its store configurations. */
export function isMidge(name: BrokerName): boolean {
  return name === 'midge' || name.startsWith('midge-');
}

/** How each broker keeps its state, for reports. */
export const BROKER_STORES: Record<BrokerName, string> = {
  midge: 'memory (--memory)',
  'midge-sqlite': 'SQLite in a fresh --data-dir, --durability os (WAL, synchronous=NORMAL)',
  'midge-fsync': 'SQLite in a fresh --data-dir, --durability fsync (WAL, synchronous=FULL)',
  'midge-net': 'memory (--memory); TCP clients through net.Socket (--net-sockets)',
  'midge-base': 'memory (--memory); the build in the --baseline directory',
  aedes: 'memory (aedes-persistence default)',
  mosquitto: 'memory (persistence false)',
  floor: 'none: PUBLISH bytes passed on unparsed (bench/forward-floor.mjs --serve)',
  'floor-c': 'none: the floor in C (bench/floor.c, cc -O2)',
};

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface BrokerOptions {
  /** Scratch directory for config files. */
  tmpDir: string;
  /** Run Midge under `node --cpu-prof`, writing profiles here. */
  profileDir?: string;
  /** Midge's --max-inflight and Mosquitto's max_inflight_messages (--max-inflight of the bench). */
  maxInflight: number;
  /** Mosquitto's max_queued_messages: large enough for every scenario. */
  maxQueued: number;
  /** Where midge-sqlite and midge-fsync get a fresh data directory for each run. */
  dataRoot: string;
  /** Another built checkout of Midge, run as midge-base to compare a change side by side. */
  baselineDir?: string;
}

const live = new Map<number, ChildProcess>();
/** Data directories of brokers started here and not yet removed. */
const dataDirs = new Set<string>();

function removeDataDir(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch {
    // left for the OS to clean up
  }
  dataDirs.delete(dir);
}

/**
 * Kills every broker still running (SIGKILL) and removes their data directories; safe to
 * call from an 'exit' handler.
 */
export function killAllBrokers(): void {
  for (const [pid] of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
  for (const dir of [...dataDirs]) removeDataDir(dir);
}

process.on('exit', killAllBrokers);

export function findExecutable(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/usr/local/sbin', '/sbin']);
  for (const dir of dirs) {
    if (dir === '') continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export class RunningBroker {
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  exited = false;
  private stderr = '';

  constructor(
    readonly name: BrokerName,
    readonly port: number,
    readonly child: ChildProcess,
    /** The broker's own data directory, removed when it stops. */
    readonly dataDir?: string,
  ) {
    live.set(child.pid!, child);
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-4000);
    });
    child.stdout?.resume();
    child.once('exit', (code, signal) => {
      this.exited = true;
      this.exitCode = code;
      this.exitSignal = signal;
      live.delete(child.pid!);
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The last lines the broker wrote on stderr. */
  get stderrTail(): string {
    return this.stderr.trim().split('\n').slice(-8).join('\n');
  }

  describeExit(): string {
    return `${this.name} (pid ${this.pid}) exited with ${this.exitSignal ?? `code ${this.exitCode}`}${this.stderrTail ? `: ${this.stderrTail}` : ''}`;
  }

  /** SIGTERM, then SIGKILL if it has not exited within graceMs; then removes its data directory. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.exited) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGTERM');
      const timer = sleep(graceMs).then(() => 'timeout' as const);
      if ((await Promise.race([exited.then(() => 'exited' as const), timer])) === 'timeout') {
        this.child.kill('SIGKILL');
        await Promise.race([exited, sleep(2000)]);
      }
      live.delete(this.pid);
    }
    if (this.dataDir !== undefined) removeDataDir(this.dataDir);
  }
}

function mosquittoConfig(port: number, options: BrokerOptions): string {
  return [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    `max_queued_messages ${options.maxQueued}`,
    `max_inflight_messages ${options.maxInflight}`,
    'max_connections -1',
    // set_tcp_nodelay stays at its default (false): measured here, Nagle makes Mosquitto faster
    // (pairs-qos1 37k vs 24k msg/s) and its latency no worse, so the default is its best foot.
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    '',
  ].join('\n');
}

function command(name: BrokerName, port: number, options: BrokerOptions, dataDir: string | undefined): { file: string; args: string[] } {
  switch (name) {
    case 'midge':
    case 'midge-sqlite':
    case 'midge-fsync':
    case 'midge-net':
    case 'midge-base': {
      const prof = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
      const store = name === 'midge' || name === 'midge-net' || name === 'midge-base'
        ? ['--memory', ...(name === 'midge-net' ? ['--net-sockets'] : [])]
        : ['--data-dir', dataDir!, ...(name === 'midge-fsync' ? ['--durability', 'fsync'] : [])];
      return {
        file: process.execPath,
        args: [...prof, join(name === 'midge-base' ? options.baselineDir! : repoRoot, 'bin/midge.js'), '--port', String(port), '--host', '127.0.0.1', ...store, '--max-inflight', String(options.maxInflight), '--log-level', 'warn'],
      };
    }
    case 'aedes':
      return { file: process.execPath, args: [join(repoRoot, 'bench/aedes-server.mjs'), String(port)] };
    case 'floor':
      return { file: process.execPath, args: [join(repoRoot, 'bench/forward-floor.mjs'), '--serve', String(port)] };
    case 'floor-c':
      return { file: buildCFloor(options.tmpDir), args: [String(port)] };
    case 'mosquitto': {
      const file = findExecutable('mosquitto');
      if (file === undefined) throw new Error('mosquitto is not installed');
      mkdirSync(options.tmpDir, { recursive: true });
      const conf = join(options.tmpDir, `mosquitto-${port}.conf`);
      writeFileSync(conf, mosquittoConfig(port, options));
      return { file, args: ['-c', conf] };
    }
  }
}

/** bench/floor.c built into `dir` (once per run of the bench) with the system's C compiler. */
function buildCFloor(dir: string): string {
  const out = join(dir, 'floor-c');
  if (existsSync(out)) return out;
  const cc = findExecutable('cc');
  if (cc === undefined) throw new Error('floor-c needs a C compiler (cc) on PATH');
  mkdirSync(dir, { recursive: true });
  execFileSync(cc, ['-O2', '-o', out, join(repoRoot, 'bench/floor.c')], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
  return out;
}

/** Starts a fresh broker and resolves once it accepts TCP connections (within 20 s). */
export async function startBroker(name: BrokerName, options: BrokerOptions): Promise<RunningBroker> {
  const port = await freePort();
  let dataDir: string | undefined;
  if (name === 'midge-sqlite' || name === 'midge-fsync') {
    mkdirSync(options.dataRoot, { recursive: true });
    dataDir = mkdtempSync(join(options.dataRoot, `midge-bench-data-${port}-`));
    dataDirs.add(dataDir);
  }
  const { file, args } = command(name, port, options, dataDir);
  const child = spawn(file, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  } catch (err) {
    if (dataDir !== undefined) removeDataDir(dataDir);
    throw err;
  }
  const broker = new RunningBroker(name, port, child, dataDir);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (broker.exited) {
      await broker.stop();
      throw new Error(broker.describeExit());
    }
    if (await canConnect(port)) return broker;
    await sleep(50);
  }
  await broker.stop();
  throw new Error(`${name} did not accept connections on port ${port} within 20 s`);
}
