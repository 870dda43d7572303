#!/usr/bin/env bash
# with-azurite.sh CMD [ARGS...]
#
# Starts the pinned Azurite (blob service only) on a free loopback port with an
# in-memory store, exports AZURE_STORAGE_CONNECTION_STRING (and AZURITE_BLOB,
# the emulator's launcher, for tests that start their own), runs CMD, stops
# Azurite, and exits with CMD's status. Installs Azurite with `npm ci` first if
# node_modules is missing or older than the lock file.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$here/install.sh"
bin="$here/node_modules/.bin/azurite-blob"

free_port() {
	node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

port=$(free_port)
workdir=$(mktemp -d)
log="$workdir/azurite.log"
# Job control on for this one start: Azurite gets a process group of its
# own, so a Ctrl-C meant for CMD does not stop the emulator under CMD while
# CMD is still shutting down (releasing its leases); cleanup stops it after.
set -m
(cd "$workdir" && exec "$bin" --blobHost 127.0.0.1 --blobPort "$port" --inMemoryPersistence \
	--skipApiVersionCheck --disableTelemetry --silent) >"$log" 2>&1 &
pid=$!
set +m
cleanup() {
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -rf "$workdir"
}
trap cleanup EXIT INT TERM

# Wait (bounded: 30 s) until the emulator accepts connections.
for _ in $(seq 1 300); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		break
	fi
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "with-azurite: Azurite exited early:" >&2
		cat "$log" >&2
		exit 1
	fi
	sleep 0.1
done
if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
	echo "with-azurite: Azurite did not listen on 127.0.0.1:$port within 30 s:" >&2
	cat "$log" >&2
	exit 1
fi

# Azurite's well-known development account; it is public and only ever local.
key='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;BlobEndpoint=http://127.0.0.1:$port/devstoreaccount1;"
export AZURITE_BLOB="$bin"
echo "with-azurite: Azurite $("$bin" --version 2>/dev/null || echo '?') on 127.0.0.1:$port"

set +e
"$@"
status=$?
set -e
exit "$status"
