// One load run: sign the run's users up, open their live inboxes (and, on one machine, their
// webhook endpoints and Web Push devices), then keep `concurrency` scenarios in flight until the
// duration or the request count runs out, and summarise what came back.
import { randomBytes } from 'node:crypto';
import { sendJson } from '../../bench/http-client.ts';
import { InboxStream } from './inbox-stream.ts';
import type { LoadOptions } from './load-options.ts';
import { LoadRecorder, type LoadSummary } from './load-recorder.ts';
import { startLocalReceivers, type LocalReceivers } from './local-receivers.ts';
import { TrafficMix, type LoadUser } from './traffic-mix.ts';

export class LoadSetupError extends Error {}

export interface LoadResult extends LoadSummary {
  /** What reached the local receivers (with --local-receivers). */
  readonly received?: LocalReceivers['received'];
}

/** A setup request: no answer at all is a setup error naming the platform, not a stack trace. */
async function setupCall(baseUrl: string, method: string, path: string, options: Parameters<typeof sendJson>[3]): ReturnType<typeof sendJson> {
  try {
    return await sendJson(baseUrl, method, path, options);
  } catch (error) {
    throw new LoadSetupError(`cannot reach ${baseUrl} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): is the platform running there?`);
  }
}

async function signUp(baseUrl: string, username: string, password: string): Promise<LoadUser> {
  const signedUp = await setupCall(baseUrl, 'POST', '/users', { json: { username, email: `${username}@load.paymesh.test`, password } });
  if (signedUp.status !== 202) throw new LoadSetupError(`signing up ${username} failed: ${signedUp.status} ${JSON.stringify(signedUp.body)}${signedUp.status === 429 ? ' (USERS_REGISTRATIONS_PER_CLIENT_PER_HOUR: ask for fewer --users or raise the limit)' : ''}`);
  const login = await setupCall(baseUrl, 'POST', '/auth/login', { json: { username, password } });
  if (login.status !== 200) throw new LoadSetupError(`logging ${username} in failed: ${login.status} ${JSON.stringify(login.body)}`);
  const me = await setupCall(baseUrl, 'GET', '/users/me', { token: login.body.token });
  if (me.status !== 200) throw new LoadSetupError(`GET /users/me failed: ${me.status}`);
  return { username, password, id: Number(me.body.id), token: login.body.token, tokenAt: Date.now() };
}

/** Registers a webhook endpoint (every event type) and a Web Push device for a user. */
async function registerReceivers(baseUrl: string, user: LoadUser, receivers: LocalReceivers, index: number): Promise<void> {
  // One user in four has an endpoint that always fails: retries, then dead letters.
  const url = `${receivers.baseUrl}/webhooks/${index % 4 === 3 ? 'failing' : 'ok'}`;
  const hook = await setupCall(baseUrl, 'POST', '/notifications/webhooks', { token: user.token, json: { url, event_types: ['*'] } });
  if (hook.status !== 201) throw new LoadSetupError(`registering a webhook at ${url} failed: ${hook.status} ${JSON.stringify(hook.body)} (the platform needs WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true for --local-receivers)`);
  const device = await setupCall(baseUrl, 'POST', '/notifications/devices', { token: user.token, json: { platform: 'web', subscription: receivers.subscription(index) } });
  if (device.status !== 201) throw new LoadSetupError(`registering a Web Push device failed: ${device.status} ${JSON.stringify(device.body)}`);
}

export async function runLoad(options: LoadOptions, onProgress: (line: string) => void = () => {}): Promise<LoadResult> {
  const run = randomBytes(4).toString('hex');
  const recorder = new LoadRecorder();
  const users: LoadUser[] = [];
  for (let i = 0; i < options.users; i++) users.push(await signUp(options.baseUrl, `load${run}u${i}`, `load-password-${run}-${i}`));
  const target = await signUp(options.baseUrl, `load${run}target`, `load-password-${run}-target`);

  let adminToken: (() => Promise<string>) | undefined;
  if (options.adminPassword !== undefined) {
    const password = options.adminPassword;
    let token: { value: string; at: number } | undefined;
    adminToken = async () => {
      if (token === undefined || Date.now() - token.at > 10 * 60_000) {
        const login = await setupCall(options.baseUrl, 'POST', '/auth/login', { json: { username: 'admin', password } });
        if (login.status !== 200) throw new LoadSetupError(`the admin's login failed (${login.status}): check --admin-password`);
        token = { value: login.body.token, at: Date.now() };
      }
      return token.value;
    };
    await adminToken();
  }

  const receivers = options.localReceivers ? await startLocalReceivers() : undefined;
  const streams: InboxStream[] = [];
  try {
    if (receivers !== undefined) for (const [i, user] of users.entries()) await registerReceivers(options.baseUrl, user, receivers, i);
    for (const user of users.slice(0, options.streams)) streams.push(new InboxStream(options.baseUrl, () => user.token, () => (recorder.streamEvents += 1)));

    const mix = new TrafficMix({ baseUrl: options.baseUrl, recorder, users, adminToken, loginTarget: target.username, maxFailedLogins: options.maxFailedLogins });
    recorder.begin();
    const deadline = performance.now() + options.durationSec * 1000;
    let started = 0;
    const progress = options.progressMs > 0 ? setInterval(() => onProgress(recorder.progressLine()), options.progressMs) : undefined;
    const worker = async () => {
      while (performance.now() < deadline && started < options.maxRequests) {
        started += 1;
        await mix.runOne();
      }
    };
    try {
      await Promise.all(Array.from({ length: options.concurrency }, worker));
    } finally {
      clearInterval(progress);
    }
    onProgress(recorder.progressLine());
    return { ...recorder.summary(), received: receivers === undefined ? undefined : { ...receivers.received } };
  } finally {
    for (const stream of streams) stream.close();
    await receivers?.close();
  }
}
