import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** Every metric the gateway exports on `/metrics`; one registry per gateway. */
export interface GatewayMetrics {
  readonly registry: Registry;
  httpRequests: Counter<'method' | 'path' | 'status'>;
  httpDuration: Histogram<'method' | 'path'>;
  graphqlOperations: Counter<'operation_type' | 'outcome'>;
  graphqlErrors: Counter<'code'>;
  awsCalls: Counter<'service' | 'operation' | 'outcome'>;
  awsDuration: Histogram<'service' | 'operation'>;
  batchSize: Histogram<'service' | 'operation'>;
  stsCalls: Counter<'operation' | 'outcome'>;
  refreshes: Counter<'reason' | 'outcome'>;
  servedStale: Counter;
}

/**
 * A fresh registry with the gateway's metrics (plus Node's default process metrics).
 *
 * @example
 * const metrics = createMetrics();
 * const text = await metrics.registry.metrics();
 */
export function createMetrics(options: { defaultMetrics?: boolean } = {}): GatewayMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true)
    collectDefaultMetrics({ register: registry, prefix: 'rolegraph_gateway_' });
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: 'rolegraph_gateway_http_requests_total',
      help: 'HTTP requests by method, path and status.',
      labelNames: ['method', 'path', 'status'],
      registers,
    }),
    httpDuration: new Histogram({
      name: 'rolegraph_gateway_http_request_duration_seconds',
      help: 'HTTP request duration.',
      labelNames: ['method', 'path'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    graphqlOperations: new Counter({
      name: 'rolegraph_gateway_graphql_operations_total',
      help: 'Executed GraphQL operations by type and outcome (ok, partial, error).',
      labelNames: ['operation_type', 'outcome'],
      registers,
    }),
    graphqlErrors: new Counter({
      name: 'rolegraph_gateway_graphql_errors_total',
      help: 'GraphQL errors returned to callers, by extensions.code.',
      labelNames: ['code'],
      registers,
    }),
    awsCalls: new Counter({
      name: 'rolegraph_gateway_aws_calls_total',
      help: 'AWS API calls made for callers (EC2, S3, STS GetCallerIdentity) by service, operation and outcome.',
      labelNames: ['service', 'operation', 'outcome'],
      registers,
    }),
    awsDuration: new Histogram({
      name: 'rolegraph_gateway_aws_call_duration_seconds',
      help: 'AWS API call duration, retries included.',
      labelNames: ['service', 'operation'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    batchSize: new Histogram({
      name: 'rolegraph_gateway_dataloader_batch_size',
      help: 'Ids per batched AWS call (DataLoader batch size as it reaches AWS).',
      labelNames: ['service', 'operation'],
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers,
    }),
    stsCalls: new Counter({
      name: 'rolegraph_gateway_sts_calls_total',
      help: 'STS AssumeRole calls made by the session cache, by outcome.',
      labelNames: ['operation', 'outcome'],
      registers,
    }),
    refreshes: new Counter({
      name: 'rolegraph_gateway_credential_refreshes_total',
      help: 'Credential refreshes by reason (initial, advisory, mandatory, expired, invalidated, proactive) and outcome.',
      labelNames: ['reason', 'outcome'],
      registers,
    }),
    servedStale: new Counter({
      name: 'rolegraph_gateway_credentials_served_stale_total',
      help: 'Requests served with cached credentials while STS was failing.',
      registers,
    }),
  };
}
