import type { SimKind } from '../simDevice.ts';

/**
 * A Zigbee wireless remote as Zigbee2MQTT announces one: a `device_automation` trigger per action
 * (single, double, hold) on `<node>/action`, and its battery as a sensor. It obeys nothing; a person
 * presses it (`act`), and it sends the action word, as Zigbee2MQTT does on its action topic.
 */
interface State {
  battery: number;
}

const ACTIONS = ['single', 'double', 'hold'];

export const remote: SimKind<State> = {
  kind: 'remote',
  model: 'sim-remote',
  init: () => ({ battery: 100 }),
  availability: (node) => ({ topic: `${node}/availability`, online: 'online', offline: 'offline' }),
  announce(node, name) {
    const device = { identifiers: [`sim_${node}`], manufacturer: 'Trellis sim', model: 'Wireless mini switch (sim-remote)', name };
    return [
      ...ACTIONS.map((action) => ({
        topic: `homeassistant/device_automation/${node}/action_${action}/config`,
        config: { automation_type: 'trigger', device, payload: action, subtype: action, topic: `${node}/action`, type: 'action' },
      })),
      {
        topic: `homeassistant/sensor/${node}/battery/config`,
        config: {
          availability: [{ topic: `${node}/availability` }],
          device,
          device_class: 'battery',
          state_topic: node,
          unique_id: `${node}_battery_sim`,
          unit_of_measurement: '%',
          value_template: '{{ value_json.battery }}',
        },
      },
    ];
  },
  step(s, dtMs) {
    s.battery = Math.max(0, s.battery - dtMs / (3_600_000 * 24 * 365)); // a percent a year
  },
  report: (node, s) => [{ topic: node, payload: JSON.stringify({ battery: Math.round(s.battery) }) }],
  commandTopics: () => [],
  command: () => false,
  act: (node, _s, action) => (ACTIONS.includes(action) ? [{ topic: `${node}/action`, payload: action }] : undefined),
};
