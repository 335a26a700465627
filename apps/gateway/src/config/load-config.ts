import { access, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { accountIdOf } from '@rolegraph/credentials';
import { parse as parseGraphQL } from 'graphql';
import { importSPKI } from 'jose';
import { parse as parseYaml } from 'yaml';
import { isUnitEntry } from '../accounts/allow-list.js';
import { ConfigError, formatPath } from './config-error.js';
import {
  type AccountConfig,
  aliasSchema,
  type GatewayConfig,
  type GatewayConfigInput,
  gatewayConfigSchema,
  type PersistedOperationsConfig,
  persistedOperationsSchema,
} from './config-schema.js';
import { type LoadProfilesOptions, loadProfileAccounts } from './load-profiles.js';

/** Whether an alias came from `profiles.names`. */
function fromProfileNames(profiles: { names: string[] } | undefined, alias: string): boolean {
  return profiles?.names.includes(alias) ?? false;
}

export interface ParseConfigOptions {
  /** Named in every error. @default '<config>' */
  file?: string;
  /** Reads AWS CLI profiles; injectable for tests. */
  loadFiles?: LoadProfilesOptions['loadFiles'];
}

/**
 * Validate a configuration object (unknown keys rejected) and resolve its profile accounts.
 * Errors name the file and the field path.
 *
 * @example
 * const config = await parseConfig({ accounts: [{ alias: 'prod', roleArn, regions: ['us-east-1'] }] });
 */
export async function parseConfig(input: unknown, options: ParseConfigOptions = {}): Promise<GatewayConfig> {
  const file = options.file ?? '<config>';
  const parsed = gatewayConfigSchema.safeParse(input ?? {});
  if (!parsed.success) {
    throw new ConfigError(
      file,
      parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
    );
  }
  const { accounts: fileAccounts, profiles, persistedOperations: persisted, ...rest } = parsed.data;
  const accounts: AccountConfig[] = fileAccounts.map((a) => ({
    ...a,
    accountId: a.accountId ?? accountIdOf(a.roleArn) ?? '',
  }));
  if (profiles) {
    // The SDK's loader reads a missing file as empty; a path the operator wrote must exist.
    if (!options.loadFiles) {
      for (const field of ['configFile', 'credentialsFile'] as const) {
        const path = profiles[field];
        if (path === undefined) continue;
        const resolved = path.startsWith('~/') ? join(homedir(), path.slice(2)) : path;
        try {
          await access(resolved);
        } catch (error) {
          throw new ConfigError(
            file,
            [
              {
                path: `profiles.${field}`,
                message: `${path} cannot be read (${(error as NodeJS.ErrnoException).code})`,
              },
            ],
            { cause: error },
          );
        }
      }
    }
    let fromProfiles: AccountConfig[];
    try {
      fromProfiles = await loadProfileAccounts({ ...profiles, loadFiles: options.loadFiles });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      // Named after the gateway's file (the one the operator passed), with the AWS file it read.
      throw new ConfigError(
        file,
        error.issues.map((i) => ({ path: i.path, message: `${i.message} (in ${error.file})` })),
        { cause: error },
      );
    }
    for (const account of fromProfiles) {
      if (accounts.some((a) => a.alias === account.alias || a.accountId === account.accountId)) {
        throw new ConfigError(file, [
          { path: `profiles.names`, message: `profile ${account.alias} duplicates a configured account` },
        ]);
      }
      accounts.push(account);
    }
  }
  // Across every source: a name must mean one account, so an alias may not be another's id.
  const ids = new Map(accounts.map((a) => [a.accountId, a]));
  for (const account of accounts) {
    const other = ids.get(account.alias);
    if (other && other !== account) {
      throw new ConfigError(file, [
        {
          path: account.source || fromProfileNames(profiles, account.alias) ? 'profiles.names' : 'accounts',
          message: `alias ${account.alias} is the account id of ${other.alias}`,
        },
      ]);
    }
  }
  const organization = rest.organization;
  if (organization) {
    // Static and profile accounts win over discovered ones: an override must not contradict them.
    for (const [id, alias] of Object.entries(organization.aliases)) {
      const same = accounts.find((a) => a.accountId === id);
      const other = accounts.find((a) => a.alias === alias && a.accountId !== id);
      if (same || other) {
        throw new ConfigError(file, [
          {
            path: `organization.aliases.${id}`,
            message: same
              ? `account ${id} is configured as ${same.alias} (accounts or profiles win); set its alias there`
              : `alias ${alias} is already the alias of configured account ${other?.accountId}`,
          },
        ]);
      }
    }
  }
  const publicKey = rest.auth?.jwt?.publicKey;
  if (publicKey !== undefined) {
    // Refused at start rather than at the first request, where every token would just fail.
    try {
      await importSPKI(publicKey, rest.auth?.jwt?.algorithms?.[0] ?? 'RS256');
    } catch (error) {
      throw new ConfigError(
        file,
        [
          {
            path: 'auth.jwt.publicKey',
            message: `is not a PEM SPKI public key (${(error as Error).message})`,
          },
        ],
        { cause: error },
      );
    }
  }
  if (rest.auth) {
    const known = new Set(accounts.flatMap((a) => [a.alias, a.accountId]));
    rest.auth.apiKeys.forEach((key, i) => {
      key.accounts.forEach((name, j) => {
        const path = `auth.apiKeys[${i}].accounts[${j}]`;
        if (name === '*' || known.has(name)) return;
        if (isUnitEntry(name)) {
          if (organization) return;
          throw new ConfigError(file, [
            { path, message: `${name} names an organizational unit, but no organization is configured` },
          ]);
        }
        // Discovered accounts are known only at run time (an entry matching none is warned about then).
        if (organization && (/^\d{12}$/.test(name) || aliasSchema.safeParse(name).success)) return;
        throw new ConfigError(file, [
          {
            path,
            message: organization
              ? `${name} is neither an account alias or id, an OU id nor ou:<OU path>`
              : `${name} is not a configured account`,
          },
        ]);
      });
    });
  }
  const persistedOperations = persisted ? await loadPersistedOperations(persisted, file) : undefined;
  return { ...rest, accounts, ...(persistedOperations ? { persistedOperations } : {}) };
}

/** Reads the persisted documents (file or inline) and refuses any that is not GraphQL, at start. */
async function loadPersistedOperations(
  persisted: {
    file?: string | undefined;
    documents?: Record<string, string> | undefined;
    allowArbitraryOperations: boolean;
  },
  file: string,
): Promise<PersistedOperationsConfig> {
  const where = persisted.file !== undefined ? 'persistedOperations.file' : 'persistedOperations.documents';
  let documents: Record<string, string>;
  if (persisted.file !== undefined) {
    let text: string;
    try {
      text = await readFile(persisted.file, 'utf8');
    } catch (error) {
      throw new ConfigError(
        file,
        [
          {
            path: where,
            message: `${persisted.file} cannot be read (${(error as NodeJS.ErrnoException).code})`,
          },
        ],
        { cause: error },
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new ConfigError(file, [{ path: where, message: `${persisted.file} is not JSON` }], {
        cause: error,
      });
    }
    const checked = persistedOperationsSchema.safeParse({ documents: json });
    if (!checked.success) {
      throw new ConfigError(
        file,
        checked.error.issues.map((issue) => ({
          path: `${where} (${persisted.file}) ${formatPath(issue.path.slice(1))}`.trim(),
          message: issue.message,
        })),
      );
    }
    documents = checked.data.documents ?? {};
  } else {
    documents = persisted.documents ?? {};
  }
  for (const [id, document] of Object.entries(documents)) {
    try {
      parseGraphQL(document, { noLocation: true });
    } catch (error) {
      throw new ConfigError(
        file,
        [{ path: `${where} ${id}`, message: `is not a GraphQL document (${(error as Error).message})` }],
        { cause: error },
      );
    }
  }
  if (Object.keys(documents).length === 0 && !persisted.allowArbitraryOperations) {
    throw new ConfigError(file, [
      { path: where, message: 'holds no document: every operation would be refused' },
    ]);
  }
  return { documents, allowArbitraryOperations: persisted.allowArbitraryOperations };
}

/**
 * Read and validate a YAML (`.yaml`/`.yml`) or JSON configuration file.
 *
 * @example
 * const config = await loadConfigFile('/etc/rolegraph/gateway.yaml');
 */
export async function loadConfigFile(
  file: string,
  options: Omit<ParseConfigOptions, 'file'> = {},
): Promise<GatewayConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      file,
      [{ path: '', message: `cannot be read (${(error as NodeJS.ErrnoException).code})` }],
      {
        cause: error,
      },
    );
  }
  let input: unknown;
  try {
    input = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ConfigError(
      file,
      [
        {
          path: '',
          message: `is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message}`,
        },
      ],
      {
        cause: error,
      },
    );
  }
  return parseConfig(input, { ...options, file });
}

export type { GatewayConfigInput };
