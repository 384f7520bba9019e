package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newDemoCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Run the gateway over an embedded Prometheus with a synthetic cluster",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("not yet implemented")
		},
	}
}
