import type { Client, InitializeHandlerArguments, InitializeMiddleware, MetadataBearer } from '@smithy/types';
import type { GatewayMetrics } from './metrics.js';

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

/**
 * The session cache's `onClient` hook of the gateway: every SDK client a session makes
 * counts each command it sends, its outcome and duration, and the ids per batched call.
 *
 * @example
 * createSessionCache({ onClient: createClientMetrics(metrics, Date.now) });
 */
export function createClientMetrics(metrics: GatewayMetrics, now: () => number): (client: object) => void {
  const middleware: InitializeMiddleware<object, MetadataBearer> =
    (next, context) => async (args: InitializeHandlerArguments<object>) => {
      const service = serviceOf(context.clientName);
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      const batch = batchSizeOf(args.input as Record<string, unknown>);
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
    };
  return (client) => {
    // Every AWS SDK v3 client is a smithy Client; the hook is typed `object` so it takes any.
    (client as Partial<Client<object, MetadataBearer, unknown>>).middlewareStack?.add(middleware, {
      step: 'initialize',
      name: 'rolegraphGatewayMetrics',
      override: true,
    });
  };
}
