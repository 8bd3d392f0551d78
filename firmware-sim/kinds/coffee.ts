import type { SimKind } from '../simDevice.ts';

/**
 * A shop coffee machine in ESPHome's style: cups brewed (a total_increasing counter), water level,
 * descale-needed (a `problem` binary sensor, which Trellis also turns into a fault), a power switch and
 * a descale switch that runs a descale cycle and clears the fault.
 */
interface State {
  power: boolean;
  cups: number;
  cupsSinceDescale: number;
  water: number;
  descaling: number; // simulated ms of descale cycle left
}

const DESCALE_AFTER_CUPS = 150;
const DESCALE_CYCLE_MS = 20 * 60_000;

export const coffee: SimKind<State> = {
  kind: 'coffee',
  model: 'sim-coffee',
  init: (rand) => ({ power: true, cups: Math.round(rand() * 5000), cupsSinceDescale: Math.round(rand() * DESCALE_AFTER_CUPS), water: 100, descaling: 0 }),
  availability: (node) => ({ topic: `${node}/status`, online: 'online', offline: 'offline' }),
  announce(node, name) {
    const common = { availability_topic: `${node}/status`, device: { identifiers: [node], name, manufacturer: 'Trellis sim', model: 'sim-coffee' } };
    const entity = (component: string, object: string, extra: Record<string, unknown>) => ({
      topic: `homeassistant/${component}/${node}/${object}/config`,
      config: { ...common, unique_id: `${node}-${object}`, state_topic: `${node}/${component}/${object}/state`, ...extra },
    });
    return [
      entity('sensor', 'cups_brewed', { name: 'Cups brewed', unit_of_measurement: 'cups', state_class: 'total_increasing' }),
      entity('sensor', 'water_level', { name: 'Water level', unit_of_measurement: '%', state_class: 'measurement' }),
      entity('binary_sensor', 'descale_needed', { name: 'Descale needed', device_class: 'problem' }),
      entity('switch', 'power', { name: 'Power', command_topic: `${node}/switch/power/command` }),
      entity('switch', 'descale', { name: 'Descale cycle', command_topic: `${node}/switch/descale/command` }),
    ];
  },
  step(s, dtMs, rand) {
    if (s.descaling > 0) {
      s.descaling = Math.max(0, s.descaling - dtMs);
      if (s.descaling === 0) s.cupsSinceDescale = 0;
      return;
    }
    if (!s.power) return;
    const brewed = rand() < Math.min(1, dtMs / 120_000) ? 1 : 0; // about one cup per two minutes
    s.cups += brewed;
    s.cupsSinceDescale += brewed;
    s.water -= brewed * 4;
    if (s.water < 10) s.water = 100; // the barista refills
  },
  report(node, s) {
    const t = (component: string, object: string) => `${node}/${component}/${object}/state`;
    return [
      { topic: t('sensor', 'cups_brewed'), payload: String(s.cups) },
      { topic: t('sensor', 'water_level'), payload: String(s.water) },
      { topic: t('binary_sensor', 'descale_needed'), payload: s.cupsSinceDescale >= DESCALE_AFTER_CUPS ? 'ON' : 'OFF' },
      { topic: t('switch', 'power'), payload: s.power ? 'ON' : 'OFF' },
      { topic: t('switch', 'descale'), payload: s.descaling > 0 ? 'ON' : 'OFF' },
    ];
  },
  commandTopics: (node) => [`${node}/switch/power/command`, `${node}/switch/descale/command`],
  command(node, s, topic, payload) {
    if (payload !== 'ON' && payload !== 'OFF') return false;
    if (topic === `${node}/switch/power/command`) s.power = payload === 'ON';
    else if (topic === `${node}/switch/descale/command`) s.descaling = payload === 'ON' ? DESCALE_CYCLE_MS : 0;
    else return false;
    return true;
  },
};
