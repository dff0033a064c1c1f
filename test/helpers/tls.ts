/**
 * Throw-away PKI for TLS tests, made with the openssl CLI in a temp dir:
 *
 *   CA "fleetgraph-test-ca"      signs  server (SAN IP:127.0.0.1, DNS:localhost; serverAuth)
 *                                       client (clientAuth)
 *   CA "fleetgraph-other-ca"     signs  foreign client (clientAuth) — unrelated to the first CA
 *
 * and lays the files out as Docker cert dirs (ca.pem / cert.pem / key.pem, what DOCKER_CERT_PATH and a
 * host's `tls.certPath` point at), one dir per client situation the tests need. EC P-256 keys: fast to
 * make, and both Go (dockerd) and Node take them.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** A Docker-style cert dir; `cert`/`key` absent where the layout has none. */
export interface CertDir {
  dir: string;
  ca: string;
  cert?: string;
  key?: string;
}

export interface TestPki {
  /** the temp dir holding everything (mkdtemp, prefix "fleetgraph-tls-") */
  dir: string;
  /** for dockerd: --tlscacert ca, --tlscert cert, --tlskey key */
  server: Required<CertDir>;
  /** trusts the server, client cert from the same CA: what should work */
  client: Required<CertDir>;
  /** the other CA as ca.pem (server not trusted), with the good client cert */
  wrongCa: Required<CertDir>;
  /** the right ca.pem, no client cert at all */
  caOnly: CertDir;
  /** the right ca.pem, client cert signed by the other CA */
  foreignClient: Required<CertDir>;
  /** dockerd arguments for a TLS listener on tcp://127.0.0.1:port that requires client certs */
  dockerdArgs(port: number): string[];
  /** rm -rf dir. Idempotent. */
  destroy(): Promise<void>;
}

const OPENSSL_CNF = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

async function openssl(cwd: string, args: string[]): Promise<void> {
  try {
    await execFileP('openssl', args, { cwd, timeout: 30_000 });
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

async function key(cwd: string, file: string): Promise<void> {
  await openssl(cwd, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]);
}

async function makeCa(cwd: string, name: string): Promise<{ cert: string; key: string }> {
  await key(cwd, `${name}-key.pem`);
  await openssl(cwd, ['req', '-new', '-x509', '-config', 'openssl.cnf', '-extensions', 'v3_ca', '-key', `${name}-key.pem`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=fleetgraph-${name}`]);
  return { cert: join(cwd, `${name}.pem`), key: join(cwd, `${name}-key.pem`) };
}

let serial = 1000;

async function makeLeaf(cwd: string, name: string, ca: string, profile: 'server' | 'client'): Promise<{ cert: string; key: string }> {
  await key(cwd, `${name}-key.pem`);
  await openssl(cwd, ['req', '-new', '-config', 'openssl.cnf', '-key', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=fleetgraph-${name}`]);
  await openssl(cwd, [
    'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}-key.pem`, '-set_serial', String(serial++),
    '-days', '2', '-extfile', 'openssl.cnf', '-extensions', profile, '-out', `${name}.pem`,
  ]);
  return { cert: join(cwd, `${name}.pem`), key: join(cwd, `${name}-key.pem`) };
}

async function certDir(root: string, name: string, files: { ca: string; cert?: string; key?: string }): Promise<CertDir> {
  const dir = join(root, name);
  await mkdir(dir, { mode: 0o700 });
  const out: CertDir = { dir, ca: join(dir, 'ca.pem') };
  await copyFile(files.ca, out.ca);
  if (files.cert && files.key) {
    out.cert = join(dir, 'cert.pem');
    out.key = join(dir, 'key.pem');
    await copyFile(files.cert, out.cert);
    await copyFile(files.key, out.key);
  }
  return out;
}

/** Make the whole PKI. On failure nothing is left behind. */
export async function makeTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'fleetgraph-tls-'));
  try {
    const work = join(dir, 'work');
    await mkdir(work, { mode: 0o700 });
    await writeFile(join(work, 'openssl.cnf'), OPENSSL_CNF);
    const ca = await makeCa(work, 'test-ca');
    const other = await makeCa(work, 'other-ca');
    const server = await makeLeaf(work, 'server', 'test-ca', 'server');
    const client = await makeLeaf(work, 'client', 'test-ca', 'client');
    const foreign = await makeLeaf(work, 'foreign-client', 'other-ca', 'client');

    const serverDir = (await certDir(dir, 'server', { ca: ca.cert, ...server })) as Required<CertDir>;
    const pki: TestPki = {
      dir,
      server: serverDir,
      client: (await certDir(dir, 'client', { ca: ca.cert, ...client })) as Required<CertDir>,
      wrongCa: (await certDir(dir, 'wrong-ca', { ca: other.cert, ...client })) as Required<CertDir>,
      caOnly: await certDir(dir, 'ca-only', { ca: ca.cert }),
      foreignClient: (await certDir(dir, 'foreign-client', { ca: ca.cert, ...foreign })) as Required<CertDir>,
      dockerdArgs: (port) => [
        '--host', `tcp://127.0.0.1:${port}`,
        '--tlsverify',
        '--tlscacert', serverDir.ca,
        '--tlscert', serverDir.cert,
        '--tlskey', serverDir.key,
      ],
      destroy: () => rm(dir, { recursive: true, force: true }),
    };
    return pki;
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
