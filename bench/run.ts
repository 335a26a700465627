/**
 * `pnpm bench`: runs every benchmark against the sandbox, prints each table and writes
 * bench/results/latest.md and latest.json. `pnpm bench credentials` runs only matching cases.
 * Benchmarks never gate CI: they report, including missed targets.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { benchCallsPerQuery } from './calls-per-query.js';
import { benchClientMemory } from './client-memory.js';
import { benchCredentials } from './credentials.js';
import { benchCredentialsUnderLoad } from './credentials-under-load.js';
import { benchFanOut } from './fan-out.js';
import { benchLatencyThroughput } from './latency-throughput.js';
import { type BenchSection, renderSection } from './lib/report.js';
import { benchMemory } from './memory.js';
import { benchOrgScale } from './org-scale.js';
import { runSandboxThroughput } from './sandbox-throughput.js';
import { benchSdkThreads } from './sdk-threads.js';

interface Case {
  name: string;
  run: () => Promise<BenchSection[]>;
}

async function benchSandboxThroughput(): Promise<BenchSection[]> {
  const rows = await runSandboxThroughput();
  return [
    {
      title: 'Sandbox: DescribeInstances (10 ids) per second, signatures checked',
      description:
        'The sandbox alone in a child process (one core), 16 requests in flight; target >= 5000 req/s for the replay loop.',
      columns: ['loop', 'requests', 'seconds', 'req/s', 'errors', 'sandbox CPU µs/req'],
      rows: rows.map((r) => [
        r.name,
        r.requests,
        r.seconds.toFixed(1),
        r.requestsPerSecond,
        r.errors,
        r.sandboxCpuMicrosPerRequest,
      ]),
    },
  ];
}

// Issue 2 and issue 6, case by case; each prints its peer's figure, ours and the ratio.
const cases: Case[] = [
  { name: 'credentials', run: benchCredentials },
  { name: 'credentials-under-load', run: () => benchCredentialsUnderLoad() },
  { name: 'calls-per-query', run: benchCallsPerQuery },
  { name: 'latency-throughput', run: benchLatencyThroughput },
  { name: 'fan-out', run: benchFanOut },
  { name: 'sdk-threads', run: benchSdkThreads },
  { name: 'org-scale', run: () => benchOrgScale() },
  { name: 'memory', run: benchMemory },
  { name: 'client-memory', run: benchClientMemory },
  { name: 'sandbox-throughput', run: benchSandboxThroughput },
];

const filter = process.argv.slice(2);
const selected = cases.filter((c) => filter.length === 0 || filter.some((f) => c.name === f));
if (selected.length === 0) {
  process.stderr.write(
    `bench: no case named ${filter.join(', ')}; cases: ${cases.map((c) => c.name).join(', ')}\n`,
  );
  process.exit(2);
}
interface CaseResult {
  name: string;
  command: string;
  date: string;
  machine: string;
  sections: BenchSection[];
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;
const results: CaseResult[] = [];
for (const c of selected) {
  process.stderr.write(`bench: ${c.name}...\n`);
  const started = Date.now();
  let sections: BenchSection[];
  try {
    sections = await c.run();
  } catch (error) {
    // A failing case is reported, not hidden, and the other cases still run and are written.
    process.exitCode = 1;
    sections = [
      {
        title: `${c.name}: FAILED`,
        description: 'The case threw before producing its table.',
        columns: ['error'],
        rows: [[error instanceof Error ? `${error.name}: ${error.message}` : String(error)]],
      },
    ];
  }
  process.stderr.write(`bench: ${c.name} done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  for (const s of sections) process.stdout.write(`\n${renderSection(s)}`);
  const command = `pnpm bench${filter.length ? ` ${filter.join(' ')}` : ''}`;
  results.push({ name: c.name, command, date: new Date().toISOString(), machine, sections });
}

// latest.* hold the latest result of every case: a run of some cases replaces only those.
const jsonUrl = new URL('./results/latest.json', import.meta.url);
let previous: CaseResult[] = [];
try {
  const parsed = JSON.parse(await readFile(jsonUrl, 'utf8')) as { cases?: CaseResult[] };
  previous = parsed.cases ?? [];
} catch {
  // No earlier results, or an older format: start afresh.
}
const merged = cases
  .map((c) => results.find((r) => r.name === c.name) ?? previous.find((p) => p.name === c.name))
  .filter((r): r is CaseResult => r !== undefined);
const body = merged
  .map(
    (r) =>
      `## ${r.name}\n\n\`${r.command}\` · ${r.date} · ${r.machine}\n\n${r.sections.map(renderSection).join('\n')}`,
  )
  .join('\n');
await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(new URL('./results/latest.md', import.meta.url), `# rolegraph benchmarks\n\n${body}`);
await writeFile(jsonUrl, `${JSON.stringify({ cases: merged }, null, 2)}\n`);
process.stderr.write('bench: wrote bench/results/latest.md and latest.json\n');
