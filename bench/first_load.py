"""What a browser transfers on a first visit (empty cache) and on the next one, per page.

    apt-get install chromium          # Debian's Chromium: Playwright's own browser download is not used
    .venv/bin/python bench/first_load.py --database s2o_bench_100k_copy

Starts gunicorn (repository config, production settings) on a bench database, opens each page in
headless Chromium as the persona who uses it, and sums the bytes that crossed the wire (Chrome's
encodedDataLength: headers plus the compressed body) for the document and everything it loaded. The
second visit in the same browser shows what the one-year cache of hashed static files saves.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pages_bench import HOST, ROOT, collect_static, database_url, people, server_env, start_server, stop_server

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def measure(browser, base: str, sessionid: str, path: str) -> list[tuple[int, dict[str, int]]]:
    """Bytes per visit (two visits, one browser context), and per resource type for each."""
    context = browser.new_context(extra_http_headers={"X-Forwarded-Proto": "https"})
    context.add_cookies([{"name": "sessionid", "value": sessionid, "url": base}])
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    types: dict[str, str] = {}
    sizes: dict[str, int] = {}
    cdp.on("Network.responseReceived", lambda e: types.__setitem__(e["requestId"], e["type"]))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])))
    visits = []
    for _ in range(2):
        types.clear()
        sizes.clear()
        page.goto(base + path, wait_until="networkidle")
        by_type: dict[str, int] = {}
        for request_id, size in sizes.items():
            kind = types.get(request_id, "Other")
            by_type[kind] = by_type.get(kind, 0) + size
        visits.append((sum(sizes.values()), by_type))
    context.close()
    return visits


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", required=True)
    parser.add_argument("--port", type=int, default=8143)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    if "bench" not in args.database:
        sys.exit("The database name must contain 'bench'.")
    work = Path(tempfile.mkdtemp(prefix="s2o-first-load-"))
    env = server_env(database_url(args.database), secrets.token_urlsafe(64), args.port, work / "gunicorn.ctl", work,
                     ROOT / "var" / "bench-static")
    collect_static(env)
    cast = people(env)
    (work / "people.json").write_text(json.dumps(cast))
    sessions = {role: users[0]["sessionid"] for role, users in cast["sessions"].items()}
    pages = [("dashboard", "manager", "/ops/dashboard/"), ("request list", "rep", "/requests/"),
             ("request page", "rep", f"/requests/{cast['request_of_first_rep']}/"), ("triage", "ops_lead", "/ops/triage/"),
             ("department queue", "ops_member", "/ops/department/")]
    server = start_server(env, args.port, work / "gunicorn.log")
    base = f"http://{HOST}:{args.port}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            print(f"{cast['requests']:,} requests in {args.database}; bytes transferred (headers + compressed bodies)")
            print(f"{'page':<18} {'first visit':>12} {'next visit':>11}  first visit by type")
            for label, role, path in pages:
                (first, by_type), (second, _) = measure(browser, base, sessions[role], path)
                detail = ", ".join(f"{kind} {size / 1024:.0f} KB" for kind, size in sorted(by_type.items()))
                print(f"{label:<18} {first / 1024:>9.0f} KB {second / 1024:>8.0f} KB  {detail}", flush=True)
            browser.close()
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
