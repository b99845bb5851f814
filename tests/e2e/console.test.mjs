// The web console in headless Chromium (Debian's `chromium`, driven by puppeteer-core): every
// flow of seed 000 clicked through against a real `verdict serve`, traffic sent through the REST
// API, with no console error and no failed request. Screenshots of each screen go to
// $VERDICT_SCREENSHOTS (docs/screenshots to refresh the committed ones), else a temporary folder.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium, screenshotFolder } from './browser.mjs';
import { startHttpServer } from './http_server.mjs';

const shots = screenshotFolder();

const { base } = await startHttpServer('verdict-console-');
const browser = await launchChromium();

const page = await browser.newPage();
await page.setViewport({ width: 1280, height: 1080 });
const problems = [];
const expectedFailures = [];   // [method, path-prefix, status] the test provokes on purpose
let allowed401 = false;
let unchangedPolls = 0;   // polls of the list answered 304 by its ETag
page.on('console', (message) => {
  // Chromium logs every HTTP error status as "Failed to load resource"; the response listener
  // below already fails the test on each one that was not provoked on purpose.
  if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
    problems.push(`console error: ${message.text()}`);
});
page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
page.on('requestfailed', (request) =>
  problems.push(`request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText}`));
page.on('response', (response) => {
  if (response.status() === 304 && new URL(response.url()).pathname === '/v1/admin/experiments')
    unchangedPolls++;
  if (response.status() < 400 || (allowed401 && response.status() === 401)) return;
  const path = new URL(response.url()).pathname;
  const method = response.request().method();
  const index = expectedFailures.findIndex(([m, prefix, status]) =>
    m === method && path.startsWith(prefix) && status === response.status());
  if (index >= 0) expectedFailures.splice(index, 1);
  else problems.push(`HTTP ${response.status()}: ${method} ${path}`);
});

// Polling may re-render the drawer or table between finding a button and clicking it; finding
// and clicking in one page task never clicks a node that was just replaced.
async function press(selector) {
  await page.waitForSelector(selector);
  await page.$eval(selector, (element) => element.click());
}
const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`) });
const text = (selector) => page.$eval(selector, (element) => element.textContent.trim());
const waitText = (selector, wanted, timeout = 15000) => page.waitForFunction(
  (s, w) => document.querySelector(s)?.textContent.includes(w), { timeout }, selector, wanted);

async function rest(method, path, body, headers = {}) {
  const response = await fetch(base + path, {
    method, headers: { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${JSON.stringify(data)}`);
  return data;
}

/// Assigns `count` units through the REST API and converts units of each variant at the
/// given rate (by variant key), deterministically; the last unit always converts so that a
/// bandit's posterior counts every unit. Returns {key: {exposures, conversions}}.
async function sendTraffic(id, count, rates, prefix) {
  const units = Array.from({ length: count }, (_, i) => ({ unit: `${prefix}-${i}` }));
  const { assignments } = await rest('POST', `/~default/experiments/${id}/assign`, { units });
  const counts = {};
  const seen = {};
  const events = [];
  assignments.forEach((assignment, i) => {
    const key = assignment.variant;
    counts[key] ||= { exposures: 0, conversions: 0 };
    seen[key] = (seen[key] || 0) + 1;
    counts[key].exposures++;
    // Every 1/rate-th unit of a variant converts: an exact rate with no randomness.
    const converts = Math.floor(seen[key] * rates[key]) > Math.floor((seen[key] - 1) * rates[key]);
    if (converts || i === count - 1) {
      counts[key].conversions++;
      events.push({ unit: units[i].unit, metric: 'conversion' });
    }
  });
  await rest('POST', `/~default/experiments/${id}/track`, { events });
  return counts;
}

async function fillNewForm({ name, hypothesis, bandit, variants }) {
  await press('#tab-new');
  await page.waitForSelector('#new-experiment');
  await page.type('#name', name);
  await page.type('#hypothesis', hypothesis);
  if (bandit) await press('#bandit');
  const rows = await page.$$('.variant-row');
  for (const [index, [variantName, weight]] of variants.entries()) {
    const nameInput = await rows[index].$('[name=variant-name]');
    const weightInput = await rows[index].$('[name=variant-weight]');
    await nameInput.click({ clickCount: 3 });
    await nameInput.type(variantName);
    await weightInput.click({ clickCount: 3 });
    await weightInput.type(String(weight));
  }
}

