// The display-filter language lives in shared/filter (compileFilter). It is looked up through
// import.meta.glob so this worker still builds while that module is being written: without it the
// filter box says the language is unavailable instead of the whole app failing to build.

import type { Packet } from '../../../shared/protocols/packet.ts';

export type CompiledFilter =
  | { ok: true; predicate: (p: Packet, ctx: { checkpoint?: string }) => boolean }
  | { ok: false; error: string; at: number };

type FilterModule = { compileFilter: (src: string) => CompiledFilter };

const modules = import.meta.glob<FilterModule>('../../../shared/filter/index.ts');

let cached: Promise<FilterModule | null> | null = null;

function filterModule(): Promise<FilterModule | null> {
  const load = Object.values(modules)[0];
  cached ??= load ? load().catch(() => null) : Promise.resolve(null);
  return cached;
}

const ALL: CompiledFilter = { ok: true, predicate: () => true };

export async function compileDisplayFilter(src: string): Promise<CompiledFilter> {
  if (src.trim() === '') return ALL;
  const mod = await filterModule();
  if (!mod) return { ok: false, error: 'the display-filter language is not part of this build', at: 0 };
  try {
    return mod.compileFilter(src);
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err), at: 0 };
  }
}
