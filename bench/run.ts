/**
 * `pnpm bench`: runs every benchmark against the sandbox, prints each table and writes
 * bench/results/latest.md and latest.json. `pnpm bench credentials` runs only matching cases.
 * Benchmarks never gate CI: they report, including missed targets.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { benchCredentials } from './credentials.js';
import { type BenchSection, renderSection } from './lib/report.js';

interface Case {
  name: string;
  run: () => Promise<BenchSection[]>;
}

const cases: Case[] = [{ name: 'credentials', run: benchCredentials }];

const filter = process.argv.slice(2);
const selected = cases.filter((c) => filter.length === 0 || filter.some((f) => c.name.includes(f)));
const sections: BenchSection[] = [];
for (const c of selected) {
  process.stderr.write(`bench: ${c.name}...\n`);
  const started = Date.now();
  const result = await c.run();
  process.stderr.write(`bench: ${c.name} done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  for (const s of result) {
    sections.push(s);
    process.stdout.write(`\n${renderSection(s)}`);
  }
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;
const header = `# rolegraph benchmarks\n\nCommand: \`pnpm bench${filter.length ? ` ${filter.join(' ')}` : ''}\` · ${new Date().toISOString()} · ${machine}\n`;
await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(
  new URL('./results/latest.md', import.meta.url),
  `${header}\n${sections.map(renderSection).join('\n')}`,
);
await writeFile(
  new URL('./results/latest.json', import.meta.url),
  `${JSON.stringify({ date: new Date().toISOString(), machine, sections }, null, 2)}\n`,
);
process.stderr.write('bench: wrote bench/results/latest.md and latest.json\n');