// ---- the list, empty, and `/` leading there --------------------------------------------------
await page.goto(`${base}/`, { waitUntil: 'networkidle0' });
assert.equal(new URL(page.url()).pathname, '/experiments');
assert.equal(await text('#stat-total .card-value'), '0');
assert.match(await text('#main .empty'), /No experiments yet/);

// ---- New: a server validation error shown at the field it names, then the real thing -------
await fillNewForm({
  name: 'Checkout button', hypothesis: 'A green checkout button makes more people buy, ' +
    'because it stands out against the page',
  variants: [['Control', 0.5], ['Green', 1.5]],
});
expectedFailures.push(['POST', '/v1/admin/experiments', 422]);
await press('#new-experiment [type=submit]');
const rowError = '.variant-row:nth-of-type(2) .field-error';
await waitText(rowError, 'traffic_weight');
assert.match(await text(rowError), /variants\[1\]\.traffic_weight: must be a fraction/);
assert.equal(await page.$eval('.variant-row:nth-of-type(2) [name=variant-weight]',
  (input) => input.getAttribute('aria-invalid')), 'true');
await shot('new-validation-error');
const weight = await page.$('.variant-row:nth-of-type(2) [name=variant-weight]');
// Each weight a fraction, but not a whole between them: said at the variants, before launch.
await weight.click({ clickCount: 3 });
await weight.type('0.9');
expectedFailures.push(['POST', '/v1/admin/experiments', 422]);
await press('#new-experiment [type=submit]');
await waitText('#variants-error', 'add up to');
assert.match(await text('#variants-error'), /traffic weights add up to 1\.4, not 1/);
await weight.click({ clickCount: 3 });
await weight.type('0.5');
await press('#new-experiment [type=submit]');
await page.waitForFunction(() => /^\/experiments\/.+/.test(location.pathname));
const id = decodeURIComponent(new URL(page.url()).pathname.split('/')[2]);
await page.waitForSelector('#drawer:not([hidden]) .badge-draft');
assert.equal(await text('#drawer-title'), 'Checkout button');
assert.deepEqual(await page.$$eval('#drawer table.variants tbody th', (cells) =>
  cells.map((cell) => cell.textContent)), ['Control', 'Green']);
assert.deepEqual(await page.$$eval('#drawer .weight', (cells) => cells.map((c) => c.textContent)),
  ['50%', '50%']);
// A section the drawer leaves out (no analysis, no bandit) leaves nothing behind.
assert.doesNotMatch(await text('#drawer'), /null|undefined/);
await shot('drawer-draft');

// ---- Launch from the drawer; traffic through the API; Analyze; the winner -------------------
// The console sets no seed, and the random id as one would fire SRM 1 run in 1000.
const seeded = await rest('PATCH', `/~default/experiments/${id}`, { seed: 'checkout-button-1' },
  { 'If-Match': '*' });
