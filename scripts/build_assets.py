"""Build the front-end assets into the package's static/vendor folder, from the pinned npm packages.

- copies htmx and Swagger UI as they are;
- bundles ECharts with esbuild from `echarts/core` with only the charts and components the pages
  use: `vendor/echarts.js` for the chart pages, `vendor/echarts-map.js` for the places map,
  `vendor/echarts-screen.js` for the cockpit's one screen (map, bars, line; their
  entries are scripts/assets/*.js), and keeps the full `echarts.min.js` beside them, the baseline
  `tongban bench pages` measures against (a page asked with `?echarts=full` loads it);
- vendors axe-core for the browser tests (tests/browser/conftest.py injects it into every page),
  outside the package: it is never served.

Fingerprints are not written here: `tongban.webkit.assets` hashes each file it serves, so a file
edited after a build can never be served under an old name.
"""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "src" / "tongban" / "web" / "static" / "vendor"
TEST_VENDOR = ROOT / "tests" / "browser" / ".vendor"
FILES = {
    "node_modules/htmx.org/dist/htmx.min.js": "htmx.min.js",
    # the full build: only the baseline of `tongban bench pages --echarts full`
    "node_modules/echarts/dist/echarts.min.js": "echarts.min.js",
    # The API docs page (/api/v1/docs) is served from here, not a public CDN: offline networks.
    "node_modules/swagger-ui-dist/swagger-ui-bundle.js": "swagger-ui-bundle.js",
    "node_modules/swagger-ui-dist/swagger-ui.css": "swagger-ui.css",
}
TEST_FILES = {"node_modules/axe-core/axe.min.js": "axe.min.js"}


BUNDLES = ("echarts.js", "echarts-map.js", "echarts-screen.js")  # scripts/assets/NAME → static/vendor/NAME


def bundle(name: str) -> Path:
    out = VENDOR / name
    esbuild = ROOT / "node_modules" / ".bin" / "esbuild"
    subprocess.run(  # noqa: S603
        [str(esbuild), str(ROOT / "scripts" / "assets" / name), "--bundle", "--minify",
         "--format=iife", "--target=es2017", "--legal-comments=none", "--log-level=warning",
         f"--outfile={out}"],
        check=True, cwd=ROOT)
    return out


def main() -> int:
    VENDOR.mkdir(parents=True, exist_ok=True)
    TEST_VENDOR.mkdir(parents=True, exist_ok=True)
    for src, dest in FILES.items():
        shutil.copyfile(ROOT / src, VENDOR / dest)
    for src, dest in TEST_FILES.items():
        shutil.copyfile(ROOT / src, TEST_VENDOR / dest)
    built = ", ".join(f"{b.name} {b.stat().st_size // 1024} KB" for b in map(bundle, BUNDLES))
    full = (VENDOR / "echarts.min.js").stat().st_size
    print(f"assets: {len(FILES) + len(BUNDLES)} files in {VENDOR.relative_to(ROOT)} "
          f"({built}; full echarts.min.js {full // 1024} KB), "
          f"{len(TEST_FILES)} in {TEST_VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
