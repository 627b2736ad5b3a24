// Session-level tools: exports, the flow selector, interface names for SLL2 captures, and the bar
// that shows the session worker's long jobs with a cancel button.

import { useCallback, useEffect, useRef, useState } from 'react';
import { useDismiss } from './Extras.tsx';
import { parseIpLink } from '../../../../shared/capture-file/links.ts';
import { desktopApi } from '../../../../shared/ipc/client.ts';
import type { AnalysisResult } from '../../../../shared/analysis/types.ts';
import type { CaptureRecord, HostSide } from '../../db/schema.ts';
import type { ExportFormat } from '../../workers/session-messages.ts';
import type { useSessionEngine } from './session-engine.ts';

type Engine = ReturnType<typeof useSessionEngine>;

type MenuKey = ExportFormat | 'pdf';

const FORMATS: Array<{ key: MenuKey; label: string }> = [
  { key: 'html', label: 'HTML report' },
  { key: 'md', label: 'Markdown' },
  { key: 'json', label: 'JSON' },
  { key: 'pcapng', label: 'Annotated pcapng (both hosts)' },
  { key: 'pcapng-A', label: 'Annotated pcapng, host A only' },
  { key: 'pcapng-B', label: 'Annotated pcapng, host B only' },
];

/** PDF comes from the desktop shell (Chromium's printer on the HTML report); the browser build has no PDF item. */
function menuFormats(): Array<{ key: MenuKey; label: string }> {
  if (typeof desktopApi()?.['report.pdf'] !== 'function') return FORMATS;
  const at = FORMATS.findIndex((f) => f.key === 'html') + 1;
  return [...FORMATS.slice(0, at), { key: 'pdf', label: 'PDF report' }, ...FORMATS.slice(at)];
}

async function exportPdf(engine: Engine, sessionName: string): Promise<void> {
  const api = desktopApi();
  if (!api) throw new Error('PDF export needs the desktop app');
  const m = await engine.exportAs('html', sessionName);
  const html = typeof m.data === 'string' ? m.data : new TextDecoder().decode(m.data);
  const pdf = await api['report.pdf']({ html });
  const name = /\.html?$/i.test(m.name) ? m.name.replace(/\.html?$/i, '.pdf') : `${m.name}.pdf`;
  await saveFile(name, 'application/pdf', pdf);
}

