// Shared machinery for the compatibility tests: a fresh database on each engine, a live
// `commons serve` on a free loopback port, the admin command line and the management API for
// set-up, and direct SQL for the few things no API offers (revoking a key, lowering a
// service's rate limit). Test files import from here; node --test does not run this file
// itself (its name matches none of the runner's test file patterns).

import { execFile, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

// Every wait is bounded. A command (admin, SQL) has commandTimeout; the server has
// startTimeout to answer /readyz and stopTimeout to exit after SIGTERM.
const commandTimeout = 30_000;
const startTimeout = 30_000;
const stopTimeout = 5_000;

export const requireAll = process.env.COMMONS_REQUIRE_ALL === '1';

// The server is on loopback: never send its traffic through a proxy the environment names.
process.env.NO_PROXY = ['127.0.0.1', 'localhost', process.env.NO_PROXY].filter(Boolean).join(',');
process.env.no_proxy = process.env.NO_PROXY;

function onPath(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      fs.accessSync(path.join(dir, name), fs.constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

function missingBinary() {
  const bin = process.env.COMMONS_BIN;
  if (!bin) return 'COMMONS_BIN is not set (run `make test`, or set it to a built commons binary)';
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    return `COMMONS_BIN=${bin} is not an executable file (run \`make build\`)`;
  }
  return null;
}

/**
 * The engines to run on, each with the reason it cannot run here (or null). SQLite needs the
 * sqlite3 command for direct SQL; PostgreSQL needs COMMONS_TEST_POSTGRES_URL and psql.
 */
export function engines() {
  const bin = missingBinary();
  return [
    {
      name: 'SQLite',
      missing: bin ?? (onPath('sqlite3') ? null : 'the sqlite3 command is not on PATH (apt-get install sqlite3)'),
      create: createSQLite,
    },
    {
      name: 'PostgreSQL',
      missing: bin
        ?? (process.env.COMMONS_TEST_POSTGRES_URL ? null : 'COMMONS_TEST_POSTGRES_URL is not set')
        ?? (onPath('psql') ? null : 'the psql command is not on PATH (apt-get install postgresql-client)'),
      create: createPostgres,
    },
  ];
}

/**
 * Options for an engine's describe block: skipped, with the reason, when it cannot run —
 * unless COMMONS_REQUIRE_ALL=1, when it runs and its before hook fails (see
 * assertRunnable), so that CI cannot pass without having run everything.
 */
export function skipUnlessRunnable(engine) {
  if (engine.missing && !requireAll) return { skip: engine.missing };
  return {};
}

export function assertRunnable(engine) {
  if (engine.missing) {
    throw new Error(`COMMONS_REQUIRE_ALL=1 and the ${engine.name} compatibility tests cannot run: ${engine.missing}`);
  }
}

// Databases, folders and processes still around when the test process ends — a thrown hook,
// a runner timeout, ^C — are cleaned up on the way out.
const cleanups = new Map();
process.on('exit', () => {
  for (const fn of cleanups.values()) {
    try {
      fn();
    } catch {
      // best effort on the way out
    }
  }
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => process.exit(130));
}

/** A fresh SQLite database in its own folder, which also serves as the server's data folder. */
async function createSQLite() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'commons-compat-'));
  const file = path.join(dataDir, 'commons.db');
  const key = Symbol('sqlite');
  cleanups.set(key, () => fs.rmSync(dataDir, { recursive: true, force: true }));
  return {
    engine: 'sqlite',
    url: `sqlite:${file}`,
    dataDir,
    async sql(query) {
      const { stdout } = await run('sqlite3', ['-bail', '-batch', '-cmd', '.timeout 10000', file, query], { timeout: commandTimeout });
      return stdout.trim();
    },
    async drop() {
      cleanups.delete(key);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A fresh, uniquely named PostgreSQL database on COMMONS_TEST_POSTGRES_URL's server. */
async function createPostgres() {
  const base = process.env.COMMONS_TEST_POSTGRES_URL;
  const name = `commons_compat_${crypto.randomBytes(6).toString('hex')}`;
  const psql = ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1'];
  await run('psql', [...psql, '-d', base, '-c', `CREATE DATABASE ${name}`], { timeout: commandTimeout });
  const dropSQL = `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`;
  const key = Symbol('postgres');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'commons-compat-'));
  cleanups.set(key, () => {
    fs.rmSync(dataDir, { recursive: true, force: true });
    execFileSync('psql', [...psql, '-d', base, '-c', dropSQL], { timeout: commandTimeout, stdio: 'ignore' });
  });
  const u = new URL(base);
  u.pathname = `/${name}`;
  const url = u.toString();
  return {
    engine: 'postgres',
    url,
    dataDir,
    async sql(query) {
      const { stdout } = await run('psql', [...psql, '-d', url, '-c', query], { timeout: commandTimeout });
      return stdout.trim();
    },
    async drop() {
      cleanups.delete(key);
      fs.rmSync(dataDir, { recursive: true, force: true });
      await run('psql', [...psql, '-d', base, '-c', dropSQL], { timeout: commandTimeout });
    },
  };
}

