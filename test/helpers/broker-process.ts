// Midge as its own process, the way an operator runs it: `node bin/midge.js` (which runs the
// built dist/, so `npm run build` first) on a loopback port, with a data directory. For tests
// that stop it (SIGTERM), kill it (SIGKILL) and start it again on the same port and data.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Program } from './process.js';
import { withTimeout } from './wait.js';

export const MIDGE_BIN = fileURLToPath(new URL('../../bin/midge.js', import.meta.url));
const DIST_CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const LISTENING = /^midge listening on mqtt:\/\/127\.0\.0\.1:(\d+)$/;

export interface BrokerProcessOptions {
  /** Defaults to a new temporary directory, removed by dispose(). */
  dataDir?: string;
  /** Defaults to 0: a free port chosen by the system, kept for restarts. */
  port?: number;
  /** More flags, e.g. ['--durability', 'fsync']. */
  args?: string[];
  /** How long to wait for the listening line. */
  startMs?: number;
}

/** How one run of the process ended. */
export interface ProcessEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class BrokerProcess {
  /** The port, fixed by the first start so restarts come back where clients expect them. */
  port: number;
  /** Everything the current run printed on stderr. */
  stderr = '';
  private program: Program | undefined;
  private readonly ownsDir: boolean;

  private constructor(
    readonly dataDir: string,
    port: number,
    ownsDir: boolean,
    private readonly args: string[],
    private readonly startMs: number,
  ) {
    this.port = port;
    this.ownsDir = ownsDir;
  }

  /** Starts Midge and waits until it listens. */
  static async start(options: BrokerProcessOptions = {}): Promise<BrokerProcess> {
    if (!existsSync(DIST_CLI)) throw new Error(`${DIST_CLI} is missing: run \`npm run build\` before the system tests`);
    const ownsDir = options.dataDir === undefined;
    const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'midge-system-'));
    const broker = new BrokerProcess(dataDir, options.port ?? 0, ownsDir, options.args ?? [], options.startMs ?? 15_000);
    try {
      await broker.run();
    } catch (error) {
      broker.dispose();
      throw error;
    }
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get dbPath(): string {
    return join(this.dataDir, 'midge.db');
  }

  /** The process id of the current run (undefined between runs). */
  get pid(): number | undefined {
    return this.running ? this.program!.child.pid : undefined;
  }

  get running(): boolean {
    const child = this.program?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Sends `signal` to this process only (by its PID) and waits for it to end. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM', ms = 15_000): Promise<ProcessEnd> {
    const program = this.program;
    if (program === undefined) throw new Error('the broker was never started');
    if (this.running) program.child.kill(signal);
    const code = await program.waitExit(ms);
    return { code, signal: program.child.signalCode };
  }

  /** SIGKILL right now, without waiting: for killing at an exact moment of a running test. */
  killNow(): void {
    if (this.running) this.program!.child.kill('SIGKILL');
  }

  /** Waits for the current run to end (after killNow()). */
  async exited(ms = 15_000): Promise<ProcessEnd> {
    const program = this.program!;
    const code = await program.waitExit(ms);
    return { code, signal: program.child.signalCode };
  }

  /** Starts again on the same port and data directory; the previous run must have ended. */
  async restart(): Promise<void> {
    if (this.running) throw new Error('restart(): the broker is still running; stop it first');
    await this.run();
  }

  /** Kills a run still going (SIGKILL, by PID) and removes the data directory if it made it. */
  dispose(): void {
    this.killNow();
    if (this.ownsDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  private async run(): Promise<void> {
    const program = Program.start(process.execPath, [
      MIDGE_BIN,
      '--port',
      String(this.port),
      '--host',
      '127.0.0.1',
      '--data-dir',
      this.dataDir,
      '--log-level',
      'warn',
      ...this.args,
    ]);
    this.program = program;
    this.stderr = '';
    program.child.stderr?.on('data', (text: string) => (this.stderr += text));
    let line: string;
    try {
      line = await program.waitForLine(LISTENING, this.startMs);
    } catch (error) {
      this.killNow();
      throw new Error(`midge did not start (port ${this.port}, data ${this.dataDir}): ${(error as Error).message}; stderr: ${this.stderr}`);
    }
    this.port = Number(LISTENING.exec(line)![1]);
  }
}

export interface FinishedRun extends ProcessEnd {
  stdout: string;
  stderr: string;
}

/**
 * Runs midge on `dataDir` for a start that must fail: resolves when the process has ended and
 * its output is read in full. A midge that starts after all is killed (SIGKILL, by PID) when
 * it prints its listening line, and the run reports that line in `stdout`.
 */
export async function runMidgeToExit(dataDir: string, args: string[] = [], ms = 15_000): Promise<FinishedRun> {
  if (!existsSync(DIST_CLI)) throw new Error(`${DIST_CLI} is missing: run \`npm run build\` before the system tests`);
  const child = spawn(
    process.execPath,
    [MIDGE_BIN, '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'warn', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (text: string) => {
    stdout += text;
    if (/^midge listening on /m.test(stdout)) child.kill('SIGKILL');
  });
  child.stderr.on('data', (text: string) => (stderr += text));
  try {
    // 'close' comes after the process ended and its output streams are drained.
    const [code, signal] = await withTimeout(
      new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s]))),
      ms,
      'midge to exit',
    );
    return { code, signal, stdout, stderr };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
