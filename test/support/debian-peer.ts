import { spawnSync } from 'node:child_process';

/**
 * Makes sure a peer's binary runs: when `probe` fails, installs its Debian package with apt-get as root (once more
 * after `apt-get update` if the first try fails), else throws naming the command. `afterInstall` runs after a
 * successful install (a package that enables a system service the tests do not want).
 */
export function requireDebianPeer(o: { name: string; probe: () => boolean; pkg: string; afterInstall?: () => void }): void {
  if (o.probe()) return;
  const install = ['apt-get', 'install', '-y', o.pkg];
  if (process.getuid?.() !== 0) throw new Error(`${o.name} is not installed: ${install.join(' ')} (as root)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync(install[0]!, install.slice(1), { encoding: 'utf8', env });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { encoding: 'utf8', env });
    r = spawnSync(install[0]!, install.slice(1), { encoding: 'utf8', env });
  }
  o.afterInstall?.();
  if (r.status !== 0 || !o.probe()) throw new Error(`installing ${o.name} failed (${install.join(' ')}):\n${r.stderr}`);
}
