import { accountIdOf, REGION_PATTERN, ROLE_ARN_PATTERN, ROLE_DURATION_SECONDS } from '@rolegraph/credentials';
import { z } from 'zod';
import { type CacheConfig, cacheSchema } from '../cache/cache-config.js';

const accountIdSchema = z.string().regex(/^\d{12}$/, 'must be a 12-digit account id');
const regionSchema = z.string().regex(REGION_PATTERN, 'must be a region such as us-east-1');
// The pattern STS and the credentials package accept, so a configured role always starts.
const roleArnSchema = z
  .string()
  .regex(ROLE_ARN_PATTERN, 'must be an IAM role ARN like arn:aws:iam::123456789012:role/Reader');
/** `localhost:4566` parses as a URL with the scheme `localhost:`; only http(s) endpoints make sense. */
const httpUrlSchema = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });
/** What jose verifies; `none` (an unsigned token) is never accepted. */
const jwtAlgorithms = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
/** What an account's alias may be, wherever the account comes from (file, AWS CLI profile). */
export const aliasSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be 1-63 lower-case letters, digits or dashes')
  .refine((s) => !/^\d{12}$/.test(s), 'must not look like an account id');

/** One account the gateway may reach: the only roles it ever assumes are the ones listed here. */
export const accountSchema = z.strictObject({
  alias: aliasSchema,
  /** Defaults to the account in `roleArn`. */
  accountId: accountIdSchema.optional(),
  roleArn: roleArnSchema,
  externalId: z.string().min(2).max(1224).optional(),
  regions: z.array(regionSchema).min(1),
  sessionName: z
    .string()
    .regex(/^[\w+=,.@-]{2,64}$/)
    .optional(),
  /** 900..43200; down to 1 with `aws.sandbox.allowShortSessions`. */
  durationSeconds: z.number().int().min(1).max(ROLE_DURATION_SECONDS.max).optional(),
});

/** The five states AWS Organizations reports for an account (`State` in its API). */
export const ACCOUNT_STATES = [
  'PENDING_ACTIVATION',
  'ACTIVE',
  'SUSPENDED',
  'PENDING_CLOSURE',
  'CLOSED',
] as const;
export type AccountState = (typeof ACCOUNT_STATES)[number];

/** AWS's formats of an organizational unit id and a root id. */
export const OU_ID_PATTERN = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
export const ROOT_ID_PATTERN = /^r-[0-9a-z]{4,32}$/;
/** The placeholder a member role ARN template must carry where the account id goes. */
export const ACCOUNT_ID_PLACEHOLDER = '{accountId}';

/** An OU (or the root) by id, or by its name path from the root such as `Workloads/Prod`. */
const unitSelectorSchema = z
  .string()
  .min(1)
  .refine(
    (s) =>
      OU_ID_PATTERN.test(s) || ROOT_ID_PATTERN.test(s) || s.split('/').every((part) => part.trim() !== ''),
    'must be an OU id (ou-xxxx-xxxxxxxx), the root id (r-xxxx) or a name path such as Workloads/Prod',
  );

const externalIdSchema = z.string().min(2).max(1224);
const sessionNameSchema = z.string().regex(/^[\w+=,.@-]{2,64}$/);

