import type { SimKind } from '../simDevice.ts';

/**
 * A door contact in Zigbee2MQTT's style: one JSON state message per device, read through
 * `{{ value_json.contact }}` with boolean payloads (`contact: true` means closed, so payload_on is
 * false), battery as a second sensor, availability as JSON `{"state":"online"}`.
 */
interface State {
  contact: boolean;
  battery: number;
}

export const door: SimKind<State> = {
  kind: 'door',
  model: 'sim-door',
  init: (rand) => ({ contact: true, battery: 80 + Math.round(rand() * 20) }),
  availability: (node) => ({ topic: `${node}/availability`, online: '{"state":"online"}', offline: '{"state":"offline"}' }),
  announce(node, name) {
    const common = {
      availability: [{ topic: `${node}/availability`, value_template: '{{ value_json.state }}' }],
      device: { identifiers: [`zigbee2mqtt_${node}`], name, manufacturer: 'Aqara', model: 'sim-door (MCCGQ11LM)' },
      state_topic: node,
    };
    return [
      {
        topic: `homeassistant/binary_sensor/${node}/contact/config`,
        config: {
          ...common,
          name: 'Door',
          unique_id: `${node}_contact`,
          device_class: 'door',
          value_template: '{{ value_json.contact }}',
          payload_on: false,
          payload_off: true,
        },
      },
      {
        topic: `homeassistant/sensor/${node}/battery/config`,
        config: {
          ...common,
          name: 'Battery',
          unique_id: `${node}_battery`,
          device_class: 'battery',
          unit_of_measurement: '%',
          state_class: 'measurement',
          value_template: '{{ value_json.battery }}',
        },
      },
    ];
  },
  step(s, dtMs, rand) {
    // opens now and then for a short while
    if (s.contact ? rand() < 0.05 : rand() < 0.5) s.contact = !s.contact;
    if (rand() < dtMs / 86_400_000) s.battery = Math.max(0, s.battery - 1);
  },
  report: (node, s) => [{ topic: node, payload: JSON.stringify({ contact: s.contact, battery: s.battery, linkquality: 120 }) }],
  commandTopics: () => [],
  command: () => false,
};
