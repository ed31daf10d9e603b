// Command-line flags of `midge`, parsed into a config with errors that name the flag.

import { isLogLevel, type LogLevel } from '../broker/logger.js';

export interface CliConfig {
  help: boolean;
  version: boolean;
  port: number;
  host: string;
  dataDir: string;
  memory: boolean;
  durability: 'os' | 'fsync';
  logLevel: LogLevel;
  /** Broker limits given on the command line (library names, see BrokerOptions). */
  limits: CliLimits;
  tlsPort?: number;
  tlsCert?: string;
  tlsKey?: string;
  wsPort?: number;
  /** TCP connections as net.Socket instead of bare handles. */
  netSockets: boolean;
}

export interface CliLimits {
  maxQueuedMessages?: number;
  maxQueuedBytes?: number;
  queueFullPolicy?: 'drop-new' | 'drop-oldest' | 'disconnect';
  maxInflight?: number;
  maxInflightRetained?: number;
  maximumPacketSize?: number;
  queueWindow?: number;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const USAGE = `Usage: midge [options]

An MQTT 3.1, 3.1.1 and 5.0 broker.

Options:
  --port <n>          TCP port to listen on (default 1883)
  --host <addr>       address to bind (default 0.0.0.0)
  --data-dir <dir>    where state is kept (default ./data)
  --memory            keep no state on disk
  --durability <d>    os (default: a commit survives a crash of the process) or
                      fsync (a commit survives power loss; slower)
  --log-level <lvl>   debug, info, warn, error or silent (default info)
  --tls-port <n>      also listen for MQTT over TLS (needs --tls-cert and --tls-key)
  --tls-cert <file>   PEM certificate chain for TLS
  --tls-key <file>    PEM private key for TLS
  --ws-port <n>       also listen for MQTT over WebSocket
  --net-sockets       serve TCP clients through net.Socket (more memory per
                      connection) instead of Node's bare TCP handle
  --max-queued-messages <n>  messages kept per session while offline or behind (100000)
  --max-queued-bytes <n>     payload bytes kept per session (268435456)
  --queue-full <policy>      drop-new (default), drop-oldest or disconnect
  --queue-window <n>         queued messages of an online persistent session held in
                             memory; the rest wait in the store (1000)
  --max-inflight <n>         outgoing QoS 1/2 messages in flight per client (100)
  --max-inflight-retained <n>  the same while the retained messages of a new
                             subscription are sent (1000; a 5.0 client's Receive
                             Maximum still caps it)
  --max-packet-size <n>      largest packet accepted, in bytes (protocol maximum)
  -h, --help          print this help
  -v, --version       print the version
`;

export function parseFlags(argv: string[]): CliConfig {
  const config: CliConfig = { help: false, version: false, port: 1883, host: '0.0.0.0', dataDir: './data', memory: false, durability: 'os', logLevel: 'info', limits: {}, netSockets: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[++i];
      if (next === undefined) throw new ConfigError(`${name} needs a value`);
      return next;
    };
    switch (name) {
      case '-h':
      case '--help':
        config.help = true;
        break;
      case '-v':
      case '--version':
        config.version = true;
        break;
      case '--port':
        config.port = parsePort(name, value());
        break;
      case '--tls-port':
        config.tlsPort = parsePort(name, value());
        break;
      case '--ws-port':
        config.wsPort = parsePort(name, value());
        break;
      case '--tls-cert':
        config.tlsCert = value();
        break;
      case '--tls-key':
        config.tlsKey = value();
        break;
      case '--host':
        config.host = value();
        break;
      case '--data-dir':
        config.dataDir = value();
        break;
      case '--memory':
        config.memory = true;
        break;
      case '--net-sockets':
        config.netSockets = true;
        break;
      case '--durability': {
        const durability = value();
        if (durability !== 'os' && durability !== 'fsync') throw new ConfigError(`--durability must be os or fsync; got '${durability}'`);
        config.durability = durability;
        break;
      }
      case '--max-queued-messages':
        config.limits.maxQueuedMessages = parseCount(name, value(), 1);
        break;
      case '--max-queued-bytes':
        config.limits.maxQueuedBytes = parseCount(name, value(), 1);
        break;
      case '--queue-window':
        config.limits.queueWindow = parseCount(name, value(), 1);
        break;
      case '--max-inflight':
        config.limits.maxInflight = parseCount(name, value(), 1, 65535);
        break;
      case '--max-inflight-retained':
        config.limits.maxInflightRetained = parseCount(name, value(), 1, 65535);
        break;
      case '--max-packet-size':
        config.limits.maximumPacketSize = parseCount(name, value(), 2, 268435460);
        break;
      case '--queue-full': {
        const policy = value();
        if (policy !== 'drop-new' && policy !== 'drop-oldest' && policy !== 'disconnect') {
          throw new ConfigError(`--queue-full must be drop-new, drop-oldest or disconnect; got '${policy}'`);
        }
        config.limits.queueFullPolicy = policy;
        break;
      }
      case '--log-level': {
        const level = value();
        if (!isLogLevel(level)) throw new ConfigError(`--log-level must be one of debug, info, warn, error, silent; got '${level}'`);
        config.logLevel = level;
        break;
      }
      default:
        throw new ConfigError(`unknown option '${arg}' (see --help)`);
    }
  }
  if (config.tlsPort !== undefined && (config.tlsCert === undefined || config.tlsKey === undefined)) {
    throw new ConfigError('--tls-port needs --tls-cert and --tls-key');
  }
  return config;
}

function parseCount(flag: string, raw: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) throw new ConfigError(`${flag} must be a whole number from ${min} to ${max}, got '${raw}'`);
  return n;
}

function parsePort(flag: string, raw: string): number {
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) throw new ConfigError(`${flag} must be a number from 0 to 65535, got '${raw}'`);
  return port;
}
