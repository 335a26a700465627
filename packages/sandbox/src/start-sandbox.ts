import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAccountAdmin } from './admin/account-admin.js';
import { createAdminRoutes } from './admin/admin-routes.js';
import { CallCounters } from './admin/call-counters.js';
import { createSandboxAdmin, type SandboxAdmin } from './admin/sandbox-admin.js';
import { SandboxError, SandboxErrorCode } from './errors.js';
import { demoFixture } from './fixture/demo-fixture.js';
import type { FixtureInput, SandboxFixture } from './fixture/fixture-schema.js';
import { loadFixture } from './fixture/load-fixture.js';
import {
  type FaultRule,
  Knobs,
  type LatencyOptions,
  type OrganizationsKnob,
  type ThrottlingOptions,
} from './knobs/knobs.js';
import { IdentityStore } from './server/identity-store.js';
import { createRequestHandler } from './server/request-handler.js';
import { createEc2Service } from './services/ec2.js';
import { createOrganizationsService } from './services/organizations.js';
import { createS3Service } from './services/s3.js';
import { createStsService } from './services/sts.js';

export interface SandboxOptions {
  /** A fixture object, a YAML/JSON file path, or `'demo'`. @default demoFixture() */
  fixture?: SandboxFixture | FixtureInput | string;
  /** @default 0 (an ephemeral port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /**
   * Required as `authorization: Bearer <token>` on every `/_sandbox/*` request when set (and
   * then a non-loopback Host is accepted). Unset: only loopback Hosts reach the admin API.
   */
  adminToken?: string;
  /** The sandbox clock (expiry, skew, throttling refills, `Date` headers). @default Date.now */
  now?: () => number;
  /** Randomness for latency jitter and fault probabilities. @default Math.random */
  random?: () => number;
  /** Test-only: AssumeRole accepts DurationSeconds down to 1 instead of 900. @default false */
  allowShortSessions?: boolean;
  /**
   * Test-only: every session AssumeRole mints expires after at most this many seconds, whatever
   * DurationSeconds asked for. Clients keep asking for valid durations (900+) and still see
   * credentials expire in seconds, which lets a benchmark cross real expiries quickly.
   * @default no cap
   */
  maxSessionSeconds?: number;
  latency?: LatencyOptions;
  throttling?: ThrottlingOptions;
  faults?: FaultRule[];
  /** Organizations knobs, e.g. `{ emptyPages: true }`. @default { emptyPages: false } */
  organizations?: OrganizationsKnob;
  /** Larger request bodies are answered with an AWS-shaped error. @default 1048576 */
  maxBodyBytes?: number;
  /**
   * The listen backlog: connections the kernel queues before the sandbox accepts them (capped
   * by the system's somaxconn). Node's default of 511 overflows when dozens of SDK clients open
   * their sockets at once, and an overflowed SYN waits seconds to be retried.
   * @default 4096
   */
  backlog?: number;
}

/** Long-term keys of a fixture principal. */
export interface SandboxCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface Sandbox {
  /** `http://127.0.0.1:<port>`: the `endpoint` for every AWS client (an IP, so S3 needs no `forcePathStyle`). */
  readonly endpoint: string;
  readonly port: number;
  /** Keys of the fixture's central principal. */
  readonly credentials: SandboxCredentials;
  /** Keys of any fixture user, by name. */
  principal(name: string): SandboxCredentials;
  readonly fixture: SandboxFixture;
  readonly admin: SandboxAdmin;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

function checkOptions(options: SandboxOptions): void {
  const { port, maxBodyBytes, maxSessionSeconds } = options;
  if (maxSessionSeconds !== undefined && (!Number.isInteger(maxSessionSeconds) || maxSessionSeconds < 1)) {
    throw new TypeError(
      `startSandbox: maxSessionSeconds must be a positive integer, got ${String(maxSessionSeconds)}`,
    );
  }
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new TypeError(`startSandbox: port must be an integer in 0..65535, got ${String(port)}`);
  }
  if (options.backlog !== undefined && (!Number.isInteger(options.backlog) || options.backlog < 1)) {
    throw new TypeError(`startSandbox: backlog must be a positive integer, got ${String(options.backlog)}`);
  }
  if (maxBodyBytes !== undefined && (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1)) {
    throw new TypeError(`startSandbox: maxBodyBytes must be a positive integer, got ${String(maxBodyBytes)}`);
  }
  for (const name of ['now', 'random'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new TypeError(`startSandbox: ${name} must be a function, got ${typeof options[name]}`);
    }
  }
}

