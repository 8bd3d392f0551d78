import type { SimKind } from '../simDevice.ts';

/**
 * A smart plug with an energy meter in Tasmota's style: abbreviated discovery keys with a `~` base
 * topic, one JSON telemetry message (`tele/SENSOR`) read by several sensors through
 * `{{value_json['ENERGY']['Power']}}` templates, relay state on `stat/POWER`, commands on `cmnd/POWER`,
 * and `Online`/`Offline` on `tele/LWT`.
 */
interface State {
  on: boolean;
  powerW: number;
  energyKwh: number;
  loadW: number;
}

const dev = (node: string, name: string) => ({ ids: [node], name, mf: 'Tasmota', mdl: 'sim-plug', sw: '13.4.0 (sim)' });

export const plug: SimKind<State> = {
  kind: 'plug',
  model: 'sim-plug',
  init: (rand) => {
    const loadW = 40 + rand() * 1500;
    return { on: true, powerW: loadW, energyKwh: 10 + rand() * 5, loadW }; // on, and drawing its load
  },
  availability: (node) => ({ topic: `${node}/tele/LWT`, online: 'Online', offline: 'Offline' }),
  announce(node, name) {
    const base = { '~': `${node}/`, avty_t: '~tele/LWT', pl_avail: 'Online', pl_not_avail: 'Offline', dev: dev(node, name) };
    return [
      {
        topic: `homeassistant/switch/${node}_RL_1/config`,
        config: { ...base, name: 'Relay', uniq_id: `${node}_RL_1`, stat_t: '~stat/POWER', cmd_t: '~cmnd/POWER', pl_on: 'ON', pl_off: 'OFF' },
      },
      {
        topic: `homeassistant/sensor/${node}_ENERGY_Power/config`,
        config: {
          ...base,
          name: 'Power',
          uniq_id: `${node}_ENERGY_Power`,
          stat_t: '~tele/SENSOR',
          val_tpl: "{{value_json['ENERGY']['Power']}}",
          unit_of_meas: 'W',
          dev_cla: 'power',
          stat_cla: 'measurement',
        },
      },
      {
        topic: `homeassistant/sensor/${node}_ENERGY_Total/config`,
        config: {
          ...base,
          name: 'Energy',
          uniq_id: `${node}_ENERGY_Total`,
          stat_t: '~tele/SENSOR',
          val_tpl: "{{value_json['ENERGY']['Total']}}",
          unit_of_meas: 'kWh',
          dev_cla: 'energy',
          stat_cla: 'total_increasing',
        },
      },
    ];
  },
  step(s, dtMs, rand) {
    s.powerW = s.on ? s.loadW * (0.95 + rand() * 0.1) : 0;
    s.energyKwh += (s.powerW * dtMs) / 3_600_000 / 1000;
  },
  report: (node, s) => [
    { topic: `${node}/stat/POWER`, payload: s.on ? 'ON' : 'OFF' },
    {
      topic: `${node}/tele/SENSOR`,
      payload: JSON.stringify({ Time: new Date().toISOString().slice(0, 19), ENERGY: { Total: Number(s.energyKwh.toFixed(3)), Power: Math.round(s.powerW) } }),
    },
  ],
  commandTopics: (node) => [`${node}/cmnd/POWER`],
  command(_node, s, _topic, payload) {
    const p = payload.toUpperCase();
    const next = p === 'ON' ? true : p === 'OFF' ? false : p === 'TOGGLE' ? !s.on : undefined;
    if (next === undefined) return false;
    s.on = next;
    if (!next) s.powerW = 0;
    return true;
  },
};
