package leasetest_test

import (
	"testing"
	"testing/synctest"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

func TestConformance(t *testing.T) {
	newLeaser := func(opts ...leasetest.Option) func(*testing.T) renewer.Leaser {
		return func(*testing.T) renewer.Leaser { return leasetest.New(opts...) }
	}
	tests := []leasetest.Backend{
		{Name: "cloud_rules", NewLeaser: newLeaser(), Run: synctest.Test},
		// The fake answers acquire(B) on an expired lease at once, which
		// the suite accepts for the cloud too.
		{Name: "cloud_rules_as_cloud", NewLeaser: newLeaser(), Run: synctest.Test, Cloud: true},
		// With EmulateAzurite, the fake meets the suite's Azurite expectations.
		{Name: "emulate_azurite", NewLeaser: newLeaser(leasetest.EmulateAzurite()), Run: synctest.Test, Azurite: true},
	}
	for _, tt := range tests {
		leasetest.RunConformance(t, tt)
	}
}
