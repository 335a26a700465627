import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { formatPath } from '../fixture/load-fixture.js';
import type { CallFilter } from './call-counters.js';
import type { SandboxAdmin } from './sandbox-admin.js';

const service = z.enum(['sts', 'ec2', 's3']);
const latencyKnob = z.object({
  fixedMs: z.number().min(0).optional(),
  jitterMs: z.number().min(0).optional(),
});
const bucketSpec = z.object({ burst: z.number().min(1), refillPerSecond: z.number().min(0) });
const faultRule = z.object({
  service: service.optional(),
  operation: z.string().optional(),
  account: z.string().optional(),
  region: z.string().optional(),
  roleArn: z.string().optional(),
  error: z.union([
    z.enum(['throttle', 'internal', 'unavailable', 'reset']),
    z.object({
      code: z.string().min(1),
      status: z.number().int().min(400).max(599),
      message: z.string().optional(),
    }),
  ]),
  times: z.number().int().min(1).optional(),
  probability: z.number().min(0).max(1).optional(),
});

/** Body of `POST /_sandbox/knobs`: every field optional; present fields replace the current setting. */
export const knobsUpdateSchema = z.object({
  latency: z.partialRecord(service, latencyKnob).optional(),
  throttling: z
    .union([z.boolean(), z.partialRecord(service, z.union([bucketSpec, z.literal(false)]))])
    .optional(),
  faults: z.array(faultRule).optional(),
  services: z.partialRecord(service, z.boolean()).optional(),
  accounts: z.record(z.string().regex(/^\d{12}$/), z.boolean()).optional(),
  advanceClockMs: z.number().optional(),
});

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

/** Host names the admin API answers without a token: a web page elsewhere cannot rebind to it. */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function hostnameOf(value: string): string | undefined {
  try {
    return new URL(value.includes('://') ? value : `http://${value}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

export interface AdminRoutesOptions {
  /** When set, every admin request must send `authorization: Bearer <token>`; a foreign Host is then accepted. */
  adminToken?: string | undefined;
}

/**
 * Why an admin request is refused, or undefined. A browser page can send simple POSTs
 * (`text/plain`, no preflight) and, after DNS rebinding, any Host: so POSTs must be JSON (a
 * preflighted type), a foreign Origin is refused, and without a token only loopback Hosts are.
 */
function refusal(
  req: IncomingMessage,
  options: AdminRoutesOptions,
): { status: number; error: string } | undefined {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== 'null' && !LOOPBACK.has(hostnameOf(origin) ?? '')) {
    return { status: 403, error: 'foreign Origin refused' };
  }
  if (origin === 'null') return { status: 403, error: 'foreign Origin refused' };
  if (options.adminToken !== undefined) {
    const sent = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const a = Buffer.from(sent ?? '');
    const b = Buffer.from(options.adminToken);
    if (a.length !== b.length || !timingSafeEqual(a, b))
      return { status: 401, error: 'admin token required' };
  } else if (!LOOPBACK.has(hostnameOf(req.headers.host ?? '') ?? '')) {
    return { status: 403, error: 'Host is not loopback (start the sandbox with an admin token to allow it)' };
  }
  // A POST without a body (reset) carries nothing to smuggle; one with a body must be JSON.
  const hasBody =
    Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (req.method === 'POST' && hasBody && !/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
    return { status: 415, error: 'a POST body must be content-type: application/json' };
  }
  return undefined;
}

/**
 * The admin HTTP endpoint, outside AWS paths (the sandbox is a local tool), guarded as in `refusal`:
 * `GET /_sandbox/counters`, `GET /_sandbox/calls?service=&operation=&account=&region=&roleArn=`,
 * `POST /_sandbox/reset`, `GET|POST /_sandbox/knobs`, `GET /_sandbox/health`.
 */
export function createAdminRoutes(admin: SandboxAdmin, options: AdminRoutesOptions = {}) {
  return (req: IncomingMessage, res: ServerResponse, path: string, rawQuery: string, body: Buffer) => {
    const refused = refusal(req, options);
    if (refused) return json(res, refused.status, { error: refused.error });
    const method = req.method ?? 'GET';
    const route = `${method} ${path.replace(/\/$/, '')}`;
    switch (route) {
      case 'GET /_sandbox/health':
        return json(res, 200, { ok: true, now: new Date(admin.now()).toISOString() });
      case 'GET /_sandbox/counters':
      case 'POST /_sandbox/counters': {
        const counters = admin.counters();
        return json(res, 200, { counters, total: counters.reduce((n, c) => n + c.count, 0) });
      }
      case 'GET /_sandbox/calls': {
        const params = new URLSearchParams(rawQuery);
        const filter: CallFilter = {};
        const s = params.get('service');
        if (s !== null) {
          const parsed = service.safeParse(s);
          if (!parsed.success) return json(res, 400, { error: `unknown service ${s}` });
          filter.service = parsed.data;
        }
        for (const key of ['operation', 'account', 'region', 'roleArn'] as const) {
          const v = params.get(key);
          if (v !== null) filter[key] = v;
        }
        return json(res, 200, { count: admin.calls(filter) });
      }
      case 'POST /_sandbox/reset':
        admin.reset();
        return json(res, 200, { ok: true });
      case 'GET /_sandbox/knobs':
        return json(res, 200, admin.knobs());
      case 'POST /_sandbox/knobs': {
        let raw: unknown;
        try {
          raw = JSON.parse(body.toString('utf8') || '{}');
        } catch {
          return json(res, 400, { error: 'body is not valid JSON' });
        }
        const parsed = knobsUpdateSchema.safeParse(raw);
        if (!parsed.success) {
          return json(res, 400, {
            error: 'invalid knobs',
            issues: parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
          });
        }
        const u = parsed.data;
        if (u.latency !== undefined) admin.setLatency(u.latency);
        if (u.throttling !== undefined) admin.setThrottling(u.throttling);
        if (u.faults !== undefined) admin.setFaults(u.faults);
        for (const [s, enabled] of Object.entries(u.services ?? {}) as [z.infer<typeof service>, boolean][]) {
          admin.setServiceEnabled(s, enabled);
        }
        for (const [id, enabled] of Object.entries(u.accounts ?? {})) admin.setAccountEnabled(id, enabled);
        if (u.advanceClockMs !== undefined) admin.advanceClock(u.advanceClockMs);
        return json(res, 200, admin.knobs());
      }
      default:
        return json(res, 404, { error: `no admin route ${route}` });
    }
  };
}