assert.equal(seeded.seed, 'checkout-button-1');
await press('#drawer [data-action=launch]');
await page.waitForSelector('#drawer .badge-running');
// Traffic arrives in three batches and each is analyzed: three looks of the always-valid test.
const counts = {};
for (const [look, batch] of [[1, 600], [2, 1200], [3, 1200]]) {
  const sent = await sendTraffic(id, batch, { control: 0.1, green: 0.2 }, `buyer${look}`);
  for (const [key, { exposures, conversions }] of Object.entries(sent)) {
    counts[key] ||= { exposures: 0, conversions: 0 };
    counts[key].exposures += exposures;
    counts[key].conversions += conversions;
  }
  await press('#drawer [data-action=analyze]');
  await page.waitForFunction((n) => document.querySelectorAll('#looks svg .p-marker').length === n,
    { timeout: 15000 }, look);
}
await page.waitForSelector('#analysis #recommendation');
await waitText('#drawer .badges', 'winner: Green');
assert.match(await text('#recommendation'), /Green beats Control/);
assert.match(await text('#srm dd'), /^ok \(p = /);
assert.ok(Number(await text('#p-value dd')) < 0.001, await text('#p-value dd'));
assert.ok(Number(await text('#log-lr dd')) > 3, await text('#log-lr dd'));
assert.match(await text('#lift dd'), /^\+\d+\.\d%$/);
for (const key of ['control', 'green']) {
  const row = `#analysis tr[data-variant=${key}]`;
  assert.equal(await text(`${row} .exposures`), String(counts[key].exposures));
  assert.equal(await text(`${row} .conversions`), String(counts[key].conversions));
}
assert.equal(await text('#drawer tr.winner th'), 'Green winner');
await page.waitForSelector('#analysis svg.lift-plot circle.estimate');
assert.match(await page.$eval('#analysis svg.lift-plot desc', (d) => d.textContent),
  /Green: lift \+\d+\.\d%, 95% CI \+\d+\.\d% to \+\d+\.\d%, always-valid/);
await shot('drawer-analysis');
// The looks: one point per Analyzed event of the REST history, each at that look's numbers.
const analyzed = (await rest('GET', `/~default/experiments/${id}/events`)).items
  .filter((event) => event.type === 'Experiment.Analyzed').map((event) => event.data);
assert.deepEqual(analyzed.map((look) => look.units), [600, 1800, 3000]);
const formatP = (p) => (p >= 0.001 ? p.toFixed(4) : p.toExponential(2));
const pct = (value) => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}%`;
const pointsDrawn = await page.$$eval('#looks svg .p-marker', (marks) => marks.map((mark) => {
  const box = mark.getBBox();
  return { variant: mark.dataset.variant, look: Number(mark.dataset.look), y: box.y + box.height / 2 };
}));
assert.deepEqual(pointsDrawn.map(({ variant, look }) => [variant, look]),
  [['green', 1], ['green', 2], ['green', 3]]);
assert.equal(await page.$$eval('#looks svg line.interval', (bars) => bars.length), 3);
// Log scale, 1 at the top: the running minimum never rises, and the last look is below alpha.
const alphaY = await page.$eval('#looks svg line.alpha', (line) => Number(line.getAttribute('y1')));
const running = analyzed.map((look) => look.comparisons[0].alwaysValidPValueRunningMin);
for (let i = 1; i < 3; i++) {
  assert.ok(running[i] <= running[i - 1], `running minimum ${running}`);
  assert.ok(pointsDrawn[i].y >= pointsDrawn[i - 1].y - 0.01, `drawn ${JSON.stringify(pointsDrawn)}`);
}
assert.ok(running[2] < 0.05 && pointsDrawn[2].y > alphaY, `last look below alpha: ${running[2]}`);
const tableRows = await page.$$eval('#looks .looks-table tbody tr', (trs) => trs.map((tr) =>
  [tr.children[2].textContent, tr.querySelector('.p').textContent,
    tr.querySelector('.p-current').textContent, tr.querySelector('.ci').textContent]));
assert.deepEqual(tableRows, analyzed.map((look) => {
  const c = look.comparisons[0];
  return [String(look.units), formatP(c.alwaysValidPValueRunningMin),
    formatP(c.alwaysValidPValueCurrentLook), `${pct(c.alwaysValidCI[0])} to ${pct(c.alwaysValidCI[1])}`];
}));
const looksDesc = await page.$eval('#looks svg desc', (d) => d.textContent);
assert.ok(looksDesc.includes(`look 3 (`) && looksDesc.includes(`3000 units): Green always-valid p ` +
  `${formatP(running[2])}`), looksDesc);
assert.match(await text('#looks figcaption'), /α = 0\.05 line.*Green = solid line, circles/);
await press('#looks .looks-table summary');
await page.$eval('#looks', (section) => section.scrollIntoView());
await shot('drawer-looks');

// ---- Stop; the list and its cards ------------------------------------------------------------
// The looks found Green better, so Stop ends the experiment with that winner (Concluded), and
// the "Winners found" card counts it.
await press('#drawer [data-action=stop]');
await page.waitForSelector('#drawer .badge-stopped');
assert.equal(await page.$('#drawer [data-action=stop]'), null, 'no Stop once stopped');
// The audit log: who did what, newest first.
await press('#history summary');
// The history was read for the looks before the stop; it is re-read for the new version.
await waitText('#history table.history', 'Experiment.Concluded');
const events = await page.$$eval('#history .event-type', (cells) => cells.map((c) => c.textContent));
for (const type of ['Experiment.Created', 'Experiment.Started', 'Experiment.Analyzed',
  'Experiment.Concluded'])
  assert.ok(events.includes(type), `${type} in ${events}`);
assert.equal(events[0], 'Experiment.Concluded');
await shot('drawer-history');
await page.keyboard.press('Escape');
await page.waitForSelector('#drawer', { hidden: true });
assert.equal(new URL(page.url()).pathname, '/experiments');

// ---- A bandit: alpha and beta in the drawer, refreshed live, and its weights ---------------
await fillNewForm({
  name: 'Pricing headline', hypothesis: 'A price-first headline sells more plans',
  bandit: true, variants: [['Words', 0.5], ['Price', 0.5]],
});
await press('#new-experiment [type=submit]');
await page.waitForSelector('#drawer:not([hidden]) .badge-bandit');
const banditId = decodeURIComponent(new URL(page.url()).pathname.split('/')[2]);
await press('#drawer [data-action=launch]');
await page.waitForSelector('#drawer .badge-running');
const banditCounts = await sendTraffic(banditId, 400, { words: 0.05, price: 0.3 }, 'visitor');
// No click: the open drawer picks the new posterior up by polling.
const alphaPrice = String(banditCounts.price.conversions + 1);
await waitText('#drawer tr[data-variant=price] .alpha', alphaPrice);
for (const key of ['words', 'price']) {
  const { exposures, conversions } = banditCounts[key];
  assert.equal(await text(`#drawer tr[data-variant=${key}] .alpha`), String(conversions + 1));
  assert.equal(await text(`#drawer tr[data-variant=${key}] .beta`), String(exposures - conversions + 1));
}
await press('#drawer [data-action=analyze]');
await page.waitForSelector('#analysis #recommendation');
assert.match(await text('#srm'), /not applicable/);
const banditWeights = await page.$$eval('#drawer table.variants tbody tr td:last-child',
  (cells) => cells.map((cell) => Number.parseFloat(cell.textContent)));
