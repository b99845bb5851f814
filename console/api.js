// The REST client the page uses: one fetch wrapper that sends the session's API key, keeps
// ETags for polling and turns RFC 9457 problem documents into errors that name their field.

const KEY_STORAGE = 'verdict.apiKey';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || problem.error || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    // The field a validation error names: `field` as REST reports it, else the prefix of
    // the engine's message ("name: is required").
    this.field = problem.field || problem.pointer ||
      (/^([A-Za-z_][\w.[\]]*): /.exec(problem.detail || '') || [])[1] || null;
  }
}

export const session = {
  get key() { return sessionStorage.getItem(KEY_STORAGE) || ''; },
  set key(value) {
    if (value) sessionStorage.setItem(KEY_STORAGE, value);
    else sessionStorage.removeItem(KEY_STORAGE);
  },
};

const etags = new Map();   // path -> [etag, parsed body], for conditional GETs
const listeners = new Set();

/// Called with (error or null, method) after every request, so the page can show failures plainly.
export function onRequestOutcome(listener) { listeners.add(listener); }

export async function request(method, path, body, extraHeaders = {}) {
  const headers = { Accept: 'application/json', ...extraHeaders };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (session.key) headers.Authorization = `Bearer ${session.key}`;
  const cached = method === 'GET' ? etags.get(path) : undefined;
  if (cached) headers['If-None-Match'] = cached[0];
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (cause) {
    const error = new ApiError(0, { detail: `the server did not answer (${cause.message})` });
    listeners.forEach((listener) => listener(error, method));
    throw error;
  }
  // Read even a 304's empty body: a response left unread is cancelled, which the browser
  // reports as a failed request.
  const text = await response.text();
  if (response.status === 304 && cached) {
    listeners.forEach((listener) => listener(null, method));
    return { data: cached[1] };
  }
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text.slice(0, 300) }; }
  if (!response.ok) {
    const error = new ApiError(response.status, data || {});
    listeners.forEach((listener) => listener(error, method));
    throw error;
  }
  const etag = response.headers.get('ETag');
  if (method === 'GET' && etag) etags.set(path, [etag, data]);
  listeners.forEach((listener) => listener(null, method));
  return { data };
}

const base = '/v1/admin/experiments';
const enc = encodeURIComponent;

// The project every call acts in: the admin API gets it as project_id, the entity API in its
// path. A key acts in its own project only, so the page learns it from the key (whoami).
let project = 'default';
const MCP_VERSION = '2026-07-28';
export function setProject(slug) { project = slug; }
const inProject = (path) => `/~${enc(project)}${path}`;

/// Who the session is: {project, role, key}. Without a key a loopback caller is the default
/// project's operator; with one, MCP's `auth` method (POST /mcp) names the key's project, so the
/// console needs no endpoint of its own.
export async function whoami() {
  if (!session.key) return { project: 'default', role: 'operator', key: null };
  let reply;
  try {
    reply = (await request('POST', '/mcp',
      { jsonrpc: '2.0', id: 1, method: 'auth',
        params: { token: session.key, _meta: { 'io.modelcontextprotocol/protocolVersion': MCP_VERSION } } },
      { 'MCP-Protocol-Version': MCP_VERSION, 'Mcp-Method': 'auth',
        Accept: 'application/json, text/event-stream' })).data;
  } catch (error) {
    const rpc = error.problem && error.problem.error;
    if (rpc && rpc.message) throw new ApiError(error.status, { detail: rpc.message });
    throw error;
  }
  return reply.result;
}

/// The admin API of docs/rest.md (seed 000's names), plus the entity API for what the admin
/// shapes leave out (the full statistics the lift plot draws).
export const api = {
  async experiments() {
    const { data } = await request('GET', `${base}?project_id=${enc(project)}`);
    return { experiments: data.experiments || [], summary: data.summary || null };
  },
  async create(fields) {
    return (await request('POST', base, { ...fields, project_id: project })).data;
  },
  async launch(id) { return (await request('POST', `${base}/${enc(id)}/launch`)).data; },
  async stop(id) { return (await request('POST', `${base}/${enc(id)}/stop`)).data; },
  async analyze(id) { return (await request('POST', `${base}/${enc(id)}/analyze`)).data; },
  /// An entity's whole audit log, oldest first, following the pages' `next` links: `plural` is
  /// the REST collection (experiments, featureFlags).
  async history(plural, id) {
    const items = [];
    let path = inProject(`/${plural}/${enc(id)}/events?limit=1000`);
    while (path) {
      const { data } = await request('GET', path);
      items.push(...(data.items || []));
      path = data.next;
    }
    return items;
  },
  async flags() {
    const { data } = await request('GET', inProject('/featureFlags?limit=1000&sort=key'));
    return data.items || [];
  },
  async flagVerb(id, verb) {
    return (await request('POST', inProject(`/featureFlags/${enc(id)}/${verb}`))).data;
  },
  async flagRollout(id, version, percentage) {
    return (await request('PATCH', inProject(`/featureFlags/${enc(id)}`),
      { rolloutPercentage: percentage }, { 'If-Match': `"${version}"` })).data;
  },
  async results(id) {
    const { data } = await request('GET', inProject(`/experiments/${enc(id)}`));
    return data.results || null;
  },
};
