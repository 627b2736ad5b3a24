// The checks every IPC call passes before its handler runs: the sender must be our own top-level
// page, and the arguments must satisfy the shared validators. Failures become an error reply with
// a short message; nothing is thrown across IPC. No `electron` import (unit-tested under Node).
import {
  IpcValidationError,
  isTrustedSenderUrl,
  validators,
  type IpcReply,
  type Operation,
  type OperationArgs,
  type OperationResult,
} from '../../shared/ipc/contract.ts';

/** The part of an IPC event the checks need. */
export interface SenderInfo {
  /** URL of the frame that sent the message; undefined when the frame is gone. */
  url: string | undefined;
  /** False for iframes: only the top-level page may call the shell. */
  topLevel: boolean;
}

/** One implementation per operation. `ctx` carries what the handler needs (e.g. the window). */
export type Handlers<C> = {
  [K in Operation]: (ctx: C, ...args: OperationArgs<K>) => Promise<OperationResult<K>> | OperationResult<K>;
};

/** An error whose message may be shown to the user as is. */
export class UserFacingError extends Error {
  override name = 'UserFacingError';
}

const FS_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'the file or folder does not exist',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the disk is read-only',
  ENOSPC: 'the disk is full',
  EISDIR: 'that is a folder, not a file',
  EMFILE: 'too many open files',
};

/** A one-line message for an unexpected error: file-system codes in words, never a stack. */
export function describeError(op: string, err: unknown): string {
  if (err instanceof UserFacingError) return err.message;
  if (err instanceof IpcValidationError) return `Invalid request: ${err.message}`;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code in FS_ERRORS) return `${op} failed: ${FS_ERRORS[code]}.`;
  const message = err instanceof Error ? err.message : String(err);
  const firstLine = message.split('\n', 1)[0]!.slice(0, 200);
  return `${op} failed${firstLine ? `: ${firstLine}` : '.'}`;
}

export async function dispatch<C, K extends Operation>(
  op: K,
  sender: SenderInfo,
  rawArgs: readonly unknown[],
  handlers: Handlers<C>,
  ctx: C,
): Promise<IpcReply<OperationResult<K>>> {
  if (!sender.topLevel || !isTrustedSenderUrl(sender.url)) {
    return { ok: false, error: 'Request refused: it did not come from the Tandem window.' };
  }
  try {
    const args = validators[op](rawArgs);
    const handler = handlers[op] as (ctx: C, ...a: OperationArgs<K>) => Promise<OperationResult<K>> | OperationResult<K>;
    const value = await handler(ctx, ...args);
    return { ok: true, value };
  } catch (err) {
    return { ok: false, error: describeError(op, err) };
  }
}
