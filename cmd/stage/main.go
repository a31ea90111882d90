// Command stage copies the addon files into a folder named ml-platform:
//
//	go run ./cmd/stage _output/ml-platform
package main

import (
	"fmt"
	"os"

	"github.com/ml-platform/ml-platform/pkg/stage"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: stage DIR/ml-platform")
		os.Exit(2)
	}
	if err := stage.Stage(".", os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	fmt.Println("staged the addon into", os.Args[1])
}
