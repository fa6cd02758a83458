#!/usr/bin/env bash
# Refreshes the charting library the dashboard ships (src/hotline/dashboard/static/vendor/).
# The page has no build step: the minified file and its licences are committed, and this script
# is only for upgrading them. Change the version in package.json, then run ./vendor.sh.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
out=../../src/hotline/dashboard/static/vendor
mkdir -p "$out"
cp node_modules/echarts/dist/echarts.min.js "$out/echarts.min.js"
cp node_modules/echarts/LICENSE "$out/LICENSE-echarts.txt"
cp node_modules/echarts/NOTICE "$out/NOTICE-echarts.txt"
cp node_modules/echarts/licenses/LICENSE-d3 "$out/LICENSE-d3.txt"
# echarts.min.js bundles zrender and tslib.
cp node_modules/zrender/LICENSE "$out/LICENSE-zrender.txt"
cp node_modules/tslib/LICENSE.txt "$out/LICENSE-tslib.txt"
node -e '
  const v = (p) => require(`./node_modules/${p}/package.json`).version;
  console.log(`echarts ${v("echarts")}\nzrender ${v("zrender")}\ntslib ${v("tslib")}`);
' > "$out/VERSIONS.txt"
cat "$out/VERSIONS.txt"
