#!/usr/bin/env bash
# install.sh: installs the pinned Azurite into tools/azurite/node_modules with
# `npm ci`, when it is missing or older than package-lock.json.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
stamp="$here/node_modules/.leasehold-installed"
if [ -x "$here/node_modules/.bin/azurite-blob" ] && [ "$stamp" -nt "$here/package-lock.json" ]; then
	exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
	echo "install.sh: npm is needed to install Azurite (Node.js 20 or later)" >&2
	exit 1
fi
echo "install.sh: installing Azurite with npm ci" >&2
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
touch "$stamp"
