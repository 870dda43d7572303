// Package integration holds the tests that run against a real storage
// endpoint through the real SDK: Azurite started by `make test`, or any
// account named by AZURE_STORAGE_CONNECTION_STRING. Without that variable
// every test fails (it never skips) with a message saying to run `make test`.
package integration
