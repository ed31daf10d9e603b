// Turning results into a terminal table, a Markdown summary and an SVG chart (grouped bars,
// drawn here: a chart is a few rectangles, no dependency needed).

import { isMidge, type BrokerName } from './brokers.js';
import { Histogram } from './histogram.js';
import type { RunResult } from './runner.js';
import { bootstrapRatio, signTestP, type RatioInterval } from './stats.js';

/** The median of each numeric field over the rounds of one scenario and broker. */
export interface Summary {
  scenario: string;
  broker: BrokerName;
  runs: number;
  failed: number;
  error?: string;
  best: RunResult | undefined;
  throughput: number;
  sentPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Each round's p99 by round number: one round's tail is mostly chance on a shared VM, so the spread and a round-by-round comparison say more than the median alone. */
  p99ByRound: Map<number, number>;
  /** Each round's latency histogram (Histogram.toSparse) by round number, where the run kept one. */
  histogramByRound: Map<number, number[]>;
  /**
   * Latency scenarios: p99 over the messages of every round together (NaN when a round has no
   * histogram, as in results written before it was kept). Steadier than the median of the
   * rounds' p99, each of which rests on a few stalls.
   */
  p99PooledMs: number;
  maxMs: number;
  cpuPerMillion: number;
  brokerCpuPct: number;
  peakRssMiB: number;
  genCpuPct: number;
  genEluMax: number;
  genThreadMaxPct: number;
  otherCpuPct: number;
  brokerWaitPct: number;
  sent: number;
  received: number;
  lost: number;
  duplicates: number;
  reordered: number | null;
  unexpected: number;
  unacked: number;
  extra: Record<string, number>;
}

function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

export function summarize(results: RunResult[]): Summary[] {
  const keys: string[] = [];
  const groups = new Map<string, RunResult[]>();
  for (const r of results) {
    const key = `${r.scenario}\t${r.broker}`;
    if (!groups.has(key)) {
      groups.set(key, []);
      keys.push(key);
    }
    groups.get(key)!.push(r);
  }
  return keys.map((key) => {
    const all = groups.get(key)!;
    const ok = all.filter((r) => r.ok);
    const med = (f: (r: RunResult) => number): number => median(ok.map(f));
    const sum = (f: (r: RunResult) => number): number => ok.reduce((n, r) => n + f(r), 0);
    const extraKeys = new Set(ok.flatMap((r) => Object.keys(r.extra)));
    const extra: Record<string, number> = {};
    for (const k of extraKeys) extra[k] = med((r) => r.extra[k]);
    return {
      scenario: all[0].scenario,
      broker: all[0].broker,
      runs: all.length,
      failed: all.length - ok.length,
      error: all.find((r) => !r.ok)?.error,
      best: ok[0],
      throughput: med((r) => r.throughput),
      sentPerSec: med((r) => r.sentPerSec),
      p50Ms: med((r) => r.p50Ms),
      p99Ms: med((r) => r.p99Ms),
      p99ByRound: new Map(ok.map((r) => [r.round, r.p99Ms])),
      histogramByRound: new Map(ok.flatMap((r): [number, number[]][] => (r.latencyHistogram === undefined ? [] : [[r.round, r.latencyHistogram]]))),
      p99PooledMs: pooledP99(ok),
      maxMs: med((r) => r.maxMs),
      cpuPerMillion: med((r) => r.cpuPerMillion),
      brokerCpuPct: med((r) => r.brokerCpuPct),
      peakRssMiB: med((r) => r.brokerPeakRssMiB),
      genCpuPct: med((r) => r.genCpuPct),
      genEluMax: med((r) => r.genEluMax),
      genThreadMaxPct: med((r) => r.genThreadMaxPct),
      otherCpuPct: med((r) => r.otherCpuPct),
      brokerWaitPct: med((r) => r.brokerWaitPct),
      sent: sum((r) => r.sent),
      received: sum((r) => r.received),
      lost: sum((r) => r.lost),
      duplicates: sum((r) => r.duplicates),
      reordered: ok.some((r) => r.reordered === null) ? null : sum((r) => r.reordered ?? 0),
      unexpected: sum((r) => r.unexpected),
      unacked: sum((r) => r.unacked),
      extra,
    };
  });
}

