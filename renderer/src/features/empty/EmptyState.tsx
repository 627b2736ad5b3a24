// Empty states that teach the workflow: capture on both ends at once, then bring both files here.

export function NoSessions({ onCreate }: { onCreate: () => void }) {
  return (
    <div className="empty" data-testid="empty-app">
      <h1>Compare both ends of a tunnel</h1>
      <p>
        Tandem reads a packet capture taken on each end of a VPN path (WireGuard, IPsec) and lines them up, so you can
        see the first place where a packet stops looking right.
      </p>
      <ol className="intro-steps">
        <li>Capture on both ends at the same time with tcpdump (the session shows the commands).</li>
        <li>Create a session and drop both files into it: you see which becomes host A and which host B (and can swap them) before the import starts.</li>
        <li>Read both packet lists side by side; everything stays in this browser&apos;s storage.</li>
      </ol>
      <button type="button" className="btn primary" data-testid="create-first-session" onClick={onCreate}>
        Create a session
      </button>
    </div>
  );
}

export function NoCaptures() {
  return (
    <div className="empty teach" data-testid="empty-session">
      <h2>Capture on both ends at the same time</h2>
      <p>Start these two captures, make one test connection through the tunnel, then stop both with Ctrl-C.</p>
      <ol className="steps">
        <li>
          <span className="step-label">Host A (client)</span>
          <code>sudo tcpdump -ni any -w a.pcap &apos;udp port 51820 or host 192.168.200.22&apos;</code>
        </li>
        <li>
          <span className="step-label">Host B (server)</span>
          <code>sudo tcpdump -ni any -w b.pcap &apos;udp port 51820 or host 192.168.200.22&apos;</code>
        </li>
      </ol>
      <p className="muted">
        Use your tunnel&apos;s UDP port (IPsec: <code>udp port 500 or udp port 4500 or esp</code>) and the address of the
        host you test against. <code>-i any</code> records the tunnel and the physical interfaces in one file.
        Drop both files here or use <b>Open capture…</b>: you see which becomes host A and which host B, and can swap
        them, before the import starts. pcap, pcapng, gzip&apos;d files and tcpdump&apos;s text output are accepted;
        anything else is refused with the reason, and nothing is stored.
      </p>
    </div>
  );
}
