import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { SandboxError, SandboxErrorCode } from '../errors.js';
import { accountStates } from '../fixture/fixture-schema.js';
import { formatPath } from '../fixture/load-fixture.js';
import { SERVICES, type ServiceName } from '../server/aws-error.js';
import type { CallFilter } from './call-counters.js';
import type { SandboxAdmin } from './sandbox-admin.js';

const service = z.enum(SERVICES as [ServiceName, ...ServiceName[]]);
const latencyKnob = z.object({
  fixedMs: z.number().min(0).optional(),
  jitterMs: z.number().min(0).optional(),
});
const bucketSpec = z.object({ burst: z.number().min(1), refillPerSecond: z.number().min(0) });
const serviceBucket = z.union([bucketSpec, z.literal(false)]);
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
    .union([
      z.boolean(),
      z.strictObject({
        sts: serviceBucket.optional(),
        s3: serviceBucket.optional(),
        organizations: serviceBucket.optional(),
        ec2: z
          .union([
            serviceBucket,
            z.strictObject({
              nonMutating: serviceBucket.optional(),
              unfilteredUnpaginated: serviceBucket.optional(),
            }),
          ])
          .optional(),
      }),
    ])
    .optional(),
  organizations: z.strictObject({ emptyPages: z.boolean().optional() }).optional(),
  faults: z.array(faultRule).optional(),
  services: z.partialRecord(service, z.boolean()).optional(),
  accounts: z.record(z.string().regex(/^\d{12}$/), z.boolean()).optional(),
  advanceClockMs: z.number().optional(),
});

/** Body of `POST /_sandbox/accounts`: a fixture account (validated as in a fixture), optionally an OU. */
const addAccountSchema = z.strictObject({
  account: z.record(z.string(), z.unknown()),
  parentId: z.string().optional(),
});
/** Body of `POST /_sandbox/accounts/<id>`: a new state and/or a new parent. */
const changeAccountSchema = z.strictObject({
  state: z.enum(accountStates).optional(),
  parentId: z.string().optional(),
});

const sandboxErrorStatus: Partial<Record<SandboxErrorCode, number>> = {
  [SandboxErrorCode.UnknownAccount]: 404,
  [SandboxErrorCode.UnknownParent]: 404,
  [SandboxErrorCode.AccountExists]: 409,
  [SandboxErrorCode.ManagementAccount]: 409,
  [SandboxErrorCode.NoOrganization]: 409,
};

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
 * `POST /_sandbox/reset`, `GET|POST /_sandbox/knobs`, `GET /_sandbox/health`, and the account
 * mutations `POST /_sandbox/accounts` (`{ account, parentId? }`), `POST /_sandbox/accounts/<id>`
 * (`{ state?, parentId? }`), `DELETE /_sandbox/accounts/<id>`.
 */
export function createAdminRoutes(admin: SandboxAdmin, options: AdminRoutesOptions = {}) {
  return (req: IncomingMessage, res: ServerResponse, path: string, rawQuery: string, body: Buffer) => {
    const refused = refusal(req, options);
    if (refused) return json(res, refused.status, { error: refused.error });
    const method = req.method ?? 'GET';
    const route = `${method} ${path.replace(/\/$/, '')}`;
    const accountRoute = /^(POST|DELETE) \/_sandbox\/accounts\/(\d{12})$/.exec(route);
    if (route === 'POST /_sandbox/accounts' || accountRoute) {
      return accountsRoute(res, accountRoute?.[1], accountRoute?.[2], body);
    }
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
        const outcome = params.get('outcome');
        if (outcome !== null) {
          if (outcome !== 'throttled') return json(res, 400, { error: `unknown outcome ${outcome}` });
          filter.outcome = outcome;
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
        if (u.organizations !== undefined) admin.setOrganizations(u.organizations);
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

  /** `POST /_sandbox/accounts`, `POST /_sandbox/accounts/<id>`, `DELETE /_sandbox/accounts/<id>`. */
  function accountsRoute(
    res: ServerResponse,
    method: string | undefined,
    id: string | undefined,
    body: Buffer,
  ) {
    let raw: unknown = {};
    if (body.length > 0) {
      try {
        raw = JSON.parse(body.toString('utf8'));
      } catch {
        return json(res, 400, { error: 'body is not valid JSON' });
      }
    }
    const issues = (error: z.ZodError) =>
      error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
    try {
      if (id === undefined) {
        const parsed = addAccountSchema.safeParse(raw);
        if (!parsed.success)
          return json(res, 400, { error: 'invalid account', issues: issues(parsed.error) });
        const { parentId } = parsed.data;
        const account = admin.addAccount(
          parsed.data.account as Parameters<SandboxAdmin['addAccount']>[0],
          parentId === undefined ? {} : { parentId },
        );
        return json(res, 200, { ok: true, id: account.id });
      }
      if (method === 'DELETE') {
        admin.removeAccount(id);
        return json(res, 200, { ok: true });
      }
      const parsed = changeAccountSchema.safeParse(raw);
      if (!parsed.success) return json(res, 400, { error: 'invalid change', issues: issues(parsed.error) });
      if (parsed.data.state !== undefined) admin.setAccountState(id, parsed.data.state);
      if (parsed.data.parentId !== undefined) admin.moveAccount(id, parsed.data.parentId);
      return json(res, 200, { ok: true });
    } catch (error) {
      if (error instanceof SandboxError) {
        return json(res, sandboxErrorStatus[error.code] ?? 400, {
          error: error.message,
          code: error.code,
          ...(error.issues.length > 0 ? { issues: error.issues } : {}),
        });
      }
      throw error;
    }
  }
}
