// Command zwnode runs a department node of the city data-sharing chain.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "zwnode:", err)
		os.Exit(1)
	}
}
