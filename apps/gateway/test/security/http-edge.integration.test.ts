import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/auth/authenticate.js';
import { createGatewayServer } from '../../src/create-gateway-server.js';
import { type Harness, startHarness } from '../helpers.js';
import { totalCalls } from './security-helpers.js';

// Issue 12, reproductions 5, 6 and 7: Host allow-list against DNS rebinding, authentication
// before parsing, a body limit, and slow uploads cut off, on a real socket.

interface Raw {
  status: number;
  body: string;
}

/** One HTTP request with any Host header (fetch does not let a caller set it). */
function raw(
  port: number,
  options: { host: string; headers?: Record<string, string>; body?: string },
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/graphql',
        method: 'POST',
        headers: {
          host: options.host,
          'content-type': 'application/json',
          'x-graphql-yoga-csrf': '1',
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(options.body ?? JSON.stringify({ query: '{ accounts { alias accountId } }' }));
  });
}

async function serve(h: Harness, queryTimeoutMs = 30_000) {
  const server = createGatewayServer(h.gateway, { queryTimeoutMs, maxConnections: 100 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('5. without auth, only loopback Host names are answered (DNS rebinding)', () => {
  let h: Harness;
  let port: number;
  let close: () => void;
  beforeAll(async () => {
    h = await startHarness();
    const s = await serve(h);
    port = s.port;
    close = () => {
      s.server.closeAllConnections();
      s.server.close();
    };
  });
  afterAll(async () => {
    close?.();
    await h?.close();
  });

  it.each(['localhost', '127.0.0.1', '[::1]'])('Host %s:PORT is answered', async (name) => {
    const r = await raw(port, { host: `${name}:${port}` });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).data.accounts).toHaveLength(3);
  });

  it.each([
    'rebind.attacker.example:PORT',
    '127.attacker.example',
    '127.0.0.1.attacker.example:PORT',
    'localhost.attacker.example',
  ])('Host %s is 421 HOST_NOT_ALLOWED with no data and no AWS call', async (host) => {
    h.sandbox.admin.reset();
    const r = await raw(port, {
      host: host.replace('PORT', String(port)),
      headers: { origin: `http://${host}` },
    });
    expect(r.status).toBe(421);
    const body = JSON.parse(r.body);
    expect(body.data).toBeUndefined();
    expect(body.errors[0].extensions.code).toBe('HOST_NOT_ALLOWED');
    expect(r.body).not.toMatch(/\d{12}/);
    expect(totalCalls(h.sandbox)).toBe(0);
  });
});

describe('5, 6, 7. with auth: allowedHosts, authentication first, body limit, slow uploads', () => {
  let h: Harness;
  let port: number;
  let close: () => void;
  beforeAll(async () => {
    h = await startHarness({
      config: {
        auth: { apiKeys: [{ name: 'ops', sha256: hashApiKey('ops-key'), accounts: ['*'] }] },
        server: { allowedHosts: ['gateway.example', '127.0.0.1'], queryTimeoutMs: 400 },
      },
    });
    const s = await serve(h, 400);
    port = s.port;
    close = () => {
      s.server.closeAllConnections();
      s.server.close();
    };
  });
  afterAll(async () => {
    close?.();
    await h?.close();
  });

  it('server.allowedHosts: listed names are answered, others are 421', async () => {
    const ok = await raw(port, { host: `gateway.example:${port}`, headers: { 'x-api-key': 'ops-key' } });
    expect(ok.status).toBe(200);
    const refused = await raw(port, { host: 'other.example', headers: { 'x-api-key': 'ops-key' } });
    expect(refused.status).toBe(421);
  });

  it('an unauthenticated query of a field that does not exist is 401 with no schema detail', async () => {
    const r = await raw(port, {
      host: `127.0.0.1:${port}`,
      body: JSON.stringify({ query: '{ accounts { alias secretKey } }' }),
    });
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body).errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(
      ['UNAUTHENTICATED'],
    );
    expect(r.body).not.toMatch(/secretKey|Cannot query/);
  });

  it('a 24 MB unauthenticated body is refused (413) quickly, without being parsed', async () => {
    const started = performance.now();
    const r = await raw(port, {
      host: `127.0.0.1:${port}`,
      body: JSON.stringify({
        query: `{ accounts { alias } }`,
        variables: { x: 'x'.repeat(24 * 1024 * 1024) },
      }),
    }).catch((error: NodeJS.ErrnoException) => ({
      status: error.code === 'EPIPE' || error.code === 'ECONNRESET' ? 413 : 0,
      body: '',
    }));
    expect(r.status).toBe(413);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('an authenticated body over server.maxBodyBytes (1 MiB) without Content-Length is 413 PAYLOAD_TOO_LARGE', async () => {
    const body = JSON.stringify({
      query: '{ accounts { alias } }',
      variables: { x: 'x'.repeat(2 * 1024 * 1024) },
    });
    const r = await raw(port, {
      host: `127.0.0.1:${port}`,
      headers: { 'x-api-key': 'ops-key', 'transfer-encoding': 'chunked' },
      body,
    });
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('a Content-Length that is not one integer is 400 BAD_REQUEST before the body is read, with 0 AWS calls', async () => {
    // In-process: Node's HTTP parser refuses some of these on a socket before the gateway sees them.
    for (const declared of ['10, 20', '-1', '1e3', 'abc']) {
      const res = await h.gateway.fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-graphql-yoga-csrf': '1',
          'x-api-key': 'ops-key',
          'content-length': declared,
        },
        body: JSON.stringify({ query: '{ accounts { alias } }' }),
      });
      expect(res.status, declared).toBe(400);
      expect((await res.json()).errors[0].extensions.code).toBe('BAD_REQUEST');
    }
    expect(totalCalls(h.sandbox)).toBe(0);
  });

  it('chunked bodies of every other content type are read through the same limit, or refused', async () => {
    const chunked = (type: string, body: string) =>
      raw(port, {
        host: `127.0.0.1:${port}`,
        headers: { 'x-api-key': 'ops-key', 'transfer-encoding': 'chunked', 'content-type': type },
        body,
      });
    const big = 'x'.repeat(2 * 1024 * 1024);
    for (const [type, body] of [
      ['application/graphql', `{ accounts { alias } } # ${big}`],
      [
        'application/x-www-form-urlencoded',
        `query=${encodeURIComponent('{ accounts { alias } }')}&pad=${big}`,
      ],
    ] as const) {
      const r = await chunked(type, body);
      expect(r.status, type).toBe(413);
      expect(JSON.parse(r.body).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    }
    // Small bodies of those types still work.
    const graphql = await chunked('application/graphql', '{ accounts { alias } }');
    expect(JSON.parse(graphql.body).data.accounts.length).toBe(3);
    const form = await chunked(
      'application/x-www-form-urlencoded',
      `query=${encodeURIComponent('query($a: [String!]) { accounts(aliases: $a) { alias } }')}&variables=${encodeURIComponent('{"a":["prod"]}')}`,
    );
    expect(JSON.parse(form.body).data).toEqual({ accounts: [{ alias: 'prod' }] });
    // Multipart (uploads) and unknown types: 415 before the body is read.
    for (const type of ['multipart/form-data; boundary=x', 'text/csv']) {
      const r = await chunked(type, big);
      expect(r.status, type).toBe(415);
      expect(JSON.parse(r.body).errors[0].extensions.code).toBe('BAD_REQUEST');
    }
  });

  it('a body sent 1 byte every 200 ms is cut off within ~1 s (queryTimeoutMs 400), not held 300 s', async () => {
    const started = performance.now();
    const ended = await new Promise<number>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nx-api-key: ops-key\r\ncontent-type: application/json\r\ncontent-length: 1000\r\nx-graphql-yoga-csrf: 1\r\n\r\n`,
        );
        const drip = setInterval(() => socket.write('{'), 200);
        socket.on('close', () => {
          clearInterval(drip);
          resolve(performance.now() - started);
        });
        socket.on('error', () => {});
        socket.resume();
      });
    });
    // headersTimeout 400 + requestTimeout 800, checked every 100 ms; 5 s is a generous bound.
    expect(ended).toBeLessThan(5000);
  });

  it('the server carries server.maxConnections', () => {
    const server = createGatewayServer(h.gateway, { queryTimeoutMs: 1000, maxConnections: 7 });
    expect(server.maxConnections).toBe(7);
    expect(server.requestTimeout).toBe(2000);
  });
});
