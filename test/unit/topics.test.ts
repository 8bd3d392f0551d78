import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { filterCovers, isValidTopicName, parseDiscoveryTopic, topicMatches } from '../../drivers/mqtt/topics.ts';

describe('topic filters [MQTT 4.7]', () => {
  it('matches + and # as the specification says', () => {
    expect(topicMatches('a/+/c', 'a/b/c')).toBe(true);
    expect(topicMatches('a/+/c', 'a/b/d')).toBe(false);
    expect(topicMatches('a/#', 'a')).toBe(true); // # matches the parent level too [MQTT-4.7.1-2]
    expect(topicMatches('a/#', 'a/b/c')).toBe(true);
    expect(topicMatches('a/+', 'a/b/c')).toBe(false);
    expect(topicMatches('+/+', '/x')).toBe(true); // an empty level is a level
    expect(topicMatches('#', '$SYS/x')).toBe(false); // [MQTT-4.7.2-1]
    expect(topicMatches('+/x', '$SYS/x')).toBe(false);
  });

  it('knows when an owned filter covers a subscription', () => {
    expect(filterCovers('dev1/#', 'dev1/cmd/+')).toBe(true);
    expect(filterCovers('dev1/#', 'dev1')).toBe(true);
    expect(filterCovers('dev1/#', '#')).toBe(false);
    expect(filterCovers('dev1/#', '+/cmd')).toBe(false);
    expect(filterCovers('+/dev1/#', 'cmnd/dev1/POWER')).toBe(true);
    expect(filterCovers('+/dev1/#', '+/dev1/#')).toBe(true);
    expect(filterCovers('dev1/+', 'dev1/a/b')).toBe(false);
  });

  it('never lets a covered subscription receive a topic outside the owned filter (property)', () => {
    const level = fc.constantFrom('a', 'b', 'c', '');
    const filterLevel = fc.constantFrom('a', 'b', '+');
    const filter = fc.tuple(fc.array(filterLevel, { minLength: 1, maxLength: 3 }), fc.boolean()).map(([ls, hash]) => [...ls, ...(hash ? ['#'] : [])].join('/'));
    const topic = fc.array(level, { minLength: 1, maxLength: 5 }).map((ls) => ls.join('/'));
    fc.assert(
      fc.property(filter, filter, topic, (owned, sub, t) => {
        if (filterCovers(owned, sub) && topicMatches(sub, t)) expect(topicMatches(owned, t)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('validates topic names and parses discovery topics', () => {
    expect(isValidTopicName('a/b')).toBe(true);
    expect(isValidTopicName('a/+')).toBe(false);
    expect(isValidTopicName('')).toBe(false);
    expect(parseDiscoveryTopic('homeassistant/sensor/node/temp/config')).toEqual({ component: 'sensor', nodeId: 'node', objectId: 'temp' });
    expect(parseDiscoveryTopic('homeassistant/switch/35EBF6_RL_1/config')).toEqual({ component: 'switch', nodeId: undefined, objectId: '35EBF6_RL_1' });
    expect(parseDiscoveryTopic('homeassistant/sensor/a/b/c/config')).toBeUndefined();
    expect(parseDiscoveryTopic('homeassistant/status')).toBeUndefined();
  });
});
