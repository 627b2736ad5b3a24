// "Host evidence": per host, the outputs of the commands an engineer runs anyway (`wg show all
// dump`, `nft -j list ruleset`, `ip route` …), added as files (picked or dropped, several at once)
// or pasted. Each is recognised in the evidence worker and stored with the session; the analysis
// then runs again with it and the finding quotes the exact rule, route or peer.

import { useEffect, useRef, useState, type DragEvent } from 'react';
import { EVIDENCE_FORMAT_LABEL, evidenceSizeError } from '../../../../shared/evidence/collect.ts';
import { visible } from '../../../../shared/util/shell.ts';
import { addEvidenceTexts, removeEvidence } from '../../db/evidence.ts';
import type { CaptureRecord, EvidenceRecord, HostSide, SessionSettingsRecord } from '../../db/schema.ts';
import { db } from '../../db/store.ts';
import { isQuotaError } from '../import/import-text.ts';
import './evidence.css';

type Evidence = SessionSettingsRecord['evidence'];

/** The import-bar button (with the number of items) that opens the dialog. */
export function HostEvidenceButton({ sessionId, evidence, captures, links, onLinks }: {
  sessionId: number;
  evidence: Evidence;
  captures: Partial<Record<HostSide, CaptureRecord>>;
  /** The session's `ip -o link` texts per host, and how to apply one (saved, and the capture decoded again). */
  links: Partial<Record<HostSide, string>>;
  onLinks?: (host: HostSide, text: string) => void;
}) {
  const [open, setOpen] = useState(false);
  const n = (evidence?.A?.length ?? 0) + (evidence?.B?.length ?? 0);
  return (
    <>
      <button type="button" className="btn small" data-testid="evidence-open" onClick={() => setOpen(true)}
        title="Outputs of wg, ip, nft/iptables, sysctl, swanctl … from each host: the findings then name the exact rule, route or peer">
        Host evidence…{n > 0 && <span className="evidence-count" data-testid="evidence-count"> {n}</span>}
      </button>
      {open && <HostEvidenceDialog sessionId={sessionId} evidence={evidence} captures={captures} links={links} onLinks={onLinks} onClose={() => setOpen(false)} />}
    </>
  );
}

