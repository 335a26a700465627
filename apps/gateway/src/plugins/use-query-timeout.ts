import { type ExecutionResult, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** The `extensions.code` of a query that ran out of time (retryable: it may fit next time). */
export const QUERY_TIMEOUT = 'QUERY_TIMEOUT' as const;

export interface QueryTimeoutOptions {
  /** How long one request may take, from arrival to answer. @default 30000 */
  timeoutMs: number;
}

interface Deadline {
  /** Fires when the caller goes away or the time is up. */
  signal: AbortSignal;
  /** Resolves when the time is up; never rejects. */
  expired: Promise<void>;
  clear(): void;
}

const deadlines = new WeakMap<Request, Deadline>();

/**
 * The signal every AWS call of this request listens to: the request's own signal, plus the
 * query timeout when `useQueryTimeout` runs. Without the plugin it is `request.signal`.
 */
export function querySignalOf(request: Request): AbortSignal {
  return deadlines.get(request)?.signal ?? request.signal;
}

function timeoutError(timeoutMs: number): GraphQLError {
  return new GraphQLError(`The query did not finish within ${timeoutMs} ms; its AWS calls were cancelled`, {
    extensions: { code: QUERY_TIMEOUT, retryable: true, timeoutMs },
  });
}

/**
 * Bounds every GraphQL request in time. When `timeoutMs` passes, the request's signal is
 * aborted (so every AWS call in flight is cancelled and no new one starts) and the answer is
 * a `QUERY_TIMEOUT` error at once, even if some resolver ignores the signal.
 *
 * @example
 * createYoga({ plugins: [useQueryTimeout({ timeoutMs: config.server.queryTimeoutMs })], context: ({ request }) => ({ signal: querySignalOf(request) }) });
 */
export function useQueryTimeout(options: QueryTimeoutOptions): Plugin<{ request?: Request }> {
  const { timeoutMs } = options;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
    throw new TypeError(`useQueryTimeout: timeoutMs must be a positive integer, got ${String(timeoutMs)}`);
  }
  return {
    onRequest({ request }) {
      const controller = new AbortController();
      const onCallerGone = () => controller.abort(request.signal.reason);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const expired = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          controller.abort(timeoutError(timeoutMs));
          resolve();
        }, timeoutMs);
        // A pending deadline must never keep the process alive.
        timer.unref?.();
      });
      const clear = () => {
        clearTimeout(timer);
        request.signal.removeEventListener('abort', onCallerGone);
      };
      if (request.signal.aborted) controller.abort(request.signal.reason);
      else request.signal.addEventListener('abort', onCallerGone, { once: true });
      deadlines.set(request, { signal: controller.signal, expired, clear });
    },
    onExecute({ args, executeFn, setExecuteFn }) {
      const request = args.contextValue.request;
      const deadline = request ? deadlines.get(request) : undefined;
      if (!deadline) return;
      setExecuteFn((executeArgs) =>
        Promise.race([
          Promise.resolve(executeFn(executeArgs)),
          deadline.expired.then((): ExecutionResult => ({ data: null, errors: [timeoutError(timeoutMs)] })),
        ]),
      );
    },
    onResponse({ request }) {
      deadlines.get(request)?.clear();
      deadlines.delete(request);
    },
  };
}
