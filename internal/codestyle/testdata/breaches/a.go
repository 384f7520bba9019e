package breaches

import (
	"errors"
	"net/url"
)

// Buckets is an explicit slice type.
var Buckets []float64

// Params is a slice literal.
var Params = []string{"window", "step"}

// Weights is a map literal.
var Weights = map[string]float64{"cpu": 1}

var Names, Made = append([]string(nil), "a"), make(map[string]int)

// Aggregate is of a slice type of this package, declared in b.go.
var (
	unexported = []string{"allowed"}
	Aggregate  = Labels{"namespace"}
)

var Chained Sets

// Allowed look-alikes: an array, a function, an error, a number, a type of
// another package (the parser cannot tell), an unexported map.
var (
	Array   = [2]int{1, 2}
	Func    = func() []string { return nil }
	ErrNone = errors.New("none")
	Limit   = 3
	Query   = url.Values{}
	table   = map[string]int{}
)
