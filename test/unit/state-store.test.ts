import { runStateStoreContract } from '../fixtures/state-store-contract.ts';
import { MemoryStateStore } from '../../src/storage/memory-state-store.ts';

runStateStoreContract('MemoryStateStore', () => new MemoryStateStore());
