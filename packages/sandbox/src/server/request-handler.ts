import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CallCounters } from '../admin/call-counters.js';
import type { Knobs } from '../knobs/knobs.js';
import { type Ec2Service, invalidEc2Action } from '../services/ec2.js';
import {
  ORGANIZATIONS_TARGET_PREFIX,
  type OrganizationsService,
  unknownOrganizationsOperation,
} from '../services/organizations.js';
import { routeS3, type S3Route, type S3Service } from '../services/s3.js';
import { invalidStsAction, type StsService } from '../services/sts.js';
import {
  AMZ_JSON_1_1,
  type AuthFailure,
  AwsError,
  authError,
  internalError,
  newRequestId,
  renderError,
  requestIdHeaders,
  SERVICES,
  type ServiceName,
  throttleError,
  unavailableError,
} from './aws-error.js';
import type { IdentityStore, KeyRecord } from './identity-store.js';
import type { QueryParams, ServiceResponse } from './service-types.js';
import { parseAmzDate, parseAuthorization, parseQuery, sha256Hex, verifySignature } from './sigv4.js';
import { isoSeconds } from './xml.js';

const MAX_SKEW_MS = 15 * 60 * 1000;
const STS_ACTIONS = new Set([
  'AssumeRole',
  'AssumeRoleWithSAML',
  'AssumeRoleWithWebIdentity',
  'DecodeAuthorizationMessage',
  'GetAccessKeyInfo',
  'GetCallerIdentity',
  'GetFederationToken',
  'GetSessionToken',
]);

export interface RequestHandlerDeps {
  identities: IdentityStore;
  sts: StsService;
  ec2: Ec2Service;
  s3: S3Service;
  organizations: OrganizationsService;
  knobs: Knobs;
  counters: CallCounters;
  now: () => number;
  maxBodyBytes: number;
  isAccountEnabled: (accountId: string) => boolean;
  admin: (req: IncomingMessage, res: ServerResponse, path: string, rawQuery: string, body: Buffer) => void;
}

type BodyResult = { kind: 'ok'; body: Buffer } | { kind: 'too-large' } | { kind: 'aborted' };

function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      resolve({ kind: 'too-large' });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: BodyResult) => {
      if (done) return;
      done = true;
      resolve(result);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) finish({ kind: 'too-large' });
      else if (!done) chunks.push(chunk);
    });
    req.on('end', () =>
      finish({ kind: 'ok', body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks) }),
    );
    req.on('aborted', () => finish({ kind: 'aborted' }));
    req.on('error', () => finish({ kind: 'aborted' }));
    req.on('close', () => finish({ kind: 'aborted' }));
  });
}

/** Without a SigV4 scope, guess the service so the error at least has the right shape. */
function guessService(
  method: string,
  body: Buffer,
  rawQuery: string,
  target: string | undefined,
): ServiceName {
  if (target?.startsWith(ORGANIZATIONS_TARGET_PREFIX)) return 'organizations';
  const text = `${rawQuery}&${body.length < 65536 ? body.toString('utf8') : ''}`;
  const action = /(?:^|&)Action=([^&]*)/.exec(text)?.[1];
  if (action !== undefined) return STS_ACTIONS.has(action) ? 'sts' : 'ec2';
  return method === 'POST' && body.length > 0 ? 'ec2' : 's3';
}