assert.equal(banditWeights.length, 2);
assert.ok(banditWeights[1] > banditWeights[0], `Price gets more traffic: ${banditWeights}`);
assert.ok(Math.abs(banditWeights[0] + banditWeights[1] - 100) < 0.2, `${banditWeights}`);
// The weights over time: one line per arm from the Reweighted events, the last point the
// weights the table shows, told apart by dash and marker shape, every number in the <desc>.
const reweighted = (await rest('GET', `/~default/experiments/${banditId}/events`)).items
  .filter((event) => event.type === 'Experiment.Reweighted');
assert.ok(reweighted.length >= 2, `analyze recomputed the weights: ${reweighted.length}`);
await page.waitForFunction((n) => document.querySelectorAll('#weights svg circle.marker').length === n,
  { timeout: 15000 }, reweighted.length);
const plotted = await page.$$eval('#weights svg.weights-plot polyline.series', (lines) =>
  lines.map((line) => [line.getAttribute('points').split(' ').length,
    line.getAttribute('stroke-dasharray')]));
assert.equal(plotted.length, 2);
assert.equal(plotted[0][0], reweighted.length);
assert.notEqual(plotted[0][1], plotted[1][1], 'the two lines differ by dash');
assert.equal(await page.$$eval('#weights svg rect.marker', (marks) => marks.length), reweighted.length);
const weightsDesc = await page.$eval('#weights svg desc', (d) => d.textContent);
const last = reweighted.at(-1).data.weights;
assert.ok(weightsDesc.endsWith(`Words ${(last[0] * 100).toFixed(1)}%, Price ${(last[1] * 100).toFixed(1)}%`),
  weightsDesc);
