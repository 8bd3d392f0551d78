import type { SimKind } from '../simDevice.ts';

/**
 * A door lock in Zigbee2MQTT's conventions: one `lock` discovery config with full keys, state as
 * `{"state": "LOCK" | "UNLOCK", "lock_state": ...}` on `<node>`, commands `LOCK` / `UNLOCK` on
 * `<node>/set` (as `{"state": "UNLOCK"}` or the bare word), availability on `<node>/availability`.
 */
interface State {
  locked: boolean;
  jammed: boolean;
  battery: number;
}

export const lock: SimKind<State> = {
  kind: 'lock',
  model: 'sim-lock',
  init: () => ({ locked: true, jammed: false, battery: 90 }),
  availability: (node) => ({ topic: `${node}/availability`, online: 'online', offline: 'offline' }),
  announce(node, name) {
    const device = { identifiers: [`sim_${node}`], manufacturer: 'Trellis sim', model: 'sim-lock', name };
    return [
      {
        topic: `homeassistant/lock/${node}/lock/config`,
        config: {
          availability: [{ topic: `${node}/availability` }],
          command_topic: `${node}/set`,
          device,
          name: null,
          object_id: `${node}_lock`,
          payload_lock: 'LOCK',
          payload_unlock: 'UNLOCK',
          state_locked: 'LOCK',
          state_unlocked: 'UNLOCK',
          state_jammed: 'JAMMED',
          state_topic: node,
          unique_id: `${node}_lock_sim`,
          value_template: '{{ value_json.state }}',
        },
      },
      {
        topic: `homeassistant/sensor/${node}/battery/config`,
        config: {
          availability: [{ topic: `${node}/availability` }],
          device,
          device_class: 'battery',
          state_class: 'measurement',
          state_topic: node,
          unique_id: `${node}_battery_sim`,
          unit_of_measurement: '%',
          value_template: '{{ value_json.battery }}',
        },
      },
    ];
  },
  step(s, dtMs) {
    s.battery = Math.max(0, s.battery - dtMs / (3_600_000 * 24 * 30)); // a percent a month
  },
  report: (node, s) => [
    {
      topic: node,
      payload: JSON.stringify({
        state: s.jammed ? 'JAMMED' : s.locked ? 'LOCK' : 'UNLOCK',
        lock_state: s.locked ? 'locked' : 'unlocked',
        battery: Math.round(s.battery),
      }),
    },
  ],
  commandTopics: (node) => [`${node}/set`],
  command(_node, s, _topic, payload) {
    let word = payload.trim();
    if (word.startsWith('{')) {
      try {
        word = String((JSON.parse(word) as { state?: unknown }).state ?? '');
      } catch {
        return false;
      }
    }
    if (word !== 'LOCK' && word !== 'UNLOCK') return false;
    s.locked = word === 'LOCK';
    s.jammed = false;
    return true;
  },
};
