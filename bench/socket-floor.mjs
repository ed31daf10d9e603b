// The memory floor of an idle TCP connection in Node itself: a bare server that only holds its
// connections, measured like the `connections` scenario (RSS growth per connection), once with
// net.Socket and once with Node's bare TCP handle (what Midge serves TCP clients from; see
// src/transport/tcp-handle.ts). Run: node bench/socket-floor.mjs [connections]. It compares
// Midge's KiB/connection with what any Node broker pays before doing anything. Traffic stays
// on 127.0.0.1; each connection sends one 14-byte CONNECT, as a client would.

import net from 'node:net';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CONNECT = Buffer.from([0x10, 0x0c, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 60, 0, 0]);

function serveNet() {
  const sockets = [];
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.push(socket);
    socket.on('data', () => {});
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
}

function serveHandles() {
  const { TCP, constants } = process.binding('tcp_wrap');
  const handles = [];
  const server = new TCP(constants.SERVER);
  if (server.bind('127.0.0.1', 0) !== 0) throw new Error('bind failed');
  server.onconnection = (status, handle) => {
    if (status < 0) return;
    handles.push(handle);
    handle.onread = () => {};
    handle.readStart();
  };
  server.listen(511);
  const address = {};
  server.getsockname(address);
  process.stdout.write(`${address.port}\n`);
  setInterval(() => {}, 60_000);
}

async function measure(kind, count) {
  const child = spawn(process.execPath, [new URL(import.meta.url).pathname, '--server', kind], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
    const rssKiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]);
    await new Promise((r) => setTimeout(r, 500));
    const before = rssKiB();
    const sockets = [];
    for (let i = 0; i < count; i++) {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('connect', () => socket.write(CONNECT));
      socket.on('error', () => {});
      sockets.push(socket);
      if (i % 200 === 199) await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 1500));
    const after = rssKiB();
    console.log(`bare Node server, ${kind === 'net' ? 'net.Socket' : 'TCP handle'}: ${((after - before) / count).toFixed(2)} KiB RSS per idle connection (${count} connections, idle RSS ${(before / 1024).toFixed(0)} MiB)`);
    for (const s of sockets) s.destroy();
  } finally {
    child.kill();
  }
}

if (process.argv[2] === '--server') {
  if (process.argv[3] === 'handle') serveHandles();
  else serveNet();
} else {
  const count = Number(process.argv[2] ?? 5000);
  await measure('net', count);
  await measure('handle', count);
}
