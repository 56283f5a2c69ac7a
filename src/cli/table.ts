import { withoutControls } from '../common/printable.js';

/**
 * Rows as aligned columns under a header, for a terminal: two spaces between columns, `-` for an empty cell. A cell
 * may hold what a peer sent (a number, an SNI name): its control characters are printed as `?`
 * (src/common/printable.ts), so no ESC or CR from the network reaches the terminal.
 */
export function formatTable(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | null | undefined>>): string[] {
  const cells = [header.map(String), ...rows.map((r) => header.map((_, i) => {
    const v = r[i];
    return v === undefined || v === null || v === '' ? '-' : withoutControls(String(v));
  }))];
  const width = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(width[i]!))).join('  ').trimEnd());
}

/** `127.0.0.1:5060`, `[::1]:5060`. */
export function hostPort(address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/** ms since the epoch as `2026-12-04 12:00:01` (UTC). */
export function clockTime(ms: number | null | undefined): string {
  return typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString().slice(0, 19).replace('T', ' ') : '-';
}

/** A duration as `h:mm:ss`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}
