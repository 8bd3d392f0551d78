import type { DeviceSnapshot } from '../store/deviceQueries.ts';

/** "3 s ago", "5 min ago", "2 h ago", "4 d ago". */
export function ago(ts: number | null, now: number): string {
  if (ts === null) return 'never';
  const s = Math.max(0, Math.round((now - ts) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 129_600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

function value(v: DeviceSnapshot['attributes'][string]): string {
  if (v.value === null) return '-';
  if (typeof v.value === 'boolean') return v.value ? 'on' : 'off';
  return `${v.value}${v.unit ? ` ${v.unit}` : ''}`;
}

/** The human listing of `trellis device list`. */
export function formatDevices(devices: readonly DeviceSnapshot[], pending: readonly string[], now: number): string {
  const lines: string[] = [];
  if (devices.length === 0) lines.push('No devices yet. Add a credential with `trellis device add NAME` and point a device at the broker.');
  for (const d of devices) {
    const where = [d.protocol, d.manufacturer, d.model].filter(Boolean).join(', ');
    lines.push(`${d.id}  ${JSON.stringify(d.name)}  ${d.online ? 'online' : 'offline'}  (${where}; last seen ${ago(d.lastSeen, now)})`);
    const names = Object.keys(d.attributes);
    const width = Math.max(0, ...names.map((n) => n.length));
    for (const name of names) {
      const a = d.attributes[name] as DeviceSnapshot['attributes'][string];
      lines.push(`    ${name.padEnd(width)}  ${value(a).padEnd(14)}  ${ago(a.ts, now)}${a.writable ? '  (settable)' : ''}`);
    }
  }
  if (pending.length > 0) lines.push('', `Credentials not yet used by any device: ${pending.join(', ')}`);
  return lines.join('\n');
}
