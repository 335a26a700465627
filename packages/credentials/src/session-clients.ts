import { SignatureV4 } from '@smithy/signature-v4';
import {
  type AwsCredentialIdentity,
  type BuildMiddleware,
  type DeserializeMiddleware,
  type InitializeMiddleware,
  SMITHY_CONTEXT_KEY,
} from '@smithy/types';
import { addAttemptMeter } from './aws/rate-limits/meter-attempts.js';
import { isExpiredCredentialsError } from './aws-error-codes.js';
import { SDK_LOGGER_WITHOUT_INFO, sharedSdkSettingsFor } from './sdk-settings.js';
import type { ClientConstructor, ClientOverrides, Session, SessionClientConfig } from './session.js';

/** What `onClient` is told about an SDK client just made. */
export interface ClientInfo {
  ClientClass: ClientConstructor<object>;
  region: string;
}

/** What a session lends every call sent through its clients. */
export interface SessionBinding {
  session: Session;
  /** Send a request rejected as expired once more after invalidating its key. */
  retryExpired: boolean;
  /** A call through the session's clients started. */
  begin(): void;
  /** It answered or failed. */
  end(): void;
}

export interface SessionClientsOptions {
  /** Merged into every client's configuration (endpoint, forcePathStyle, maxAttempts, ...). */
  clientDefaults?: Record<string, unknown> | undefined;
  /**
   * The HTTP handler every client sends through, unless `clientDefaults` or `clientConfig` name
   * one (see `createSharedRequestHandler`).
   * @default each client makes its own, as the SDK does
   */
  requestHandler?: object | undefined;
  /** Extra configuration per client, spread over `clientDefaults` (called once per client made). */
  clientConfig?: ((ClientClass: ClientConstructor<object>, region: string) => ClientOverrides) | undefined;
  /** Called once with each client right after it is made: add middleware here. */
  onClient?: ((client: object, info: ClientInfo) => void) | undefined;
}

/**
 * The SDK clients that sessions send through: one per client class, region (and extra
 * configuration), made on first use. They carry no credentials of their own; each call is
 * signed with the credentials of the session that sent it (see `bindClient`), so many
 * sessions, up to a whole organization's, share one client per service and region.
 */
export interface SessionClients {
  client<C extends object>(ClientClass: ClientConstructor<C>, region: string, extra?: ClientOverrides): C;
  /** Destroy every client (a shared request handler passed in stays open: its owner closes it). */
  destroy(): void;
}

const BOUND = Symbol('rolegraph.sessionBinding');
const CREDENTIAL_IN_AUTH = /Credential=([^/,\s]+)\//;
const USED_KEY = Symbol('rolegraph.accessKeyIdUsed');
const SIGV4_SCHEMES = new Set(['aws.auth#sigv4', 'aws.auth#sigv4a']);

/**
 * What a base client signs with when no session's credentials replace them: a call is never
 * sent that way (`bindCredentials` refuses it), and if one were, AWS would reject the key.
 */
const UNBOUND: AwsCredentialIdentity = Object.freeze({
  accessKeyId: 'ROLEGRAPH-UNBOUND',
  secretAccessKey: 'rolegraph-unbound',
});

interface SmithyContext {
  commandInstance?: { [BOUND]?: SessionBinding };
  selectedHttpAuthScheme?: {
    httpAuthOption?: { schemeId?: string; signingProperties?: Record<string, unknown> };
    identity?: unknown;
  };
}
type CallContext = { [SMITHY_CONTEXT_KEY]?: SmithyContext } & Record<symbol, unknown>;

const bindingOf = (context: unknown): SessionBinding | undefined =>
  (context as CallContext)[SMITHY_CONTEXT_KEY]?.commandInstance?.[BOUND];

/**
 * The session whose call an SDK middleware of a session client sees, e.g. to label a metric
 * or a trace span with its account; `undefined` for a call not sent through a session.
 *
 * @example
 * const middleware = (next, context) => (args) => {
 *   const accountId = sessionOfCall(context)?.accountId;
 *   return next(args);
 * };
 */
