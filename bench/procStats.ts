// What Linux says of a process (by its PID) in /proc: its resident set, its CPU time, its writes,
// and the processes it started.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ: 100 on Linux) */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** /proc/<pid>/stat's fields after the parenthesised command name (which may hold spaces): [0] is field 3, the state */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of `pid`, in seconds (fields 14 and 15) */
export function cpuSecondsOf(pid: number): number {
  const fields = statFields(pid);
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** resident set in MB (NaN once the process is gone) */
export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** bytes the process has caused to be written to storage so far (/proc/<pid>/io write_bytes) */
export function writeBytesOf(pid: number): number {
  const m = /write_bytes:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

/** the PID of `pid`'s parent (field 4) */
export const parentOf = (pid: number): number => Number(statFields(pid)[1]);

/** the PIDs whose parent is `pid` now (field 4 of their stat) */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (Number(statFields(Number(name))[1]) === pid) out.push(Number(name));
    } catch {
      // it ended while we looked
    }
  }
  return out;
}

/** CPU seconds of each named group of processes: `take()` now, `since(earlier)` the seconds each group used in between */
export class CpuGroups {
  readonly #groups: Record<string, () => number[]>;
  constructor(groups: Record<string, () => number[]>) {
    this.#groups = groups;
  }

  take(): Map<number, number> {
    const at = new Map<number, number>();
    for (const pids of Object.values(this.#groups)) for (const pid of pids()) at.set(pid, cpuOrNaN(pid));
    return at;
  }

  /** a process that started in between counts from 0; one that ended in between is not counted */
  since(earlier: Map<number, number>): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, pids] of Object.entries(this.#groups))
      out[name] = pids().reduce((sum, pid) => {
        const d = cpuOrNaN(pid) - (earlier.get(pid) ?? 0);
        return Number.isFinite(d) ? sum + d : sum;
      }, 0);
    return out;
  }
}

function cpuOrNaN(pid: number): number {
  try {
    return cpuSecondsOf(pid);
  } catch {
    return Number.NaN;
  }
}
