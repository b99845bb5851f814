// The Verdict admin console: seed 000's Experiments page over the REST API. Plain modules, no
// framework (docs/console.md says why); the DOM is built with h() so no server text is ever
// parsed as HTML.
import { api, onRequestOutcome, session, setProject, whoami } from './api.js';
import { liftPlot, looksPlot, weightsPlot } from './plot.js';

const POLL_MS = 3000;
const state = {
  experiments: [], summary: null, flags: [], results: new Map(), history: new Map(),
  historyOpen: false, flagHistory: null, error: null,
  // The project the page acts in and those the session may switch to: a key acts in its own
  // project only, the local operator without a key in `default`.
  project: 'default', projects: ['default'], role: 'operator', loaded: false,
};
const $ = (selector) => document.querySelector(selector);

/// Creates an element: h('td', {class: 'x', onclick: f}, 'text', child, ...).
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat())
    if (child !== undefined && child !== null && child !== false)
      element.append(child instanceof Node ? child : String(child));
  return element;
}

// ---- what the API's entities say ----------------------------------------------------------

const pick = (object, ...names) => {
  for (const name of names) if (object && object[name] !== undefined) return object[name];
  return undefined;
};
const statusOf = (experiment) => String(pick(experiment, 'status') || 'Draft');
const isDraft = (experiment) => statusOf(experiment).toLowerCase() === 'draft';
const isLive = (experiment) => statusOf(experiment).toLowerCase() === 'running';
const banditOf = (experiment) => Boolean(pick(experiment, 'bandit_enabled'));
const variantsOf = (experiment) => pick(experiment, 'variants') || [];
const winnerOf = (experiment) => pick(experiment, 'winner') || null;
const variantKey = (variant) => pick(variant, 'key', 'id', 'name');
const weightOf = (variant) => Number(pick(variant, 'traffic_weight') ?? 0);
const createdOf = (experiment) => pick(experiment, 'created_at');

function badge(text, kind) {
  return h('span', { class: `badge badge-${kind}` }, text);
}
function statusBadge(experiment) {
  const status = statusOf(experiment);
  return badge(status.toLowerCase(), status.toLowerCase());
}
function formatDate(value) {
  if (!value) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value)
    : date.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}
const percent = (value, digits = 1) =>
  value === undefined || value === null ? '–' : `${(value * 100).toFixed(digits)}%`;
const signedPercent = (value) =>
  value === undefined || value === null ? '–' : `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}%`;
const number = (value, digits = 4) => {
  if (value === undefined || value === null) return '–';
  if (Math.abs(value) > 0 && Math.abs(value) < 10 ** -digits) return value.toExponential(2);
  return Number(value.toFixed(digits)).toString();
};
function truncate(text, length = 60) {
  text = text || '';
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

// ---- errors, shown plainly -----------------------------------------------------------------

function showError(error) {
  const alert = $('#alert');
  if (!error) {
    alert.hidden = true;
    alert.replaceChildren();
    return;
  }
  const hint = error.status === 401 ? ' Sign in with an API key above.' : '';
  alert.replaceChildren(h('strong', {}, error.status ? `Error ${error.status}: ` : 'Error: '),
    `${error.message}.${hint}`,
    h('button', { type: 'button', class: 'link', onclick: () => showError(null),
      'aria-label': 'Dismiss the error' }, '×'));
  alert.hidden = false;
}

async function act(button, work) {
  button.disabled = true;
  try {
    await work();
    showError(null);
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
  }
}

// ---- routing -------------------------------------------------------------------------------

function route() {
  const path = location.pathname;
  if (path === '/new') return { tab: 'new' };
  if (path === '/flags') return { tab: 'flags' };
  const match = /^\/experiments\/([^/]+)$/.exec(path);
  return { tab: 'experiments', openId: match ? decodeURIComponent(match[1]) : null };
}

function navigate(path) {
  if (location.pathname !== path) history.pushState(null, '', path);
  render();
  if (route().tab === 'flags') refresh().catch(() => {});
}

document.addEventListener('click', (event) => {
  const link = event.target.closest('a[data-route]');
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  navigate(link.getAttribute('href'));
});
window.addEventListener('popstate', render);

// ---- Experiments tab -----------------------------------------------------------------------

function tabs(active) {
  const tab = (path, label, name) => h('a', {
    href: path, 'data-route': path, role: 'tab', id: `tab-${name}`,
    'aria-selected': String(active === name), class: active === name ? 'tab active' : 'tab',
    tabindex: active === name ? '0' : '-1',
  }, label);
  // The ARIA tabs pattern: arrow keys (and Home, End) move between the tabs and select one.
  const onkeydown = (event) => {
    const list = [...event.currentTarget.querySelectorAll('[role=tab]')];
    const at = list.indexOf(document.activeElement);
    const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: list.length - 1 }[event.key];
    if (at < 0 || to === undefined) return;
    event.preventDefault();
    const target = list[(to + list.length) % list.length];
    navigate(target.getAttribute('href'));
    document.getElementById(target.id).focus();
  };
  return h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Experiments', onkeydown },
    tab('/experiments', 'Experiments', 'experiments'), tab('/new', 'New', 'new'));
}

