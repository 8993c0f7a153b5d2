// The fault runner's own PostgreSQL 15 cluster, in a temporary folder on a free loopback port, so
// that restarting or killing it never touches the machine's server on 5432. We run as root and
// PostgreSQL refuses to, so there every binary runs as the `postgres` user on folders it owns.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, chownSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { freePorts } from '@paymesh/app/free-ports';

const run = promisify(execFile);

export const postgresBinDir = '/usr/lib/postgresql/15/bin';

export interface PostgresCluster {
  readonly port: number;
  /** A connection string to one database of the cluster. */
  url(database: string): string;
  /** `pg_ctl restart -m fast|immediate`, waiting until it accepts connections again. */
  restart(mode: 'fast' | 'immediate'): Promise<void>;
  /** Stops it at once (clean-up; nothing of its data is kept). Safe to call twice. */
  stop(): Promise<void>;
}

function postgresUser(): { uid: number; gid: number } {
  const line = execFileSync('getent', ['passwd', 'postgres'], { encoding: 'utf8' }).trim();
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export async function startPostgresCluster(dir: string): Promise<PostgresCluster> {
  if (!existsSync(join(postgresBinDir, 'pg_ctl'))) throw new Error(`PostgreSQL 15 binaries not found in ${postgresBinDir}`);
  // As root, the folders are the postgres user's; as anyone else, the caller's own.
  const { uid, gid } = process.getuid?.() === 0 ? postgresUser() : { uid: process.getuid!(), gid: process.getgid!() };
  // The temporary folders are root's; the postgres user must be able to reach its own folders in them.
  mkdirSync(dir, { recursive: true });
  chmodSync(dirname(dir), 0o755);
  chmodSync(dir, 0o755);
  const dataDir = join(dir, 'pgdata');
  // Its socket and its log, in a folder it owns.
  const socketDir = join(dir, 'run');
  for (const folder of [dataDir, socketDir]) {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    chownSync(folder, uid, gid);
  }
  const [port] = await freePorts(1);
  // Never synchronous: the load client must keep running (and failing) while PostgreSQL restarts.
  const asPostgres = (binary: string, args: string[], timeoutMs: number) => process.getuid?.() === 0
    ? run('runuser', ['-u', 'postgres', '--', join(postgresBinDir, binary), ...args], { timeout: timeoutMs, encoding: 'utf8' })
    : run(join(postgresBinDir, binary), args, { timeout: timeoutMs, encoding: 'utf8' });
  await asPostgres('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions'], 120_000);
  // Durability is not what is under test (the processes are, not the disk): fsync off keeps the
  // shared 2-core machine responsive. A fast or immediate restart still loses no committed data.
  const options = `-c port=${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${socketDir} -c fsync=off -c max_connections=300`;
  // The server's output goes to a log file: otherwise it holds pg_ctl's stdout open after pg_ctl ends.
  const pgCtl = (args: string[]) => asPostgres('pg_ctl', ['-D', dataDir, '-w', '-t', '120', '-l', join(socketDir, 'postgres.log'), ...args], 150_000);
  await pgCtl(['-o', options, 'start']);
  let stopped = false;
  return {
    port: port!,
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    // pg_ctl restart starts it again with the options it was started with (postmaster.opts).
    restart: async (mode) => void await pgCtl(['-m', mode, 'restart']),
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await pgCtl(['-m', 'immediate', 'stop']);
      } catch (error) {
        process.stderr.write(`stopping the fault runner's PostgreSQL failed: ${String(error)}\n`);
      }
    },
  };
}
