import type { SimKind } from '../simDevice.ts';

/**
 * A refrigerated display cabinet: one JSON state message (`<node>/state`) read through templates,
 * a compressor with hysteresis around a writable setpoint, and a door that, when open, warms the cabinet.
 */
interface State {
  temperature: number;
  setpoint: number;
  compressor: boolean;
  doorOpen: boolean;
}

export const fridge: SimKind<State> = {
  kind: 'fridge',
  model: 'sim-fridge',
  init: (rand) => ({ temperature: 4 + rand(), setpoint: 4, compressor: false, doorOpen: false }),
  availability: (node) => ({ topic: `${node}/status`, online: 'online', offline: 'offline' }),
  announce(node, name) {
    const common = {
      availability_topic: `${node}/status`,
      state_topic: `${node}/state`,
      device: { identifiers: [node], name, manufacturer: 'Trellis sim', model: 'sim-fridge' },
    };
    return [
      {
        topic: `homeassistant/sensor/${node}/temperature/config`,
        config: {
          ...common,
          name: 'Cabinet temperature',
          unique_id: `${node}-temperature`,
          value_template: '{{ value_json.temperature }}',
          unit_of_measurement: '°C',
          device_class: 'temperature',
          state_class: 'measurement',
        },
      },
      {
        topic: `homeassistant/binary_sensor/${node}/compressor/config`,
        config: { ...common, name: 'Compressor', unique_id: `${node}-compressor`, value_template: '{{ value_json.compressor }}', device_class: 'running' },
      },
      {
        topic: `homeassistant/binary_sensor/${node}/door/config`,
        config: { ...common, name: 'Door', unique_id: `${node}-door`, value_template: '{{ value_json.door }}', device_class: 'door' },
      },
      {
        topic: `homeassistant/number/${node}/setpoint/config`,
        config: {
          ...common,
          name: 'Setpoint',
          unique_id: `${node}-setpoint`,
          value_template: '{{ value_json.setpoint }}',
          command_topic: `${node}/setpoint/set`,
          min: -25,
          max: 12,
          step: 0.5,
          unit_of_measurement: '°C',
        },
      },
    ];
  },
  step(s, dtMs, rand) {
    const minutes = dtMs / 60_000;
    if (s.doorOpen ? rand() < 0.6 : rand() < 0.03) s.doorOpen = !s.doorOpen;
    if (s.temperature > s.setpoint + 1) s.compressor = true;
    else if (s.temperature < s.setpoint - 1) s.compressor = false;
    s.temperature += (0.05 + (s.doorOpen ? 0.5 : 0) - (s.compressor ? 0.3 : 0)) * minutes;
  },
  report: (node, s) => [
    {
      topic: `${node}/state`,
      payload: JSON.stringify({
        temperature: Number(s.temperature.toFixed(2)),
        setpoint: s.setpoint,
        compressor: s.compressor ? 'ON' : 'OFF',
        door: s.doorOpen ? 'ON' : 'OFF',
      }),
    },
  ],
  commandTopics: (node) => [`${node}/setpoint/set`],
  command(_node, s, _topic, payload) {
    const v = Number(payload);
    if (!Number.isFinite(v) || v < -25 || v > 12) return false;
    s.setpoint = v;
    return true;
  },
};
