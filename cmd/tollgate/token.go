package main

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/identity"
)

func newTokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create and hash bearer tokens for auth.tokens",
	}
	var name string
	var groups []string
	newCmd := &cobra.Command{
		Use:   "new",
		Short: "Generate a random token and the auth.tokens entry that accepts it",
		Long: `Generate a random bearer token. The token is printed once on stderr; the
configuration entry, which stores only its SHA-256, is printed on stdout.`,
		Example: `  tollgate token new --name ci --groups platform-sre >> tokens.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" || len(groups) == 0 {
				return errors.New("--name and --groups are required")
			}
			tok, sum, err := identity.NewToken()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "token (store it in your secret manager; it is not shown again):\n%s\n", tok)
			fmt.Fprintf(cmd.OutOrStdout(), "    - name: %s\n      sha256: %q\n      groups: [%s]\n", name, sum, strings.Join(groups, ", "))
			return nil
		},
	}
	newCmd.Flags().StringVar(&name, "name", "", "name of the token, shown in logs (required)")
	newCmd.Flags().StringSliceVar(&groups, "groups", nil, "groups the token acts as, comma-separated (required)")
	hashCmd := &cobra.Command{
		Use:   "hash",
		Short: "Print the SHA-256 of a token read from stdin",
		Long: `Print the hex SHA-256 of a token read from the first line of stdin: the
value of auth.tokens[].sha256 that accepts it. Reading from stdin keeps the
token out of the shell history and the process list.`,
		Example: `  printf %s "$TOKEN" | tollgate token hash`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				if err != nil {
					return fmt.Errorf("reading token from stdin: %w", err)
				}
				return errors.New("no token on stdin")
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), identity.HashToken(line))
			return err
		},
	}
	cmd.AddCommand(newCmd, hashCmd)
	return cmd
}