export function sessionOfCall(context: object): Session | undefined {
  return bindingOf(context)?.session;
}

// Outermost: a request counts as use of its session from its start to its answer.
const trackUse: InitializeMiddleware<object, object> = (next, context) => async (args) => {
  const binding = bindingOf(context);
  if (!binding) return next(args);
  binding.begin();
  try {
    return await next(args);
  } finally {
    binding.end();
  }
};

// Records which key signed the request, so a rejection invalidates exactly that key.
const recordKey: DeserializeMiddleware<object, object> = (next, context) => async (args) => {
  const request = args.request as { headers?: Record<string, string> } | undefined;
  const used = CREDENTIAL_IN_AUTH.exec(request?.headers?.authorization ?? '')?.[1];
  if (used) (context as CallContext)[USED_KEY] = used;
  return next(args);
};

const invalidateOnExpiry: InitializeMiddleware<object, object> = (next, context) => async (args) => {
  try {
    return await next(args);
  } catch (error) {
    const used = (context as CallContext)[USED_KEY];
    const binding = bindingOf(context);
    if (!binding || !isExpiredCredentialsError(error) || typeof used !== 'string') throw error;
    binding.session.invalidate(used);
    if (!binding.retryExpired) throw error;
    return next(args);
  }
};

/** The part of a resolved SDK client configuration its SigV4 signer is built from. */
interface SignerConfig {
  region: string | (() => Promise<string>);
  signingName?: string;
  defaultSigningName?: string;
  serviceId?: string;
  signingRegion?: string;
  signingEscapePath?: boolean;
  sha256?: unknown;
  systemClockOffset?: number;
  signerConstructor?: new (options: Record<string, unknown>) => unknown;
}

/**
 * The client configuration one call is signed with: the client's own, but its signer signs
 * with `identity` (the session's credentials) instead of the client's. The SDK builds a new
 * signer for every request from the configuration (`resolveAwsSdkSigV4Config`); this builds it
 * the same way, with the call's credentials. Clock skew the SDK learns from an answer is
 * written through to the client's configuration, as it would be without sessions.
 */
function signingConfigFor(config: SignerConfig, identity: AwsCredentialIdentity): object {
  return Object.create(config, {
    signer: {
      value: async (authScheme: { signingName?: string; signingRegion?: string } | undefined) => {
        const region = typeof config.region === 'function' ? await config.region() : config.region;
        // The SDK's defaults and its first-use memory of signing region and name, as its signer has.
        config.signingRegion ||= authScheme?.signingRegion ?? region;
        config.signingName ||=
          authScheme?.signingName ?? config.defaultSigningName ?? config.serviceId ?? undefined;
        const Signer = (config.signerConstructor ?? SignatureV4) as new (
          options: Record<string, unknown>,
        ) => unknown;
        return new Signer({
          ...config,
          credentials: identity,
          region: config.signingRegion,
          service: config.signingName,
          sha256: config.sha256,
          uriEscapePath: config.signingEscapePath ?? true,
        });
      },
    },
    systemClockOffset: {
      get: () => config.systemClockOffset,
      set: (offset: number) => {
        config.systemClockOffset = offset;
      },
      enumerable: true,
    },
  });
}

/**
 * After the SDK picked the auth scheme (serialize step) and before signing: the call is signed
 * with its session's current credentials. A call sent to a base client outside any session
 * is refused rather than signed with nothing.
 */
const bindCredentials: BuildMiddleware<object, object> = (next, context) => async (args) => {
  const binding = bindingOf(context);
  if (!binding) {
    throw new TypeError('rolegraph: a session client was sent a command outside its session');
  }
  const scheme = (context as CallContext)[SMITHY_CONTEXT_KEY]?.selectedHttpAuthScheme;
  const option = scheme?.httpAuthOption;
  if (scheme && option && SIGV4_SCHEMES.has(option.schemeId ?? '')) {
    const identity = await binding.session.credentials();
    scheme.identity = identity;
    const properties = option.signingProperties;
    if (properties?.config) {
      // A new option for this call's scheme (which the SDK makes per call), so nothing the SDK
      // might keep between calls ever holds this call's signer.
      scheme.httpAuthOption = {
        ...option,
        signingProperties: {
          ...properties,
          config: signingConfigFor(properties.config as SignerConfig, identity),
        },
      };
    }
  }
  return next(args);
};

