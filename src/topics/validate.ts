// Topic name and topic filter rules (MQTT 3.1.1 and 5.0, section 4.7; shared subscriptions 5.0 4.8.2).
// Each check is one pass over the UTF-16 code units with no allocation: these run for every PUBLISH
// and every SUBSCRIBE filter.

const MAX_UTF8_BYTES = 65535;
const SLASH = 0x2f;
const PLUS = 0x2b;
const HASH = 0x23;
const SHARE_PREFIX = '$share/';

/**
 * A topic name a client may publish to: at least one character, no wildcard, no U+0000, at most
 * 65535 bytes once UTF-8 encoded. A lone UTF-16 surrogate is refused too, since it has no
 * well-formed UTF-8 encoding and so could never travel in a packet.
 */
export function isValidTopicName(topic: string): boolean {
  return checkTopic(topic, false);
}

/**
 * A topic filter a client may subscribe to: the name rules, except that `+` may fill a whole level
 * and `#` may fill the last level. A `$share/` filter is also a syntactically valid filter; call
 * {@link parseSharedFilter} first when shared subscriptions are to be recognised.
 */
export function isValidTopicFilter(filter: string): boolean {
  return checkTopic(filter, true);
}

/** True when the filter contains `+` or `#` (so it may match more than the one topic it spells). */
export function hasWildcard(filter: string): boolean {
  return filter.indexOf('+') !== -1 || filter.indexOf('#') !== -1;
}

export interface SharedFilter {
  /** The ShareName: which group of subscribers shares the messages. */
  group: string;
  /** The topic filter that follows the ShareName. */
  filter: string;
}

/**
 * Splits `$share/{group}/{filter}` (MQTT 5.0 section 4.8.2).
 * Returns null when the filter is not a shared one (does not start with `$share/`), so the caller
 * treats it as an ordinary filter; returns undefined when it starts with `$share/` but breaks the
 * rules (empty group, group with `+` or `#`, missing or invalid filter), so the caller refuses it
 * rather than subscribing to a literal `$share/...` topic.
 */
export function parseSharedFilter(filter: string): SharedFilter | null | undefined {
  if (!filter.startsWith(SHARE_PREFIX)) return null;
  const groupEnd = filter.indexOf('/', SHARE_PREFIX.length);
  // No "/" after the group means there is no filter at all. The group cannot contain "/" because
  // it ends at the first one.
  if (groupEnd === -1) return undefined;
  const group = filter.slice(SHARE_PREFIX.length, groupEnd);
  if (group.length === 0 || group.indexOf('+') !== -1 || group.indexOf('#') !== -1) return undefined;
  const inner = filter.slice(groupEnd + 1);
  // The whole string is checked as well so the 65535-byte limit, U+0000 and surrogate rules also
  // cover the group.
  if (!isValidTopicFilter(inner) || !isValidTopicFilter(filter)) return undefined;
  return { group, filter: inner };
}

function checkTopic(s: string, isFilter: boolean): boolean {
  const length = s.length;
  // Each UTF-16 code unit encodes to at most 3 UTF-8 bytes, so very long strings fail fast.
  if (length === 0 || length > MAX_UTF8_BYTES) return false;
  let bytes = 0;
  for (let i = 0; i < length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c === 0) return false;
      if (c === PLUS) {
        // "+" must fill its whole level.
        if (!isFilter) return false;
        if (i > 0 && s.charCodeAt(i - 1) !== SLASH) return false;
        if (i + 1 < length && s.charCodeAt(i + 1) !== SLASH) return false;
      } else if (c === HASH) {
        // "#" must fill the last level.
        if (!isFilter || i + 1 !== length) return false;
        if (i > 0 && s.charCodeAt(i - 1) !== SLASH) return false;
      }
      bytes += 1;
    } else if (c < 0x800) {
      bytes += 2;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // A high surrogate must be followed by a low one; together they take 4 bytes.
      if (c > 0xdbff || i + 1 === length) return false;
      const next = s.charCodeAt(i + 1);
      if (next < 0xdc00 || next > 0xdfff) return false;
      bytes += 4;
      i++;
    } else {
      bytes += 3;
    }
  }
  return bytes <= MAX_UTF8_BYTES;
}
