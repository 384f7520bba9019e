package breaches

// Labels is a slice type.
type Labels []string

// Sets is a map type by way of another name.
type Sets LabelMap

type LabelMap map[string]Labels

// T has a long method in long.go.
type T struct{}
