// The official TypeScript SDK's Streamable HTTP server in stateless mode (a server and transport
// per request, as the SDK documents for stateless serving) with an in-memory `get` tool: the
// baseline bench/http/compare.mjs measures `verdict serve --listen http://` against.
// Usage: node bench/http/sdk_http_server.mjs PORT
import { createServer } from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../tests/e2e/package.json', import.meta.url));
const { McpServer } = await import(require.resolve('@modelcontextprotocol/sdk/server/mcp.js'));
const { StreamableHTTPServerTransport } = await import(
  require.resolve('@modelcontextprotocol/sdk/server/streamableHttp.js'));
const { z } = await import(require.resolve('zod'));

const experiments = new Map([
  ['experiment_bench001', { id: 'experiment_bench001', name: 'bench', status: 'Draft', version: 1 }],
]);

function mcpServer() {
  const server = new McpServer({ name: 'sdk-baseline', version: '1.0.0' });
  server.tool('get', { type: z.string(), id: z.string() }, async ({ id }) => ({
    content: [{ type: 'text', text: JSON.stringify(experiments.get(id) ?? null) }],
  }));
  return server;
}

const http = createServer(async (req, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  const server = mcpServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined,
                                                        enableJsonResponse: true });
  res.on('close', () => {
    transport.close();
    server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, JSON.parse(body));
});
http.keepAliveTimeout = 60_000;
http.listen(Number(process.argv[2]), '127.0.0.1', () => console.log('ready'));
