// CPU time by process group, from /proc (Linux), for bench/ui.ts: this node
// process (server, worker and load generator together), the Temporal dev
// server's process tree, and every other child of this process (PostgreSQL).
// A sampler returns cumulative milliseconds; the bench takes differences.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

export interface Cpu {
  node: number;
  temporal: number;
  postgres: number;
}

export function cpuSampler(temporalPid: number | undefined): () => Cpu | null {
  let tick = 100;
  try {
    tick = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    // the usual value
  }
  return () => {
    const u = process.cpuUsage();
    const node = (u.user + u.system) / 1000;
    let procs: { pid: number; ppid: number; ms: number }[];
    try {
      procs = readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .flatMap((d) => {
          try {
            const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
            const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
            return [{ pid: Number(d), ppid: Number(f[1]), ms: ((Number(f[11]) + Number(f[12])) * 1000) / tick }];
          } catch {
            return []; // gone meanwhile
          }
        });
    } catch {
      return null;
    }
    const children = new Map<number, number[]>();
    for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
    const tree = (root: number) => {
      const out = new Set<number>();
      const stack = [root];
      while (stack.length) {
        const pid = stack.pop()!;
        out.add(pid);
        stack.push(...(children.get(pid) ?? []));
      }
      return out;
    };
    const ms = new Map(procs.map((p) => [p.pid, p.ms]));
    const sum = (pids: Set<number>) => [...pids].reduce((a, pid) => a + (ms.get(pid) ?? 0), 0);
    const temporal = temporalPid ? tree(temporalPid) : new Set<number>();
    const others = tree(process.pid);
    others.delete(process.pid);
    for (const pid of temporal) others.delete(pid);
    return { node, temporal: sum(temporal), postgres: sum(others) };
  };
}
