import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { accountIdOf, type SessionCache } from '@rolegraph/credentials';
import type { AwsRateLimiter } from '@rolegraph/credentials/aws';
import { createRegionCache } from '@rolegraph/ec2';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { OrganizationConfig } from '../config/config-schema.js';
import type { OrganizationSource } from './account-registry.js';
import {
  type DiscoverOrganizationOptions,
  discoverOrganization,
  ORGANIZATIONS_REGION,
  type OrganizationsSender,
} from './discover-organization.js';
import { DEFAULT_SESSION_NAME, type SessionBook } from './session-book.js';

/** Tuning of the organization walk (tests shorten the backoff). */
export type DiscoveryTuning = Pick<
  DiscoverOrganizationOptions,
  'concurrency' | 'throttleRetries' | 'backoff' | 'sleep' | 'random'
>;

export interface OrganizationSourceOptions {
  config: OrganizationConfig;
  sessions: SessionCache;
  book: SessionBook;
  /**
   * The client the source credentials list the organization with (no `organization.roleArn`):
   * built once by the gateway with its endpoint, retry policy and metrics.
   */
  sourceClient: () => OrganizationsSender;
  tuning?: DiscoveryTuning | undefined;
  /** The process-wide AWS rate limiter every Organizations and DescribeRegions call waits on. */
  limits?: AwsRateLimiter | undefined;
  /** How long an account's enabled regions are reused (`regions: enabled`). @default 3_600_000 */
  regionsTtlMs?: number;
  now?: () => number;
}

/**
 * The organization as the registry reads it: the walk with the listing role's session (or the
 * source credentials' client), and with `regions: enabled` each account's enabled regions
 * through `@rolegraph/ec2`'s region cache with the account's member session.
 *
 * @example
 * const source = createOrganizationSource({ config: config.organization, sessions, book, sourceClient });
 * const tree = await source.listOrganization(new AbortController().signal);
 */
export function createOrganizationSource(options: OrganizationSourceOptions): OrganizationSource {
  const { config, sessions, book } = options;
  const lister = config.roleArn
    ? sessions.prepare({
        roleArn: config.roleArn,
        roleSessionName: DEFAULT_SESSION_NAME,
        ...(config.externalId ? { externalId: config.externalId } : {}),
      })
    : undefined;
  const accountId = (config.roleArn && accountIdOf(config.roleArn)) || 'of the source credentials';
  const regionCache = createRegionCache({
    ttlMs: options.regionsTtlMs ?? 3_600_000,
    ...(options.now ? { now: options.now } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
  });
  return {
    config,
    listOrganization(signal) {
      const client = lister
        ? (lister().client(OrganizationsClient, ORGANIZATIONS_REGION) as OrganizationsSender)
        : options.sourceClient();
      return discoverOrganization({ ...options.tuning, client, accountId, signal, limits: options.limits });
    },
    enabledRegions: (account, signal) => regionCache.enabledRegions(book.sessionFor(account), { signal }),
  };
}

/**
 * The Organizations client of the source credentials themselves, for an organization without
 * `roleArn`.
 *
 * @example
 * const client = createSourceOrganizationsClient({ credentials, clientConfig: { endpoint } });
 */
export function createSourceOrganizationsClient(options: {
  credentials?: AwsCredentialIdentityProvider | undefined;
  clientConfig: Record<string, unknown>;
}): OrganizationsClient {
  return new OrganizationsClient({
    ...options.clientConfig,
    region: ORGANIZATIONS_REGION,
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
}
