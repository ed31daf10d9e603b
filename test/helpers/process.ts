// Runs a third-party program (paho-mqtt scripts, mosquitto tools) and reads its output by line.

import { spawn, type ChildProcess } from 'node:child_process';
import { after } from 'node:test';
import { withTimeout } from './wait.js';

/**
 * Every program started and not yet exited. A test that fails before it stops its own (a
 * subscriber script loops for ever) must not leave it running: its pipes would keep the test
 * file's process, and with it the whole suite, waiting until CI's time runs out. After the last
 * test of each file that starts programs, whatever still runs is killed.
 */
const running = new Set<ChildProcess>();
after(() => {
  for (const child of running) child.kill('SIGKILL');
});

export class Program {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private waiters: (() => void)[] = [];
  private buffer = '';
  /** Exited and its output fully read. */
  private closed = false;

  constructor(
    readonly child: ChildProcess,
    readonly name: string,
  ) {
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (text: string) => this.take(text));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      if (process.env.MIDGE_LOG === '1') process.stderr.write(`[${name}] ${text}`);
    });
    // 'close', not 'exit': at 'exit' the last output may still be unread in the pipe (a
    // mosquitto_sub -C 3 could look as if it had printed two lines).
    running.add(child);
    this.exited = new Promise((resolve) => child.on('close', (code) => {
      running.delete(child);
      if (this.buffer.length > 0) this.lines.push(this.buffer);
      this.buffer = '';
      this.closed = true;
      this.wake();
      resolve(code);
    }));
  }

  static start(command: string, args: string[], env: Record<string, string> = {}): Program {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    return new Program(child, command);
  }

  /** Waits until a line matching `pattern` has been printed; returns it. */
  async waitForLine(pattern: RegExp, ms = 10000): Promise<string> {
    const found = (): string | undefined => this.lines.find((l) => pattern.test(l));
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (found() !== undefined || this.closed) resolve();
          else this.waiters.push(check);
        };
        check();
      }),
      ms,
      `${this.name} to print ${pattern} (printed: ${JSON.stringify(this.lines)})`,
    );
    const line = found();
    if (line === undefined) throw new Error(`${this.name} exited without printing ${pattern}; printed ${JSON.stringify(this.lines)}`);
    return line;
  }

  async waitExit(ms = 10000): Promise<number | null> {
    return withTimeout(this.exited, ms, `${this.name} to exit`);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.child.exitCode === null) this.child.kill(signal);
  }

  private take(text: string): void {
    this.buffer += text;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      this.lines.push(this.buffer.slice(0, nl));
      this.buffer = this.buffer.slice(nl + 1);
    }
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** Debian's python3 with python3-paho-mqtt (not the pyenv python3 first on PATH). */
export const SYSTEM_PYTHON = '/usr/bin/python3';
