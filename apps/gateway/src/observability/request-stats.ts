import type { AwsCallBudget } from '@rolegraph/credentials/aws';
import type { Caller } from '../schema/context.js';

/**
 * What one request did, for its log line. The AWS calls come from the request's call budget,
 * which `callAws` counts for every call it sends: no wrapper around sessions or clients.
 */
export interface RequestStats {
  caller?: Pick<Caller, 'name' | 'kind'>;
  /** Aliases of the accounts the request used. */
  accounts?: () => string[];
  budget?: Pick<AwsCallBudget, 'used' | 'failed'>;
}

const stats = new WeakMap<Request, RequestStats>();

/** This request's stats, made on first use. */
export function requestStatsOf(request: Request): RequestStats {
  let s = stats.get(request);
  if (!s) {
    s = {};
    stats.set(request, s);
  }
  return s;
}
