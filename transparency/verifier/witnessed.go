package main

// Cosignatures against a witness policy: a checkpoint counts as witnessed when at
// least "policy" of the named witnesses cosigned it (C2SP tlog-cosignature,
// cosignature/v1), each signature checked by transparency-dev/formats'
// NewVerifierForCosignatureV1 through golang.org/x/mod/sumdb/note's Open, beside
// the log's own signature:
//
//	{"kind": "checkpoint", ..., "witnesses": ["<cosignature/v1 vkey>", ...], "policy": 2}
//	{"kind": "tiles", ..., "witnesses": [...], "policy": 2}
//
// A signature line of a named witness that does not verify fails the note (as
// note.Open does for any known key); lines of witnesses not named are not counted.

import (
	"fmt"
	"strings"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

// openWitnessed opens a note signed by the log's key and, when a policy is asked
// for, cosigned by enough of the named witnesses.
func openWitnessed(signed []byte, logKey string, witnesses []string, policy int) (*note.Note, error) {
	logVerifier, err := note.NewVerifier(logKey)
	if err != nil {
		return nil, fmt.Errorf("verifier key: %w", err)
	}
	verifiers := []note.Verifier{logVerifier}
	for _, w := range witnesses {
		v, err := fnote.NewVerifierForCosignatureV1(w)
		if err != nil {
			return nil, fmt.Errorf("witness key %q: %w", w, err)
		}
		verifiers = append(verifiers, v)
	}
	if policy > len(witnesses) {
		return nil, fmt.Errorf("a policy of %d cannot be met by %d witnesses", policy, len(witnesses))
	}
	n, err := note.Open(signed, note.VerifierList(verifiers...))
	if err != nil {
		return nil, err
	}
	byLog, cosigners := false, map[string]bool{}
	for _, s := range n.Sigs {
		if s.Name == logVerifier.Name() && s.Hash == logVerifier.KeyHash() {
			byLog = true
			continue
		}
		if _, err := fnote.CoSigV1Timestamp(s); err != nil {
			return nil, fmt.Errorf("the cosignature of %s: %w", s.Name, err)
		}
		cosigners[fmt.Sprintf("%s+%08x", s.Name, s.Hash)] = true
	}
	if !byLog {
		return nil, fmt.Errorf("the note is not signed by the log's key")
	}
	if len(cosigners) < policy {
		names := make([]string, 0, len(cosigners))
		for c := range cosigners {
			names = append(names, strings.SplitN(c, "+", 2)[0])
		}
		return nil, fmt.Errorf("witnessed by %d of the %d named (%s), the policy asks %d",
			len(cosigners), len(witnesses), strings.Join(names, ", "), policy)
	}
	return n, nil
}
