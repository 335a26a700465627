import { createHash } from 'node:crypto';
import type { FixtureAccount, FixtureBucket, SandboxFixture } from '../fixture/fixture-schema.js';
import { AwsError } from '../server/aws-error.js';
import type { ServiceRequest, ServiceResponse } from '../server/service-types.js';
import { el, wrap, XML_DECLARATION } from '../server/xml.js';

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
export const S3_OPERATIONS = [
  'ListBuckets',
  'HeadBucket',
  'GetBucketLocation',
  'GetBucketTagging',
  'GetBucketEncryption',
  'GetPublicAccessBlock',
  'GetBucketPolicyStatus',
  'ListObjectsV2',
] as const;
export type S3Operation = (typeof S3_OPERATIONS)[number];

export interface S3Route {
  readonly operation: S3Operation;
  readonly bucket?: string;
}

/** Sub-resources S3 knows but the sandbox does not emulate: answered with NotImplemented. */
const otherSubresources = new Set([
  'acl',
  'policy',
  'versioning',
  'lifecycle',
  'cors',
  'website',
  'logging',
  'notification',
  'replication',
  'requestPayment',
  'accelerate',
  'analytics',
  'inventory',
  'metrics',
  'ownershipControls',
  'object-lock',
  'intelligent-tiering',
  'uploads',
  'versions',
  'delete',
  'restore',
  'select',
  'torrent',
  'retention',
  'legal-hold',
  'attributes',
  'session',
  'metadataTable',
]);

function notImplemented(): AwsError {
  return new AwsError(
    501,
    'NotImplemented',
    'A header you provided implies functionality that is not implemented',
  );
}

/** Bucket from a virtual-hosted Host header (`bucket.localhost:port`, `bucket.s3.eu-west-1.amazonaws.com`). */
export function bucketFromHost(host: string): string | undefined {
  const hostname = host.replace(/:\d+$/, '').toLowerCase();
  const m = /^(.+?)\.(?:s3[.-]|localhost$)/.exec(hostname);
  return m?.[1];
}