function size(n: number): string {
  return n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`;
}

/** Host text for the screen: every control, bidi or invisible character as an escape, except tabs (harmless, and how rulesets indent). */
function shown(s: string): string {
  return s.split('\t').map(visible).join('\t');
}

/** The first lines of a stored text, for a look at what was stored. */
function preview(text: string): string {
  const head = text.length > 4000 ? text.slice(0, 4000) : text;
  const lines = head.split(/\r?\n|\r/).slice(0, 60).map(shown);
  return lines.join('\n') + (head.length < text.length || lines.length === 60 ? '\n…' : '');
}

export function HostEvidenceDialog({ sessionId, evidence, captures, links, onLinks, onClose }: {
  sessionId: number;
  evidence: Evidence;
  captures: Partial<Record<HostSide, CaptureRecord>>;
  links: Partial<Record<HostSide, string>>;
  onLinks?: (host: HostSide, text: string) => void;
  onClose: () => void;
}) {
  const [host, setHost] = useState<HostSide>('B');
  const [pasteName, setPasteName] = useState('');
  const [pasteText, setPasteText] = useState('');
  const [busy, setBusy] = useState(0);
  const [messages, setMessages] = useState<string[]>([]);
  const [over, setOver] = useState(false);
  /** An `ip -o link` text given here: offered as the capture's interface names. */
  const [linkOffer, setLinkOffer] = useState<{ host: HostSide; name: string; text: string } | null>(null);
  // tcpdump -i any (SLL2) stores interface numbers; without names, rules and routes that name an interface cannot be matched.
  const unnamed = captures[host]?.interfaces.some((i) => i.linktype === 276) === true && !links[host]?.trim();
  const fileInput = useRef<HTMLInputElement>(null);
  const items = evidence?.[host] ?? [];

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => { if (e.key === 'Escape') onClose(); };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  /** Reads the files, then stores every text in one write, in the order given (a second counter reading is the "after" one). */
  const add = async (h: HostSide, list: Array<{ name: string; file?: File; text?: string }>): Promise<number> => {
    setBusy((b) => b + 1);
    const out: string[] = [];
    let stored = 0;
    try {
      const texts: Array<{ name: string; text: string }> = [];
      for (const it of list) {
        // A file's size is known before reading it: a huge one is refused without loading it.
        const big = it.file ? evidenceSizeError(visible(it.name), it.file.size) : null;
        if (big !== null) { out.push(big); continue; }
        try {
          texts.push({ name: it.name, text: it.text ?? (await it.file!.text()) });
        } catch (err) {
          out.push(`${visible(it.name)}: cannot read: ${visible(err instanceof Error ? err.message : String(err))}`);
        }
      }
      if (texts.length > 0) {
        try {
          const r = await addEvidenceTexts(db, sessionId, h, texts);
          out.push(...r.refused);
          stored = r.stored.length;
          const names = r.interfaceNames.at(-1);
          if (names) setLinkOffer({ host: h, ...names });
        } catch (err) {
          out.push(`not stored: ${isQuotaError(err) ? "the browser's storage for Tandem is full" : visible(err instanceof Error ? err.message : String(err))}`);
        }
      }
    } finally {
      setBusy((b) => b - 1);
    }
    setMessages(out);
    return stored;
  };

  const onFiles = (files: File[]) => {
    if (files.length === 0) return;
    void add(host, files.map((f) => ({ name: f.name, file: f })));
  };

  const onPaste = async () => {
    const name = pasteName.trim() || `pasted ${items.length + 1}`;
    if ((await add(host, [{ name, text: pasteText }])) > 0) {
      setPasteText('');
      setPasteName('');
    }
  };

  // The session's own drop zone imports captures: drags over this dialog stop here.
  const drag = (e: DragEvent, entering: boolean | null) => {
    e.stopPropagation();
    if (!Array.from(e.dataTransfer.types).includes('Files')) return;
    e.preventDefault();
    if (entering !== null) setOver(entering);
  };

  return (
    <div className="modal-backdrop" onClick={onClose}
      onDragEnter={(e) => drag(e, null)} onDragOver={(e) => drag(e, null)} onDragLeave={(e) => e.stopPropagation()}
      onDrop={(e) => { e.preventDefault(); e.stopPropagation(); }}>
      <div className="modal evidence-modal" role="dialog" aria-label="Host evidence" data-testid="evidence-dialog" onClick={(e) => e.stopPropagation()}>
        <h2>Host evidence</h2>
        <p className="muted small">
          The output of the commands you would run on each host anyway: <code>wg show all dump</code>, <code>ip -o addr</code>,{' '}
          <code>ip -o route show table all</code>, <code>ip rule</code>, <code>nft -j list ruleset</code> or <code>iptables-save -c</code>,{' '}
          <code>sysctl net.ipv4.ip_forward …</code>, <code>swanctl --list-sas</code>, <code>ip xfrm policy</code>, IKE log lines, and
          counters before and after the test (name those files <i>before</i>/<i>after</i>). Findings then quote the rule, route or peer.
        </p>
        <div className="view-switch evidence-hosts" role="tablist" aria-label="Host">
          {(['A', 'B'] as const).map((h) => (
            <button key={h} type="button" role="tab" aria-selected={host === h} className={`tab${host === h ? ' active' : ''}`} data-testid={`evidence-host-${h}`} onClick={() => { setHost(h); setMessages([]); }}>
              <span className="host-badge" data-host={h}>{h}</span> {captures[h] ? visible(captures[h]!.fileName) : 'no capture yet'}
              {(evidence?.[h]?.length ?? 0) > 0 && <span className="muted"> · {evidence![h]!.length}</span>}
            </button>
          ))}
        </div>

        <div className={`evidence-drop${over ? ' over' : ''}`} data-testid="evidence-drop"
          onDragEnter={(e) => drag(e, true)} onDragOver={(e) => drag(e, true)} onDragLeave={(e) => drag(e, false)}
          onDrop={(e) => { e.preventDefault(); e.stopPropagation(); setOver(false); onFiles(Array.from(e.dataTransfer.files)); }}>
          Drop files for host {host} here, or{' '}
          <button type="button" className="btn small" onClick={() => fileInput.current?.click()} disabled={busy > 0}>choose files…</button>
          <input ref={fileInput} type="file" multiple hidden data-testid="evidence-file-input"
            onChange={(e) => { onFiles(Array.from(e.target.files ?? [])); e.target.value = ''; }} />
        </div>

        <div className="evidence-paste">
          <textarea data-testid="evidence-paste" rows={5} value={pasteText} spellCheck={false} onChange={(e) => setPasteText(e.target.value)}
            placeholder={'# wg show all dump\nwg0\tPRIVATE…\tPUBLIC…\t51820\toff\n…'} aria-label={`Paste command output of host ${host}`} />
          <div className="evidence-paste-row">
            <input data-testid="evidence-paste-name" value={pasteName} onChange={(e) => setPasteName(e.target.value)} placeholder={`pasted ${items.length + 1}`} aria-label="Name of the pasted text" />
            <button type="button" className="btn small primary" data-testid="evidence-paste-add" disabled={busy > 0 || pasteText.trim() === ''} onClick={() => void onPaste()}>
              Add to host {host}
            </button>
          </div>
        </div>

        {busy > 0 && <p className="muted small" role="status" data-testid="evidence-busy">Reading…</p>}
        {linkOffer?.host === host && onLinks && captures[host] && (
          <p className="small" data-testid="evidence-links-offer">
            {visible(linkOffer.name)} lists this host's interfaces (<code>ip -o link</code>).{' '}
            <button type="button" className="btn small primary" data-testid="evidence-use-links" onClick={() => { onLinks(host, linkOffer.text); setLinkOffer(null); setMessages([]); }}>
              Use as interface names for host {host}
            </button>
          </p>
        )}
        {unnamed && items.length > 0 && !(linkOffer?.host === host) && (
          <p className="warn-text small" data-testid="evidence-no-names">
            Host {host}&apos;s capture (<code>tcpdump -i any</code>) has interface numbers, not names: a rule or route that names an
            interface (<code>iifname &quot;wg0&quot;</code>, <code>dev eth1</code>) cannot be matched against it, so a finding may quote the
            wrong item. Add this host&apos;s <code>ip -o link</code> here or under Interface names….
          </p>
        )}
        {messages.length > 0 && (
          <ul className="evidence-messages" role="status">
            {messages.map((m, i) => <li key={i} className="problem small" data-testid="evidence-error">{m}</li>)}
          </ul>
        )}

        <ul className="evidence-list" data-testid="evidence-list" data-host={host}>
          {items.length === 0 && <li className="muted small">No evidence for host {host} yet.</li>}
          {items.map((e) => <EvidenceItem key={e.id} item={e} onRemove={() => void removeEvidence(db, sessionId, host, e.id)} />)}
        </ul>
        <div className="modal-actions">
          <button type="button" className="btn" data-testid="evidence-close" onClick={onClose}>Close</button>
        </div>
      </div>
    </div>
  );
}

function EvidenceItem({ item, onRemove }: { item: EvidenceRecord; onRemove: () => void }) {
  const total = item.problemCount ?? item.problems.length;
  return (
    <li className="evidence-item" data-testid="evidence-item" data-format={item.format}>
      <div className="evidence-item-head">
        <span className="evidence-name" data-testid="evidence-name">{visible(item.name)}</span>
        <span className="evidence-format" data-testid="evidence-format">{EVIDENCE_FORMAT_LABEL[item.format] ?? visible(String(item.format))}</span>
        <span className="muted small">{size(item.text.length)}</span>
        {(item.secretsRemoved ?? 0) > 0 && <span className="muted small" data-testid="evidence-secrets" title="The parsers never use them, so they are not stored">{item.secretsRemoved} key{item.secretsRemoved === 1 ? '' : 's'} not kept</span>}
        {total > 0 && <span className="warn-text small" data-testid="evidence-problem-count">{total} line{total === 1 ? '' : 's'} not understood</span>}
        <span className="spacer" />
        <button type="button" className="btn small ghost" data-testid="evidence-remove" title="Remove this item (the analysis runs again without it)" onClick={onRemove}>Remove</button>
      </div>
      {total > 0 && (
        <ul className="evidence-problems" data-testid="evidence-problems">
          {item.problems.slice(0, 20).map((p, i) => (
            <li key={i}>line {p.line}: {visible(p.message)}{p.text !== undefined && !p.message.includes(p.text.trim()) && <> — <code>{shown(p.text.trim())}</code></>}</li>
          ))}
          {total > 20 && <li className="muted">… {total - 20} more</li>}
        </ul>
      )}
      <details className="evidence-text">
        <summary className="muted small">text</summary>
        <pre data-testid="evidence-preview">{preview(item.text)}</pre>
      </details>
    </li>
  );
}
