import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { parseConfig } from '../../src/config/load-config.js';
import { CSRF, type Harness, startHarness } from '../helpers.js';
import { codesOf, totalCalls } from './security-helpers.js';

// Issue 12: persisted operations as an option for production frontends: only known documents run.

const ACCOUNTS = '{ accounts { alias } }';
const INSTANCES =
  'query Instances($account: String!) { instances(account: $account, first: 5) { nodes { id } } }';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const documents = { [sha256(ACCOUNTS)]: ACCOUNTS, 'instances-v1': INSTANCES };

async function post(h: Harness, body: Record<string, unknown>) {
  const response = await h.gateway.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...CSRF },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as {
      data?: Record<string, unknown> | null;
      errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
    },
  };
}

describe('persistedOperations', () => {
  const harnesses: Harness[] = [];
  const start = async (config: Record<string, unknown>) => {
    const h = await startHarness({ config });
    harnesses.push(h);
    return h;
  };
  afterAll(async () => {
    for (const h of harnesses) await h.close();
  });

  it('runs a document named by documentId or by APQ sha256Hash, with its variables', async () => {
    const h = await start({ persistedOperations: { documents } });
    const byId = await post(h, { documentId: 'instances-v1', variables: { account: 'prod' } });
    expect(byId.body.errors).toBeUndefined();
    expect((byId.body.data?.instances as { nodes: unknown[] } | undefined)?.nodes.length).toBeGreaterThan(0);
    const byHash = await post(h, {
      extensions: { persistedQuery: { version: 1, sha256Hash: sha256(ACCOUNTS) } },
    });
    expect(byHash.body.errors).toBeUndefined();
    expect(byHash.body.data).toEqual({
      accounts: [{ alias: 'prod' }, { alias: 'staging' }, { alias: 'audit' }],
    });
  });

  it('refuses a document of its own, an unknown id and no id with 400 and a code, before any AWS call', async () => {
    const h = await start({ persistedOperations: { documents } });
    h.sandbox.admin.reset();
    const own = await post(h, { query: INSTANCES, variables: { account: 'prod' } });
    expect(own.status).toBe(400);
    expect(codesOf(own.body)).toEqual(['PERSISTED_QUERY_ONLY']);
    expect(own.body.data ?? null).toBeNull();
    const unknown = await post(h, { documentId: 'nope' });
    expect(unknown.status).toBe(400);
    expect(codesOf(unknown.body)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    const none = await post(h, { variables: {} });
    expect(none.status).toBe(400);
    expect(codesOf(none.body)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    expect(totalCalls(h.sandbox)).toBe(0);
  });

  it('with allowArbitraryOperations, own documents run too (GraphiQL keeps working)', async () => {
    const h = await start({ persistedOperations: { documents, allowArbitraryOperations: true } });
    const own = await post(h, { query: '{ account(account: "audit") { alias } }' });
    expect(own.body.errors).toBeUndefined();
    expect(own.body.data).toEqual({ account: { alias: 'audit' } });
    expect(
      (await post(h, { documentId: 'instances-v1', variables: { account: 'staging' } })).body.errors,
    ).toBeUndefined();
  });

  it('reads a persisted-documents.json file; a bad file or document is a ConfigError at start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rolegraph-persisted-'));
    try {
      const file = join(dir, 'persisted-documents.json');
      await writeFile(file, JSON.stringify(documents));
      const h = await start({ persistedOperations: { file } });
      expect(
        (await post(h, { documentId: 'instances-v1', variables: { account: 'prod' } })).body.errors,
      ).toBeUndefined();

      const base = {
        accounts: [{ alias: 'prod', roleArn: 'arn:aws:iam::111111111111:role/R', regions: ['us-east-1'] }],
      };
      const refused = async (persistedOperations: unknown, pattern: RegExp) => {
        const error = await parseConfig({ ...base, persistedOperations }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConfigError);
        expect(String((error as Error).message)).toMatch(pattern);
      };
      await refused({ file: join(dir, 'missing.json') }, /missing\.json cannot be read \(ENOENT\)/);
      await writeFile(join(dir, 'bad.json'), '{ not json');
      await refused({ file: join(dir, 'bad.json') }, /is not JSON/);
      await writeFile(join(dir, 'bad-doc.json'), JSON.stringify({ a: '{ accounts { ' }));
      await refused(
        { file: join(dir, 'bad-doc.json') },
        /persistedOperations\.file a.*is not a GraphQL document/,
      );
      await refused({ documents: { 'bad id!': ACCOUNTS } }, /bad id!: is not an operation id/);
      await refused({ documents: {} }, /holds no document/);
      await refused({ file, documents }, /exactly one of file or documents/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
