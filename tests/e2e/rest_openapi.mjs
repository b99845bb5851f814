// Validates REST responses against the server's own GET /openapi.json with ajv (JSON Schema
// 2020-12, OpenAPI 3.1's dialect): the operation is found by method and path template, the
// response by status, the schema by content type.
import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

export async function openapiValidator(base) {
  const document = await (await fetch(new URL('/openapi.json', base))).json();
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(document, 'openapi.json');
  const compiled = new Map();
  const schemaFor = (ref) => {
    if (!compiled.has(ref)) compiled.set(ref, ajv.compile({ $ref: `openapi.json${ref}` }));
    return compiled.get(ref);
  };
  const deref = (node) => {
    while (node && node.$ref) {
      node = node.$ref.slice(2).split('/').map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
        .reduce((at, part) => at[part], document);
    }
    return node;
  };
  // Concrete paths before templated ones: /experiments/summary is not /experiments/{id}.
  const templates = Object.keys(document.paths)
    .map((template) => ({
      template,
      params: (template.match(/\{/g) || []).length,
      pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&')
        .replace(/\{[^}]+\}/g, '[^/]+')}$`),
    }))
    .sort((a, b) => a.params - b.params);
  let checked = 0;
  /** Asserts `body` (parsed JSON) is what the document promises for this exchange. */
  function validate(method, url, status, contentType, body) {
    const path = new URL(url, base).pathname;
    const match = templates.find((entry) => entry.pattern.test(path));
    assert.ok(match, `no OpenAPI path for ${path}`);
    const operation = document.paths[match.template][method.toLowerCase()];
    assert.ok(operation, `no ${method} in OpenAPI for ${match.template}`);
    const response = deref(operation.responses[String(status)]);
    assert.ok(response, `${method} ${match.template}: status ${status} is not documented`);
    if (status === 304) return;
    const media = contentType.split(';')[0].trim();
    const content = response.content && response.content[media];
    assert.ok(content, `${method} ${match.template} ${status}: ${media} is not documented`);
    const check = schemaFor(content.schema.$ref);
    assert.ok(check(body), `${method} ${path} ${status}: ${ajv.errorsText(check.errors)}\n` +
      JSON.stringify(body).slice(0, 2000));
    checked += 1;
  }
  return { document, validate, count: () => checked };
}
