// HTTP/1.1 keep-alive measurement shared by the HTTP benchmarks: `connections` loops, each
// sending its next request when the last is answered, until `requests` have been sent.
import http from 'node:http';

/** One request; resolves with {status, text}. */
export function request(agent, port, method, path, headers, body = '') {
  return new Promise((resolve, reject) => {
    const sent = http.request({ host: '127.0.0.1', port, path, method, agent,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body),
                 ...headers } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode, text }));
    });
    sent.on('error', reject);
    sent.end(body);
  });
}

/** Runs `send(agent, i)` `requests` times over `connections` keep-alive connections; `send`
 * throws on a wrong answer. Resolves with requests/s and latency percentiles. */
export async function measure(name, connections, requests, send) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencies = [];
  let next = 0;
  const started = process.hrtime.bigint();
  async function connection() {
    while (next < requests) {
      const i = next++;
      const sent = process.hrtime.bigint();
      await send(agent, i);
      latencies.push(Number(process.hrtime.bigint() - sent) / 1000);
    }
  }
  await Promise.all(Array.from({ length: connections }, connection));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { name, connections, requests, per_second: Math.round(requests / seconds),
           p50_us: Math.round(at(0.5)), p99_us: Math.round(at(0.99)) };
}