assert.match(await text('#weights figcaption'), /Words = solid line, circles; Price = dashed line, squares/);
await shot('drawer-bandit');
await page.keyboard.press('Escape');
await page.waitForSelector('#drawer', { hidden: true });

// ---- The list: cards, badges, actions by state -----------------------------------------------
await waitText('#stat-total .card-value', '2');
assert.equal(await text('#stat-running .card-value'), '1');
assert.equal(await text('#stat-winners .card-value'), '1');
const rows = await page.$$eval('table.experiments tbody tr', (trs) => trs.map((tr) => ({
  name: tr.querySelector('.name').textContent,
  status: tr.querySelector('.badge').textContent,
  hypothesis: tr.querySelector('.hypothesis').textContent,
  variants: tr.children[3].textContent,
  bandit: tr.children[4].textContent,
  actions: [...tr.querySelectorAll('[data-action]')].map((a) => a.textContent),
})));
assert.deepEqual(rows.map((row) => row.name).sort(), ['Checkout button', 'Pricing headline']);
const byName = Object.fromEntries(rows.map((row) => [row.name, row]));
assert.deepEqual(byName['Checkout button'], { name: 'Checkout button', status: 'stopped',
  hypothesis: 'A green checkout button makes more people buy, because it s…', variants: '2',
  bandit: '', actions: ['View'] });
assert.deepEqual(byName['Pricing headline'], { name: 'Pricing headline', status: 'running',
  hypothesis: 'A price-first headline sells more plans', variants: '2', bandit: 'Thompson',
  actions: ['Stop', 'View'] });
await shot('experiments');

// ---- Feature flags: status, rollout percentage, linked experiment, enable/disable -------------
await rest('POST', '/~default/featureFlags', { key: 'green-checkout', name: 'Green checkout',
  type: 'Boolean', experiment: id,
  variants: [{ key: 'control', value: false }, { key: 'green', value: true }] });
await press('nav a[data-route="/flags"]');
await page.waitForSelector('table.flags tr[data-id] .badge');
const flagRow = 'table.flags tbody tr';
assert.match(await text(`${flagRow} td:nth-child(4)`), /Checkout button/);
await press(`${flagRow} [data-action=enable]`);
await waitText(`${flagRow} .badge`, 'enabled');
const percentageInput = await page.$(`${flagRow} input.percentage`);
await percentageInput.click({ clickCount: 3 });
await percentageInput.type('30');
await Promise.all([
  page.waitForResponse((response) => response.request().method() === 'PATCH' && response.ok()),
  press(`${flagRow} [data-action=set-rollout]`),
]);
const stored = await rest('GET', '/~default/featureFlags/green-checkout');
assert.equal(stored.rolloutPercentage, 30);
await press(`${flagRow} [data-action=disable]`);
await waitText(`${flagRow} .badge`, 'disabled');
// The flag's own history, newest first, as the REST history has it.
await press(`${flagRow} [data-action=history]`);
await page.waitForSelector('table.flags tr.flag-history table.history');
const flagEvents = (await rest('GET', '/~default/featureFlags/green-checkout/events')).items
  .map((event) => event.type).reverse();
assert.ok(flagEvents.includes('FeatureFlag.Enabled') && flagEvents[0] === 'FeatureFlag.Disabled',
  `${flagEvents}`);
assert.deepEqual(await page.$$eval('tr.flag-history .event-type', (cells) => cells.map((c) => c.textContent)),
  flagEvents);
assert.equal(await page.$eval(`${flagRow} [data-action=history]`, (b) => b.getAttribute('aria-expanded')), 'true');
await shot('flags');
await press('nav a[data-route="/experiments"]');
await page.waitForSelector('table.experiments');

