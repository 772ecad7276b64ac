/** What bench/engines/ports.measure.ts and its workers say to each other. */
import type { TickKind } from './ticks.ts';

export const PORTS_CHANNEL = 'syncmgr-ports-measure';
export interface PortsCookie { mode: 'empty' | 'progress' | 'sends' | 'rtt'; count?: number; size?: number; url?: string }
export interface PortsReport { sessionId: string; handlerId: string; value: Record<string, number> }

/** The probe worker's API (Comlink), on its own port and on a transferred one. */
export interface ProbeApi {
  echo(x: unknown): unknown;
  /** `n` sequential calls of the page's progress(), over `via`; answers ms per call. */
  callPage(via: 'self' | 'port', n: number): Promise<number>;
  ticks(kind: TickKind, n: number): Promise<number>;
  kinds(): TickKind[];
}
