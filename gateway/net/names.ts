import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';

/** The names and addresses this gateway answers to: its certificate's SAN and the LAN API's Host check. */
export interface GatewayNames {
  readonly dns: readonly string[];
  readonly ips: readonly string[];
}

export interface NameSources {
  readonly gatewayId: string;
  /** names the owner configured (`lan.hostnames`), e.g. a DNS name on the home router */
  readonly extra: readonly string[];
  /** the address a listener is bound to, when it is not a wildcard */
  readonly boundHosts: readonly string[];
}

/** Lower case, no trailing dot, no IPv6 brackets or zone. */
export function normaliseHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  const zone = h.indexOf('%');
  return zone >= 0 && isIP(h.slice(0, zone)) === 6 ? h.slice(0, zone) : h;
}

/**
 * What the gateway is called right now: loopback, the machine's host name (and `.local` for mDNS),
 * `trellis-<gatewayId>.local`, the configured names, every interface address. Addresses are read from
 * the interfaces each time (DHCP may change them).
 */
export function gatewayNames(src: NameSources): GatewayNames {
  const dns = new Set<string>(['localhost']);
  const ips = new Set<string>(['127.0.0.1', '::1']);
  const host = normaliseHost(hostname());
  if (host) {
    dns.add(host);
    if (!host.endsWith('.local')) dns.add(`${host}.local`);
  }
  dns.add(`trellis-${src.gatewayId}.local`);
  for (const name of [...src.extra, ...src.boundHosts]) {
    const n = normaliseHost(name);
    if (n === '0.0.0.0' || n === '::' || n === '') continue;
    (isIP(n) ? ips : dns).add(n);
  }
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) ips.add(normaliseHost(a.address));
  return { dns: [...dns], ips: [...ips] };
}

/** Splits a Host header value into host and port (`[::1]:8080`, `box.local`, `10.0.0.2:80`). */
export function splitHostHeader(value: string): { host: string; port: string | undefined } | undefined {
  const v = value.trim();
  if (v === '' || /[\s/\\@?#]/.test(v)) return undefined;
  if (v.startsWith('[')) {
    const end = v.indexOf(']');
    if (end < 0) return undefined;
    const rest = v.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
    return { host: normaliseHost(v.slice(0, end + 1)), port: rest ? rest.slice(1) : undefined };
  }
  const colon = v.lastIndexOf(':');
  if (colon >= 0 && v.indexOf(':') !== colon) return undefined; // bare IPv6 is not a valid Host
  if (colon >= 0 && !/^\d{1,5}$/.test(v.slice(colon + 1))) return undefined;
  return { host: normaliseHost(colon >= 0 ? v.slice(0, colon) : v), port: colon >= 0 ? v.slice(colon + 1) : undefined };
}

/**
 * Decides whether a Host header names this gateway (against DNS rebinding: a page from elsewhere
 * that resolves its own name to the gateway's address still sends its own name as Host). The list
 * is rebuilt at most every `refreshMs`, and at once when an unknown host arrives (a new address).
 */
export class HostCheck {
  readonly #src: NameSources;
  readonly #refreshMs: number;
  #names = new Set<string>();
  #at = -Infinity;

  constructor(src: NameSources, refreshMs = 10_000) {
    this.#src = src;
    this.#refreshMs = refreshMs;
  }

  allows(hostHeader: string | undefined): boolean {
    if (hostHeader === undefined) return false;
    const parsed = splitHostHeader(hostHeader);
    if (!parsed) return false;
    const h = parsed.host;
    if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
    if (this.#known(h)) return true;
    const now = Date.now();
    if (now - this.#at < 1000) return false; // an unknown name refreshes the list at most once a second
    this.#refresh(now);
    return this.#names.has(h);
  }

  #known(h: string): boolean {
    const now = Date.now();
    if (now - this.#at > this.#refreshMs) this.#refresh(now);
    return this.#names.has(h);
  }

  #refresh(now: number): void {
    const n = gatewayNames(this.#src);
    this.#names = new Set([...n.dns, ...n.ips]);
    this.#at = now;
  }
}
