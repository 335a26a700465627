import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Authenticate } from '../auth/authenticate.js';
import { GatewayErrorCode, typedError } from '../errors.js';
import type { Caller } from '../schema/context.js';

/** Host names a gateway without `auth` answers: loopback only, by exact name. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

const callers = new WeakMap<Request, Caller>();

/** The caller `useRequestGuard` authenticated for this request, if it did. */
export function callerOf(request: Request): Caller | undefined {
  return callers.get(request);
}

function refusal(status: number, code: string, message: string, R: typeof Response): Response {
  return new R(JSON.stringify({ errors: [{ message, extensions: { code } }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
}

function tooLarge(maxBodyBytes: number): GraphQLError {
  return new GraphQLError(`Request body is larger than ${maxBodyBytes} bytes (server.maxBodyBytes)`, {
    extensions: { code: GatewayErrorCode.PAYLOAD_TOO_LARGE, http: { status: 413 } },
  });
}

/** Reads a body, failing as soon as it passes `max` bytes instead of buffering all of it. */
async function readLimited(request: Request, max: number): Promise<string> {
  const reader = request.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge(max);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const badRequest = (message: string, status = 400) =>
  new GraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status } } });

/** A JSON-encoded field of a form body (`variables`, `extensions`), as yoga reads it. */
function jsonField(form: URLSearchParams, name: string): unknown {
  const value = form.get(name);
  if (value === null || value === '') return undefined;
  try {
    return JSON.parse(value);
  } catch {
    throw badRequest(`The form field ${name} is not JSON.`);
  }
}

/**
 * The GraphQL params of a POST body, read at most `max` bytes: JSON (`application/json`,
 * `application/graphql-response+json`, ...), `application/graphql` (the body is the query) or
 * `application/x-www-form-urlencoded`. Multipart (file uploads: the schema takes no files) and
 * any other type are refused with 415.
 */
async function parseLimited(request: Request, max: number): Promise<Record<string, unknown>> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type.startsWith('multipart/')) {
    throw badRequest('Multipart requests (file uploads) are not accepted.', 415);
  }
  const json = type === 'application/json' || type.endsWith('+json');
  if (!json && type !== 'application/graphql' && type !== 'application/x-www-form-urlencoded') {
    throw badRequest(`Content type ${JSON.stringify(type)} is not accepted: send application/json.`, 415);
  }
  const text = await readLimited(request, max);
  if (type === 'application/graphql') return { query: text };
  if (type === 'application/x-www-form-urlencoded') {
    const form = new URLSearchParams(text);
    return {
      query: form.get('query') ?? undefined,
      operationName: form.get('operationName') ?? undefined,
      variables: jsonField(form, 'variables'),
      extensions: jsonField(form, 'extensions'),
    };
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw badRequest('POST body sent invalid JSON.');
  }
  if (body === null || typeof body !== 'object') throw badRequest('POST body is expected to be an object');
  return body as Record<string, unknown>;
}

export interface RequestGuardOptions {
  /** Accepted Host names (`name` or `name:port`); empty: any. */
  allowedHosts: readonly string[];
  maxBodyBytes: number;
  authenticate: Authenticate;
  graphqlEndpoint: string;
  /** Whether GET of the endpoint by a browser renders GraphiQL (a page with no data: no auth). */
  graphiql: boolean;
}

/**
 * What is checked before a request is parsed: its Host (DNS rebinding), its declared size
 * (`PAYLOAD_TOO_LARGE`, 413, without reading it) and its caller (`UNAUTHENTICATED`, 401, before
 * parsing or validation, so an unauthenticated caller learns nothing about the schema). Bodies
 * without a Content-Length are read only up to `maxBodyBytes`, whatever their content type.
 *
 * @example
 * useRequestGuard({ allowedHosts: LOOPBACK_HOSTS, maxBodyBytes: 1_048_576, authenticate, graphqlEndpoint: '/graphql', graphiql: false });
 */
export function useRequestGuard(options: RequestGuardOptions): Plugin {
  const { maxBodyBytes, authenticate } = options;
  const allowed = new Set(options.allowedHosts.map((h) => h.toLowerCase()));
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      // The URL's host is the Host header the client sent (the node adapter builds it from it).
      if (
        allowed.size > 0 &&
        !allowed.has(url.hostname.toLowerCase()) &&
        !allowed.has(url.host.toLowerCase())
      ) {
        endResponse(
          refusal(421, GatewayErrorCode.HOST_NOT_ALLOWED, 'This Host is not served here', fetchAPI.Response),
        );
        return;
      }
      const declared = request.headers.get('content-length');
      // One non-negative integer, nothing else (a list such as "10, 20" is a smuggling attempt).
      if (declared !== null && !/^\d+$/.test(declared)) {
        endResponse(refusal(400, 'BAD_REQUEST', 'The Content-Length header is invalid', fetchAPI.Response));
        return;
      }
      if (Number(declared ?? 0) > maxBodyBytes) {
        endResponse(
          refusal(413, GatewayErrorCode.PAYLOAD_TOO_LARGE, tooLarge(maxBodyBytes).message, fetchAPI.Response),
        );
        return;
      }
      if (url.pathname !== options.graphqlEndpoint || request.method === 'OPTIONS') return;
      const page = request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html');
      if (page && options.graphiql) return;
      try {
        callers.set(request, await authenticate(request));
      } catch (error) {
        const typed = typedError(error);
        if (typed?.code !== GatewayErrorCode.UNAUTHENTICATED) throw error;
        endResponse(refusal(401, typed.code, typed.message, fetchAPI.Response));
      }
    },
    onResponse({ response }) {
      // A body refused half-read leaves the rest of it on the socket: close it rather than let
      // the client's next request on that connection wait behind the unread bytes.
      if (response.status === 413 || response.status === 415) response.headers.set('connection', 'close');
    },
    onRequestParse({ request, setRequestParser }) {
      if (request.method !== 'POST') return;
      // Every body yoga would parse is read through the limit, whatever its content type.
      setRequestParser(async (req) => parseLimited(req, maxBodyBytes));
    },
  };
}
