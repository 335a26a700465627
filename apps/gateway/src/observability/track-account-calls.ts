import { sessionOfCall } from '@rolegraph/credentials';
import type { AccountActivity } from './account-activity.js';

type Handler = (args: unknown) => Promise<unknown>;
interface Stack {
  add(
    middleware: (next: Handler, context: object) => Handler,
    options: { step: 'initialize'; name: string; override: boolean },
  ): void;
}

/** The code a failed SDK call is known by: the AWS error code, else the network error's. */
export function errorCodeOf(error: unknown): string {
  if (error && typeof error === 'object') {
    const e = error as { name?: unknown; code?: unknown };
    if (typeof e.code === 'string' && e.code !== '') return e.code;
    if (typeof e.name === 'string' && e.name !== '' && e.name !== 'Error') return e.name;
  }
  return 'UnknownError';
}

/**
 * SDK middleware that records every call of `client` (retries included, as one call) in the
 * recent activity of the call's account (its session's: `sessionOfCall`); calls sent outside a
 * session are not recorded. Attach once per client, e.g. from the session cache's `onClient`.
 */
export function trackAccountCalls(client: object, activity: AccountActivity): void {
  const stack = (client as { middlewareStack?: Stack }).middlewareStack;
  stack?.add(
    (next, context) => async (args) => {
      const accountId = sessionOfCall(context)?.accountId;
      if (accountId === undefined) return next(args);
      try {
        const result = await next(args);
        activity.record(accountId, { ok: true });
        return result;
      } catch (error) {
        activity.record(accountId, { ok: false, code: errorCodeOf(error) });
        throw error;
      }
    },
    { step: 'initialize', name: 'rolegraphAccountActivity', override: true },
  );
}
