/// <reference types="vitest/config" />
import { defineConfig } from 'vite';

// The app is served by `shofar serve` from the binary (appliance/web/src/ui.rs):
// hashed files under /assets/ are cached for good, index.html never.
// `npm run dev` proxies the API to a running `shofar serve` (SHOFAR_URL).
const backend = process.env.SHOFAR_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 700,
    rollupOptions: {
      onwarn(warning, warn) {
        // React Query and React Router mark their modules "use client" (for
        // server components); a client-only bundle ignores it, as it should.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  server: {
    proxy: {
      '/api/v1/live': { target: backend.replace(/^http/, 'ws'), ws: true },
      '/api': backend,
    },
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./test/setup.ts'],
    include: ['test/**/*.test.{ts,tsx}'],
    css: false,
  },
});
