// "Capture…" in the session toolbar (desktop app only), its dialog, and the live bar with counters
// and Stop. Packets reach the session through live-capture.ts and its worker, never this thread.

import { useEffect, useState } from 'react';
import { canCapture, canCaptureFarEnd, desktopApi } from '../../../../shared/ipc/client.ts';
import type { CaptureDeviceInfo, CaptureStartRequest } from '../../../../shared/ipc/contract.ts';
import type { HostSide } from '../../db/schema.ts';
import { formatBytes, formatCount } from '../packets/format.ts';
import type { FarEndRecord } from '../../db/schema.ts';
import { dismissLiveCapture, splitCommands, startLiveCapture, startPairedCapture, stopLiveCapture, useLiveCaptures, type LiveCapture } from './live-capture.ts';
import { FAR_END_FAILURE_TITLES, parseDestination, readFarEndSettings, rememberFarEnd, rememberLocalOnly, remoteRequest } from './far-end.ts';
import { EMPTY_FAR_END, FarEndFields, farEndProblems, formFromRecord, type FarEndForm } from './FarEndFields.tsx';
import './capture.css';

/** A sentence with its `commands` as copyable code blocks (the privilege fix, for one). */
export function CaptureMessage({ message }: { message: string }) {
  const parts = splitCommands(message);
  // Commands (code with a space in it) are repeated below the sentence as copyable blocks.
  const commands = parts.filter((p) => p.code && p.text.includes(' '));
  return (
    <div className="capture-error" role="alert" data-testid="capture-error">
      <span>{parts.map((p, i) => (p.code ? <code key={i}>{p.text}</code> : <span key={i}>{p.text}</span>))}</span>
      {commands.map((p, i) => (
        <div className="cmd" key={i}>
          <pre data-testid="capture-command">{p.text}</pre>
          <button type="button" className="btn small" onClick={() => void navigator.clipboard?.writeText(p.text)}>Copy</button>
        </div>
      ))}
    </div>
  );
}

function elapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function LiveBar({ c }: { c: LiveCapture }) {
  const [, tick] = useState(0);
  const running = c.state === 'running' || c.state === 'stopping';
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => tick((n) => n + 1), 500);
    return () => clearInterval(t);
  }, [running]);
  // Elapsed runs on between stats pushes; the final figure is the helper's.
  const ms = c.summary ? c.summary.elapsedMs : Date.now() - c.startedAt;
  // tcpdump on the far end reports its kernel drops only when it stops.
  const dropsTitle = c.farEnd ? 'packets the far end\'s kernel dropped (tcpdump tells when it stops)' : 'packets libpcap dropped';
  const dropsText = c.counters.drops === null ? (c.farEnd && running ? 'at stop' : 'n/a') : formatCount(c.counters.drops);
  const tcpdump = c.summary?.farEnd?.tcpdump;
  return (
    <div
      className={`live-capture-bar${running ? '' : ' finished'}`}
      data-testid="live-capture"
      data-state={c.state}
      data-capture-id={c.captureId}
      data-host={c.host}
      data-far-end={c.farEnd ? 'true' : undefined}
    >
      <span className="live-dot" aria-hidden />
      <span className="host-badge" data-host={c.host}>{c.host}</span>
      <span data-testid="live-label">{c.farEnd ? `far end ${c.farEnd.destination} · ${c.farEnd.interface}` : c.label}</span>
      <span className="live-counters">
        <span data-testid="live-packets"><b>{formatCount(c.counters.packets)}</b> packets</span>
        <span data-testid="live-bytes"><b>{formatBytes(c.counters.bytes)}</b></span>
        <span data-testid="live-drops" title={dropsTitle}>
          drops <b>{dropsText}</b>
        </span>
        {typeof c.counters.ifDrops === 'number' && c.counters.ifDrops > 0 && (
          <span data-testid="live-ifdrops" title="frames the network interface itself dropped during the capture (all its traffic, not only what the filter selects)">
            interface drops <b>{formatCount(c.counters.ifDrops)}</b>
          </span>
        )}
        <span data-testid="live-elapsed">{elapsed(ms)}</span>
      </span>
      {c.summary?.farEnd && (
        <span className="small" data-testid="far-end-counters" title="as printed by tcpdump on the far end when it stopped">
          {tcpdump
            ? `tcpdump there: ${formatCount(tcpdump.captured)} captured, ${formatCount(tcpdump.receivedByFilter)} received by filter, ${formatCount(tcpdump.droppedByKernel)} dropped by kernel`
            : 'tcpdump there printed no counters'}
        </span>
      )}
      {c.summary && <span className="muted small" data-testid="live-spool" title={c.summary.spoolPath}>saved to {c.summary.spoolPath}</span>}
      {c.warnings.length > 0 && <span className="warn-text small" title={c.warnings.join('\n')}>{c.warnings.length} warning(s)</span>}
      <span className="spacer" />
      {c.error && <CaptureMessage message={c.error} />}
      {c.farEndError && (
        <div className="capture-error far-end-error" role="alert" data-testid="far-end-error" data-kind={c.farEndError.kind}>
          <b>{FAR_END_FAILURE_TITLES[c.farEndError.kind]}.</b>
          <span>{c.farEndError.message}</span>
          <span>This host&apos;s capture keeps running; stop it when you are done, or stop it and try the far end again.</span>
        </div>
      )}
      {c.state === 'running' || c.state === 'stopping' ? (
        <button type="button" className="btn small danger" data-testid="stop-capture" disabled={c.state === 'stopping'} onClick={() => void stopLiveCapture(c.captureId)}>
          {c.state === 'stopping' ? 'Stopping…' : 'Stop'}
        </button>
      ) : (
        <button type="button" className="btn small ghost" aria-label="Dismiss" onClick={() => dismissLiveCapture(c.captureId)}>✕</button>
      )}
    </div>
  );
}

