import {
  demoFixture,
  ORG_READER_ROLE_NAME,
  type Sandbox,
  type SandboxOptions,
  startSandbox,
} from '@rolegraph/sandbox';
import type { AccountConfig, GatewayConfig } from './config/config-schema.js';
import { parseConfig } from './config/load-config.js';

const READER_ROLE = 'RolegraphReader';

/** The sandbox and the configuration that points a gateway at it. */
export interface Demo {
  sandbox: Sandbox;
  config: GatewayConfig;
  /** Pass to `createGateway`: the sandbox's central principal assumes each reader role. */
  deps: {
    sourceCredentials: () => Promise<{ accessKeyId: string; secretAccessKey: string }>;
    clientDefaults: Record<string, unknown>;
  };
  close(): Promise<void>;
}

/** Every sandbox account with a `RolegraphReader` role, as gateway accounts. */
export function demoAccounts(sandbox: Pick<Sandbox, 'fixture'>, durationSeconds?: number): AccountConfig[] {
  return sandbox.fixture.accounts.flatMap((account) => {
    const role = account.roles.find((r) => r.name === READER_ROLE);
    if (!role) return [];
    return [
      {
        alias: account.alias,
        accountId: account.id,
        roleArn: role.arn,
        regions: [...account.regions],
        ...(durationSeconds ? { durationSeconds } : {}),
      },
    ];
  });
}

/**
 * The sandbox's organization as an account source, when its fixture has one that the central
 * principal can list (a `RolegraphOrgReader` role in the management account): the static demo
 * accounts then show their OU path and state (static entries win over discovered ones), and any
 * other member with a reader role is discovered. The management account is skipped: it holds
 * the listing role, not a reader role.
 */
export function demoOrganization(sandbox: Pick<Sandbox, 'fixture'>): Record<string, unknown> | undefined {
  const { organization } = sandbox.fixture;
  if (!organization) return undefined;
  const management = sandbox.fixture.accounts.find((a) => a.id === organization.managementAccountId);
  const lister = management?.roles.find((r) => r.name === ORG_READER_ROLE_NAME);
  const regions = [...new Set(demoAccounts(sandbox).flatMap((a) => a.regions))];
  if (!lister || regions.length === 0) return undefined;
  return {
    roleArn: lister.arn,
    memberRoleArn: `arn:aws:iam::{accountId}:role/${READER_ROLE}`,
    regions,
    skipAccounts: [organization.managementAccountId],
  };
}

export interface StartDemoOptions {
  /** @default 4000 */
  port?: number;
  /** Sandbox options (fixture, latency, faults, allowShortSessions, ...). */
  sandbox?: SandboxOptions;
  /** Overrides merged into the demo configuration (server, limits, ...). */
  config?: Record<string, unknown>;
}

/**
 * Starts the sandbox on 127.0.0.1 with the demo fixture (3 accounts x 2 regions) and builds
 * a loopback-only, GraphiQL-on configuration for it: the 3 accounts, placed in the sandbox's
 * organization ({@link demoOrganization}). No AWS account, no config file.
 *
 * @example
 * const demo = await startDemo();
 * const gateway = createGateway({ config: demo.config, ...demo.deps });
 */
export async function startDemo(options: StartDemoOptions = {}): Promise<Demo> {
  const { server, aws, ...rest } = options.config ?? {};
  const sandboxSettings = (aws as { sandbox?: { allowShortSessions?: boolean } } | undefined)?.sandbox;
  const sandbox = await startSandbox({
    fixture: demoFixture(),
    port: 0,
    host: '127.0.0.1',
    ...(sandboxSettings?.allowShortSessions ? { allowShortSessions: true } : {}),
    ...options.sandbox,
  });
  try {
    const organization = demoOrganization(sandbox);
    const config = await parseConfig(
      {
        ...(organization ? { organization } : {}),
        ...rest,
        accounts: demoAccounts(sandbox),
        server: {
          host: '127.0.0.1',
          port: options.port ?? 4000,
          graphiql: true,
          ...(server as Record<string, unknown> | undefined),
        },
        aws: {
          stsRegion: 'us-east-1',
          endpoint: sandbox.endpoint,
          // Sandbox mode: the rate limits mirror the sandbox's buckets.
          sandbox: sandboxSettings ?? {},
        },
      },
      { file: '<demo>' },
    );
    const identity = { ...sandbox.credentials };
    return {
      sandbox,
      config,
      deps: {
        sourceCredentials: async () => identity,
        clientDefaults: { endpoint: sandbox.endpoint, forcePathStyle: true, maxAttempts: 3 },
      },
      close: () => sandbox.close(),
    };
  } catch (error) {
    await sandbox.close();
    throw error;
  }
}
