// A TCP connection served straight from Node's own TCP handle (the libuv stream under every
// net.Socket), without the net.Socket and its two stream states over it. The broker core only
// needs bytes in, bytes out, pause, end and close (Connection), and net.Socket costs about
// 2.9 KiB of memory per connection for the rest: a bare Node server with 10,000 idle clients
// holds 4.2 KiB per connection with net.Socket, 1.3 KiB with the handle (bench/socket-floor.mjs).
//
// The handle comes from process.binding('tcp_wrap'), the binding net itself is built on. It is
// not a documented API, so it is used only when it has exactly the shape relied on here
// (tcpHandleSupport()); otherwise, or with `--net-sockets`, listeners hand out net.Socket.

import { Buffer } from 'node:buffer';
import { getSystemErrorName } from 'node:util';
import { CONNECTION_OWNER, type Connection } from '../broker/connection.js';

/** The parts of Node's TCP handle (tcp_wrap / stream_wrap) used here. */
export interface TcpHandle {
  /**
   * Must stay a function: the binding refuses anything else. With a user buffer it gets no
   * argument, and must return undefined (anything else would become the next read buffer).
   */
  onread: (this: TcpHandle, arrayBuffer: ArrayBuffer | undefined) => void;
  /** Reads go into `buffer` instead of a fresh allocation per read. */
  useUserBuffer(buffer: Uint8Array): number;
  readStart(): number;
  readStop(): number;
  writeBuffer(req: WriteRequest, data: Buffer): number;
  shutdown(req: ShutdownRequest): number;
  close(callback: () => void): void;
  getpeername(out: { address?: string; port?: number }): number;
  setNoDelay(on: boolean): number;
}

interface WriteRequest {
  handle: TcpHandle;
  oncomplete: (this: WriteRequest, status: number) => void;
  buffer: Buffer;
  conn: HandleConnection;
}

interface ShutdownRequest {
  handle: TcpHandle;
  oncomplete: (this: ShutdownRequest, status: number) => void;
  conn: HandleConnection;
}

interface StreamBinding {
  WriteWrap: new () => WriteRequest;
  ShutdownWrap: new () => ShutdownRequest;
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
}

let stream: StreamBinding | undefined;
let eof = -4095;

/**
 * Whether this Node offers the stream binding with the fields used here; loads it once. Any
 * difference (a Node that dropped process.binding or changed the binding) means net.Socket.
 */
export function tcpHandleSupport(): boolean {
  if (stream !== undefined) return true;
  try {
    const binding = (process as unknown as { binding(name: string): Record<string, unknown> }).binding;
    const s = binding('stream_wrap') as unknown as StreamBinding;
    const uv = binding('uv') as { UV_EOF?: unknown };
    const ok =
      typeof s.WriteWrap === 'function' && typeof s.ShutdownWrap === 'function' && s.streamBaseState instanceof Int32Array &&
      [s.kReadBytesOrError, s.kLastWriteWasAsync].every((k) => Number.isInteger(k)) &&
      typeof uv.UV_EOF === 'number';
    if (!ok) return false;
    eof = uv.UV_EOF as number;
    stream = s;
    return true;
  } catch {
    return false;
  }
}

/** Whether `handle` is a TCP handle this module can drive. */
export function isTcpHandle(handle: unknown): handle is TcpHandle {
  const h = handle as Partial<TcpHandle> | null;
  return h !== null && typeof h === 'object' && typeof h.readStart === 'function' && typeof h.writeBuffer === 'function' &&
    typeof h.shutdown === 'function' && typeof h.close === 'function' && typeof h.getpeername === 'function' &&
    typeof h.useUserBuffer === 'function';
}

/** Counts a listener's open connections, so that closing the listener can wait for them. */
export class ConnectionTracker {
  private open = 0;
  private waiters: (() => void)[] = [];

  opened(): void {
    this.open++;
  }

  closed(): void {
    if (--this.open === 0) for (const resolve of this.waiters.splice(0)) resolve();
  }

