"""Screenshot every page of a Snakemake report in headless Chromium, so that a regression shows.

    python scripts/screenshot_report.py report.html OUT_DIR [--chromium chromium] [--size 1600,1000]

The report is one page whose views (home, each category's list, each table or figure) are set by
its own JavaScript (``app.setView``). This writes a copy of the report with a small script that
opens the view named in the URL's query, then has Chromium (the Debian package ``chromium``)
screenshot each view to ``OUT_DIR/NN-<view>.png``. It prints one line per screenshot and exits
non-zero if Chromium fails on any view.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path

# Opens the view given as ?kind=...&category=...&subcategory=...&path=... once the app has mounted.
VIEW_SCRIPT = """
<script>
window.addEventListener("load", function () {
  const q = new URLSearchParams(window.location.search);
  const kind = q.get("kind");
  if (!kind) { return; }
  setTimeout(function () {
    if (kind === "category") { app.showCategory(q.get("category")); return; }
    const view = {navbarMode: "subcategory", category: q.get("category"),
                  subcategory: q.get("subcategory")};
    if (kind === "result") {
      const path = q.get("path");
      const mime = results[path].mime_type;
      view.content = mime === "text/html" ? "html" : "img";
      view.contentPath = results[path].data_uri;
      view.resultPath = path;
    }
    app.setView(view);
  }, 300);
});
</script>
"""

SHOWN_MIME = ("text/html", "image/png", "image/jpeg", "image/svg+xml")


def embedded_json(page: str, name: str) -> dict:
    """The object a report assigns to ``var <name> = {...};``."""
    match = re.search(rf'<script id="{name}">\s*var {name} = (.*?);\s*</script>', page, re.S)
    if match is None:
        raise ValueError(f"no `var {name}` in the report; is it a Snakemake HTML report?")
    return json.loads(match.group(1))


def views(page: str) -> list[tuple[str, dict[str, str]]]:
    """(file stem, query) of every view: home, each category, each shown result."""
    results, categories = embedded_json(page, "results"), embedded_json(page, "categories")
    out = [("home", {})]
    for category, subcategories in categories.items():
        out.append((f"category-{category}", {"kind": "category", "category": category}))
        for subcategory, paths in subcategories.items():
            for path in paths:
                if results[path]["mime_type"] not in SHOWN_MIME:
                    continue  # downloads (md, tex, csv) have no view
                query = {
                    "kind": "result",
                    "category": category,
                    "subcategory": subcategory,
                    "path": path,
                }
                out.append((f"{category}-{Path(path).name}", query))
    return out


def safe(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="report.html from `snakemake --report`")
    parser.add_argument("out_dir", type=Path, help="folder for the screenshots")
    parser.add_argument("--chromium", default="chromium", help="Chromium executable")
    parser.add_argument("--size", default="1600,1000", help="window width,height in pixels")
    args = parser.parse_args(argv)
    chromium = shutil.which(args.chromium)
    if chromium is None:
        parser.error(f"{args.chromium} not found; install it (Debian: apt-get install chromium)")
    page = args.report.read_text()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        viewer = Path(tmp) / "report.html"
        head, tail = page.rsplit("</body>", 1)  # the last one: the bundled scripts hold others
        viewer.write_text(head + VIEW_SCRIPT + "</body>" + tail)
        for i, (stem, query) in enumerate(views(page)):
            target = args.out_dir / f"{i:02d}-{safe(stem)}.png"
            url = viewer.as_uri() + ("?" + urllib.parse.urlencode(query) if query else "")
            run = subprocess.run(
                [
                    chromium,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--hide-scrollbars",
                    f"--user-data-dir={tmp}/profile",
                    f"--window-size={args.size}",
                    "--virtual-time-budget=5000",
                    f"--screenshot={target}",
                    url,
                ],
                capture_output=True,
                text=True,
                timeout=120,
            )
            ok = run.returncode == 0 and target.exists()
            failed += not ok
            print(f"{'ok' if ok else 'FAILED'} {target}", flush=True)
            if not ok:
                print(run.stderr[-2000:], file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
