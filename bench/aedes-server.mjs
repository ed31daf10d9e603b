// Aedes 1.x on TCP for the benchmark: node bench/aedes-server.mjs PORT
// Default options (in-memory persistence and emitter) and a default net.Server: with
// TCP_NODELAY Aedes was slower here (pairs-qos1 23k vs 31k msg/s), so it runs as it ships.
import net from 'node:net';
import { Aedes } from 'aedes';

const port = Number(process.argv[2] ?? 1883);
const aedes = await Aedes.createBroker();
const server = net.createServer(aedes.handle);
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`aedes listening on 127.0.0.1:${port}\n`);
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 2000).unref();
  server.close();
  aedes.close(() => process.exit(0));
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
