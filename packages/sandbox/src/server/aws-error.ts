import { randomBytes, randomUUID } from 'node:crypto';
import { el, XML_DECLARATION } from './xml.js';

export type ServiceName = 'sts' | 'ec2' | 's3' | 'organizations';
export const SERVICES: readonly ServiceName[] = ['sts', 'ec2', 's3', 'organizations'];

/** The content type of AWS JSON 1.1 (Organizations) requests and answers. */
export const AMZ_JSON_1_1 = 'application/x-amz-json-1.1';

/** An error answered on the wire in the service's own shape. Internal: never escapes the server. */
export class AwsError extends Error {
  override readonly name = 'AwsError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra S3 `<Error>` children (BucketName, Region...). */
    readonly extra: Record<string, string> = {},
    /** Extra response headers (e.g. `x-amz-bucket-region`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function newRequestId(service: ServiceName): string {
  return service === 's3' ? randomBytes(8).toString('hex').toUpperCase() : randomUUID();
}

export function requestIdHeaders(service: ServiceName, requestId: string): Record<string, string> {
  if (service === 's3')
    return { 'x-amz-request-id': requestId, 'x-amz-id-2': randomBytes(24).toString('base64') };
  // EC2 also puts the id in the body, but the SDK reads $metadata.requestId from this header.
  return { 'x-amzn-RequestId': requestId };
}

/**
 * Renders an AwsError in the wire format of STS (query XML), EC2 (EC2 XML), S3 (REST-XML) or
 * Organizations (JSON 1.1: `{"__type": code, "Message": text}`, the member name of its error shapes).
 */
export function renderError(
  service: ServiceName,
  error: AwsError,
  requestId: string,
  method: string,
): WireResponse {
  const headers: Record<string, string> = { ...requestIdHeaders(service, requestId), ...error.headers };
  let body: string;
  if (service === 'organizations') {
    headers['content-type'] = AMZ_JSON_1_1;
    return {
      status: error.status,
      headers,
      body: JSON.stringify({ __type: error.code, Message: error.message, ...error.extra }),
    };
  }
  if (service === 'ec2') {
    body =
      `${XML_DECLARATION}<Response><Errors><Error>${el('Code', error.code)}${el('Message', error.message)}</Error>` +
      `</Errors>${el('RequestID', requestId)}</Response>`;
  } else if (service === 'sts') {
    const type = error.status >= 500 ? 'Receiver' : 'Sender';
    body =
      `${XML_DECLARATION}<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>${el('Type', type)}` +
      `${el('Code', error.code)}${el('Message', error.message)}</Error>${el('RequestId', requestId)}</ErrorResponse>`;
  } else {
    const extra = Object.entries(error.extra)
      .map(([k, v]) => el(k, v))
      .join('');
    body =
      `${XML_DECLARATION}<Error>${el('Code', error.code)}${el('Message', error.message)}${extra}` +
      `${el('RequestId', requestId)}${el('HostId', headers['x-amz-id-2'])}</Error>`;
  }
  // HEAD responses carry no body; the SDKs fall back to the status code.
  if (method === 'HEAD') body = '';
  else headers['content-type'] = 'text/xml';
  return { status: error.status, headers, body };
}

export type AuthFailure =
  | 'missing'
  | 'malformed'
  | 'unknown-key'
  | 'bad-token'
  | 'signature'
  | 'skew'
  | 'expired'
  | 'account-disabled';

const signatureMessage =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

export interface AuthFailureDetail {
  accessKeyId?: string;
  requestTime?: string;
  serverTime?: string;
  reason?: string;
}

/** The error each service answers for each kind of authentication failure, as AWS does. */
export function authError(
  service: ServiceName,
  failure: AuthFailure,
  detail: AuthFailureDetail = {},
): AwsError {
  const akid = detail.accessKeyId ?? '';
  if (service === 'sts') {
    switch (failure) {
      case 'missing':
        return new AwsError(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
      case 'malformed':
        return new AwsError(400, 'IncompleteSignature', detail.reason ?? 'Authorization header is malformed');
      case 'unknown-key':
      case 'bad-token':
      case 'account-disabled':
        return new AwsError(
          403,
          'InvalidClientTokenId',
          'The security token included in the request is invalid.',
        );
      case 'signature':
        return new AwsError(403, 'SignatureDoesNotMatch', signatureMessage);
      case 'skew':
        return new AwsError(
          403,
          'SignatureDoesNotMatch',
          `Signature expired: ${detail.requestTime} is now earlier than ${detail.serverTime} (15 min. skew allowed)`,
        );
      case 'expired':
        return new AwsError(403, 'ExpiredToken', 'The security token included in the request is expired');
    }
  }
  if (service === 'organizations') return jsonAuthError(failure, detail);
  if (service === 'ec2') {
    switch (failure) {
      case 'missing':
        return new AwsError(401, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
      case 'malformed':
        return new AwsError(400, 'IncompleteSignature', detail.reason ?? 'Authorization header is malformed');
      case 'unknown-key':
      case 'bad-token':
      case 'account-disabled':
        return new AwsError(
          401,
          'AuthFailure',
          'AWS was not able to validate the provided access credentials',
        );
      case 'signature':
        return new AwsError(403, 'SignatureDoesNotMatch', signatureMessage);
      case 'skew':
      case 'expired':
        return new AwsError(400, 'RequestExpired', 'Request has expired.');
    }
  }
  switch (failure) {
    case 'missing':
      return new AwsError(403, 'AccessDenied', 'Access Denied');
    case 'malformed':
      return new AwsError(
        400,
        'AuthorizationHeaderMalformed',
        detail.reason ?? 'The authorization header is malformed',
      );
    case 'unknown-key':
    case 'account-disabled':
      return new AwsError(
        403,
        'InvalidAccessKeyId',
        'The AWS Access Key Id you provided does not exist in our records.',
        {
          AWSAccessKeyId: akid,
        },
      );
    case 'bad-token':
      return new AwsError(400, 'InvalidToken', 'The provided token is malformed or otherwise invalid.');
    case 'signature':
      return new AwsError(403, 'SignatureDoesNotMatch', signatureMessage, { AWSAccessKeyId: akid });
    case 'skew':
      return new AwsError(
        403,
        'RequestTimeTooSkewed',
        'The difference between the request time and the current time is too large.',
        {
          RequestTime: detail.requestTime ?? '',
          ServerTime: detail.serverTime ?? '',
          MaxAllowedSkewMilliseconds: '900000',
        },
      );
    case 'expired':
      return new AwsError(400, 'ExpiredToken', 'The provided token has expired.');
  }
}

/** What AWS JSON-protocol services (Organizations here) answer for each authentication failure. */
function jsonAuthError(failure: AuthFailure, detail: AuthFailureDetail): AwsError {
  switch (failure) {
    case 'missing':
      return new AwsError(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    case 'malformed':
      return new AwsError(
        400,
        'IncompleteSignatureException',
        detail.reason ?? 'Authorization header is malformed',
      );
    case 'unknown-key':
    case 'bad-token':
    case 'account-disabled':
      return new AwsError(
        400,
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
    case 'signature':
      return new AwsError(400, 'InvalidSignatureException', signatureMessage);
    case 'skew':
      return new AwsError(
        400,
        'InvalidSignatureException',
        `Signature expired: ${detail.requestTime} is now earlier than ${detail.serverTime} (15 min. skew allowed)`,
      );
    case 'expired':
      return new AwsError(
        400,
        'ExpiredTokenException',
        'The security token included in the request is expired',
      );
  }
}

/** The throttling error each service answers. */
export function throttleError(service: ServiceName): AwsError {
  if (service === 'sts') return new AwsError(400, 'Throttling', 'Rate exceeded');
  if (service === 'organizations') {
    return new AwsError(
      400,
      'TooManyRequestsException',
      'You have sent too many requests in too short a period of time. Try again later.',
    );
  }
  if (service === 'ec2') return new AwsError(503, 'RequestLimitExceeded', 'Request limit exceeded.');
  return new AwsError(503, 'SlowDown', 'Please reduce your request rate.');
}

export function internalError(service: ServiceName): AwsError {
  if (service === 'organizations')
    return new AwsError(500, 'ServiceException', 'AWS Organizations cannot process the request right now.');
  if (service === 'ec2') return new AwsError(500, 'InternalError', 'An internal error has occurred');
  if (service === 'sts') return new AwsError(500, 'InternalFailure', 'An internal error occurred');
  return new AwsError(500, 'InternalError', 'We encountered an internal error. Please try again.');
}

export function unavailableError(service: ServiceName): AwsError {
  if (service === 'organizations')
    return new AwsError(503, 'ServiceUnavailableException', 'Service is unavailable');
  if (service === 's3') return new AwsError(503, 'ServiceUnavailable', 'Please reduce your request rate.');
  if (service === 'ec2')
    return new AwsError(503, 'Unavailable', "The server is overloaded and can't handle the request.");
  return new AwsError(503, 'ServiceUnavailable', 'Service is unavailable');
}
