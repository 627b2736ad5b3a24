// A text box for renaming in place: Enter or leaving the box saves, Escape abandons.

import { useRef, useState } from 'react';

interface Props {
  initial: string;
  onSave: (name: string) => void;
  onDone: () => void;
  className?: string;
  testId?: string;
}

export function NameInput({ initial, onSave, onDone, className, testId }: Props) {
  const [draft, setDraft] = useState(initial);
  // Enter saves and unmounts; the blur that may follow must not save a second time.
  const finished = useRef(false);
  const finish = (save: boolean) => {
    if (finished.current) return;
    finished.current = true;
    if (save && draft.trim() && draft.trim() !== initial) onSave(draft.trim());
    onDone();
  };
  return (
    <input
      className={className}
      data-testid={testId}
      aria-label="Session name"
      value={draft}
      autoFocus
      maxLength={120}
      onFocus={(e) => e.target.select()}
      onChange={(e) => setDraft(e.target.value)}
      onBlur={() => finish(true)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') finish(true);
        else if (e.key === 'Escape') finish(false);
      }}
    />
  );
}
