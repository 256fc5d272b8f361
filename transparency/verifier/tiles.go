package main

// A tiled log checked from its tiles alone, with golang.org/x/mod/sumdb/tlog (the Go
// checksum database's own client code) and nothing of gridgov's:
//
//	{"kind": "tiles", "url": "http://host/tlog/", "key": "<verifier key>", "origin": "<origin>",
//	 "entries": true, "old": 5, "old_root": "<hex>"}
//
// fetches <url>checkpoint, opens it with the key (note.Open), then recomputes the
// tree's root from the hash tiles it fetches (tlog.TileHashReader checks every tile
// against the checkpoint's tree as it reads it; tlog.TreeHash computes the root). With
// "entries", it also fetches every entry bundle and holds each entry's RFC 6962 leaf
// hash against the level-0 tiles. With "old" and "old_root", a checkpoint kept from
// before, it proves from the tiles that the new tree extends it (tlog.ProveTree and
// tlog.CheckTree). C2SP tlog-tiles drops the checksum database's height element from
// the path and calls the data tiles "entries": tile/8/0/x001/234.p/5 is
// tile/0/x001/234.p/5, and tile/8/data/… is tile/entries/….

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

const tileHeight = 8

type httpTiles struct {
	base   string
	client *http.Client
}

func (h httpTiles) Height() int { return tileHeight }

func (h httpTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := h.get(c2spPath(t))
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (h httpTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func (h httpTiles) get(path string) ([]byte, error) {
	resp, err := h.client.Get(h.base + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return body, nil
}

// c2spPath is the C2SP tlog-tiles path of a checksum database tile.
func c2spPath(t tlog.Tile) string {
	p := strings.Replace(t.Path(), fmt.Sprintf("tile/%d/", t.H), "tile/", 1)
	return strings.Replace(p, "tile/data/", "tile/entries/", 1)
}

func checkTiles(r request) error {
	base := r.URL
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	h := httpTiles{base, &http.Client{Timeout: 30 * time.Second}}
	signed, err := h.get("checkpoint")
	if err != nil {
		return err
	}
	n, err := openWitnessed(signed, r.Key, r.Witnesses, r.Policy)
	if err != nil {
		return err
	}
	origin, size, root, err := parseCheckpoint(n.Text)
	if err != nil {
		return err
	}
	if origin != r.Origin {
		return fmt.Errorf("the checkpoint is of %q, not %q", origin, r.Origin)
	}
	var tree tlog.Tree
	tree.N = int64(size)
	copy(tree.Hash[:], root)
	hashes := tlog.TileHashReader(tree, h)
	recomputed, err := tlog.TreeHash(tree.N, hashes)
	if err != nil {
		return fmt.Errorf("the root from the tiles: %w", err)
	}
	if recomputed != tree.Hash {
		return fmt.Errorf("the tiles' root is %x, the checkpoint's %x", recomputed[:], root)
	}
	if r.Entries {
		if err := checkEntries(h, tree.N, hashes); err != nil {
			return err
		}
	}
	if r.OldRoot != "" {
		return checkExtends(tree, int64(r.Old), r.OldRoot, hashes)
	}
	return nil
}

// checkEntries holds every entry of every bundle against the leaf hashes in the tiles.
func checkEntries(h httpTiles, size int64, hashes tlog.HashReader) error {
	for start := int64(0); start < size; start += 1 << tileHeight {
		width := size - start
		if width > 1<<tileHeight {
			width = 1 << tileHeight
		}
		t := tlog.Tile{H: tileHeight, L: -1, N: start >> tileHeight, W: int(width)}
		data, err := h.get(c2spPath(t))
		if err != nil {
			return err
		}
		entries, err := unbundle(data)
		if err != nil {
			return fmt.Errorf("%s: %w", c2spPath(t), err)
		}
		if int64(len(entries)) != width {
			return fmt.Errorf("%s holds %d entries, not %d", c2spPath(t), len(entries), width)
		}
		indexes := make([]int64, width)
		for i := range indexes {
			indexes[i] = tlog.StoredHashIndex(0, start+int64(i))
		}
		leaves, err := hashes.ReadHashes(indexes)
		if err != nil {
			return err
		}
		for i, entry := range entries {
			if tlog.RecordHash(entry) != leaves[i] {
				return fmt.Errorf("entry %d does not hash to leaf %d of the tiles", start+int64(i), start+int64(i))
			}
		}
	}
	return nil
}

func unbundle(data []byte) ([][]byte, error) {
	var entries [][]byte
	for len(data) > 0 {
		if len(data) < 2 {
			return nil, fmt.Errorf("a bundle ends inside a length")
		}
		n := int(binary.BigEndian.Uint16(data))
		if len(data) < 2+n {
			return nil, fmt.Errorf("a bundle ends inside an entry")
		}
		entries = append(entries, data[2:2+n])
		data = data[2+n:]
	}
	return entries, nil
}

// checkExtends proves, from the tiles, that the tree extends a checkpoint kept before.
func checkExtends(tree tlog.Tree, old int64, oldRootHex string, hashes tlog.HashReader) error {
	oldRoot, err := hex.DecodeString(oldRootHex)
	if err != nil || len(oldRoot) != tlog.HashSize {
		return fmt.Errorf("old_root: not a hash")
	}
	var oldHash tlog.Hash
	copy(oldHash[:], oldRoot)
	if old > tree.N {
		return fmt.Errorf("the log's checkpoint of %d is smaller than the kept one of %d", tree.N, old)
	}
	proof, err := tlog.ProveTree(tree.N, old, hashes)
	if err != nil {
		return err
	}
	if err := tlog.CheckTree(proof, tree.N, tree.Hash, old, oldHash); err != nil {
		return fmt.Errorf("the log no longer extends the kept checkpoint of %d: %w", old, err)
	}
	if old == tree.N && !bytes.Equal(oldRoot, tree.Hash[:]) {
		return fmt.Errorf("two roots for a tree of %d", old)
	}
	return nil
}
