// Interface names for LINUX_SLL2 captures: the file holds only ifindex values, so the user supplies the
// capture host's `ip -o link` or `ip link` output and we map index → name.

const RE_LINK = /^(\d+):\s+([^:\s]+):\s/;

/** Parses `ip -o link` / `ip link` / `ip -o addr` output into ifindex → name ("eth0@if4" gives "eth0"). */
export function parseIpLink(text: string): Map<number, string> {
  const map = new Map<number, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = RE_LINK.exec(line.trimStart());
    if (!m) continue;
    const at = m[2]!.indexOf('@');
    const name = at > 0 ? m[2]!.slice(0, at) : m[2]!;
    const idx = Number(m[1]);
    if (!map.has(idx)) map.set(idx, name);
  }
  return map;
}

export const LINKTYPE_LINUX_SLL2 = 276;

/** The interface index an SLL2 header carries (bytes 4-7, big-endian), or -1 when the frame is too short. */
export function sll2InterfaceIndex(frame: Uint8Array): number {
  if (frame.length < 8) return -1;
  return ((frame[4]! << 24) | (frame[5]! << 16) | (frame[6]! << 8) | frame[7]!) >>> 0;
}