let dateSecond = Number.NaN;
let dateText = '';
/** The `Date` header only changes once a second, so it is formatted once a second, not per request. */
function httpDate(now: number): string {
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The Organizations operation an AWS JSON 1.1 request names in `X-Amz-Target`. */
function organizationsOperation(req: IncomingMessage, method: string): string {
  if (method !== 'POST') {
    throw new AwsError(
      405,
      'InvalidHttpRequest',
      `The HTTP method ${method} is not supported by this service`,
    );
  }
  const target = header(req, 'x-amz-target') ?? '';
  if (!target.startsWith(ORGANIZATIONS_TARGET_PREFIX)) {
    throw new AwsError(400, 'UnknownOperationException', `Unknown X-Amz-Target '${target}'`);
  }
  const operation = target.slice(ORGANIZATIONS_TARGET_PREFIX.length);
  return operation;
}

/** A JSON 1.1 request body: a JSON object (an empty body reads as `{}`). */
function jsonObject(body: Buffer, contentType: string): Record<string, unknown> {
  if (!contentType.startsWith('application/x-amz-json-1.')) {
    throw new AwsError(400, 'SerializationException', `Content-Type must be ${AMZ_JSON_1_1}`);
  }
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new AwsError(400, 'SerializationException', 'The request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AwsError(400, 'SerializationException', 'The request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** The sandbox's request pipeline: route, authenticate, count, apply knobs, dispatch, answer. */
export function createRequestHandler(deps: RequestHandlerDeps) {
  const { identities, knobs, counters } = deps;

  function write(
    res: ServerResponse,
    status: number,
    headers: Record<string, string>,
    body: string | Buffer,
    now: number,
  ): void {
    if (res.headersSent || res.destroyed) return;
    const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    headers.date = httpDate(now);
    headers['content-length'] = String(payload.length);
    res.writeHead(status, headers);
    res.end(payload);
  }

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const rawQuery = q < 0 ? '' : rawUrl.slice(q + 1);
    const method = req.method ?? 'GET';
    const bodyResult = await readBody(req, deps.maxBodyBytes);
    if (bodyResult.kind === 'aborted') return;
    const body = bodyResult.kind === 'ok' ? bodyResult.body : Buffer.alloc(0);
    if (path === '/_sandbox' || path.startsWith('/_sandbox/')) {
      deps.admin(req, res, path, rawQuery, body);
      return;
    }
    const authHeader = header(req, 'authorization');
    const auth = parseAuthorization(authHeader);
    const scopeService = auth ? auth.service : undefined;
    const service: ServiceName =
      scopeService !== undefined && (SERVICES as readonly string[]).includes(scopeService)
        ? (scopeService as ServiceName)
        : guessService(method, body, rawQuery, header(req, 'x-amz-target'));
    const requestId = newRequestId(service);
    const fail = (error: AwsError) => {
      const wire = renderError(service, error, requestId, method);
      write(res, wire.status, wire.headers, wire.body, deps.now());
    };
    const send = (response: ServiceResponse) => {
      const headers: Record<string, string> = {
        ...requestIdHeaders(service, requestId),
        ...(service === 's3'
          ? {}
          : { 'content-type': service === 'organizations' ? AMZ_JSON_1_1 : 'text/xml' }),
        ...response.headers,
      };
      write(res, response.status ?? 200, headers, method === 'HEAD' ? '' : response.body, deps.now());
    };

    try {
      if (bodyResult.kind === 'too-large') {
        res.setHeader('connection', 'close');
        if (service === 's3')
          throw new AwsError(400, 'MaxMessageLengthExceeded', 'Your request was too big.');
        throw new AwsError(413, 'RequestEntityTooLarge', `Request body exceeds ${deps.maxBodyBytes} bytes`);
      }
      if (scopeService !== undefined && !(SERVICES as readonly string[]).includes(scopeService)) {
        throw new AwsError(
          400,
          'InvalidAction',
          `The sandbox does not emulate the service '${scopeService}'`,
        );
      }
      const query = parseQuery(rawQuery);
      const host = header(req, 'host') ?? '';

      // 1. Which operation?
      let operation: string;
      let params: QueryParams = new Map();
      let s3Route: S3Route | undefined;
      let jsonBody: Record<string, unknown> = {};
      if (service === 's3') {
        s3Route = routeS3(method, path, query, host);
        operation = s3Route.operation;
      } else if (service === 'organizations') {
        operation = organizationsOperation(req, method);
        if (!deps.organizations.handles(operation)) throw unknownOrganizationsOperation(operation);
        jsonBody = jsonObject(body, header(req, 'content-type') ?? '');
      } else {
        if (method !== 'POST' && method !== 'GET') {
          throw new AwsError(
            405,
            'InvalidHttpRequest',
            `The HTTP method ${method} is not supported by this service`,
          );
        }
        const merged = new Map<string, string>();
        for (const [k, v] of Object.entries(query)) merged.set(k, Array.isArray(v) ? (v[0] ?? '') : v);
        const contentType = header(req, 'content-type') ?? '';
        if (body.length > 0) {
          if (!contentType.startsWith('application/x-www-form-urlencoded')) {
            throw new AwsError(
              400,
              'MalformedInput',
              'Request body must be application/x-www-form-urlencoded',
            );
          }
          for (const [k, v] of new URLSearchParams(body.toString('utf8'))) merged.set(k, v);
        }
        params = merged;
        const action = merged.get('Action');
        if (action === undefined || action === '')
          throw new AwsError(400, 'MissingAction', 'Missing Action parameter');
        const known = service === 'sts' ? deps.sts.handles(action) : deps.ec2.handles(action);
        if (!known) throw service === 'sts' ? invalidStsAction(action) : invalidEc2Action(action);
        operation = action;
      }

      // 2. Who is calling?
      if (auth === undefined) throw authError(service, 'missing');
      if (auth === null)
        throw authError(service, 'malformed', {
          reason: 'Authorization header is not a valid AWS4-HMAC-SHA256 header',
        });
      const record: KeyRecord | undefined = identities.lookup(auth.accessKeyId);
      const account = record?.principal.accountId ?? '';
      const roleArn = service === 'sts' ? deps.sts.roleArnOf(operation, params) : undefined;
      const countedRole = roleArn ?? record?.principal.roleArn;
      const counter = counters.record(service, operation, account, auth.region, countedRole);
      const throttled = (): AwsError => {
        counter.throttled++;
        return throttleError(service);
      };
      const reject = (failure: AuthFailure, detail: Parameters<typeof authError>[2] = {}) => {
        throw authError(service, failure, { accessKeyId: auth.accessKeyId, ...detail });
      };
      if (!record) reject('unknown-key');
      const known = record as KeyRecord;
      if (!deps.isAccountEnabled(known.principal.accountId)) reject('account-disabled');
      const token = header(req, 'x-amz-security-token');
      if (known.kind === 'session' ? token !== known.sessionToken : token !== undefined) reject('bad-token');
      const amzDateHeader = header(req, 'x-amz-date');
      const signedAt = parseAmzDate(amzDateHeader);
      if (signedAt === undefined) reject('malformed', { reason: 'Missing or malformed X-Amz-Date header' });
      if (service === 's3') {
        const claimed = header(req, 'x-amz-content-sha256');
        if (claimed === undefined) {
          throw new AwsError(
            400,
            'InvalidRequest',
            'Missing required header for this request: x-amz-content-sha256',
          );
        }
        if (/^[0-9a-f]{64}$/.test(claimed) && claimed !== sha256Hex(body)) {
          throw new AwsError(
            400,
            'XAmzContentSHA256Mismatch',
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
          );
        }
      }
      const valid = verifySignature({
        method,
        path,
        query,
        headers: req.headers,
        body,
        auth,
        secretAccessKey: known.secretAccessKey,
        signingDate: signedAt as number,
        uriEscapePath: service !== 's3',
        payloadHashFromHeader: service === 's3',
      });
      if (!valid) reject('signature');
      const checkNow = deps.now();
      // Expiry before skew, so that advancing the sandbox clock past an expiry reads as ExpiredToken.
      if (known.kind === 'session' && checkNow >= known.expiresAt) reject('expired');
      if (Math.abs((signedAt as number) - checkNow) > MAX_SKEW_MS) {
        reject('skew', {
          requestTime: amzDateHeader ?? '',
          serverTime: isoSeconds(checkNow).replace(/[-:]/g, ''),
        });
      }

      // 3. Realism knobs.
      const selector = {
        service,
        operation,
        account,
        region: auth.region,
        roleArn: countedRole,
        ec2Class: service === 'ec2' ? deps.ec2.throttlingClass(operation, params) : undefined,
      };
      if (knobs.disabledServices.has(service)) throw unavailableError(service);
      if (!knobs.take(selector, checkNow)) throw throttled();
      const fault = knobs.fault(selector);
      if (fault === 'reset') {
        req.socket.destroy();
        return;
      }
      if (fault === 'throttle') throw throttled();
      if (fault === 'internal') throw internalError(service);
      if (fault === 'unavailable') throw unavailableError(service);
      if (fault !== undefined) throw new AwsError(fault.status, fault.code, fault.message ?? fault.code);
      const delay = knobs.delayFor(service);
      if (delay > 0) await sleep(delay);

      // 4. Answer.
      const serviceRequest = {
        method,
        path,
        query,
        host,
        region: auth.region,
        requestId,
        now: checkNow,
        principal: known.principal,
      };
      if (service === 's3') send(deps.s3.handle(s3Route as S3Route, serviceRequest));
      else if (service === 'sts') send(deps.sts.handle(operation, params, serviceRequest));
      else if (service === 'organizations')
        send(deps.organizations.handle(operation, jsonBody, serviceRequest));
      else send(deps.ec2.handle(operation, params, serviceRequest));
    } catch (error) {
      fail(error instanceof AwsError ? error : internalError(service));
    }
  };
}