function statCards() {
  const summary = state.summary || {};
  const list = state.experiments;
  const card = (label, value, id) => h('div', { class: 'card', id },
    h('div', { class: 'card-value' }, value), h('div', { class: 'card-label' }, label));
  return h('section', { class: 'cards', 'aria-label': 'Summary' },
    card('Total', summary.total ?? list.length, 'stat-total'),
    card('Running', summary.running ?? list.filter(isLive).length, 'stat-running'),
    card('Winners found', summary.winners_found ?? 0, 'stat-winners'));
}

function actionButtons(experiment, inDrawer) {
  const id = experiment.id;
  const buttons = [];
  if (isDraft(experiment))
    buttons.push(h('button', { type: 'button', class: 'primary', 'data-action': 'launch',
      onclick: (event) => act(event.currentTarget, async () => { await api.launch(id); await refresh(); }),
    }, 'Launch'));
  if (isLive(experiment))
    buttons.push(h('button', { type: 'button', class: 'danger', 'data-action': 'stop',
      onclick: (event) => act(event.currentTarget, async () => { await api.stop(id); await refresh(); }),
    }, 'Stop'));
  if (inDrawer)
    buttons.push(h('button', { type: 'button', 'data-action': 'analyze',
      onclick: (event) => act(event.currentTarget, async () => {
        await api.analyze(id);
        await refresh();
      }),
    }, 'Analyze'));
  else
    buttons.push(h('a', { href: `/experiments/${encodeURIComponent(id)}`, class: 'button',
      'data-route': `/experiments/${encodeURIComponent(id)}`, 'data-action': 'view',
      'aria-label': `View ${experiment.name}` }, 'View'));
  return buttons;
}

function experimentsTable() {
  if (!state.experiments.length)
    return h('p', { class: 'empty' }, 'No experiments yet. ',
      h('a', { href: '/new', 'data-route': '/new' }, 'Create one'), '.');
  const rows = state.experiments.map((experiment) => h('tr', { 'data-id': experiment.id },
    h('td', { class: 'name' }, experiment.name),
    h('td', { class: 'hypothesis', title: experiment.hypothesis || '' }, truncate(experiment.hypothesis)),
    h('td', {}, statusBadge(experiment)),
    h('td', { class: 'num' }, variantsOf(experiment).length),
    h('td', {}, banditOf(experiment) ? badge('Thompson', 'bandit') : ''),
    h('td', { class: 'created' }, formatDate(createdOf(experiment))),
    h('td', { class: 'actions' }, actionButtons(experiment, false))));
  return h('div', { class: 'table-wrap' }, h('table', { class: 'experiments' },
    h('caption', { class: 'visually-hidden' }, 'Experiments'),
    h('thead', {}, h('tr', {}, ['Name', 'Hypothesis', 'Status', 'Variants', 'Bandit mode',
      'Created', 'Actions'].map((label) => h('th', { scope: 'col' }, label)))),
    h('tbody', {}, rows)));
}

// ---- New tab -------------------------------------------------------------------------------