// ---- Launch from the list; keyboard: View opens the drawer with Enter ------------------------
await fillNewForm({ name: 'Onboarding email', hypothesis: 'A shorter email', variants: [['A', 0.5], ['B', 0.5]] });
await press('#new-experiment [type=submit]');
await page.waitForSelector('#drawer:not([hidden]) .badge-draft');
await page.keyboard.press('Escape');
await page.waitForSelector('#drawer', { hidden: true });
const draftRow = 'table.experiments tr:has(.badge-draft)';
await press(`${draftRow} [data-action=launch]`);
await page.waitForFunction(() => !document.querySelector('table.experiments .badge-draft'));
assert.equal(await text('#stat-running .card-value'), '2');
await page.focus('table.experiments tbody tr:first-child [data-action=view]');
await page.keyboard.press('Enter');
await page.waitForSelector('#drawer:not([hidden])');
assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')),
  'Close the drawer', 'focus moves into the drawer');
// A modal dialog: Tab and Shift+Tab cycle through the drawer and never reach the page behind.
const focusTrail = [];
for (const keys of [...Array(8).fill(['Tab']), ...Array(8).fill(['Shift', 'Tab'])]) {
  if (keys.length === 2) {
    await page.keyboard.down('Shift');
    await page.keyboard.press('Tab');
    await page.keyboard.up('Shift');
  } else await page.keyboard.press('Tab');
  focusTrail.push(await page.evaluate(() => {
    const element = document.activeElement;
    const place = document.querySelector('#drawer').contains(element) ? 'drawer' : 'outside';
    return `${place}:${element.tagName.toLowerCase()}`;
  }));
}
assert.deepEqual(focusTrail.filter((step) => step.startsWith('outside:') && step !== 'outside:body'),
  [], `focus stays in the drawer: ${focusTrail}`);
const viewedId = await page.$eval('#drawer', (drawer) => drawer.dataset.id);
await page.keyboard.press('Escape');
await page.waitForSelector('#drawer', { hidden: true });
// Focus is back on the View link that opened the drawer, though the list re-rendered under it.
assert.equal(await page.evaluate(() => document.activeElement.closest('tr')?.dataset.id), viewedId);
assert.equal(await page.evaluate(() => document.activeElement.dataset.action), 'view');

// The tabs follow the ARIA tabs pattern: one Tab stop, arrow keys switch and select.
assert.deepEqual(await page.$$eval('[role=tab]', (tabs) => tabs.map((tab) => tab.tabIndex)), [0, -1]);
await page.focus('#tab-experiments');
await page.keyboard.press('ArrowRight');
await page.waitForSelector('#new-experiment');
assert.equal(new URL(page.url()).pathname, '/new');
assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-new');
await page.keyboard.press('ArrowLeft');
await page.waitForSelector('table.experiments');
assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-experiments');