function pooledP99(rounds: RunResult[]): number {
  if (rounds.length === 0 || rounds.some((r) => r.latencyHistogram === undefined)) return NaN;
  const pairs = rounds.flatMap((r) => r.latencyHistogram!);
  const h = Histogram.fromSparse(pairs, Math.max(...rounds.map((r) => r.maxMs * 1000)));
  return h.quantile(0.99) / 1000;
}

/**
 * This broker's p99 over all messages against Mosquitto's, over the rounds both ran (each
 * with its histogram), with a bootstrap interval over those rounds (stats.ts bootstrapRatio).
 */
function pooledP99Ratio(s: Summary, mosq: Summary): RatioInterval | undefined {
  const pairs: [number[], number[]][] = [];
  for (const [round, mine] of s.histogramByRound) {
    const theirs = mosq.histogramByRound.get(round);
    if (theirs !== undefined) pairs.push([mine, theirs]);
  }
  if (pairs.length < 2) return undefined;
  return bootstrapRatio(pairs, (rounds) => Histogram.fromSparse(rounds.flat()).quantile(0.99));
}

function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return '-';
  if (Math.abs(n) >= 1e6 && digits === 0) return `${(n / 1e6).toFixed(2)}M`;
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ms(n: number): string {
  if (!Number.isFinite(n)) return '-';
  return n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0);
}

