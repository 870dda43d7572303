package election

// CurrentLeadership returns e's live leadership, or nil: for tests that
// run under Run and must read the leader's validity deadline.
func CurrentLeadership(e *Election) *Leadership { return e.current() }
