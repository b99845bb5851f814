// Shared by the HTTP benchmarks: keep-alive requests from N connections, each sending its next
// request when the last one is answered, and a child server started until it logs `ready`.
import { spawn } from 'node:child_process';
import http from 'node:http';

/** One request; resolves with {status, text}. */
export function send(agent, port, { method = 'POST', path = '/mcp', headers = {}, body }) {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path, method, agent,
      headers: body === undefined ? headers : { 'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body), ...headers } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode, text }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** `total` requests over `connections` keep-alive connections; `request` is the request, or a
 * function of the request's index giving it; `ok(reply)` checks each answer. */
export async function measure(name, port, request, connections, total, ok) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencies = [];
  let next = 0;
  const started = process.hrtime.bigint();
  async function connection() {
    while (next < total) {
      const i = next++;
      const sent = process.hrtime.bigint();
      const reply = await send(agent, port, typeof request === 'function' ? request(i) : request);
      if (!ok(reply)) throw new Error(`${name}: ${reply.status} ${reply.text.slice(0, 300)}`);
      latencies.push(Number(process.hrtime.bigint() - sent) / 1000);
    }
  }
  await Promise.all(Array.from({ length: connections }, connection));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { name, connections, requests: total, per_second: Math.round(total / seconds),
           p50_us: Math.round(at(0.5)), p99_us: Math.round(at(0.99)) };
}

/** Starts `command` and resolves with the match of `ready` in its output. */
export function start(command, args, ready) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  process.on('exit', () => child.kill());
  return new Promise((resolve) => {
    let log = '';
    const look = (chunk) => {
      log += chunk;
      const match = log.match(ready);
      if (match) resolve(match);
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
  });
}
