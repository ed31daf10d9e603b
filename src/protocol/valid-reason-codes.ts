// Which reason codes each MQTT 5 packet may carry (sections 3.2.2.2, 3.4.2.1, 3.5.2.1, 3.6.2.1,
// 3.7.2.1, 3.9.3, 3.11.3, 3.14.2.1, 3.15.2.1), and the 3.1.1 CONNACK and SUBACK return codes.
// The sender MUST use one of them (e.g. [MQTT-3.4.2-1], [MQTT-3.14.2-1]); a receiver that gets
// another can parse the packet but not act on it, so the decoder calls it a Protocol Error.

type CodeSet = Uint8Array;

const codeSet = (codes: number[]): CodeSet => {
  const set = new Uint8Array(256);
  for (const code of codes) set[code] = 1;
  return set;
};

export const CONNACK_V5_CODES = codeSet([
  0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97,
  0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f,
]);
/** 3.1 and 3.1.1 CONNACK return codes: 0 accepted, 1-5 refused. */
export const CONNACK_V4_CODES = codeSet([0, 1, 2, 3, 4, 5]);
/** PUBACK and PUBREC. */
export const PUBLISH_ACK_CODES = codeSet([0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]);
/** PUBREL and PUBCOMP. */
export const PUBLISH_RELEASE_CODES = codeSet([0x00, 0x92]);
export const SUBACK_V5_CODES = codeSet([0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2]);
/** 3.1.1 SUBACK return codes: granted QoS or 0x80 failure [MQTT-3.9.3-2] (v3.1.1). */
export const SUBACK_V4_CODES = codeSet([0x00, 0x01, 0x02, 0x80]);
export const UNSUBACK_CODES = codeSet([0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91]);
export const DISCONNECT_CODES = codeSet([
  0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95,
  0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2,
]);
export const AUTH_CODES = codeSet([0x00, 0x18, 0x19]);

export const isValidCode = (set: CodeSet, code: number): boolean =>
  Number.isInteger(code) && code >= 0 && code <= 255 && set[code] === 1;

/** The reason codes a PUBACK/PUBREC (types 4, 5) or PUBREL/PUBCOMP (6, 7) may carry. */
export const ackCodes = (type: number): CodeSet => (type <= 5 ? PUBLISH_ACK_CODES : PUBLISH_RELEASE_CODES);
