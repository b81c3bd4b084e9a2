package storage

import (
	"testing"

	"mottagning/app"
	"mottagning/storage/storetest"
)

// TestBoltStoreContract runs the behaviour suite of app.Store
// (storage/storetest) against the bbolt Store. Every other implementation
// of app.Store (the PostgreSQL store, pgstore) runs the same suite.
func TestBoltStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) app.Store { return openTest(t) })
}