/** A timestamp literal both engines read back as the same UTC instant. */
export function sqlTime(date = new Date()) {
  const iso = date.toISOString(); // 2026-01-02T03:04:05.678Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000+00:00`;
}

/** Quotes a string as an SQL literal. */
export function sqlString(s) {
  return `'${String(s).replace(/'/g, "''")}'`;
}

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
async function freePort() {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await once(srv, 'close');
  return port;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `commons serve` in development mode on database on a free port, with env added to
 * its environment, and waits until GET /readyz answers 200. Always pair with stop(), in an
 * after hook.
 */
export async function startCommons(database, env = {}) {
  let lastError;
  for (let attempt = 0; attempt < 2; attempt++) {
    const server = new CommonsServer(await freePort(), database, env);
    try {
      await server.start();
      return server;
    } catch (err) {
      lastError = err;
      await server.stop();
      // The port was free when chosen, but something else may have taken it since.
      if (!/address already in use/i.test(server.stderr)) break;
    }
  }
  throw lastError;
}

class CommonsServer {
  constructor(port, database, env) {
    this.port = port;
    this.database = database;
    this.env = env;
    this.baseURL = `http://127.0.0.1:${port}`;
    this.stdout = '';
    this.stderr = '';
    this.child = null;
    this.exited = null;
    this.key = Symbol('server');
  }

  async start() {
    const args = [
      'serve',
      '--addr', `127.0.0.1:${this.port}`,
      '--database', this.database.url,
      '--data-dir', this.database.dataDir,
      '--base-url', this.baseURL,
      '--dev',
      '--log-level', 'warn',
      '--shutdown-timeout', '3s',
    ];
    this.child = spawn(process.env.COMMONS_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.env } });
    this.exited = once(this.child, 'exit').then(([code, signal]) => ({ code, signal }));
    const child = this.child;
    cleanups.set(this.key, () => child.kill('SIGKILL'));
    child.stdout.setEncoding('utf8').on('data', (s) => { this.stdout = (this.stdout + s).slice(-200_000); });
    child.stderr.setEncoding('utf8').on('data', (s) => { this.stderr = (this.stderr + s).slice(-200_000); });
    let spawnError = null;
    child.on('error', (err) => { spawnError = err; });

    const deadline = Date.now() + startTimeout;
    for (;;) {
      if (spawnError) throw new Error(`could not start ${process.env.COMMONS_BIN}: ${spawnError.message}`);
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`commons serve exited (${child.exitCode ?? child.signalCode}) before it was ready\n${this.output()}`);
      }
      if (await this.ready()) return;
      if (Date.now() > deadline) {
        throw new Error(`commons serve was not ready within ${startTimeout / 1000}s\n${this.output()}`);
      }
      await sleep(100);
    }
  }

  async ready() {
    try {
      const res = await fetch(`${this.baseURL}/readyz`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  output() {
    const tail = (s) => s.split('\n').slice(-40).join('\n');
    return `--- commons stdout ---\n${tail(this.stdout)}\n--- commons stderr ---\n${tail(this.stderr)}`;
  }

  /** Ends the process: SIGTERM, then SIGKILL if it has not exited within stopTimeout. */
  async stop() {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeout);
      await this.exited;
      clearTimeout(timer);
    }
    cleanups.delete(this.key);
  }

  /** Runs `commons admin <command>` on this server's database and returns its JSON output. */
  async admin(command, flags) {
    const args = ['admin', command];
    for (const [name, value] of Object.entries(flags)) {
      if (value === true) args.push(`--${name}`);
      else if (value !== undefined && value !== false) args.push(`--${name}`, String(value));
    }
    args.push('--database', this.database.url, '--data-dir', this.database.dataDir, '--dev');
    let stdout;
    try {
      ({ stdout } = await run(process.env.COMMONS_BIN, args, { timeout: commandTimeout }));
    } catch (err) {
      throw new Error(`commons admin ${command} failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    }
    return JSON.parse(stdout.trim().split('\n').pop());
  }

  /** Runs SQL on this server's database and returns what it printed. */
  sql(query) {
    return this.database.sql(query);
  }

  /**
   * Calls Commons' own JSON API with a whole API key as the bearer token and returns
   * { status, body, headers }.
   */
  async api(method, pathname, key, body) {
    const headers = { Authorization: `Bearer ${key}`, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(this.baseURL + pathname, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    let parsed = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text for the failure message
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  /** Like api, but insists on the given status and returns the body. */
  async mustAPI(status, method, pathname, key, body) {
    const res = await this.api(method, pathname, key, body);
    if (res.status !== status) {
      throw new Error(`${method} ${pathname} answered ${res.status}, not ${status}: ${JSON.stringify(res.body)}`);
    }
    return res.body;
  }
}

/**
 * Calls fn until it returns a value other than undefined, and returns that value; throws if
 * timeout passes first. An error fn throws ends the wait at once.
 */
export async function eventually(fn, { timeout = 20_000, interval = 200, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeout / 1000}s`);
    await sleep(interval);
  }
}
