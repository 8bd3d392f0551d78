import type { SimKind } from '../simDevice.ts';

/** A dimmable light in Zigbee2MQTT's style: json-schema light, brightness 0-254 on `<node>/set`. */
interface State {
  on: boolean;
  brightness: number;
}

export const light: SimKind<State> = {
  kind: 'light',
  model: 'sim-light',
  init: () => ({ on: false, brightness: 254 }),
  availability: (node) => ({ topic: `${node}/availability`, online: '{"state":"online"}', offline: '{"state":"offline"}' }),
  announce: (node, name) => [
    {
      topic: `homeassistant/light/${node}/light/config`,
      config: {
        name: null,
        unique_id: `${node}_light`,
        schema: 'json',
        brightness: true,
        brightness_scale: 254,
        state_topic: node,
        command_topic: `${node}/set`,
        availability: [{ topic: `${node}/availability`, value_template: '{{ value_json.state }}' }],
        device: { identifiers: [`zigbee2mqtt_${node}`], name, manufacturer: 'IKEA', model: 'sim-light (LED1836G9)' },
      },
    },
  ],
  step: () => {},
  report: (node, s) => [{ topic: node, payload: JSON.stringify({ state: s.on ? 'ON' : 'OFF', brightness: s.brightness }) }],
  commandTopics: (node) => [`${node}/set`],
  command(_node, s, _topic, payload) {
    let body: { state?: unknown; brightness?: unknown };
    try {
      body = JSON.parse(payload) as typeof body;
    } catch {
      return false;
    }
    if (body.state === 'ON') s.on = true;
    else if (body.state === 'OFF') s.on = false;
    else if (body.state === 'TOGGLE') s.on = !s.on;
    if (typeof body.brightness === 'number') s.brightness = Math.max(0, Math.min(254, Math.round(body.brightness)));
    return true;
  },
};