function ratio(a: number, b: number | undefined): string {
  if (b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '-';
  return `${(a / b).toFixed(2)}x`;
}

/**
 * For a fixed-rate scenario (where p99 is the figure that matters): the range of the rounds' p99,
 * in how many rounds this broker's p99 was at most Mosquitto's in the same round (with the sign
 * test's chance of so uneven a split between two equal brokers), and p99 over every round's
 * messages together.
 */
function p99Rounds(s: Summary, mosq: Summary | undefined): string | undefined {
  if (s.p99ByRound.size < 2 || s.sentPerSec === 0 || !s.scenario.startsWith('latency')) return undefined;
  const values = [...s.p99ByRound.values()];
  let text = `p99 per round ${ms(Math.min(...values))}-${ms(Math.max(...values))} ms`;
  if (mosq !== undefined && mosq !== s) {
    let paired = 0;
    let atMost = 0;
    for (const [round, p99] of s.p99ByRound) {
      const other = mosq.p99ByRound.get(round);
      if (other === undefined) continue;
      paired++;
      if (p99 <= other) atMost++;
    }
    if (paired > 0) text += `, at most Mosquitto's in ${atMost}/${paired} rounds (sign test p ${signTestP(atMost, paired).toFixed(2)})`;
  }
  if (Number.isFinite(s.p99PooledMs)) text += `; all rounds' messages together p99 ${ms(s.p99PooledMs)} ms`;
  const interval = mosq !== undefined && mosq !== s ? pooledP99Ratio(s, mosq) : undefined;
  if (interval !== undefined) {
    text += `, ${interval.ratio.toFixed(3)}x Mosquitto's (95% bootstrap interval over rounds ${interval.low.toFixed(3)}-${interval.high.toFixed(3)}; at most Mosquitto's in ${(interval.atMostOne * 100).toFixed(0)}% of resamples)`;
  }
  return text;
}

function notes(s: Summary, mosq: Summary | undefined): string {
  const parts: string[] = [];
  const rounds = p99Rounds(s, mosq);
  if (rounds !== undefined) parts.push(rounds);
  if (s.failed > 0) parts.push(`FAILED ${s.failed}/${s.runs}: ${s.error ?? ''}`.slice(0, 160));
  const e = s.extra;
  if (e.kbPerConnection !== undefined) {
    // The idle broker's RSS right after start and after 12 s (bench/README.md, connections).
    const idle = e.baseRssMiB !== undefined ? `, idle RSS ${fmt(e.idleRssMiB)} MiB at start, ${fmt(e.baseRssMiB)} after 12 s` : '';
    parts.push(`${fmt(e.kbPerConnection, 1)} KiB/conn${idle}, ${fmt(e.failed)} failed`);
  }
  if (e.loadMs !== undefined) parts.push(`load ${fmt(e.loadMs / 1000, 2)} s (${fmt(e.loadPerSec)}/s), first ${ms(e.firstMs)} ms, all ${ms(e.allMs)} ms`);
  // QoS 1: the most messages the broker had unacknowledged at once (window 100 configured for all).
  if (e.maxUnacked !== undefined && e.maxUnacked > 0) parts.push(`max unacked ${fmt(e.maxUnacked)}`);
  if (s.unacked > 0) parts.push(`${s.unacked} never acked`);
  if (s.unexpected > 0) parts.push(`${s.unexpected} unexpected`);
  if (s.genThreadMaxPct > 90) parts.push('a generator thread was saturated');
  if (s.best !== undefined && s.best.errors.length > 0) parts.push(`client errors: ${s.best.errors[0]}`.slice(0, 120));
  return parts.join('; ');
}

export const COLUMNS = [
  'scenario', 'broker', 'sent', 'received', 'rate/s', 'p50 ms', 'p99 ms', 'max ms', 'lost', 'dup', 'reord',
  'CPU s/M', 'broker CPU%', 'peak RSS MiB', 'gen CPU%', 'gen thread max%', 'other CPU%', 'broker wait%', 'rate vs mosq', 'rate vs aedes', 'CPU vs mosq', 'CPU vs aedes', 'notes',
];

/** Extra ratio columns when a variant of Midge (midge-sqlite, midge-fsync, midge-net) ran: it against Midge in memory. */
const VS_MIDGE = ['rate vs midge', 'CPU vs midge'];

function hasMidgeVariant(summaries: Summary[]): boolean {
  return summaries.some((s) => s.broker !== 'midge' && isMidge(s.broker));
}

/** The header for these summaries: COLUMNS, plus the ratios to Midge in memory when a variant ran. */
export function columns(summaries: Summary[]): string[] {
  return hasMidgeVariant(summaries) ? [...COLUMNS.slice(0, -1), ...VS_MIDGE, COLUMNS[COLUMNS.length - 1]] : COLUMNS;
}

/** One row of cells per scenario and broker, in run order (matching `columns(summaries)`). */
export function rows(summaries: Summary[]): string[][] {
  const find = (scenario: string, broker: BrokerName): Summary | undefined =>
    summaries.find((s) => s.scenario === scenario && s.broker === broker && s.runs > s.failed);
  const vsMidge = hasMidgeVariant(summaries);
  return summaries.map((s) => {
    const mosq = find(s.scenario, 'mosquitto');
    const aedes = find(s.scenario, 'aedes');
    const midge = s.broker === 'midge' ? undefined : find(s.scenario, 'midge');
    const ok = s.runs > s.failed;
    const midgeCells = vsMidge ? [ratio(s.throughput, midge?.throughput), ratio(s.cpuPerMillion, midge?.cpuPerMillion)] : [];
    return [
      s.scenario,
      s.broker,
      ok ? fmt(s.sent) : '-',
      ok ? fmt(s.received) : '-',
      ok ? fmt(s.throughput) : '-',
      ms(s.p50Ms),
      ms(s.p99Ms),
      ms(s.maxMs),
      ok ? fmt(s.lost) : '-',
      ok ? fmt(s.duplicates) : '-',
      ok && s.reordered !== null ? fmt(s.reordered) : '-',
      fmt(s.cpuPerMillion, 2),
      fmt(s.brokerCpuPct, 0),
      fmt(s.peakRssMiB, 0),
      fmt(s.genCpuPct, 0),
      fmt(s.genThreadMaxPct, 0),
      fmt(s.otherCpuPct, 0),
      fmt(s.brokerWaitPct, 1),
      ratio(s.throughput, mosq?.throughput),
      ratio(s.throughput, aedes?.throughput),
      ratio(s.cpuPerMillion, mosq?.cpuPerMillion),
      ratio(s.cpuPerMillion, aedes?.cpuPerMillion),
      ...midgeCells,
      notes(s, mosq),
    ];
  });
}

export function textTable(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const numeric = (i: number): boolean => i >= 2 && i < header.length - 1;
  const line = (cells: string[]): string =>
    cells.map((c, i) => (numeric(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function markdownTable(header: string[], body: string[][]): string {
  const esc = (c: string): string => c.replace(/\|/g, '\\|');
  const align = header.map((_, i) => (i >= 2 && i < header.length - 1 ? '---:' : '---'));
  return [header, align, ...body].map((r) => `| ${r.map(esc).join(' | ')} |`).join('\n');
}

const COLORS: Record<BrokerName, string> = { midge: '#2a9d8f', 'midge-sqlite': '#264653', 'midge-fsync': '#e76f51', 'midge-net': '#8ab17d', 'midge-base': '#9d8189', aedes: '#e9c46a', mosquitto: '#6c757d', floor: '#b0b0b0', 'floor-c': '#d0d0d0' };

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Small multiples: one row per scenario, one panel per metric (throughput, p99 latency, broker
 * CPU per million), one horizontal bar per broker, each panel on its own scale.
 */
export function svgChart(summaries: Summary[], title: string): string {
  const scenarios = [...new Set(summaries.map((s) => s.scenario))];
  const brokers = [...new Set(summaries.map((s) => s.broker))];
  const metrics: { label: string; value: (s: Summary) => number; format: (n: number) => string }[] = [
    { label: 'throughput (msg/s; conn/s)', value: (s) => s.throughput, format: (n) => fmt(n) },
    { label: 'p99 latency (ms)', value: (s) => s.p99Ms, format: ms },
    { label: 'broker CPU s per million', value: (s) => s.cpuPerMillion, format: (n) => fmt(n, 2) },
  ];
  const labelW = 120;
  const panelW = 250;
  const gap = 20;
  const bar = 14;
  const rowH = brokers.length * (bar + 3) + 22;
  const top = 60;
  const width = labelW + metrics.length * (panelW + gap) + 10;
  const height = top + scenarios.length * rowH + 10;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  out.push(`<text x="10" y="18" font-size="14" font-weight="bold">${xml(title)}</text>`);
  let lx = 10;
  for (const b of brokers) {
    out.push(`<rect x="${lx}" y="28" width="10" height="10" fill="${COLORS[b]}"/><text x="${lx + 14}" y="37">${b}</text>`);
    lx += b.length > 9 ? 110 : 90;
  }
  metrics.forEach((metric, mi) => {
    const x0 = labelW + mi * (panelW + gap);
    out.push(`<text x="${x0}" y="${top - 6}" font-weight="bold">${xml(metric.label)}</text>`);
  });
  scenarios.forEach((scenario, si) => {
    const y0 = top + si * rowH;
    out.push(`<text x="10" y="${y0 + rowH / 2}" dominant-baseline="middle">${xml(scenario)}</text>`);
    out.push(`<line x1="10" x2="${width - 10}" y1="${y0 + rowH - 4}" y2="${y0 + rowH - 4}" stroke="#eee"/>`);
    metrics.forEach((metric, mi) => {
      const x0 = labelW + mi * (panelW + gap);
      const values = brokers.map((b) => {
        const s = summaries.find((x) => x.scenario === scenario && x.broker === b);
        return s === undefined || s.runs === s.failed ? NaN : metric.value(s);
      });
      const max = Math.max(...values.filter((v) => Number.isFinite(v)), 0);
      brokers.forEach((b, bi) => {
        const v = values[bi];
        const y = y0 + 4 + bi * (bar + 3);
        const w = Number.isFinite(v) && max > 0 ? Math.max(1, (v / max) * (panelW - 70)) : 0;
        out.push(`<rect x="${x0}" y="${y}" width="${w.toFixed(1)}" height="${bar}" fill="${COLORS[b]}"/>`);
        out.push(`<text x="${(x0 + w + 4).toFixed(1)}" y="${y + bar - 3}">${Number.isFinite(v) ? xml(metric.format(v)) : 'n/a'}</text>`);
      });
    });
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