/** Where the gateway finds accounts in AWS Organizations, and how it reads them. */
export const organizationSchema = z
  .strictObject({
    /**
     * The role that lists the organization (in the management account or a delegated
     * administrator). Omitted: the source credentials call Organizations themselves.
     */
    roleArn: roleArnSchema.optional(),
    externalId: externalIdSchema.optional(),
    /** The member role to assume in every discovered account, e.g. `arn:aws:iam::{accountId}:role/RolegraphReader`. */
    memberRoleArn: z
      .string()
      .refine(
        (s) =>
          s.includes(ACCOUNT_ID_PLACEHOLDER) &&
          ROLE_ARN_PATTERN.test(s.replaceAll(ACCOUNT_ID_PLACEHOLDER, '123456789012')) &&
          accountIdOf(s.replaceAll(ACCOUNT_ID_PLACEHOLDER, '123456789012')) === '123456789012',
        `must be an IAM role ARN template with ${ACCOUNT_ID_PLACEHOLDER} as its account, like arn:aws:iam::${ACCOUNT_ID_PLACEHOLDER}:role/RolegraphReader`,
      ),
    memberExternalId: externalIdSchema.optional(),
    /** Session name of the member sessions. @default rolegraph-gateway */
    memberSessionName: sessionNameSchema.optional(),
    /** 900..43200; down to 1 with `aws.sandbox.allowShortSessions`. */
    memberDurationSeconds: z.number().int().min(1).max(ROLE_DURATION_SECONDS.max).optional(),
    /** OUs (ids or name paths) whose accounts are used, recursively. @default [] (the whole organization) */
    include: z.array(unitSelectorSchema).default([]),
    /** OUs (ids or name paths) whose accounts are left out, recursively; wins over `include`. @default [] */
    exclude: z.array(unitSelectorSchema).default([]),
    /** Account ids never used. @default [] */
    skipAccounts: z.array(accountIdSchema).default([]),
    /** Only accounts in these states are used. @default [ACTIVE] */
    states: z
      .array(z.enum(ACCOUNT_STATES, { error: `must be one of ${ACCOUNT_STATES.join(', ')}` }))
      .min(1)
      .default(['ACTIVE']),
    /** The regions of every discovered account, or `enabled`: the account's own (DescribeRegions, cached). */
    regions: z.union([z.array(regionSchema).min(1), z.literal('enabled')], {
      error: 'must be a list of regions or the string "enabled"',
    }),
    /** Alias overrides by account id; other accounts get an alias derived from their name. @default {} */
    aliases: z.record(accountIdSchema, aliasSchema).default({}),
    /** Seconds between discoveries; 0: discover once at start. @default 300 */
    rediscoverSeconds: z.number().int().min(0).max(86_400).default(300),
  })
  .superRefine((org, ctx) => {
    for (const entry of org.include) {
      if (org.exclude.includes(entry))
        ctx.addIssue({ code: 'custom', path: ['exclude'], message: `${entry} is also in include` });
    }
    const byAlias = new Map<string, string>();
    for (const [id, alias] of Object.entries(org.aliases)) {
      const other = byAlias.get(alias);
      if (other !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['aliases', id],
          message: `alias ${alias} is already given to ${other}`,
        });
      byAlias.set(alias, id);
    }
  });

const corsSchema = z.union([
  z.boolean(),
  z.strictObject({
    origins: z.array(z.string().min(1)).min(1),
    credentials: z.boolean().default(false),
    maxAgeSeconds: z.number().int().min(0).default(600),
  }),
]);

export const serverSchema = z.strictObject({
  /** @default 127.0.0.1 */
  host: z.string().min(1).default('127.0.0.1'),
  /** @default 4000; the PORT environment variable wins. */
  port: z.number().int().min(0).max(65535).default(4000),
  /** false: no CORS headers; true: any origin (no credentials); or a list of origins. @default false */
  cors: corsSchema.default(false),
  /** @default false outside demo mode */
  graphiql: z.boolean().default(false),
  /**
   * A safety cap on the accounts one request has AWS calls in flight for (sockets, memory). The
   * AWS rate limits (`limits.aws`) are what keeps AWS from throttling; credentials are fetched
   * before an account takes a slot. @default 256
   */
  maxConcurrentAccounts: z.number().int().min(1).max(100_000).default(256),
  /** A request must carry one of these headers unless its content type forces a CORS preflight. */
  csrfHeaders: z.array(z.string().min(1)).min(1).default(['x-graphql-yoga-csrf']),
  /** How long in-flight requests may finish after SIGTERM. @default 10000 */
  shutdownGraceMs: z.number().int().min(0).default(10_000),
  /** A request still running after this long is answered with `QUERY_TIMEOUT` and its AWS calls are aborted. @default 30000 */
  queryTimeoutMs: z.number().int().min(1).max(3_600_000).default(30_000),
  /**
   * Host names (or `name:port`) the gateway answers, against DNS rebinding; empty: any. Without
   * `auth` only `localhost`, `127.0.0.1` and `[::1]` are ever accepted, whatever this says.
   * @default []
   */
  allowedHosts: z.array(z.string().min(1)).default([]),
  /** Larger request bodies are refused (413) before being parsed. @default 1048576 (1 MiB) */
  maxBodyBytes: z
    .number()
    .int()
    .min(1024)
    .max(100 * 1024 * 1024)
    .default(1024 * 1024),
  /** `__schema` / `__type` queries. @default false when `auth` is configured, true without it (demo mode) */
  introspection: z.boolean().optional(),
  /** Most open connections the Node server accepts. @default 1000 */
  maxConnections: z.number().int().min(1).default(1000),
});

const apiKeySchema = z.strictObject({
  name: z.string().min(1).max(64),
  /** Hex SHA-256 of the key; the key itself is never stored. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/i, 'must be the hex SHA-256 of the key (64 hex digits)'),
  /** Aliases or account ids, or ["*"] for every configured account. */
  accounts: z.array(z.string().min(1)).min(1),
});

