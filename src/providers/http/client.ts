// Which HTTP client carries a provider's data-plane calls (`providers.<id>.http_client`, issue 16):
// `modelmesh`, our own HTTP/1.1 client (h1/), or `node`, the node:http Transport it replaced, kept as the
// switch back. Both honour one contract.
import type { ProviderConfig } from '../../config/types.ts';
import type { ProviderResponse } from '../provider.ts';
import { Transport } from './transport.ts';
import type { TransportOptions, TransportRequest } from './transport.ts';
import { H1Transport } from './h1/transport.ts';

/** The data-plane transport contract (DESIGN §4): one request per call, and close() for the sockets. */
export interface HttpTransport {
  /** Resolves with a 2xx answer primed per `r.mode` (provider.ts); rejects with a MeshError. */
  request(r: TransportRequest): Promise<ProviderResponse>;
  /** Destroys every pooled socket. */
  close(): void;
}

export type HttpClientKind = ProviderConfig['http_client'];

export function createTransport(kind: HttpClientKind, options: TransportOptions): HttpTransport {
  return kind === 'node' ? new Transport(options) : new H1Transport(options);
}
