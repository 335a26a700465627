export type {
  AccountLease,
  AccountRegistry,
  DiscoveryOutcome,
  RegistryStatus,
} from './accounts/account-registry.js';
export type { AccountSnapshot } from './accounts/account-snapshot.js';
export type { AliasSource, DeriveAliasesOptions } from './accounts/derive-aliases.js';
export { deriveAliases, slugAlias } from './accounts/derive-aliases.js';
export type {
  DiscoverOrganizationOptions,
  OrganizationAccount,
  OrganizationsSender,
  OrganizationTree,
  OrganizationUnit,
} from './accounts/discover-organization.js';
export { discoverOrganization } from './accounts/discover-organization.js';
export type { DiscoveryTuning } from './accounts/organization-source.js';
export type { Authenticate } from './auth/authenticate.js';
export { createAuthenticator, hashApiKey } from './auth/authenticate.js';
export type { RedisAnswerStoreOptions } from './cache/redis-answer-store.js';
export { createRedisAnswerStore } from './cache/redis-answer-store.js';
export type { BucketClock, RedisBucketStoreOptions } from './cache/redis-bucket-store.js';
export { createRedisBucketStore } from './cache/redis-bucket-store.js';
export type { RedisConfig } from './cache/redis-config.js';
export type { RedisLink, RedisLinkOptions, RedisState } from './cache/redis-link.js';
export { createRedisLink, RedisTimeoutError, redactRedisUrl } from './cache/redis-link.js';
export type { SharedStores, SharedStoresOptions } from './cache/shared-stores.js';
export { createSharedStores } from './cache/shared-stores.js';
export type { ConfigIssue } from './config/config-error.js';
export { ConfigError } from './config/config-error.js';
export type {
  AccountConfig,
  AccountPlacement,
  AccountSource,
  AccountState,
  ApiKeyConfig,
  AuthConfig,
  AwsConfig,
  GatewayConfig,
  GatewayConfigInput,
  JwtConfig,
  LimitsConfig,
  OrganizationConfig,
  ServerConfig,
} from './config/config-schema.js';
export { gatewayConfigSchema } from './config/config-schema.js';
export type { ParseConfigOptions } from './config/load-config.js';
export { loadConfigFile, parseConfig } from './config/load-config.js';
export type { LoadProfilesOptions } from './config/load-profiles.js';
export { loadProfileAccounts } from './config/load-profiles.js';
export type { Gateway, GatewayDeps } from './create-gateway.js';
export { createGateway } from './create-gateway.js';
export { createGatewayServer } from './create-gateway-server.js';
export type { Demo, StartDemoOptions } from './demo.js';
export { demoAccounts, demoOrganization, startDemo } from './demo.js';
export type { ErrorExtensions, GatewayErrorOptions } from './errors.js';
export { GatewayError, GatewayErrorCode } from './errors.js';
export type { LogEntry, LogFn, LogLevel } from './observability/log.js';
export { createJsonLog, silentLog } from './observability/log.js';
export type { GatewayMetrics } from './observability/metrics.js';
export { createMetrics } from './observability/metrics.js';
export { estimateCost } from './plugins/use-fan-out-cost.js';
export type { Caller, GatewayContext } from './schema/context.js';
export { typeDefs } from './schema/type-defs.js';
