import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

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
  /** Discoveries of the organization, by outcome (ok, error). */
  accountDiscoveries: Counter<'outcome'>;
  /** Accounts of the current snapshot, by source (static: `accounts` and `profiles`; organization). */
  accounts: Gauge<'source'>;
  awsAnswers: Counter<'source'>;
  answerStoreErrors: Counter<'action'>;
  /** 1 while the shared Redis (`cache.redis`) answers, 0 while this replica uses its memory. */
  redisUp: Gauge;
  /** Times this replica stopped using Redis (a failed or timed-out command, a closed connection). */
  redisOutages: Counter;
  /** Cache and bucket operations served by this replica's memory instead of Redis. */
  redisFallbacks: Counter<'store' | 'operation'>;
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
  const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
    new Counter<L>({ name: `rolegraph_gateway_${name}`, help, labelNames, registers });
  const histogram = <L extends string>(name: string, help: string, labelNames: L[], buckets: number[]) =>
    new Histogram<L>({ name: `rolegraph_gateway_${name}`, help, labelNames, buckets, registers });
  const seconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  return {
    registry,
    httpRequests: counter('http_requests_total', 'HTTP requests by method, path and status.', [
      'method',
      'path',
      'status',
    ]),
    httpDuration: histogram(
      'http_request_duration_seconds',
      'HTTP request duration.',
      ['method', 'path'],
      seconds,
    ),
    graphqlOperations: counter(
      'graphql_operations_total',
      'Executed GraphQL operations by type and outcome (ok, partial, error).',
      ['operation_type', 'outcome'],
    ),
    graphqlErrors: counter(
      'graphql_errors_total',
      'GraphQL errors returned to callers, by extensions.code.',
      ['code'],
    ),
    awsCalls: counter(
      'aws_calls_total',
      'AWS API calls made for callers (EC2, S3, STS GetCallerIdentity) by service, operation and outcome.',
      ['service', 'operation', 'outcome'],
    ),
    awsDuration: histogram(
      'aws_call_duration_seconds',
      'AWS API call duration, retries included.',
      ['service', 'operation'],
      seconds,
    ),
    batchSize: histogram(
      'dataloader_batch_size',
      'Ids per batched AWS call (DataLoader batch size as it reaches AWS).',
      ['service', 'operation'],
      [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
    ),
    stsCalls: counter('sts_calls_total', 'STS AssumeRole calls made by the session cache, by outcome.', [
      'operation',
      'outcome',
    ]),
    refreshes: counter(
      'credential_refreshes_total',
      'Credential refreshes by reason (initial, advisory, mandatory, expired, invalidated, proactive) and outcome.',
      ['reason', 'outcome'],
    ),
    servedStale: counter(
      'credentials_served_stale_total',
      'Requests served with cached credentials while STS was failing.',
    ),
    accountDiscoveries: counter(
      'account_discoveries_total',
      'Discoveries of the AWS organization by outcome (ok, error); a failed one keeps the last good accounts.',
      ['outcome'],
    ),
    accounts: new Gauge<'source'>({
      name: 'rolegraph_gateway_accounts',
      help: 'Accounts the gateway serves, by source (static: accounts and profiles; organization).',
      labelNames: ['source'],
      registers,
    }),
    awsAnswers: counter(
      'aws_answers_total',
      'AWS answers used by requests, by source: cache (stored answer), shared (an identical call in flight), aws (sent).',
      ['source'],
    ),
    answerStoreErrors: counter(
      'answer_store_errors_total',
      'Reads and writes of the AWS-answer store that failed (each read became a miss), by action.',
      ['action'],
    ),
    redisUp: new Gauge({
      name: 'rolegraph_gateway_cache_redis_up',
      help: '1 while the shared Redis (cache.redis) answers, 0 while this replica falls back to its own memory.',
      registers,
    }),
    redisOutages: counter(
      'cache_redis_outages_total',
      'Times this replica stopped using Redis (a failed or timed-out command, a closed connection).',
    ),
    redisFallbacks: counter(
      'cache_redis_fallbacks_total',
      "Answer-cache and rate-limit operations served by this replica's memory instead of Redis, by store (answers, buckets) and operation.",
      ['store', 'operation'],
    ),
  };
}
