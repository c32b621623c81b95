// The skycoin example's node: prints its version, the architecture it was
// built for and a checksum from the vendored cipher package.
package main

import (
	"os"
	"runtime"

	"github.com/skycoin-mini/cipher"
)

var Version = "unset"
var goarm = ""

func main() {
	arch := runtime.GOARCH
	if goarm != "" {
		arch += "/v" + goarm
	}
	os.Stdout.WriteString("skycoin " + Version + " arch=" + arch + " genesis=" + cipher.Checksum([]byte("skycoin")) + "\n")
}
