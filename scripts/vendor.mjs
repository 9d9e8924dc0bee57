// Copies the front-end packages installed by npm into zhouxin/static/vendor,
// so the app serves them itself: no page loads anything from another host.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "zhouxin", "static", "vendor");
const files = {
  "bootstrap/dist/css/bootstrap.min.css": "bootstrap/bootstrap.min.css",
  "bootstrap/dist/js/bootstrap.bundle.min.js": "bootstrap/bootstrap.bundle.min.js",
  "htmx.org/dist/htmx.min.js": "htmx/htmx.min.js",
  "echarts/dist/echarts.min.js": "echarts/echarts.min.js",
};
rmSync(out, { recursive: true, force: true });
for (const [from, to] of Object.entries(files)) {
  mkdirSync(dirname(join(out, to)), { recursive: true });
  cpSync(join(root, "node_modules", from), join(out, to));
}
console.log(`vendor: ${Object.keys(files).length} files in ${out}`);