let variantSerial = 0;
function variantRow(name, weight) {
  const index = variantSerial++;
  const row = h('fieldset', { class: 'variant-row' },
    h('legend', { class: 'visually-hidden' }, 'Variant'),
    h('label', { for: `variant-name-${index}` }, 'Variant name'),
    h('input', { id: `variant-name-${index}`, name: 'variant-name', value: name, required: true }),
    h('label', { for: `variant-weight-${index}` }, 'Traffic weight'),
    h('input', { id: `variant-weight-${index}`, name: 'variant-weight', type: 'number',
      min: '0', step: 'any', value: weight, required: true }),
    h('button', { type: 'button', class: 'link remove', 'aria-label': 'Remove this variant',
      onclick: () => row.remove() }, 'Remove'),
    h('p', { class: 'field-error', role: 'alert' }));
  return row;
}

function newForm() {
  const field = (id, label, input, help) => h('div', { class: 'field', 'data-field': id },
    h('label', { for: id }, label), input,
    help ? h('p', { class: 'help', id: `${id}-help` }, help) : null,
    h('p', { class: 'field-error', id: `${id}-error`, role: 'alert' }));
  const variants = h('div', { id: 'variants' }, variantRow('Control', '0.5'), variantRow('Variant B', '0.5'));
  const form = h('form', { id: 'new-experiment', novalidate: true, 'aria-labelledby': 'tab-new' },
    field('name', 'Name', h('input', { id: 'name', name: 'name', required: true,
      'aria-describedby': 'name-help name-error' }), 'Short experiment label'),
    field('hypothesis', 'Hypothesis', h('textarea', { id: 'hypothesis', name: 'hypothesis', rows: 3,
      'aria-describedby': 'hypothesis-help hypothesis-error' }), 'What you expect to observe and why'),
    field('primary_metric', 'Primary metric', h('input', { id: 'primary_metric', name: 'primary_metric',
      placeholder: 'conversion', 'aria-describedby': 'primary_metric-help primary_metric-error' }),
      'The conversion event the analysis compares (default: conversion)'),
    h('div', { class: 'field checkbox', 'data-field': 'bandit_enabled' },
      h('input', { id: 'bandit', name: 'bandit', type: 'checkbox', 'aria-describedby': 'bandit-help' }),
      h('label', { for: 'bandit' }, 'Bandit mode (Thompson sampling)'),
      h('p', { class: 'help', id: 'bandit-help' },
        'Reallocates traffic to better-performing variants automatically'),
      h('p', { class: 'field-error', id: 'bandit_enabled-error', role: 'alert' })),
    h('div', { class: 'field', 'data-field': 'variants' },
      h('h3', {}, 'Variants ', h('small', {}, 'at least two')), variants,
      h('button', { type: 'button', id: 'add-variant',
        onclick: () => variants.append(variantRow('', '0.5')) }, 'Add variant'),
      h('p', { class: 'field-error', id: 'variants-error', role: 'alert' })),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, 'Create experiment')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('[type=submit]'), () => submitNew(form));
  });
  return form;
}

function clearFieldErrors(form) {
  form.querySelectorAll('.field-error').forEach((element) => { element.textContent = ''; });
  form.querySelectorAll('[aria-invalid]').forEach((element) => element.removeAttribute('aria-invalid'));
}

/// Shows a validation error at the field it names: `name`, `hypothesis`, `variants`,
/// `variants[1].weight` / `variants.1.name` (a variant row), `traffic_weight` (the row sent).
function showFieldError(form, field, message) {
  const rows = [...form.querySelectorAll('.variant-row')];
  const rowMatch = /^variants?(?:\[(\d+)\]|\.(\d+))(?:\.(\w+))?/.exec(field || '');
  const row = rowMatch ? rows[Number(rowMatch[1] ?? rowMatch[2])] : null;
  const member = rowMatch ? rowMatch[3] : field;
  let target = null;
  let input = null;
  if (row) {
    target = row.querySelector('.field-error');
    input = row.querySelector(/weight/.test(member || '') ? '[name=variant-weight]' : '[name=variant-name]');
  } else {
    const key = { bandit: 'bandit_enabled', banditEnabled: 'bandit_enabled' }[field] || field;
    target = form.querySelector(`#${CSS.escape(key || 'none')}-error`) ||
      (/^variant/.test(field || '') ? form.querySelector('#variants-error') : null);
    input = form.querySelector(`#${CSS.escape(key || 'none')}`);
  }
  if (!target) return false;
  target.textContent = message;
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }
  return true;
}

