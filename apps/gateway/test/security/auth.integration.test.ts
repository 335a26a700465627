import { exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/auth/authenticate.js';
import { CSRF, type Harness, startHarness } from '../helpers.js';
import { listen, totalCalls } from './security-helpers.js';

// Authentication over real HTTP (127.0.0.1, an ephemeral port): every missing, wrong, expired
// or forged API key or JWT is 401 UNAUTHENTICATED with no data and no AWS call; yoga's CSRF
// prevention refuses requests a browser could send cross-site without a preflight.

const API_KEY = 'a-real-api-key-0123456789';
const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const ISSUER = 'https://issuer.test/';
const AUDIENCE = 'rolegraph';
const QUERY = '{ accounts { alias buckets { nodes { name } } } }';

interface Answer {
  status: number;
  body: { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

async function post(url: string, headers: Record<string, string>, body: string): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  let parsed: Answer['body'] = {};
  try {
    parsed = JSON.parse(text) as Answer['body'];
  } catch {
    parsed = { errors: [{ message: text }] };
  }
  return { status: response.status, body: parsed };
}

const json = (headers: Record<string, string> = {}) => ({
  'content-type': 'application/json',
  accept: 'application/json',
  ...headers,
});

const hs = (secret: string) => new TextEncoder().encode(secret);
function token(
  overrides: { iss?: string; aud?: string; exp?: number | null; nbf?: number; alg?: string } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ accounts: ['*'] })
    .setProtectedHeader({ alg: overrides.alg ?? 'HS256' })
    .setIssuer(overrides.iss ?? ISSUER)
    .setAudience(overrides.aud ?? AUDIENCE)
    .setSubject('alice')
    .setIssuedAt(now);
  if (overrides.exp !== null) jwt.setExpirationTime(overrides.exp ?? now + 300);
  if (overrides.nbf !== undefined) jwt.setNotBefore(overrides.nbf);
  return jwt;
}

