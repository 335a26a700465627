import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAws, startLocalAws } from './support/local-aws.js';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../..', import.meta.url));
let work: string;
let aws: LocalAws;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'rolegraph-pack-'));
  aws = await startLocalAws();
});
afterAll(async () => {
  await aws?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the published tarball', () => {
  it('packs from a clean tree (prepack builds), installs outside the workspace, imports and assumes a role', async () => {
    // A fresh clone (HEAD as committed): nothing built, so only `prepack` can put dist/ in the tarball.
    const clone = join(work, 'clone');
    await run('git', ['clone', '-q', repo, clone], { timeout: 120_000 });
    await run('pnpm', ['install', '--frozen-lockfile', '--offline'], {
      cwd: clone,
      timeout: 300_000,
      env: { ...process.env, CI: 'true' },
    });
    const packageDir = join(clone, 'packages', 'credentials');
    expect(existsSync(join(packageDir, 'dist'))).toBe(false);
    await run('pnpm', ['pack', '--pack-destination', work], { cwd: packageDir, timeout: 300_000 });
    const tarball = (await readdir(work)).find((f) => f.endsWith('.tgz'));
    expect(tarball).toMatch(/^rolegraph-credentials-\d+\.\d+\.\d+\.tgz$/);
    const { stdout: listing } = await run('tar', ['-tzf', join(work, tarball ?? '')]);
    expect(listing).toContain('package/dist/index.js');
    expect(listing).toContain('package/dist/index.d.ts');
    expect(listing).not.toContain('package/src/');
    expect(listing).not.toContain('.test.');

    const app = join(work, 'app');
    await run('mkdir', ['-p', app]);
    await writeFile(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'consumer',
        private: true,
        type: 'module',
        dependencies: { '@rolegraph/credentials': `file:../${tarball}` },
      }),
    );
    await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: app,
      timeout: 240_000,
    });
    await writeFile(
      join(app, 'use.mjs'),
      `import { createSessionCache, fromAssumeRole, CredentialsError } from '@rolegraph/credentials';
const sourceCredentials = async () => ({ accessKeyId: 'AKIAPACKTEST', secretAccessKey: 'pack-secret' });
const provider = fromAssumeRole({ roleArn: 'arn:aws:iam::123456789012:role/Packed', stsEndpoint: process.env.STS, sourceCredentials, proactiveRefresh: false });
const creds = await provider();
const sessions = createSessionCache({ stsEndpoint: process.env.STS, sourceCredentials });
const session = sessions.get({ roleArn: 'arn:aws:iam::123456789012:role/Packed' });
await session.credentials();
sessions.close();
provider.close();
console.log(JSON.stringify({ prefix: creds.accessKeyId.slice(0, 4), account: session.accountId, errorClass: typeof CredentialsError }));
`,
    );
    const { stdout } = await run('node', ['use.mjs'], {
      cwd: app,
      env: { ...process.env, STS: aws.endpoint },
    });
    expect(JSON.parse(stdout)).toEqual({ prefix: 'ASIA', account: '123456789012', errorClass: 'function' });
    expect(aws.assumeRoleCalls).toHaveLength(2);

    // Every other publishable package of the clean clone packs its build too.
    for (const name of ['ec2', 's3', 'sandbox']) {
      const out = join(work, `packed-${name}`);
      await run('mkdir', ['-p', out]);
      await run('pnpm', ['pack', '--pack-destination', out], {
        cwd: join(clone, 'packages', name),
        timeout: 300_000,
      });
      const [file] = await readdir(out);
      const { stdout: files } = await run('tar', ['-tzf', join(out, file ?? '')]);
      expect(files, name).toContain('package/dist/index.js');
      expect(files, name).toContain('package/dist/index.d.ts');
    }
  }, 600_000);
});
