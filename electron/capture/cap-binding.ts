// Loads the optional `cap` native addon at run time. It is loaded through createRequire with a
// computed name so bundlers leave it alone (a .node file cannot be bundled), and so a machine
// without libpcap still runs everything that does not capture.
import { createRequire } from 'node:module';

export interface CapDevice {
  name: string;
  description?: string;
  addresses: { addr?: string; netmask?: string; broadaddr?: string; dstaddr?: string }[];
  flags?: string;
}

/**
 * libpcap's counters for one handle since it was opened (pcap_stats). On Linux: `received` is every
 * packet that passed the filter, including the ones then dropped; `dropped` is packets that passed
 * the filter but found the ring buffer full; `ifDropped` is the interface's own receive-drop counter
 * (all traffic, filter or not) and libpcap only updates it on handles opened promiscuous.
 */
export interface CapStats { received: number; dropped: number; ifDropped: number }

export interface CapHandle {
  /**
   * `promisc` needs our patch (patches/cap+0.2.1.patch): only `false` turns promiscuous mode off.
   * The published cap 0.2.1 ignores a 5th argument and always opens promiscuous.
   */
  open(device: string, filter: string, bufSize: number, buffer: Buffer, promisc?: boolean): string;
  close(): boolean;
  /** Only with the patch (check `typeof handle.stats === 'function'`); throws once the handle is closed. */
  stats?: () => CapStats;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): this;
  removeAllListeners(event?: string): this;
}

export interface CapModule {
  Cap: { new (): CapHandle; deviceList(): CapDevice[] };
}

let cached: CapModule | Error | undefined;

/** The addon, or an Error saying in one sentence why it cannot be used. */
export function loadCap(): CapModule | Error {
  if (cached) return cached;
  const name = ['c', 'a', 'p'].join('');
  try {
    // A CommonJS bundle (Electron main) has its own require; ESM (tsx, the CLI bundle) builds one.
    const req = typeof require === 'function' ? require : createRequire(import.meta.url);
    cached = req(name) as CapModule;
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    cached = new Error(`the capture library (npm package cap with libpcap) cannot be loaded: ${why}`);
  }
  return cached;
}

/**
 * Every Cap object ever created is kept referenced for the life of the process, because cap 0.2.1
 * crashes the process when one is garbage-collected: its uv_poll handle is stopped but never
 * uv_close()d, so freeing the object leaves a dangling entry in libuv's handle list; and after a
 * failed open() the handle is not even initialised before close() touches it. The capture helper and
 * the CLI are short-lived and open a handful of handles, so the cost is a few hundred bytes each.
 */
const retained: CapHandle[] = [];

export function newCap(mod: CapModule): CapHandle {
  const c = new mod.Cap();
  retained.push(c);
  return c;
}

/** cap names a few link types and reports the rest as "Unknown linktype N" (N is a DLT_ value). */
export function capLinktype(s: string): number {
  switch (s) {
    case 'NULL': return 0;
    case 'ETHERNET': return 1;
    case 'IEEE802_11_RADIO': return 127;
    case 'LINKTYPE_LINUX_SLL': return 113;
    case 'RAW': return 101;
  }
  const m = /(\d+)\s*$/.exec(s);
  if (!m) return -1;
  const dlt = Number(m[1]);
  // DLT_RAW is 12 (14 on OpenBSD), LINKTYPE_RAW is 101; above 103 the DLT and LINKTYPE numbers agree.
  return dlt === 12 || dlt === 14 ? 101 : dlt;
}
