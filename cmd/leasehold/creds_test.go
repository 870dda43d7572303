package main_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestSASUsageErrors: --sas needs --account-url and a token in
// AZURE_STORAGE_SAS_TOKEN; a malformed token is a usage error that does not
// quote it. No storage call is made.
func TestSASUsageErrors(t *testing.T) {
	t.Parallel()
	const tok = "sv=2024-05-04&sp=rw&SECRETTOKEN=1"
	tests := []struct {
		name string
		args []string
		env  string // AZURE_STORAGE_SAS_TOKEN
		want string
	}{
		{name: "no account URL", args: []string{"status", "jobs", "--sas"}, env: tok, want: "--sas needs --account-url"},
		{name: "no token", args: []string{"status", "jobs", "--account-url", "https://acct.blob.core.windows.net", "--sas"}, want: "set AZURE_STORAGE_SAS_TOKEN"},
		{name: "no signature", args: []string{"status", "jobs", "--account-url", "https://acct.blob.core.windows.net", "--sas"}, env: tok,
			want: "status: invalid option: $AZURE_STORAGE_SAS_TOKEN: malformed: no sig="},
		{name: "with a connection string", args: []string{"status", "jobs", "--account-url", "https://acct.blob.core.windows.net", "--sas", "--connection-string", "x"}, env: tok,
			want: "give only one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, leasehold(t), tt.args...)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "AZURE_STORAGE_SAS_TOKEN=" + tt.env}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			_ = cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != exitUsage || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("leasehold %v: exit %d, stderr %q; want %d saying %q", tt.args, code, stderr.String(), exitUsage, tt.want)
			}
			if strings.Contains(stdout.String()+stderr.String(), "SECRETTOKEN") {
				t.Errorf("output quotes the SAS token: %q", stderr.String())
			}
		})
	}
}