async function submitNew(form) {
  clearFieldErrors(form);
  const variants = [...form.querySelectorAll('.variant-row')].map((row) => ({
    name: row.querySelector('[name=variant-name]').value.trim(),
    traffic_weight: Number(row.querySelector('[name=variant-weight]').value),
  }));
  if (variants.length < 2) {
    showFieldError(form, 'variants', 'add at least two variants: a control and a treatment');
    return;
  }
  const fields = {
    name: form.name.value.trim(),
    hypothesis: form.hypothesis.value.trim(),
    bandit_enabled: form.bandit.checked,
    variants,
  };
  const metric = form.primary_metric.value.trim();
  if (metric) fields.primary_metric = metric;
  let created;
  try {
    created = await api.create(fields);
  } catch (error) {
    // One create call holds the variants too, so a refusal leaves nothing half-made.
    if (error.status === 422 && showFieldError(form, error.field, error.message)) return;
    throw error;
  }
  newFormElement = null;
  await refresh();
  navigate(`/experiments/${encodeURIComponent(created.id)}`);
}

// ---- detail drawer and analysis ------------------------------------------------------------

function variantsTable(experiment) {
  const bandit = banditOf(experiment);
  const columns = ['Variant', 'Traffic weight', 'α (alpha)', 'β (beta)'];
  if (bandit) columns.push('Bandit weight');
  return h('table', { class: 'variants' },
    h('caption', {}, 'Variants'),
    h('thead', {}, h('tr', {}, columns.map((label) => h('th', { scope: 'col' }, label)))),
    h('tbody', {}, variantsOf(experiment).map((variant) => {
      const isWinner = Boolean(variant.is_winner);
      return h('tr', { class: isWinner ? 'winner' : '', 'data-variant': variantKey(variant) },
        h('th', { scope: 'row' }, variant.name || variantKey(variant),
          isWinner ? [' ', badge('winner', 'winner')] : null),
        h('td', { class: 'num weight' }, percent(weightOf(variant), 0)),
        h('td', { class: 'num alpha' }, number(variant.alpha, 1)),
        h('td', { class: 'num beta' }, number(variant.beta, 1)),
        bandit ? h('td', { class: 'num' }, variant.bandit_weight === undefined
          ? 'not yet' : percent(variant.bandit_weight)) : null);
    })));
}

function analysisPanel(experiment, analysis) {
  const srm = analysis.srm || {};
  const mismatch = Boolean(srm.mismatch);
  const stat = (label, value, extra = {}) => h('div', { class: 'stat', ...extra },
    h('dt', {}, label), h('dd', {}, value));
  let srmText;
  if (srm.applicable === false) srmText = badge('not applicable (bandit)', 'plain');
  else if (mismatch) srmText = badge(`mismatch (p = ${number(srm.p_value)})`, 'srm-bad');
  else srmText = badge(`ok (p = ${number(srm.p_value)})`, 'srm-ok');
  const results = state.results.get(experiment.id);
  const metric = results && results.analyzed_at === analysis.analyzed_at && results.metrics
    ? results.metrics[analysis.primary_metric] : null;
  const names = variantsOf(experiment).map((variant) => variant.name || variantKey(variant));
  const nameOf = (key) =>
    (variantsOf(experiment).find((variant) => variantKey(variant) === key) || {}).name || key;
  return h('section', { class: 'analysis', id: 'analysis', 'aria-labelledby': 'analysis-title' },
    h('h3', { id: 'analysis-title' }, 'Analysis results ',
      h('small', {}, `${analysis.primary_metric || ''} · ${formatDate(analysis.analyzed_at)}`)),
    h('dl', { class: 'stats' },
      stat('SRM check', srmText, { id: 'srm' }),
      stat('p-value', number(analysis.p_value), { id: 'p-value' }),
      stat('mSPRT log-LR', number(analysis.msprt_log_lr, 3), { id: 'log-lr' }),
      stat('Relative lift', signedPercent(analysis.relative_lift), { id: 'lift' })),
    h('p', { class: `recommendation ${mismatch ? 'bad' : ''}`, id: 'recommendation' },
      h('strong', {}, 'Recommendation: '), analysis.recommendation || '–'),
    h('table', { class: 'per-variant' },
      h('caption', {}, 'Per variant'),
      h('thead', {}, h('tr', {}, ['Variant', 'Conversions', 'Exposures', 'Rate']
        .map((label) => h('th', { scope: 'col' }, label)))),
      h('tbody', {}, (analysis.variants || []).map((row) => h('tr', { 'data-variant': row.variant },
        h('th', { scope: 'row' }, nameOf(row.variant)),
        h('td', { class: 'num conversions' }, number(row.conversions, 2)),
        h('td', { class: 'num exposures' }, number(row.exposures, 0)),
        h('td', { class: 'num rate' }, percent(row.rate, 2)))))),
    metric ? liftPlot(metric, names) : null,
    looksSection(experiment, analysis));
}

