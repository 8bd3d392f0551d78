/**
 * MQTT topic filter matching [MQTT 4.7]: `+` matches one level, `#` (last) matches any number of levels
 * including the parent; filters starting with a wildcard do not match topics that start with `$`
 * [MQTT-4.7.2-1].
 */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * True when every topic that `filter` can match is also matched by `owned`, i.e. a subscription to
 * `filter` can only ever deliver topics under `owned`.
 */
export function filterCovers(owned: string, filter: string): boolean {
  const o = owned.split('/');
  const f = filter.split('/');
  for (let i = 0; i < f.length; i++) {
    const ol = o[i];
    const fl = f[i] as string;
    if (ol === '#') return true;
    if (ol === undefined) return false;
    if (fl === '#') return false;
    if (ol === '+') continue;
    if (fl === '+' || fl !== ol) return false;
  }
  // The filter ended: `owned` must end too, or continue only with a trailing `#` (which matches the parent).
  return o.length === f.length || (o.length === f.length + 1 && o[f.length] === '#');
}

/** A valid topic name for PUBLISH: non-empty, no wildcards, no NUL [MQTT-4.7.3-1, MQTT-4.7.1-1]. */
export function isValidTopicName(topic: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is what MQTT forbids in strings [MQTT-1.5.3-2]
  return topic.length > 0 && !/[+#\u0000]/.test(topic);
}

/**
 * A valid topic filter for SUBSCRIBE and UNSUBSCRIBE: non-empty; `+` only as a whole level
 * [MQTT-4.7.1-3]; `#` only as the whole last level [MQTT-4.7.1-2]. (aedes' own check lets `a+` and
 * `ab/+e` through.)
 */
export function isValidTopicFilter(filter: string): boolean {
  if (filter.length === 0) return false; // [MQTT-4.7.3-1]
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string;
    if (level === '+' || (level === '#' && i === levels.length - 1)) continue;
    if (level.includes('+') || level.includes('#')) return false;
  }
  return true;
}

/** Home Assistant discovery config topics: `<prefix>/<component>/[<node_id>/]<object_id>/config`. */
export function parseDiscoveryTopic(topic: string, prefix = 'homeassistant'): { component: string; nodeId: string | undefined; objectId: string } | undefined {
  const parts = topic.split('/');
  if (parts[0] !== prefix || parts[parts.length - 1] !== 'config') return undefined;
  if (parts.length === 4) return { component: parts[1] as string, nodeId: undefined, objectId: parts[2] as string };
  if (parts.length === 5) return { component: parts[1] as string, nodeId: parts[2] as string, objectId: parts[3] as string };
  return undefined;
}

/** `tasmota/discovery/<MAC>/config` or `.../sensors` (Tasmota's own discovery, SetOption19 0). */
export function parseTasmotaDiscoveryTopic(topic: string): { mac: string; kind: 'config' | 'sensors' } | undefined {
  const m = /^tasmota\/discovery\/([0-9A-Fa-f]{12})\/(config|sensors)$/.exec(topic);
  return m ? { mac: (m[1] as string).toUpperCase(), kind: m[2] as 'config' | 'sensors' } : undefined;
}
