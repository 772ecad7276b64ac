// The part of Deno's namespace the suite uses, for tsc (tsconfig.deno.json). Deno itself never
// reads this file: nothing imports it, and `deno test` runs with --no-check.

declare namespace Deno {
  interface TestContext {
    readonly name: string;
  }

  interface TestDefinition {
    name: string;
    fn(t: TestContext): void | Promise<void>;
    /** Fail the test if an async op it started is still pending at its end (default false since Deno 2.8). */
    sanitizeOps?: boolean;
    /** Fail the test if a resource (socket, file, MessagePort…) it opened is still open at its end (default false since Deno 2.8). */
    sanitizeResources?: boolean;
    /** Fail the test if it calls Deno.exit (default true). */
    sanitizeExit?: boolean;
  }

  function test(definition: TestDefinition): void;

  const version: { readonly deno: string; readonly v8: string; readonly typescript: string };
}