const jwtSchema = z
  .strictObject({
    issuer: z.string().min(1),
    audience: z.string().min(1),
    /** HS256/384/512 shared secret (at least 32 characters). */
    secret: z.string().min(32).optional(),
    /** A remote JWKS, e.g. https://issuer.example/.well-known/jwks.json */
    jwksUrl: httpUrlSchema.optional(),
    /** A PEM SPKI public key (RS256 / ES256 / EdDSA). */
    publicKey: z.string().min(1).optional(),
    algorithms: z
      .array(z.enum(jwtAlgorithms, { error: `must be one of ${jwtAlgorithms.join(', ')}` }))
      .min(1)
      .optional(),
    /** The claim holding the caller's account allow-list (array of aliases / ids, or "*"). */
    accountsClaim: z.string().min(1).default('accounts'),
    /** Tolerated clock skew. @default 30 */
    clockToleranceSeconds: z.number().int().min(0).default(30),
  })
  .refine((j) => [j.secret, j.jwksUrl, j.publicKey].filter((v) => v !== undefined).length === 1, {
    message: 'exactly one of secret, jwksUrl or publicKey is required',
  });

export const authSchema = z.strictObject({
  apiKeys: z.array(apiKeySchema).default([]),
  jwt: jwtSchema.optional(),
});

/** One token bucket: `burst` tokens at most, `refillPerSecond` back per second. */
const bucketSchema = z.strictObject({
  burst: z.number().int().min(1),
  refillPerSecond: z.number().positive(),
});
/** A bucket, or `false`: that class is not metered. */
const bucketOrOff = z.union([bucketSchema, z.literal(false)]);

/**
 * Client-side token buckets that mirror AWS's own (see @rolegraph/credentials, "Rate limits"):
 * a call waits for its bucket instead of being sent to be throttled. Every key is optional; the
 * defaults are AWS's published figures (the sandbox's with `aws.sandbox`).
 */
export const awsRateLimitsSchema = z.strictObject({
  ec2: z
    .strictObject({
      /** Per account, region and action: Describe*, List*, Get*. @default { burst: 100, refillPerSecond: 20 } */
      nonMutating: bucketOrOff.optional(),
      /** Unfiltered, unpaginated DescribeInstances / SecurityGroups / Volumes (and 4 more). @default { burst: 50, refillPerSecond: 10 } */
      unfilteredUnpaginated: bucketOrOff.optional(),
      /** Any other action. @default { burst: 50, refillPerSecond: 5 } */
      mutating: bucketOrOff.optional(),
    })
    .optional(),
  /** Per calling principal (AssumeRole: the source credentials or hub role) and STS region. @default { burst: 600, refillPerSecond: 600 }; sandbox: 100 / 20 */
  sts: bucketOrOff.optional(),
  /** Per calling account. @default { burst: 20, refillPerSecond: 10 } */
  organizations: bucketOrOff.optional(),
  /** Per account, region and operation. @default false (not metered); sandbox: 5500 / 5500 */
  s3: bucketOrOff.optional(),
  /** Share of each bucket left unused against arrival jitter. @default 0.05 */
  headroom: z.number().min(0).lt(1).optional(),
});

export const limitsSchema = z.strictObject({
  maxDepth: z.number().int().min(1).default(10),
  maxAliases: z.number().int().min(0).default(15),
  maxTokens: z.number().int().min(10).default(2000),
  maxDirectives: z.number().int().min(0).default(20),
  /** Estimated cost ceiling; list fields multiply by page size and by accounts x regions. */
  maxCost: z.number().int().min(1).default(100_000),
  defaultPageSize: z.number().int().min(1).default(50),
  maxPageSize: z.number().int().min(1).max(1000).default(1000),
  /** Estimated AWS calls one operation may make; more is refused before any call. @default 1000 */
  maxAwsCalls: z.number().int().min(1).default(1000),
  /** Most `filter.ids` one field takes. @default 1000 */
  maxIds: z.number().int().min(1).default(1000),
  /** Most names `accounts(aliases:)` takes (repeats count). @default 100 */
  maxAccountNames: z.number().int().min(1).default(100),
  /** Most values of any other filter list (`states`, `types`, `vpcIds`, `tags`, a tag's `values`). @default 200 */
  maxFilterValues: z.number().int().min(1).default(200),
  /** AWS's rate limits, mirrored client-side; overrides per class. @default AWS's figures */
  aws: awsRateLimitsSchema.optional(),
});