interface ClientWithStack {
  middlewareStack?: {
    add(
      middleware: unknown,
      options: { step: string; name: string; priority?: string; override?: boolean },
    ): void;
  };
  send?: (...args: unknown[]) => unknown;
  destroy?: () => void;
}

/**
 * The client's view for one session: the same SDK client (configuration, middleware stack,
 * connections), whose `send` signs with the session's credentials and counts as its use.
 * `destroy()` on a view does nothing: the client is shared.
 */
export function bindClient<C extends object>(client: C, binding: SessionBinding): C {
  const base = client as ClientWithStack;
  const send = base.send as (...args: unknown[]) => unknown;
  return Object.create(client, {
    send: {
      value: (command: object, ...rest: unknown[]) => {
        // A copy per call, so one command object sent by many sessions at once stays apart;
        // it shares the input (the rate-limit meters know a call by its input) and the stack.
        const call = Object.assign(Object.create(Object.getPrototypeOf(command)), command);
        call[BOUND] = binding;
        return send.call(client, call, ...rest);
      },
      writable: true,
      configurable: true,
    },
    destroy: { value: () => {}, writable: true, configurable: true },
  }) as C;
}

/** Build the SDK clients many sessions share (a session cache keeps one set). */
export function createSessionClients(options: SessionClientsOptions = {}): SessionClients {
  const clients = new Map<ClientConstructor<unknown>, Map<string, object>>();
  const make = <C extends object>(
    ClientClass: ClientConstructor<C>,
    region: string,
    extra: ClientOverrides,
  ) => {
    const config: Record<string, unknown> = {
      // No SDK info log entry built per call for nobody, unless a logger is given.
      logger: SDK_LOGGER_WITHOUT_INFO,
      ...(options.requestHandler ? { requestHandler: options.requestHandler } : {}),
      ...options.clientDefaults,
      ...options.clientConfig?.(ClientClass, region),
      ...extra,
      region,
      credentials: async () => UNBOUND,
    };
    // The environment and profile settings every client reads, read once per process.
    const client = new ClientClass({ ...sharedSdkSettingsFor(config), ...config } as SessionClientConfig);
    const stack = (client as ClientWithStack).middlewareStack;
    stack?.add(trackUse, { step: 'initialize', name: 'rolegraphTrackUse', priority: 'high', override: true });
    stack?.add(invalidateOnExpiry, {
      step: 'initialize',
      name: 'rolegraphInvalidateOnExpiry',
      override: true,
    });
    stack?.add(bindCredentials, {
      step: 'build',
      name: 'rolegraphSessionCredentials',
      priority: 'high',
      override: true,
    });
    stack?.add(recordKey, {
      step: 'deserialize',
      name: 'rolegraphRecordAccessKey',
      priority: 'low',
      override: true,
    });
    // Every attempt of a call `callAws` rate limits takes a token: SDK retries, the re-send above.
    addAttemptMeter(client);
    options.onClient?.(client, { ClientClass: ClientClass as ClientConstructor<object>, region });
    return client;
  };
  return {
    client<C extends object>(ClientClass: ClientConstructor<C>, region: string, extra?: ClientOverrides): C {
      let byKey = clients.get(ClientClass);
      if (!byKey) {
        byKey = new Map();
        clients.set(ClientClass, byKey);
      }
      const key = extra === undefined ? region : `${region} ${JSON.stringify(extra)}`;
      let client = byKey.get(key);
      if (!client) {
        client = make(ClientClass, region, extra);
        byKey.set(key, client);
      }
      return client as C;
    },
    destroy() {
      for (const byKey of clients.values()) {
        for (const client of byKey.values()) (client as ClientWithStack).destroy?.();
      }
      clients.clear();
    },
  };
}
