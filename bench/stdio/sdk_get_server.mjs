// The official TypeScript SDK's own stdio server with an in-memory `get` tool: the baseline the
// README compares `verdict serve` against (bench/stdio/compare.mjs starts it).
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../tests/e2e/package.json', import.meta.url));
const { McpServer } = await import(require.resolve('@modelcontextprotocol/sdk/server/mcp.js'));
const { StdioServerTransport } = await import(require.resolve('@modelcontextprotocol/sdk/server/stdio.js'));
const { z } = await import(require.resolve('zod'));

const experiments = new Map([
  ['experiment_bench001', { id: 'experiment_bench001', name: 'bench', status: 'Draft', version: 1 }],
]);
const server = new McpServer({ name: 'sdk-baseline', version: '1.0.0' });
server.tool('get', { type: z.string(), id: z.string() }, async ({ id }) => {
  const entity = experiments.get(id);
  return { content: [{ type: 'text', text: JSON.stringify(entity ?? null) }] };
});
await server.connect(new StdioServerTransport());