export const profilesSchema = z.strictObject({
  /** @default AWS_CONFIG_FILE or ~/.aws/config */
  configFile: z.string().min(1).optional(),
  /** @default AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials */
  credentialsFile: z.string().min(1).optional(),
  /** Profile names to turn into accounts; the alias is the profile name. */
  names: z.array(z.string().min(1)).min(1),
});

export const awsSchema = z.strictObject({
  /** Region of the STS endpoint AssumeRole and GetCallerIdentity go to. @default us-east-1 */
  stsRegion: regionSchema.default('us-east-1'),
  /** A custom endpoint for every AWS service (e.g. a running rolegraph sandbox). */
  endpoint: httpUrlSchema.optional(),
  /** Settings that only make sense against the rolegraph sandbox (a loopback `endpoint`). */
  sandbox: z
    .strictObject({
      /** Test-only: account `durationSeconds` down to 1, to cross many credential lifetimes in seconds. */
      allowShortSessions: z.boolean().default(false),
    })
    .optional(),
});

/** Whether an endpoint is on this machine: the only place a sandbox runs. */
function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Operation ids: a hash (APQ's sha256, codegen's), or a name a build step gave the document. */
const OPERATION_ID = /^[\w:.~-]{1,128}$/;
const documentsSchema = z.record(z.string(), z.string().min(1)).superRefine((documents, ctx) => {
  for (const id of Object.keys(documents)) {
    if (!OPERATION_ID.test(id)) {
      ctx.addIssue({
        code: 'custom',
        path: [id],
        message: 'is not an operation id: must be 1-128 of [A-Za-z0-9_:.~-]',
      });
    }
  }
});

/**
 * Only known documents are run: a production frontend sends an id (`documentId`, or APQ's
 * `extensions.persistedQuery.sha256Hash`) and the gateway runs the document stored under it.
 */
export const persistedOperationsSchema = z
  .strictObject({
    /** A JSON file `{ "<id>": "<document>", ... }` (graphql-codegen's `persisted-documents.json`). */
    file: z.string().min(1).optional(),
    /** The same map inline (for programmatic configs and tests). */
    documents: documentsSchema.optional(),
    /** Also run documents sent as `query` (e.g. GraphiQL) besides the persisted ones. @default false */
    allowArbitraryOperations: z.boolean().default(false),
  })
  .refine((p) => (p.file === undefined) !== (p.documents === undefined), {
    message: 'exactly one of file or documents is required',
  });

export const tracingSchema = z.strictObject({
  /** OTLP/HTTP traces endpoint, e.g. `http://collector:4318/v1/traces`. Tracing is off without it. */
  otlpEndpoint: httpUrlSchema,
  /** The `service.name` resource attribute. @default rolegraph-gateway */
  serviceName: z.string().min(1).default('rolegraph-gateway'),
});

export const gatewayConfigSchema = z
  .strictObject({
    accounts: z.array(accountSchema).default([]),
    profiles: profilesSchema.optional(),
    organization: organizationSchema.optional(),
    server: serverSchema.default(serverSchema.parse({})),
    auth: authSchema.optional(),
    limits: limitsSchema.default(limitsSchema.parse({})),
    aws: awsSchema.default(awsSchema.parse({})),
    tracing: tracingSchema.optional(),
    persistedOperations: persistedOperationsSchema.optional(),
    cache: cacheSchema.default(cacheSchema.parse({})),
  })
  .superRefine((config, ctx) => {
    if (config.accounts.length === 0 && config.profiles === undefined && config.organization === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['accounts'],
        message:
          'must list at least one account (or name AWS CLI profiles under profiles.names, or an organization)',
      });
    }
    const shortSessions = config.aws.sandbox?.allowShortSessions === true;
    if (shortSessions && (config.aws.endpoint === undefined || !isLoopbackUrl(config.aws.endpoint))) {
      ctx.addIssue({
        code: 'custom',
        path: ['aws', 'sandbox', 'allowShortSessions'],
        message:
          'is only accepted against the rolegraph sandbox: aws.endpoint must be a loopback URL such as http://127.0.0.1:4566',
      });
    }
    const memberDuration = config.organization?.memberDurationSeconds;
    if (memberDuration !== undefined && memberDuration < ROLE_DURATION_SECONDS.min && !shortSessions) {
      ctx.addIssue({
        code: 'custom',
        path: ['organization', 'memberDurationSeconds'],
        message: 'must be 900 to 43200 (STS minimum); shorter only with aws.sandbox.allowShortSessions',
      });
    }
    for (const [i, account] of config.accounts.entries()) {
      if (
        account.durationSeconds !== undefined &&
        account.durationSeconds < ROLE_DURATION_SECONDS.min &&
        !shortSessions
      ) {
        ctx.addIssue({
          code: 'custom',
          path: ['accounts', i, 'durationSeconds'],
          message: 'must be 900 to 43200 (STS minimum); shorter only with aws.sandbox.allowShortSessions',
        });
      }
    }
    const host = config.server.host;
    const loopback = host === 'localhost' || host === '::1' || host.startsWith('127.');
    const hasAuth =
      config.auth !== undefined && (config.auth.apiKeys.length > 0 || config.auth.jwt !== undefined);
    if (!loopback && !hasAuth) {
      ctx.addIssue({
        code: 'custom',
        path: ['auth'],
        message: `is required (an API key or JWT) when server.host (${host}) is not a loopback address`,
      });
    }
    const seen = new Map<string, number>();
    config.accounts.forEach((account, i) => {
      const inArn = accountIdOf(account.roleArn);
      // The id defaults to the ARN's account: two aliases for one account are a duplicate too.
      for (const name of [account.alias, account.accountId ?? inArn]) {
        if (name === undefined) continue;
        if (seen.has(name))
          ctx.addIssue({ code: 'custom', path: ['accounts', i], message: `duplicate account ${name}` });
        seen.set(name, i);
      }
      if (account.accountId !== undefined && inArn !== account.accountId) {
        ctx.addIssue({
          code: 'custom',
          path: ['accounts', i, 'accountId'],
          message: `does not match the account in roleArn (${inArn})`,
        });
      }
    });
  });

