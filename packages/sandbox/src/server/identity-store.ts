import { randomBytes } from 'node:crypto';
import type { FixtureAccount, FixtureRole, SandboxFixture } from '../fixture/fixture-schema.js';
import { iamUniqueId } from '../fixture/load-fixture.js';

/** Who signed a request, once its access key is known. */
export interface Principal {
  readonly accountId: string;
  /** User ARN, or `arn:aws:sts::<acct>:assumed-role/<role>/<session>` for sessions. */
  readonly arn: string;
  /** `AIDA…` for users, `AROA…:<session>` for sessions. */
  readonly userId: string;
  /** For sessions: the IAM ARN of the assumed role. */
  readonly roleArn?: string;
}

export type KeyRecord =
  | { readonly kind: 'user'; readonly secretAccessKey: string; readonly principal: Principal }
  | {
      readonly kind: 'session';
      readonly secretAccessKey: string;
      readonly sessionToken: string;
      /** Epoch ms on the sandbox clock. */
      readonly expiresAt: number;
      readonly principal: Principal;
    };

export interface MintedSession {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiresAt: number;
  readonly principal: Principal;
}

/** A credential the sandbox issued, as tests need it to prove it never leaks. */
export interface IssuedCredential {
  readonly kind: 'user' | 'session';
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Sessions only. */
  readonly sessionToken?: string;
  readonly principalArn: string;
}

const upperAlnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function randomKeyId(prefix: string): string {
  const bytes = randomBytes(16);
  let id = prefix;
  for (const b of bytes) id += upperAlnum[b % 32];
  return id;
}

/** Long-term keys from the fixture and the sessions STS has minted. */
export class IdentityStore {
  private readonly keys = new Map<string, KeyRecord>();
  private sessionCount = 0;

  constructor(fixture: SandboxFixture) {
    for (const account of fixture.accounts) this.addUsers(account);
  }

  /** The account's users' long-term keys work from now on. */
  addUsers(account: FixtureAccount): void {
    for (const user of account.users) {
      this.keys.set(user.accessKeyId, {
        kind: 'user',
        secretAccessKey: user.secretAccessKey,
        principal: { accountId: account.id, arn: user.arn, userId: iamUniqueId('AIDA', user.arn) },
      });
    }
  }

  /**
   * The account's users' keys are forgotten. Its sessions stay known until swept, and are
   * refused because the request handler finds their account gone.
   */
  removeUsers(account: FixtureAccount): void {
    for (const user of account.users) this.keys.delete(user.accessKeyId);
  }

  lookup(accessKeyId: string): KeyRecord | undefined {
    return this.keys.get(accessKeyId);
  }

  /** Every key it knows: fixture users' long-term keys and the sessions minted (and not yet swept). */
  issued(): IssuedCredential[] {
    return [...this.keys].map(([accessKeyId, record]) => ({
      kind: record.kind,
      accessKeyId,
      secretAccessKey: record.secretAccessKey,
      ...(record.kind === 'session' ? { sessionToken: record.sessionToken } : {}),
      principalArn: record.principal.arn,
    }));
  }

  /** Mints `ASIA…` credentials for a role session, valid until `expiresAt` on the sandbox clock. */
  mint(role: FixtureRole, sessionName: string, expiresAt: number, now: number): MintedSession {
    if (++this.sessionCount % 10_000 === 0) this.sweep(now);
    const accessKeyId = randomKeyId('ASIA');
    const secretAccessKey = randomBytes(30).toString('base64');
    const sessionToken = `IQoJb3JpZ2luX2Vj${randomBytes(240).toString('base64')}`;
    const principal: Principal = {
      accountId: role.accountId,
      arn: `arn:aws:sts::${role.accountId}:assumed-role/${role.name}/${sessionName}`,
      userId: `${role.roleId}:${sessionName}`,
      roleArn: role.arn,
    };
    this.keys.set(accessKeyId, { kind: 'session', secretAccessKey, sessionToken, expiresAt, principal });
    return { accessKeyId, secretAccessKey, sessionToken, expiresAt, principal };
  }

  /** Forgets sessions expired for more than a day, so a long benchmark does not grow without bound. */
  private sweep(now: number): void {
    for (const [id, record] of this.keys) {
      if (record.kind === 'session' && record.expiresAt < now - 86_400_000) this.keys.delete(id);
    }
  }
}
