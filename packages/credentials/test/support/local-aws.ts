import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A minimal STS (AssumeRole) and EC2 (DescribeRegions) endpoint for this package's own
 * integration tests: real HTTP, real SDK wire format, scripted failures. It does not verify
 * signatures; the full emulator is @rolegraph/sandbox.
 */
export interface LocalAws {
  endpoint: string;
  /** Every AssumeRole request's parameters, in order. */
  assumeRoleCalls: URLSearchParams[];
  /** The access key id that signed each AssumeRole request. */
  assumeRoleSigners: string[];
  /** The region of each AssumeRole request's credential scope. */
  assumeRoleRegions: string[];
  ec2Calls: Array<{ action: string; accessKeyId: string }>;
  /** Set to make the next AssumeRole calls fail. */
  stsFailure: { status: number; code: string } | undefined;
  /** Lifetime of minted credentials. */
  durationSeconds: number | undefined;
  /** EC2 answers `RequestExpired` to requests signed with these keys. */
  rejectedKeys: Set<string>;
  /** The clock minted expirations are counted from (a test's fake clock). @default Date.now */
  clock: () => number;
  issuedSecrets: string[];
  close(): Promise<void>;
}

const CREDENTIAL = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\//;

export async function startLocalAws(): Promise<LocalAws> {
  let minted = 0;
  const state: Omit<LocalAws, 'endpoint' | 'close'> = {
    assumeRoleCalls: [],
    assumeRoleSigners: [],
    assumeRoleRegions: [],
    ec2Calls: [],
    stsFailure: undefined,
    durationSeconds: undefined,
    rejectedKeys: new Set(),
    clock: Date.now,
    issuedSecrets: [],
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const [, accessKeyId = '', region = '', service = ''] =
      CREDENTIAL.exec(req.headers.authorization ?? '') ?? [];
    const requestId = randomBytes(8).toString('hex');
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
      res.end(body);
    };
    if (service === 'sts' && params.get('Action') === 'AssumeRole') {
      state.assumeRoleCalls.push(params);
      state.assumeRoleSigners.push(accessKeyId);
      state.assumeRoleRegions.push(region);
      if (state.stsFailure) {
        const { status, code } = state.stsFailure;
        return send(
          status,
          `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>scripted ${code}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
        );
      }
      minted++;
      const duration = state.durationSeconds ?? Number(params.get('DurationSeconds') ?? 3600);
      const secret = `secret${minted}${randomBytes(12).toString('hex')}`;
      state.issuedSecrets.push(secret);
      const roleArn = params.get('RoleArn') ?? '';
      const [, account = '', role = ''] = /^arn:aws:iam::(\d{12}):role\/(.+)$/.exec(roleArn) ?? [];
      const expiration = new Date(state.clock() + duration * 1000).toISOString();
      return send(
        200,
        `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIALOCAL${minted}</AccessKeyId><SecretAccessKey>${secret}</SecretAccessKey><SessionToken>token${minted}</SessionToken><Expiration>${expiration}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROALOCAL:${params.get('RoleSessionName')}</AssumedRoleId><Arn>arn:aws:sts::${account}:assumed-role/${role}/${params.get('RoleSessionName')}</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
      );
    }
    if (service === 'ec2' && params.get('Action') === 'DescribeRegions') {
      state.ec2Calls.push({ action: 'DescribeRegions', accessKeyId });
      if (state.rejectedKeys.has(accessKeyId)) {
        return send(
          400,
          `<Response><Errors><Error><Code>RequestExpired</Code><Message>Request has expired.</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
        );
      }
      return send(
        200,
        `<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>${requestId}</requestId><regionInfo><item><regionName>${region}</regionName><regionEndpoint>ec2.${region}.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item></regionInfo></DescribeRegionsResponse>`,
      );
    }
    return send(
      400,
      `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>unsupported</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    );
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const local = state as LocalAws;
  local.endpoint = `http://127.0.0.1:${port}`;
  local.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return local;
}