describe('authentication refuses every missing, wrong, expired or forged credential', () => {
  let h: Harness;
  let rsa: Harness;
  let url: string;
  let rsaUrl: string;
  let rsaPem: string;
  let rsaKeys: Awaited<ReturnType<typeof generateKeyPair>>;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    h = await startHarness({
      config: {
        auth: {
          apiKeys: [{ name: 'ci', sha256: hashApiKey(API_KEY), accounts: ['*'] }],
          jwt: { issuer: ISSUER, audience: AUDIENCE, secret: SECRET, clockToleranceSeconds: 5 },
        },
      },
    });
    rsaKeys = await generateKeyPair('RS256', { extractable: true });
    rsaPem = await exportSPKI(rsaKeys.publicKey);
    rsa = await startHarness({
      config: {
        auth: { jwt: { issuer: ISSUER, audience: AUDIENCE, publicKey: rsaPem, algorithms: ['RS256'] } },
      },
    });
    const a = await listen(h.gateway);
    const b = await listen(rsa.gateway);
    url = a.url;
    rsaUrl = b.url;
    closers.push(a.close, b.close);
  });
  afterAll(async () => {
    for (const close of closers) await close();
    await h?.close();
    await rsa?.close();
  });

  async function expectRefused(target: string, headers: Record<string, string>, label: string) {
    const sandbox = target === url ? h.sandbox : rsa.sandbox;
    const before = totalCalls(sandbox);
    const r = await post(target, json(headers), JSON.stringify({ query: QUERY }));
    expect(r.status, label).toBe(401);
    expect(r.body.data ?? null, label).toBeNull();
    expect(
      r.body.errors?.map((e) => e.extensions?.code),
      label,
    ).toEqual(['UNAUTHENTICATED']);
    expect(totalCalls(sandbox), label).toBe(before);
  }

  it('API keys: missing, wrong, empty, padded, the stored hash itself, or a wrong key beside a valid JWT', async () => {
    const valid = await token().sign(hs(SECRET));
    const cases: Record<string, Record<string, string>> = {
      'no credentials': {},
      'wrong key': { 'x-api-key': 'wrong' },
      'empty key': { 'x-api-key': '' },
      'key with an extra character': { 'x-api-key': `${API_KEY}x` },
      'key in upper case': { 'x-api-key': API_KEY.toUpperCase() },
      'key prefix': { 'x-api-key': API_KEY.slice(0, -1) },
      'the stored sha256 sent as the key': { 'x-api-key': hashApiKey(API_KEY) },
      'key sent twice': { 'x-api-key': `${API_KEY}, ${API_KEY}` },
      'wrong key beside a valid JWT (no fallback)': {
        'x-api-key': 'wrong',
        authorization: `Bearer ${valid}`,
      },
      'key as a bearer token': { authorization: `Bearer ${API_KEY}` },
      'basic auth': { authorization: `Basic ${Buffer.from(`ci:${API_KEY}`).toString('base64')}` },
    };
    for (const [label, headers] of Object.entries(cases)) await expectRefused(url, headers, label);
  });

  it('JWTs: wrong issuer or audience, expired, not yet valid, no expiry, another key, alg none, tampered', async () => {
    const now = Math.floor(Date.now() / 1000);
    const valid = await token().sign(hs(SECRET));
    const [header, payload, signature] = valid.split('.') as [string, string, string];
    const elevated = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'root' }),
    ).toString('base64url');
    const cases: Record<string, string> = {
      'wrong issuer': await token({ iss: 'https://evil.test/' }).sign(hs(SECRET)),
      'wrong audience': await token({ aud: 'other' }).sign(hs(SECRET)),
      'expired beyond the tolerance': await token({ exp: now - 60 }).sign(hs(SECRET)),
      'not yet valid': await token({ nbf: now + 600 }).sign(hs(SECRET)),
      'no expiry': await token({ exp: null }).sign(hs(SECRET)),
      'signed by another secret': await token().sign(hs('another-secret-that-is-long-enough-99999')),
      'signed by an RSA key (alg confusion)': await token({ alg: 'RS256' }).sign(rsaKeys.privateKey),
      'alg none': new UnsecuredJWT({ accounts: ['*'] })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime(now + 300)
        .encode(),
      'alg none with the valid signature kept': `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.${signature}`,
      'payload changed, signature kept': `${header}.${elevated}.${signature}`,
      'signature stripped': `${header}.${payload}.`,
      garbage: 'not.a.jwt',
      'empty bearer': '',
    };
    for (const [label, jwt] of Object.entries(cases)) {
      await expectRefused(url, { authorization: `Bearer ${jwt}` }, label);
    }
  });

  it('RS256: another key pair, and an HS256 token keyed with the public PEM (alg confusion)', async () => {
    const other = await generateKeyPair('RS256');
    const cases: Record<string, string> = {
      'signed by another RSA key': await token({ alg: 'RS256' }).sign(other.privateKey),
      'HS256 with the public key as the secret': await token().sign(hs(rsaPem)),
    };
    for (const [label, jwt] of Object.entries(cases)) {
      await expectRefused(rsaUrl, { authorization: `Bearer ${jwt}` }, label);
    }
    const good = await token({ alg: 'RS256' }).sign(rsaKeys.privateKey);
    const ok = await post(
      rsaUrl,
      json({ authorization: `Bearer ${good}` }),
      JSON.stringify({ query: '{ accounts { alias } }' }),
    );
    expect(ok.status).toBe(200);
    expect(ok.body.errors).toBeUndefined();
  });

  it('the valid API key and the valid JWT are answered (control)', async () => {
    const credentials: Array<Record<string, string>> = [
      { 'x-api-key': API_KEY },
      { authorization: `Bearer ${await token().sign(hs(SECRET))}` },
    ];
    for (const headers of credentials) {
      const r = await post(url, json(headers), JSON.stringify({ query: '{ accounts { alias } }' }));
      expect(r.status).toBe(200);
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data).toEqual({
        accounts: [{ alias: 'prod' }, { alias: 'staging' }, { alias: 'audit' }],
      });
    }
  });

  it('CSRF: GET and simple POSTs (text/plain, form, multipart) without the header are refused', async () => {
    const key = { 'x-api-key': API_KEY };
    const before = totalCalls(h.sandbox);
    const body = JSON.stringify({ query: QUERY });
    const form = new FormData();
    form.set('operations', body);
    const simple: Array<[string, RequestInit]> = [
      ['GET', { method: 'GET', headers: { accept: 'application/json', ...key } }],
      ['POST text/plain', { method: 'POST', headers: { 'content-type': 'text/plain', ...key }, body }],
      [
        'POST form',
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...key },
          body: new URLSearchParams({ query: QUERY }).toString(),
        },
      ],
      ['POST multipart', { method: 'POST', headers: key, body: form }],
    ];
    const getUrl = `${url}?query=${encodeURIComponent(QUERY)}`;
    for (const [label, init] of simple) {
      const response = await fetch(init.method === 'GET' ? getUrl : url, init);
      const text = await response.text();
      expect(response.status, label).toBe(403);
      expect(text, label).not.toContain('"data"');
    }
    expect(totalCalls(h.sandbox)).toBe(before);
    // With the header, the same GET is answered; a JSON POST is preflighted and needs none.
    const withHeader = await fetch(getUrl, { headers: { accept: 'application/json', ...key, ...CSRF } });
    expect(withHeader.status).toBe(200);
    const jsonPost = await post(url, json(key), JSON.stringify({ query: '{ accounts { alias } }' }));
    expect(jsonPost.status).toBe(200);
  });
});
