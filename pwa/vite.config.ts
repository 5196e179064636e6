/// <reference types="vitest/config" />
// Build the PWA into the Python package, where Litestar serves it at "/".
import { defineConfig } from "vite";
import { VitePWA } from "vite-plugin-pwa";

const BACKEND = process.env.COMPTOIR_DEV_BACKEND ?? "http://127.0.0.1:8000";

export default defineConfig({
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "../backend/comptoir/static/app",
    emptyOutDir: true,
    target: "es2022",
    // One small entry chunk; later screens are split off with dynamic import().
    modulePreload: { polyfill: false },
  },
  server: {
    // `npm run dev` talks to a running `comptoir serve` for everything that is not the app.
    proxy: Object.fromEntries(
      ["/api", "/admin", "/schema", "/track", "/health", "/ready"].map((p) => [p, BACKEND]),
    ),
  },
  plugins: [
    VitePWA({
      strategies: "injectManifest",
      srcDir: "src",
      filename: "sw.ts",
      injectRegister: false, // registered by src/sw-register.ts, which also offers updates
      manifestFilename: "manifest.webmanifest",
      // The app shell, its icons and favicons (the plugin adds the manifest itself).
      injectManifest: {
        globPatterns: ["**/*.{js,css,html,ico,png,svg}"],
      },
      includeManifestIcons: false, // already matched by globPatterns
      manifest: {
        id: "/",
        name: "Comptoir",
        short_name: "Comptoir",
        description: "Commandes, stock et magasins : la gestion des commandes omnicanale.",
        lang: "fr",
        dir: "ltr",
        start_url: "/",
        scope: "/",
        display: "standalone",
        theme_color: "#0b5d55",
        background_color: "#f6f7f5",
        categories: ["business", "productivity"],
        icons: [
          { src: "/icons/icon-192.png", sizes: "192x192", type: "image/png", purpose: "any" },
          { src: "/icons/icon-512.png", sizes: "512x512", type: "image/png", purpose: "any" },
          {
            src: "/icons/maskable-512.png",
            sizes: "512x512",
            type: "image/png",
            purpose: "maskable",
          },
        ],
      },
    }),
  ],
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
