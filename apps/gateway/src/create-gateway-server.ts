import { createServer, type Server } from 'node:http';
import type { ServerConfig } from './config/config-schema.js';
import type { Gateway } from './create-gateway.js';

/**
 * The Node HTTP server for a gateway, with the limits slow or many clients need: the headers
 * must arrive within `min(queryTimeoutMs, 60 s)`, the whole request (upload included) within
 * that plus `queryTimeoutMs`, and at most `maxConnections` sockets are open. Node's defaults
 * (300 s per request, checked every 30 s, unlimited sockets) let a client trickling its body
 * hold a connection for minutes.
 *
 * @example
 * createGatewayServer(gateway, config.server).listen(config.server.port, config.server.host);
 */
export function createGatewayServer(
  gateway: Gateway,
  server: Pick<ServerConfig, 'queryTimeoutMs' | 'maxConnections'>,
): Server {
  const headersTimeout = Math.min(server.queryTimeoutMs, 60_000);
  const requestTimeout = headersTimeout + server.queryTimeoutMs;
  const http = createServer(
    {
      headersTimeout,
      requestTimeout,
      // How often Node looks for requests past their timeouts (30 s by default).
      connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(headersTimeout / 4))),
    },
    gateway,
  );
  http.maxConnections = server.maxConnections;
  return http;
}
