import { describe, expect, test } from 'vitest';
import { advance, canAdvance, checkCall, type HandlerPhase } from '../../src/coordinator/handler-phase.ts';
import { SyncError } from '../../src/protocol/sync-error.ts';

const PHASES: HandlerPhase[] = ['starting', 'initializing', 'enumerating', 'preparing', 'synchronizing', 'finished'];

describe('slot phases', () => {
  test('follow the SyncMgr order and may finish from any unfinished phase', () => {
    for (let i = 0; i < PHASES.length - 1; i++) {
      expect(canAdvance(PHASES[i]!, PHASES[i + 1]!)).toBe(true);
      expect(canAdvance(PHASES[i]!, 'finished')).toBe(true);
    }
  });

  test('never skip a phase, go back, or leave finished', () => {
    expect(canAdvance('starting', 'enumerating')).toBe(false);
    expect(canAdvance('initializing', 'synchronizing')).toBe(false);
    expect(canAdvance('preparing', 'initializing')).toBe(false);
    for (const to of PHASES) expect(canAdvance('finished', to)).toBe(false);
    expect(() => advance('enumerating', 'synchronizing')).toThrow(SyncError);
    expect(advance('preparing', 'synchronizing')).toBe('synchronizing');
  });

  test('establishConnection is allowed only while synchronizing', () => {
    expect(() => checkCall('establishConnection', 'synchronizing', 'h')).not.toThrow();
    for (const phase of PHASES.filter((p) => p !== 'synchronizing')) {
      try {
        checkCall('establishConnection', phase, 'notes', "endpoint 'live'");
        expect.unreachable(`allowed in ${phase}`);
      } catch (error) {
        expect(SyncError.is(error, 'E_UNEXPECTED')).toBe(true);
        expect((error as Error).message).toContain("'notes'");
        expect((error as Error).message).toContain('establishConnection');
        expect((error as Error).message).toContain("endpoint 'live'");
      }
    }
  });

  test('progress, the log and ctx.store are allowed in prepare and synchronize, refused after the end', () => {
    for (const call of ['progress', 'logError', 'deleteLogError', 'store.get', 'store.set', 'store.delete', 'store.keys', 'store.entries'] as const) {
      expect(() => checkCall(call, 'preparing', 'h')).not.toThrow();
      expect(() => checkCall(call, 'synchronizing', 'h')).not.toThrow();
      expect(() => checkCall(call, 'finished', 'h')).toThrow(/after its work ended/);
      expect(() => checkCall(call, 'initializing', 'h')).toThrow(SyncError);
    }
  });
});
