import type { SimKind } from '../simDevice.ts';

/**
 * A thermostat in ESPHome's style: one topic per entity (`<node>/<component>/<object>/state`, plain
 * payloads), full-length discovery keys, availability on `<node>/status`.
 */
interface State {
  temperature: number;
  setpoint: number;
  heating: boolean;
}

const device = (node: string, name: string) => ({
  identifiers: [node],
  name,
  manufacturer: 'espressif',
  model: 'sim-thermostat',
  sw_version: 'esphome 2024.6 (sim)',
});

export const thermostat: SimKind<State> = {
  kind: 'thermostat',
  model: 'sim-thermostat',
  init: (rand) => ({ temperature: 18 + rand() * 3, setpoint: 20, heating: false }),
  availability: (node) => ({ topic: `${node}/status`, online: 'online', offline: 'offline' }),
  announce(node, name) {
    const common = { availability_topic: `${node}/status`, device: device(node, name) };
    return [
      {
        topic: `homeassistant/sensor/${node}/temperature/config`,
        config: {
          ...common,
          name: 'Temperature',
          unique_id: `${node}-temperature`,
          state_topic: `${node}/sensor/temperature/state`,
          unit_of_measurement: '°C',
          device_class: 'temperature',
          state_class: 'measurement',
        },
      },
      {
        topic: `homeassistant/number/${node}/setpoint/config`,
        config: {
          ...common,
          name: 'Setpoint',
          unique_id: `${node}-setpoint`,
          state_topic: `${node}/number/setpoint/state`,
          command_topic: `${node}/number/setpoint/command`,
          min: 5,
          max: 30,
          step: 0.5,
          unit_of_measurement: '°C',
        },
      },
      {
        topic: `homeassistant/binary_sensor/${node}/heating/config`,
        config: { ...common, name: 'Heating', unique_id: `${node}-heating`, state_topic: `${node}/binary_sensor/heating/state`, device_class: 'heat' },
      },
    ];
  },
  step(s, dtMs, rand) {
    const minutes = dtMs / 60_000;
    s.heating = s.temperature < s.setpoint - 0.3 ? true : s.temperature > s.setpoint + 0.3 ? false : s.heating;
    s.temperature += (s.heating ? 0.15 : -0.05) * minutes + (rand() - 0.5) * 0.02;
  },
  report: (node, s) => [
    { topic: `${node}/sensor/temperature/state`, payload: s.temperature.toFixed(2) },
    { topic: `${node}/number/setpoint/state`, payload: String(s.setpoint) },
    { topic: `${node}/binary_sensor/heating/state`, payload: s.heating ? 'ON' : 'OFF' },
  ],
  commandTopics: (node) => [`${node}/number/setpoint/command`],
  command(_node, s, _topic, payload) {
    const v = Number(payload);
    if (!Number.isFinite(v) || v < 5 || v > 30) return false;
    s.setpoint = v;
    return true;
  },
};
