// The console's projects in headless Chromium: the projects acme and globex and a writer key of
// each are made with the CLI before `verdict serve` starts; signed in with acme's key the page
// acts in acme (the switcher says so) and creates an experiment there; signed in with globex's
// key, that experiment is nowhere (list, stat cards) and its address shows "not found". No
// console error, failed request or HTTP error status happens on the way.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { launchChromium, screenshotFolder } from './browser.mjs';
import { startHttpServer } from './http_server.mjs';

const shots = screenshotFolder();

const secrets = {};
const { base } = await startHttpServer('verdict-console-projects-', {
  prepare(db) {
    const cli = (...args) => execFileSync(process.env.VERDICT_BINARY, [...args, '--db', db],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    for (const project of ['acme', 'globex']) {
      cli('projects', 'create', project);
      secrets[project] = cli('keys', 'create', '--project', project, '--role', 'writer',
        '--name', `${project}-console`).trimEnd().split('\n').at(-1).trim();
    }
  },
});

const browser = await launchChromium();
const page = await browser.newPage();
await page.setViewport({ width: 1280, height: 900 });
const problems = [];
page.on('console', (message) => {
  if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
});
page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
page.on('requestfailed', (request) =>
  problems.push(`request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText}`));
page.on('response', (response) => {
  if (response.status() >= 400)
    problems.push(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`);
});

async function press(selector) {
  await page.waitForSelector(selector);
  await page.$eval(selector, (element) => element.click());
}
const text = (selector) => page.$eval(selector, (element) => element.textContent.trim());
const waitText = (selector, wanted) => page.waitForFunction(
  (s, w) => document.querySelector(s)?.textContent.includes(w), { timeout: 15000 }, selector, wanted);
const projectOptions = () => page.$$eval('#project option', (options) =>
  options.map((option) => [option.value, option.selected]));

async function signIn(project) {
  if (await page.$eval('#signout', (button) => !button.hidden)) await press('#signout');
  await page.type('#api-key', secrets[project]);
  await press('#signin [type=submit]');
  await page.waitForFunction((wanted) => document.querySelector('#project').value === wanted,
    { timeout: 15000 }, project);
  assert.deepEqual(await projectOptions(), [[project, true]],
    `a writer of ${project} may act in ${project} only`);
  assert.equal(await text('#project-role'), 'writer');
}

// Without a key a loopback caller is the default project's operator.
await page.goto(`${base}/experiments`, { waitUntil: 'load' });
await page.waitForSelector('#stat-total');
assert.deepEqual(await projectOptions(), [['default', true]]);
assert.equal(await text('#project-role'), 'operator');

// acme's key: the experiment made in the page is acme's.
await signIn('acme');
await press('#tab-new');
await page.waitForSelector('#new-experiment');
const name = 'Acme only checkout';
await page.type('#name', name);
await press('#new-experiment [type=submit]');
await page.waitForFunction(() => /^\/experiments\/[^/]+$/.test(location.pathname));
await page.waitForSelector('#drawer:not([hidden]) #drawer-title');
assert.equal(await text('#drawer-title'), name);
const id = decodeURIComponent(await page.evaluate(() => location.pathname.split('/')[2]));
await waitText('#stat-total .card-value', '1');
const inAcme = await fetch(`${base}/~acme/experiments/${encodeURIComponent(id)}`,
  { headers: { Authorization: `Bearer ${secrets.acme}` } });
assert.equal(inAcme.status, 200, 'the console created it in acme');
await press('#drawer [data-action=close]');

// globex's key: the acme experiment is not shown anywhere.
await signIn('globex');
await page.waitForSelector('p.empty');
assert.equal(await text('#stat-total .card-value'), '0');
assert.equal(await text('#stat-running .card-value'), '0');
assert.equal(await page.$(`tr[data-id="${id}"]`), null);
assert.ok(!(await page.evaluate(() => document.body.textContent)).includes(name),
  'the acme experiment\'s name is nowhere on globex\'s page');

// Its address (bookmarked, typed) is "not found" in globex.
await page.goto(`${base}/experiments/${encodeURIComponent(id)}`, { waitUntil: 'load' });
await page.waitForSelector('#drawer:not([hidden]) #not-found');
assert.equal(await page.$eval('#project', (select) => select.value), 'globex');
assert.equal(await text('#not-found'), `No experiment ${id} in the project globex.`);
assert.ok(!(await page.evaluate(() => document.body.textContent)).includes(name));
await page.screenshot({ path: join(shots, 'project-not-found.png') });

assert.deepEqual(problems, [], 'no console errors or failed requests');
await browser.close();
console.log(`console projects e2e: ok (screenshots in ${shots})`);
process.exit(0);
