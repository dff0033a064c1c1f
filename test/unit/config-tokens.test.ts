import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseTokenEnv, parseTokenFile } from '../../src/config.js';
import { scratchDir } from '../helpers/scratch.js';

/** Issue 9 §1, §2, §5: the token grammar of the token file, FLEETGRAPH_AUTH_TOKENS and the config file. */

const dir = scratchDir('fleetgraph-tokens-');
function file(name: string, text: string): string {
  const p = join(dir(), name);
  writeFileSync(p, text);
  return p;
}

const A = 'Zq9XwV7kLp3MnB5tYc2R';
const B = 'Rj8Hs2Df6Gk1Lm4NqW0e';
const HOSTS = ['e0=unix:///e0.sock', 'build-cache-host-1=unix:///b.sock', 'x=unix:///x.sock'];
const tokensOf = (env: string, input = {}) => loadConfig({ hosts: HOSTS, ...input }, { FLEETGRAPH_AUTH_TOKENS: env }).tokens;

function errorOf(run: () => unknown): Error {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as Error;
  }
  throw new Error('expected a ConfigError');
}

/** True when `text` holds any 5 consecutive characters of `secret`. */
function leaks(text: string, secret: string): boolean {
  for (let i = 0; i + 5 <= secret.length; i++) if (text.includes(secret.slice(i, i + 5))) return true;
  return false;
}

describe('token file', () => {
  it('reads TOKEN and TOKEN hosts=a,b lines, skipping blanks and comments', () => {
    expect(parseTokenFile(`# ops\n${A}\n\n  ${B} hosts=a,b  \n`, 'f')).toEqual([
      { token: A, where: 'f line 2' },
      { token: B, hosts: ['a', 'b'], where: 'f line 4' },
    ]);
  });
});

describe('FLEETGRAPH_AUTH_TOKENS', () => {
  it('separates tokens by ";" or newlines; commas only separate hosts inside hosts=', () => {
    // issue 9 §1: with the comma grammar, build-cache-host-1 became a full-access token and A lost that host
    expect(tokensOf(`${A} hosts=e0,build-cache-host-1`)).toEqual([{ token: A, hosts: ['e0', 'build-cache-host-1'] }]);
    expect(tokensOf(`${A} hosts=e0,x; ${B}`)).toEqual([{ token: A, hosts: ['e0', 'x'] }, { token: B }]);
    expect(tokensOf(`${A}\n${B} hosts=x\n`)).toEqual([{ token: A }, { token: B, hosts: ['x'] }]);
    expect(tokensOf(`${A};`)).toEqual([{ token: A }]);
  });

  it('names the entry by its number', () => {
    expect(parseTokenEnv(`${A};;${B}`).map((t) => t.where)).toEqual(['FLEETGRAPH_AUTH_TOKENS entry 1', 'FLEETGRAPH_AUTH_TOKENS entry 3']);
  });
});

describe('refused, naming the source and line or entry, never the token', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['the old comma form', () => tokensOf(`${A},${B}`), /^FLEETGRAPH_AUTH_TOKENS entry 1: token: a token is made of .*no spaces, "," or ";"/],
    ['two tokens on one line', () => parseTokenFile(`${A} ${B}\n`, 'f'), /^f line 1: word 2 is not hosts=a,b/],
    ['a line with spaces', () => parseTokenFile(`# x\nmy ${A} secret\n`, 'f'), /^f line 2: word 2 is not hosts=a,b/],
    ['a short token', () => parseTokenFile(`${A.slice(0, 10)}\n`, 'f'), /^f line 1: token: a token has at least 16 characters$/],
    ['a character outside the token alphabet', () => tokensOf(`${A}!`), /^FLEETGRAPH_AUTH_TOKENS entry 1: token: a token is made of/],
    ['a repeated hosts=', () => parseTokenFile(`${A} hosts=e0 hosts=x\n`, 'f'), /^f line 1: hosts= is given twice/],
    ['an empty hosts=', () => tokensOf(`${A} hosts=`), /^FLEETGRAPH_AUTH_TOKENS entry 1: hosts.0: a host name is/],
    ['an empty host in hosts=', () => tokensOf(`${A} hosts=e0,,x`), /^FLEETGRAPH_AUTH_TOKENS entry 1: hosts.1: a host name is/],
    ['a token-like unknown host', () => tokensOf(`${B} hosts=e0,${A}`), /^FLEETGRAPH_AUTH_TOKENS entry 1: hosts= item 2 is not a configured host/],
    ['the same token twice in the env', () => tokensOf(`${A} hosts=e0;${B};${A}`), /^FLEETGRAPH_AUTH_TOKENS entry 3: the same token as FLEETGRAPH_AUTH_TOKENS entry 1/],
    ['the same token twice in a file', () => parseAndCheck(`${A} hosts=e0\n${A} hosts=x\n`), /--auth-token-file .*dup.txt line 2: the same token as --auth-token-file .*dup.txt line 1/],
    ['the same token in the file and the env', () => tokensOf(A, { authTokenFile: file('one.txt', `${A}\n`) }), /^FLEETGRAPH_AUTH_TOKENS entry 1: the same token as --auth-token-file .*one.txt line 1/],
    ['the same token in the config file and the env', () => tokensOf(A, { configFile: file('c.yaml', `tokens:\n  - token: ${A}\n`) }), /^FLEETGRAPH_AUTH_TOKENS entry 1: the same token as config file .*c.yaml tokens\[0\]/],
    ['a bad token in the config file', () => tokensOf('', { configFile: file('bad.yaml', `tokens:\n  - token: "${A} x"\n`) }), /config file .*bad.yaml: tokens.0.token: a token is made of/],
    ['a config file with a YAML error', () => tokensOf('', { configFile: file('y.yaml', `tokens:\n  - token: ${A}\n   bad: [${B}\n`) }), /config file .*y.yaml: not valid YAML \(line \d+, column \d+\)$/],
    ['a JSON config file with a syntax error', () => tokensOf('', { configFile: file('j.json', `{"tokens": [{"token": ${A}}]}`) }), /config file .*j.json: not valid JSON/],
  ];
  function parseAndCheck(text: string) {
    return loadConfig({ hosts: HOSTS, authTokenFile: file('dup.txt', text) }, {});
  }
  it.each(cases)('%s', (_what, run, message) => {
    const err = errorOf(run);
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('\n');
    expect(leaks(err.message, A), err.message).toBe(false);
    expect(leaks(err.message, B), err.message).toBe(false);
  });
});
