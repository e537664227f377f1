#!/usr/bin/env bash
# Debian's Chromium for the browser check of pareto.html (tests/test_report_browser.py, driven by the playwright
# package of the dev extra; no browser download). Guarded: where it cannot be installed (not root, no apt-get,
# no network) CI goes on and that test skips, saying why. Source or run it before the test command.
if [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1 \
      || echo "chromium: apt-get install failed; the browser check of pareto.html will be skipped"
  else
    echo "chromium: not installed, and apt-get as root is not available; the browser check will be skipped"
  fi
fi