async function saveFile(name: string, mime: string, data: Uint8Array | string): Promise<void> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const api = desktopApi();
  if (api) {
    await api['file.save']({ suggestedName: name, data: bytes });
    return;
  }
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function ExportMenu({ disabled, sessionName, engine }: { disabled: boolean; sessionName: string; engine: Engine }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const box = useRef<HTMLDivElement>(null);
  const close = useCallback(() => setOpen(false), []);
  // Escape anywhere, a click elsewhere, switching away from the window or tab: the menu closes.
  useDismiss(open, box, close);
  const run = async (f: MenuKey) => {
    setOpen(false);
    setError(null);
    try {
      if (f === 'pdf') {
        await exportPdf(engine, sessionName);
        return;
      }
      const m = await engine.exportAs(f, sessionName);
      await saveFile(m.name, m.mime, m.data);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <div className="export-menu" ref={box}>
      <button type="button" className="btn" data-testid="export" disabled={disabled} aria-expanded={open} onClick={() => setOpen((o) => !o)}>
        Export ▾
      </button>
      {open && (
        <div className="menu" role="menu" data-testid="export-menu">
          {menuFormats().map((f) => (
            <button key={f.key} type="button" role="menuitem" className="menu-item" data-testid={`export-${f.key}`} onClick={() => void run(f.key)}>
              {f.label}
            </button>
          ))}
        </div>
      )}
      {error && <span className="problem small" role="status">export failed: {error}</span>}
    </div>
  );
}

export function FlowInput({ value, detected, onApply }: { value: string; detected: AnalysisResult['flow']; onApply: (flow: string) => void }) {
  const [draft, setDraft] = useState(value);
  // A flow picked elsewhere (the conversations table) replaces the draft.
  useEffect(() => setDraft(value), [value]);
  const auto = detected ? `${detected.proto} ${detected.src ?? ''}${detected.sport != null ? `:${detected.sport}` : ''} > ${detected.dst}${detected.dport != null ? `:${detected.dport}` : ''}` : 'automatic';
  return (
    <form className="flow-input" onSubmit={(e) => { e.preventDefault(); onApply(draft.trim()); }}>
      <label>
        Flow
        <input data-testid="flow-input" value={draft} placeholder={auto} onChange={(e) => setDraft(e.target.value)} title='e.g. "tcp 192.168.200.22:80"; empty = the first connection attempt through the tunnel' />
      </label>
      {draft.trim() !== value && <button type="submit" className="btn small">Trace</button>}
    </form>
  );
}

export function LinkNamesDialog({ captures, initial, onApply, onClose }: {
  captures: Partial<Record<HostSide, CaptureRecord>>;
  initial: Partial<Record<HostSide, string>>;
  onApply: (host: HostSide, text: string) => void;
  onClose: () => void;
}) {
  const [host, setHost] = useState<HostSide>(captures.A ? 'A' : 'B');
  const [text, setText] = useState(initial[host] ?? '');
  const parsed = parseIpLink(text);
  const c = captures[host];
  const sll2 = c?.interfaces.some((i) => i.linktype === 276);
  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div className="modal" role="dialog" aria-label="Interface names" data-testid="link-dialog" onClick={(e) => e.stopPropagation()} onKeyDown={(e) => e.key === 'Escape' && onClose()}>
        <h2>Interface names for host {host}</h2>
        <p className="muted">
          <code>tcpdump -i any</code> stores an interface <i>number</i> with each packet, not its name. Run{' '}
          <code>ip -o link</code> on the capture host and paste its output here; the capture is decoded again with the names.
        </p>
        <label className="host-choice">
          host
          <select value={host} onChange={(e) => { const h = e.target.value as HostSide; setHost(h); setText(initial[h] ?? ''); }}>
            {captures.A && <option value="A">A · {captures.A.fileName}</option>}
            {captures.B && <option value="B">B · {captures.B.fileName}</option>}
          </select>
        </label>
        {c && !sll2 && <p className="warn-text small">This capture does not use the Linux "any" header (SLL2); its names come from the file itself.</p>}
        <textarea data-testid="link-text" rows={7} value={text} onChange={(e) => setText(e.target.value)} placeholder={'1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 …\n2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 …\n3: wg0: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1420 …'} spellCheck={false} />
        <div className="muted small" data-testid="link-parsed">
          {parsed.size ? [...parsed].map(([i, n]) => `${i} → ${n}`).join(' · ') : 'no interface lines recognised yet'}
        </div>
        <div className="modal-actions">
          <button type="button" className="btn ghost" onClick={onClose}>Cancel</button>
          <button type="button" className="btn primary" data-testid="link-apply" disabled={parsed.size === 0} onClick={() => onApply(host, text)}>
            Apply names
          </button>
        </div>
      </div>
    </div>
  );
}

const TASK_TEXT: Record<string, string> = {
  load: 'Reading packets for analysis',
  analyze: 'Analysing both ends',
  relink: 'Decoding again with interface names',
  export: 'Building export',
  filter: 'Filtering',
};

export function TaskBar({ engine }: { engine: Engine }) {
  const { task, error } = engine.state;
  if (!task && !error) return null;
  const pct = task && task.total > 0 ? Math.round((task.done / task.total) * 100) : 0;
  return (
    <div className="task-bar" data-testid="task-bar" data-task={task?.task ?? ''}>
      {task && (
        <>
          <span>{TASK_TEXT[task.task]}…</span>
          <div className="progress" role="progressbar" aria-valuenow={pct} aria-valuemin={0} aria-valuemax={100} aria-label={TASK_TEXT[task.task]}>
            <div className={`progress-fill${task.task === 'analyze' ? ' indeterminate' : ''}`} style={{ width: task.task === 'analyze' ? '100%' : `${pct}%` }} />
          </div>
          <button type="button" className="btn small" data-testid="cancel-task" onClick={engine.cancel}>Cancel</button>
        </>
      )}
      {!task && error && <span className="problem" role="status" data-testid="engine-error">{error}</span>}
    </div>
  );
}
