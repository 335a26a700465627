import { execFile, execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAD_PROXY } from '../src/banner.js';
import { demoFixture, type Sandbox, startSandbox } from '../src/index.js';

// The root README's "sandbox on its own" blocks, run as written (only the port differs).
const run = promisify(execFile);
const README = fileURLToPath(new URL('../../../README.md', import.meta.url));
const RESULTS = fileURLToPath(new URL('../test-results/', import.meta.url));
const onCi = process.env.CI === 'true';
function works(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}
const hasAws = works('/usr/bin/aws', ['--version']);
const hasBoto = works('/usr/bin/python3', ['-c', 'import boto3']);
if (!onCi && !hasAws) console.warn('readme: skipping the awscli block: /usr/bin/aws is missing');
if (!onCi && !hasBoto) console.warn('readme: skipping the boto3 block: python3-boto3 is missing');

let sb: Sandbox;
let blocks: Record<'sh' | 'python' | 'ts', string>;
let prodInstances: string[];

beforeAll(async () => {
  sb = await startSandbox({ fixture: demoFixture(), port: 0 });
  prodInstances = (sb.fixture.accounts.find((a) => a.alias === 'prod')?.instances ?? [])
    .filter((i) => i.region === 'us-east-1')
    .map((i) => i.id);
  const text = await readFile(README, 'utf8');
  const start = text.indexOf('### The sandbox on its own');
  const section = text.slice(start, text.indexOf('\n## ', start));
  const block = (lang: string) => {
    const found = new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``).exec(section)?.[1];
    if (!found) throw new Error(`README: no ${lang} block in the sandbox section`);
    return found.replaceAll('http://127.0.0.1:4566', sb.endpoint);
  };
  blocks = { sh: block('sh'), python: block('python'), ts: block('ts') };
});
afterAll(async () => {
  await sb?.close();
});

const env = () => ({
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '/tmp',
  HTTPS_PROXY: DEAD_PROXY,
  NO_PROXY: '127.0.0.1',
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_PAGER: '',
});

describe('README: the sandbox on its own', () => {
  it.skipIf(!onCi && !hasAws)(
    'the awscli block assumes the reader role',
    async () => {
      const { stdout } = await run(
        'bash',
        ['-c', `set -e\n${blocks.sh.replaceAll(/^aws /gm, '/usr/bin/aws ')}`],
        {
          env: env(),
          timeout: 120_000,
        },
      );
      expect(stdout).toContain('arn:aws:sts::111111111111:assumed-role/RolegraphReader/me');
    },
    180_000,
  );

  it.skipIf(!onCi && !hasBoto)(
    "the boto3 block lists prod's instances",
    async () => {
      const { stdout } = await run('/usr/bin/python3', ['-c', blocks.python], {
        env: env(),
        timeout: 120_000,
      });
      for (const id of prodInstances) expect(stdout).toContain(id);
    },
    180_000,
  );

  it("the SDK block lists prod's instances and buckets, S3 without forcePathStyle", async () => {
    await mkdir(RESULTS, { recursive: true });
    const file = `${RESULTS}readme-sdk.mjs`;
    await writeFile(
      file,
      `${blocks.ts}\nconsole.log(JSON.stringify({ instances: Reservations.flatMap((r) => r.Instances.map((i) => i.InstanceId)), buckets: Buckets.map((b) => b.Name) }));\n`,
    );
    const { stdout } = await run(process.execPath, ['--no-warnings', file], { env: env(), timeout: 120_000 });
    const out = JSON.parse(stdout) as { instances: string[]; buckets: string[] };
    expect(out.instances.sort()).toEqual([...prodInstances].sort());
    expect(out.buckets.length).toBeGreaterThan(0);
    expect(out.buckets.every((b) => b.startsWith('prod-'))).toBe(true);
  });
});