/** A configuration file as written (optional fields may be left out). */
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
type ParsedConfig = z.output<typeof gatewayConfigSchema>;

/** One reachable account, fully resolved. */
export interface AccountConfig {
  alias: string;
  accountId: string;
  roleArn: string;
  externalId?: string | undefined;
  regions: string[];
  sessionName?: string | undefined;
  durationSeconds?: number | undefined;
  /** Set for accounts from AWS CLI profiles whose source is another profile. */
  source?: AccountSource | undefined;
  /** Where AWS Organizations places the account, when the configured organization lists it. */
  organization?: AccountPlacement | undefined;
}

/** An account's place in AWS Organizations, as the last discovery saw it. */
export interface AccountPlacement {
  /** The account's name in Organizations. */
  name: string;
  state: AccountState;
  /** The OU the account sits in directly (the root id for accounts under the root). */
  parentId: string;
  /** OU names from the root down to the account's parent; empty under the root. */
  ouPath: readonly string[];
  /** The root id and the ids of every OU above the account, from the root down. */
  ancestorIds: readonly string[];
}

/** Where the credentials that assume an account's role come from, when not the default chain. */
export type AccountSource =
  | {
      kind: 'static';
      profile: string;
      accessKeyId: string;
      secretAccessKey: string;
      sessionToken?: string | undefined;
    }
  | {
      kind: 'role';
      profile: string;
      roleArn: string;
      externalId?: string | undefined;
      durationSeconds?: number | undefined;
      sessionName?: string | undefined;
      source?: AccountSource | undefined;
    };

export type ServerConfig = ParsedConfig['server'];
export type AuthConfig = ParsedConfig['auth'];
export type LimitsConfig = ParsedConfig['limits'];
export type AwsConfig = ParsedConfig['aws'];
export type TracingConfig = NonNullable<ParsedConfig['tracing']>;
export type OrganizationConfig = NonNullable<ParsedConfig['organization']>;
/** Persisted operations, their file read: the documents by id. */
export interface PersistedOperationsConfig {
  documents: Readonly<Record<string, string>>;
  allowArbitraryOperations: boolean;
}
export type ApiKeyConfig = NonNullable<ParsedConfig['auth']>['apiKeys'][number];
export type JwtConfig = NonNullable<NonNullable<ParsedConfig['auth']>['jwt']>;

/** The validated configuration `createGateway` runs on. */
export interface GatewayConfig {
  accounts: AccountConfig[];
  server: ServerConfig;
  auth?: AuthConfig;
  limits: LimitsConfig;
  aws: AwsConfig;
  /** OpenTelemetry tracing; absent: off. */
  tracing?: TracingConfig;
  /** Accounts discovered from AWS Organizations, besides `accounts`; absent: none. */
  organization?: OrganizationConfig;
  /** Only these documents are run (unless `allowArbitraryOperations`); absent: any document. */
  persistedOperations?: PersistedOperationsConfig;
  /** The AWS-answer cache (`src/cache/`). */
  cache: CacheConfig;
}
