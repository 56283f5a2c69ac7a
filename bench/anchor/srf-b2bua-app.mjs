/**
 * The anchor's app: the smallest drachtio-srf b2bua, one createB2BUA per INVITE to --target, each leg's BYE
 * ending the other. It connects to drachtio-server's admin port (inbound connection) and prints `ready` once
 * drachtio-server has accepted it.
 * Usage: node bench/anchor/srf-b2bua-app.mjs --admin 127.0.0.1:<port> --secret <s> --target 127.0.0.1:<port>
 */
import Srf from 'drachtio-srf';

function arg(name) {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (!v) throw new Error(`missing --${name}`);
  return v;
}

const [host, port] = arg('admin').split(':');
const target = arg('target');
const srf = new Srf();
let failed = 0;

srf.connect({ host, port: Number(port), secret: arg('secret') });
srf.on('connect', (err, hostport) => {
  if (err) {
    process.stderr.write(`anchor app: ${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`ready ${hostport}\n`);
});
// drachtio-srf reconnects by itself while drachtio-server is still starting
srf.on('error', () => {});

srf.invite(async (req, res) => {
  try {
    const { uas, uac } = await srf.createB2BUA(req, res, `sip:${req.calledNumber || 'service'}@${target}`);
    uas.on('destroy', () => uac.destroy().catch(() => {}));
    uac.on('destroy', () => uas.destroy().catch(() => {}));
  } catch {
    // the B leg failed; createB2BUA has already passed its final response to the A leg
    failed++;
  }
});

const stop = () => {
  if (failed > 0) process.stderr.write(`anchor app: ${failed} B legs failed\n`);
  srf.disconnect();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
