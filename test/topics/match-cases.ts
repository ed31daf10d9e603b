// Filter/topic matching cases shared by the SubscriptionTree and TopicIndex tests. Most come from
// the examples in section 4.7 of MQTT 3.1.1 and 5.0 (the same in both).

export interface MatchCase {
  filter: string;
  topic: string;
  matches: boolean;
}

const c = (filter: string, topic: string, matches: boolean): MatchCase => ({ filter, topic, matches });

/** 4.7.1.2: "#" matches the parent level and any number of levels below. */
export const multiLevelCases: MatchCase[] = [
  c('sport/tennis/player1/#', 'sport/tennis/player1', true),
  c('sport/tennis/player1/#', 'sport/tennis/player1/ranking', true),
  c('sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true),
  c('sport/tennis/player1/#', 'sport/tennis/player2', false),
  c('sport/tennis/player1/#', 'sport/tennis', false),
  c('sport/#', 'sport', true),
  c('sport/#', 'sport/', true),
  c('sport/#', 'sports', false),
  c('#', 'sport', true),
  c('#', 'sport/tennis/player1', true),
  c('#', '/', true),
  c('#', '/finance', true),
  c('/#', '/', true),
  c('/#', '/finance/x', true),
  c('/#', 'finance', false),
  c('+/#', 'a', true),
  c('+/#', 'a/b/c', true),
  c('a/+/#', 'a', false),
  c('a/+/#', 'a/b', true),
];

/** 4.7.1.3: "+" matches exactly one level, which may be empty. */
export const singleLevelCases: MatchCase[] = [
  c('sport/tennis/+', 'sport/tennis/player1', true),
  c('sport/tennis/+', 'sport/tennis/player2', true),
  c('sport/tennis/+', 'sport/tennis/player1/ranking', false),
  c('sport/+', 'sport', false),
  c('sport/+', 'sport/', true),
  c('sport/+', 'sport/tennis/player1', false),
  c('+/+', '/finance', true),
  c('/+', '/finance', true),
  c('+', '/finance', false),
  c('+', 'finance', true),
  c('+', '/', false),
  c('+/+', '/', true),
  c('a/+/b', 'a//b', true),
  c('a/+/b', 'a/x/b', true),
  c('a/+/b', 'a/x/y/b', false),
  c('+/tennis/#', 'sport/tennis/player1', true),
  c('sport/+/player1', 'sport/tennis/player1', true),
  c('a/+', 'a/$b', true),
];

/** 4.7.2: filters starting with a wildcard never match topics starting with "$". */
export const dollarCases: MatchCase[] = [
  c('#', '$SYS/monitor/Clients', false),
  c('#', '$SYS', false),
  c('#', '$', false),
  c('+', '$SYS', false),
  c('+/#', '$SYS/x', false),
  c('+/monitor/Clients', '$SYS/monitor/Clients', false),
  c('$SYS/#', '$SYS/monitor/Clients', true),
  c('$SYS/#', '$SYS', true),
  c('$SYS/monitor/+', '$SYS/monitor/Clients', true),
  c('$SYS/+/Clients', '$SYS/monitor/Clients', true),
  c('$SYS/monitor/Clients', '$SYS/monitor/Clients', true),
  c('#', 'a/$SYS', true),
  c('+/$SYS', 'a/$SYS', true),
];

/** 4.7.3: levels are compared exactly, with no normalisation. */
export const exactCases: MatchCase[] = [
  c('ACCOUNTS', 'Accounts', false),
  c('Accounts', 'Accounts', true),
  c('Accounts payable', 'Accounts payable', true),
  c('/finance', 'finance', false),
  c('finance', '/finance', false),
  c('a/b', 'a/b/', false),
  c('a//b', 'a//b', true),
  c('a//b', 'a/b', false),
  c('/', '/', true),
  c('//', '/', false),
];

/** 4.7.3 [MQTT-4.7.3-4]: no Unicode normalisation; U+FEFF is an ordinary character. */
export const noNormalisationCases: MatchCase[] = [
  c('caf\u00e9', 'cafe\u0301', false), // precomposed vs decomposed "é"
  c('cafe\u0301', 'cafe\u0301', true),
  c('caf\u00e9/+', 'cafe\u0301/x', false),
  c('\ufeffa', 'a', false),
  c('a', '\ufeffa', false),
  c('\ufeffa/#', '\ufeffa/b', true),
  c('\u212b', '\u00c5', false), // ANGSTROM SIGN vs LATIN CAPITAL A WITH RING
];

export const allMatchCases: MatchCase[] = [
  ...multiLevelCases,
  ...singleLevelCases,
  ...dollarCases,
  ...exactCases,
  ...noNormalisationCases,
];

/** The obvious matcher, for comparison: split both on "/" and compare level by level. */
export function referenceMatches(filter: string, topic: string): boolean {
  const filterLevels = filter.split('/');
  const topicLevels = topic.split('/');
  if (topic.startsWith('$') && (filterLevels[0] === '+' || filterLevels[0] === '#')) return false;
  for (let i = 0; i < filterLevels.length; i++) {
    if (filterLevels[i] === '#') return true;
    if (i >= topicLevels.length) return false;
    if (filterLevels[i] !== '+' && filterLevels[i] !== topicLevels[i]) return false;
  }
  return filterLevels.length === topicLevels.length;
}
