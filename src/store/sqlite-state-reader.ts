// Reads the whole stored state back at startup.
//
// Retained messages can number in the millions, and better-sqlite3 is slow at handing out one
// row at a time when rows carry a BLOB (one separately allocated Buffer each) or come as arrays
// (measured on a small 2-core VM: ~12 s for 1M retained messages). So message tables are read
// in chunks of rows: SQLite turns a chunk into one JSON text (the small columns) and one BLOB
// (the payloads laid end to end), and JavaScript splits them: 3-4x faster. Both aggregates are fed the same rows in
// the same pass, so the n-th JSON entry owns the n-th stretch of the BLOB. Payloads above
// INLINE_PAYLOAD_MAX are left out of the BLOB and read one by one, which keeps a chunk's BLOB
// small whatever the payloads weigh.

import { Buffer } from 'node:buffer';
import type Database from 'better-sqlite3';
import { propertiesFromJson, type StoredPropertiesJson } from './properties-json.js';
import type { LoadOptions, StoredBacklog, StoredDelivery, StoredMessage, StoredSession, StoredState, StoredSubscription, StoredWill } from './store.js';

const CHUNK_ROWS = 10_000;
const INLINE_PAYLOAD_MAX = 4096;
const EMPTY = Buffer.alloc(0);

/** A delivery joined with its message: client_id, seq, qos, retain, subscription_ids, packet_id, released, share_group, message_id, then the message columns. */
type JoinedRow = [
  string, number, number, number, string | null, number | null, number | null, string | null, number,
  string, Buffer, number, number, string | null, number | null,
];

/** The delivery of a joined row; a message read before (same id) is shared, as it was stored. */
function joinedDelivery(
  row: JoinedRow,
  messages: Map<number, StoredMessage>,
  wrap: ((message: StoredMessage) => StoredMessage) | undefined,
  onMessage: (message: StoredMessage, id: number) => void,
): StoredDelivery {
  const [, seq, qos, retain, subscriptionIds, packetId, released, shareGroup, messageId, topic, payload, mQos, mRetain, properties, expiresAt] = row;
  let message = messages.get(messageId);
  if (message === undefined) {
    let stored: StoredMessage = { topic, payload, qos: mQos as StoredMessage['qos'], retain: mRetain === 1 };
    if (properties !== null) stored.properties = propertiesFromJson(JSON.parse(properties) as StoredPropertiesJson);
    if (expiresAt !== null) stored.expiresAt = expiresAt;
    if (wrap !== undefined) stored = wrap(stored);
    messages.set(messageId, (message = stored));
    onMessage(message, messageId);
  }
  const delivery: StoredDelivery = { seq, message, qos: qos as StoredDelivery['qos'], retain: retain === 1 };
  if (subscriptionIds !== null) delivery.subscriptionIdentifiers = JSON.parse(subscriptionIds) as number[];
  if (packetId !== null) delivery.packetId = checkedPacketId(packetId, seq, row[0]);
  if (released !== null) delivery.released = released === 1;
  if (shareGroup !== null) delivery.shareGroup = shareGroup;
  return delivery;
}

/**
 * An in-flight delivery's packet id as stored, which only a damaged file can have outside
 * 1-65535 ([MQTT-2.3.1-1] (v3.1.1)): that refuses the load, like any other damage, rather than
 * a resend the encoder would refuse later.
 */
function checkedPacketId(packetId: number, seq: number, clientId: string): number {
  if (!Number.isInteger(packetId) || packetId < 1 || packetId > 0xffff) {
    throw new Error(`delivery ${seq} of client ${clientId} has packet id ${packetId}, not one from 1 to 65535`);
  }
  return packetId;
}

/** rowid, topic, qos, retain, properties (parsed with the entry), expires_at, payload length. */
type MessageEntry = [number, string, number, number, StoredPropertiesJson | null, number | null, number];

export type MessageTable = 'retained' | 'messages';

export class StateReader {
  private readonly chunks: Record<MessageTable, Database.Statement<[number]>>;
  private readonly payloads: Record<MessageTable, Database.Statement<[number]>>;
  private readonly sessions: Database.Statement<[]>;
  private readonly firstDeliveries: Database.Statement<[]>;
  private readonly nextDeliveries: Database.Statement<[string, number]>;
  private readonly incoming: Database.Statement<[]>;
  private readonly wills: Database.Statement<[]>;
  private readonly inflight: Database.Statement<[]>;
  private readonly queuedPage: Database.Statement<[string, number, number]>;
  private readonly sharedPage: Database.Statement<[string, string, number, number]>;
  private readonly shareGroups: Database.Statement<[string, number]>;
  private readonly backlog: Database.Statement<[]>;

