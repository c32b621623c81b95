module github.com/skycoin-mini/skycoin

go 1.19

require github.com/skycoin-mini/cipher v0.1.0
