// The loopback layout that stands in for drachtio-srf's docker testbed (test/docker-compose-testbed.yaml):
// each sipp UAS container becomes a local sipp on its own loopback address, port 5060.
// On Linux all of 127.0.0.0/8 is local on lo, so no alias needs to be configured.

/** compose service name → loopback address and the UAS scenario it runs (null: started by a test itself). */
export const uasHosts = {
  'sipp-uas-cancel': { ip: '127.0.0.12', scenario: 'uas-cancel.xml' },
  'sipp-uas': { ip: '127.0.0.13', scenario: 'uas.xml' },
  'sipp-uas-404': { ip: '127.0.0.14', scenario: 'uas-404.xml' },
  'sipp-uas-auth': { ip: '127.0.0.15', scenario: 'uas-auth.xml' },
  'sipp-uas-auth-register': { ip: '127.0.0.16', scenario: 'uas-auth-register.xml' },
  'sipp-uas-auth-register-no-realm': { ip: '127.0.0.17', scenario: 'uas-auth-register-no-realm.xml' },
  'sipp-uas-refer': { ip: '127.0.0.18', scenario: 'uas-refer.xml' },
  'sipp-uas-fast-reinvite': { ip: '127.0.0.20', scenario: 'uas-reinvite.xml' },
  'sipp-uas-reinvite-overlap': { ip: '127.0.0.21', scenario: 'uas-reinvite-overlap.xml' },
  'sipp-uas-302': { ip: '127.0.0.22', scenario: 'uas-302.xml' },
  'sipp-uas-prack': { ip: '127.0.0.23', scenario: 'uas-prack.xml' },
  'sipp-uas-bye-with-auth': { ip: '127.0.0.24', scenario: 'uas-bye-with-auth.xml' },
  'sipp-uas-reinvite-with-auth': { ip: '127.0.0.25', scenario: 'uas-reinvite-with-auth.xml' },
  'sipp-uas-options': { ip: '127.0.0.26', scenario: 'uas-options-expect-200.xml' },
  'sipp-uas-407-no-auth-header': { ip: '127.0.0.27', scenario: 'uas-407-no-auth-header.xml' },
  'sipp-uas-200-ok-no-contact-cancel': { ip: '127.0.0.28', scenario: 'uas-200-ok-no-contact-cancel.xml' },
  'sipp-uas-fast-update': { ip: '127.0.0.29', scenario: 'uas-update-with-sdp.xml' },
  // started by b2b.js through sippUas('uas.xml', 'sipp-uas-b-teardown'), not by compose
  'sipp-uas-b-teardown': { ip: '127.0.0.30', scenario: null },
};

/** The system under test (drachtio-sut) and the second server refer.js uses (drachtio-uas, 172.29.0.19). */
export const sut = { sipHost: '127.0.0.1', sipPort: 5060, controlPort: 9022, secret: 'cymru' };
export const referPeer = { sipHost: '127.0.0.19', sipPort: 5060, controlPort: 9062, secret: 'cymru' };

/** Files run, in test/index.js order, with the number of `ok` lines each must print. */
export const expected = [
  { name: 'unit', file: 'test/unit-tests/', runner: 'mocha', ok: 52 },
  { name: 'b2b', file: 'test/b2b.js', runner: 'tape', ok: 19 },
  { name: 'reinvite', file: 'test/reinvite-tests.js', runner: 'tape', ok: 1 },
  { name: 'uac', file: 'test/uac.js', runner: 'tape', ok: 19 },
  { name: 'uas', file: 'test/uas.js', runner: 'tape', ok: 8 },
  { name: 'proxy', file: 'test/proxy.js', runner: 'tape', ok: 2 },
  { name: 'utils', file: 'test/utils.js', runner: 'tape', ok: 27 },
  { name: 'refer', file: 'test/refer.js', runner: 'tape', ok: 1 },
];
