package e2e

import "time"

// Every wait of the suite, in one place.
const (
	// clusterStartTimeout bounds starting a cluster and enabling the addon.
	clusterStartTimeout = 10 * time.Minute
	// stepTimeout bounds one workflow step reaching its phase.
	stepTimeout = 3 * time.Minute
	// objectTimeout bounds an object appearing or changing.
	objectTimeout = time.Minute
	// poll is how often waits look again.
	poll = time.Second
	// consistently is how long a state must hold to count as stable.
	consistently = 5 * time.Second
)
