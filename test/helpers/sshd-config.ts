/**
 * Module: the files of a test sshd (see sshd.ts): its host key and known_hosts entry, the client keys, the
 * authorized_keys that force `docker system dial-stdio` against one engine, and sshd_config.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Sshd } from './sshd.js';

const execFileP = promisify(execFile);

/** Docker CLIs that may be installed; the first whose `system dial-stdio` exists is used. */
const DOCKER_CLIS = ['/usr/local/bin/docker', '/usr/bin/docker'];

export async function pickDockerCli(): Promise<string> {
  for (const cli of DOCKER_CLIS) {
    if (!existsSync(cli)) continue;
    try {
      await execFileP(cli, ['system', 'dial-stdio', '--help'], { timeout: 10_000 });
      return cli;
    } catch {
      // no dial-stdio in this one
    }
  }
  throw new Error(`no docker CLI with "system dial-stdio" among ${DOCKER_CLIS.join(', ')}`);
}

async function keygen(file: string, comment: string, passphrase = ''): Promise<void> {
  await execFileP('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', comment, '-f', file], { timeout: 10_000 });
}

/**
 * sshd's privilege-separation dir. Debian's openssh-server creates it only from its init/systemd unit,
 * so on a machine where sshd was installed but never started as a service it is missing.
 */
export function ensurePrivsepDir(): void {
  if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
}

export type SshdFiles = Pick<Sshd, 'dir' | 'port' | 'dockerCli' | 'knownHosts' | 'clientKey' | 'wrongKey' | 'passphraseKey' | 'passphrase'> & { config: string };

/** Writes every file sshd and its clients need; returns the server's host public key. */
export async function writeSshdFiles(f: SshdFiles, engineSocket: string): Promise<string> {
  await keygen(join(f.dir, 'ssh_host_ed25519_key'), 'fleetgraph-test-host');
  const hostKey = (await readFile(join(f.dir, 'ssh_host_ed25519_key.pub'), 'utf8')).trim();
  await writeFile(f.knownHosts, `[127.0.0.1]:${f.port} ${hostKey}\n`);
  await keygen(f.clientKey, 'fleetgraph-test-client');
  await keygen(f.wrongKey, 'fleetgraph-test-wrong');
  await keygen(f.passphraseKey, 'fleetgraph-test-passphrase', f.passphrase);
  const command = `DOCKER_HOST=unix://${engineSocket} ${f.dockerCli} system dial-stdio`;
  const options = `command="${command}",no-pty,no-port-forwarding,no-agent-forwarding,no-X11-forwarding`;
  const lines: string[] = [];
  for (const key of [f.clientKey, f.passphraseKey]) lines.push(`${options} ${(await readFile(`${key}.pub`, 'utf8')).trim()}\n`);
  await writeFile(join(f.dir, 'authorized_keys'), lines.join(''), { mode: 0o600 });
  await writeFile(
    f.config,
    [
      `Port ${f.port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(f.dir, 'ssh_host_ed25519_key')}`,
      `PidFile ${join(f.dir, 'f.pid')}`,
      `AuthorizedKeysFile ${join(f.dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'AllowTcpForwarding no',
      'X11Forwarding no',
      'PrintMotd no',
      // one exec channel per pooled HTTP connection; the default (10) is enough for the agent's 8
      'MaxSessions 32',
      'MaxStartups 64',
      'LogLevel VERBOSE',
      // sshd runs the forced command as `$SHELL -c`; a bash that sees SSH_CLIENT and no SHLVL first
      // sources /etc/bash.bashrc and ~/.bashrc, and a slow root .bashrc (pyenv init: ~4 s here) delays
      // every new dial-stdio channel by that much. With SHLVL=1 bash counts as nested and skips them.
      'SetEnv SHLVL=1',
      '',
    ].join('\n'),
  );
  return hostKey;
}
