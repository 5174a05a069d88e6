package ledger

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/app_state.example.json")

// TestExampleAppStateFile keeps the checked-in example in step with
// ExampleGenesisAppState (the lead copies it into configs/). Regenerate
// with `go test -run ExampleAppStateFile -update`.
func TestExampleAppStateFile(t *testing.T) {
	want := append(ExampleGenesisAppState(), '\n')
	const path = "testdata/app_state.example.json"
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date; run go test -run ExampleAppStateFile -update", path)
	}
	a, err := ParseAppState(got)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Schemas) == 0 || len(a.AppTypes) == 0 || a.SocialInsurance.Department != "hrss" {
		t.Fatalf("example app state = %+v", a)
	}
}
