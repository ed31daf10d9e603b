// MQTT 5 properties as stored text. JSON keeps the stored rows readable with any SQLite tool;
// the two binary properties (correlation and authentication data) are stored as base64 strings
// and come back as Buffers, byte for byte. User properties are arrays of pairs, so their order
// and repeated names survive as they are.
//
// No replacer or reviver function: JSON.parse with a reviver is several times slower, and a
// restart may parse a property set per retained message.

import { Buffer } from 'node:buffer';
import type { Properties } from '../protocol/packets.js';

export type StoredPropertiesJson = Omit<Properties, 'correlationData' | 'authenticationData'> & {
  correlationData?: string;
  authenticationData?: string;
};

export function encodeProperties(properties: Properties | undefined): string | null {
  if (properties === undefined) return null;
  const { correlationData, authenticationData } = properties;
  if (correlationData === undefined && authenticationData === undefined) return JSON.stringify(properties);
  // Undefined values are left out by JSON.stringify.
  const stored: StoredPropertiesJson = { ...properties, correlationData: undefined, authenticationData: undefined };
  if (correlationData !== undefined) stored.correlationData = correlationData.toString('base64');
  if (authenticationData !== undefined) stored.authenticationData = authenticationData.toString('base64');
  return JSON.stringify(stored);
}

/** Properties as parsed from the stored JSON (usually as part of a larger text); takes over the object. */
export function propertiesFromJson(stored: StoredPropertiesJson): Properties {
  const { correlationData, authenticationData } = stored;
  const properties = stored as unknown as Properties;
  if (correlationData !== undefined) properties.correlationData = Buffer.from(correlationData, 'base64');
  if (authenticationData !== undefined) properties.authenticationData = Buffer.from(authenticationData, 'base64');
  return properties;
}