// Every analyze is a look: its `Experiment.Analyzed` event in the history holds the primary
// metric's always-valid numbers at that moment (the stored results keep the latest only).
function looksSection(experiment, analysis) {
  const entry = state.history.get(experiment.id);
  const looks = entry ? entry.items
    .filter((event) => event.type === 'Experiment.Analyzed' &&
      Array.isArray(event.data?.comparisons) && event.data.metric === analysis.primary_metric)
    .map((event) => ({ ...event.data, at: formatDate(event.at) })) : [];
  const variants = variantsOf(experiment);
  const names = Object.fromEntries(variants.map((variant) =>
    [variantKey(variant), variant.name || variantKey(variant)]));
  return h('section', { id: 'looks', 'aria-labelledby': 'looks-title' },
    h('h3', { id: 'looks-title' }, 'Evidence over the looks'),
    looksPlot(looks, names, variants.slice(1).map(variantKey)) ||
      h('p', { class: 'help' }, entry ? 'No look recorded yet.' : 'Loading…'));
}

// The lift plot needs the intervals the admin shape leaves out: read them once per analysis
// from the entity API (the experiment's stored `results`).
async function loadResults(experiment) {
  const analysis = experiment.analysis;
  const known = state.results.get(experiment.id);
  if (!analysis || (known && known.analyzed_at === analysis.analyzed_at)) return;
  const results = await api.results(experiment.id);
  state.results.set(experiment.id, { ...(results || {}), analyzed_at: analysis.analyzed_at });
  render();
}

function drawerContent(experiment) {
  const analysis = experiment.analysis;
  const winner = winnerOf(experiment);
  const winnerName = winner &&
    (variantsOf(experiment).find((variant) => variantKey(variant) === winner) || {}).name;
  return [
    h('header', { class: 'drawer-head' },
      h('h2', { id: 'drawer-title' }, experiment.name),
      h('button', { type: 'button', class: 'link close', 'data-action': 'close', 'aria-label': 'Close the drawer',
        onclick: closeDrawer }, '×')),
    h('p', { class: 'badges' }, statusBadge(experiment), ' ',
      banditOf(experiment) ? badge('bandit: Thompson sampling', 'bandit') : badge('fixed split', 'plain'),
      ' ', winner ? badge(`winner: ${winnerName || winner}`, 'winner') : null),
    h('h3', {}, 'Hypothesis'),
    h('p', { class: 'hypothesis-text' }, experiment.hypothesis || 'No hypothesis given.'),
    variantsTable(experiment),
    banditOf(experiment) ? weightsSection(experiment) : null,
    h('div', { class: 'drawer-actions' }, actionButtons(experiment, true)),
    analysis ? analysisPanel(experiment, analysis) : null,
    historySection(experiment),
  ];
}

// ---- event history (the audit log) -----------------------------------------------------------

// A bandit's weights over time are its `Experiment.Reweighted` events, read from the history.
function weightsSection(experiment) {
  const entry = state.history.get(experiment.id);
  if (!entry) return null;
  const points = entry.items
    .filter((event) => event.type === 'Experiment.Reweighted' && Array.isArray(event.data?.weights))
    .map((event) => ({ at: formatDate(event.at), weights: event.data.weights }));
  const names = variantsOf(experiment).map((variant) => variant.name || variantKey(variant));
  return h('section', { id: 'weights', 'aria-labelledby': 'weights-title' },
    h('h3', { id: 'weights-title' }, 'Traffic weights over time'),
    weightsPlot(points, names) || h('p', { class: 'help' }, 'Not recomputed yet.'));
}

