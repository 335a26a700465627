import type { ClientConstructor, Session } from '@rolegraph/credentials';
import type { GatewayMetrics } from './metrics.js';

interface MiddlewareContext {
  clientName?: string;
  commandName?: string;
}
type Handler = (args: { input: Record<string, unknown> }) => Promise<unknown>;
type InitializeMiddleware = (next: Handler, context: MiddlewareContext) => Handler;
interface Stack {
  add(
    middleware: InitializeMiddleware,
    options: { step: 'initialize'; name: string; override: boolean },
  ): void;
}

const instrumented = new WeakSet<object>();
const BATCH_FIELDS = ['InstanceIds', 'GroupIds', 'VolumeIds'] as const;

function serviceOf(clientName: string | undefined): string {
  return (clientName ?? 'Unknown').replace(/Client$/, '').toLowerCase();
}

/** Counts every command a client sends, its outcome and duration, and the ids per batched call. */
function instrumentClient(client: object, metrics: GatewayMetrics, now: () => number): void {
  if (instrumented.has(client)) return;
  instrumented.add(client);
  const stack = (client as { middlewareStack?: Stack }).middlewareStack;
  stack?.add(
    (next, context) => async (args) => {
      const service = serviceOf(context.clientName);
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      for (const field of BATCH_FIELDS) {
        const ids = args.input[field];
        if (Array.isArray(ids) && ids.length > 0)
          metrics.batchSize.observe({ service, operation }, ids.length);
      }
      const started = now();
      try {
        const result = await next(args);
        metrics.awsCalls.inc({ service, operation, outcome: 'ok' });
        return result;
      } catch (error) {
        metrics.awsCalls.inc({ service, operation, outcome: 'error' });
        throw error;
      } finally {
        metrics.awsDuration.observe({ service, operation }, (now() - started) / 1000);
      }
    },
    { step: 'initialize', name: 'rolegraphGatewayMetrics', override: true },
  );
}

/**
 * The same session, but every SDK client it hands out counts its calls in `metrics`. The
 * clients are still the session's cached ones, so connections and credentials are shared.
 */
export function instrumentSession(session: Session, metrics: GatewayMetrics, now: () => number): Session {
  return Object.create(session, {
    client: {
      value<C extends object>(ClientClass: ClientConstructor<C>, region: string): C {
        const client = session.client(ClientClass, region);
        instrumentClient(client, metrics, now);
        return client;
      },
    },
  }) as Session;
}
