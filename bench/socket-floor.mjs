// The memory floor of an idle TCP connection in Node itself: a bare net server that only
// holds its sockets, measured like the `connections` scenario (RSS growth per connection).
// Run: node bench/socket-floor.mjs [connections]. It compares Midge's KiB/connection with
// what any Node broker pays before doing anything. Traffic stays on 127.0.0.1.

import net from 'node:net';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

if (process.argv[2] === '--server') {
  const sockets = [];
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.push(socket);
    socket.on('data', () => {});
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
} else {
  const count = Number(process.argv[2] ?? 5000);
  const child = spawn(process.execPath, [new URL(import.meta.url).pathname, '--server'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
    const rssKiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]);
    await new Promise((r) => setTimeout(r, 500));
    const before = rssKiB();
    const sockets = [];
    for (let i = 0; i < count; i++) {
      sockets.push(net.connect(port, '127.0.0.1'));
      if (i % 200 === 199) await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 1500));
    const after = rssKiB();
    console.log(`bare Node server: ${((after - before) / count).toFixed(2)} KiB RSS per idle connection (${count} connections, idle RSS ${(before / 1024).toFixed(0)} MiB)`);
    for (const s of sockets) s.destroy();
  } finally {
    child.kill();
  }
}