// Who did what, when: newest first.
function historyTable(items) {
  return h('table', { class: 'history' }, h('caption', { class: 'visually-hidden' }, 'Event history, newest first'),
    h('thead', {}, h('tr', {}, ['When', 'Event', 'By'].map((label) => h('th', { scope: 'col' }, label)))),
    h('tbody', {}, items.slice().reverse().map((event) => h('tr', {},
      h('td', { class: 'created' }, formatDate(event.at)),
      h('td', { class: 'event-type' }, event.type),
      h('td', {}, event.actor || '–')))));
}

function historySection(experiment) {
  const entry = state.history.get(experiment.id);
  return h('details', {
    id: 'history', open: state.historyOpen,
    ontoggle: (event) => {
      state.historyOpen = event.currentTarget.open;
      if (state.historyOpen) loadHistory(experiment).catch(() => {});
    },
  }, h('summary', {}, 'Event history'), entry ? historyTable(entry.items) : h('p', {}, 'Loading…'));
}

/// Reads an entity's history once per version (`plural`: its REST collection).
async function loadHistory(entity, plural = 'experiments') {
  const known = state.history.get(entity.id);
  if (known && known.version === entity.version) return;
  const items = await api.history(plural, entity.id);
  state.history.set(entity.id, { version: entity.version, items });
  render();
}

// While the drawer is open the page behind it is inert (no focus, hidden from screen readers),
// as a modal dialog's background must be; the error bar stays live and becomes a bar above the
// drawer, which would otherwise cover it (on a phone, entirely).
function showDrawer(drawer, backdrop, open) {
  drawer.hidden = !open;
  backdrop.hidden = !open;
  for (const behind of document.querySelectorAll('body > .skip, body > header, body > main'))
    behind.inert = open;
  document.body.classList.toggle('drawer-open', open);
}

function renderDrawer(openId) {
  const drawer = $('#drawer');
  const backdrop = $('#drawer-backdrop');
  const experiment = openId && state.experiments.find((item) => item.id === openId);
  if (openId && !experiment && state.loaded) {
    // Another project's experiment is "not found" for this key, exactly as the API says it.
    drawer.dataset.id = openId;
    drawer.replaceChildren(h('header', { class: 'drawer-head' },
      h('h2', { id: 'drawer-title' }, 'Not found'),
      h('button', { type: 'button', class: 'link close', 'data-action': 'close',
        'aria-label': 'Close the drawer', onclick: closeDrawer }, '×')),
    h('p', { id: 'not-found' }, `No experiment ${openId} in the project ${state.project}.`));
    showDrawer(drawer, backdrop, true);
    drawer.querySelector('.close').focus();
    return;
  }
  if (!experiment) {
    showDrawer(drawer, backdrop, false);
    drawer.replaceChildren();
    return;
  }
  const wasOpen = !drawer.hidden && drawer.dataset.id === openId;
  const focusedAction = wasOpen && document.activeElement && document.activeElement.dataset.action;
  drawer.dataset.id = openId;
  // replaceChildren, unlike h(), would print an absent section as the text "null".
  drawer.replaceChildren(...drawerContent(experiment).filter(Boolean));
  loadResults(experiment).catch(() => {});
  if (banditOf(experiment) || experiment.analysis) loadHistory(experiment).catch(() => {});
  showDrawer(drawer, backdrop, true);
  if (!wasOpen) {
    drawer.querySelector('.close').focus();
  } else if (focusedAction) {
    const again = drawer.querySelector(`[data-action=${focusedAction}]`);
    if (again) again.focus();
  }
}

function closeDrawer() {
  const id = $('#drawer').dataset.id;
  navigate('/experiments');
  // Back to the experiment's View link: the list re-renders, so it is found again by its row.
  const view = id && document.querySelector(
    `table.experiments tr[data-id="${CSS.escape(id)}"] [data-action=view]`);
  (view || $('#main')).focus();
}
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && !$('#drawer').hidden) closeDrawer();
});

// ---- Feature flags ---------------------------------------------------------------------------

