// jsclient.cjs: the official Azure Storage JavaScript SDK acting on a
// container's lease, as a client that is not leasehold, for the interop
// tests (interop_test.go).
//
//   node jsclient.cjs acquire CONTAINER          prints the lease ID (60 s lease)
//   node jsclient.cjs release CONTAINER LEASE_ID
//   node jsclient.cjs break CONTAINER            break period 0
//   node jsclient.cjs set-metadata CONTAINER [BLOB]  without a lease ID, on the container or
//                                                one of its blobs; prints "written" or "refused HTTP N"
//
// The connection string comes from AZURE_STORAGE_CONNECTION_STRING; the SDK
// from NODE_PATH (tools/azurite/node_modules).
const { BlobServiceClient } = require("@azure/storage-blob");

async function main() {
  const [action, name, arg] = process.argv.slice(2);
  const cc = BlobServiceClient.fromConnectionString(process.env.AZURE_STORAGE_CONNECTION_STRING).getContainerClient(name);
  switch (action) {
    case "acquire": {
      const r = await cc.getBlobLeaseClient().acquireLease(60);
      console.log(r.leaseId);
      break;
    }
    case "release":
      await cc.getBlobLeaseClient(arg).releaseLease();
      console.log("released");
      break;
    case "break":
      await cc.getBlobLeaseClient().breakLease(0);
      console.log("broken");
      break;
    case "set-metadata":
      try {
        const target = arg ? cc.getBlobClient(arg) : cc;
        await target.setMetadata({ written_by: "jsclient" });
        console.log("written");
      } catch (e) {
        console.log("refused HTTP " + e.statusCode);
      }
      break;
    default:
      throw new Error("unknown action " + action);
  }
}

main().catch((e) => {
  console.error(String((e && e.message) || e));
  process.exit(1);
});
