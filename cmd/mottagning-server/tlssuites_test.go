package main

import (
	"crypto/tls"
	"testing"
)

// TestProcessTLS12OffersAEADOnly: the real server, asked for TLS 1.2
// with a CBC suite only, refuses the handshake (it used to offer
// ECDHE-…-CBC-SHA); an AEAD suite and TLS 1.3 are taken. Issue 15.
func TestProcessTLS12OffersAEADOnly(t *testing.T) {
	p := start(t, "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--key-file", keyFile(t))
	defer p.stop(t)
	dial := func(cfg *tls.Config) error {
		cfg.InsecureSkipVerify = true // the pin is not what this test is about
		c, err := tls.Dial("tcp", p.addr, cfg)
		if err == nil {
			c.Close()
		}
		return err
	}
	cbc := []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	}
	for _, s := range cbc {
		if err := dial(&tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{s}}); err == nil {
			t.Errorf("TLS 1.2 with %s was accepted", tls.CipherSuiteName(s))
		}
	}
	for _, s := range aeadSuites {
		err := dial(&tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{s}})
		if err != nil && (s == tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 || s == tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256) {
			t.Errorf("TLS 1.2 with %s refused: %v", tls.CipherSuiteName(s), err)
		}
	}
	if err := dial(&tls.Config{MinVersion: tls.VersionTLS13}); err != nil {
		t.Errorf("TLS 1.3 refused: %v", err)
	}
	if err := dial(&tls.Config{MaxVersion: tls.VersionTLS11}); err == nil {
		t.Error("TLS 1.1 was accepted")
	}
}
