// Who the client is when a proxy sits in front (a cloud load balancer that terminates TLS).
// Only a connection from a configured trusted proxy may name the client: its X-Forwarded-For is
// read from the right (the hop it added last), skipping hops that are themselves trusted
// proxies; the first address that is not one is the client. Everything left of it could have
// been written by the client and is ignored, so no one can choose the address their requests
// are counted under. X-Forwarded-Proto is believed from the same proxies only.
import { BlockList, isIP } from 'node:net';

export interface ForwardedClient {
  address: string;
  proto: 'http' | 'https';
}

export class ProxyTrust {
  readonly #list = new BlockList();

  constructor(cidrs: readonly string[]) {
    for (const entry of cidrs) {
      const [address, bits] = entry.split('/') as [string, string | undefined];
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.#list.addAddress(address, family);
      else this.#list.addSubnet(address, Number(bits), family);
    }
  }

  trusts(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.#list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }

  /**
   * The client behind a trusted `peer`, from the request's X-Forwarded-For values (in order)
   * and X-Forwarded-Proto; the peer itself, with `connectionProto`, when they say nothing usable.
   */
  client(
    peer: string,
    forwardedFor: readonly string[],
    forwardedProto: string | undefined,
    connectionProto: 'http' | 'https',
  ): ForwardedClient {
    let address = peer;
    const hops = forwardedFor.flatMap((v) => v.split(','));
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = unbracket(hops[i]!.trim());
      if (isIP(hop) === 0) break; // garbage: stop at the last hop we could check
      address = hop;
      if (!this.trusts(hop)) break;
    }
    const last = forwardedProto?.split(',').at(-1)?.trim().toLowerCase();
    const proto = last === 'https' || last === 'http' ? last : connectionProto;
    return { address: address.startsWith('::ffff:') ? address.slice(7) : address, proto };
  }
}

/** "[2001:db8::1]" and "[2001:db8::1]:443" → "2001:db8::1"; "192.0.2.1:80" → "192.0.2.1". */
function unbracket(hop: string): string {
  if (hop.startsWith('[')) return hop.slice(1, hop.indexOf(']') === -1 ? undefined : hop.indexOf(']'));
  const colon = hop.indexOf(':');
  return colon !== -1 && colon === hop.lastIndexOf(':') ? hop.slice(0, colon) : hop;
}
