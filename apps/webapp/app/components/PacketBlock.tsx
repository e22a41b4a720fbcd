import type { Packet } from "~/presenters/dashboard/format";

/** A titled card holding a payload, output, error or metadata packet. */
export function PacketBlock({
  title,
  packet,
  empty,
  tone,
  tall,
}: {
  title: string;
  packet: Packet;
  empty: string;
  tone?: "error";
  tall?: boolean;
}) {
  return (
    <section className="card">
      <div className="card-header">
        <h2>{title}</h2>
        {packet ? (
          <span className="faint mono">
            {packet.type}
            {packet.downloadUrl ? (
              <>
                {" · "}
                <a href={packet.downloadUrl} download data-packet-download>
                  Download{packet.bytes !== undefined ? ` (${formatBytes(packet.bytes)})` : ""}
                </a>
              </>
            ) : null}
          </span>
        ) : null}
      </div>
      {packet ? (
        <>
          <pre className={`packet${tone === "error" ? " error" : ""}${tall ? " tall" : ""}`}>{packet.text}</pre>
          {packet.truncated ? <div className="note">Truncated for display.</div> : null}
        </>
      ) : (
        <div className="note">{empty}</div>
      )}
    </section>
  );
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  return `${Math.round(bytes / 1024)} KiB`;
}
