// Keeps webhook requests off our own networks (SSRF): anyone who can register an endpoint could
// otherwise make the service call loopback, the cluster's private ranges or the cloud metadata
// address. The check returns the address it approved so the caller connects to exactly that one:
// resolving the name again at connect time would let a DNS answer change in between (rebinding).
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

export type Lookup = (hostname: string) => Promise<readonly { address: string; family: 4 | 6 }[]>;

export class TargetRefusedError extends Error {
  /** Short and stable: `invalid_url`, `scheme`, `credentials`, `private_address`, `unresolvable`. */
  readonly reason: string;

  constructor(reason: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TargetRefusedError';
    this.reason = reason;
  }
}

/** Throws TargetRefusedError unless the URL is http(s), has no credentials, and every address its host resolves to is public (unless allowPrivate). Returns the address to connect to, so the connection is pinned to what was checked (no DNS rebinding between check and connect). */
export async function checkWebhookTarget(url: string, options: { allowPrivate: boolean; lookup?: Lookup }): Promise<{ address: string; family: 4 | 6 }> {
  const parsed = URL.parse(url);
  if (parsed === null) throw new TargetRefusedError('invalid_url', 'the webhook URL cannot be parsed');
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TargetRefusedError('scheme', `webhook URLs must be http or https, not ${parsed.protocol.slice(0, -1)}`);
  }
  // Credentials in the URL would be sent to whoever the host is, and logged with the URL.
  if (parsed.username !== '' || parsed.password !== '') throw new TargetRefusedError('credentials', 'webhook URLs must not carry a user name or password');

  // The WHATWG parser already turned 0x7f.1, 2130706433 and 127.1 into 127.0.0.1, and brackets IPv6.
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  const literalFamily = isIP(host);
  if (literalFamily !== 0) {
    const literal = { address: host, family: literalFamily === 6 ? 6 : 4 } as const;
    if (!options.allowPrivate) refuseUnlessPublic(literal.address, host);
    return literal;
  }

  // RFC 6761: localhost names are loopback whatever a resolver says, so no lookup is asked.
  const name = host.replace(/\.+$/, '');
  if (!options.allowPrivate && (name === 'localhost' || name.endsWith('.localhost'))) {
    throw new TargetRefusedError('private_address', `${host} is a loopback name`);
  }

  const addresses = await resolve(host, options.lookup ?? systemLookup);
  // Every address, not just the first: a client (or a retry) may use any of them.
  if (!options.allowPrivate) for (const { address } of addresses) refuseUnlessPublic(address, host);
  return addresses[0]!;
}

const systemLookup: Lookup = async (hostname) => {
  const answers = await dnsLookup(hostname, { all: true, order: 'verbatim' });
  return answers.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

/** At least one answer, each a valid IP; a name that does not exist is refused, a failing resolver (EAI_AGAIN, timeouts) is thrown as it is, so the sender can try again later. */
async function resolve(host: string, lookup: Lookup): Promise<{ address: string; family: 4 | 6 }[]> {
  let answers: readonly { address: string; family: 4 | 6 }[];
  try {
    answers = await lookup(host);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') throw new TargetRefusedError('unresolvable', `${host} does not resolve (${code})`, { cause: error });
    throw error;
  }
  if (answers.length === 0) throw new TargetRefusedError('unresolvable', `${host} resolves to no address`);
  return answers.map(({ address }) => {
    const family = isIP(address);
    if (family === 0) throw new TargetRefusedError('unresolvable', `${host} resolved to ${JSON.stringify(address)}, which is not an IP address`);
    return { address, family: family === 6 ? 6 : 4 };
  });
}

function refuseUnlessPublic(address: string, host: string): void {
  if (isPublicAddress(address)) return;
  const resolvedFrom = address === host ? '' : ` (resolved from ${host})`;
  throw new TargetRefusedError('private_address', `${address}${resolvedFrom} is not a public address`);
}

// Special-purpose IPv4 ranges that are not globally reachable (IANA IPv4 special-purpose registry).
const nonPublicIpv4 = blockList('ipv4', [
  ['0.0.0.0', 8], // "this network", includes the unspecified 0.0.0.0
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, includes the cloud metadata service 169.254.169.254
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments (DS-Lite, NAT64 discovery…)
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.88.99.0', 24], // 6to4 relay anycast (deprecated)
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, includes the broadcast 255.255.255.255
]);

// IPv6 is checked the other way round: only global unicast (2000::/3) can be public, which
// leaves out ::, ::1, fc00::/7, fe80::/10, ff00::/8, the deprecated site-local and IPv4-compatible
// forms, and anything IANA assigns later outside it. These are the exceptions inside it.
const globalUnicastIpv6 = blockList('ipv6', [['2000::', 3]]);
const nonPublicGlobalIpv6 = blockList('ipv6', [
  ['2001::', 23], // IETF protocol assignments: Teredo, benchmarking, ORCHID…
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation (RFC 9637)
]);

function isPublicAddress(address: string): boolean {
  if (isIP(address) === 4) return !nonPublicIpv4.check(address, 'ipv4');
  const bytes = ipv6Bytes(address);
  // Forms that carry an IPv4 address reach that address, so they are as public as it is.
  const embedded = embeddedIpv4(bytes);
  if (embedded !== undefined) return !nonPublicIpv4.check(embedded, 'ipv4');
  const canonical = ipv6Text(bytes);
  return globalUnicastIpv6.check(canonical, 'ipv6') && !nonPublicGlobalIpv6.check(canonical, 'ipv6');
}

/** The IPv4 address inside an IPv4-mapped (::ffff:0:0/96), NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address. */
function embeddedIpv4(bytes: Uint8Array): string | undefined {
  const startsWith = (prefix: readonly number[]) => prefix.every((byte, i) => bytes[i] === byte);
  if (startsWith([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff])) return bytes.subarray(12, 16).join('.');
  if (startsWith([0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0])) return bytes.subarray(12, 16).join('.');
  if (startsWith([0x20, 0x02])) return bytes.subarray(2, 6).join('.');
  return undefined;
}

/** The 16 bytes of an address net.isIP() calls IPv6 (any spelling: `::`, a dotted IPv4 tail, a zone). */
function ipv6Bytes(address: string): Uint8Array {
  let text = address.split('%')[0]!;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted !== null) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  if (groups.length !== 8) throw new TypeError(`not an IPv6 address: ${address}`);
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = Number.parseInt(group, 16);
    bytes[2 * i] = value >> 8;
    bytes[2 * i + 1] = value & 0xff;
  });
  return bytes;
}

/** Plain eight-group text, which BlockList reads the same whatever the original spelling was. */
function ipv6Text(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':');
}

function blockList(family: 'ipv4' | 'ipv6', subnets: readonly (readonly [string, number])[]): BlockList {
  const list = new BlockList();
  for (const [network, prefixLength] of subnets) list.addSubnet(network, prefixLength, family);
  return list;
}