function flagsTable() {
  if (!state.flags.length)
    return h('p', { class: 'empty' }, 'No feature flags yet. Create them over REST ' +
      `(POST /~${state.project}/featureFlags) or MCP; they are evaluated at /ofrep/v1.`);
  const verbButton = (flag, verb, label, kind) => h('button', {
    type: 'button', class: kind, 'data-action': verb,
    onclick: (event) => act(event.currentTarget, async () => {
      await api.flagVerb(flag.id, verb);
      await refresh();
    }),
  }, label);
  const rows = state.flags.map((flag) => {
    const status = String(flag.status || 'Draft');
    const linked = flag.experiment && state.experiments.find((item) => item.id === flag.experiment);
    const percentage = h('input', { type: 'number', min: '0', max: '100', step: '1',
      id: `rollout-${flag.id}`, value: flag.rolloutPercentage ?? 0, class: 'percentage' });
    return h('tr', { 'data-id': flag.id },
      h('td', { class: 'name' }, h('code', {}, flag.key), h('div', { class: 'help' }, flag.name)),
      h('td', {}, badge(status.toLowerCase(), status.toLowerCase())),
      h('td', { class: 'rollout' },
        h('label', { for: `rollout-${flag.id}`, class: 'visually-hidden' }, `Rollout percentage of ${flag.key}`),
        percentage, ' % ',
        h('button', { type: 'button', 'data-action': 'set-rollout',
          onclick: (event) => act(event.currentTarget, async () => {
            await api.flagRollout(flag.id, flag.version, Number(percentage.value));
            await refresh();
          }) }, 'Set')),
      h('td', {}, flag.experiment ? (linked
        ? h('a', { href: `/experiments/${encodeURIComponent(linked.id)}`,
          'data-route': `/experiments/${encodeURIComponent(linked.id)}` }, linked.name)
        : h('code', {}, flag.experiment)) : '–'),
      h('td', { class: 'actions' },
        status !== 'Enabled' ? verbButton(flag, 'enable', 'Enable', 'primary') : null,
        status !== 'Disabled' ? verbButton(flag, 'disable', 'Disable', 'danger') : null,
        status !== 'RolledOut' ? verbButton(flag, 'rollout', 'Roll out', '') : null,
        h('button', { type: 'button', class: 'link', 'data-action': 'history',
          'aria-expanded': String(state.flagHistory === flag.id), 'aria-controls': `flag-history-${flag.id}`,
          onclick: () => {
            state.flagHistory = state.flagHistory === flag.id ? null : flag.id;
            render();
          } }, 'History')));
  });
  // The open flag's history is a row of its own under the flag's, read once per version.
  const open = state.flags.find((flag) => flag.id === state.flagHistory);
  if (open) {
    loadHistory(open, 'featureFlags').catch(() => {});
    const entry = state.history.get(open.id);
    const at = rows.findIndex((row) => row.dataset.id === open.id);
    rows.splice(at + 1, 0, h('tr', { class: 'flag-history', id: `flag-history-${open.id}` },
      h('td', { colspan: 5 }, entry ? historyTable(entry.items) : 'Loading…')));
  }
  return h('div', { class: 'table-wrap' }, h('table', { class: 'flags' },
    h('caption', { class: 'visually-hidden' }, 'Feature flags'),
    h('thead', {}, h('tr', {}, ['Flag', 'Status', 'Rollout', 'Linked experiment', 'Actions']
      .map((label) => h('th', { scope: 'col' }, label)))),
    h('tbody', {}, rows)));
}

// ---- page ----------------------------------------------------------------------------------

let newFormElement = null;   // kept across polls so typing is never lost

// Re-rendering replaces nodes; put focus back on the same control of the same row so polling
// never throws a keyboard user out of the table.
function keepingFocus(work) {
  const active = document.activeElement;
  const action = active && active.dataset && active.dataset.action;
  const row = active && active.closest && active.closest('[data-id]');
  work();
  // Only when the focused control was replaced and focus fell to the page, not when the
  // render moved it on purpose (into a drawer that just opened).
  const lost = !document.activeElement || document.activeElement === document.body;
  if (!action || !lost || (active && active.isConnected)) return;
  const selector = row ? `[data-id="${CSS.escape(row.dataset.id)}"] [data-action=${action}]`
    : `[data-action=${action}]`;
  const again = document.querySelector(selector);
  if (again) again.focus();
}

