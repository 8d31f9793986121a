// SPDX-License-Identifier: Apache-2.0
// The emulator's /activate page works for a person: headless Chromium,
// driven through ChromeDriver's WebDriver API, opens the URL that a waiting
// `trakt-device-auth login` shows, types the code it shows, presses Approve
// (or Deny), and the login finishes accordingly.
//
// Needs: TDA_EMULATOR, TDA_CLI, chromium and chromedriver (Debian's packages).
// Node's own fetch and child_process only: no npm packages.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const EMULATOR = process.env.TDA_EMULATOR;
const CLI = process.env.TDA_CLI;
const CHROMEDRIVER = process.env.CHROMEDRIVER || '/usr/bin/chromedriver';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.TDA_SCREENSHOTS; // optional folder for PNGs of each page
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

// Time limits are for an idle machine, scaled like every bound in the tests
// (tests/slow.h): $TDA_TEST_SLOW, a whole number, 1 when unset.
const SLOW = Number(process.env.TDA_TEST_SLOW || '1');
if (!Number.isInteger(SLOW) || SLOW < 1 || SLOW > 1000) {
  const value = process.env.TDA_TEST_SLOW;
  console.log(`FAILED: TDA_TEST_SLOW=${value}: want a whole number from 1 to 1000`);
  process.exit(1);
}
const bound = (ms) => ms * SLOW;

let passed = 0;
let failed = 0;
const children = [];
const scratch = [];

function check(ok, what) {
  if (ok) {
    passed++;
    console.log(`ok: ${what}`);
  } else {
    failed++;
    console.log(`FAILED: ${what}`);
  }
}

function start(cmd, args, env) {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return child;
}

// Resolves with the first stdout line for which pick() returns a value.
function firstLine(child, pick, what, ms = bound(15000)) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const value = pick(line);
      if (value !== undefined) {
        clearTimeout(timer);
        resolve(value);
      }
    });
    child.on('exit', (code) => reject(new Error(`${what}: process exited with ${code}`)));
  });
}

function exitCode(child, ms = bound(15000)) {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => reject(new Error('timed out waiting for exit')), ms);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

async function webdriver(base, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`WebDriver ${method} ${path}: ${JSON.stringify(json.value)}`);
  return json.value;
}

async function startBrowser() {
  const port = 9500 + Math.floor(Math.random() * 400);
  const driver = start(CHROMEDRIVER, [`--port=${port}`]);
  await firstLine(driver, (l) => (/started successfully/i.test(l) ? true : undefined), 'chromedriver');
  const base = `http://127.0.0.1:${port}`;
  const profile = mkdtempSync(join(tmpdir(), 'tda-chromium-'));
  scratch.push(profile);
  const session = await webdriver(base, 'POST', '/session', {
    capabilities: {
      alwaysMatch: {
        browserName: 'chrome',
        'goog:chromeOptions': {
          binary: CHROMIUM,
          // As root in a closed network: no sandbox, nothing that phones home.
          args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
            '--disable-background-networking', '--disable-component-update', '--disable-sync',
            '--disable-dev-shm-usage', `--user-data-dir=${profile}`, '--window-size=800,600'],
        },
      },
    },
  });
  const browser = { base: `${base}/session/${session.sessionId}`, driver };
  // A click on Approve submits a form: the result page may still be loading when the
  // next element is looked up, so lookups wait for it (up to 10 s) instead of failing.
  await webdriver(browser.base, 'POST', '/timeouts', { implicit: bound(10000) });
  return browser;
}

async function screenshot(browser, name) {
  if (!SHOTS) return;
  const png = await webdriver(browser.base, 'GET', '/screenshot');
  writeFileSync(join(SHOTS, `${name}.png`), Buffer.from(png, 'base64'));
}

async function find(browser, css) {
  const found = await webdriver(browser.base, 'POST', '/element', { using: 'css selector', value: css });
  if (!found || !found[ELEMENT]) throw new Error(`no element ${css}: ${JSON.stringify(found)}`);
  return found[ELEMENT];
}

async function startEmulator() {
  const emu = start(EMULATOR, ['--port', '0', '--interval', '0.3', '--client-id', 'browser-id',
    '--client-secret', 'browser-secret', '--quiet']);
  return firstLine(emu, (l) => (l.startsWith('listening on ') ? l.slice(13) : undefined), 'emulator');
}

// One person at the page: open the URL login showed, type the code, press a button.
async function scenario(browser, button, expectedExit, expectedResult) {
  const url = await startEmulator();
  const home = mkdtempSync(join(tmpdir(), 'tda-browser-home-'));
  scratch.push(home);
  const login = start(CLI, ['login', '--json', '--no-qr'], {
    HOME: home, XDG_CONFIG_HOME: join(home, '.config'), TRAKT_CLIENT_ID: 'browser-id',
    TRAKT_CLIENT_SECRET: 'browser-secret', TRAKT_OAUTH_URL: url,
  });
  const shown = await firstLine(login, (l) => {
    try {
      const ev = JSON.parse(l);
      return ev.event === 'code' ? ev : undefined;
    } catch {
      return undefined;
    }
  }, 'the code from login');
  check(shown.verification_url === `${url}/activate`, `login shows the emulator's page (${shown.verification_url})`);

  await webdriver(browser.base, 'POST', '/url', { url: shown.verification_url });
  const input = await find(browser, '#code');
  await webdriver(browser.base, 'POST', `/element/${input}/clear`, {});
  // Type it as a person might: lower case, with a dash in the middle.
  const typed = `${shown.user_code.slice(0, 4)}-${shown.user_code.slice(4)}`.toLowerCase();
  await webdriver(browser.base, 'POST', `/element/${input}/value`, { text: typed });
  await screenshot(browser, `${button}-typed`);
  await webdriver(browser.base, 'POST', `/element/${await find(browser, `#${button}`)}/click`, {});
  const result = await webdriver(browser.base, 'GET', `/element/${await find(browser, '#result')}/text`);
  await screenshot(browser, `${button}-result`);
  check(result.includes(expectedResult), `the page says "${expectedResult}" after ${button} (it says "${result}")`);

  const code = await exitCode(login);
  check(code === expectedExit, `login exits ${expectedExit} after ${button} (got ${code})`);
}

async function main() {
  if (!EMULATOR || !CLI) throw new Error('TDA_EMULATOR and TDA_CLI must be set (ctest sets them)');
  const browser = await startBrowser();
  try {
    await scenario(browser, 'approve', 0, 'Approved');
    await scenario(browser, 'deny', 3, 'Denied');
  } finally {
    await webdriver(browser.base, 'DELETE', '', undefined).catch(() => {});
  }
}

let fatal = null;
try {
  await main();
} catch (err) {
  fatal = err;
  failed++;
  console.log(`FAILED: ${err.message}`);
}
for (const child of children) child.kill('SIGKILL');
for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(fatal || failed ? 1 : 0);
