import { createHash, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, importSPKI, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { AuthConfig, JwtConfig } from '../config/config-schema.js';
import { GatewayError, GatewayErrorCode } from '../errors.js';
import type { Caller } from '../schema/context.js';

/** Turns a request's `x-api-key` or `Authorization: Bearer <jwt>` into a caller. */
export type Authenticate = (request: Request) => Promise<Caller>;

/** Everyone, every configured account: only for demo mode and loopback-only servers without `auth`. */
export const ANONYMOUS: Caller = { name: 'anonymous', kind: 'anonymous', accounts: '*' };

/** Hex SHA-256 of an API key, as stored in `auth.apiKeys[].sha256`. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

function unauthenticated(message: string): GatewayError {
  return new GatewayError(message, { code: GatewayErrorCode.UNAUTHENTICATED, httpStatus: 401 });
}

function allowList(accounts: readonly string[]): Caller['accounts'] {
  return accounts.includes('*') ? '*' : new Set(accounts);
}

type KeySource = Uint8Array | JWTVerifyGetKey | CryptoKey;

async function keyFor(jwt: JwtConfig): Promise<KeySource> {
  if (jwt.secret !== undefined) return new TextEncoder().encode(jwt.secret);
  if (jwt.jwksUrl !== undefined) return createRemoteJWKSet(new URL(jwt.jwksUrl));
  return importSPKI(jwt.publicKey ?? '', jwt.algorithms?.[0] ?? 'RS256');
}

function accountsClaim(payload: JWTPayload, claim: string): Caller['accounts'] {
  const value = payload[claim];
  if (value === '*') return '*';
  if (Array.isArray(value)) return allowList(value.filter((v): v is string => typeof v === 'string'));
  if (typeof value === 'string') return allowList(value.split(/[\s,]+/).filter(Boolean));
  return new Set();
}

/**
 * The authenticator for an `auth` section. Without one every caller is anonymous with every
 * account (the configuration refuses that on non-loopback hosts). API keys are compared by
 * hash in constant time; JWTs are checked for signature, issuer, audience and expiry.
 *
 * @example
 * const authenticate = createAuthenticator(config.auth, { now: Date.now });
 * const caller = await authenticate(request); // throws UNAUTHENTICATED
 */
export function createAuthenticator(auth: AuthConfig, options: { now: () => number }): Authenticate {
  if (!auth || (auth.apiKeys.length === 0 && !auth.jwt)) return async () => ANONYMOUS;
  const keys = auth.apiKeys.map((k) => ({
    name: k.name,
    hash: Buffer.from(k.sha256.toLowerCase(), 'hex'),
    accounts: allowList(k.accounts),
  }));
  const jwt = auth.jwt;
  let key: Promise<KeySource> | undefined;

  return async (request) => {
    const apiKey = request.headers.get('x-api-key');
    if (apiKey !== null) {
      const hash = Buffer.from(hashApiKey(apiKey), 'hex');
      // Compare with every key so timing does not tell which one almost matched.
      let match: (typeof keys)[number] | undefined;
      for (const k of keys) if (timingSafeEqual(k.hash, hash) && !match) match = k;
      if (!match) throw unauthenticated('Invalid API key');
      return { name: match.name, kind: 'api-key', accounts: match.accounts };
    }
    const authorization = request.headers.get('authorization');
    const bearer = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization)?.[1] : undefined;
    if (bearer && jwt) {
      key ??= keyFor(jwt);
      let payload: JWTPayload;
      try {
        const verifyKey = await key;
        const verifyOptions = {
          issuer: jwt.issuer,
          audience: jwt.audience,
          clockTolerance: jwt.clockToleranceSeconds,
          currentDate: new Date(options.now()),
          // A token without an expiry would be valid forever once leaked.
          requiredClaims: ['exp'],
          ...(jwt.algorithms ? { algorithms: jwt.algorithms } : {}),
        };
        payload =
          typeof verifyKey === 'function'
            ? (await jwtVerify(bearer, verifyKey, verifyOptions)).payload
            : (await jwtVerify(bearer, verifyKey, verifyOptions)).payload;
      } catch {
        throw unauthenticated('Invalid or expired token');
      }
      return { name: payload.sub ?? 'jwt', kind: 'jwt', accounts: accountsClaim(payload, jwt.accountsClaim) };
    }
    throw unauthenticated(
      jwt ? 'Send an x-api-key header or Authorization: Bearer <jwt>' : 'Send an x-api-key header',
    );
  };
}
