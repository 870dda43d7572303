#!/usr/bin/env bash
# run.sh: Azurite in the foreground for development, on 127.0.0.1:10000 (or
# $AZURITE_PORT), in memory. Stop it with Ctrl-C.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$here/install.sh"
port=${AZURITE_PORT:-10000}
echo "Azurite on 127.0.0.1:$port; for the library and CLI:" >&2
echo "  export AZURE_STORAGE_CONNECTION_STRING='DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$port/devstoreaccount1;'" >&2
cd "$(mktemp -d)"
exec "$here/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$port" \
	--inMemoryPersistence --skipApiVersionCheck --disableTelemetry
