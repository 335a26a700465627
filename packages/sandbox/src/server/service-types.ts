import type { Principal } from './identity-store.js';

/** What a service handler sees of an authenticated request. */
export interface ServiceRequest {
  readonly method: string;
  /** Raw path as sent, without the query string. */
  readonly path: string;
  readonly query: Record<string, string | string[]>;
  readonly host: string;
  /** Region from the SigV4 credential scope. */
  readonly region: string;
  readonly requestId: string;
  /** Sandbox clock, epoch ms. */
  readonly now: number;
  readonly principal: Principal;
}

export interface ServiceResponse {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  /** UTF-8 bytes when a handler assembles its answer from cached, pre-encoded pieces. */
  readonly body: string | Buffer;
}

/** Query-protocol (STS, EC2) parameters: form body merged over the query string. */
export type QueryParams = ReadonlyMap<string, string>;
