import type { SimKind } from '../simDevice.ts';

/**
 * A radiator thermostat valve in Zigbee2MQTT's conventions: one `climate` discovery config (system
 * mode, local temperature, heating setpoint, and the running state through a Jinja `{% set %}`
 * mapping, as Zigbee2MQTT sends it), state as one JSON object on `<node>`, commands on
 * `<node>/set/<property>`. The room warms toward the setpoint while the valve is open.
 */
interface State {
  room: number;
  setpoint: number;
  mode: 'heat' | 'off';
  heating: boolean;
}

export const radiatorValve: SimKind<State> = {
  kind: 'radiator-valve',
  model: 'sim-radiator-valve',
  init: (rand) => ({ room: 17 + rand() * 2, setpoint: 20, mode: 'heat', heating: false }),
  availability: (node) => ({ topic: `${node}/availability`, online: 'online', offline: 'offline' }),
  announce(node, name) {
    return [
      {
        topic: `homeassistant/climate/${node}/climate/config`,
        config: {
          action_template: "{% set values = {None:None,'idle':'idle','heat':'heating'} %}{{ values[value_json.running_state] }}",
          action_topic: node,
          availability: [{ topic: `${node}/availability` }],
          current_temperature_template: '{{ value_json.local_temperature }}',
          current_temperature_topic: node,
          device: { identifiers: [`sim_${node}`], manufacturer: 'Trellis sim', model: 'sim-radiator-valve', name },
          max_temp: '30',
          min_temp: '5',
          mode_command_topic: `${node}/set/system_mode`,
          mode_state_template: '{{ value_json.system_mode }}',
          mode_state_topic: node,
          modes: ['off', 'heat'],
          name: null,
          object_id: node,
          temp_step: 0.5,
          temperature_command_topic: `${node}/set/occupied_heating_setpoint`,
          temperature_state_template: '{{ value_json.occupied_heating_setpoint }}',
          temperature_state_topic: node,
          temperature_unit: 'C',
          unique_id: `${node}_climate_sim`,
        },
      },
    ];
  },
  step(s, dtMs) {
    s.heating = s.mode === 'heat' && s.room < s.setpoint - 0.2;
    const hours = dtMs / 3_600_000;
    s.room += s.heating ? 1.5 * hours : -0.3 * hours; // warms 1.5 °C an hour, cools 0.3
  },
  report: (node, s) => [
    {
      topic: node,
      payload: JSON.stringify({
        local_temperature: Math.round(s.room * 10) / 10,
        occupied_heating_setpoint: s.setpoint,
        system_mode: s.mode,
        running_state: s.heating ? 'heat' : 'idle',
      }),
    },
  ],
  commandTopics: (node) => [`${node}/set/#`],
  command(node, s, topic, payload) {
    if (topic === `${node}/set/occupied_heating_setpoint`) {
      const t = Number(payload);
      if (!Number.isFinite(t) || t < 5 || t > 30) return false;
      s.setpoint = t;
      return true;
    }
    if (topic === `${node}/set/system_mode` && (payload === 'heat' || payload === 'off')) {
      s.mode = payload;
      return true;
    }
    return false;
  },
};
