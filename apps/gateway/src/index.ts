export type { Authenticate } from './auth/authenticate.js';
export { createAuthenticator, hashApiKey } from './auth/authenticate.js';
export type { ConfigIssue } from './config/config-error.js';
export { ConfigError } from './config/config-error.js';
export type {
  AccountConfig,
  AccountSource,
  ApiKeyConfig,
  AuthConfig,
  AwsConfig,
  GatewayConfig,
  GatewayConfigInput,
  JwtConfig,
  LimitsConfig,
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
export { demoAccounts, startDemo } from './demo.js';
export type { ErrorExtensions, GatewayErrorOptions } from './errors.js';
export { GatewayError, GatewayErrorCode } from './errors.js';
export type { LogEntry, LogFn, LogLevel } from './observability/log.js';
export { createJsonLog, silentLog } from './observability/log.js';
export type { GatewayMetrics } from './observability/metrics.js';
export { createMetrics } from './observability/metrics.js';
export { estimateCost } from './plugins/use-fan-out-cost.js';
export type { Caller, GatewayContext } from './schema/context.js';
export { typeDefs } from './schema/type-defs.js';
