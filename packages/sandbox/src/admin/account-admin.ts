import { SandboxError, SandboxErrorCode } from '../errors.js';
import {
  type AccountState,
  accountStates,
  type FixtureAccount,
  type FixtureAccountInput,
  type SandboxFixture,
} from '../fixture/fixture-schema.js';
import { loadAccount } from '../fixture/load-fixture.js';
import type { IdentityStore } from '../server/identity-store.js';
import type { Ec2Service } from '../services/ec2.js';
import type { OrganizationsService } from '../services/organizations.js';
import type { S3Service } from '../services/s3.js';
import type { StsService } from '../services/sts.js';

/** Accounts in these states cannot be assumed into and their credentials stop working, as on AWS. */
const UNUSABLE_STATES: ReadonlySet<AccountState> = new Set(['SUSPENDED', 'CLOSED']);

/**
 * Run-time changes to the sandbox's accounts, for tests of re-discovery. Unknown ids are
 * `SandboxError`s with a code (`UNKNOWN_ACCOUNT`, `UNKNOWN_PARENT`, ...).
 *
 * @example
 * sb.admin.addAccount({ id: '888888888888', alias: 'new', regions: ['us-east-1'] }, { parentId: ouId });
 * sb.admin.setAccountState('888888888888', 'SUSPENDED');
 * sb.admin.moveAccount('888888888888', sb.fixture.organization!.rootId);
 * sb.admin.removeAccount('888888888888');
 */
export interface AccountMutations {
  /**
   * Adds a full fixture account (validated like one in a fixture): its users' keys work, its
   * roles can be assumed and its resources answer at once; with an organization it joins it,
   * under `parentId` (a root or OU id) or the root.
   */
  addAccount(account: FixtureAccountInput, options?: { parentId?: string }): FixtureAccount;
  /** The account leaves the organization and the sandbox: its keys, sessions and roles stop working. */
  removeAccount(accountId: string): void;
  /** Organizations reports the new state; SUSPENDED and CLOSED accounts stop working. */
  setAccountState(accountId: string, state: AccountState): void;
  /** Moves a member account to another root or OU. */
  moveAccount(accountId: string, parentId: string): void;
}

export function createAccountAdmin(deps: {
  fixture: SandboxFixture;
  identities: IdentityStore;
  sts: StsService;
  ec2: Ec2Service;
  s3: S3Service;
  organizations: OrganizationsService;
  now: () => number;
}): AccountMutations & { isUsable(accountId: string): boolean } {
  const { fixture } = deps;
  const byId = new Map(fixture.accounts.map((a) => [a.id, a] as const));
  const known = (accountId: string): FixtureAccount => {
    const account = byId.get(accountId);
    if (!account) throw new SandboxError(SandboxErrorCode.UnknownAccount, `no account ${accountId}`);
    return account;
  };
  return {
    isUsable(accountId) {
      const account = byId.get(accountId);
      return account !== undefined && !UNUSABLE_STATES.has(account.state);
    },
    addAccount(input, options = {}) {
      if (typeof input !== 'object' || input === null) {
        throw new TypeError(`addAccount: account must be a fixture account object, got ${String(input)}`);
      }
      const id = (input as { id?: unknown }).id;
      if (typeof id === 'string' && byId.has(id)) {
        throw new SandboxError(SandboxErrorCode.AccountExists, `the sandbox already has account ${id}`);
      }
      const account = loadAccount(input, fixture);
      // Everything that can fail is checked before any part of the sandbox learns of the account.
      deps.organizations.checkJoin(options.parentId);
      fixture.accounts.push(account);
      byId.set(account.id, account);
      deps.identities.addUsers(account);
      deps.sts.addAccount(account);
      deps.ec2.addAccount(account);
      deps.s3.addAccount(account);
      deps.organizations.join(account, options.parentId, deps.now());
      return account;
    },
    removeAccount(accountId) {
      const account = known(accountId);
      if (fixture.organization?.managementAccountId === accountId) {
        throw new SandboxError(
          SandboxErrorCode.ManagementAccount,
          `account ${accountId} is the organization's management account and cannot leave it`,
        );
      }
      deps.organizations.leave(accountId);
      deps.s3.removeAccount(accountId);
      deps.ec2.removeAccount(accountId);
      deps.sts.removeAccount(account);
      deps.identities.removeUsers(account);
      byId.delete(accountId);
      const at = fixture.accounts.indexOf(account);
      if (at >= 0) fixture.accounts.splice(at, 1);
    },
    setAccountState(accountId, state) {
      if (!(accountStates as readonly string[]).includes(state)) {
        throw new TypeError(
          `setAccountState: state must be one of ${accountStates.join(', ')}, got ${String(state)}`,
        );
      }
      known(accountId).state = state;
    },
    moveAccount(accountId, parentId) {
      known(accountId);
      deps.organizations.move(accountId, parentId);
    },
  };
}
