package main

import (
	"math"
	"slices"
	"time"
)

// dist is a distribution of durations, in seconds, by nearest rank.
type dist struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_s"`
	P95 float64 `json:"p95_s"`
	Max float64 `json:"max_s"`
	Min float64 `json:"min_s"`
}

func newDist(ds []time.Duration) dist {
	if len(ds) == 0 {
		return dist{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return dist{N: len(s), P50: secs(rank(0.50)), P95: secs(rank(0.95)), Max: secs(s[len(s)-1]), Min: secs(s[0])}
}

func secs(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }

func round(f float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(f*p) / p
}
