// An outside verifier of gridgov's transparency log: no code of gridgov's, only
// github.com/transparency-dev/merkle (the Go implementation of RFC 6962 / 9162
// proofs that Certificate Transparency and the Go checksum database use).
//
// It reads one JSON object per line on stdin, a proof to check:
//
//	{"kind": "inclusion", "index": 3, "size": 7, "leaf": "<hex>", "proof": ["<hex>", ...], "root": "<hex>"}
//	{"kind": "consistency", "old": 3, "new": 7, "old_root": "<hex>", "new_root": "<hex>", "proof": [...]}
//
// and writes "ok" or "fail: <why>" on a line for each. Bad input exits 2.
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

type request struct {
	Kind    string   `json:"kind"`
	Index   uint64   `json:"index"`
	Size    uint64   `json:"size"`
	Leaf    string   `json:"leaf"`
	Root    string   `json:"root"`
	Old     uint64   `json:"old"`
	New     uint64   `json:"new"`
	OldRoot string   `json:"old_root"`
	NewRoot string   `json:"new_root"`
	Proof   []string `json:"proof"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	for in.Scan() {
		var r request
		if err := json.Unmarshal(in.Bytes(), &r); err != nil {
			fmt.Fprintln(os.Stderr, "bad request:", err)
			os.Exit(2)
		}
		if err := check(r); err != nil {
			fmt.Println("fail:", strings.ReplaceAll(err.Error(), "\n", " "))
		} else {
			fmt.Println("ok")
		}
	}
}

func check(r request) error {
	path, err := decodeAll(r.Proof)
	if err != nil {
		return err
	}
	h := rfc6962.DefaultHasher
	switch r.Kind {
	case "inclusion":
		hashes, err := decodeAll([]string{r.Leaf, r.Root})
		if err != nil {
			return err
		}
		return proof.VerifyInclusion(h, r.Index, r.Size, hashes[0], path, hashes[1])
	case "consistency":
		hashes, err := decodeAll([]string{r.OldRoot, r.NewRoot})
		if err != nil {
			return err
		}
		return proof.VerifyConsistency(h, r.Old, r.New, path, hashes[0], hashes[1])
	}
	return fmt.Errorf("unknown kind %q", r.Kind)
}

func decodeAll(hexes []string) ([][]byte, error) {
	out := make([][]byte, len(hexes))
	for i, s := range hexes {
		b, err := hex.DecodeString(s)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}
