import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { HttpHandlerOptions } from '@smithy/types';

/** One HTTP handler for many SDK clients, closed only by its owner. */
export interface SharedRequestHandler {
  /** Give this to clients as `requestHandler`: a client's `destroy()` leaves it working. */
  readonly handler: object;
  /** Closes every socket; clients using the handler open new ones if they send again. */
  destroy(): void;
}

export interface SharedRequestHandlerOptions {
  /**
   * Sockets per host (an AWS endpoint is one host per service and region, shared by every
   * account). The SDK's own handler allows 50 per client.
   * @default 512
   */
  maxSocketsPerHost?: number;
}

/**
 * One keep-alive HTTP(S) agent for every SDK client of a session cache. Without it each client
 * (one per account, service and region) builds its own handler and agents and keeps its own
 * idle sockets: at 5,000 accounts x 17 regions that is 85,000 pools. Shared, memory and sockets
 * follow the hosts and the calls in flight, not the number of clients.
 *
 * @example
 * const shared = createSharedRequestHandler();
 * const ec2 = new EC2Client({ region, credentials, requestHandler: shared.handler });
 */
export function createSharedRequestHandler(options: SharedRequestHandlerOptions = {}): SharedRequestHandler {
  const maxSockets = options.maxSocketsPerHost ?? 512;
  if (!Number.isInteger(maxSockets) || maxSockets < 1) {
    throw new TypeError(
      `maxSocketsPerHost must be a positive integer, got ${String(options.maxSocketsPerHost)}`,
    );
  }
  const inner = new NodeHttpHandler({
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
  });
  const handler = {
    metadata: inner.metadata,
    handle: (request: Parameters<NodeHttpHandler['handle']>[0], handlerOptions?: HttpHandlerOptions) =>
      inner.handle(request, handlerOptions),
    // One client's settings or destroy() must not change the handler every other client uses.
    updateHttpClientConfig: () => {},
    httpHandlerConfigs: () => inner.httpHandlerConfigs(),
    destroy: () => {},
  };
  return { handler, destroy: () => inner.destroy() };
}
