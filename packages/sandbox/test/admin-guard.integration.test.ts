import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../src/index.js';

// Issue 12, reproduction 11: a web page must not drive the sandbox's admin API (simple POSTs
// without preflight, foreign Origins, DNS-rebound Hosts); an admin token can be required.

function send(
  sb: Sandbox,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string }> {
  const { port } = new URL(sb.endpoint);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const clock = JSON.stringify({ advanceClockMs: 3_600_000 });

describe('admin API without a token', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox({ port: 0 });
  });
  afterAll(async () => {
    await sb?.close();
  });

  it('POST /_sandbox/knobs as text/plain (no preflight) is 415 and changes nothing', async () => {
    const before = sb.admin.now();
    const r = await send(sb, '/_sandbox/knobs', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: clock,
    });
    expect(r.status).toBe(415);
    expect(sb.admin.now() - before).toBeLessThan(60_000);
  });

  it('a foreign Origin is 403, even with application/json', async () => {
    const before = sb.admin.now();
    const r = await send(sb, '/_sandbox/knobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: clock,
    });
    expect(r.status).toBe(403);
    expect(sb.admin.now() - before).toBeLessThan(60_000);
  });

  it.each(['rebind.attacker.example', '127.attacker.example:4566'])(
    'Host %s cannot read the counters (403)',
    async (host) => {
      const r = await send(sb, '/_sandbox/counters', { headers: { host } });
      expect(r.status).toBe(403);
      expect(r.body).not.toMatch(/counters/);
    },
  );

  it('a loopback JSON POST still works', async () => {
    const before = sb.admin.now();
    const r = await send(sb, '/_sandbox/knobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: `http://127.0.0.1` },
      body: clock,
    });
    expect(r.status).toBe(200);
    expect(sb.admin.now() - before).toBeGreaterThanOrEqual(3_600_000);
  });
});

describe('admin API with adminToken', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox({ port: 0, adminToken: 'sandbox-admin-secret' });
  });
  afterAll(async () => {
    await sb?.close();
  });

  it('without or with a wrong token: 401', async () => {
    expect((await send(sb, '/_sandbox/counters')).status).toBe(401);
    expect(
      (await send(sb, '/_sandbox/counters', { headers: { authorization: 'Bearer wrong' } })).status,
    ).toBe(401);
  });

  it('with the token: answered, from any Host', async () => {
    const r = await send(sb, '/_sandbox/counters', {
      headers: { authorization: 'Bearer sandbox-admin-secret', host: 'sandbox.internal:4566' },
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).total).toBe(0);
  });
});
