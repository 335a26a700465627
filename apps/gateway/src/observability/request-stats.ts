import type { ClientConstructor, Session } from '@rolegraph/credentials';
import type { Caller } from '../schema/context.js';

/** What one request did, for its log line. */
export interface RequestStats {
  caller?: Pick<Caller, 'name' | 'kind'>;
  /** Aliases of the accounts the request used. */
  accounts: Set<string>;
  awsCalls: number;
  awsErrors: number;
}

const stats = new WeakMap<Request, RequestStats>();

/** This request's stats, made on first use. */
export function requestStatsOf(request: Request): RequestStats {
  let s = stats.get(request);
  if (!s) {
    s = { accounts: new Set(), awsCalls: 0, awsErrors: 0 };
    stats.set(request, s);
  }
  return s;
}

type Sender = { send(command: unknown, options?: unknown): Promise<unknown> };

/**
 * The session as one request sees it: each SDK client it hands out counts that request's AWS
 * calls. The clients are views over the session's cached ones (same connections, middleware and
 * credentials); only `send` is wrapped.
 */
export function countRequestCalls(session: Session, s: RequestStats, alias: string): Session {
  const views = new Map<object, object>();
  return Object.create(session, {
    client: {
      value<C extends object>(ClientClass: ClientConstructor<C>, region: string): C {
        const client = session.client(ClientClass, region);
        let view = views.get(client);
        if (!view) {
          const sender = client as unknown as Sender;
          view = Object.create(client, {
            send: {
              value: (command: unknown, options?: unknown) => {
                s.accounts.add(alias);
                s.awsCalls += 1;
                return sender.send(command, options).catch((error: unknown) => {
                  s.awsErrors += 1;
                  throw error;
                });
              },
            },
          }) as object;
          views.set(client, view);
        }
        return view as C;
      },
    },
  }) as Session;
}
