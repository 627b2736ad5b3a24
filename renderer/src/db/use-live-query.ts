// A minimal React binding for Dexie's liveQuery: re-runs the query whenever the tables it read
// change (in this tab, the import worker or another window) and re-renders with the result.

import { liveQuery } from 'dexie';
import { useEffect, useState } from 'react';

export function useLiveQuery<T>(query: () => Promise<T> | T, deps: unknown[]): T | undefined;
export function useLiveQuery<T, D>(query: () => Promise<T> | T, deps: unknown[], initial: D): T | D;
export function useLiveQuery<T, D>(query: () => Promise<T> | T, deps: unknown[], initial?: D): T | D | undefined {
  const [value, setValue] = useState<T | D | undefined>(initial);
  useEffect(() => {
    const sub = liveQuery(query).subscribe({
      next: (v) => setValue(v),
      error: (e: unknown) => console.error('live query failed', e),
    });
    return () => sub.unsubscribe();
  }, deps);
  return value;
}
