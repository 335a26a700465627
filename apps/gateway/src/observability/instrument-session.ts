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
// Up to 200 ids are sent as these filters instead (see @rolegraph/ec2).
const BATCH_FILTERS = new Set(['instance-id', 'group-id', 'volume-id']);

/** How many ids a Describe call asks for, whether as the id parameter or as the id filter. */
function batchSizeOf(input: Record<string, unknown>): number {
  for (const field of BATCH_FIELDS) {
    const ids = input[field];
    if (Array.isArray(ids) && ids.length > 0) return ids.length;
  }
  const filters = Array.isArray(input.Filters)
    ? (input.Filters as Array<{ Name?: string; Values?: unknown[] }>)
    : [];
  const byId = filters.find((f) => f.Name !== undefined && BATCH_FILTERS.has(f.Name));
  return byId?.Values?.length ?? 0;
}

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
      const batch = batchSizeOf(args.input);
      if (batch > 0) metrics.batchSize.observe({ service, operation }, batch);
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
