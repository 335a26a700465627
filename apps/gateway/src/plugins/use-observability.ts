import { randomUUID } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import type { LogFn } from '../observability/log.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import { requestStatsOf } from '../observability/request-stats.js';

export interface ObservabilityOptions {
  log: LogFn;
  metrics: GatewayMetrics;
  now: () => number;
  /** `ready`, or why not (`draining`, `no-source-identity`): anything but `ready` answers 503 on `/ready`. */
  readiness: () => string;
  graphqlEndpoint: string;
}

interface RequestInfo {
  id: string;
  startedAt: number;
}

const requests = new WeakMap<Request, RequestInfo>();
const INCOMING_ID = /^[\w.:-]{1,128}$/;

/** The request id `useObservability` gave this request (the caller's `x-request-id` if sane). */
export function requestIdOf(request: Request): string {
  return requests.get(request)?.id ?? 'unknown';
}

/**
 * Request ids, one log line per request (id, caller, accounts, AWS calls, duration), HTTP metrics, and the `/health`, `/ready` and
 * `/metrics` endpoints.
 */
export function useObservability(options: ObservabilityOptions): Plugin {
  const { log, metrics, now } = options;
  const known = new Set([options.graphqlEndpoint, '/health', '/ready', '/metrics']);
  const json = (body: unknown, status: number, ResponseClass: typeof Response) =>
    new ResponseClass(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      const incoming = request.headers.get('x-request-id');
      requests.set(request, {
        id: incoming && INCOMING_ID.test(incoming) ? incoming : randomUUID(),
        startedAt: now(),
      });
      if (request.method !== 'GET') return;
      if (url.pathname === '/health') endResponse(json({ status: 'ok' }, 200, fetchAPI.Response));
      else if (url.pathname === '/ready') {
        const status = options.readiness();
        endResponse(json({ status }, status === 'ready' ? 200 : 503, fetchAPI.Response));
      } else if (url.pathname === '/metrics') {
        return metrics.registry.metrics().then((text) => {
          endResponse(
            new fetchAPI.Response(text, {
              status: 200,
              headers: { 'content-type': metrics.registry.contentType },
            }),
          );
        });
      }
    },
    onResponse({ request, response }) {
      const info = requests.get(request);
      const url = new URL(request.url);
      const path = known.has(url.pathname) ? url.pathname : 'other';
      const durationMs = info ? now() - info.startedAt : 0;
      if (info) response.headers.set('x-request-id', info.id);
      metrics.httpRequests.inc({ method: request.method, path, status: String(response.status) });
      metrics.httpDuration.observe({ method: request.method, path }, durationMs / 1000);
      if (path === '/health' || path === '/ready' || path === '/metrics') return;
      const stats = requestStatsOf(request);
      log({
        level: response.status >= 500 ? 'error' : 'info',
        msg: 'request',
        requestId: info?.id,
        method: request.method,
        path: url.pathname,
        status: response.status,
        durationMs,
        // The caller's name and kind only: never a key, token or claim.
        ...(stats.caller ? { caller: stats.caller.name, callerKind: stats.caller.kind } : {}),
        accounts: stats.accounts?.() ?? [],
        awsCalls: stats.budget?.used ?? 0,
        awsErrors: stats.budget?.failed ?? 0,
      });
    },
  };
}
