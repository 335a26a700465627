import { setMaxListeners } from 'node:events';
import { useOpenTelemetry } from '@envelop/opentelemetry';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { TracerProvider } from '@opentelemetry/api';
import {
  type CredentialEvent,
  createSessionCache,
  type JitterRange,
  type RefreshDefaults,
  type SessionCache,
  type SessionEvent,
} from '@rolegraph/credentials';
import {
  type AnswerCache,
  type AwsRateLimiter,
  addAttemptMeter,
  type BucketStore,
  createAwsCallBudget,
  createMemoryAnswerStore,
  createMemoryBucketStore,
} from '@rolegraph/credentials/aws';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { createSchema, createYoga, maskError, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { type AccountRegistry, createAccountRegistry } from './accounts/account-registry.js';
import {
  createOrganizationSource,
  createSourceOrganizationsClient,
  type DiscoveryTuning,
} from './accounts/organization-source.js';
import { createSessionBook, sessionCacheSize } from './accounts/session-book.js';
import { useAccountSnapshot } from './accounts/use-account-snapshot.js';
import { createAuthenticator } from './auth/authenticate.js';
import { choosesRetry, createAwsRetryStrategy } from './aws-retry.js';
import { createGatewayCache } from './cache/create-gateway-cache.js';
import { createSharedStores } from './cache/shared-stores.js';
import { answerCacheOf, useAnswerCache } from './cache/use-answer-cache.js';
import type { GatewayConfig } from './config/config-schema.js';
import { failureOf, redact, toGraphQLError, typedError, withCode } from './errors.js';
import { createSourceCheck, type SourceStatus } from './health/source-check.js';
import { createAccountGate } from './limits/account-gate.js';
import { createGatewayRateLimiter } from './limits/rate-limits.js';
import { createAccountActivity } from './observability/account-activity.js';
import { createClientMetrics } from './observability/client-metrics.js';
import { createJsonLog, type LogFn } from './observability/log.js';
import { createMetrics, type GatewayMetrics } from './observability/metrics.js';
import { requestStatsOf } from './observability/request-stats.js';
import { traceAwsCalls } from './observability/trace-aws-calls.js';
import { createOtlpTracing, type GatewayTracing } from './observability/tracing.js';
import { trackAccountCalls } from './observability/track-account-calls.js';
import { useErrorReporting } from './plugins/use-error-reporting.js';
import { useFanOutCost } from './plugins/use-fan-out-cost.js';
import { useIntrospectionSwitch } from './plugins/use-introspection-switch.js';
import { requestIdOf, useObservability } from './plugins/use-observability.js';
import { usePersistedDocuments } from './plugins/use-persisted-documents.js';
import { useProtection } from './plugins/use-protection.js';
import { querySignalOf, useQueryTimeout } from './plugins/use-query-timeout.js';
import { callerOf, LOOPBACK_HOSTS, useRequestGuard } from './plugins/use-request-guard.js';
import { useStatusPage } from './plugins/use-status-page.js';
import { withArgumentChecks } from './schema/argument-checks.js';
import { createRequestAccounts, type GatewayContext } from './schema/context.js';
import { exampleQueries } from './schema/examples.js';
import { resolvers } from './schema/resolvers.js';
import { typeDefs } from './schema/type-defs.js';

/** What a gateway is built from. Only `config` is required. */
export interface GatewayDeps {
  config: GatewayConfig;
  /**
   * The process-wide session cache. Omitted: the gateway makes one from `config.aws`,
   * `sourceCredentials` and `clientDefaults`, with its retry policy and AWS call metrics on
   * every client, and closes it in `close()`. A cache given here keeps its own client settings.
   */
  sessions?: SessionCache;
  /** Credentials that call AssumeRole when the gateway makes the cache. @default the SDK default chain */
  sourceCredentials?: AwsCredentialIdentityProvider;
  /**
   * Merged into every SDK client (endpoint, forcePathStyle, maxAttempts, ...). Without
   * `maxAttempts`, `retryStrategy` or `retryMode` here, `createAwsRetryStrategy()` is used.
   */
  clientDefaults?: Record<string, unknown>;
  /** Refresh settings for the cache the gateway makes. */
  refresh?: RefreshDefaults;
  /**
   * The recovery probe of the cache the gateway makes (see `createSessionCache`).
   * @default { minMs: 20_000, maxMs: 40_000 }
   */
  recoveryProbe?: JitterRange | false;
  /**
   * Where the AWS rate-limit buckets (`limits.aws`) live: one process by default; a shared store
   * (Redis) makes replicas draw on the same account's buckets.
   * @default the shared Redis with `cache.redis`, else process memory
   */
  bucketStore?: BucketStore;
  /** Structured log sink. @default JSON lines on stdout */
  log?: LogFn;
  /** @default Date.now */
  now?: () => number;
  /** @default a fresh registry */
  metrics?: GatewayMetrics;
  /**
   * Where spans go (a span per GraphQL operation and per AWS call). Omitted: an OTLP/HTTP
   * exporter when `config.tracing` is set, otherwise no tracing at all.
   */
  tracerProvider?: TracerProvider;
  /** Tuning of the organization walk (concurrency, throttling backoff); tests shorten it. */
  discovery?: DiscoveryTuning;
  /**
   * The process-wide AWS-answer cache. Omitted: made from `config.cache` (in memory; none with
   * `enabled: false`); `null`: none whatever the config says.
   */
  answerCache?: AnswerCache | null;
}

/** Whatever the HTTP adapter passes along with each request (node: `req`, `res`). */
export type ServerContext = Record<string, unknown>;

/** The yoga instance plus what the process around it needs. */
export type Gateway = YogaServerInstance<ServerContext, GatewayContext> & {
  readonly metrics: GatewayMetrics;
  readonly sessions: SessionCache;
  /** The process-wide AWS rate limiter (`limits.aws`): its `stats()` count waits and throttles. */
  readonly limits: AwsRateLimiter;
  /**
   * The accounts: static ones, plus the organization's once discovered (`current()`,
   * `rediscover()`, `status()`).
   */
  readonly accounts: AccountRegistry;
  /** The process-wide AWS-answer cache; `undefined` when off. */
  readonly answerCache: AnswerCache | undefined;
  /** `/ready` answers 503 from now on; in-flight requests continue. */
  drain(): void;
  /**
   * Resolve the source identity (who assumes the roles) and log it, or warn that there is none;
   * `/ready` answers 503 until it is known, and it is retried every 30 s meanwhile. `main`
   * calls it at start; a gateway on which it is never called does not check.
   */
  checkSource(): Promise<SourceStatus>;
  /** Drains, stops listening to session events and closes the sessions the gateway made. */
  close(): Promise<void>;
};

/** Whether callers must authenticate (an API key or a JWT is configured). */
function hasAuth(config: GatewayConfig): boolean {
  return config.auth !== undefined && (config.auth.apiKeys.length > 0 || config.auth.jwt !== undefined);
}

function recordEvent(metrics: GatewayMetrics, log: LogFn, { accountId, roleArn, event }: SessionEvent): void {
  const e: CredentialEvent = event;
  const who = { accountId, roleArn };
  switch (e.type) {
    case 'refresh-succeeded':
    case 'refresh-failed': {
      const outcome = e.type === 'refresh-succeeded' ? 'ok' : 'error';
      metrics.stsCalls.inc({ operation: 'AssumeRole', outcome });
      metrics.refreshes.inc({ reason: e.reason, outcome });
      log(
        e.type === 'refresh-succeeded'
          ? {
              level: 'debug',
              msg: 'credentials refreshed',
              ...who,
              reason: e.reason,
              expiration: e.expiration?.toISOString(),
            }
          : {
              level: 'warn',
              msg: 'credential refresh failed',
              ...who,
              reason: e.reason,
              recoverable: e.recoverable,
              code: typedError(e.error)?.code,
              error: e.error instanceof Error ? redact(e.error.message) : undefined,
            },
      );
      break;
    }
    case 'served-stale':
      metrics.servedStale.inc();
      log({ level: 'warn', msg: 'served stale credentials', ...who, expired: e.expired });
      break;
    default:
      break;
  }
}

/** What every EC2, S3 and STS client of a session starts from. */
function sessionClientDefaults(
  config: GatewayConfig,
  overrides: Record<string, unknown> | undefined,
): Record<string, unknown> {
  return {
    ...(config.aws.endpoint ? { endpoint: config.aws.endpoint, forcePathStyle: true } : {}),
    ...overrides,
  };
}

/**
 * Builds the gateway: a graphql-yoga instance over the configured accounts. It listens on
 * nothing; hand it to `http.createServer` or call `gateway.fetch()` in tests.
 *
 * @example
 * const gateway = createGateway({ config: await loadConfigFile('gateway.yaml') });
 * createServer(gateway).listen(config.server.port, config.server.host);
 * const res = await gateway.fetch('http://localhost/graphql', { method: 'POST', headers, body });
 */
export function createGateway(deps: GatewayDeps): Gateway {
  const { config } = deps;
  if (!config || !Array.isArray(config.accounts)) {
    throw new TypeError(
      'createGateway: config must be a parsed GatewayConfig (see parseConfig / loadConfigFile)',
    );
  }
  const now = deps.now ?? Date.now;
  const log = deps.log ?? createJsonLog({ now });
  const metrics = deps.metrics ?? createMetrics();
  const ownsSessions = deps.sessions === undefined;
  // Recent AWS calls per account for /status, counted by middleware on each session client.
  const activity = createAccountActivity({ now });
  const clientMetrics = createClientMetrics(metrics, now);
  const tracing: GatewayTracing | undefined = deps.tracerProvider
    ? { provider: deps.tracerProvider, shutdown: async () => {} }
    : config.tracing
      ? createOtlpTracing(config.tracing)
      : undefined;
  const tracer = tracing?.provider.getTracer('@rolegraph/gateway');
  // With cache.redis: answers and rate-limit buckets shared by the replicas, each falling back
  // to this process's memory while Redis does not answer.
  const shared = config.cache.redis
    ? createSharedStores({
        config: config.cache.redis,
        local: {
          answers: createMemoryAnswerStore({ maxBytes: config.cache.maxBytes }),
          buckets: createMemoryBucketStore(),
        },
        log,
        metrics,
      })
    : undefined;
  // One limiter for the process: every request's AWS calls and every AssumeRole wait on it.
  const limits = createGatewayRateLimiter(config, { store: deps.bucketStore ?? shared?.buckets, log, now });
  const sessions =
    deps.sessions ??
    createSessionCache({
      limits,
      stsRegion: config.aws.stsRegion,
      ...(config.aws.endpoint ? { stsEndpoint: config.aws.endpoint } : {}),
      ...(deps.sourceCredentials ? { sourceCredentials: deps.sourceCredentials } : {}),
      clientDefaults: sessionClientDefaults(config, deps.clientDefaults),
      // Unless the caller picked a policy, calls ride out throttling and 5xx bursts; each
      // client (one per service and region, shared by the accounts) gets its own strategy, so
      // its own retry quota: a region whose service keeps failing stops being retried.
      ...(choosesRetry(deps.clientDefaults)
        ? {}
        : { clientConfig: () => ({ retryStrategy: createAwsRetryStrategy() }) }),
      // Every client serves every account in its region: the middleware reads the call's account.
      onClient: (client, info) => {
        clientMetrics(client);
        trackAccountCalls(client, activity);
        if (tracer) traceAwsCalls(client, { tracer, region: info.region });
      },
      ...(deps.refresh ? { refresh: deps.refresh } : {}),
      ...(deps.recoveryProbe !== undefined ? { recoveryProbe: deps.recoveryProbe } : {}),
      maxSessions: sessionCacheSize({
        accounts: config.accounts.length,
        organization: config.organization !== undefined,
      }),
      allowShortSessions: config.aws.sandbox?.allowShortSessions === true,
    });
  const unsubscribe = sessions.on((event) => recordEvent(metrics, log, event));
  const book = createSessionBook(sessions);
  let sourceClient: ReturnType<typeof createSourceOrganizationsClient> | undefined;
  const registry = createAccountRegistry({
    staticAccounts: config.accounts,
    organization: config.organization
      ? createOrganizationSource({
          config: config.organization,
          sessions,
          book,
          limits,
          // Listing with the source credentials themselves: the gateway's own client settings.
          sourceClient: () => {
            if (!sourceClient) {
              sourceClient = createSourceOrganizationsClient({
                credentials: deps.sourceCredentials,
                clientConfig: {
                  ...sessionClientDefaults(config, deps.clientDefaults),
                  ...(choosesRetry(deps.clientDefaults) ? {} : { retryStrategy: createAwsRetryStrategy() }),
                },
              });
              // Once per client, as the session cache's onClient does: AWS call metrics.
              clientMetrics(sourceClient);
              // Its retries take rate-limit tokens too, as a session client's do.
              addAttemptMeter(sourceClient);
            }
            return sourceClient;
          },
          tuning: deps.discovery,
          now,
        })
      : undefined,
    book,
    log,
    metrics,
    allowListEntries: config.auth?.apiKeys.flatMap((k) => k.accounts) ?? [],
    now,
  });
  const snapshots = useAccountSnapshot(registry);
  // One cache for the process: every request's loaders read through it, after authorization.
  const answerCache =
    deps.answerCache === undefined
      ? createGatewayCache(config.cache, { log, metrics, now, store: shared?.answers })
      : (deps.answerCache ?? undefined);
  const authenticate = createAuthenticator(config.auth, { now });
  const csrfHeader = config.server.csrfHeaders[0] ?? 'x-graphql-yoga-csrf';
  let ready = true;
  const source = createSourceCheck({ sessions, log });
  // Accounts with a profile of their own never use the default source credentials; the
  // organization's members always do.
  const usesDefaultSource =
    config.organization !== undefined || config.accounts.some((a) => a.source === undefined);
  const readiness = (): string => {
    if (!ready) return 'draining';
    const state = source.status().state;
    if (state !== 'unchecked' && state !== 'ok') return 'no-source-identity';
    return registry.status().state === 'discovering' ? 'discovering' : 'ready';
  };

  const cors = config.server.cors;
  const yoga = createYoga<ServerContext, GatewayContext>({
    schema: createSchema<ServerContext & GatewayContext>({
      typeDefs,
      resolvers: withArgumentChecks(resolvers, config.limits),
    }),
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/-/yoga-health',
    landingPage: false,
    batching: false,
    // useRequestGuard reads every body through server.maxBodyBytes (and checks Content-Length
    // first): yoga's own 25 MB limit would only pipe each body through one more stream.
    maxRequestBodySize: false,
    cors:
      cors === false
        ? false
        : cors === true
          ? { origin: '*' }
          : { origin: cors.origins, credentials: cors.credentials, maxAge: cors.maxAgeSeconds },
    graphiql: config.server.graphiql
      ? () => ({
          title: 'rolegraph gateway',
          // Written for the accounts of the moment: discovered ones appear once discovered.
          defaultTabs: exampleQueries(registry.current().accounts.map((a) => a.alias)),
          additionalHeaders: { [csrfHeader]: '1' },
          shouldPersistHeaders: false,
        })
      : false,
    renderGraphiQL,
    logging: {
      debug: () => {},
      info: () => {},
      warn: (...args: unknown[]) => log({ level: 'warn', msg: 'yoga', detail: redact(String(args[0])) }),
      // Errors are logged with their request id by useErrorReporting; this keeps yoga quiet.
      error: () => {},
    },
    maskedErrors: {
      isDev: false,
      maskError(error, message) {
        // A GraphQL error of its own (validation, armor limits, variables that do not coerce) is
        // shown with a code; one wrapping a typed error is mapped to the typed error's code.
        const failure = failureOf(error);
        if (failure.kind === 'graphql') return withCode(failure.error);
        if (failure.kind === 'typed') return toGraphQLError(failure, (id) => registry.aliasOf(id), error);
        return maskError(error, message, false);
      },
    },
    context: async ({ request }) => {
      const caller = callerOf(request) ?? (await authenticate(request));
      const stats = requestStatsOf(request);
      stats.caller = { name: caller.name, kind: caller.kind };
      // Aborted when the caller goes away or server.queryTimeoutMs passes.
      const signal = querySignalOf(request);
      // Every AWS call of the request listens to its signal; hundreds is normal.
      setMaxListeners(0, signal);
      // Enforced at the seam: the up-front estimate can only guess what paging and batching do.
      const budget = createAwsCallBudget(config.limits.maxAwsCalls);
      // The accounts as of now, kept by this request to its end whatever a re-discovery does.
      const snapshot = snapshots.snapshotOf(request);
      // Its Cache-Control header decides what it accepts (a bad max-age fails here, before any call).
      const cache = answerCacheOf(request);
      const accounts = createRequestAccounts({
        snapshot,
        caller,
        gate: createAccountGate(config.server.maxConcurrentAccounts),
        signal,
        budget,
        limits,
        cache,
        stsRegion: config.aws.stsRegion,
        sessionFor: (account) => book.sessionFor(account),
      });
      stats.budget = budget;
      stats.accounts = () => accounts.used();
      return {
        requestId: requestIdOf(request),
        caller,
        config,
        snapshot,
        signal,
        budget,
        limits,
        cache,
        accounts,
      };
    },
    plugins: [
      useRequestGuard({
        allowedHosts: hasAuth(config) ? config.server.allowedHosts : LOOPBACK_HOSTS,
        maxBodyBytes: config.server.maxBodyBytes,
        authenticate,
        graphqlEndpoint: '/graphql',
        graphiql: config.server.graphiql,
      }),
      // Before parsing: a refused document is never parsed, validated or estimated.
      ...(config.persistedOperations ? [usePersistedDocuments(config.persistedOperations)] : []),
      useIntrospectionSwitch({ enabled: config.server.introspection ?? !hasAuth(config) }),
      useObservability({ log, metrics, now, readiness, graphqlEndpoint: '/graphql' }),
      snapshots.plugin,
      useStatusPage({
        accounts: (caller) => registry.current().allowed(caller.accounts),
        // The cached session, looked up without creating one or refreshing its idle time.
        peek: (account) =>
          sessions.sessions().find((s) => s.accountId === account.accountId && s.roleArn === account.roleArn),
        activity,
        authenticate,
        now,
      }),
      useQueryTimeout({ timeoutMs: config.server.queryTimeoutMs }),
      ...useProtection({
        limits: config.limits,
        csrfHeaders: config.server.csrfHeaders,
        // Wherever introspection is on, the schema is public to the caller anyway.
        suggestions: config.server.introspection ?? !hasAuth(config),
      }),
      useFanOutCost({
        limits: config.limits,
        maxRegions: (context) => context.snapshot.maxRegions,
        allowedAccounts: (context) => context.snapshot.allowed(context.caller.accounts).length,
      }),
      useErrorReporting({ log, metrics }),
      ...(answerCache
        ? [useAnswerCache({ cache: answerCache, aliasOf: (id) => registry.aliasOf(id), metrics, now })]
        : []),
      // A span per GraphQL operation (name, type, document; never variables or results).
      ...(tracing
        ? [
            useOpenTelemetry(
              { resolvers: false, variables: false, result: false, document: true },
              tracing.provider,
              undefined,
              undefined,
              config.tracing?.serviceName ?? 'rolegraph-gateway',
            ) as Plugin,
          ]
        : []),
    ],
  });

  registry.start();
  let closed: Promise<void> | undefined;
  return Object.assign(yoga, {
    metrics,
    sessions,
    limits,
    accounts: registry,
    answerCache,
    drain() {
      ready = false;
    },
    async checkSource() {
      return usesDefaultSource ? source.check() : { state: 'ok' as const };
    },
    close() {
      closed ??= (async () => {
        ready = false;
        source.stop();
        registry.stop();
        sourceClient?.destroy();
        unsubscribe();
        if (ownsSessions) sessions.close();
        await yoga.dispose();
        await shared?.close();
        await tracing?.shutdown();
      })();
      return closed;
    },
  });
}
