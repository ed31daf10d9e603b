// What a transport hands the broker core for each accepted client. net.Socket, tls.TLSSocket
// and a WebSocket stream all fit; tests use an in-memory duplex. The core never sees a socket.

/**
 * Where a connection keeps the client it serves, for listeners shared by every connection. A
 * connection class of our own declares it, so setting it adds no property storage.
 */
export const CONNECTION_OWNER: unique symbol = Symbol('midge.client');

export interface Connection {
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  /** Bytes written and not yet handed to the operating system; bounds slow consumers. */
  readonly writableLength: number;
  /** The client gathers an event-loop turn's packets and writes them at once (Client.write). */
  write(bytes: Buffer): boolean;
  /** Stop and restart delivering 'data' (backpressure towards a fast publisher). */
  pause(): unknown;
  resume(): unknown;
  /** Flush what is written, then close. */
  end(): void;
  /** Close now, dropping anything unsent. */
  destroy(): void;
  /**
   * Input. A transport may lend its own read buffer: it then passes `lentLength`, the input is
   * chunk[0, lentLength), and the buffer is overwritten once the listener returns, so the
   * listener copies whatever it keeps. Without `lentLength` the chunk is the listener's to keep.
   */
  on(event: 'data', listener: (chunk: Buffer, lentLength?: number) => void): this;
  on(event: 'drain' | 'close', listener: () => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
}