  constructor(db: Database.Database) {
    const chunk = (table: MessageTable) =>
      db
        .prepare<[number]>(
          `SELECT json_group_array(json_array(rid, topic, qos, retain, json(properties), expires_at, length(payload))),
                  CAST(group_concat(CASE WHEN length(payload) <= ${INLINE_PAYLOAD_MAX} THEN payload END, '') AS BLOB),
                  max(rid)
           FROM (SELECT rowid AS rid, topic, payload, qos, retain, properties, expires_at FROM ${table}
                 WHERE rowid > ? ORDER BY rowid LIMIT ${CHUNK_ROWS})`,
        )
        .raw();
    const payload = (table: MessageTable) => db.prepare<[number]>(`SELECT payload FROM ${table} WHERE rowid = ?`).pluck();
    this.chunks = { retained: chunk('retained'), messages: chunk('messages') };
    this.payloads = { retained: payload('retained'), messages: payload('messages') };
    this.sessions = db
      .prepare<[]>('SELECT client_id, expiry_interval, protocol_version, subscriptions, disconnected_at FROM sessions')
      .raw();
    // Deliveries come in pages too, after the (client_id, seq) key the last page ended on.
    const deliveries = (where: string) =>
      db
        .prepare(
          `SELECT json_group_array(json_array(client_id, seq, message_id, qos, retain, json(subscription_ids), packet_id, released, share_group)
                                   ORDER BY client_id, seq)
           FROM (SELECT * FROM deliveries ${where} ORDER BY client_id, seq LIMIT ${CHUNK_ROWS})`,
        )
        .pluck();
    this.firstDeliveries = deliveries('');
    this.nextDeliveries = deliveries('WHERE (client_id, seq) > (?, ?)');
    this.incoming = db.prepare<[]>('SELECT client_id, packet_id FROM incoming_qos2 ORDER BY client_id').raw();
    // Paged queues (load({ leaveQueued })): deliveries joined with their message, row by row;
    // a page is small, and in-flight deliveries are bounded by the in-flight windows.
    const joined = (where: string) =>
      db
        .prepare(
          `SELECT d.client_id, d.seq, d.qos, d.retain, d.subscription_ids, d.packet_id, d.released, d.share_group, d.message_id,
                  m.topic, m.payload, m.qos, m.retain, m.properties, m.expires_at
           FROM deliveries d JOIN messages m ON m.id = d.message_id ${where}`,
        )
        .raw();
    this.inflight = joined('WHERE d.packet_id IS NOT NULL ORDER BY d.client_id, d.seq') as Database.Statement<[]>;
    this.queuedPage = joined('WHERE d.client_id = ? AND d.seq > ? AND d.packet_id IS NULL ORDER BY d.seq LIMIT ?') as Database.Statement<
      [string, number, number]
    >;
    this.sharedPage = joined(
      'WHERE d.client_id = ? AND d.share_group = ? AND d.seq > ? AND d.packet_id IS NULL ORDER BY d.seq LIMIT ?',
    ) as Database.Statement<[string, string, number, number]>;
    this.shareGroups = db
      .prepare<[string, number]>(
        'SELECT DISTINCT share_group FROM deliveries WHERE client_id = ? AND seq > ? AND packet_id IS NULL AND share_group IS NOT NULL',
      )
      .pluck();
    // length() of a BLOB reads its size from the record header, not the payload itself.
    this.backlog = db
      .prepare<[]>(
        `SELECT d.client_id, count(*), sum(length(m.payload)), max(d.seq), count(d.share_group)
         FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE d.packet_id IS NULL GROUP BY d.client_id`,
      )
      .raw();
    // Wills are few (one per client at most, and only while a delay runs): read row by row.
    this.wills = db
      .prepare<[]>('SELECT client_id, topic, payload, qos, retain, properties, expires_at, publish_at FROM wills')
      .raw();
  }

  /** Everything (queued deliveries only counted with `leaveQueued`); `onMessage` sees each delivery message with its row id. */
  read(options: LoadOptions, onMessage: (message: StoredMessage, id: number) => void): StoredState {
    const retained: StoredMessage[] = [];
    this.readMessages('retained', (message) => retained.push(message));
    let deliveries: Map<string, StoredDelivery[]>;
    const backlog = new Map<string, StoredBacklog>();
    if (options.leaveQueued === true) {
      deliveries = new Map();
      const messages = new Map<number, StoredMessage>();
      for (const row of this.inflight.iterate() as Iterable<JoinedRow>) {
        let list = deliveries.get(row[0]);
        if (list === undefined) deliveries.set(row[0], (list = []));
        list.push(joinedDelivery(row, messages, options.wrapMessage, onMessage));
      }
      for (const [clientId, count, bytes, lastSeq, shared] of this.backlog.iterate() as Iterable<[string, number, number, number, number]>) {
        backlog.set(clientId, { count, bytes, lastSeq, shared });
      }
    } else {
      const messages = new Map<number, StoredMessage>();
      const wrap = options.wrapMessage;
      this.readMessages('messages', (stored, id) => {
        const message = wrap === undefined ? stored : wrap(stored);
        messages.set(id, message);
        onMessage(message, id);
      });
      deliveries = this.readDeliveries(messages);
    }
    return {
      retained,
      sessions: this.readSessions(),
      deliveries,
      backlog,
      incomingQos2: this.readIncoming(),
      wills: this.readWills(),
    };
  }

