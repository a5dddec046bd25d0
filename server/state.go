package server

import "golm/lmutil/server/state"

// PoolRules is how a vendor daemon builds its pools from the license
// lines (VendorConfig.Pools): state.PoolRules, named here so that a
// publisher configures a vendor daemon from this package alone.
type PoolRules = state.PoolRules