// ---- A narrow screen -------------------------------------------------------------------------
await page.setViewport({ width: 390, height: 844 });
await shot('experiments-narrow');
const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px on a phone`);
// The drawer with its plots fits a phone's width too.
await press(`table.experiments tr[data-id="${id}"] [data-action=view]`);
await page.waitForSelector('#drawer:not([hidden]) #looks svg .p-marker');
if (!await page.$eval('#history', (details) => details.open)) await press('#history summary');
await page.waitForSelector('#history table.history');
await press('#looks .looks-table summary');
// Nothing in the drawer (tables, plots, the history) reaches past its right edge, but for
// what a box of its own scrolls (the looks' table).
const drawerOverflow = await page.$eval('#drawer', (drawer) => {
  const edge = drawer.getBoundingClientRect().right - Number.parseFloat(getComputedStyle(drawer).paddingRight);
  const wide = [...drawer.querySelectorAll('*')]
    .filter((element) => !element.parentElement.closest('#drawer .scroll') &&
      element.getBoundingClientRect().right > edge + 0.5)
    .map((element) => `${element.tagName.toLowerCase()}.${element.className.baseVal ?? element.className} ` +
      `(${Math.round(element.getBoundingClientRect().right - edge)}px)`);
  return wide.slice(0, 12);
});
assert.deepEqual(drawerOverflow, [], 'nothing in the drawer is wider than a phone');
// Hiding the list's columns on a phone hides no column of another table (headings stay above
// their cells).
const shownColumns = await page.$$eval('#drawer table', (tables) => tables.map((table) =>
  [...table.rows].map((row) => [...row.cells].filter((cell) => getComputedStyle(cell).display !== 'none')
    .length)));
for (const columns of shownColumns)
  assert.ok(columns.every((n) => n === columns[0]), `columns per row: ${JSON.stringify(shownColumns)}`);
await page.$eval('#analysis svg.lift-plot', (plot) => plot.scrollIntoView());
await shot('drawer-looks-narrow');
await page.keyboard.press('Escape');
await page.waitForSelector('#drawer', { hidden: true });
// An error in the drawer is shown above it, not under it (the drawer covers a phone's width):
// variants added one by one whose weights add up to 1.4 are stored (more may follow), and
// refused at launch by the shipped starting hook.
const lopsided = await rest('POST', '/v1/admin/experiments', { name: 'Lopsided', project_id: 'default' });
for (const [name, weight] of [['A', 0.9], ['B', 0.5]])
  await rest('POST', `/v1/admin/experiments/${lopsided.id}/variants`, { name, traffic_weight: weight });
await page.goto(`${base}/experiments/${lopsided.id}`, { waitUntil: 'networkidle0' });
expectedFailures.push(['POST', `/v1/admin/experiments/${lopsided.id}/launch`, 422]);
await press('#drawer [data-action=launch]');
await waitText('#alert', 'add up to');
assert.ok(await page.$eval('#alert', (alert) => {
  const box = alert.getBoundingClientRect();
  return alert.contains(document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2));
}), 'the error bar is visible over the drawer');
await press('#alert button');
await page.keyboard.press('Escape');
await page.waitForSelector('#drawer', { hidden: true });
await page.setViewport({ width: 1280, height: 1080 });
await press('#tab-new');
await shot('new');

// ---- Sign in: a listener that requires a token serves the page, not the data --------------
const token = 'console-e2e-token-0123456789';
const tokenDir = mkdtempSync(join(tmpdir(), 'verdict-console-token-'));
writeFileSync(join(tokenDir, 'token'), token, { mode: 0o600 });
const guarded = spawn(process.env.VERDICT_BINARY, ['serve', '--db', join(tokenDir, 'v.db'),
  '--no-stdio', '--listen', 'http://0.0.0.0:0', '--token-file', join(tokenDir, 'token'),
  '--allow-origin', '*'], { stdio: ['ignore', 'ignore', 'pipe'] });
process.on('exit', () => guarded.kill());
const guardedPort = await new Promise((resolve, reject) => {
  let log = '';
  guarded.stderr.on('data', (chunk) => {
    log += chunk;
    const match = log.match(/listening on http:\/\/0\.0\.0\.0:(\d+)/);
    if (match) resolve(match[1]);
  });
  guarded.on('exit', (code) => reject(new Error(`verdict exited with ${code}: ${log}`)));
});
const guardedBase = `http://127.0.0.1:${guardedPort}`;
allowed401 = true;   // every poll before the right key is refused
await page.goto(`${guardedBase}/experiments`, { waitUntil: 'load' });
await waitText('#alert', 'Error 401');
assert.match(await text('#alert'), /Sign in with an API key/);
await shot('signin-needed');
await page.type('#api-key', 'wrong-key');
await press('#signin [type=submit]');
await page.waitForFunction(() => !document.querySelector('#signout').hidden);
await waitText('#alert', 'wrong token');
await press('#signout');
await page.type('#api-key', token);
await press('#signin [type=submit]');
await page.waitForSelector('#stat-total');
await page.waitForFunction(() => document.querySelector('#alert').hidden);
allowed401 = false;
assert.equal(await text('#stat-total .card-value'), '0');
assert.equal(await page.evaluate(() => sessionStorage.getItem('verdict.apiKey')), token);
assert.equal(await page.evaluate(() => localStorage.length), 0, 'the key is kept in the tab only');

assert.ok(unchangedPolls > 0, 'an unchanged list is a 304, not a new answer');
assert.deepEqual(expectedFailures, [], 'every provoked failure happened');
assert.deepEqual(problems, [], 'no console errors or failed requests');
await browser.close();
console.log(`console e2e: ok (screenshots in ${shots})`);
process.exit(0);
