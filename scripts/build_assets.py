"""Copy the pinned npm front-end assets into the package's static/vendor folder."""

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "src" / "tongban" / "web" / "static" / "vendor"
FILES = {
    "node_modules/htmx.org/dist/htmx.min.js": "htmx.min.js",
    "node_modules/echarts/dist/echarts.min.js": "echarts.min.js",
    # The API docs page (/api/v1/docs) is served from here, not a public CDN: offline networks.
    "node_modules/swagger-ui-dist/swagger-ui-bundle.js": "swagger-ui-bundle.js",
    "node_modules/swagger-ui-dist/swagger-ui.css": "swagger-ui.css",
}

VENDOR.mkdir(parents=True, exist_ok=True)
for src, dest in FILES.items():
    shutil.copyfile(ROOT / src, VENDOR / dest)
print(f"assets: {len(FILES)} files in {VENDOR.relative_to(ROOT)}")
