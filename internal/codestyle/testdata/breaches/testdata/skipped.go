package skipped

// Skipped is in a testdata directory, which is not code of the module.
var Skipped = []string{"a"}
