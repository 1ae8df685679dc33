/**
 * Which URLs a webhook endpoint may have. Checked on the URL's text when an endpoint is created or changed (and
 * again before every attempt, so a rule added later holds for endpoints stored before it). The host is resolved
 * by Cloudflare when the Worker fetches, out of this code's sight: a public name whose DNS answer is a private
 * address is not caught here (README "Webhooks", URL rules).
 */

/** Longer URLs are refused (`url` names the field). */
export const MAX_WEBHOOK_URL_LENGTH = 2_000;

/** Hosts the development setting (WEBHOOKS_ALLOW_LOOPBACK = "1") lets through over http with an explicit port. */
const LOOPBACK_DEV_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Name suffixes that never name a public host (RFC 6761, RFC 6762, RFC 8375, ICANN's reserved `.internal`). */
const NON_PUBLIC_SUFFIXES = ["localhost", "local", "internal", "home.arpa"];

/** IPv4 ranges that are not public unicast addresses: [network, prefix length, what it is]. */
const NON_PUBLIC_V4: ReadonlyArray<[string, number, string]> = [
  ["0.0.0.0", 8, "unspecified"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "shared (CGNAT)"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "reserved (IETF protocol assignments)"],
  ["192.0.2.0", 24, "documentation"],
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "reserved (benchmarking)"],
  ["198.51.100.0", 24, "documentation"],
  ["203.0.113.0", 24, "documentation"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"],
];

function v4Number(address: string): number | null {
  const parts = address.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

/** What kind of non-public IPv4 address this is, or null for a public one. */
export function nonPublicV4(address: string): string | null {
  const n = v4Number(address);
  if (n === null) return "malformed";
  for (const [network, prefix, kind] of NON_PUBLIC_V4) {
    const size = 2 ** (32 - prefix);
    const start = v4Number(network)!;
    if (n >= start && n < start + size) return kind;
  }
  return null;
}

/** The eight 16-bit groups of an IPv6 address (brackets removed), or null when it is not one. */
function v6Groups(address: string): number[] | null {
  let text = address.toLowerCase();
  // A trailing dotted IPv4 part (::ffff:10.0.0.1) is two groups.
  const dotted = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (dotted) {
    const n = v4Number(dotted[1]!);
    if (n === null) return null;
    text = `${text.slice(0, dotted.index)}${Math.floor(n / 65_536).toString(16)}:${(n % 65_536).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string) => (part === "" ? [] : part.split(":"));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  if (![...head, ...tail].every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  return [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail].map((g) => parseInt(g, 16));
}

/** What kind of non-public IPv6 address this is, or null for a public one. Embedded IPv4 addresses are checked as such. */
export function nonPublicV6(address: string): string | null {
  const g = v6Groups(address);
  if (g === null) return "malformed";
  const embeddedV4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 8)) return "unspecified";
  if (zeros(0, 7) && g[7] === 1) return "loopback";
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and IPv4-translated (::ffff:0:a.b.c.d).
  if (zeros(0, 5) && (g[5] === 0xffff || g[5] === 0)) return nonPublicV4(embeddedV4(g[6]!, g[7]!)) && "IPv4-mapped non-public";
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return nonPublicV4(embeddedV4(g[6]!, g[7]!)) && "IPv4-translated non-public";
  // NAT64 (64:ff9b::/96) reaches the IPv4 address it embeds.
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return nonPublicV4(embeddedV4(g[6]!, g[7]!)) && "NAT64 of a non-public address";
  if ((g[0]! & 0xfe00) === 0xfc00) return "unique-local";
  if ((g[0]! & 0xffc0) === 0xfe80) return "link-local";
  if ((g[0]! & 0xffc0) === 0xfec0) return "site-local";
  if ((g[0]! & 0xff00) === 0xff00) return "multicast";
  if (g[0] === 0x2001 && g[1] === 0x0db8) return "documentation";
  // 6to4 (2002::/16) reaches the IPv4 address in its next 32 bits.
  if (g[0] === 0x2002) return nonPublicV4(embeddedV4(g[1]!, g[2]!)) && "6to4 of a non-public address";
  return null;
}

/**
 * Why `text` may not be a webhook endpoint's URL, or null when it may. `allowLoopback` (WEBHOOKS_ALLOW_LOOPBACK
 * = "1", development only) also admits http://127.0.0.1:<port>, http://localhost:<port> and http://[::1]:<port>.
 */
export function webhookUrlProblem(text: string, options: { allowLoopback: boolean }): string | null {
  if (text.length > MAX_WEBHOOK_URL_LENGTH) return `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "must be an absolute URL such as https://example.com/webhooks";
  }
  if (url.username !== "" || url.password !== "") return "must not contain credentials (user:password@); authenticate receivers by the signature";
  const host = url.hostname.toLowerCase();
  if (options.allowLoopback && url.protocol === "http:" && LOOPBACK_DEV_HOSTS.has(host)) {
    return url.port === "" ? "must name the port of the local receiver (http://127.0.0.1:<port>/...)" : null;
  }
  if (url.protocol !== "https:") {
    return options.allowLoopback
      ? "must be https (or, in development, http://127.0.0.1:<port>, http://localhost:<port> or http://[::1]:<port>)"
      : "must be https";
  }
  if (host.startsWith("[")) {
    const kind = nonPublicV6(host.slice(1, -1));
    return kind === null ? null : `must not point at a ${kind} address`;
  }
  // The URL parser has already turned every IPv4 spelling (decimal, hex, octal, short forms) into dotted quads.
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) {
    const kind = nonPublicV4(host);
    return kind === null ? null : `must not point at a ${kind} address`;
  }
  const name = host.replace(/\.$/, "");
  if (NON_PUBLIC_SUFFIXES.some((suffix) => name === suffix || name.endsWith(`.${suffix}`))) return `must not point at a local or internal host name (${name})`;
  if (!name.includes(".")) return "must name a public host (a fully qualified domain name)";
  return null;
}
