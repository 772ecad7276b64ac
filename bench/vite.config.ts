/**
 * The benchmark's own Vite config: builds bench/index.html (the bench page and
 * its workers) into bench/dist and serves it with `vite preview`, next to the
 * demo's endpoint server, with COOP/COEP on every response so the page and
 * its workers are cross-origin isolated (5 µs timers). The demo and the tests
 * keep using the root vite.config.ts, without these headers.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig, type Connect, type Plugin } from 'vite';
import { endpointServer } from '../demo/server/plugin.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/** COOP/COEP (and CORP) on every response of the dev and preview servers, endpoints included. */
export function crossOriginIsolation(): Plugin {
  const headers: Connect.NextHandleFunction = (_req, res, next) => {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    next();
  };
  return {
    name: 'syncmgr-bench-cross-origin-isolation',
    // Listed before endpointServer(), so this middleware runs before the endpoints answer.
    configureServer(server) {
      server.middlewares.use(headers);
    },
    configurePreviewServer(server) {
      server.middlewares.use(headers);
    },
  };
}

export default defineConfig({
  root,
  publicDir: false,
  logLevel: 'warn',
  plugins: [crossOriginIsolation(), endpointServer()],
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1', port: 4318 },
  worker: { format: 'es' },
  build: {
    outDir: 'bench/dist',
    emptyOutDir: true,
    target: 'es2023',
    rollupOptions: { input: { bench: fileURLToPath(new URL('./index.html', import.meta.url)) } },
  },
});
