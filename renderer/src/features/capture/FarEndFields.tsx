// The "Far end (SSH)" part of the capture dialog: where the other host's tcpdump runs, with which
// key, interface and filter. Only these fields are remembered; secrets never pass through here.

import { isInterfaceName } from '../../../../shared/ipc/contract.ts';
import type { FarEndRecord } from '../../db/schema.ts';
import { checkKeyPath, parseDestination } from './far-end.ts';

export interface FarEndForm {
  enabled: boolean;
  destination: string;
  identityFile: string;
  iface: string;
  /** null: use the same filter as this host. */
  filter: string | null;
  sudo: boolean;
}

export const EMPTY_FAR_END: FarEndForm = { enabled: false, destination: '', identityFile: '', iface: 'any', filter: null, sudo: false };

export function formFromRecord(r: FarEndRecord, enabled: boolean): FarEndForm {
  return { enabled, destination: r.destination, identityFile: r.identityFile, iface: r.interface, filter: r.filter, sudo: r.sudo };
}

/** Problems with the typed fields, by field; empty when the far end can be started. */
export function farEndProblems(f: FarEndForm): Partial<Record<'destination' | 'identityFile' | 'iface', string>> {
  if (!f.enabled) return {};
  const out: Partial<Record<'destination' | 'identityFile' | 'iface', string>> = {};
  const dest = parseDestination(f.destination);
  if ('error' in dest) out.destination = dest.error;
  const key = checkKeyPath(f.identityFile);
  if (typeof key !== 'string') out.identityFile = key.error;
  if (!isInterfaceName(f.iface.trim())) out.iface = 'Enter an interface name of the far end, or "any".';
  return out;
}

interface Props {
  value: FarEndForm;
  onChange: (next: FarEndForm) => void;
  /** This host's filter, which the far end uses unless told otherwise. */
  localFilter: string;
  recent: FarEndRecord[];
  /** Shown only after a start was attempted, so typing is not interrupted by complaints. */
  showProblems: boolean;
}

export function FarEndFields({ value, onChange, localFilter, recent, showProblems }: Props) {
  const set = (fields: Partial<FarEndForm>) => onChange({ ...value, ...fields });
  const problems = showProblems ? farEndProblems(value) : {};
  const filter = value.filter ?? localFilter;
  return (
    <fieldset className="far-end" data-testid="far-end">
      <legend>
        <label>
          <input type="checkbox" data-testid="far-end-enabled" checked={value.enabled} onChange={(e) => set({ enabled: e.target.checked })} /> Far end (SSH)
        </label>
      </legend>
      <p className="muted small">Run tcpdump on the other host over SSH at the same time; its packets join this session as host B, this host's as host A.</p>
      {value.enabled && (
        <div className="form-grid">
          <label htmlFor="far-dest">SSH destination</label>
          <span className="far-end-dest">
            <TextInput id="far-dest" testId="far-end-destination" invalid={!!problems.destination} value={value.destination}
              placeholder="user@host or user@host:port" onChange={(v) => set({ destination: v })} />
            {recent.length > 0 && (
              <select
                aria-label="Recent far ends"
                data-testid="far-end-recent"
                value=""
                onChange={(e) => {
                  const r = recent.find((x) => x.destination === e.target.value);
                  if (r) onChange({ enabled: true, destination: r.destination, identityFile: r.identityFile, iface: r.interface, filter: r.filter, sudo: r.sudo });
                }}
              >
                <option value="">Recent…</option>
                {recent.map((r) => (
                  <option key={r.destination} value={r.destination}>
                    {r.destination} ({r.interface})
                  </option>
                ))}
              </select>
            )}
          </span>
          {problems.destination && <FieldProblem text={problems.destination} />}
          <label htmlFor="far-key">Key file</label>
          <TextInput id="far-key" testId="far-end-key" invalid={!!problems.identityFile} value={value.identityFile}
            placeholder="/home/you/.ssh/id_ed25519 (empty: ssh-agent or your default keys)" onChange={(v) => set({ identityFile: v })} />
          {problems.identityFile && <FieldProblem text={problems.identityFile} />}
          <label htmlFor="far-iface">Interface there</label>
          <TextInput id="far-iface" testId="far-end-iface" invalid={!!problems.iface} value={value.iface} onChange={(v) => set({ iface: v })} />
          {problems.iface && <FieldProblem text={problems.iface} />}
          <label htmlFor="far-filter">Filter there</label>
          <span className="far-end-filter">
            <TextInput id="far-filter" testId="far-end-filter" value={filter} placeholder="empty: everything" onChange={(v) => set({ filter: v })} />
            {value.filter === null ? (
              <span className="muted small" data-testid="far-end-filter-follows">same as here</span>
            ) : (
              <button type="button" className="btn small ghost" data-testid="far-end-filter-reset" onClick={() => set({ filter: null })}>
                Use this host&apos;s
              </button>
            )}
          </span>
          <span>Privileges</span>
          <label>
            <input type="checkbox" data-testid="far-end-sudo" checked={value.sudo} onChange={(e) => set({ sudo: e.target.checked })} /> run tcpdump through <code>sudo -n</code> (needs
            passwordless sudo for tcpdump there)
          </label>
        </div>
      )}
      {value.enabled && (
        <p className="muted small" data-testid="far-end-auth-note">
          Login uses the key file or your ssh-agent only. Tandem never asks for a password or passphrase and keeps none; it remembers the
          fields above for next time.
        </p>
      )}
    </fieldset>
  );
}

interface TextInputProps { id: string; testId: string; value: string; onChange: (v: string) => void; invalid?: boolean; placeholder?: string }

/** One of the far end's text fields: no spell checking or autofill (host names, paths, filters). */
function TextInput({ id, testId, value, onChange, invalid = false, placeholder }: TextInputProps) {
  return (
    <input id={id} type="text" data-testid={testId} className={invalid ? 'invalid' : ''} value={value} placeholder={placeholder}
      spellCheck={false} autoComplete="off" onChange={(e) => onChange(e.target.value)} />
  );
}

function FieldProblem({ text }: { text: string }) {
  return (
    <span className="field-problem" data-testid="far-end-field-error" role="alert">
      {text}
    </span>
  );
}
