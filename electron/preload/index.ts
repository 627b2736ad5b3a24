// Preload for the sandboxed renderer. Exposes `window.tandem`: one fixed function per operation of
// the shared contract, each bound to its own channel. No generic invoke/on reaches the page.
// Bundled to out/electron/preload.cjs; in a sandboxed preload only `electron` may be required.
import { contextBridge, ipcRenderer } from 'electron';
import {
  channelOf,
  eventChannelOf,
  type CaptureEvent,
  type IpcReply,
  type ProbeEvent,
  type Operation,
  type OperationArgs,
  type OperationResult,
  type TandemBridge,
} from '../../shared/ipc/contract.ts';

async function call<K extends Operation>(op: K, ...args: OperationArgs<K>): Promise<OperationResult<K>> {
  let reply: IpcReply<OperationResult<K>> | undefined;
  try {
    reply = (await ipcRenderer.invoke(channelOf(op), ...args)) as IpcReply<OperationResult<K>> | undefined;
  } catch {
    // Only reachable when the main process has no handler or went away; keep the message plain.
    throw new Error(`The desktop shell could not run "${op}".`);
  }
  if (reply?.ok === true) return reply.value;
  throw new Error(reply?.ok === false ? reply.error : `The desktop shell gave no answer to "${op}".`);
}

const CAPTURE_EVENTS = eventChannelOf('capture');
const PROBE_EVENTS = eventChannelOf('probe');

const api: TandemBridge = {
  'app.info': () => call('app.info'),
  'file.save': (req) => call('file.save', req),
  'file.open': (req) => (req === undefined ? call('file.open') : call('file.open', req)),
  'capture.devices': () => call('capture.devices'),
  'capture.start': (req) => call('capture.start', req),
  'capture.stop': (id) => call('capture.stop', id),
  'capture.startPaired': (req) => call('capture.startPaired', req),
  'report.pdf': (req) => call('report.pdf', req),
  'probe.start': (req) => call('probe.start', req),
  'probe.cancel': (id) => call('probe.cancel', id),
  'probe.file': (id, name) => call('probe.file', id, name),
  // One fixed channel; the page gets the payload only, never the IpcRendererEvent (its `sender`
  // would hand the page ipcRenderer itself).
  onCaptureEvent: (listener) => {
    if (typeof listener !== 'function') throw new TypeError('onCaptureEvent needs a function');
    const wrapped = (_event: Electron.IpcRendererEvent, payload: CaptureEvent) => listener(payload);
    ipcRenderer.on(CAPTURE_EVENTS, wrapped);
    return () => {
      ipcRenderer.removeListener(CAPTURE_EVENTS, wrapped);
    };
  },
  onProbeEvent: (listener) => {
    if (typeof listener !== 'function') throw new TypeError('onProbeEvent needs a function');
    const wrapped = (_event: Electron.IpcRendererEvent, payload: ProbeEvent) => listener(payload);
    ipcRenderer.on(PROBE_EVENTS, wrapped);
    return () => {
      ipcRenderer.removeListener(PROBE_EVENTS, wrapped);
    };
  },
};

contextBridge.exposeInMainWorld('tandem', Object.freeze(api));
