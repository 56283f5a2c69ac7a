// The web console in a real browser (Debian's chromium, driven by playwright-core, loopback only) against a gateway
// started as `npm start` starts it, with kamailio calling in over mutual TLS and sipp on both sides:
// a wrong token is refused with the API's 401 message; signed in, a TLS peer is added with its permissions for
// kamailio's certificate identity, and the next calls from kamailio get them (international allowed, local denied:
// before, the unknown certificate was refused); the denied call is found in the CDR view; a live sipp call is hung
// up from the calls page (both sipp sides get the BYE) and kamailio's TLS connection is cleared from the connections
// page; a save over an entry someone else changed meanwhile is refused (409). Each page is saved as a screenshot
// in reports/console/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchChromium } from '../../support/chromium.js';
import { kamailioVersion } from '../../support/kamailio.js';
import { refusedCallScenario } from '../../support/refused-call-scenario.js';
import { runSipp, startSipp } from '../../support/sipp.js';
import { repoRoot } from '../../support/trunkgate-process.js';
import { GW_NAME, SBC_NAME, TOKEN, startConsoleRig } from './console-rig.js';

const SHOTS = join(repoRoot, 'reports', 'console');

async function open(page: Page, route: string, heading: string): Promise<void> {
  await page.click(`nav a[href="#/${route}"]`);
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

test(`web console in chromium: sign in, add a TLS peer that kamailio's (${kamailioVersion()}) next calls get, find the denied call's CDR, hang up a live sipp call, clear a connection`, { timeout: 120_000 }, async (t) => {
  // The UAS answers two calls: kamailio's international call, and the live call hung up from the console.
  const rig = await startConsoleRig(t, { uasCalls: 2 });
  const { page, offLoopback, pageErrors } = await launchChromium(t);
  const viaKamailio = `127.0.0.1:${rig.kam.port('udp')}`;
  const refused = refusedCallScenario(rig.dir, 403, /cause=403/);

  // Before: kamailio's certificate names no TLS peer, and the carrier tenant refuses unknown peers.
  const before = await runSipp({ scenario: { file: refused }, remote: viaKamailio, service: '+442071230000', calls: 1, timeoutSec: 20 });
  assert.equal(before.stats.successful, 1, `403 expected before the TLS peer exists: ${before.errors.slice(0, 800)}`);
  const unknown = (await rig.gw.waitFor((l) => l.msg === 'cdr' && (l.cdr as { cause?: string }).cause === 'unknown-peer', 10_000)).line.cdr;
  assert.deepEqual([(unknown as { status?: number }).status, (unknown as { identities?: string[] }).identities], [403, [`dns:${SBC_NAME}`]]);

  // Sign in: a wrong token shows the API's 401 message; the right one opens the dashboard.
  await page.goto(`${rig.admin}/console/`);
  await page.fill('#token', 'not-the-token');
  await page.click('button[type=submit]');
  await page.getByRole('alert').filter({ hasText: 'a bearer token is required' }).waitFor();
  await page.fill('#token', TOKEN);
  await page.click('button[type=submit]');
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  await page.locator('.card', { hasText: 'Calls per second' }).locator('.card-value', { hasNotText: '…' }).waitFor();
  assert.equal(await page.evaluate('sessionStorage.getItem("trunkgate.token")'), TOKEN, 'the token is kept in sessionStorage');

  // A TLS peer for kamailio's identity: international allowed, local denied, on the carrier tenant.
  await open(page, 'tls-peers', 'TLS peers');
  await page.fill('#peer-identity', SBC_NAME);
  await page.fill('#peer-description', 'carrier SBC, added from the console');
  await page.selectOption('#perm-international', 'allow');
  await page.selectOption('#perm-local', 'deny');
  await page.check('#tenant-carrier');
  await page.click('form[aria-label="TLS peer"] button[type=submit]');
  await page.getByRole('status').filter({ hasText: `TLS peer ${SBC_NAME} added and applied` }).waitFor();
  await page.locator(`tr[data-row="${SBC_NAME}"]`, { hasText: '+international' }).waitFor();
  await shot(page, 'tls-peers');
  const peer = await rig.api('GET', `/config/tlsPeers/${SBC_NAME}`);
  assert.deepEqual(peer.body.value, { description: 'carrier SBC, added from the console', permissions: { international: true, local: false }, tenants: ['carrier'] });

  // The next calls from kamailio's certificate get those permissions.
  const intl = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: viaKamailio, service: '+442071234567', calls: 1, timeoutSec: 20 });
  assert.equal(intl.stats.successful, 1, `international call allowed by the new TLS peer: ${intl.errors.slice(0, 800)}`);
  const local = await runSipp({ scenario: { file: refused }, remote: viaKamailio, service: '2125551234', calls: 1, timeoutSec: 20 });
  assert.equal(local.stats.successful, 1, `local call denied by the new TLS peer: ${local.errors.slice(0, 800)}`);
  await rig.gw.waitFor(() => rig.cdrOf('+442071234567') !== undefined && rig.cdrOf('2125551234') !== undefined, 10_000);
  assert.deepEqual([rig.cdrOf('+442071234567')?.status, rig.cdrOf('+442071234567')?.tlsPeer], [200, SBC_NAME]);
  assert.deepEqual([rig.cdrOf('2125551234')?.status, rig.cdrOf('2125551234')?.cause], [403, 'denied:local']);

  // The CDR view, filtered by cause: the denied call, with its TLS peer.
  await open(page, 'cdrs', 'CDRs');
  await page.fill('#f-cause', 'denied');
  await page.click('form[aria-label="CDR filters"] button[type=submit]');
  await page.locator('[data-shown="cause=denied&limit=100"]').waitFor();
  const deniedRow = page.locator('tbody tr', { hasText: '2125551234' });
  await deniedRow.filter({ hasText: 'denied:local' }).filter({ hasText: SBC_NAME }).waitFor();
  assert.equal(await page.locator('tbody tr', { hasText: '+442071234567' }).count(), 0, 'the filter leaves out the connected call');
  await shot(page, 'cdrs');

  // A live call from the PBX side, listed on the calls page and hung up there: both sipp sides get the BYE.
  const uac = await startSipp({ scenario: { file: 'uac-call-callee-bye.xml' }, remote: `127.0.0.1:${rig.sipPort}`, service: '3001', calls: 1, timeoutSec: 30 });
  t.after(() => uac.stop());
  await open(page, 'dashboard', 'Dashboard');
  await page.locator('.card', { hasText: 'Calls now' }).locator('.card-value', { hasText: /^1$/ }).waitFor();
  await shot(page, 'dashboard');
  await open(page, 'calls', 'Live calls');
  const callRow = page.locator('tbody tr', { hasText: '3001' });
  await callRow.filter({ hasText: 'connected' }).waitFor();
  await shot(page, 'calls');
  await callRow.getByRole('button', { name: 'Hang up' }).click();
  await page.getByRole('status').filter({ hasText: 'BYE sent on both legs' }).waitFor();
  const [caller, called] = await Promise.all([uac.exited, rig.uas.exited]);
  assert.equal(caller.stats.successful, 1, `the caller got the BYE: ${caller.errors.slice(0, 800)}`);
  assert.equal(called.stats.successful, 2, `the called side got both BYEs: ${called.errors.slice(0, 800)}`);
  await rig.gw.waitFor(() => (rig.cdrOf('3001') as { cause?: string } | undefined)?.cause === 'admin', 10_000);

  // kamailio's TLS connection, cleared from the connections page.
  await open(page, 'connections', 'Connections');
  const conns = (await rig.api('GET', '/connections')).body.connections as Array<{ id: string; protocol: string; direction: string }>;
  const kamConn = conns.find((c) => c.protocol === 'tls' && c.direction === 'inbound');
  assert.ok(kamConn, `kamailio's TLS connection is in the table: ${JSON.stringify(conns)}`);
  const connRow = page.locator(`tr[data-row="${kamConn.id}"]`);
  await connRow.filter({ hasText: SBC_NAME }).waitFor();
  await shot(page, 'connections');
  await connRow.getByRole('button', { name: 'Clear' }).click();
  await page.getByRole('status').filter({ hasText: `connection ${kamConn.id} (tls inbound` }).waitFor();
  await connRow.waitFor({ state: 'detached' });
  const after = (await rig.api('GET', '/connections')).body.connections as Array<{ id: string }>;
  assert.ok(!after.some((c) => c.id === kamConn.id), 'the connection left the table');
  await rig.gw.waitFor((l) => typeof l.msg === 'string' && l.msg.includes(`connection ${kamConn.id}`) && l.msg.includes('closed by the administrator'), 10_000);

  // Two editors: the TLS peer is opened for editing, changed meanwhile through the API, and the console's save is
  // refused with 409 (its ETag is stale) instead of overwriting that change.
  await open(page, 'tls-peers', 'TLS peers');
  await page.locator(`tr[data-row="${SBC_NAME}"]`).getByRole('button', { name: 'Edit' }).click();
  const auth = { authorization: `Bearer ${TOKEN}` };
  const etag = (await fetch(`${rig.admin}/config/tlsPeers/${SBC_NAME}`, { headers: auth })).headers.get('etag')!;
  const put = await fetch(`${rig.admin}/config/tlsPeers/${SBC_NAME}`, {
    method: 'PUT', headers: { ...auth, 'content-type': 'application/json', 'if-match': etag },
    body: JSON.stringify({ value: { description: 'changed by another editor', permissions: { international: true, local: false }, tenants: ['carrier'] } }),
  });
  assert.equal(put.status, 200);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: 'ERR_CONFIG_ETAG_MISMATCH' }).filter({ hasText: 'Reload, then edit again' }).waitFor();
  assert.equal(((await rig.api('GET', `/config/tlsPeers/${SBC_NAME}`)).body.value as { description: string }).description, 'changed by another editor');

  // The other pages, each with what it must show, and their screenshots.
  const pages: Array<[string, string, string]> = [
    ['listeners', 'Listeners', String(rig.tlsPort)], ['tenants', 'Tenants', 'carrier'], ['dial-peers', 'Dial peers', '^3\\d{3}$'],
    ['tls-profiles', 'TLS profiles', 'edge'], ['certificates', 'Certificates', GW_NAME],
  ];
  for (const [route, heading, text] of pages) {
    await open(page, route, heading);
    await page.locator('tbody tr', { hasText: text }).first().waitFor();
    if (route === 'certificates') {
      // A CSR for the trustpoint, made from the console (POST /pki/csr): its PEM is shown to copy.
      const csr = page.locator('form[aria-label="Certificate signing request"]');
      await csr.locator('[name=subject]').fill(`CN=${GW_NAME}`);
      await csr.getByRole('button', { name: 'Make CSR' }).click();
      await csr.getByRole('status').filter({ hasText: 'CSR for trustpoint gw; a new key waits for the import' }).waitFor();
      assert.match(await csr.locator('textarea[readonly]').inputValue(), /^-----BEGIN CERTIFICATE REQUEST-----/);
    }
    await shot(page, route);
  }
  await page.click('nav button.signout');
  await page.locator('#token').waitFor();
  await shot(page, 'login');

  assert.deepEqual(offLoopback, [], 'the console asked for nothing beyond loopback');
  assert.deepEqual(pageErrors, [], 'no script error in the page');
});
