import type { SimKind } from '../simDevice.ts';

/**
 * A roller blind with tilting slats, announced as ESPHome and Tasmota do, with abbreviated keys and a
 * `~` base topic: one `cover` config (open/close/stop on `~/set`, a 0-100 position on `~/set/position`
 * read back from the state JSON, tilt on `~/set/tilt`), and a `button` that recalibrates its end
 * stops (`PRESS` on `~/set/calibrate`: it runs closed). The motor takes 30 s from closed to open;
 * while it runs the blind reports `opening` or `closing`, then `open`, `closed` or `stopped`.
 */
interface State {
  position: number;
  target: number;
  tilt: number;
  calibrations: number;
}

const PERCENT_PER_MS = 100 / 30_000;

const stateOf = (s: State) =>
  s.target > s.position ? 'opening' : s.target < s.position ? 'closing' : s.position >= 100 ? 'open' : s.position <= 0 ? 'closed' : 'stopped';

const percent = (payload: string) => {
  const n = Number(payload.trim());
  return Number.isInteger(n) && n >= 0 && n <= 100 ? n : undefined;
};

export const blind: SimKind<State> = {
  kind: 'blind',
  model: 'sim-blind',
  init: () => ({ position: 0, target: 0, tilt: 50, calibrations: 0 }),
  availability: (node) => ({ topic: `${node}/status`, online: 'online', offline: 'offline' }),
  announce: (node, name) => [
    {
      topic: `homeassistant/cover/${node}/blind/config`,
      config: {
        '~': node,
        name: 'Blind',
        uniq_id: `${node}-blind`,
        dev_cla: 'blind',
        avty_t: '~/status',
        cmd_t: '~/set',
        pl_open: 'OPEN',
        pl_cls: 'CLOSE',
        pl_stop: 'STOP',
        stat_t: '~/state',
        val_tpl: '{{ value_json.state }}',
        stat_open: 'open',
        stat_opening: 'opening',
        stat_clsd: 'closed',
        stat_closing: 'closing',
        stat_stopped: 'stopped',
        pos_t: '~/state',
        pos_tpl: '{{ value_json.position }}',
        set_pos_t: '~/set/position',
        tilt_cmd_t: '~/set/tilt',
        tilt_status_t: '~/state',
        tilt_status_tpl: '{{ value_json.tilt }}',
        dev: { ids: [`sim_${node}`], name, mf: 'Trellis sim', mdl: 'sim-blind' },
      },
    },
    {
      topic: `homeassistant/button/${node}/calibrate/config`,
      config: {
        '~': node,
        name: 'Calibrate',
        uniq_id: `${node}-calibrate`,
        avty_t: '~/status',
        cmd_t: '~/set/calibrate',
        ent_cat: 'config',
        dev: { ids: [`sim_${node}`] },
      },
    },
  ],
  step(s, dtMs) {
    const travel = PERCENT_PER_MS * dtMs;
    if (s.target > s.position) s.position = Math.min(s.target, s.position + travel);
    else if (s.target < s.position) s.position = Math.max(s.target, s.position - travel);
  },
  report: (node, s) => [{ topic: `${node}/state`, payload: JSON.stringify({ state: stateOf(s), position: Math.round(s.position), tilt: s.tilt }) }],
  commandTopics: (node) => [`${node}/set`, `${node}/set/+`],
  command(node, s, topic, payload) {
    if (topic === `${node}/set`) {
      if (payload === 'OPEN') s.target = 100;
      else if (payload === 'CLOSE') s.target = 0;
      else if (payload === 'STOP') s.target = Math.round(s.position);
      else return false;
      if (payload === 'STOP') s.position = s.target;
      return true;
    }
    if (topic === `${node}/set/calibrate`) {
      if (payload !== 'PRESS') return false;
      s.calibrations++;
      s.target = 0;
      return true;
    }
    const p = percent(payload);
    if (p === undefined) return false;
    if (topic === `${node}/set/position`) s.target = p;
    else if (topic === `${node}/set/tilt`) s.tilt = p;
    else return false;
    return true;
  },
};
