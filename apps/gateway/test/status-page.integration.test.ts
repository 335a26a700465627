import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/auth/authenticate.js';
import { gql, type Harness, startHarness } from './helpers.js';

// /status as an operator and an attacker see it: behind GraphQL's auth, every allowed account's
// health, the AWS calls the sandbox counted, and no key material anywhere.

const OPS_KEY = 'status-test-ops-key';
const PROD_KEY = 'status-test-prod-key';
const KEY_SHAPED = /(AKIA|ASIA)[A-Z0-9]{12,}/;

async function page(h: Harness, headers: Record<string, string> = {}) {
  const response = await h.gateway.fetch('http://localhost/status', { headers });
  return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
}

/** The cells of one account's row, as text. */
function rowOf(html: string, alias: string): string[] {
  const row = new RegExp(`<tr[^>]*data-account="${alias}"[^>]*>([\\s\\S]*?)</tr>`).exec(html)?.[1] ?? '';
  return [...row.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((m) =>
    (m[1] ?? '')
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  );
}

describe('/status', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      config: {
        auth: {
          apiKeys: [
            { name: 'ops', sha256: hashApiKey(OPS_KEY), accounts: ['*'] },
            { name: 'ci', sha256: hashApiKey(PROD_KEY), accounts: ['prod'] },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('needs the same auth as GraphQL: 401 without a key or with a wrong one', async () => {
    expect((await page(h)).status).toBe(401);
    const wrong = await page(h, { 'x-api-key': 'nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toBe('Invalid API key\n');
  });

  it('shows every account with credential state, expiry, last refresh and the AWS calls the sandbox counted', async () => {
    const before = (await page(h, { 'x-api-key': OPS_KEY })).body;
    expect(rowOf(before, 'prod')).toEqual(['prod 111111111111', 'no session yet', '—', '—', '—', '0', '0']);
    const ec2Before = h.sandbox.admin.calls({ service: 'ec2', account: '111111111111' });
    const r = await gql(
      h.gateway,
      '{ account(account: "prod") { instances(region: "us-east-1", first: 5) { nodes { id securityGroups { id } } } } }',
      undefined,
      { 'x-api-key': OPS_KEY, 'x-graphql-yoga-csrf': '1' },
    );
    expect(r.body.errors).toBeUndefined();
    const calls = h.sandbox.admin.calls({ service: 'ec2', account: '111111111111' }) - ec2Before;
    expect(calls).toBeGreaterThanOrEqual(2);

    const after = await page(h, { 'x-api-key': OPS_KEY });
    expect(after.status).toBe(200);
    expect(after.type).toBe('text/html; charset=utf-8');
    const [name, state, expiry, refreshed, lastError, awsCalls, errors] = rowOf(after.body, 'prod');
    expect(name).toBe('prod 111111111111');
    expect(state).toBe('fresh');
    expect(expiry).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z in \d+ (s|min|\.\d h)/);
    expect(refreshed).toMatch(/^\d+ s ago$/);
    expect(lastError).toBe('—');
    expect(awsCalls).toBe(String(calls));
    expect(errors).toBe('0');
    expect(rowOf(after.body, 'staging')[1]).toBe('no session yet');
  });

  it('counts failed calls with their AWS error code', async () => {
    h.sandbox.admin.setFault({ service: 'ec2', error: 'throttle' });
    try {
      await gql(
        h.gateway,
        '{ account(account: "audit") { instances(region: "us-east-1", first: 1) { nodes { id } } } }',
        undefined,
        { 'x-api-key': OPS_KEY, 'x-graphql-yoga-csrf': '1' },
      );
    } finally {
      h.sandbox.admin.clearFaults();
    }
    const cells = rowOf((await page(h, { 'x-api-key': OPS_KEY })).body, 'audit');
    expect(cells[5]).toBe('1');
    // EC2's throttling code, as the SDK raised it.
    expect(cells[6]).toBe('1 RequestLimitExceeded');
  });

  it('a restricted caller sees only its accounts; no page holds key material', async () => {
    const restricted = await page(h, { 'x-api-key': PROD_KEY });
    expect(restricted.status).toBe(200);
    expect(rowOf(restricted.body, 'prod')[0]).toBe('prod 111111111111');
    expect(restricted.body).not.toContain('data-account="staging"');
    expect(restricted.body).not.toContain('222222222222');

    const full = (await page(h, { 'x-api-key': OPS_KEY })).body;
    const secrets = h.sandbox.admin
      .issuedCredentials()
      .flatMap((c) => [c.accessKeyId, c.secretAccessKey, ...(c.sessionToken ? [c.sessionToken] : [])]);
    expect(secrets.length).toBeGreaterThanOrEqual(6);
    for (const text of [full, restricted.body]) {
      for (const secret of secrets)
        expect(text.includes(secret), 'a sandbox credential on /status').toBe(false);
      expect(text).not.toMatch(KEY_SHAPED);
      expect(text).not.toContain(OPS_KEY);
      expect(text).not.toContain(hashApiKey(OPS_KEY));
    }
  });
});