/**
 * Starts a local multi-account AWS (STS, EC2, S3) that the real AWS SDKs and CLI accept.
 *
 * @example
 * const sb = await startSandbox({ fixture: demoFixture(), port: 0 });
 * const ec2 = new EC2Client({ endpoint: sb.endpoint, region: 'us-east-1', credentials: sb.credentials });
 * await sb.close();
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  checkOptions(options);
  const source = options.fixture ?? 'demo';
  const fixture = source === 'demo' ? demoFixture() : loadFixture(source);
  const baseNow = options.now ?? Date.now;
  const clockOffset = { ms: 0 };
  const now = () => baseNow() + clockOffset.ms;
  const knobs = new Knobs(options.random ?? Math.random);
  if (options.latency) knobs.setLatency(options.latency);
  knobs.setThrottling(options.throttling);
  knobs.setFaults(options.faults ?? []);
  if (options.organizations) knobs.setOrganizations(options.organizations);
  const counters = new CallCounters();
  const identities = new IdentityStore(fixture);
  // Assigned below: STS needs it, and the account admin needs STS.
  let accountUsable: (id: string) => boolean = () => true;
  const isAccountEnabled = (id: string) => !knobs.disabledAccounts.has(id) && accountUsable(id);
  const sts = createStsService({
    fixture,
    identities,
    allowShortSessions: options.allowShortSessions ?? false,
    maxSessionSeconds: options.maxSessionSeconds,
    isAccountEnabled,
  });
  const ec2 = createEc2Service(fixture);
  const s3 = createS3Service(fixture);
  const organizations = createOrganizationsService({
    fixture,
    emptyPages: () => knobs.organizationsEmptyPages,
  });
  const accounts = createAccountAdmin({ fixture, identities, sts, ec2, s3, organizations, now });
  accountUsable = (id) => accounts.isUsable(id);
  const admin = createSandboxAdmin({
    accounts,
    counters,
    knobs,
    now,
    clockOffset,
    issuedCredentials: () => identities.issued(),
  });
  const handler = createRequestHandler({
    identities,
    sts,
    ec2,
    s3,
    organizations,
    knobs,
    counters,
    now,
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    isAccountEnabled,
    admin: createAdminRoutes(admin, { adminToken: options.adminToken }),
  });
  // Idle keep-alive sockets stay open longer than any client here leaves one idle: SDK agents
  // reuse free sockets without a timeout of their own, and a socket the server closes at the
  // moment a client reuses it is an ECONNRESET (the SDK's TimeoutError) that a test with one
  // attempt cannot retry. With Node's 5 s default that race showed up on a loaded machine.
  const server = createServer({ keepAliveTimeout: 65_000, headersTimeout: 66_000 }, (req, res) => {
    handler(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  // A client that hangs up mid-request must never take the process down.
  server.on('clientError', (_error, socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) =>
      reject(
        new SandboxError(SandboxErrorCode.ListenFailed, `cannot listen on ${host}:${options.port ?? 0}`, {
          cause,
        }),
      ),
    );
    server.listen(options.port ?? 0, host, options.backlog ?? 4096, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  // Looked up live: accounts added at run time bring their users.
  const principal = (name: string): SandboxCredentials => {
    const user = fixture.accounts.flatMap((a) => a.users).find((u) => u.name === name);
    if (!user) throw new SandboxError(SandboxErrorCode.UnknownPrincipal, `no fixture user named ${name}`);
    return { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey };
  };
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://${urlHost}:${port}`,
    port,
    credentials: principal(fixture.centralPrincipal),
    principal,
    fixture,
    admin,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
