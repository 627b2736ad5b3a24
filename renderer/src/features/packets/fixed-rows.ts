// Windowing for lists whose rows all have one fixed height. The visible range is arithmetic on
// scrollTop, so a new row count (a filter result, an import growing the capture) costs nothing:
// a general virtualizer keeps one measurement record per row and rebuilds all of them whenever
// the count changes, which on 500 000 rows blocked the UI thread for tens of milliseconds.

import { useLayoutEffect, useState, type RefObject } from 'react';
import { flushSync } from 'react-dom';

export interface FixedRows {
  /** First and last view index to render (overscan included); last < first when there is none. */
  first: number;
  last: number;
  /** Height of the row area in px. */
  totalHeight: number;
  /** React key for view row `index`: rows reuse their DOM nodes as the window slides. */
  keyOf(index: number): number;
  /** Call from the scroll element's scroll handler, with scrollTop if the caller already read it. */
  onScroll(scrollTop?: number): void;
  /** Scrolls view row `index` into view: `start` puts it at the top, `center` mid-way, `auto` only if hidden. */
  scrollToIndex(index: number, align: 'start' | 'center' | 'auto'): void;
}

/**
 * Rows are laid out in a body that starts `headHeight` px into the scroll content, under a sticky
 * header of that height; view row i sits at body offset i * rowHeight.
 */
export function useFixedRows(
  scrollRef: RefObject<HTMLElement | null>,
  count: number,
  rowHeight: number,
  headHeight: number,
  overscan: number,
): FixedRows {
  // Only the first visible row and the viewport height are state: a scroll inside one row re-renders nothing.
  const [top, setTop] = useState(0);
  const [height, setHeight] = useState(0);

  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    setHeight(el.clientHeight);
    setTop(Math.floor(el.scrollTop / rowHeight));
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, [scrollRef, rowHeight]);

  const visible = Math.ceil(Math.max(0, height - headHeight) / rowHeight) + 1;
  const first = Math.max(0, Math.min(top, count - 1) - overscan);
  const last = Math.min(count - 1, top + visible + overscan);
  // More slots than rows in any window, so keys stay unique among the rendered rows.
  const slots = visible + 2 * overscan + 2;

  return {
    first,
    last,
    totalHeight: count * rowHeight,
    keyOf: (index) => index % slots,
    onScroll(scrollTop) {
      const el = scrollRef.current;
      if (!el) return;
      const t = Math.floor((scrollTop ?? el.scrollTop) / rowHeight);
      // Rendered before the browser paints this scroll position, so no blank rows flash.
      if (t !== top) flushSync(() => setTop(t));
    },
    scrollToIndex(index, align) {
      const el = scrollRef.current;
      if (!el) return;
      const rowTop = headHeight + index * rowHeight;
      let target = el.scrollTop;
      if (align === 'start') target = index * rowHeight;
      else if (align === 'center') target = rowTop + rowHeight / 2 - (headHeight + el.clientHeight) / 2;
      else if (rowTop < el.scrollTop + headHeight) target = index * rowHeight;
      else if (rowTop + rowHeight > el.scrollTop + el.clientHeight) target = rowTop + rowHeight - el.clientHeight;
      el.scrollTop = Math.max(0, Math.round(target));
    },
  };
}
