import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAws, startLocalAws } from './support/local-aws.js';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('..', import.meta.url));
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
  it('packs, installs outside the workspace, imports and assumes a role', async () => {
    await run('pnpm', ['pack', '--pack-destination', work], { cwd: packageDir });
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
  }, 300_000);
});