  /** Resolves once no connection is open. */
  idle(): Promise<void> {
    return this.open === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

type DataListener = (chunk: Buffer, lentLength?: number) => void;
type ErrorListener = (error: Error) => void;
type Listener = () => void;

/** Where a handle keeps the connection it serves, for the shared read callback. */
const CONNECTION = Symbol('midge.connection');
type OwnedHandle = TcpHandle & { [CONNECTION]?: HandleConnection };

export class HandleConnection implements Connection {
  [CONNECTION_OWNER]: unknown = undefined;
  private handle: OwnedHandle | undefined;
  /** Bytes handed to the handle whose write has not completed yet. */
  writableLength = 0;
  private dataListener: DataListener | undefined;
  private drainListener: Listener | undefined;
  private closeListener: Listener | undefined;
  private errorListener: ErrorListener | undefined;
  /** end() was called: shut the write side once everything written has left. */
  private ending = false;
  private shutDown = false;
  /** The peer closed its side. */
  private peerEnded = false;
  private paused = false;
  /** The handle has closed (net.Socket has the same property). */
  closed = false;

  constructor(
    handle: TcpHandle,
    private readonly tracker?: ConnectionTracker,
  ) {
    tracker?.opened();
    this.handle = handle;
    (handle as OwnedHandle)[CONNECTION] = this;
    handle.onread = onRead;
    handle.useUserBuffer(readBuffer);
    handle.setNoDelay(true);
    const err = handle.readStart();
    // Failing here means the socket is already gone: close it once the listeners are on.
    if (err !== 0) queueMicrotask(() => this.fail(err, 'read'));
  }

  get remoteAddress(): string | undefined {
    return this.peer().address;
  }

  get remotePort(): number | undefined {
    return this.peer().port;
  }

  private peer(): { address?: string; port?: number } {
    const out: { address?: string; port?: number } = {};
    this.handle?.getpeername(out);
    return out;
  }

  on(event: 'data', listener: DataListener): this;
  on(event: 'drain' | 'close', listener: Listener): this;
  on(event: 'error', listener: ErrorListener): this;
  on(event: 'data' | 'drain' | 'close' | 'error', listener: DataListener | Listener | ErrorListener): this {
    // One listener per event is all the core registers; a second would be a bug in the caller.
    const taken = event === 'data' ? this.dataListener : event === 'drain' ? this.drainListener : event === 'close' ? this.closeListener : this.errorListener;
    if (taken !== undefined) throw new Error(`a second '${event}' listener on a TCP connection`);
    if (event === 'data') this.dataListener = listener as DataListener;
    else if (event === 'drain') this.drainListener = listener as Listener;
    else if (event === 'close') this.closeListener = listener as Listener;
    else this.errorListener = listener as ErrorListener;
    return this;
  }

  write(bytes: Buffer): boolean {
    const handle = this.handle;
    if (handle === undefined || this.ending) return false;
    const s = stream!;
    // A write that completes at once never binds its request object (the binding only does
    // so for a write it has to finish later), so one object serves every such write.
    const req = spareRequest ?? new s.WriteWrap();
    spareRequest = undefined;
    const err = handle.writeBuffer(req, bytes);
    if (err !== 0) {
      this.fail(err, 'write');
      return false;
    }
    if (s.streamBaseState[s.kLastWriteWasAsync] === 0) {
      spareRequest = req;
      return true;
    }
    // Not all of it went out at once: the rest is written from `bytes` later, which the
    // request keeps alive; it counts as buffered until the request completes (never before
    // this returns: completions come from the event loop).
    req.handle = handle;
    req.oncomplete = onWriteComplete;
    req.conn = this;
    req.buffer = bytes;
    this.writableLength += bytes.length;
    pendingWrites.add(req);
    return true;
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.handle?.readStop();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.handle !== undefined && !this.peerEnded) this.handle.readStart();
  }

  /** Shuts the write side once what was written has left; closes when the peer has closed too. */
  end(): void {
    if (this.handle === undefined || this.ending) return;
    this.ending = true;
    // Reading goes on (and is discarded) so that the peer's close is seen.
    if (this.paused) this.resume();
    if (this.writableLength === 0) this.shutdown();
  }

  destroy(): void {
    const handle = this.handle;
    if (handle === undefined) return;
    this.handle = undefined;
    handle.readStop();
    handle.close(() => {
      delete (handle as OwnedHandle)[CONNECTION];
      this.closed = true;
      this.tracker?.closed();
      this.closeListener?.();
    });
  }

  onRead(): void {
    const s = stream!;
    const nread = s.streamBaseState[s.kReadBytesOrError];
    if (nread > 0) {
      if (this.ending) return; // Closing: what the peer still sends is not read.
      // The bytes are in the shared read buffer, which the next read of any connection
      // overwrites. They are lent to the core as they are, and it copies only what it keeps
      // (PacketDecoder.decode): a payload, or the rest of a read that holds several PUBLISH; a
      // PUBACK keeps nothing. At low rates nearly every read is one packet, and a Buffer per read
      // was a fifth of the heap allocated per message.
      this.dataListener?.(readBuffer, nread);
      if (scrambleReads) readBuffer.fill(SCRAMBLED, 0, nread);
      return;
    }
    if (nread === 0) return;
    if (nread !== eof) {
      this.fail(nread, 'read');
      return;
    }
    // The peer closed its side: no more input. As net.Socket does (allowHalfOpen false), our
    // side is ended too, after what is still being written, and the connection then closes.
    this.peerEnded = true;
    if (this.shutDown) this.destroy();
    else this.end();
  }

  writeCompleted(req: WriteRequest, status: number): void {
    pendingWrites.delete(req);
    if (this.handle === undefined) return;
    this.writableLength -= req.buffer.length;
    if (status < 0) {
      this.fail(status, 'write');
      return;
    }
    if (this.writableLength > 0) return;
    if (this.ending) this.shutdown();
    else this.drainListener?.();
  }

  private shutdown(): void {
    const handle = this.handle;
    if (handle === undefined || this.shutDown) return;
    this.shutDown = true;
    const req = new stream!.ShutdownWrap();
    req.handle = handle;
    req.oncomplete = onShutdownComplete;
    req.conn = this;
    const err = handle.shutdown(req);
    if (err !== 0) this.destroy();
  }

  shutdownCompleted(): void {
    // Both sides done: close. Until the peer's own FIN, the socket stays open so that what we
    // sent is not cut off by a reset (the caller's end-timeout bounds how long).
    if (this.peerEnded) this.destroy();
  }

  private fail(status: number, what: string): void {
    if (this.handle === undefined) return;
    const code = safeErrorName(status);
    const error = Object.assign(new Error(`${what} ${code}`), { code, errno: status, syscall: what });
    this.destroy();
    this.errorListener?.(error);
  }
}

function safeErrorName(status: number): string {
  try {
    return getSystemErrorName(status);
  } catch {
    return `error ${status}`;
  }
}

/** Write requests in progress, kept referenced until their completion is reported. */
const pendingWrites = new Set<WriteRequest>();
/** A write request object not bound to any write (see write()). */
let spareRequest: WriteRequest | undefined;

/**
 * Every connection reads into this one buffer (libuv's usual read size): a read is handled to
 * the end before the next begins, and the core copies out what it keeps. Node would otherwise
 * allocate 64 KiB per read, shrink it to what was read, and wrap it in a new ArrayBuffer.
 */
const READ_BUFFER_SIZE = 64 * 1024;
const readBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_SIZE);
/** Reads are lent to the core, not copied (see onRead); bench/core-path.mjs asks. */
export const LENDS_READS = true;
/**
 * A check for the tests (scripts/run-tests.mjs sets MIDGE_SCRAMBLE_LENT_READS=1, which child
 * brokers inherit): each read is overwritten once the core has handled it, so anything the core
 * kept pointing into the shared buffer arrives wrong in every test, not only when a later read
 * happens to land before it is used.
 */
let scrambleReads = process.env.MIDGE_SCRAMBLE_LENT_READS === '1';
/** The byte a scrambled read is overwritten with. */
export const SCRAMBLED = 0xa5;

/** Turns the check above on or off in this process (for its own test); returns what it was. */
export function scrambleLentReads(on: boolean): boolean {
  const was = scrambleReads;
  scrambleReads = on;
  return was;
}

function onRead(this: TcpHandle): undefined {
  (this as OwnedHandle)[CONNECTION]?.onRead();
  return undefined;
}

function onWriteComplete(this: WriteRequest, status: number): void {
  this.conn.writeCompleted(this, status);
}

function onShutdownComplete(this: ShutdownRequest): void {
  this.conn.shutdownCompleted();
}
