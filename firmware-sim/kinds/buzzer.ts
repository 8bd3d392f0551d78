import type { SimKind } from '../simDevice.ts';

/** A buzzer / siren in ESPHome's style: one switch, `sound`. Remembers every command it obeyed. */
interface State {
  sound: boolean;
}

export const buzzer: SimKind<State> = {
  kind: 'buzzer',
  model: 'sim-buzzer',
  init: () => ({ sound: false }),
  availability: (node) => ({ topic: `${node}/status`, online: 'online', offline: 'offline' }),
  announce: (node, name) => [
    {
      topic: `homeassistant/switch/${node}/sound/config`,
      config: {
        name: 'Sound',
        unique_id: `${node}-sound`,
        state_topic: `${node}/switch/sound/state`,
        command_topic: `${node}/switch/sound/command`,
        availability_topic: `${node}/status`,
        device: { identifiers: [node], name, manufacturer: 'Trellis sim', model: 'sim-buzzer' },
      },
    },
  ],
  step: () => {},
  report: (node, s) => [{ topic: `${node}/switch/sound/state`, payload: s.sound ? 'ON' : 'OFF' }],
  commandTopics: (node) => [`${node}/switch/sound/command`],
  command(_node, s, _topic, payload) {
    if (payload !== 'ON' && payload !== 'OFF') return false;
    s.sound = payload === 'ON';
    return true;
  },
};
