package election_test

import (
	"testing"

	"github.com/leasehold/leasehold/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }
