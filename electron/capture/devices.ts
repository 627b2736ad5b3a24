// Interface listing for the capture dialog and `tandem capture --list`.
import { readFileSync } from 'node:fs';
import { loadCap } from './cap-binding.ts';
import type { InterfaceIdentity } from './direction.ts';

export interface DeviceAddress { addr: string; netmask?: string; broadaddr?: string; dstaddr?: string }

export interface CaptureDevice {
  name: string;
  description?: string;
  addresses: DeviceAddress[];
  loopback: boolean;
  /** Administratively up (IFF_UP); undefined for pseudo-devices without a kernel interface (any, nflog…). */
  up?: boolean;
  /** Carrier/operational state (IFF_RUNNING). */
  running?: boolean;
  /** Kernel interface index (the number SLL2 headers carry), when it is a kernel interface. */
  index?: number;
}

const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;
const IFF_RUNNING = 0x40;

function sysNet(name: string, file: string): string | undefined {
  // A name with a slash is never a kernel interface; refuse it rather than walk the file system.
  if (name.includes('/') || name === '.' || name === '..') return undefined;
  try { return readFileSync(`/sys/class/net/${name}/${file}`, 'utf8').trim(); } catch { return undefined; }
}

/** libpcap's device list with kernel flags added (cap only reports the loopback flag). Throws when cap is missing. */
export function listDevices(): CaptureDevice[] {
  const cap = loadCap();
  if (cap instanceof Error) throw cap;
  return cap.Cap.deviceList().map((d) => {
    const flags = sysNet(d.name, 'flags');
    const ifindex = sysNet(d.name, 'ifindex');
    const f = flags === undefined ? undefined : parseInt(flags, 16);
    const dev: CaptureDevice = {
      name: d.name,
      addresses: d.addresses.filter((a) => a.addr).map((a) => ({ ...a, addr: a.addr! })),
      loopback: d.flags?.includes('LOOPBACK') === true || (f !== undefined && (f & IFF_LOOPBACK) !== 0),
    };
    if (d.description) dev.description = d.description;
    if (f !== undefined) {
      dev.up = (f & IFF_UP) !== 0;
      // sysfs flags omit IFF_RUNNING on many drivers; operstate is the reliable source.
      const oper = sysNet(d.name, 'operstate');
      dev.running = oper === 'up' || oper === 'unknown' ? dev.up : (f & IFF_RUNNING) !== 0;
    }
    if (ifindex !== undefined) dev.index = Number(ifindex);
    return dev;
  });
}

/** One line per device, for the CLI. */
export function formatDevice(d: CaptureDevice): string {
  const flags = [d.loopback ? 'loopback' : '', d.up === undefined ? '' : d.up ? 'up' : 'down', d.running ? 'running' : ''].filter(Boolean);
  const addrs = d.addresses.map((a) => a.addr).join(' ');
  return [d.index === undefined ? '-' : String(d.index), d.name, flags.length ? `[${flags.join(',')}]` : '', addrs, d.description ? `(${d.description})` : '']
    .filter(Boolean).join(' ');
}

/** What a capture needs to tell in from out on `name`: its MAC and its addresses. */
export function interfaceIdentity(name: string): InterfaceIdentity {
  const mac = sysNet(name, 'address');
  let addresses: InterfaceIdentity['addresses'] = [];
  const cap = loadCap();
  if (!(cap instanceof Error)) {
    const d = cap.Cap.deviceList().find((x) => x.name === name);
    addresses = (d?.addresses ?? []).filter((a) => a.addr).map((a) => ({ addr: a.addr!, ...(a.netmask && { netmask: a.netmask }) }));
  }
  return { ...(mac && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac) && { mac }), addresses };
}