/** Maps an S3 REST request to the operation it names, or the error S3 answers. */
export function routeS3(
  method: string,
  path: string,
  query: Record<string, string | string[]>,
  host: string,
): S3Route {
  const hostBucket = bucketFromHost(host);
  const segments = path.split('?')[0]?.split('/') ?? [];
  let bucket: string | undefined;
  let key: string;
  if (hostBucket !== undefined) {
    bucket = hostBucket;
    key = segments.slice(1).join('/');
  } else {
    bucket = segments[1] === undefined || segments[1] === '' ? undefined : decodeURIComponent(segments[1]);
    key = segments.slice(2).join('/');
  }
  const known = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'];
  if (!known.includes(method)) {
    throw new AwsError(
      405,
      'MethodNotAllowed',
      'The specified method is not allowed against this resource.',
      {
        Method: method,
        ResourceType: bucket === undefined ? 'SERVICE' : key === '' ? 'BUCKET' : 'OBJECT',
      },
    );
  }
  if (method !== 'GET' && method !== 'HEAD') throw notImplemented();
  if (bucket === undefined) {
    if (method === 'GET') return { operation: 'ListBuckets' };
    throw new AwsError(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
  }
  if (key !== '') throw notImplemented();
  if (method === 'HEAD') return { operation: 'HeadBucket', bucket };
  const has = (k: string) => Object.hasOwn(query, k);
  if (has('location')) return { operation: 'GetBucketLocation', bucket };
  if (has('tagging')) return { operation: 'GetBucketTagging', bucket };
  if (has('encryption')) return { operation: 'GetBucketEncryption', bucket };
  if (has('publicAccessBlock')) return { operation: 'GetPublicAccessBlock', bucket };
  if (has('policyStatus')) return { operation: 'GetBucketPolicyStatus', bucket };
  for (const k of Object.keys(query)) if (otherSubresources.has(k)) throw notImplemented();
  if (query['list-type'] === '2') return { operation: 'ListObjectsV2', bucket };
  // ListObjects (v1) and anything else on a bucket.
  throw notImplemented();
}

function single(query: Record<string, string | string[]>, key: string): string | undefined {
  const v = query[key];
  return Array.isArray(v) ? v[0] : v;
}

function encodeToken(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64');
}

function decodeToken(token: string, prefix: string): string | undefined {
  const text = Buffer.from(token, 'base64').toString('utf8');
  return text.startsWith(prefix) ? text.slice(prefix.length) : undefined;
}

function ok(body: string, headers: Record<string, string> = {}): ServiceResponse {
  return { body: XML_DECLARATION + body, headers: { 'content-type': 'application/xml', ...headers } };
}

/** S3's `encoding-type=url` encoding: percent-encoding that leaves `/` readable. */
export function s3UrlEncode(value: string): string {
  return encodeURIComponent(value).replace(/%2F/g, '/');
}

interface OwnedBucket {
  readonly bucket: FixtureBucket;
  readonly accountId: string;
  readonly sortedKeys: readonly string[];
  readonly objects: ReadonlyMap<string, FixtureBucket['objects'][number]>;
}

export function createS3Service(fixture: SandboxFixture) {
  const buckets = new Map<string, OwnedBucket>();
  const owners = new Map<string, { id: string; displayName: string }>();
  const addAccount = (account: FixtureAccount) => {
    owners.set(account.id, {
      id: createHash('sha256').update(`canonical-${account.id}`).digest('hex'),
      displayName: account.alias,
    });
    for (const bucket of account.buckets) {
      const objects = new Map(bucket.objects.map((o) => [o.key, o]));
      buckets.set(bucket.name, {
        bucket,
        accountId: account.id,
        sortedKeys: [...objects.keys()].sort(),
        objects,
      });
    }
  };
  for (const account of fixture.accounts) addAccount(account);

  function ownerXml(accountId: string): string {
    const owner = owners.get(accountId);
    return wrap('Owner', el('ID', owner?.id) + el('DisplayName', owner?.displayName));
  }

  /** Looks a bucket up as the caller's account sees it, in the region the request was signed for. */
  function ownBucket(name: string, req: ServiceRequest, method: string, anyRegion = false): OwnedBucket {
    const found = buckets.get(name);
    if (!found)
      throw new AwsError(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: name });
    if (found.accountId !== req.principal.accountId) throw new AwsError(403, 'AccessDenied', 'Access Denied');
    if (!anyRegion && found.bucket.region !== req.region) {
      const regionHeader = { 'x-amz-bucket-region': found.bucket.region };
      if (method === 'HEAD')
        throw new AwsError(301, 'PermanentRedirect', 'Moved Permanently', {}, regionHeader);
      throw new AwsError(
        400,
        'AuthorizationHeaderMalformed',
        `The authorization header is malformed; the region '${req.region}' is wrong; expecting '${found.bucket.region}'`,
        { Region: found.bucket.region },
        regionHeader,
      );
    }
    return found;
  }

  function listBuckets(req: ServiceRequest): ServiceResponse {
    const maxText = single(req.query, 'max-buckets');
    const token = single(req.query, 'continuation-token');
    const prefix = single(req.query, 'prefix') ?? '';
    const regionFilter = single(req.query, 'bucket-region');
    let max = 10_000;
    if (maxText !== undefined) {
      max = Number(maxText);
      if (!/^\d+$/.test(maxText) || max < 1 || max > 10_000) {
        throw new AwsError(
          400,
          'InvalidArgument',
          'Argument max-buckets must be an integer between 1 and 10000',
          {
            ArgumentName: 'max-buckets',
            ArgumentValue: maxText,
          },
        );
      }
    }
    let after = '';
    if (token !== undefined) {
      const decoded = decodeToken(token, 'b:');
      if (decoded === undefined) {
        throw new AwsError(400, 'InvalidArgument', 'The continuation token provided is incorrect', {
          ArgumentName: 'continuation-token',
        });
      }
      after = decoded;
    }
    const mine = [...buckets.values()]
      .filter((b) => b.accountId === req.principal.accountId)
      .filter((b) => b.bucket.name.startsWith(prefix) && b.bucket.name > after)
      .filter((b) => regionFilter === undefined || b.bucket.region === regionFilter)
      .sort((a, b) => (a.bucket.name < b.bucket.name ? -1 : 1));
    const page = mine.slice(0, max);
    const last = page[page.length - 1];
    const next = mine.length > max && last ? encodeToken(`b:${last.bucket.name}`) : undefined;
    const items = page
      .map((b) =>
        wrap(
          'Bucket',
          el('Name', b.bucket.name) +
            el('CreationDate', b.bucket.createdAt) +
            el('BucketRegion', b.bucket.region),
        ),
      )
      .join('');
    return ok(
      `<ListAllMyBucketsResult xmlns="${NS}">${ownerXml(req.principal.accountId)}` +
        `${items === '' ? '<Buckets/>' : wrap('Buckets', items)}${el('ContinuationToken', next)}` +
        `${single(req.query, 'prefix') === undefined ? '' : el('Prefix', prefix)}</ListAllMyBucketsResult>`,
    );
  }

  function listObjectsV2(found: OwnedBucket, req: ServiceRequest): ServiceResponse {
    const q = req.query;
    const prefix = single(q, 'prefix') ?? '';
    const delimiter = single(q, 'delimiter') ?? '';
    const startAfter = single(q, 'start-after');
    const token = single(q, 'continuation-token');
    const encoding = single(q, 'encoding-type');
    const maxText = single(q, 'max-keys');
    if (encoding !== undefined && encoding !== 'url') {
      throw new AwsError(400, 'InvalidArgument', 'Invalid Encoding Method specified in Request', {
        ArgumentName: 'encoding-type',
        ArgumentValue: encoding,
      });
    }
    let maxKeys = 1000;
    if (maxText !== undefined) {
      if (!/^\d+$/.test(maxText)) {
        throw new AwsError(
          400,
          'InvalidArgument',
          'Provided max-keys not an integer or within integer range',
          {
            ArgumentName: 'max-keys',
            ArgumentValue: maxText,
          },
        );
      }
      maxKeys = Math.min(Number(maxText), 1000);
    }
    let after = startAfter ?? '';
    let skipPrefix: string | undefined;
    if (token !== undefined) {
      const decoded = decodeToken(token, 'k:');
      if (decoded === undefined) {
        throw new AwsError(400, 'InvalidArgument', 'The continuation token provided is incorrect', {
          ArgumentName: 'continuation-token',
        });
      }
      after = decoded;
      if (delimiter !== '' && decoded.endsWith(delimiter)) skipPrefix = decoded;
    }
    const contents: string[] = [];
    const prefixes: string[] = [];
    let count = 0;
    let truncated = false;
    let lastReturned = '';
    const enc = encoding === 'url' ? s3UrlEncode : (s: string) => s;
    for (const key of found.sortedKeys) {
      if (key <= after || !key.startsWith(prefix)) continue;
      if (skipPrefix !== undefined && key.startsWith(skipPrefix)) continue;
      let commonPrefix: string | undefined;
      if (delimiter !== '') {
        const at = key.indexOf(delimiter, prefix.length);
        if (at >= 0) commonPrefix = key.slice(0, at + delimiter.length);
      }
      if (commonPrefix !== undefined && commonPrefix === lastReturned) continue;
      if (count >= maxKeys) {
        truncated = true;
        break;
      }
      count++;
      if (commonPrefix !== undefined) {
        prefixes.push(wrap('CommonPrefixes', el('Prefix', enc(commonPrefix))));
        lastReturned = commonPrefix;
        skipPrefix = commonPrefix;
      } else {
        const o = found.objects.get(key);
        const etag =
          o?.etag ??
          createHash('md5')
            .update(`${key}:${o?.size ?? 0}`)
            .digest('hex');
        contents.push(
          wrap(
            'Contents',
            el('Key', enc(key)) +
              el('LastModified', o?.lastModified) +
              el('ETag', `"${etag}"`) +
              el('Size', o?.size ?? 0) +
              el('StorageClass', o?.storageClass ?? 'STANDARD'),
          ),
        );
        lastReturned = key;
      }
    }
    const next = truncated ? encodeToken(`k:${lastReturned}`) : undefined;
    return ok(
      `<ListBucketResult xmlns="${NS}">${el('Name', found.bucket.name)}${el('Prefix', enc(prefix))}` +
        `${delimiter === '' ? '' : el('Delimiter', enc(delimiter))}${el('MaxKeys', maxKeys)}` +
        `${el('EncodingType', encoding)}${el('KeyCount', count)}${el('IsTruncated', truncated)}` +
        `${el('ContinuationToken', token)}${el('NextContinuationToken', next)}` +
        `${startAfter === undefined ? '' : el('StartAfter', enc(startAfter))}` +
        `${contents.join('')}${prefixes.join('')}</ListBucketResult>`,
    );
  }

  function handle(route: S3Route, req: ServiceRequest): ServiceResponse {
    if (route.operation === 'ListBuckets' || route.bucket === undefined) return listBuckets(req);
    const name = route.bucket;
    switch (route.operation) {
      case 'HeadBucket': {
        const found = ownBucket(name, req, 'HEAD');
        return {
          body: '',
          headers: { 'x-amz-bucket-region': found.bucket.region, 'x-amz-access-point-alias': 'false' },
        };
      }
      case 'GetBucketLocation': {
        // GetBucketLocation answers from any region: it is how clients find a bucket's region.
        const found = ownBucket(name, req, 'GET', true);
        const region = found.bucket.region;
        return ok(
          region === 'us-east-1'
            ? `<LocationConstraint xmlns="${NS}"/>`
            : `<LocationConstraint xmlns="${NS}">${region}</LocationConstraint>`,
        );
      }
      case 'GetBucketTagging': {
        const { bucket } = ownBucket(name, req, 'GET');
        if (bucket.tags === undefined) {
          throw new AwsError(404, 'NoSuchTagSet', 'The TagSet does not exist', { BucketName: name });
        }
        const tags = Object.entries(bucket.tags)
          .map(([k, v]) => wrap('Tag', el('Key', k) + el('Value', v)))
          .join('');
        return ok(`<Tagging xmlns="${NS}"><TagSet>${tags}</TagSet></Tagging>`);
      }
      case 'GetBucketEncryption': {
        const { bucket } = ownBucket(name, req, 'GET');
        const e = bucket.encryption;
        if (e === undefined) {
          throw new AwsError(
            404,
            'ServerSideEncryptionConfigurationNotFoundError',
            'The server side encryption configuration was not found',
            { BucketName: name },
          );
        }
        return ok(
          `<ServerSideEncryptionConfiguration xmlns="${NS}"><Rule><ApplyServerSideEncryptionByDefault>` +
            `${el('SSEAlgorithm', e.algorithm)}${el('KMSMasterKeyID', e.kmsKeyId)}</ApplyServerSideEncryptionByDefault>` +
            `${el('BucketKeyEnabled', e.bucketKeyEnabled)}</Rule></ServerSideEncryptionConfiguration>`,
        );
      }
      case 'GetPublicAccessBlock': {
        const { bucket } = ownBucket(name, req, 'GET');
        const p = bucket.publicAccessBlock;
        if (p === undefined) {
          throw new AwsError(
            404,
            'NoSuchPublicAccessBlockConfiguration',
            'The public access block configuration was not found',
            { BucketName: name },
          );
        }
        return ok(
          `<PublicAccessBlockConfiguration xmlns="${NS}">${el('BlockPublicAcls', p.blockPublicAcls)}` +
            `${el('IgnorePublicAcls', p.ignorePublicAcls)}${el('BlockPublicPolicy', p.blockPublicPolicy)}` +
            `${el('RestrictPublicBuckets', p.restrictPublicBuckets)}</PublicAccessBlockConfiguration>`,
        );
      }
      case 'GetBucketPolicyStatus': {
        const { bucket } = ownBucket(name, req, 'GET');
        if (bucket.policy === undefined) {
          throw new AwsError(404, 'NoSuchBucketPolicy', 'The bucket policy does not exist', {
            BucketName: name,
          });
        }
        return ok(`<PolicyStatus xmlns="${NS}">${el('IsPublic', bucket.policy.isPublic)}</PolicyStatus>`);
      }
      case 'ListObjectsV2':
        return listObjectsV2(ownBucket(name, req, 'GET'), req);
    }
  }

  return {
    handle,
    /** A new account's buckets exist from now on. */
    addAccount,
    /** A removed account's buckets are gone (NoSuchBucket). */
    removeAccount(accountId: string): void {
      owners.delete(accountId);
      for (const [name, owned] of buckets) if (owned.accountId === accountId) buckets.delete(name);
    },
  };
}

export type S3Service = ReturnType<typeof createS3Service>;
