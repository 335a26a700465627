/**
 * Where a `--cpu-prof` profile spends its time: self time grouped by package (or node
 * internals, GC, idle), and the hottest functions.
 */
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** `@aws-sdk/client-ec2`, `graphql`, `@rolegraph/ec2`, `node:internal`, ... for a script URL. */
export function packageOf(url: string): string {
  if (url === '') return '(native / VM)';
  if (url.startsWith('node:')) return 'node internals';
  const pnpm = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pnpm?.[1]) return pnpm[1];
  const plain = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (plain?.[1]) return plain[1];
  const local = /\/(packages|apps)\/([^/]+)\//.exec(url);
  if (local?.[2]) return `@rolegraph/${local[2]}`;
  if (url.includes('/bench/')) return 'bench';
  return url;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  byPackage: Array<{ name: string; ms: number; share: number }>;
  topFunctions: Array<{ name: string; ms: number; share: number }>;
}

/** Self time by package and by function, as shares of the non-idle time. */
export async function summarizeCpuProfile(file: string, top = 12): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const packages = new Map<string, number>();
  const functions = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    totalUs += us;
    const fn = node.callFrame.functionName;
    if (fn === '(idle)') {
      idleUs += us;
      continue;
    }
    const name = fn === '(garbage collector)' ? 'GC' : packageOf(node.callFrame.url);
    packages.set(name, (packages.get(name) ?? 0) + us);
    const where = node.callFrame.url.split('/').slice(-1)[0] ?? '';
    const label = `${fn || '(anonymous)'} ${where}:${node.callFrame.lineNumber + 1} [${name}]`;
    functions.set(label, (functions.get(label) ?? 0) + us);
  }
  const busy = Math.max(1, totalUs - idleUs);
  const rank = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, share: us / busy }));
  return {
    totalMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    byPackage: rank(packages),
    topFunctions: rank(functions),
  };
}
