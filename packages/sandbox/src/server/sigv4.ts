import { createHash, createHmac, type Hash, type Hmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';

type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/**
 * SHA-256 / HMAC-SHA-256 for the SDK signer backed by node:crypto: the pure-JS hash would make signature
 * checking the sandbox's bottleneck.
 */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: SourceData): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = createHash('sha256');
  }
}

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
}

/**
 * Recomputes the request's SigV4 signature with the SDK's own signer, over exactly the headers the client
 * signed, and compares it with the one the client sent.
 */
export async function verifySignature(input: VerifyInput): Promise<boolean> {
  const headers: Record<string, string> = {};
  for (const name of input.auth.signedHeaders) {
    const value = input.headers[name];
    if (value === undefined) return false;
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId: input.auth.accessKeyId, secretAccessKey: input.secretAccessKey },
    region: input.auth.region,
    service: input.auth.service,
    sha256: NodeSha256,
    uriEscapePath: input.uriEscapePath,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: input.method,
      protocol: 'http:',
      hostname: headers.host ?? '',
      path: input.path,
      query: input.query,
      headers,
      body: input.body.length === 0 ? undefined : input.body,
    },
    { signingDate: new Date(input.signingDate), signableHeaders: new Set(input.auth.signedHeaders) },
  );
  const authorization = signed.headers.authorization ?? '';
  const expected = Buffer.from(authorization.slice(authorization.lastIndexOf('Signature=') + 10), 'utf8');
  const actual = Buffer.from(input.auth.signature, 'utf8');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Hex SHA-256 of a payload, to check S3's `x-amz-content-sha256` claim. */
export function sha256Hex(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}