  /** A page of a client's queued deliveries, all or those of one share group (see Store.readQueued). */
  readQueued(
    clientId: string,
    shareGroup: string | undefined,
    afterSeq: number,
    limit: number,
    wrap: ((message: StoredMessage) => StoredMessage) | undefined,
    onMessage: (message: StoredMessage, id: number) => void,
  ): StoredDelivery[] {
    const messages = new Map<number, StoredMessage>();
    const page: StoredDelivery[] = [];
    const rows = shareGroup === undefined ? this.queuedPage.iterate(clientId, afterSeq, limit) : this.sharedPage.iterate(clientId, shareGroup, afterSeq, limit);
    for (const row of rows as Iterable<JoinedRow>) page.push(joinedDelivery(row, messages, wrap, onMessage));
    return page;
  }

  /** See Store.queuedShareGroups. */
  queuedShareGroups(clientId: string, afterSeq: number): string[] {
    return this.shareGroups.all(clientId, afterSeq) as string[];
  }

  private readMessages(table: MessageTable, each: (message: StoredMessage, id: number) => void): void {
    const chunk = this.chunks[table];
    let after = 0;
    while (true) {
      const [json, blob, last] = chunk.get(after) as [string | null, Buffer | null, number | null];
      if (last === null) return;
      after = last;
      let offset = 0;
      for (const [id, topic, qos, retain, properties, expiresAt, length] of JSON.parse(json!) as MessageEntry[]) {
        let payload: Buffer;
        if (length > INLINE_PAYLOAD_MAX) {
          payload = this.payloads[table].get(id) as Buffer;
        } else {
          // A copy, so one long-lived message does not keep the whole chunk's BLOB alive.
          payload = Buffer.from(blob === null ? EMPTY : blob.subarray(offset, (offset += length)));
        }
        const message: StoredMessage = { topic, payload, qos: qos as StoredMessage['qos'], retain: retain === 1 };
        if (properties !== null) message.properties = propertiesFromJson(properties);
        if (expiresAt !== null) message.expiresAt = expiresAt;
        each(message, id);
      }
    }
  }

  private readSessions(): StoredSession[] {
    const sessions: StoredSession[] = [];
    type Row = [string, number, number, string, number | null];
    for (const [clientId, expiryInterval, protocolVersion, subscriptions, disconnectedAt] of this.sessions.iterate() as Iterable<Row>) {
      const session: StoredSession = {
        clientId,
        expiryInterval,
        protocolVersion: protocolVersion as StoredSession['protocolVersion'],
        subscriptions: JSON.parse(subscriptions) as StoredSubscription[],
      };
      if (disconnectedAt !== null) session.disconnectedAt = disconnectedAt;
      sessions.push(session);
    }
    return sessions;
  }

  private readDeliveries(messages: Map<number, StoredDelivery['message']>): Map<string, StoredDelivery[]> {
    const deliveries = new Map<string, StoredDelivery[]>();
    let list: StoredDelivery[] = [];
    let listClient: string | undefined;
    type Entry = [string, number, number, number, number, number[] | null, number | null, number | null, string | null];
    let page = JSON.parse(this.firstDeliveries.get() as string) as Entry[];
    while (page.length > 0) {
      for (const [clientId, seq, messageId, qos, retain, subscriptionIds, packetId, released, shareGroup] of page) {
        if (clientId !== listClient) {
          listClient = clientId;
          deliveries.set(clientId, (list = []));
        }
        const message = messages.get(messageId);
        if (message === undefined) throw new Error(`delivery ${seq} of client ${clientId} refers to missing message ${messageId}`);
        const delivery: StoredDelivery = { seq, message, qos: qos as StoredDelivery['qos'], retain: retain === 1 };
        if (subscriptionIds !== null) delivery.subscriptionIdentifiers = subscriptionIds;
        if (packetId !== null) delivery.packetId = checkedPacketId(packetId, seq, clientId);
        if (released !== null) delivery.released = released === 1;
        if (shareGroup !== null) delivery.shareGroup = shareGroup;
        list.push(delivery);
      }
      const last = page[page.length - 1]!;
      page = JSON.parse(this.nextDeliveries.get(last[0], last[1]) as string) as Entry[];
    }
    return deliveries;
  }

  private readWills(): StoredWill[] {
    const wills: StoredWill[] = [];
    type Row = [string, string, Buffer, number, number, string | null, number | null, number];
    for (const [clientId, topic, payload, qos, retain, properties, expiresAt, publishAt] of this.wills.iterate() as Iterable<Row>) {
      const message: StoredMessage = { topic, payload, qos: qos as StoredMessage['qos'], retain: retain === 1 };
      if (properties !== null) message.properties = propertiesFromJson(JSON.parse(properties) as StoredPropertiesJson);
      if (expiresAt !== null) message.expiresAt = expiresAt;
      wills.push({ clientId, message, publishAt });
    }
    return wills;
  }

  private readIncoming(): Map<string, number[]> {
    const incoming = new Map<string, number[]>();
    for (const [clientId, packetId] of this.incoming.iterate() as Iterable<[string, number]>) {
      let ids = incoming.get(clientId);
      if (ids === undefined) incoming.set(clientId, (ids = []));
      ids.push(packetId);
    }
    return incoming;
  }
}
