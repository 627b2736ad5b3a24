// Preload for the sandboxed renderer. Exposes `window.tandem`: one fixed function per operation of
// the shared contract, each bound to its own channel. No generic invoke/on reaches the page.
// Bundled to out/electron/preload.cjs; in a sandboxed preload only `electron` may be required.
import { contextBridge, ipcRenderer } from 'electron';
import {
  channelOf,
  type IpcReply,
  type Operation,
  type OperationArgs,
  type OperationResult,
  type TandemApi,
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

const api: TandemApi = {
  'app.info': () => call('app.info'),
  'file.save': (req) => call('file.save', req),
  'file.open': (req) => (req === undefined ? call('file.open') : call('file.open', req)),
};

contextBridge.exposeInMainWorld('tandem', Object.freeze(api));