function experimentsPage(tab) {
  const main = $('#main');
  let page = main.querySelector('#experiments-page');
  if (!page) {
    page = h('div', { id: 'experiments-page' }, h('h1', {}, 'Experiments'),
      h('div', { id: 'cards-slot' }), h('div', { id: 'tabs-slot' }), h('div', { id: 'body-slot' }));
    main.replaceChildren(page);
  }
  $('#cards-slot').replaceChildren(statCards());
  const tabsSlot = $('#tabs-slot');
  if (tabsSlot.dataset.tab !== tab) {
    tabsSlot.dataset.tab = tab;
    tabsSlot.replaceChildren(tabs(tab));
  }
  const body = $('#body-slot');
  if (tab === 'new') {
    newFormElement ||= newForm();
    if (body.firstChild !== newFormElement) body.replaceChildren(newFormElement);
  } else {
    newFormElement = null;
    body.replaceChildren(h('div', { role: 'tabpanel', 'aria-labelledby': 'tab-experiments' },
      experimentsTable()));
  }
}

function render() {
  const { tab, openId } = route();
  document.querySelectorAll('nav a[data-route]').forEach((link) => {
    const current = (tab === 'flags') === (link.dataset.route === '/flags');
    if (current) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
  });
  keepingFocus(() => {
    if (tab === 'flags') {
      document.title = 'Verdict · Feature flags';
      $('#main').replaceChildren(h('h1', {}, 'Feature flags'), flagsTable());
    } else {
      document.title = 'Verdict · Experiments';
      experimentsPage(tab);
    }
    renderDrawer(tab === 'experiments' ? openId : null);
  });
}

// An unchanged admin list is a 304 (api.js sends its ETag back); comparing the bodies too
// covers the flags list, which has none, so an unchanged poll never re-renders (nor disturbs
// focus or a half-typed form).
let lastList = '';
async function refresh() {
  const asked = state.project;
  const { experiments, summary } = await api.experiments();
  const flags = route().tab === 'flags' ? await api.flags() : state.flags;
  // A poll that was under way when the project changed answers for the old one.
  if (asked !== state.project) return;
  state.loaded = true;
  const fingerprint = JSON.stringify([experiments, summary, flags]);
  if (fingerprint === lastList) return;
  lastList = fingerprint;
  state.experiments = experiments;
  state.summary = summary;
  state.flags = flags;
  render();
}

// ---- project ----------------------------------------------------------------------------------

function actIn(project) {
  state.project = project;
  setProject(project);
  state.experiments = [];
  state.summary = null;
  state.flags = [];
  state.results.clear();
  state.history.clear();
  state.loaded = false;
  lastList = '';
  const select = $('#project');
  select.replaceChildren(...state.projects.map((slug) =>
    h('option', { value: slug, selected: slug === project }, slug)));
  $('#project-role').textContent = state.role;
  render();
}

/// Learns the session's project from its key, then shows that project's data.
async function identify() {
  let who;
  try {
    who = await whoami();
  } catch (error) {
    showError(error);
    return;
  }
  state.role = who.role;
  state.projects = [who.project];
  actIn(who.project);
  refresh().catch(() => {});
}

function projectSwitcher() {
  $('#project').addEventListener('change', (event) => {
    actIn(event.currentTarget.value);
    refresh().catch(() => {});
  });
}

function signinForm() {
  const form = $('#signin');
  const signout = $('#signout');
  const sync = () => {
    signout.hidden = !session.key;
    form.classList.toggle('signed-in', Boolean(session.key));
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    session.key = form.key.value.trim();
    form.key.value = '';
    sync();
    identify();
  });
  signout.addEventListener('click', () => {
    session.key = '';
    sync();
    identify();
  });
  sync();
}

async function poll() {
  if (document.visibilityState === 'visible') {
    try { await refresh(); } catch { /* shown by the alert; the next poll retries */ }
  }
  setTimeout(poll, POLL_MS);
}

// A failed poll is shown and cleared by the next good one; an action's error stays until
// dismissed or the next action succeeds.
onRequestOutcome((error, method) => {
  if (method !== 'GET') return;
  if (error) showError(error);
  else if (state.error) showError(null);
  state.error = error;
});
signinForm();
projectSwitcher();
render();
identify().finally(() => setTimeout(poll, POLL_MS));
