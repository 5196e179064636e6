// Copies Swagger UI's browser files from node_modules to where Comptoir serves them
// (/schema/viewer/…), so the API documentation at /schema loads nothing from the internet.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, "node_modules", "swagger-ui-dist");
const target = join(here, "..", "..", "backend", "comptoir", "static", "schema-viewer");
const files = [
  "swagger-ui-bundle.js",
  "swagger-ui-standalone-preset.js",
  "swagger-ui.css",
  "favicon-32x32.png",
];

mkdirSync(target, { recursive: true });
for (const file of files) {
  copyFileSync(join(source, file), join(target, file));
}
console.log(`schema viewer: ${files.length} files in ${target}`);
