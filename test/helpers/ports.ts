// Loopback ports for tests (127.0.0.1 only).
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';

/**
 * A port nothing listens on right now (listen on 0, read the port, close): free for a child process to bind,
 * or refused for a client that should fail to connect.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
