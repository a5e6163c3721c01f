// The console is served by the binary at `{HEIMDALL_BASE_PATH}/console/`; the
// server rewrites `/console/` in index.html to the deployment's base path.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  base: '/console/',
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    modulePreload: false,
    sourcemap: false,
    // One bundle: no dynamic imports, so no runtime base-path resolution.
    rollupOptions: { output: { inlineDynamicImports: true } },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
  },
});
