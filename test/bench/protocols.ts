// Bench (issue 14 §5, issue 15): proxy CPU per request of a Responses request and of a Messages request
// translated for a chat-only upstream, as a ratio to the same plain chat request (target: Responses ≤ 1.3×).
// The built dist/server.js runs as a child; a fake chat upstream and a sequential keep-alive client run here, so
// the child's utime+stime (/proc) is the proxy's own CPU. Not part of `npm test`.
// Run: npm run build && node --import tsx test/bench/protocols.ts   (N=requests per case, default 3000)
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, readCpuMs, spawnModelMesh, stop, Tail, waitReady } from './procs.ts';

const N = Number(process.env['N'] ?? 3000);
const SERVER = join(import.meta.dirname, '../../dist/server.js');
const COMPLETION = JSON.stringify({
  id: 'c', object: 'chat.completion', created: 1, model: 'bench-model',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello, benchmark! Nice to meet you.' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 },
});
const TEXT = 'Say hello to the benchmark.';
const CASES: { name: string; path: string; body: string }[] = [
  { name: 'chat', path: '/v1/chat/completions', body: JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: TEXT }] }) },
  { name: 'responses (translated)', path: '/v1/responses', body: JSON.stringify({ model: 'bench', input: TEXT, store: false }) },
  { name: 'messages (translated)', path: '/v1/messages', body: JSON.stringify({ model: 'bench', max_tokens: 64, messages: [{ role: 'user', content: TEXT }] }) },
];

const upstream = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(COMPLETION) }).end(COMPLETION));
});
upstream.listen(0, '127.0.0.1');
await new Promise((r) => upstream.once('listening', r));
const upstreamPort = (upstream.address() as AddressInfo).port;
const dir = mkdtempSync(join(tmpdir(), 'modelmesh-bench-protocols-'));
const config = join(dir, 'mesh.yaml');
writeFileSync(config, `proxy: {host: 127.0.0.1}
observability: {logging: {connector: modelmesh.console.v1, level: metadata}}
storage: {connector: modelmesh.local-file.v1, path: ${join(dir, 'state.json')}, sync_policy: in-memory}
providers:
  up: {connector: vllm.local.v1, base_url: "http://127.0.0.1:${upstreamPort}/v1", max_sockets: 64}
models:
  up.bench-model: {provider: up, capabilities: [chat-completion]}
pools:
  bench: {models: [up.bench-model]}
`);
const port = await freePort();
const child = spawnModelMesh(SERVER, config, port, new Tail());
await waitReady(child, port, performance.now(), 15_000);
const agent = new Agent({ keepAlive: true, maxSockets: 4 });

function once(path: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`${path}: ${res.statusCode}`));
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Proxy CPU ms per request, 4 requests in flight. */
async function cpuPerRequest(path: string, body: string): Promise<number> {
  const batch = async (n: number): Promise<void> => {
    let left = n;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (left-- > 0) await once(path, body);
    }));
  };
  await batch(Math.max(200, N / 10)); // warm-up (JIT)
  const cpu0 = readCpuMs(child.pid);
  await batch(N);
  return (readCpuMs(child.pid) - cpu0) / N;
}

try {
  // Two rounds, the lower of each case counts: the first round also pays for the process warming up (JIT, pools).
  const results: number[] = CASES.map(() => Infinity);
  for (let round = 0; round < 2; round++) {
    for (const [i, c] of CASES.entries()) results[i] = Math.min(results[i] ?? Infinity, await cpuPerRequest(c.path, c.body));
  }
  const chat = results[0] ?? NaN;
  CASES.forEach((c, i) => {
    const ms = results[i] ?? NaN;
    process.stdout.write(`${c.name.padEnd(24)} ${(ms * 1000).toFixed(0).padStart(6)} µs CPU/request   ${(ms / chat).toFixed(2)}× chat\n`);
  });
} finally {
  agent.destroy();
  await stop(child);
  upstream.close();
  rmSync(dir, { recursive: true, force: true });
}
