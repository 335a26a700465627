import * as nodeCrypto from 'node:crypto';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface ParsedAuthorization {
  readonly accessKeyId: string;
  readonly scopeDate: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

const authPattern =
  /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request\s*,\s*SignedHeaders=([a-z0-9;_.-]+)\s*,\s*Signature=([0-9a-f]{64})\s*$/;

/** Parses a SigV4 `Authorization` header; `undefined` when absent, `null` when malformed. */
export function parseAuthorization(header: string | undefined): ParsedAuthorization | null | undefined {
  if (header === undefined || header === '') return undefined;
  const m = authPattern.exec(header);
  if (!m) return null;
  return {
    accessKeyId: m[1] as string,
    scopeDate: m[2] as string,
    region: m[3] as string,
    service: m[4] as string,
    signedHeaders: (m[5] as string).split(';'),
    signature: m[6] as string,
  };
}

/** Parses `x-amz-date` (`20240102T030405Z`) into epoch ms; `undefined` when malformed. */
export function parseAmzDate(value: string | undefined): number | undefined {
  const m = value === undefined ? null : /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Splits a raw query string into decoded key/values the way the signer expects them. */
export function parseQuery(raw: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  if (raw === '') return query;
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = safeDecode(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : safeDecode(part.slice(eq + 1));
    const existing = query[key];
    if (existing === undefined) query[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else query[key] = [existing, value];
  }
  return query;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

// `crypto.hash` (node >= 20.12) skips the Hash object a streaming digest allocates; older 20.x falls back.
// Read from the namespace: a named import of a missing builtin export would fail to link.
const cryptoHash = nodeCrypto.hash as typeof nodeCrypto.hash | undefined;
const oneShotHash: (data: Buffer | string) => string =
  typeof cryptoHash === 'function'
    ? (data) => cryptoHash('sha256', data, 'hex')
    : (data) => createHash('sha256').update(data).digest('hex');

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Headers the SDK signer regenerates itself, so their sent values never enter the canonical request. */
const GENERATED_HEADERS = new Set(['authorization', 'x-amz-date', 'date']);
/** Bounded so that a stream of fresh session keys (one per AssumeRole) cannot grow it without limit. */
const SIGNING_KEY_CACHE_SIZE = 1024;
const signingKeys = new Map<string, Buffer>();

/**
 * `kSigning` for one secret, day, region and service. Deriving it costs four HMACs, more than the rest
 * of a verification, and it only changes once a day per credential.
 */
function signingKey(secret: string, shortDate: string, region: string, service: string): Buffer {
  const cacheKey = `${shortDate}/${region}/${service}/${secret}`;
  const cached = signingKeys.get(cacheKey);
  if (cached !== undefined) return cached;
  let key = createHmac('sha256', `AWS4${secret}`).update(shortDate).digest();
  key = createHmac('sha256', key).update(region).digest();
  key = createHmac('sha256', key).update(service).digest();
  key = createHmac('sha256', key).update('aws4_request').digest();
  if (signingKeys.size >= SIGNING_KEY_CACHE_SIZE) {
    const oldest = signingKeys.keys().next().value;
    if (oldest !== undefined) signingKeys.delete(oldest);
  }
  signingKeys.set(cacheKey, key);
  return key;
}

/** RFC 3986 encoding as the SDK does it (`encodeURIComponent` plus `!'()*`). */
function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, hexEncode);
}

function hexEncode(c: string): string {
  return `%${c.charCodeAt(0).toString(16).toUpperCase()}`;
}

/** Non-S3 services sign the normalised, once-more-encoded path; S3 signs the path as sent. */
function canonicalPath(path: string, uriEscapePath: boolean): string {
  if (!uriEscapePath || path === '/') return path;
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalised = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return escapeUri(normalised).replace(/%2F/g, '/');
}

function canonicalQuery(query: Record<string, string | string[]>): string {
  const pairs: [key: string, serialized: string][] = [];
  for (const key in query) {
    if (!Object.hasOwn(query, key) || key.toLowerCase() === 'x-amz-signature') continue;
    const encodedKey = escapeUri(key);
    const value = query[key];
    if (typeof value === 'string') pairs.push([encodedKey, `${encodedKey}=${escapeUri(value)}`]);
    else if (Array.isArray(value) && value.length > 0) {
      const serialized = value.map((v) => `${encodedKey}=${escapeUri(v)}`).sort();
      pairs.push([encodedKey, serialized.join('&')]);
    }
  }
  if (pairs.length === 0) return '';
  return pairs
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map((p) => p[1])
    .join('&');
}

/** The SDK's header value canonicalisation: line breaks to spaces, runs of blanks collapsed, ends trimmed. */
function canonicalHeaderValue(value: string): string {
  if (!/[\r\n\t]| {2}|^ | $/.test(value)) return value;
  return value
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '');
}

/** `20240102T030405Z` for a signing time, as the SDK formats it (`x-amz-date` is re-derived, not copied). */
function longDateOf(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

export interface VerifyInput {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string | string[]>;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly auth: ParsedAuthorization;
  readonly secretAccessKey: string;
  readonly signingDate: number;
  /** S3 signs the path as sent; other services normalise and encode it again. */
  readonly uriEscapePath: boolean;
  /** S3: the payload hash is the signed `x-amz-content-sha256` value (maybe `UNSIGNED-PAYLOAD`). */
  readonly payloadHashFromHeader: boolean;
}

/**
 * Recomputes the request's SigV4 signature over exactly the headers the client signed and compares it with
 * the one the client sent. The canonical request is built as `@smithy/signature-v4` (the SDK's own signer)
 * builds it, with node:crypto and a cached signing key: the SDK signer's per-request instance, async
 * digests and key derivation made verification the sandbox's main cost. `sigv4.test.ts` cross-checks the
 * two on accepted and tampered requests.
 */
export function verifySignature(input: VerifyInput): boolean {
  const { auth, headers: sent } = input;
  const longDate = longDateOf(input.signingDate);
  const shortDate = longDate.slice(0, 8);
  // The SDK signer drops the generated headers it was given and always signs the `x-amz-date` it derives
  // from the signing time. S3 signs its `x-amz-content-sha256` claim (the handler checks a hex claim
  // against the body); other services sign the body itself, so a changed body never passes on the
  // strength of an untouched claim header, as it did when the SDK signer re-signed the request.
  const canonical = new Map<string, string>([['x-amz-date', longDate]]);
  let payloadHash: string | undefined;
  for (const name of auth.signedHeaders) {
    if (!Object.hasOwn(sent, name)) return false;
    const value = sent[name];
    if (value === undefined) return false;
    const text = Array.isArray(value) ? value.join(',') : value;
    if (name === 'x-amz-content-sha256' && input.payloadHashFromHeader) payloadHash = text;
    if (GENERATED_HEADERS.has(name)) continue;
    canonical.set(name, canonicalHeaderValue(text));
  }
  payloadHash ??= input.body.length === 0 ? EMPTY_SHA256 : sha256Hex(input.body);
  const names = [...canonical.keys()].sort();
  let canonicalHeaders = '';
  for (const name of names) canonicalHeaders += `${name}:${canonical.get(name)}\n`;
  const canonicalRequest =
    `${input.method}\n${canonicalPath(input.path, input.uriEscapePath)}\n${canonicalQuery(input.query)}\n` +
    `${canonicalHeaders}\n${names.join(';')}\n${payloadHash}`;
  const scope = `${shortDate}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${longDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
  const key = signingKey(input.secretAccessKey, shortDate, auth.region, auth.service);
  const expected = createHmac('sha256', key).update(stringToSign).digest();
  const actual = Buffer.from(auth.signature, 'hex');
  return actual.length === expected.length && timingSafeEqual(expected, actual);
}

/** Hex SHA-256 of a payload (S3's `x-amz-content-sha256` claim, the canonical request). */
export function sha256Hex(data: Buffer | string): string {
  return oneShotHash(data);
}
