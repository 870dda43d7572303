//go:build !peers

package main

import "time"

// peersBuilt: built without -tags peers, this binary measures leasehold
// only (make bench builds with the tag).
const peersBuilt = false

func peerSystems(time.Duration) []system { return nil }

func stopEtcd() {}
