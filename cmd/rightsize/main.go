// Command rightsize is the whole product in one binary; see `rightsize help`.
package main

import (
	"os"

	"github.com/rightsize/rightsize/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr)) }