function optionalInt(s: string): number | undefined {
  const n = Number(s);
  return s.trim() !== '' && Number.isInteger(n) && n > 0 ? n : undefined;
}

function CaptureDialog({ sessionId, initialHost, onClose }: { sessionId: number; initialHost: HostSide; onClose: () => void }) {
  const [devices, setDevices] = useState<CaptureDeviceInfo[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [chosen, setChosen] = useState<string[]>([]);
  const [filter, setFilter] = useState('');
  const [snaplen, setSnaplen] = useState('262144');
  const [promiscuous, setPromiscuous] = useState(true);
  const [maxPackets, setMaxPackets] = useState('');
  const [maxSeconds, setMaxSeconds] = useState('');
  const [maxMiB, setMaxMiB] = useState('');
  const [host, setHost] = useState<HostSide>(initialHost);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [farEnd, setFarEnd] = useState<FarEndForm>(EMPTY_FAR_END);
  const [recent, setRecent] = useState<FarEndRecord[]>([]);
  const [triedStart, setTriedStart] = useState(false);

  useEffect(() => {
    // The last far end used comes back prefilled; the list offers the others.
    let live = true;
    void readFarEndSettings().then((s) => {
      if (!live) return;
      setRecent(s.recent);
      if (s.recent[0]) setFarEnd(formFromRecord(s.recent[0], s.enabled && canCaptureFarEnd()));
    });
    return () => {
      live = false;
    };
  }, []);

  useEffect(() => {
    desktopApi()?.['capture.devices']().then(
      (list) => {
        setDevices(list);
        // Preselect the first interface that is up and not loopback, as a starting point.
        const first = list.find((d) => d.up && !d.loopback) ?? list[0];
        if (first) setChosen([first.name]);
      },
      (err: unknown) => setListError(err instanceof Error ? err.message : String(err)),
    );
  }, []);

  const snap = optionalInt(snaplen);
  const filterError = error !== null && /capture filter/i.test(error);
  const start = async () => {
    if (!snap || chosen.length === 0) return;
    const req: CaptureStartRequest = { interfaces: chosen, filter: filter.trim(), snaplen: snap, promiscuous };
    const mp = optionalInt(maxPackets), ms = optionalInt(maxSeconds), mb = optionalInt(maxMiB);
    if (mp) req.maxPackets = mp;
    if (ms) req.maxSeconds = ms;
    if (mb) req.maxBytes = mb * 1024 * 1024;
    setTriedStart(true);
    if (farEnd.enabled && Object.keys(farEndProblems(farEnd)).length > 0) return;
    setBusy(true);
    setError(null);
    try {
      if (farEnd.enabled) {
        const dest = parseDestination(farEnd.destination);
        if ('error' in dest) return;
        const remoteFilter = (farEnd.filter ?? filter).trim();
        const result = await startPairedCapture(sessionId, req, remoteRequest(dest, farEnd.identityFile.trim(), farEnd.iface.trim(), remoteFilter, farEnd.sudo));
        // Remembered only once the far end really started: a typo is not worth keeping.
        if (!result.farEndError) {
          await rememberFarEnd({
            destination: farEnd.destination.trim(),
            identityFile: farEnd.identityFile.trim(),
            interface: farEnd.iface.trim(),
            filter: farEnd.filter === null ? null : farEnd.filter.trim(),
            sudo: farEnd.sudo,
          });
        }
      } else {
        await startLiveCapture(sessionId, host, req);
        await rememberLocalOnly();
      }
      onClose();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const toggle = (name: string) => setChosen((c) => (c.includes(name) ? c.filter((x) => x !== name) : [...c, name]));

  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div className="modal capture-dialog" role="dialog" aria-label="Live capture" data-testid="capture-dialog" onClick={(e) => e.stopPropagation()} onKeyDown={(e) => e.key === 'Escape' && onClose()}>
        <h2>{farEnd.enabled ? 'Capture on this host and the far end' : 'Capture on this host'}</h2>
        {listError && <CaptureMessage message={listError} />}
        {!devices && !listError && <p className="muted">Listing interfaces…</p>}
        {devices && (
          <div className="iface-list" role="group" aria-label="Interfaces">
            {devices.map((d) => (
              <label key={d.name} className="iface-row" data-testid="capture-iface">
                <input type="checkbox" checked={chosen.includes(d.name)} onChange={() => toggle(d.name)} />
                <span>{d.name}</span>
                <span className={`iface-state${d.up === false ? ' down' : ''}`}>{d.up === undefined ? '' : d.up ? 'up' : 'down'}</span>
                <span className="iface-addrs">{d.addresses.map((a) => a.addr).join(' ') || d.description || ''}</span>
              </label>
            ))}
          </div>
        )}
        <div className="form-grid">
          <label htmlFor="cap-filter">Capture filter</label>
          <input id="cap-filter" type="text" data-testid="capture-filter" className={filterError ? 'invalid' : ''} value={filter} placeholder="e.g. udp port 51820 or tcp port 80 (empty: everything)" spellCheck={false} onChange={(e) => { setFilter(e.target.value); if (filterError) setError(null); }} />
          <label htmlFor="cap-snaplen">Snapshot length</label>
          <input id="cap-snaplen" type="number" min={1} data-testid="capture-snaplen" className={snap ? '' : 'invalid'} value={snaplen} onChange={(e) => setSnaplen(e.target.value)} />
          <span>Promiscuous</span>
          <label><input type="checkbox" data-testid="capture-promisc" checked={promiscuous} onChange={(e) => setPromiscuous(e.target.checked)} /> capture traffic not addressed to this host too</label>
          <span>Stop after</span>
          <span className="stops">
            <label><input type="number" min={1} data-testid="capture-max-packets" value={maxPackets} onChange={(e) => setMaxPackets(e.target.value)} /> packets</label>
            <label><input type="number" min={1} data-testid="capture-max-seconds" value={maxSeconds} onChange={(e) => setMaxSeconds(e.target.value)} /> seconds</label>
            <label><input type="number" min={1} data-testid="capture-max-mib" value={maxMiB} onChange={(e) => setMaxMiB(e.target.value)} /> MiB</label>
          </span>
          <label htmlFor="cap-host">Into the session as</label>
          {farEnd.enabled ? (
            <span data-testid="capture-host-paired">host A (this host) and host B (the far end)</span>
          ) : (
            <select id="cap-host" data-testid="capture-host" value={host} onChange={(e) => setHost(e.target.value as HostSide)}>
              <option value="A">host A</option>
              <option value="B">host B</option>
            </select>
          )}
        </div>
        {canCaptureFarEnd() && <FarEndFields value={farEnd} onChange={setFarEnd} localFilter={filter.trim()} recent={recent} showProblems={triedStart} />}
        {error && <CaptureMessage message={error} />}
        <div className="modal-actions">
          <button type="button" className="btn ghost" onClick={onClose}>Cancel</button>
          <button type="button" className="btn primary" data-testid="start-capture" disabled={busy || chosen.length === 0 || !snap} onClick={() => void start()}>
            {busy ? 'Starting…' : 'Start'}
          </button>
        </div>
      </div>
    </div>
  );
}

/** The toolbar button and dialog; renders nothing outside the desktop app. */
export function CaptureButton({ sessionId, host, disabled }: { sessionId: number; host: HostSide; disabled?: boolean }) {
  const [open, setOpen] = useState(false);
  const live = useLiveCaptures(sessionId);
  if (!canCapture()) return null;
  const busy = live.some((c) => c.state !== 'done');
  return (
    <>
      <button type="button" className="btn" data-testid="capture-open" disabled={disabled || busy} onClick={() => setOpen(true)} title="Capture live on this host">
        Capture…
      </button>
      {open && <CaptureDialog sessionId={sessionId} initialHost={host} onClose={() => setOpen(false)} />}
    </>
  );
}

/** Live bars of the session's captures (running, and finished ones until dismissed). */
export function LiveCaptures({ sessionId }: { sessionId: number }) {
  const live = useLiveCaptures(sessionId);
  if (live.length === 0) return null;
  return (
    <div className="live-captures">
      {live.map((c) => (
        <LiveBar key={c.captureId} c={c} />
      ))}
    </div>
  );
}
