// An outside verifier of gridgov's transparency log: no code of gridgov's, only
// github.com/transparency-dev/merkle (the Go implementation of RFC 6962 / 9162
// proofs that Certificate Transparency and the Go checksum database use) and
// golang.org/x/mod/sumdb/note (the Go checksum database's signed notes).
//
// It reads one JSON object per line on stdin, a proof or a checkpoint to check:
//
//	{"kind": "inclusion", "index": 3, "size": 7, "leaf": "<hex>", "proof": ["<hex>", ...], "root": "<hex>"}
//	{"kind": "consistency", "old": 3, "new": 7, "old_root": "<hex>", "new_root": "<hex>", "proof": [...]}
//	{"kind": "checkpoint", "note": "<signed note>", "key": "<verifier key>", "origin": "<origin>", "size": 7, "root": "<hex>"}
//	{"kind": "tiles", "url": "http://host/tlog/", "key": "<verifier key>", "origin": "<origin>", "entries": true}
//
// A tiled log (C2SP tlog-tiles) is checked from its tiles with
// golang.org/x/mod/sumdb/tlog: tiles.go.
//
// With "witnesses" and "policy", a checkpoint or a tiled log's checkpoint must also be
// cosigned by that many of those witnesses: witnessed.go.
//
// A checkpoint is "ok" only if the note is signed by the key (in the note
// package's text form, <name>+<hex id>+<base64 key>), as note.Open checks it,
// and its text is a C2SP tlog-checkpoint (origin LF decimal size LF base64 root
// hash LF, then optional extension lines) of the given origin, size and root.
//
// It writes "ok" or "fail: <why>" on a line for each. Bad input exits 2.
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
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
	Note    string   `json:"note"`
	Key     string   `json:"key"`
	Origin  string   `json:"origin"`
	URL       string   `json:"url"`
	Entries   bool     `json:"entries"`
	Witnesses []string `json:"witnesses"`
	Policy    int      `json:"policy"`
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
	switch r.Kind {
	case "checkpoint":
		return checkCheckpoint(r)
	case "tiles":
		return checkTiles(r)
	}
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

func checkCheckpoint(r request) error {
	root, err := hex.DecodeString(r.Root)
	if err != nil {
		return err
	}
	n, err := openWitnessed([]byte(r.Note), r.Key, r.Witnesses, r.Policy)
	if err != nil {
		return err
	}
	origin, size, hash, err := parseCheckpoint(n.Text)
	if err != nil {
		return err
	}
	if origin != r.Origin {
		return fmt.Errorf("the checkpoint is of %q, not %q", origin, r.Origin)
	}
	if size != r.Size {
		return fmt.Errorf("the checkpoint's size is %d, not %d", size, r.Size)
	}
	if !bytes.Equal(hash, root) {
		return fmt.Errorf("the checkpoint's root is %x, not %x", hash, root)
	}
	return nil
}

// parseCheckpoint reads a C2SP tlog-checkpoint body: the origin, the tree size
// in decimal without leading zeros, the root hash in standard base64, each on
// its own line, then any extension lines. (tlog.ParseTree reads the checksum
// database's older form, which has a fixed first line instead of an origin.)
func parseCheckpoint(text string) (origin string, size uint64, root []byte, err error) {
	lines := strings.SplitAfterN(text, "\n", 4)
	if len(lines) < 3 || !strings.HasSuffix(lines[2], "\n") {
		return "", 0, nil, fmt.Errorf("malformed checkpoint: fewer than three lines")
	}
	origin = strings.TrimSuffix(lines[0], "\n")
	sizeText := strings.TrimSuffix(lines[1], "\n")
	rootText := strings.TrimSuffix(lines[2], "\n")
	if origin == "" {
		return "", 0, nil, fmt.Errorf("malformed checkpoint: empty origin")
	}
	size, err = strconv.ParseUint(sizeText, 10, 64)
	if err != nil || sizeText != strconv.FormatUint(size, 10) {
		return "", 0, nil, fmt.Errorf("malformed checkpoint: size %q", sizeText)
	}
	root, err = base64.StdEncoding.Strict().DecodeString(rootText)
	if err != nil || len(root) != 32 {
		return "", 0, nil, fmt.Errorf("malformed checkpoint: root hash %q", rootText)
	}
	return origin, size, root, nil
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
