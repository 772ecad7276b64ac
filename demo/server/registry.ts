// The process-wide table of tenants. Vite can run several servers in one
// process (dev server restarts on config change, vitest's own server next to
// the browser-test server), and re-evaluates this module for each config load,
// so the table lives on `globalThis` under a registered Symbol: every instance
// of the endpoint server sees the same tenants, sockets and faults.

import { Tenant } from './tenant.ts';

// Bump the version when the shape of the stored state changes, so a process
// that loaded an older copy of this code does not hand its objects to the new one.
const KEY = Symbol.for('syncmgr.demo.endpoint-server.tenants.v1');

type Holder = { [KEY]?: Map<string, Tenant> };

function table(): Map<string, Tenant> {
  const holder = globalThis as Holder;
  return (holder[KEY] ??= new Map());
}

/** The tenant with this id, created (with seeded notes) on first use. The id must already be validated. */
export function tenantFor(id: string): Tenant {
  const tenants = table();
  let tenant = tenants.get(id);
  if (!tenant) {
    tenant = new Tenant(id);
    tenants.set(id, tenant);
  }
  return tenant;
}
